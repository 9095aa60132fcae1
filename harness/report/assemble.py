"""Everything the report shows, as frames: run directory -> :class:`ReportData`.

Loading is I/O; every figure comes from the pure roll-up modules (``rollup``,
``stability``, ``significance``, ``decision``, ``perf.summary``, ``judge.summary``).
The templates only format what is here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness.records import CapacityRecord, Generation, Judgment, LoadLevel, PerfRecord, Phase, Plan, QuestionSet, Score
from harness.rollup.decision import COST_PER_QUESTION, COST_PER_TOKEN, Recommendation, recommend
from harness.rollup.estimate import roofline_columns, smallest_gpu_at_peak
from harness.rollup.frames import answers_frame, category_frame, model_summary, question_frame, set_frame
from harness.rollup.judge import JudgeSummary, summarize
from harness.rollup.perf_summary import capacity_frame, cost_frame, memory_needed_gib, sweep_frame
from harness.rollup.reasoning import acceptable_share, cut_off_advice, reasoning_summary, usd_per_1k_acceptable
from harness.rollup.sessions import merge_sessions
from harness.rollup.significance import versus_best
from harness.rollup.stability import model_stability, question_stability
from harness.rollup.strategy import StrategySummary, variant_table
from harness.run import lmeval_stage
from harness.run.generate import GENERATIONS, PHASES
from harness.run.manifest import load_manifest
from harness.run.perf.capacity_run import CAPACITY
from harness.run.perf.measure import PERF
from harness.run.perf.nvml import energy_per_token_j
from harness.run.perf.sweep import LOADTEST
from harness.scoring.judge.stage import JUDGMENTS
from harness.scoring.stage import SCORES, RunDirError, load_run_sets, score_run
from harness.store import read_records


@dataclass
class ReportData:
    plan: Plan
    manifest: dict[str, Any]
    notes: list[str]
    sets: dict[str, QuestionSet]
    names: list[str]
    answers: pd.DataFrame
    """One row per answer (sample)."""
    scores: list[Score]
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


def _tokens_measured(answers: pd.DataFrame, levels: list[LoadLevel], candidate: str) -> int:
    """Output tokens the server produced while it was measured: answers plus the load sweep."""
    mine = answers[answers.candidate == candidate]
    swept = sum(t.output_tokens or 0 for lv in levels if lv.candidate == candidate for t in lv.requests)
    return int(mine.output_tokens.fillna(0).sum()) + swept


def load_report_data(run_dir: Path) -> ReportData:
    manifest = load_manifest(run_dir)
    if manifest is None:
        raise RunDirError(f"{run_dir} is not a run directory (no manifest.json)")
    if not (run_dir / SCORES).exists():
        score_run(run_dir)
    plan = Plan.model_validate(manifest["plan"])
    sets, notes = load_run_sets(run_dir)
    gens = read_records(run_dir / GENERATIONS, Generation)
    scores = read_records(run_dir / SCORES, Score)
    phases = read_records(run_dir / PHASES, Phase)
    levels = read_records(run_dir / LOADTEST, LoadLevel)
    perf_records = merge_sessions(read_records(run_dir / PERF, PerfRecord))  # every session of the run
    judgments = read_records(run_dir / JUDGMENTS, Judgment) if plan.judge and (run_dir / JUDGMENTS).exists() else None
    if plan.sampling.questions_per_set:
        notes.append(f"This run asked only {plan.sampling.questions_per_set} questions of each set, spread over its "
                     "categories (sampling.questions_per_set): a quick look, with wider intervals.")  # fmt: skip
    lm_eval = lmeval_stage.load_results(run_dir, [c.name for c in plan.candidates]) if plan.lm_eval else {}
    capacity = read_records(run_dir / CAPACITY, CapacityRecord)  # the sweep's SLO capacity search, when asked for
    return assemble(plan, manifest, notes, sets, gens, scores, phases, levels, perf_records, judgments, lm_eval,
                    capacity=capacity)  # fmt: skip


def assemble(
    plan: Plan, manifest: dict[str, Any], notes: list[str], sets: dict[str, QuestionSet], gens: list[Generation],
    scores: list[Score], phases: list[Phase], levels: list[LoadLevel], perf_records: dict[str, PerfRecord],
    judgments: list[Judgment] | None, lm_eval: dict[str, dict[str, Any]] | None = None,
    capacity: list[CapacityRecord] | None = None,
) -> ReportData:  # fmt: skip
    seed, resamples, k = plan.sampling.seed, plan.bootstrap_resamples, plan.sampling.samples
    cands = plan.candidates
    names = [c.name for c in cands]
    served = answers_frame(gens, scores, sets)
    answers = served[served.variant == plan.decision_variant]  # the recommendation's variant
    questions = question_frame(answers)
    errors = {name: info.get("error") for name, info in manifest["candidates"].items()}
    models = model_summary(answers, phases, cands, resamples, seed, errors, served=served)
    models["api"] = models.candidate.map({n: i.get("api") for n, i in manifest["candidates"].items()})
    expected = sum(len(qs.questions) for qs in sets.values()) * k
    models["missing"] = expected - models.answers - models.failed

    sweep = sweep_frame(levels, plan.perf.slo)
    costs = cost_frame(cands, plan.perf, sweep, phases, models, capacity_frame(capacity or []))
    models = models.drop(columns=["usd_per_mtok"]).merge(costs, on="candidate", how="left")
    thinking = reasoning_summary(served, names, plan.variants)
    models = models.merge(thinking, on="candidate", how="left")
    models["usd_per_1k_acceptable"] = [
        usd_per_1k_acceptable(cost, acceptable_share(answers, c, plan.rubric_pass_threshold))
        for c, cost in zip(models.candidate, models.usd_per_1k_questions, strict=True)
    ]
    has_thinking = bool(thinking.thinking_answers.sum()) or bool(thinking.cut_off.sum())
    notes = notes + (cut_off_advice(thinking, plan.sampling.max_tokens) if has_thinking else [])
    roof = roofline_columns(plan, manifest, served, models)
    models["roofline_tok_per_s"] = [roof.get(c, (None, None, None))[0] for c in models.candidate]
    models["roofline_share"] = [roof.get(c, (None, None, None))[1] for c in models.candidate]
    models["roofline_note"] = [roof.get(c, (None, None, None))[2] for c in models.candidate]
    smallest = smallest_gpu_at_peak(plan, manifest, served, perf_records)
    models["smallest_gpu"] = [smallest.get(c) for c in models.candidate]
    tp = {c.name: c.gpus for c in cands}
    models["memory_needed_gib"] = [
        memory_needed_gib(perf_records[c].server, perf_records[c].metrics, tp[c]) if c in perf_records else None
        for c in models.candidate
    ]
    models["energy_j_per_token"] = [
        energy_per_token_j(perf_records[c].memory.get("energy_j"), _tokens_measured(served, levels, c))
        if c in perf_records
        else None
        for c in models.candidate
    ]

    served_stability = question_stability(served, plan.rubric_pass_threshold, k)  # every variant, computed once
    qstab = served_stability[served_stability.variant == plan.decision_variant].reset_index(drop=True)
    models = models.merge(model_stability(qstab, names, k, resamples, seed), on="candidate", how="left")
    versus = versus_best(questions, names, resamples, seed)
    models = models.merge(
        versus[["candidate", "is_best", "diff", "diff_low", "diff_high", "p_holm", "significant", "mdd"]].rename(
            columns={"diff": "diff_vs_best", "diff_low": "diff_vs_best_low", "diff_high": "diff_vs_best_high"}
        ),
        on="candidate",
        how="left",
    )

    judge_summary = None
    if plan.judge is not None and judgments is not None:
        judge_summary = summarize(judgments, answers, plan.judge, names, plan.rubric_pass_threshold, resamples, seed)
        models = models.merge(judge_summary.per_model, on="candidate", how="left")
        if not judge_summary.pairwise.empty:
            models = models.merge(
                judge_summary.pairwise[["candidate", "win_rate", "bt_elo"]], on="candidate", how="left"
            )

    columns = sorted({k for figures in (lm_eval or {}).values() for k in figures})
    for column in columns:
        models[column] = [(lm_eval or {}).get(c, {}).get(column) for c in models.candidate]

    # Thinking multiplies the tokens an answer takes: then cost is weighed per question, not per token.
    cost_column = COST_PER_QUESTION if has_thinking and models[COST_PER_QUESTION].notna().any() else COST_PER_TOKEN
    rec = recommend(models, questions, plan.weights, plan.constraints, k, resamples, seed, cost_column)
    models = models.merge(
        rec.table[["candidate", "eligible", "violations", "pareto", "dominated_by", "overall"]],
        on="candidate",
        how="left",
    )
    strategy = (
        variant_table(served, served_stability, names, plan.variants, resamples, seed)
        if len(plan.variants) > 1
        else None
    )
    mdds = versus.mdd.dropna()
    return ReportData(
        plan=plan, manifest=manifest, notes=notes, sets=sets, names=names, answers=answers, scores=scores,
        questions=questions, stability=qstab, models=models, versus=versus,
        categories=category_frame(questions, resamples, seed), set_scores=set_frame(questions, resamples, seed),
        recommendation=rec, sweep=sweep, perf_records=perf_records, judge_summary=judge_summary,
        expected=expected, mdd=float(np.median(mdds)) if len(mdds) else None, served=served, strategy=strategy,
        served_stability=served_stability, reasoning=thinking if has_thinking else None,
    )  # fmt: skip
