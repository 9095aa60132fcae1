"""Stability across repeated samples (pure).

An operator who asks the same question twice must get an acceptable answer both
times. With ``samples: k`` answers per question, a sample is *acceptable* when its
rubric verdict accepts it (every essential check passes, :func:`harness.rollup.frames.acceptable`); then per question:

- ``pass@k``: at least one of k samples acceptable (what a best-of-k system could reach);
- ``pass^k``: all k samples acceptable (what a user relying on any one answer gets every time);
- a *flip*: some samples acceptable, some not; the question's outcome is a coin toss;
- the score spread: max - min of the sample scores.

With n >= k samples the unbiased estimators are used: pass@k = 1 - C(n-c, k)/C(n, k)
(Chen et al., 2021, "Evaluating Large Language Models Trained on Code") and
pass^k = C(c, k)/C(n, k) (Yao et al., 2024, tau-bench), c = acceptable samples.
Each question is one of "stable right" (c = n), "stable wrong" (c = 0) or "flips",
so a stable wrong answer and an unstable right one are both visible.
"""

from __future__ import annotations

from math import comb

import numpy as np
import pandas as pd

from harness.rollup.frames import acceptable, bootstrap_means

STABLE_RIGHT = "stable right"
STABLE_WRONG = "stable wrong"
FLIPS = "flips"
STATUSES = (STABLE_RIGHT, FLIPS, STABLE_WRONG)

QUESTION_KEYS = ["candidate", "set_id", "question_id"]


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of k samples drawn from n (c acceptable) is acceptable."""
    _check(n, c, k)
    return 1.0 - comb(n - c, k) / comb(n, k)


def pass_hat_k(n: int, c: int, k: int) -> float:
    """Probability that all k samples drawn from n (c acceptable) are acceptable."""
    _check(n, c, k)
    return comb(c, k) / comb(n, k)


def _check(n: int, c: int, k: int) -> None:
    if not (0 <= c <= n and 1 <= k <= n):
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")


def question_stability(answers: pd.DataFrame, threshold: float, k: int) -> pd.DataFrame:
    """One row per (candidate, set, question[, variant]) with a rubric score: samples, acceptable, spread, status.

    With a ``variant`` column (several prompt variants), each variant of a question is its own row.

    ``pass_at_k``/``pass_hat_k`` are NaN for questions with fewer than k scored samples
    (a missing answer is not a sample); failed requests are scored 0 upstream and count.
    """
    keys = [*QUESTION_KEYS, "variant"] if "variant" in answers.columns else QUESTION_KEYS
    scored = answers.dropna(subset=["score"])
    if scored.empty:
        return pd.DataFrame(
            columns=[*keys, "category", "weight", "n", "c", "score", "score_min", "score_max",
                     "spread", "distinct_answers", "status", "pass_at_k", "pass_hat_k"]
        )  # fmt: skip
    frame = scored.assign(acceptable=acceptable(scored, threshold))
    grouped = frame.groupby(keys, sort=False)
    q = grouped.agg(
        category=("category", "first"),
        weight=("weight", "first"),
        n=("score", "size"),
        c=("acceptable", "sum"),
        score=("score", "mean"),
        score_min=("score", "min"),
        score_max=("score", "max"),
        distinct_answers=("text", "nunique"),
    ).reset_index()
    q["c"] = q.c.astype(int)
    q["spread"] = q.score_max - q.score_min
    q["status"] = np.select([q.c == q.n, q.c == 0], [STABLE_RIGHT, STABLE_WRONG], default=FLIPS)
    q["pass_at_k"] = [pass_at_k(n, c, k) if n >= k else np.nan for n, c in zip(q.n, q.c, strict=True)]
    q["pass_hat_k"] = [pass_hat_k(n, c, k) if n >= k else np.nan for n, c in zip(q.n, q.c, strict=True)]
    return q


def model_stability(
    qstab: pd.DataFrame, names: list[str], k: int, resamples: int, seed: int
) -> pd.DataFrame:  # fmt: skip
    """Per candidate: pass@1, pass@k, pass^k (with 95% bootstrap intervals over questions),
    flip rate, mean spread, shares of stable-right and stable-wrong questions, and the rank by pass^k.

    Flip rate and spread need two samples; with ``samples: 1`` they are None.
    """
    rows = []
    for name in names:
        mine = qstab[(qstab.candidate == name) & qstab.pass_hat_k.notna()]
        if mine.empty:
            rows.append({"candidate": name, "stability_questions": 0})
            continue
        w = mine.weight.to_numpy(float)
        values = np.column_stack(
            [(mine.c / mine.n).to_numpy(float), mine.pass_at_k.to_numpy(float), mine.pass_hat_k.to_numpy(float)]
        )
        pass1, passk, hatk = bootstrap_means(values, w, resamples, seed)
        multi = k >= 2
        rows.append({
            "candidate": name,
            "stability_questions": len(mine),
            "pass_at_1": pass1.mean,
            "pass_at_k": passk.mean, "pass_at_k_low": passk.low, "pass_at_k_high": passk.high,
            "pass_hat_k": hatk.mean, "pass_hat_k_low": hatk.low, "pass_hat_k_high": hatk.high,
            "flip_rate": float(np.average(mine.status == FLIPS, weights=w)) if multi else None,
            "mean_spread": float(np.average(mine.spread, weights=w)) if multi else None,
            "stable_right": float(np.average(mine.status == STABLE_RIGHT, weights=w)),
            "stable_wrong": float(np.average(mine.status == STABLE_WRONG, weights=w)),
            "same_answer_share": float(np.average(mine.distinct_answers == 1, weights=w)) if multi else None,
        })  # fmt: skip
    out = pd.DataFrame(rows)
    if "pass_hat_k" in out:
        out["stability_rank"] = out.pass_hat_k.rank(ascending=False, method="min")
    return out
