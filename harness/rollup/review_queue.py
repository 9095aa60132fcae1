"""Which answers a person should grade first (pure): the review queue (docs/review.md).

A human grade is worth most where the machine's verdict is least sure or matters most:

1. **rubric and judge disagree**: the rubric's verdict (``acceptable``) and the judge's pass/fail
   (grade >= its pass score) differ on an answer both graded;
2. **near the line**: an acceptable answer with some check failing (a partial score), a
   not-acceptable answer with exactly one essential check failed, or a judge grade within
   ``JUDGE_NEAR_SHARE`` of the scale of its pass score;
3. **separates the top two**: the recommended model's and the runner-up's answers to the
   questions whose mean rubric scores differ most between the two (by at least ``SEPARATES_MIN_DIFF``);
4. **coverage**: every other answer (failed requests last), so each candidate gets some grades.

Within a (candidate, question set) stratum answers are ordered by their first reason's rank,
then by how many reasons they have, then by how close to the line they are, then by a seeded
hash of the key (:func:`order_key`). The queue visits the strata round-robin: round *r* is each
stratum's *r*-th answer, in priority order, so no stratum takes the whole queue. Answers someone
already graded go after every ungraded one, except the first ``overlap`` of them, which go first
(a second reviewer grades them too, so agreement between people can be measured).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

DISAGREE = "rubric and judge disagree"
NEAR_LINE = "near the line"
SEPARATES = "separates the top two"
COVERAGE = "coverage"
REASONS = (DISAGREE, NEAR_LINE, SEPARATES, COVERAGE)
"""The reason tags, in priority order (an answer's first reason decides its rank)."""

JUDGE_NEAR_SHARE = 0.1
"""A judge grade within this share of its scale's span (at least one point) of the pass score is near the line:
on 1..10 with pass score 6, grades 5 to 7."""
SEPARATES_MIN_DIFF = 0.2
"""Least difference of two models' mean rubric scores (0..1) on a question for it to separate them."""
SCORE_NEAR = 0.1
"""With no essential check (the verdict is the score against the threshold), a score this close to the
threshold is near the line."""


@dataclass(frozen=True)
class JudgeGrades:
    """The judge's first single grade per answer and its pass line."""

    scores: Mapping[str, float]
    """Generation key -> grade on 1..``scale`` (answers without a parsed grade left out)."""
    pass_score: float
    """A grade at or above it passes (``Judge.pass_score``, default 60% of the scale)."""
    scale: int


@dataclass(frozen=True)
class QueueItem:
    """One answer in the queue, with why it was chosen."""

    key: str
    candidate: str
    variant: str
    set_id: str
    question_id: str
    sample: int
    reasons: tuple[str, ...]
    """Tags of :data:`REASONS` that apply, in priority order; the first placed it."""
    reviewed_by: int
    """How many people graded it already (0: nobody)."""


@dataclass(frozen=True)
class ReviewQueue:
    items: list[QueueItem]
    """The first ``n`` answers to grade, best first."""
    answers: int
    """Answers the queue was drawn from (every answer of the decision variant, failed requests too)."""
    reviewed: int
    """Of those, answers at least one person graded."""
    seed: int


def order_key(keys: pd.Series, seed: int) -> np.ndarray:
    """A seeded pseudo-random uint64 per key (SipHash of the key): the same for the same seed whatever the
    frame's row order, different for another seed."""
    hash_key = f"{seed % 10**16:016d}"  # SipHash takes a 16-character key
    return pd.util.hash_pandas_object(keys.astype(str), index=False, hash_key=hash_key).to_numpy()


def _judge_cells(answers: pd.DataFrame, judge: JudgeGrades | None) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the judge's grade (NaN: not judged) and whether it passes."""
    if judge is None:
        nan = np.full(len(answers), np.nan)
        return nan, np.zeros(len(answers), dtype=bool)
    grade = answers.key.map(lambda k: judge.scores.get(k, np.nan)).to_numpy(float)
    return grade, grade >= judge.pass_score


def _checks_cells(checks: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Per row: how many checks failed, and how many essential (critical) checks failed."""
    failed = np.fromiter((sum(not c[1] for c in cs) for cs in checks), dtype=int, count=len(checks))
    essential = np.fromiter((sum(not c[1] and c[2] for c in cs) for cs in checks), dtype=int, count=len(checks))
    return failed, essential


def _separating(answers: pd.DataFrame, top_two: tuple[str | None, str | None]) -> pd.Series:
    """Per row: the question's |mean score difference| between the top two when the row is one of theirs and
    the difference is at least :data:`SEPARATES_MIN_DIFF`; else NaN."""
    first, second = top_two
    out = pd.Series(np.nan, index=answers.index)
    if not first or not second or first == second:
        return out
    means = (
        answers[answers.candidate.isin([first, second])]
        .dropna(subset=["score"])
        .groupby(["set_id", "question_id", "candidate"])
        .score.mean()
        .unstack("candidate")
    )
    if first not in means or second not in means:
        return out
    diff = (means[first] - means[second]).abs().dropna()
    diff = diff[diff >= SEPARATES_MIN_DIFF]
    if diff.empty:
        return out
    mine = answers.candidate.isin([first, second])
    index = pd.MultiIndex.from_frame(answers[["set_id", "question_id"]])
    looked = diff.reindex(index).to_numpy(float)
    return out.where(~mine, pd.Series(looked, index=answers.index))


def reason_table(
    answers: pd.DataFrame, judge: JudgeGrades | None, top_two: tuple[str | None, str | None], threshold: float
) -> pd.DataFrame:  # fmt: skip
    """Per answer row: one bool column per reason tag and ``closeness`` (smaller: nearer the line, or a larger
    difference between the top two); the answers frame's index.

    ``answers`` needs ``key, candidate, set_id, question_id, ok, score, acceptable, checks``;
    ``threshold`` is the plan's ``rubric_pass_threshold`` (used where an answer has no essential check).
    """
    ok = answers.ok.to_numpy(bool)
    score = answers.score.to_numpy(float)
    scored = ok & ~np.isnan(score)
    accepted = answers.acceptable.fillna(False).to_numpy(bool)
    grade, passes = _judge_cells(answers, judge)
    judged = scored & ~np.isnan(grade)
    failed, essential_failed = _checks_cells(answers.checks)
    has_verdict = answers.essentials.notna().to_numpy(bool) if "essentials" in answers else np.zeros(len(ok), bool)
    score_near = np.abs(np.nan_to_num(score, nan=-9.0) - threshold) <= SCORE_NEAR
    rubric_near = scored & (
        (accepted & ((failed > 0) | (score < 1.0)))
        | (~accepted & has_verdict & (essential_failed == 1))
        | (~has_verdict & score_near)
    )
    judge_near = np.zeros(len(ok), dtype=bool)
    judge_gap = np.full(len(ok), np.inf)
    if judge is not None:
        gap = np.abs(grade - judge.pass_score)
        judge_near = judged & (gap <= max(1.0, JUDGE_NEAR_SHARE * (judge.scale - 1)))
        judge_gap = np.where(judged, gap / max(1, judge.scale - 1), np.inf)
    separates = _separating(answers, top_two).to_numpy(float)
    rubric_gap = np.where(scored, np.abs(score - threshold), np.inf)
    table = pd.DataFrame(
        {
            DISAGREE: judged & (passes != accepted),
            NEAR_LINE: rubric_near | judge_near,
            SEPARATES: ~np.isnan(separates),
            COVERAGE: np.ones(len(ok), dtype=bool),
        },
        index=answers.index,
    )
    # the first reason's own measure: disagreement and the line by distance to it, separation by -difference
    near = np.minimum(rubric_gap, judge_gap)
    closeness = np.where(table[DISAGREE] | table[NEAR_LINE], near, np.where(table[SEPARATES], -separates, 0.0))
    # coverage: failed requests after answers (nothing to judge in a missing answer)
    return table.assign(closeness=np.where(table[SEPARATES] | table[DISAGREE] | table[NEAR_LINE], closeness,
                                           np.where(ok, 0.0, 1.0)))  # fmt: skip


def review_queue(
    answers: pd.DataFrame, *, judge: JudgeGrades | None, top_two: tuple[str | None, str | None], threshold: float,
    reviewed: Mapping[str, int], n: int, seed: int, overlap: int = 0,
) -> ReviewQueue:  # fmt: skip
    """The first ``n`` answers of ``answers`` (the decision variant's answers frame) to grade, best first.

    Rows whose ``ok`` is false (failed requests: nothing to read) are never queued but count in
    ``ReviewQueue.answers``. ``reviewed``: generation key -> how many people graded it; ``overlap``:
    how many of those to put first anyway (default none: they go last). Deterministic for ``seed``.
    Raises ``ValueError`` for a negative ``n`` or ``overlap``.
    """
    if n < 0 or overlap < 0:
        raise ValueError(f"n ({n}) and overlap ({overlap}) must not be negative")
    seen = answers.key.map(lambda k: reviewed.get(k, 0)).to_numpy(int) if len(answers) else np.zeros(0, int)
    if answers.empty:
        return ReviewQueue([], 0, 0, seed)
    table = reason_table(answers, judge, top_two, threshold)
    flags = table[list(REASONS)].to_numpy(bool)
    order = pd.DataFrame(
        {
            "tier": flags.argmax(axis=1),
            "count": -flags.sum(axis=1),
            "closeness": table.closeness.to_numpy(float),
            "tie": order_key(answers.key, seed),
            "stratum": answers.candidate.astype(str) + "\x00" + answers.set_id.astype(str),
            "seen": seen > 0,
        }
    ).reset_index(drop=True)
    priority = ["tier", "count", "closeness", "tie"]
    order = order.sort_values(priority, kind="stable")
    # a group per kind of answer: 0 the overlap (already graded, put first), 1 ungraded, 2 the other graded
    graded_rank = order.groupby("seen").cumcount().where(order.seen, -1)
    order["group"] = np.where(~order.seen, 1, np.where(graded_rank < overlap, 0, 2))
    order["round"] = order.groupby(["group", "stratum"]).cumcount()
    if "ok" in answers:  # a failed request has no answer to read (and is not acceptable already)
        order = order[answers.ok.fillna(False).astype(bool).to_numpy()[order.index]]
    order = order.sort_values(["group", "round", *priority], kind="stable").head(n)
    items = [_item(answers.iloc[i], flags[i], int(seen[i])) for i in order.index]
    return ReviewQueue(items, len(answers), int((seen > 0).sum()), seed)


def _item(row: Any, flags: np.ndarray, reviewed_by: int) -> QueueItem:
    reasons = tuple(r for r, on in zip(REASONS, flags, strict=True) if on)
    if len(reasons) > 1:  # coverage only when nothing else applies
        reasons = tuple(r for r in reasons if r != COVERAGE)
    return QueueItem(
        key=str(row["key"]), candidate=str(row["candidate"]), variant=str(row["variant"]), set_id=str(row["set_id"]),
        question_id=str(row["question_id"]), sample=int(row["sample"]), reasons=reasons, reviewed_by=reviewed_by,
    )  # fmt: skip


def reviewed_counts(keys: list[str]) -> dict[str, int]:
    """Generation key -> how many grades name it (``keys``: each grade's key, one per (reviewer, answer))."""
    out: dict[str, int] = {}
    for k in keys:
        out[k] = out.get(k, 0) + 1
    return out
