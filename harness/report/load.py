"""The report's input, read-only: run directory -> :class:`RunRecords` -> :class:`ReportData`.

Reading never writes: a run without ``scores.jsonl`` is refused here, and ``harness report``
scores it first (the scoring stage). Every figure comes from :mod:`harness.rollup.figures`.
"""

from __future__ import annotations

from pathlib import Path
from typing import NotRequired

from pydantic import TypeAdapter
from typing_extensions import TypedDict

from harness.inputs.run_sets import load_run_sets
from harness.records import Generation, GivenPassage, Plan
from harness.report.calls import CALLS_VIEW, CallsView, read_calls_of
from harness.report.variants import load_contamination
from harness.rollup.figures import ReportData, RunRecords, assemble
from harness.rundir import SCORES, RunDir, RunDirError, require_manifest
from harness.store import iter_projected

__all__ = ["ReportData", "answer_calls", "answer_contexts", "answer_passages", "load_records", "load_report_data"]

PassageRow = tuple[str, str, str | None, int | None, str]
"""A passage given with an answer as the drill-down packs it: (id, file, heading path, page, text)."""


class _ContextView(TypedDict):
    schema_version: int
    key: str
    context: str | None


_CONTEXT_VIEW: TypeAdapter[_ContextView] = TypeAdapter(_ContextView)


class _PassagesView(TypedDict):
    schema_version: int
    key: str
    passages: NotRequired[list[GivenPassage]]
    """Absent in runs made before it existed: such a line is read fast as none, not re-validated whole."""


_PASSAGES_VIEW: TypeAdapter[_PassagesView] = TypeAdapter(_PassagesView)


def load_records(run_dir: Path) -> RunRecords:
    """Read what the report uses from ``run_dir``.

    Raises :class:`RunDirError` when ``run_dir`` is not a run directory, has not been scored
    (``harness score``), or a question set is gone; :class:`~harness.schema.RecordError` on a corrupt record.
    """
    manifest = require_manifest(run_dir)
    rd = RunDir(run_dir)
    if not rd.scores.exists():
        raise RunDirError(f"{run_dir} has no {SCORES}; score it first (`harness score {run_dir}`)")
    plan = Plan.model_validate(manifest.plan)
    sets, notes = load_run_sets(run_dir)
    contamination, unchecked = load_contamination(plan, manifest, sets)
    names = {c.name for c in plan.candidates}  # a candidate removed from the plan is left out, its records kept
    judgments = rd.read_judgments() if plan.panel_judges else None
    return RunRecords(
        plan=plan, manifest=manifest, sets=sets,
        gens=(g for g in rd.iter_generation_views() if g["candidate"] in names),
        scores=rd.iter_score_views(), phases=[p for p in rd.read_phases() if p.candidate in names],
        levels=[lv for lv in rd.read_levels() if lv.candidate in names],
        capacity=[c for c in rd.read_capacity() if c.candidate in names],
        perf_records=[p for p in rd.read_perf() if p.candidate in names],
        judgments=None if judgments is None else [j for j in judgments if set(j.candidates) <= names],
        lm_eval=rd.read_lm_eval([c.name for c in plan.candidates]) if plan.lm_eval else {}, notes=notes + unchecked,
        contamination=contamination, reviews=rd.read_reviews(),
    )  # fmt: skip


def load_report_data(run_dir: Path) -> ReportData:
    """Every frame and figure of the report of the run in ``run_dir`` (see :func:`load_records`)."""
    return assemble(load_records(run_dir))


def answer_contexts(run_dir: Path, keys: set[str]) -> dict[str, str | None]:
    """Generation key -> the context the model was given with its question (``Generation.context``; None: none),
    for ``keys`` only.

    The roll-up's frame leaves the context out (200,000 answers' contexts are large); the review page
    needs it for the few hundred answers it queues, so ``generations.jsonl`` is read once more with
    only these three fields validated, and only the asked keys are kept.
    """
    out: dict[str, str | None] = {}
    for view in iter_projected(RunDir(run_dir).generations, Generation, _CONTEXT_VIEW):
        if view["key"] in keys:
            out[view["key"]] = view["context"]
    return out


def answer_calls(run_dir: Path, keys: set[str]) -> dict[str, CallsView]:
    """Generation key -> the calls the answer made (``tool_calls``, ``tool_steps``), for ``keys`` only: the
    drill-down shows them beside the expected ones. Read as :func:`answer_contexts` reads contexts (the
    roll-up's frame keeps only the calls' grades)."""
    return read_calls_of(iter_projected(RunDir(run_dir).generations, Generation, CALLS_VIEW), keys)


def answer_passages(run_dir: Path) -> dict[str, tuple[PassageRow, ...]]:
    """Generation key -> the passages the answer was given (``Generation.passages``), for every answer given
    some; answers of runs made before passages were recorded have none. The same passage (id and text) is
    one tuple however many answers got it, so 200,000 answers of one retrieval hold each passage once."""
    seen: dict[PassageRow, PassageRow] = {}
    out: dict[str, tuple[PassageRow, ...]] = {}
    for view in iter_projected(RunDir(run_dir).generations, Generation, _PASSAGES_VIEW):
        if given := view.get("passages"):
            rows = ((p.id, p.doc, p.heading, p.page, p.text) for p in given)
            out[view["key"]] = tuple(seen.setdefault(r, r) for r in rows)
    return out
