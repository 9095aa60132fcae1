"""Prompt strategies (pure): how much each model gains from few-shot examples, a role, or retrieved context.

Gains are measured against the first ``zero_shot`` variant (else the first variant).
The base model is chosen once, but it is then used with prompts and retrieval: a
model a little worse zero-shot and much better with the policy text in front of
it may be the better base. Per candidate and variant: the rubric score with its
interval; the gain of each variant over the first (baseline) variant, paired over
the same questions, its p-value Holm-adjusted over every gain in the table; pass^k;
for context variants, faithfulness to the material and the retrieval hit rate.
And per variant, the model that gains most.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.records import Variant
from harness.rollup.frames import bootstrap_means, question_frame
from harness.rollup.significance import ALPHA, aligned_scores, holm, paired_difference

VARIANT_COLUMNS = [
    "candidate", "variant", "kind", "questions", "score", "low", "high", "pass_hat_k",
    "gain", "gain_low", "gain_high", "gain_p", "gain_p_holm", "gain_significant", "faithful", "context_hit",
]  # fmt: skip


@dataclass(frozen=True)
class StrategySummary:
    table: pd.DataFrame
    """One row per candidate x variant (plan order)."""
    top_gainers: dict[str, tuple[str, float, bool]]
    """Per non-baseline variant: (candidate with the largest gain, its gain, significant)."""
    baseline: str


def _mean(values: pd.Series) -> float | None:
    v = values.dropna()
    return float(v.mean()) if len(v) else None


def _holm_adjusted(table: pd.DataFrame) -> pd.DataFrame:
    """Fill ``gain_p_holm`` and ``gain_significant``: every gain in the table is one family of tests.

    The table is read as a whole (and its top gainer is the largest of several gains), so
    the family is every (candidate, non-baseline variant) test in it, Holm-adjusted like the
    comparisons against the best model.
    """
    adjusted = holm([None if pd.isna(p) else float(p) for p in table.gain_p])
    return table.assign(
        gain_p_holm=adjusted, gain_significant=[None if p is None else bool(p < ALPHA) for p in adjusted]
    )


def variant_table(
    answers: pd.DataFrame, stability: pd.DataFrame, names: list[str], variants: list[Variant],
    resamples: int, seed: int,
) -> StrategySummary:  # fmt: skip
    """Quality, stability, faithfulness and gain of every (candidate, variant); ``stability`` is
    :func:`harness.rollup.stability.question_stability` of ``answers`` (one row per variant of a question)."""
    baseline = next((v.name for v in variants if v.kind == "zero_shot"), variants[0].name)
    questions = question_frame(answers.assign(candidate=answers.candidate + "\x1f" + answers.variant))
    rows = []
    for name in names:
        for v in variants:
            arm = f"{name}\x1f{v.name}"
            q = questions[questions.candidate == arm]
            s = stability[(stability.candidate == name) & (stability.variant == v.name) & stability.pass_hat_k.notna()]
            (ci,) = bootstrap_means(q.score.to_numpy(float), q.weight.to_numpy(float), resamples, seed)
            mine = answers[(answers.candidate == name) & (answers.variant == v.name)]
            row = {
                "candidate": name, "variant": v.name, "kind": v.kind, "questions": len(q),
                "score": ci.mean, "low": ci.low, "high": ci.high,
                "pass_hat_k": float(np.average(s.pass_hat_k, weights=s.weight)) if len(s) else None,
                "faithful": _mean(mine.faithful) if v.kind == "with_context" else None,
                "context_hit": _mean(mine.context_hit.dropna().astype(float)) if v.kind == "with_context" else None,
            }  # fmt: skip
            if v.name != baseline and len(q):
                d = paired_difference(*aligned_scores(questions, arm, f"{name}\x1f{baseline}"), resamples=resamples,
                                      seed=seed)  # fmt: skip
                row.update(gain=d.diff, gain_low=d.low, gain_high=d.high, gain_p=d.p_value)
            rows.append(row)
    table = _holm_adjusted(pd.DataFrame(rows).reindex(columns=VARIANT_COLUMNS))
    top: dict[str, tuple[str, float, bool]] = {}
    for v in variants:
        if v.name == baseline:
            continue
        gains = table[(table.variant == v.name) & table.gain.notna()]
        if len(gains):
            best = gains.loc[gains.gain.idxmax()]
            top[v.name] = (str(best.candidate), float(best.gain), bool(best.gain_significant))
    return StrategySummary(table, top, baseline)
