"""Roll-up (pure): records -> pandas DataFrames for the report and summaries.

Levels: answer (one sample) -> question (mean over samples) -> category and
question set -> model, each with an interval over questions. The
model's rubric score is the question-weighted mean of question scores, with a
95% bootstrap interval that resamples questions (the unit that varies when the
question set changes). A failed generation scores 0: a missing answer is a
wrong answer for the user, and the failure count is shown beside it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from harness import timing as stats
from harness.records import (
    GENERATION_VIEW,
    SCORE_VIEW,
    CallGrade,
    Candidate,
    Generation,
    GenerationView,
    Judgment,
    Phase,
    QuestionSet,
    Score,
    ScoreView,
)
from harness.rollup.bootstrap import bootstrap_counts, percentile_bootstrap_counts

ANSWER_COLUMNS = [
    "key", "candidate", "variant", "set_id", "question_id", "category", "weight", "sample", "api",
    "text", "ok", "error", "score", "essentials", "faithful", "faithful_why", "context_hit", "context_ids",
    "prompt_tokens", "output_tokens", "output_tokens_source", "ttft_ms", "e2e_ms", "tpot_ms",
    "reasoning", "reasoning_tokens", "answer_tokens", "token_split", "ttfat_ms", "answer_ms", "cut_off", "checks",
    "attempts", "wait_ms",
]  # fmt: skip
"""``faithful``: the faithfulness score and ``faithful_why`` its reason (None: not checked, or the request failed).
``checks``: the answer's rubric checks as ``(type, passed, critical, explanation)`` tuples (empty when unscored).
Tuples of strings and flags: the collector stops tracking them, so 200,000 answers' checks cost it nothing."""
CALL_COLUMNS = ["call", "tool_call_ms"]
"""Added to the answers of a run whose scores grade tool calls: ``call`` the answer's
:class:`~harness.records.CallGrade` (None: its calls are not graded), ``tool_call_ms`` the latency to its
first response's call (None: no call)."""
RANK_COLUMN = "context_rank"
"""Added to the answers of a run whose scores rank the question's source among the passages given
(:attr:`~harness.records.Score.context_rank`; None: missed, or nothing to rank)."""

ScoreCells = tuple[
    float | None, bool | None, float | None, str | None, bool | None, tuple[tuple[str, bool, bool, str], ...]
]
"""What an answer's row takes from its :class:`Score`: score, essentials passed, faithfulness score and reason,
context hit, checks."""


def answers_frame(
    gens: Iterable[GenerationView], scores: Iterable[ScoreView], sets: dict[str, QuestionSet]
) -> pd.DataFrame:  # fmt: skip
    """One row per answer (``ANSWER_COLUMNS``) of the questions in ``sets``; answers to other questions are left out.

    ``gens`` and ``scores`` are the fields of each record the roll-up reads
    (``RunDir.iter_generation_views``, or :func:`views` of records in memory), each read once,
    so they may be streams: no record outlives its row, a row is a tuple and the frame is made
    column by column, which keeps 200,000 answers to a fraction of the memory that holding
    every record (or a dict per row) takes.
    """
    by_key: dict[str, ScoreCells] = {}
    calls: dict[str, CallGrade] = {}
    ranks: dict[str, int] = {}
    for s in scores:
        by_key[s["key"]] = _score_cells(s)
        if s["calls"] is not None:
            calls[s["key"]] = s["calls"]
        if (rank := s.get("context_rank")) is not None:
            ranks[s["key"]] = rank
    meta = {
        (qs.id, q.id): (q.category, q.weight * qs.category_weights.get(q.category, 1.0))
        for qs in sets.values()
        for q in qs.questions
    }
    rows, tool_ms = [], []
    for g in gens:
        if (question := meta.get((g["set_id"], g["question_id"]))) is not None:
            rows.append(_answer_row(g, question, by_key.get(g["key"])))
            tool_ms.append(g["tool_call_ms"])
    if not rows:
        return pd.DataFrame([], columns=ANSWER_COLUMNS)
    frame = pd.DataFrame(dict(zip(ANSWER_COLUMNS, map(list, zip(*rows, strict=True)), strict=True)))
    if calls:  # a run with graded tool calls: their columns (CALL_COLUMNS); any other run's frame is as it was
        frame["call"] = [calls.get(k) for k in frame.key]
        frame["tool_call_ms"] = tool_ms
    if ranks:  # a run whose retrieval found a source: its column (RANK_COLUMN); any other run's frame is as it was
        frame[RANK_COLUMN] = [ranks.get(k) for k in frame.key]
    return frame


def views(gens: Iterable[Generation], scores: Iterable[Score]) -> tuple[list[GenerationView], list[ScoreView]]:
    """Records in memory as the views :func:`answers_frame` reads."""
    return ([GENERATION_VIEW.validate_python(g.model_dump()) for g in gens],
            [SCORE_VIEW.validate_python(s.model_dump()) for s in scores])  # fmt: skip


def _score_cells(s: ScoreView) -> ScoreCells:
    checks = tuple([(c["type"], c["passed"], c["critical"], c["explanation"]) for c in s["checks"]])
    faithful = s["faithfulness"]
    score, why = (faithful["score"], faithful["explanation"]) if faithful else (None, None)
    return s["score"], s["essentials_passed"], score, why, s["context_hit"], checks


def _answer_row(g: GenerationView, question: tuple[str, float], score: ScoreCells | None) -> tuple[Any, ...]:
    """One answer's cells in ``ANSWER_COLUMNS`` order: ``question`` is (category, weight), ``score`` its
    :func:`_score_cells` (None: not scored)."""
    value, essentials, faithful, why, hit, checks = score if score is not None else (None, None, None, None, None, ())
    e2e, ttft, ttfat, out = g["e2e_ms"], g["ttft_ms"], g["ttfat_ms"], g["output_tokens"]
    ok = g["error"] is None
    answer_ms = e2e - ttfat if e2e is not None and ttfat is not None else None
    return (
        g["key"], g["candidate"], g["variant"], g["set_id"], g["question_id"], question[0], question[1], g["sample"],
        g["api"], g["text"], ok, g["error"], value, essentials, faithful if ok else None, why if ok else None, hit,
        g["context_ids"] or None,
        g["prompt_tokens"], out, g["output_tokens_source"], ttft, e2e, stats.tpot_ms(e2e, ttft, out),
        g["reasoning"], g["reasoning_tokens"], g["answer_tokens"], g["token_split"], ttfat, answer_ms,
        ok and g["cut_off_thinking"], checks, g["attempts"], g["wait_ms"],
    )  # fmt: skip


def acceptable(answers: pd.DataFrame, threshold: float) -> pd.Series:
    """Per answer (row): whether it is acceptable, as bool; False where unscored.

    The scoring stage's verdict (``essentials``: every essential check passed, see
    ``harness.rubric.registry.verdict``) where it gave one; else (every content check optional,
    or a score record that predates the rule) the score against ``threshold``.
    """
    by_score = answers.score.fillna(-1.0) >= threshold
    if "essentials" not in answers.columns:
        return by_score
    verdict = answers.essentials
    has = verdict.notna()
    return by_score.where(~has, verdict.where(has, False).astype(bool))


def with_acceptable(answers: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """``answers`` with its ``acceptable`` column (:func:`acceptable`)."""
    return answers.assign(acceptable=acceptable(answers, threshold))


def question_ok(acceptable_share: pd.Series, score: pd.Series, threshold: float) -> pd.Series:
    """Per question: acceptable when at least half of its answers are (``acceptable_share`` from
    :func:`question_frame`); where that share is unknown (NaN), its mean score against ``threshold``."""
    by_score = score >= threshold
    return by_score.where(acceptable_share.isna(), acceptable_share >= 0.5).astype(bool)


def question_frame(answers: pd.DataFrame) -> pd.DataFrame:
    """One row per (candidate, set, question): mean score over scored samples, and the share of them
    that are acceptable (``acceptable``; NaN when ``answers`` has no ``acceptable`` column).

    ``weight`` is the question's weight times its category's weight in the set.
    """
    scored = answers.dropna(subset=["score"])
    if "acceptable" not in scored.columns:
        scored = scored.assign(acceptable=np.nan)
    return scored.groupby(["candidate", "set_id", "question_id", "category"], as_index=False).agg(
        score=("score", "mean"), weight=("weight", "first"), samples=("score", "size"),
        acceptable=("acceptable", "mean"),
    )  # fmt: skip


@dataclass(frozen=True)
class Interval:
    mean: float | None
    low: float | None
    high: float | None


def bootstrap_means(
    values: np.ndarray, weights: np.ndarray, resamples: int, seed: int, level: float = 0.95
) -> list[Interval]:  # fmt: skip
    """Weighted means of each column of ``values`` (items x metrics) with percentile bootstrap intervals.

    Every metric is resampled with the same draws of items, so intervals of metrics of
    one model describe the same hypothetical question sets.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    n, m = values.shape
    if n == 0:
        return [Interval(None, None, None)] * m
    means = [float(np.average(values[:, j], weights=weights)) for j in range(m)]
    if n == 1:
        return [Interval(mean, None, None) for mean in means]
    bounds = percentile_bootstrap_counts(values, weights, bootstrap_counts(n, resamples, seed), level)
    return [Interval(mean, b.low, b.high) for mean, b in zip(means, bounds, strict=True)]


def bootstrap_mean(values: np.ndarray, weights: np.ndarray, resamples: int, seed: int, level: float = 0.95) -> Interval:
    """Weighted mean with a percentile bootstrap interval over the items."""
    return bootstrap_means(values, weights, resamples, seed, level)[0]


def group_intervals(questions: pd.DataFrame, keys: list[str], resamples: int, seed: int) -> pd.DataFrame:
    """Question-weighted mean score per group (e.g. candidate x set x category) with its bootstrap interval."""
    rows = []
    for group, q in questions.groupby(keys, sort=False):
        ci = bootstrap_mean(q.score.to_numpy(float), q.weight.to_numpy(float), resamples, seed)
        rows.append({**dict(zip(keys, group, strict=True)), "questions": len(q),
                     "score": ci.mean, "low": ci.low, "high": ci.high})  # fmt: skip
    return pd.DataFrame(rows, columns=[*keys, "questions", "score", "low", "high"])


def tokens_counted_by(sources: Iterable[object]) -> str | None:
    """``tokenizer`` when any count came from the tokenizer (the server sent no usage), ``server`` when all
    came from the server's usage, None when nothing was counted."""
    seen = set(pd.Series(sources, dtype=object).dropna())  # dropna: what pd.isna calls missing, at C speed
    return "tokenizer" if "tokenizer" in seen else ("server" if seen else None)


PERF_COLUMNS = ["output_tokens", "output_tokens_source", "ttft_ms", "e2e_ms", "tpot_ms"]
"""The answer columns :func:`perf_summary` reads."""


def perf_summary(answers: pd.DataFrame, phases: list[Phase], name: str) -> dict[str, Any]:
    """Throughput and latency of one candidate's generation phases.

    Output tok/s is unknown (None), not 0, when an answer's token count is unknown (a
    server that sent no usage, and no tokenizer to count with).
    """
    mine = answers.loc[(answers.candidate == name) & answers.ok, PERF_COLUMNS]  # only these: a copy of the rest is slow
    wall_s = sum(p.ended_at - p.started_at for p in phases if p.candidate == name and p.requests > 0)
    out_tokens = float(mine.output_tokens.sum()) if mine.output_tokens.notna().all() else None
    ttft = mine.ttft_ms.dropna().tolist()
    e2e = mine.e2e_ms.dropna().tolist()
    tpot = mine.tpot_ms.dropna().tolist()
    return {
        "wall_s": wall_s or None,
        "requests_per_s": stats.rate_per_s(len(mine), wall_s),
        "out_tok_per_s": stats.rate_per_s(out_tokens, wall_s) if out_tokens is not None else None,
        "out_tokens_counted_by": tokens_counted_by(mine.output_tokens_source),
        "ttft_p50_ms": stats.percentile(ttft, 50),
        "ttft_p95_ms": stats.percentile(ttft, 95),
        "e2e_p50_ms": stats.percentile(e2e, 50),
        "e2e_p95_ms": stats.percentile(e2e, 95),
        "tpot_p50_ms": stats.percentile(tpot, 50),
        "mean_output_tokens": float(mine.output_tokens.mean()) if mine.output_tokens.notna().any() else None,
        **wait_summary(answers, name),
    }


def wait_summary(answers: pd.DataFrame, name: str) -> dict[str, Any]:
    """How long one candidate's answers waited on the server's flow control and retries (docs/reliability.md).

    Over every answer of ``name`` (failed ones waited too) whose wait is known: ``waited_answers``
    (how many waited at all), ``wait_total_s`` (s), ``wait_mean_ms`` (ms, over the answers, waiting or
    not). The latency figures above leave these waits out: each answer is timed from the start of the
    attempt that answered. All None for runs made before waits were recorded.
    """
    waits = answers.wait_ms[answers.candidate == name].dropna() if "wait_ms" in answers.columns else []
    return _wait_figures([float(w) for w in waits]) or dict.fromkeys(WAIT_KEYS)


def judge_wait_summary(judgments: Iterable[Judgment] | None) -> dict[str, Any] | None:
    """How long the judge's verdicts waited on its server (:func:`wait_summary`'s keys, over verdicts).

    Over every verdict (failed ones too) whose wait was recorded (``Judgment.wait_ms``): ``waited_answers``
    (verdicts that waited at all), ``wait_total_s`` (s), ``wait_mean_ms`` (ms, over the verdicts). None when
    the run has no judgments or none recorded its wait (runs made before issue 28).
    """
    return _wait_figures([j.wait_ms for j in judgments or [] if j.wait_ms is not None])


WAIT_KEYS = ("waited_answers", "wait_total_s", "wait_mean_ms")


def _wait_figures(waits_ms: list[float]) -> dict[str, Any] | None:
    """:data:`WAIT_KEYS` over ``waits_ms``: how many waited at all, the total (s), the mean (ms); None when empty."""
    if not waits_ms:
        return None
    return dict(zip(WAIT_KEYS, (sum(w > 0 for w in waits_ms), sum(waits_ms) / 1000, sum(waits_ms) / len(waits_ms)),
                    strict=True))  # fmt: skip


def model_summary(
    answers: pd.DataFrame, phases: list[Phase], candidates: list[Candidate],
    resamples: int = 2000, seed: int = 0, server_errors: dict[str, str | None] | None = None,
    served: pd.DataFrame | None = None,
) -> pd.DataFrame:  # fmt: skip
    """One row per candidate, in plan order.

    Quality comes from ``answers``; throughput and latency from ``served`` (every request
    of the generation phases, all variants), which defaults to ``answers``. Cost is not
    here: :func:`harness.rollup.perf_summary.cost_frame` computes ``usd_per_mtok`` once,
    at the best SLO-meeting level or else at this summary's ``out_tok_per_s``.
    """
    questions = question_frame(answers)
    rows = []
    for cand in candidates:
        ok = answers.ok[answers.candidate == cand.name]
        q = questions[questions.candidate == cand.name]
        ci = bootstrap_mean(q.score.to_numpy(float), q.weight.to_numpy(float), resamples, seed)
        perf = perf_summary(answers if served is None else served, phases, cand.name)
        rows.append({
            "candidate": cand.name,
            "answers": int(ok.sum()),
            "failed": int((~ok).sum()),
            "questions_scored": len(q),
            "rubric_mean": ci.mean, "rubric_ci_low": ci.low, "rubric_ci_high": ci.high,
            **perf,
            "gpus": cand.gpus,
            "price_per_gpu_hour_usd": cand.price_per_gpu_hour_usd or None,
            "server_error": (server_errors or {}).get(cand.name),
        })  # fmt: skip
    return pd.DataFrame(rows)


def category_frame(questions: pd.DataFrame, resamples: int, seed: int) -> pd.DataFrame:
    """Per (set, category, candidate): weighted mean question score with a bootstrap interval."""
    return group_intervals(questions, ["set_id", "category", "candidate"], resamples, seed)


def set_frame(questions: pd.DataFrame, resamples: int, seed: int) -> pd.DataFrame:
    """Per (set, candidate): weighted mean question score with a bootstrap interval."""
    return group_intervals(questions, ["set_id", "candidate"], resamples, seed)
