"""Every figure the report shows, merged per candidate (pure): :class:`RunRecords` -> :class:`ReportData`.

The roll-up modules compute each figure (``frames``, ``stability``, ``significance``,
``decision``, ``perf_summary``, ``judge``, ``reasoning``, ``estimate``, ``lm_eval``);
this module merges them into one row per candidate in the order the report lists
them. Reading the run directory is :mod:`harness.report.load`'s job; nothing here
reads a record file (the roofline figures read the candidates' ``config.json``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from harness.inputs.contamination import Contamination
from harness.manifest_records import RunManifest
from harness.perf_records import CapacityRecord, MemorySummary, PerfRecord
from harness.records import (
    GenerationView,
    HumanGrade,
    Judgment,
    LoadLevel,
    Phase,
    Plan,
    QuestionSet,
    ScoreView,
)
from harness.rollup.calls import with_call_columns
from harness.rollup.decision import COST_PER_QUESTION, COST_PER_TOKEN, DecisionRule, Recommendation, recommend
from harness.rollup.estimate import roofline_columns, smallest_gpu_at_peak
from harness.rollup.evidence import evidence_columns
from harness.rollup.frames import (
    answers_frame,
    category_frame,
    judge_wait_summary,
    model_summary,
    question_frame,
    set_frame,
    with_acceptable,
)
from harness.rollup.judge import JudgeSummary
from harness.rollup.lm_eval import lm_eval_figures
from harness.rollup.panel_summary import PanelSummary, panel_summary
from harness.rollup.perf_summary import (
    capacity_frame,
    capacity_rows,
    cost_frame,
    energy_per_token_j,
    level_notes,
    memory_needed_gib,
    sweep_frame,
)
from harness.rollup.quality import Quality, decision_changes, quality_answers, with_quality
from harness.rollup.reasoning import (
    acceptable_share,
    arm_usd_per_1k_questions,
    cut_off_advice,
    reasoning_summary,
    thinking_allowed,
    usd_per_1k_acceptable,
)
from harness.rollup.retrieval import RetrievalFigures, retrieval_figures
from harness.rollup.review import (
    JudgeGrades,
    JudgeTrust,
    ReviewSummary,
    decision_consensus,
    grades_agreement,
    judge_trust,
    review_summary,
)
from harness.rollup.sessions import merge_sessions
from harness.rollup.significance import versus_best
from harness.rollup.stability import model_stability, question_stability
from harness.rollup.strategy import StrategySummary, variant_table
from harness.rollup.variants import Resampling, VariantComparison, compare_variants

VERSUS_COLUMNS = {"diff": "diff_vs_best", "diff_low": "diff_vs_best_low", "diff_high": "diff_vs_best_high"}
DECISION_COLUMNS = ["candidate", "eligible", "violations", "pareto", "dominated_by", "overall"]


@dataclass(frozen=True)
class RunRecords:
    """Everything a run directory holds that the report uses, as read (no figure computed yet)."""

    plan: Plan
    manifest: RunManifest
    sets: dict[str, QuestionSet]
    """The run's question sets by id, as the run asked them."""
    gens: Iterable[GenerationView]
    """The fields the roll-up reads of each answer; a stream is enough: :func:`assemble` reads it once."""
    scores: Iterable[ScoreView]
    phases: list[Phase]
    levels: list[LoadLevel]
    """Load-sweep levels, every candidate's."""
    capacity: list[CapacityRecord]
    """The sweep's SLO capacity searches (``perf.sweep.capacity``), one per candidate searched."""
    perf_records: list[PerfRecord]
    """One per server session (a resumed run has several per candidate)."""
    judgments: list[Judgment] | None
    """None when the plan has no judge or the run was never judged."""
    lm_eval: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Candidate -> its lm-eval ``results.json``."""
    notes: list[str] = field(default_factory=list)
    """Notes from reading (e.g. a question set changed since the run)."""
    contamination: dict[str, Contamination] = field(default_factory=dict)
    """Variant -> what its ``train_data`` holds of the run's questions (only variants that declare one)."""
    reviews: list[HumanGrade] = field(default_factory=list)
    """People's grades of the run's answers (``reviews.jsonl``, ``harness review add``); empty: none yet."""


@dataclass
class ReportData:
    plan: Plan
    manifest: RunManifest
    notes: list[str]
    sets: dict[str, QuestionSet]
    names: list[str]
    answers: pd.DataFrame
    """One row per answer (sample)."""
    questions: pd.DataFrame
    """One row per candidate x question: mean over samples."""
    stability: pd.DataFrame
    """One row per candidate x question: samples, acceptable, spread, status."""
    models: pd.DataFrame
    """One row per candidate: every model-level figure."""
    versus: pd.DataFrame
    categories: pd.DataFrame
    set_scores: pd.DataFrame
    recommendation: Recommendation
    sweep: pd.DataFrame
    perf_records: dict[str, PerfRecord]
    judge_summary: JudgeSummary | None
    """The panel's verdicts rolled up (one judge's own figures when the panel has one judge)."""
    expected: int
    """Answers each candidate owes: questions x samples."""
    mdd: float | None
    """Median minimum detectable difference of the comparisons against the best."""
    served: pd.DataFrame
    """Every answer of every variant (``answers`` holds the decision variant's)."""
    strategy: StrategySummary | None
    """Quality by prompt variant, when the plan has more than one."""
    served_stability: pd.DataFrame
    """``stability`` for every variant (one row per candidate x variant x question); ``stability`` is its
    decision-variant rows."""
    reasoning: pd.DataFrame | None = None
    """Thinking figures per candidate (:mod:`harness.rollup.reasoning`), when any answer of the run has thinking."""
    variants: list[VariantComparison] = field(default_factory=list)
    """Each variant against its base (:mod:`harness.rollup.variants`), Holm-adjusted together (none: no families)."""
    contamination: dict[str, Contamination] = field(default_factory=dict)
    """As in :class:`RunRecords`: the overlaps the Variants section names."""
    capacity: list[dict[str, Any]] = field(default_factory=list)
    """The SLO capacity searches as the report shows them (:func:`~harness.rollup.perf_summary.capacity_rows`)."""
    level_notes: list[dict[str, Any]] = field(default_factory=list)
    """Sweep levels skipped, cut short, or with guard problems (:func:`~harness.rollup.perf_summary.level_notes`)."""
    reviews: list[HumanGrade] = field(default_factory=list)
    """As in :class:`RunRecords`: every human grade added to the run, as stored."""
    review: ReviewSummary | None = None
    """The human review figures (:mod:`harness.rollup.review`); None when no grade was ever added."""
    judge_wait: dict[str, Any] | None = None
    """How long the judge's verdicts waited on its server (:func:`~harness.rollup.frames.judge_wait_summary`)."""
    quality: Quality | None = None
    """What decided quality (:mod:`harness.rollup.quality`); None: the rubric alone, as without reviews."""
    machine_recommendation: Recommendation | None = None
    """The decision on the rubric alone, when human grades entered the one in ``recommendation``."""
    review_changes: list[str] = field(default_factory=list)
    """What human grades changed against ``machine_recommendation`` (the recommended model, the order,
    eligibility), in sentences; empty when nothing changed."""
    panel: PanelSummary | None = None
    """The judge panel: each judge's figures and the panel's (None: the run was not judged)."""
    retrieval: list[RetrievalFigures] = field(default_factory=list)
    """Hit rate, recall@k and MRR per retrieval variant and set (:mod:`harness.rollup.retrieval`); empty: the
    run retrieved nothing."""


def tokens_measured(answers: pd.DataFrame, levels: list[LoadLevel], candidate: str) -> int:
    """Output tokens the server produced while it was measured: answers plus the load sweep."""
    mine = answers.loc[answers.candidate == candidate, ["output_tokens"]]
    swept = sum(t.output_tokens or 0 for lv in levels if lv.candidate == candidate for t in lv.requests)
    return int(mine.output_tokens.fillna(0).sum()) + swept


def _quality_models(rec: RunRecords, answers: pd.DataFrame, served: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """One row per candidate with its quality and phase figures, its API, and answers missing of ``expected``."""
    plan, manifest = rec.plan, rec.manifest
    errors = {name: info.error for name, info in manifest.candidates.items()}
    models = model_summary(answers, rec.phases, plan.candidates, plan.bootstrap_resamples, plan.sampling.seed,
                           errors, served=served)  # fmt: skip
    models["api"] = models.candidate.map({n: i.api for n, i in manifest.candidates.items()})
    expected = sum(len(qs.questions) for qs in rec.sets.values()) * plan.sampling.samples
    models["missing"] = expected - models.answers - models.failed
    return evidence_columns(models, answers, expected), expected


def _cost_columns(
    rec: RunRecords,
    models: pd.DataFrame,
    answers: pd.DataFrame,
    served: pd.DataFrame,
    sweep: pd.DataFrame,
    thinking: pd.DataFrame,
) -> pd.DataFrame:
    """Cost per token and per question, the thinking figures, and USD per 1,000 acceptable answers.

    $/1M output tokens comes from the server's throughput (every variant's requests shared it); a
    question's cost is priced on the tokens of the answers it stands for: the decision variant's
    (``mean_output_tokens`` is theirs), and in the Thinking section the thinking arm's (``arm_*``).
    """
    plan = rec.plan
    ok = answers[answers.ok]
    mean_tokens = ok.groupby("candidate").output_tokens.mean()
    models["mean_output_tokens"] = [mean_tokens.get(c) for c in models.candidate]
    costs = cost_frame(plan.candidates, plan.perf, sweep, rec.phases, models, capacity_frame(rec.capacity))
    models = models.merge(costs, on="candidate", how="left")
    models = models.merge(thinking, on="candidate", how="left")
    threshold = plan.rubric_pass_threshold
    models["usd_per_1k_acceptable"] = [
        usd_per_1k_acceptable(cost, acceptable_share(answers, c, threshold))
        for c, cost in zip(models.candidate, models.usd_per_1k_questions, strict=True)
    ]
    arm = served[thinking_allowed(served, plan.variants)]
    models["arm_usd_per_1k_questions"] = [
        arm_usd_per_1k_questions(per_mtok, tokens)
        for per_mtok, tokens in zip(models.usd_per_mtok, models.arm_output_tokens_mean, strict=True)
    ]
    models["arm_usd_per_1k_acceptable"] = [
        usd_per_1k_acceptable(cost, acceptable_share(arm, c, threshold))
        for c, cost in zip(models.candidate, models.arm_usd_per_1k_questions, strict=True)
    ]
    return models


def _hardware_columns(
    rec: RunRecords, models: pd.DataFrame, served: pd.DataFrame, perf: dict[str, PerfRecord]
) -> pd.DataFrame:
    """Roofline speed and share, the smallest GPU at peak, memory needed and energy per token."""
    roof = roofline_columns(rec.plan, rec.manifest, served, models)
    for i, column in enumerate(("roofline_tok_per_s", "roofline_share", "roofline_note")):
        models[column] = [roof.get(c, (None, None, None))[i] for c in models.candidate]
    smallest = smallest_gpu_at_peak(rec.plan, rec.manifest, served, perf)
    models["smallest_gpu"] = [smallest.get(c) for c in models.candidate]
    tp = {c.name: c.gpus for c in rec.plan.candidates}
    declared = {c.name: c.endpoint.gpu_memory_gib for c in rec.plan.candidates if c.endpoint is not None}
    models["memory_needed_gib"] = [
        (memory_needed_gib(perf[c].server, perf[c].metrics, tp[c]) if c in perf else None) or declared.get(c)
        for c in models.candidate
    ]  # an endpoint's server is not measured: the memory its plan declares (endpoint.gpu_memory_gib)
    measured = {c: measured_peak_gib(p.memory) for c, p in perf.items()}
    models["peak_memory_gib"] = [measured.get(c, (None, None))[0] for c in models.candidate]
    models["peak_memory_source"] = [measured.get(c, (None, None))[1] for c in models.candidate]
    models["energy_j_per_token"] = [
        energy_per_token_j(mem.energy_j, tokens_measured(served, rec.levels, c))
        if c in perf and (mem := perf[c].memory) is not None
        else None
        for c in models.candidate
    ]
    return models


def repeated_throughputs(records: list[CapacityRecord], models: pd.DataFrame) -> dict[str, list[float]]:
    """Per candidate whose cost basis is its SLO capacity: the output tok/s of each repeated run at the capacity
    estimate (``best_out_tok_per_s`` is their median); candidates on one sweep level or phase are left out."""
    last = {r.candidate: r for r in records}
    out: dict[str, list[float]] = {}
    for name, basis in zip(models.candidate, models.get("cost_basis", [None] * len(models)), strict=True):
        r = last.get(name)
        if r is None or r.estimate is None or not str(basis or "").startswith("SLO capacity"):
            continue
        at = [p for p in r.points if p.value == r.estimate]
        runs = [float(v) for p in at for v in p.out_tok_per_s if v is not None]
        if len(runs) > 1:
            out[name] = runs
    return out


def measured_peak_gib(memory: MemorySummary | None) -> tuple[float | None, str | None]:
    """The measured peak memory of a server session (GiB) and what measured it: ``nvml`` (every GPU's used
    memory, summed) or ``host`` (resident memory of the server's process tree); (None, None) without either."""
    if memory is None:
        return None, None
    value = memory.peak_used_gib if memory.source == "nvml" else memory.peak_rss_gib
    return (float(value), memory.source) if value is not None else (None, None)


def _versus_columns(models: pd.DataFrame, versus: pd.DataFrame) -> pd.DataFrame:
    """Each candidate's difference from the best, its interval, Holm-adjusted p and detectable difference."""
    picked = versus[["candidate", "is_best", *VERSUS_COLUMNS, "p_holm", "significant", "mdd"]]
    return models.merge(picked.rename(columns=VERSUS_COLUMNS), on="candidate", how="left")


def _panel(
    rec: RunRecords, answers: pd.DataFrame, names: list[str], trust_of: Callable[[JudgeGrades], JudgeTrust] | None
) -> PanelSummary | None:
    """The judge panel's figures, when the plan has judges and the run was judged."""
    plan = rec.plan
    entries = rec.manifest.judges
    if not plan.panel_judges or (rec.judgments is None and not entries):
        return None
    default = rec.manifest.legacy_judge or plan.panel_judges[0].name
    return panel_summary(rec.judgments or [], answers, plan, entries, default, names, trust_of)


def _people_trust(
    rec: RunRecords, answers: pd.DataFrame, served: pd.DataFrame
) -> Callable[[JudgeGrades], JudgeTrust]:  # fmt: skip
    """A judge's trust from people's grades of the decision variant's ``answers`` (as :func:`review_summary`)."""
    agreed = decision_consensus(answers, served, rec.reviews)[3]
    keys = [k for k in answers.key if k in agreed]
    return lambda grades: judge_trust(grades_agreement(grades, agreed, keys), rec.plan.review)


def _judge_columns(models: pd.DataFrame, panel: PanelSummary | None) -> pd.DataFrame:
    """The panel's per-model grades and pairwise win rate and Elo, when the run was judged."""
    if panel is None:
        return models
    summary = panel.summary
    models = models.merge(summary.per_model, on="candidate", how="left")
    if not summary.pairwise.empty:
        models = models.merge(summary.pairwise[["candidate", "win_rate", "bt_elo"]], on="candidate", how="left")
    return models


def judge_grades(rec: RunRecords, summary: JudgeSummary | None) -> JudgeGrades | None:
    """The panel's (or one judge's) first single grades and how to read them (None: the run has no judge grades)."""
    if not rec.plan.panel_judges or summary is None:
        return None
    return JudgeGrades.of_panel(rec.plan.panel_judges, summary.by_answer)


def _lm_eval_columns(models: pd.DataFrame, lm_eval: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One column per lm-eval figure (``lmeval_<task>`` and its stderr), in name order."""
    figures = lm_eval_figures(lm_eval)
    for column in sorted({k for found in figures.values() for k in found}):
        models[column] = [figures.get(c, {}).get(column) for c in models.candidate]
    return models


def _notes(rec: RunRecords, thinking: pd.DataFrame, has_thinking: bool) -> list[str]:
    """The reading notes, then a note on a sampled run, then advice on answers cut off while thinking."""
    notes = list(rec.notes)
    if per_set := rec.plan.sampling.questions_per_set:
        notes.append(f"This run asked only {per_set} questions of each set, spread over its "
                     "categories (sampling.questions_per_set): a quick look, with wider intervals.")  # fmt: skip
    return notes + (cut_off_advice(thinking, rec.plan.sampling.max_tokens) if has_thinking else [])


def assemble(rec: RunRecords) -> ReportData:
    """Every frame and figure of the report, from the run's records (pure but for the roofline's config reads)."""
    plan = rec.plan
    seed, resamples, k = plan.sampling.seed, plan.bootstrap_resamples, plan.sampling.samples
    names = [c.name for c in plan.candidates]
    perf = merge_sessions(rec.perf_records)  # every session of the run
    served = with_acceptable(answers_frame(rec.gens, rec.scores, rec.sets), plan.rubric_pass_threshold)
    answers = served[served.variant == plan.decision_variant]  # the recommendation's variant
    questions = question_frame(answers)
    models, expected = _quality_models(rec, answers, served)
    sweep = sweep_frame(rec.levels, plan.perf.slo)
    thinking = reasoning_summary(served, names, plan.variants)
    models = _cost_columns(rec, models, answers, served, sweep, thinking)
    has_thinking = bool(thinking.thinking_answers.sum()) or bool(thinking.cut_off.sum())
    models = _hardware_columns(rec, models, served, perf)
    served_stability = question_stability(served, plan.rubric_pass_threshold, k)  # every variant, computed once
    qstab = served_stability[served_stability.variant == plan.decision_variant].reset_index(drop=True)
    models = models.merge(model_stability(qstab, names, k, resamples, seed), on="candidate", how="left")
    versus = versus_best(questions, names, resamples, seed)
    models = _versus_columns(models, versus)
    trust_of = _people_trust(rec, answers, served) if rec.reviews else None
    panel = _panel(rec, answers, names, trust_of)
    judge_summary = panel.summary if panel is not None else None
    models = _judge_columns(models, panel)
    models = _lm_eval_columns(models, rec.lm_eval)
    # Thinking multiplies the tokens an answer takes: then cost is weighed per question, not per token.
    cost_column = COST_PER_QUESTION if has_thinking and models[COST_PER_QUESTION].notna().any() else COST_PER_TOKEN
    rule = DecisionRule(plan.weights, plan.constraints, k, resamples, seed)
    # the decision weighs the call figures (weights.calls, the call constraints); the models frame gets them last
    decision = recommend(with_call_columns(models, answers, k), questions, rule, cost_column)
    machine_models, machine, changes, review, quality = models, None, [], None, None
    if rec.reviews:
        grades = judge_grades(rec, judge_summary)
        review = review_summary(answers, served, rec.reviews, rec.sets, plan.review, grades, names)
        quality = quality_answers(answers, review, plan.review, grades)
        if quality.changed:  # the decision again on quality as plan.review says; the rubric's kept to compare
            models, decided = with_quality(models, quality, plan.candidates, plan.rubric_pass_threshold, k,
                                           resamples, seed)  # fmt: skip
            by_quality = replace(rule, quality_label="quality score")
            machine, decision = decision, recommend(with_call_columns(models, answers, k), decided, by_quality,
                                                    cost_column)  # fmt: skip
            changes = decision_changes(machine, decision, names)
    models = models.merge(decision.table[DECISION_COLUMNS], on="candidate", how="left")
    models = with_call_columns(models, answers, k)  # tool calls graded: their figures (none: nothing added)
    several = len(plan.variants) > 1
    strategy = variant_table(served, served_stability, names, plan.variants, resamples, seed) if several else None
    mdds = versus.mdd.dropna()
    flagged = {name: c.flagged for name, c in rec.contamination.items()}
    variants = compare_variants(
        questions,
        machine_models,
        plan.candidates,
        plan.rubric_pass_threshold,
        flagged,
        Resampling(resamples, seed),
        answers,
        repeated_throughputs(rec.capacity, machine_models),
    )
    return ReportData(
        plan=plan, manifest=rec.manifest, notes=_notes(rec, thinking, has_thinking), sets=rec.sets, names=names,
        answers=answers, questions=questions, stability=qstab, models=models, versus=versus,
        categories=category_frame(questions, resamples, seed), set_scores=set_frame(questions, resamples, seed),
        recommendation=decision, sweep=sweep, perf_records=perf, judge_summary=judge_summary,
        expected=expected, mdd=float(np.median(mdds)) if len(mdds) else None, served=served, strategy=strategy,
        served_stability=served_stability, reasoning=thinking if has_thinking else None, variants=variants,
        contamination=rec.contamination, capacity=capacity_rows(rec.capacity, plan.candidates, plan.perf),
        level_notes=level_notes(rec.levels), reviews=list(rec.reviews), review=review, quality=quality,
        machine_recommendation=machine, review_changes=changes, panel=panel,
        judge_wait=judge_wait_summary(rec.judgments), retrieval=retrieval_figures(
            served, rec.sets, plan.variants, plan.knowledge_base),
    )  # fmt: skip
