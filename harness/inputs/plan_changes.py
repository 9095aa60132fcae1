"""What changed between the plan a run was made with and the plan as it is now (pure).

A run directory keeps the plan of its last session (``manifest.json``'s ``plan``). When the
plan file is edited between two sessions, :func:`plan_changes` sorts every difference into:

- **connection details** (an endpoint's ``base_url`` and ``api_key_env``): where a candidate is
  reached, not what it is; the run continues.
- **a candidate's report-time fields** (:data:`CANDIDATE_REPORT_ONLY`: its price, ``config_json``,
  an endpoint's declared GPUs and memory): the run continues, the report decides with them.
- **candidates and question sets added or removed**: an added one is asked, a removed one is
  left out of the report (its records stay on disk); the run continues.
- **report-time settings** (:data:`REPORT_ONLY`: weights, constraints, the judge...): the run
  continues and ``harness report`` decides with them.
- **everything else** (a candidate's model or serving arguments, sampling, variants...): the
  answers on file were asked another way; the run refuses the plan and names each field.

Candidates are matched by name, question sets by their path in the plan; a renamed candidate
is one removed and one added.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from harness.manifest_records import RunManifest
from harness.records import Plan

REPORT_ONLY = {
    "description", "judge", "judges", "panel", "perf", "rubric_pass_threshold", "bootstrap_resamples", "weights",
    "constraints", "decide_on", "lm_eval", "limits", "review",
}  # fmt: skip
"""Plan fields that do not change the answers: editing them re-judges or re-reports a run, or (``limits``:
timeouts, retries, concurrency) resumes it with new limits after a server was too slow or hung."""

CONNECTION = ("endpoint.base_url", "endpoint.api_key_env")
"""A candidate's fields that say where it is reached, not what answers: changed, a run continues."""
CANDIDATE_REPORT_ONLY = (
    "price_per_gpu_hour_usd", "config_json", "endpoint.gpus", "endpoint.gpu_memory_gib", "family",
)  # fmt: skip
"""A candidate's fields that only the report reads (its price, its shape for the roofline, what an endpoint
declares of its hardware): changed, a run continues and the report decides with them."""


def fingerprint(plan: Plan) -> str:
    """Hash of what decides the answers: the plan minus :data:`REPORT_ONLY`.

    Settings left at their defaults are not hashed, so a harness upgrade that adds a plan field (with a
    default that keeps today's behaviour) can still resume a run started before it. Equal fingerprints:
    the same run; different ones: :func:`plan_changes` says whether the run can take the plan.
    """
    data = plan.model_dump(mode="json", exclude=REPORT_ONLY, exclude_defaults=True)
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def adopt_plan(manifest: RunManifest, plan: Plan, path: Path) -> bool:
    """Make ``plan`` (read from ``path``) the run's saved plan in ``manifest``; False when it already was.
    Only for a plan whose answers are the run's (report-time settings and connection details may differ)."""
    saved = plan.model_dump(mode="json")
    if manifest.plan_path == str(path) and manifest.plan == saved:
        return False
    manifest.plan, manifest.plan_fingerprint, manifest.plan_path = saved, fingerprint(plan), str(path)
    return True


@dataclass(frozen=True)
class PlanChanges:
    """The differences between two plans, sorted by what they mean for a run (one ``field: old -> new`` each)."""

    refused: list[str] = field(default_factory=list)
    """Fields that decide the answers: the run directory cannot take the new plan."""
    connection: list[str] = field(default_factory=list)
    report_only: list[str] = field(default_factory=list)
    added_candidates: list[str] = field(default_factory=list)
    removed_candidates: list[str] = field(default_factory=list)
    added_sets: list[str] = field(default_factory=list)
    removed_sets: list[str] = field(default_factory=list)

    @property
    def same_answers(self) -> bool:
        """No answer on file needs asking again, and no candidate or set came or went."""
        return not (self.refused or self.added_candidates or self.removed_candidates or self.added_sets
                    or self.removed_sets)  # fmt: skip

    @property
    def any(self) -> bool:
        return not self.same_answers or bool(self.connection or self.report_only)

    def notes(self) -> list[str]:
        """What a continued run says about the changes it takes, one sentence each (no ``refused`` ones)."""
        out = []
        if self.added_candidates:
            out.append(f"candidates added to the plan: {', '.join(self.added_candidates)}; asked now")
        if self.removed_candidates:
            out.append(f"candidates removed from the plan: {', '.join(self.removed_candidates)}; left out of the "
                       "report (their answers stay in the run directory)")  # fmt: skip
        if self.added_sets:
            out.append(f"question sets added to the plan: {', '.join(self.added_sets)}; asked now")
        if self.removed_sets:
            out.append(f"question sets removed from the plan: {', '.join(self.removed_sets)}; left out of the "
                       "report (their answers stay in the run directory)")  # fmt: skip
        if self.connection:
            out.append(f"connection details changed (the answers are kept): {'; '.join(self.connection)}")
        if self.report_only:
            out.append(f"report-time settings changed: {'; '.join(self.report_only)}")
        return out


def plan_changes(
    old: dict[str, Any], new: Plan, old_dir: Path | None = None, new_dir: Path | None = None
) -> PlanChanges:
    """Sort the differences between ``old`` (a plan as a run's manifest saved it) and ``new``.

    ``old`` is read as a :class:`Plan` first, so a field a later harness added (with its default)
    is no difference; a saved plan this harness cannot read is compared as it is. ``old_dir`` and
    ``new_dir``: the plans' folders, against which question-set paths are compared (a plan moved
    elsewhere names the same files by other relative paths); None compares the paths as written.
    """
    try:
        before = Plan.model_validate(old).model_dump(mode="json")
    except ValidationError:
        before = dict(old)
    after = new.model_dump(mode="json")
    out = PlanChanges()
    for key in sorted(set(before) | set(after), key=_plan_order):
        a, b = before.get(key), after.get(key)
        if key == "candidates":
            _candidates(a or [], b or [], out)
        elif key == "question_sets":
            was, now = _paths(a or [], old_dir), _paths(b or [], new_dir)
            out.added_sets.extend(p for p, at in zip(b or [], now, strict=True) if at not in was)
            out.removed_sets.extend(p for p, at in zip(a or [], was, strict=True) if at not in now)
        elif key == "knowledge_base" and a and b and _kb_folder(a, old_dir) == _kb_folder(b, new_dir):
            out.refused.extend(differences({**a, "folder": ""}, {**b, "folder": ""}, key))  # the same folder
        else:
            (out.report_only if key in REPORT_ONLY else out.refused).extend(differences(a, b, key))
    return out


def _kb_folder(kb: dict[str, Any], folder: Path | None) -> str:
    """A saved ``knowledge_base``'s folder as an absolute path when the plan's folder is known (a plan moved
    elsewhere names the same folder by another relative path)."""
    return _paths([str(kb.get("folder", ""))], folder)[0]


def plan_folder(manifest: RunManifest) -> Path | None:
    """The folder of the plan file a run's manifest recorded (its question sets' paths are relative to it)."""
    recorded = manifest.plan_path
    return Path(recorded).parent if recorded else None


def _paths(paths: list[str], folder: Path | None) -> list[str]:
    return [str((folder / p).resolve()) if folder is not None else p for p in paths]


def _plan_order(key: str) -> int:
    fields = list(Plan.model_fields)
    return fields.index(key) if key in fields else len(fields)


def _candidates(before: list[dict[str, Any]], after: list[dict[str, Any]], out: PlanChanges) -> None:
    old = {c.get("name"): c for c in before}
    names = [c.get("name") for c in after]
    out.added_candidates.extend(str(n) for n in names if n not in old)
    out.removed_candidates.extend(str(n) for n in old if n not in names)
    for i, cand in enumerate(after):
        if cand.get("name") not in old:
            continue
        for line in differences(old[cand["name"]], cand, f"candidates[{i}]"):
            where = line.split(":", 1)[0].removeprefix(f"candidates[{i}].")
            if where in CONNECTION:
                out.connection.append(line)
            else:
                (out.report_only if where in CANDIDATE_REPORT_ONLY else out.refused).append(line)


def differences(a: Any, b: Any, path: str) -> list[str]:
    """``path: old -> new`` for every leaf that differs (mappings key by key, equal-length lists item by item)."""
    if a == b:
        return []
    if isinstance(a, dict) and isinstance(b, dict):
        return [line for k in [*a, *(k for k in b if k not in a)] for line in differences(a.get(k), b.get(k),
                f"{path}.{k}")]  # fmt: skip
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [line for i, (x, y) in enumerate(zip(a, b, strict=True)) for line in differences(x, y, f"{path}[{i}]")]
    return [f"{path}: {_show(a)} -> {_show(b)}"]


def _show(v: Any) -> str:
    if v is None:
        return "(none)"
    text = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."
