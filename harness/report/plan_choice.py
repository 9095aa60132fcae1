"""Which plan ``harness report`` decides with: the plan file as it is now, when only report-time settings changed.

The run saves its plan in ``manifest.json``. The plan file is read again (``--plan PATH``, else the
path the manifest recorded): when it differs from the saved copy only in settings the report can
apply on its own (weights, constraints, the threshold, the judge's pass score, review...), the
run's saved plan takes them and the report says which; when it differs in what needs the models or
the judge asked again, the report refuses and says which command applies them.
"""

from __future__ import annotations

import re
from pathlib import Path

from harness.inputs.plan import load_plan
from harness.inputs.plan_changes import CONNECTION, PlanChanges, adopt_plan, plan_changes, plan_folder
from harness.rundir import RunDirError, require_manifest, save_manifest
from harness.validation import InputError

ASKS_AGAIN = {"judge": "harness judge", "judges": "harness judge", "panel": "harness judge", "lm_eval": "harness run"}
"""Report-time sections whose other changes need the judges or the models asked again: the command that asks."""
REPORT_JUDGE_FIELDS = ("pass_score", "price_per_gpu_hour_usd", *CONNECTION)
"""The judge's settings the report applies to the verdicts on file, and where the judge is reached (its verdicts
stand: ``harness.scoring.judge.stage.NOT_THE_JUDGE``)."""


PANEL_REPORT_FIELDS = ("rule", "quorum")
"""How the panel combines the verdicts on file: the report applies them. ``same_family`` decides which
verdicts are asked, so changing it needs ``harness judge``."""


def choose_plan(run_dir: Path, plan_path: Path | None) -> list[str]:
    """Bring the run's saved plan up to date with the plan file's report-time settings; returns notes to show.

    ``plan_path``: the plan the user named (``--plan``), whose problems are errors; without it, the
    recorded plan file, read when it still loads (else the saved copy is used, and a note says why).
    Raises :class:`RunDirError` with the fields that differ when the report cannot apply them.
    """
    manifest = require_manifest(run_dir)
    if plan_path is None and not manifest.plan_path:
        return []  # a run that recorded no plan file: its saved copy is all there is
    path = plan_path or Path(str(manifest.plan_path))
    try:
        lp = load_plan(path)
    except InputError as exc:
        if plan_path is not None:
            raise
        return [f"note: the plan {path} cannot be read ({exc.problems[0]}); reporting with the run's saved copy"]
    changes = plan_changes(manifest.plan, lp.plan, plan_folder(manifest), lp.base_dir)
    if not changes.any:
        return []
    asks = _needs_asking(changes)
    if asks or not changes.same_answers:
        raise RunDirError(_refusal(run_dir, path, changes, asks))
    adopt_plan(manifest, lp.plan, lp.path)
    save_manifest(run_dir, manifest)
    changed = changes.report_only + changes.connection
    return [f"the report decides with the plan as it is now ({path}); changed since the run: {'; '.join(changed)}"]


def _needs_asking(changes: PlanChanges) -> list[str]:
    """Report-time changes the report cannot apply to the records on file (a changed judge model, lm-eval tasks)."""
    out = []
    for line in changes.report_only:
        where = line.split(":", 1)[0]
        section, _, field = re.sub(r"^judges\[\d+\]", "judges", where).partition(".")
        if section not in ASKS_AGAIN:
            continue
        if section in ("judge", "judges") and field in REPORT_JUDGE_FIELDS:
            continue  # verdicts on file stand
        if section == "panel" and field in PANEL_REPORT_FIELDS:
            continue
        out.append(f"{line} (apply with `{ASKS_AGAIN[section]}`)")
    return out


def _refusal(run_dir: Path, path: Path, changes: PlanChanges, asks: list[str]) -> str:
    lines = [*changes.refused, *asks]
    lines += [f"candidate added: {n}" for n in changes.added_candidates]
    lines += [f"candidate removed: {n}" for n in changes.removed_candidates]
    lines += [f"question set added: {s}" for s in changes.added_sets]
    lines += [f"question set removed: {s}" for s in changes.removed_sets]
    shown = "\n".join(f"  {line}" for line in lines)
    return (
        f"the plan {path} differs from the run in {run_dir} in more than report-time settings:\n{shown}\n"
        f"run `harness run {path} --run-dir {run_dir}` (and `harness judge` for a changed judge) to apply them, "
        f"or report the run with the plan it saved: `harness report {run_dir} --saved-plan`"
    )
