"""Judges grading side by side (``--gpus``) or as Ray tasks (``--ray``), as the candidates are served.

With a fleet, each judge of the panel that has verdicts left grades in its own worker, a
process pinned to free GPUs of this node (``judge.gpus`` of them; an endpoint judge none) or
a Ray task, through the same machinery as the candidates (:mod:`harness.server.workers`). The
worker writes its verdicts to the judge's part directory, ``<run>/judge_parts/<judge>/``, and
its manifest entry to the part's ``outcome.json``; the driver folds the verdicts into
``judgments.jsonl`` and the entry into the manifest's ``judges`` as each judge ends, so no two
processes write one file. A verdict already in the run or in the part is not asked again (a
Ray retry, or a re-run after a crash, resumes). A worker that dies fails only its judge: its
entry carries the error, the others' verdicts stand.

What must happen once per run (folding parts a crash left, naming the one judge of a run
judged before panels, archiving verdicts of departed or changed judges) happens in the driver
before any worker starts (:func:`harness.scoring.judge.stage.prepare_panel`).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from harness.inputs.plan import LoadedPlan
from harness.manifest_records import JudgeEntry, RunManifest
from harness.parts import fold_judge_part
from harness.records import Judge
from harness.rundir import RunDir, load_manifest, require_manifest
from harness.scoring.judge.modelinfo import describe_judge
from harness.scoring.judge.stage import grade, nothing_left, open_judging, prepare_panel, save_entry, verdicts_done
from harness.server.placement import need_of
from harness.server.vllm_server import ServerStartError
from harness.server.workers import (
    Fleet,
    PartJob,
    Result,
    on_ray,
    prefixed_log,
    record_attempt,
    served_as,
    side_by_side,
    start_worker,
    worker_main,
    worker_result,
)

Log = Callable[[str], None]
MODULE = "harness.scoring.judge.fleet"


def _judge(lp: LoadedPlan, name: str) -> Judge:
    return next(j for j in lp.plan.panel_judges if j.name == name)


def judge_part(lp: LoadedPlan, run_dir: Path, job: PartJob) -> Result:
    """Grade as judge ``job.name`` into its part directory (runs in a worker); returns
    ``{"entry": its manifest entry, "keep_old": whether the entry goes over the earlier one's fields}``."""
    judge = _judge(lp, job.name)
    log = prefixed_log(f"[judge {judge.name}]")
    part = RunDir(run_dir).judge_part(judge.name)
    placement = record_attempt(part, job.gpu_ids)
    legacy = (load_manifest(run_dir) or RunManifest()).legacy_judge
    done = [j for j in RunDir(run_dir).judgments_of(judge.name, legacy) + part.judgments_of(judge.name, None)
            if j.error is None]  # fmt: skip
    if placement["attempts"] > 1:
        log(f"attempt {placement['attempts']} on {placement['host']}: the previous one ended early; "
            f"its verdicts are kept")  # fmt: skip
    work, entry = open_judging(lp, run_dir, judge, done, lambda msg: None)  # the driver said it already
    keep_old = nothing_left(work, log)
    try:
        if not keep_old:
            grade(work, entry, part.root, log, show_progress=False, served=served_as(judge, job))
    except ServerStartError as exc:
        log(f"[judge {judge.name}] FAILED to serve: {exc}")
        entry, keep_old = JudgeEntry.model_validate({**describe_judge(lp, judge), "error": str(exc)}), True
    return {"entry": {**entry.to_json(), "placement": placement}, "keep_old": keep_old}


def _todo(lp: LoadedPlan, run_dir: Path, log: Log) -> tuple[list[Judge], dict[str, JudgeEntry]]:
    """The judges with verdicts left, and the entries of those without (recorded at once)."""
    manifest = prepare_panel(lp, run_dir, log)
    todo: list[Judge] = []
    entries: dict[str, JudgeEntry] = {}
    for judge in lp.plan.panel_judges:
        done = verdicts_done(RunDir(run_dir), manifest, judge, log)  # archives a changed judge's verdicts
        work, entry = open_judging(lp, run_dir, judge, done, log)
        if nothing_left(work, log):
            save_entry(run_dir, judge.name, entry, keep_old=True)
            entries[judge.name] = entry
        else:
            todo.append(judge)
    return todo, entries


def run_panel_spread(
    lp: LoadedPlan, run_dir: Path, fleet: Fleet, log: Log
) -> dict[str, JudgeEntry]:  # fmt: skip
    """Every judge of the panel grades the run at once where the fleet allows; returns each judge's entry.

    Raises :class:`~harness.server.placement.FleetError` when a judge needs more GPUs than ``--gpus`` gives,
    or the Ray cluster cannot be reached.
    """
    todo, entries = _todo(lp, run_dir, log)

    def end(name: str, result: Result | None, why: str) -> None:
        fold_judge_part(run_dir, name)
        if result is None:
            log(f"[judge {name}] FAILED: {why}")
            entry, keep_old = JudgeEntry.model_validate({**describe_judge(lp, _judge(lp, name)), "error": why}), True
        else:
            entry, keep_old = JudgeEntry.model_validate(result["entry"]), bool(result["keep_old"])
        save_entry(run_dir, name, entry, keep_old=keep_old)
        entries[name] = (load_manifest(run_dir) or RunManifest()).judges[name]

    needs = [need_of(j) for j in todo]
    if not needs:
        return entries
    if fleet.ray_address is not None:
        on_ray(lp, run_dir, needs, fleet, judge_part, end, log, tag="judge ")
        return entries

    def start(job: PartJob) -> subprocess.Popen[bytes]:
        return start_worker(MODULE, lp, run_dir, job)

    def ended(name: str, code: int) -> None:
        end(name, *worker_result(RunDir(run_dir).judge_part(name).outcome, code))

    side_by_side(needs, fleet.gpus or [], start, ended, log, tag="judge ")
    return entries


def main(argv: list[str] | None = None) -> int:
    """Worker entry for judges side by side: grade as one judge into its part, write its entry."""
    return worker_main(argv, MODULE, judge_part, lambda d, n: RunDir(d).judge_part(n).outcome, _check)


def _check(lp: LoadedPlan, run_dir: Path) -> None:
    """A worker's first check: ``run_dir`` is a run (the plan may differ in report-time settings, as
    ``harness judge`` allows)."""
    require_manifest(run_dir)


if __name__ == "__main__":
    sys.exit(main())
