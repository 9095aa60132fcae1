"""Compare two runs over the same questions: what changed in the setup, and what changed in the results.

The question behind ``harness compare A B`` is "we changed one thing (a new model,
a new vLLM version): did it help, hurt, or do nothing we can measure?". So:

- Quality is compared only over the questions both runs asked, and paired per
  question (:mod:`harness.rollup.significance`): the same question is hard in both runs,
  so pairing detects much smaller changes than two independent intervals.
  P-values are Holm-adjusted across the candidates compared, since checking five
  candidates at once would otherwise flag a pure-noise change one time in four.
- Serving speed is a ratio B/A over each whole run (throughput needs the phase
  wall time, which is not split by question).
- The setup differences (versions, git, host, sampling, question-set hashes,
  model paths) are listed first: a change in the scores means little until you
  know what else changed with it.

:func:`load_run` does the I/O; :func:`compare_runs` and the formatters are pure.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from harness.compare.calls import CallChange, call_change
from harness.inputs.run_sets import load_run_sets
from harness.manifest_records import CandidateEntry, RunManifest
from harness.records import Judgment, Phase, Plan, QuestionSet
from harness.rollup.frames import answers_frame, perf_summary, question_frame, question_ok, views, with_acceptable
from harness.rollup.judge import first_grades
from harness.rollup.panel_summary import panel_judgments
from harness.rollup.review import JudgeGrades, ReviewSummary, review_summary
from harness.rollup.significance import ALPHA, PairedDiff, holm, paired_difference
from harness.rundir import (
    GENERATIONS,
    MANIFEST,
    SCORES,
    RunDir,
    RunDirError,
    load_manifest,
)
from harness.schema import RecordError
from harness.scoring.stage import score_records

PERF_METRICS = ("out_tok_per_s", "e2e_p95_ms", "ttft_p95_ms")
TEXT_FLIP_LIMIT = 20
"""Newly passing / failing questions shown per candidate in the text (the JSON keeps all)."""

QuestionKey = tuple[str, str]  # (set_id, question_id)


@dataclass(frozen=True, eq=False)
class RunData:
    """One run directory, read and rolled up to the question level."""

    path: Path
    manifest: RunManifest
    sets: dict[str, QuestionSet]
    answers: pd.DataFrame
    """:func:`harness.rollup.frames.answers_frame`: one row per answer sample."""
    questions: pd.DataFrame
    """:func:`harness.rollup.frames.question_frame`: one row per (candidate, set, question)."""
    phases: list[Phase]
    notes: list[str] = field(default_factory=list)
    variant: str = "default"
    """The prompt variant quality is compared on (the plan's ``decide_on``)."""
    review: ReviewSummary | None = None
    """The run's human review figures (:mod:`harness.rollup.review`); None when no grade was added."""

    def questions_at(self, threshold: float) -> pd.DataFrame:
        """``questions`` with acceptability judged with ``threshold`` where an answer has no rubric verdict."""
        return question_frame(with_acceptable(self.answers[self.answers.variant == self.variant], threshold))

    @property
    def decided(self) -> pd.DataFrame:
        """The answers of the variant quality is compared on."""
        return self.answers[self.answers.variant == self.variant]

    @property
    def samples(self) -> int:
        """Samples per question in the run's plan."""
        return int((self.manifest.plan.get("sampling") or {}).get("samples", 1))

    @property
    def candidates(self) -> list[str]:
        """Candidate names in plan order."""
        return self.manifest.plan_candidate_names

    @property
    def question_keys(self) -> set[QuestionKey]:
        return {(qs.id, q.id) for qs in self.sets.values() for q in qs.questions}


@dataclass(frozen=True)
class SetupChange:
    section: str
    """versions, git, host, sampling, plan, question_set or candidate:<name>."""
    key: str
    a: str | None
    b: str | None


@dataclass(frozen=True)
class QuestionOverlap:
    common: int
    only_a: list[QuestionKey]
    only_b: list[QuestionKey]


@dataclass(frozen=True)
class QuestionFlip:
    """A question whose mean score crossed the pass threshold between the runs."""

    set_id: str
    question_id: str
    score_a: float
    score_b: float


@dataclass(frozen=True)
class PerfChange:
    metric: str
    a: float | None
    b: float | None
    ratio: float | None
    """b / a; above 1 is faster for throughput, slower for latency."""


@dataclass(frozen=True)
class CandidateChange:
    """One candidate present in both runs: B minus A over the common questions."""

    candidate: str
    mean_a: float | None
    mean_b: float | None
    diff: PairedDiff
    """B - A, paired over the common questions both runs scored."""
    p_holm: float | None
    significant: bool
    perf: list[PerfChange]
    failed_a: int
    failed_b: int
    server_error_a: str | None
    server_error_b: str | None
    newly_passing: list[QuestionFlip]
    newly_failing: list[QuestionFlip]
    calls: CallChange | None = None
    """The tool calls, A against B (:mod:`harness.compare.calls`); None when neither run graded calls."""


@dataclass(frozen=True)
class Versus:
    """The new model in B minus one candidate as measured in A."""

    other: str
    mean_other: float | None
    diff: PairedDiff
    p_holm: float | None
    significant: bool


@dataclass(frozen=True)
class NewModel:
    candidate: str
    mean_b: float | None
    """Over the common questions, like every mean it is compared with."""
    versus: list[Versus]


@dataclass(frozen=True)
class RunReview:
    """One run's human review, as the comparison shows it: coverage and agreement with people."""

    run: str
    """``A`` or ``B``."""
    answers_reviewed: int
    answers_total: int
    reviewers: int
    stale: int
    rubric_n: int
    rubric_kappa: float | None
    judge_n: int | None
    """None: the run has no judge grades."""
    judge_kappa: float | None
    judge_trust: str | None
    """``trusted``, ``not trusted``, ``not measured`` (None: no judge)."""


def run_review(label: str, r: ReviewSummary | None) -> RunReview:
    """The comparison's review line of one run (no grades: all counts 0)."""
    if r is None:
        return RunReview(label, 0, 0, 0, 0, 0, None, None, None, None)
    trust = r.judge_trust.state if r.judge_trust is not None and r.judge_trust.state != "no judge" else None
    judge_n, judge_kappa = (r.judge.n, r.judge.kappa) if r.judge else (None, None)
    return RunReview(label, r.answers_reviewed, r.answers_total, len(r.reviewers), r.stale_total, r.rubric.n,
                     r.rubric.kappa, judge_n, judge_kappa, trust)  # fmt: skip


@dataclass(frozen=True)
class Comparison:
    run_a: str
    run_b: str
    threshold: float
    """A question score at or above this counts as acceptable."""
    setup: list[SetupChange]
    candidates_both: list[str]
    candidates_only_a: list[str]
    candidates_only_b: list[str]
    questions: QuestionOverlap
    changes: list[CandidateChange]
    new_models: list[NewModel]
    notes: list[str]
    reviews: list[RunReview] = field(default_factory=list)
    """Human review of run A, then run B."""


# ---------------------------------------------------------------- I/O


def load_run(run_dir: Path) -> RunData:
    """Read a run directory; raise :class:`RunDirError` naming the path when it is not a readable run.

    A run without ``scores.jsonl`` is scored in memory with the current rubrics
    (as ``harness score`` would) rather than written to: comparing never changes a run. The answers of a
    candidate removed from the run's plan between sessions are left out, as the report leaves them out
    (:mod:`harness.inputs.plan_changes`), with a note.
    """
    if not run_dir.is_dir():
        what = "does not exist" if not run_dir.exists() else "is not a directory"
        raise RunDirError(f"{run_dir} {what}; pass a run directory such as results/<plan name>")
    rd = RunDir(run_dir)
    if not rd.manifest.exists():
        raise RunDirError(f"{run_dir} is not a run directory (no {MANIFEST}); pass a folder written by `harness run`")
    try:
        manifest = load_manifest(run_dir) or RunManifest()
        sets, set_notes = load_run_sets(run_dir)
        plan = Plan.model_validate(manifest.plan)
        variant = plan.decision_variant  # quality is compared on this variant
    except RecordError as exc:
        raise RunDirError(str(exc)) from None
    except (KeyError, TypeError, AttributeError, ValidationError) as exc:
        raise RunDirError(f"{rd.manifest} does not look like a harness manifest ({exc!r})") from None
    notes = [f"{run_dir}: {n}" for n in set_notes]
    if not rd.generations.exists():
        raise RunDirError(f"{run_dir} has no {GENERATIONS}: the run has not generated any answers yet")
    path = rd.generations
    try:
        gens = rd.read_generations()
        if rd.scores.exists():
            path = rd.scores
            scores = rd.read_scores()
        else:
            scores = score_records(gens, sets)
            notes.append(f"{run_dir} has no {SCORES}; scored in memory with the current rubrics")
        path = rd.phases
        phases = rd.read_phases()
        path = rd.reviews
        grades = rd.read_reviews()
        path = rd.judgments
        judgments = rd.read_judgments() if plan.panel_judges and grades else None
    except RecordError as exc:
        raise RunDirError(str(exc)) from None
    except ValueError as exc:
        first = str(exc).splitlines()[0]
        raise RunDirError(f"{path} has a record this harness cannot read ({first})") from None
    names = {c.name for c in plan.candidates}  # a candidate removed from the plan is left out, as in the report
    gone = sorted({g.candidate for g in gens} - names)
    if gone:
        notes.append(f"{run_dir}: left out, removed from the run's plan: {', '.join(gone)} (answers kept on file)")
        gens, phases = [g for g in gens if g.candidate in names], [p for p in phases if p.candidate in names]
    answers = answers_frame(*views(gens, scores), sets)
    if answers.variant.nunique() > 1:
        notes.append(f"{run_dir}: quality compared on the {variant!r} prompt variant (the plan's decide_on)")
    decided = with_acceptable(answers[answers.variant == variant], plan.rubric_pass_threshold)
    review = None
    if grades:
        judge = _judge_grades(plan, judgments, manifest)
        review = review_summary(decided, answers, grades, sets, plan.review, judge, [c.name for c in plan.candidates])
    return RunData(run_dir, manifest, sets, answers, question_frame(decided), phases, notes, variant, review)


def _judge_grades(plan: Plan, judgments: list[Judgment] | None, manifest: RunManifest) -> JudgeGrades | None:
    """The panel's (or one judge's) first single grade per answer key (None: no judge grades). Every judge
    of the plan votes: compare does not re-measure the judges' trust with people, as the report does."""
    if not plan.panel_judges or judgments is None:
        return None
    default = manifest.legacy_judge or plan.panel_judges[0].name
    by_answer = first_grades(panel_judgments(judgments, plan, manifest.judges, default))
    return JudgeGrades.of_panel(plan.panel_judges, by_answer)


# ---------------------------------------------------------------- pure computation


def _keys(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    return list(a) + [k for k in b if k not in a]


def _show(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(value) or "none"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _digest(text: str | None) -> str | None:
    return None if text is None else "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:12]


def _candidate_setup(manifest: RunManifest, name: str) -> dict[str, Any]:
    """What decides a candidate's answers: the model and revision, the API used, the template and vLLM args."""
    planned = manifest.plan_candidate(name)
    served = manifest.candidates.get(name) or CandidateEntry()
    out = {
        "model": served.model or planned.get("model"),
        "revision": planned.get("revision"),
        "api": served.api,
        "chat_template": _digest(served.chat_template),
        "dtype served": (served.dtype or {}).get("dtype"),
    }
    out.update({f"vllm.{k}": v for k, v in (planned.get("vllm") or {}).items()})
    return out


def _gpu_label(g: dict[str, Any]) -> str:
    cc = g.get("compute_capability")
    return (
        f"{g.get('name')} (cc {cc[0]}.{cc[1]})" if isinstance(cc, list | tuple) and len(cc) == 2 else str(g.get("name"))
    )


def setup_changes(ma: RunManifest, mb: RunManifest, both: list[str]) -> list[SetupChange]:
    """Every recorded setting that differs between two manifests, grouped by section."""
    out: list[SetupChange] = []

    def diff(section: str, a: dict[str, Any], b: dict[str, Any], keys: list[str] | None = None) -> None:
        for k in keys if keys is not None else _keys(a, b):
            if a.get(k) != b.get(k):
                out.append(SetupChange(section, k, _show(a.get(k)), _show(b.get(k))))

    diff("versions", ma.versions, mb.versions)
    diff("git", ma.git.model_dump(), mb.git.model_dump(), ["commit", "dirty"])
    ha, hb = ma.host.model_dump(), mb.host.model_dump()
    diff("host", ha, hb, ["hostname", "cpu", "cpu_model", "cpu_flags", "cpu_count", "memory_gib"])
    gpus = [{"gpus": [_gpu_label(g) for g in m.host.gpus]} for m in (ma, mb)]
    diff("host", gpus[0], gpus[1], ["gpus"])
    pa, pb = ma.plan, mb.plan
    diff("sampling", pa.get("sampling") or {}, pb.get("sampling") or {})
    diff("plan", pa, pb, ["rubric_pass_threshold"])
    sa, sb = ma.question_sets, mb.question_sets
    hashes = [{k: v.sha256 for k, v in s.items()} for s in (sa, sb)]
    diff("question_set", hashes[0], hashes[1], _keys(sa, sb))
    for name in both:
        diff(f"candidate:{name}", _candidate_setup(ma, name), _candidate_setup(mb, name))
    return out


def _session_notes(label: str, manifest: RunManifest) -> list[str]:
    """A resumed run may mix versions; its top-level versions are those of its first session only."""
    first = manifest.versions
    mixed = sorted({k for s in manifest.sessions for k, v in s.versions.items() if first.get(k) != v})
    return [f"run {label} was resumed under other versions of: {', '.join(mixed)}"] if mixed else []


def _among(df: pd.DataFrame, keys: set[QuestionKey]) -> pd.Series:
    """Boolean mask of the rows whose (set_id, question_id) is in ``keys`` (a plain list would select columns)."""
    return pd.Series(
        [(s, q) in keys for s, q in zip(df.set_id, df.question_id, strict=True)], index=df.index, dtype=bool
    )


def _paired(qa: pd.DataFrame, qb: pd.DataFrame, common: set[QuestionKey]) -> pd.DataFrame:
    """Question scores of one candidate in each run, side by side, for the common questions both scored.

    Weights come from run B (the question sets as they are now).
    """
    cols = ["set_id", "question_id", "score", "acceptable", "weight"]
    m = qa[cols].merge(qb[cols], on=["set_id", "question_id"], suffixes=("_a", "_b"))
    return m[_among(m, common)].sort_values(["set_id", "question_id"]).reset_index(drop=True)


def _mean(scores: pd.Series, weights: pd.Series) -> float | None:
    return float((scores * weights).sum() / weights.sum()) if len(scores) and weights.sum() > 0 else None


def _flips(p: pd.DataFrame, threshold: float, passing: bool) -> list[QuestionFlip]:
    now_ok = question_ok(p.acceptable_b, p.score_b, threshold)
    was_ok = question_ok(p.acceptable_a, p.score_a, threshold)
    rows = p[(now_ok & ~was_ok) if passing else (was_ok & ~now_ok)]
    flips = [QuestionFlip(r.set_id, r.question_id, float(r.score_a), float(r.score_b)) for r in rows.itertuples()]
    return sorted(flips, key=lambda f: (-abs(f.score_b - f.score_a), f.set_id, f.question_id))


def _perf(a: RunData, b: RunData, name: str) -> list[PerfChange]:
    pa, pb = perf_summary(a.answers, a.phases, name), perf_summary(b.answers, b.phases, name)
    out = []
    for m in PERF_METRICS:
        va, vb = pa.get(m), pb.get(m)
        ratio = vb / va if va and vb is not None else None
        out.append(PerfChange(m, va, vb, ratio))
    return out


def _failed(run: RunData, name: str) -> int:
    return int((~run.answers[run.answers.candidate == name].ok.astype(bool)).sum())


def _significant(p: float | None) -> bool:
    return p is not None and p < ALPHA


def compare_runs(
    a: RunData, b: RunData, resamples: int | None = None, seed: int | None = None, threshold: float | None = None
) -> Comparison:
    """Everything that changed from run A to run B; ``None`` settings come from run B's plan."""
    plan_b = b.manifest.plan
    resamples = resamples or int(plan_b.get("bootstrap_resamples", 2000))
    seed = seed if seed is not None else int((plan_b.get("sampling") or {}).get("seed", 0))
    threshold = threshold if threshold is not None else float(plan_b.get("rubric_pass_threshold", 0.5))
    both = [n for n in b.candidates if n in a.candidates]
    only_a = [n for n in a.candidates if n not in b.candidates]
    only_b = [n for n in b.candidates if n not in a.candidates]
    common = a.question_keys & b.question_keys
    overlap = QuestionOverlap(len(common), sorted(a.question_keys - common), sorted(b.question_keys - common))
    qa, qb = a.questions_at(threshold), b.questions_at(threshold)

    diffs, pairs = [], []
    for name in both:
        p = _paired(qa[qa.candidate == name], qb[qb.candidate == name], common)
        pairs.append(p)
        diffs.append(paired_difference(p.score_b, p.score_a, p.weight_b, resamples, seed))
    adjusted = holm([d.p_value for d in diffs])
    changes = []
    for name, p, d, ph in zip(both, pairs, diffs, adjusted, strict=True):
        info_a, info_b = (r.manifest.candidates.get(name) or CandidateEntry() for r in (a, b))
        changes.append(CandidateChange(
            candidate=name, mean_a=_mean(p.score_a, p.weight_b), mean_b=_mean(p.score_b, p.weight_b),
            diff=d, p_holm=ph, significant=_significant(ph), perf=_perf(a, b, name),
            failed_a=_failed(a, name), failed_b=_failed(b, name),
            server_error_a=info_a.error, server_error_b=info_b.error,
            newly_passing=_flips(p, threshold, True), newly_failing=_flips(p, threshold, False),
            calls=call_change(a.decided, b.decided, name, a.samples, b.samples, common),
        ))  # fmt: skip

    new_models = []
    for name in only_b:
        mine = qb[qb.candidate == name]
        vs_pairs = [_paired(qa[qa.candidate == other], mine, common) for other in a.candidates]
        vs_diffs = [paired_difference(p.score_b, p.score_a, p.weight_b, resamples, seed) for p in vs_pairs]
        vs_p = holm([d.p_value for d in vs_diffs])
        versus = [Versus(other, _mean(p.score_a, p.weight_b), d, ph, _significant(ph))
                  for other, p, d, ph in zip(a.candidates, vs_pairs, vs_diffs, vs_p, strict=True)]  # fmt: skip
        in_common = mine[_among(mine, common)]
        new_models.append(NewModel(name, _mean(in_common.score, in_common.weight), versus))

    notes = [*a.notes, *b.notes, *_session_notes("A", a.manifest), *_session_notes("B", b.manifest)]
    return Comparison(
        run_a=str(a.path), run_b=str(b.path), threshold=threshold,
        setup=setup_changes(a.manifest, b.manifest, both),
        candidates_both=both, candidates_only_a=only_a, candidates_only_b=only_b,
        questions=overlap, changes=changes, new_models=new_models, notes=notes,
        reviews=[run_review("A", a.review), run_review("B", b.review)],
    )  # fmt: skip


def comparison_json(c: Comparison) -> dict[str, Any]:
    """The whole comparison as plain JSON types (every flip, every question id); a candidate's ``calls`` only
    where a run graded calls."""
    out = asdict(c)
    for change in out["changes"]:
        if change["calls"] is None:
            del change["calls"]
    return out
