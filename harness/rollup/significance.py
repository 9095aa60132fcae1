"""Paired significance over the same questions (pure).

Two models answered the same questions, so their scores are paired: a question
that is hard for one tends to be hard for the other. Testing the per-question
differences removes that shared difficulty and detects much smaller gaps than
comparing two independent intervals (Miller, "Adding Error Bars to Evals", 2024).

- The difference is the question-weighted mean of ``a - b``.
- Its interval is a percentile bootstrap over questions (the unit that varies
  when the question set changes), like every interval in the report.
- Its p-value is a two-sided paired sign-flip permutation test: under "no
  difference" each question's difference is as likely to have either sign.
- The minimum detectable difference (MDD) is the smallest true gap the test
  finds with the stated power at level alpha, given the spread of the paired
  differences and the (weight-effective) number of questions:
  ``(z[1 - alpha/2] + z[power]) * sd / sqrt(n_eff)``, ``n_eff = (sum w)^2 / sum w^2``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist

import numpy as np
import pandas as pd

from harness.rollup.bootstrap import percentile_bootstrap_counts, resample_counts

ALPHA = 0.05
POWER = 0.80


@dataclass(frozen=True)
class PairedDiff:
    """``a - b`` over the questions both answered."""

    n: int
    """Questions in the comparison (both sides scored)."""
    diff: float | None
    """Question-weighted mean of a - b."""
    low: float | None
    high: float | None
    """Percentile-bootstrap interval of ``diff`` (None with fewer than 2 questions)."""
    p_value: float | None
    """Two-sided paired sign-flip permutation p-value."""
    sd_diff: float | None
    """Weighted standard deviation of the per-question differences."""
    mdd: float | None
    """Smallest true difference detectable at ``ALPHA`` with ``POWER`` for this n and spread."""


def effective_n(weights: np.ndarray) -> float:
    """Kish's effective sample size of a weighted mean: (sum w)^2 / sum w^2."""
    total = float(weights.sum())
    squares = float((weights**2).sum())
    return total * total / squares if squares > 0 else 0.0


def weighted_sd(values: np.ndarray, weights: np.ndarray) -> float:
    """Standard deviation with frequency-style weights, corrected by the effective n."""
    mean = np.average(values, weights=weights)
    var = float(np.average((values - mean) ** 2, weights=weights))
    n_eff = effective_n(weights)
    return math.sqrt(var * n_eff / (n_eff - 1)) if n_eff > 1 else 0.0


def min_detectable_difference(sd: float, n_eff: float, alpha: float = ALPHA, power: float = POWER) -> float | None:
    """(z[1-alpha/2] + z[power]) * sd / sqrt(n_eff): the normal-approximation MDD of a paired test."""
    if n_eff < 2:
        return None
    z = NormalDist()
    return (z.inv_cdf(1 - alpha / 2) + z.inv_cdf(power)) * sd / math.sqrt(n_eff)


SIGNS = np.array([-1.0, 1.0])
"""The sign-flip test's draws: each difference keeps or flips its sign."""


def sign_flip_p_value(diffs: np.ndarray, weights: np.ndarray, resamples: int, rng: np.random.Generator) -> float:
    """Two-sided p-value of the weighted mean difference under random sign flips.

    ``(1 + #{|T*| >= |T|}) / (1 + resamples)``, so it is never 0 (Phipson & Smyth, 2010).
    With every difference 0 it is 1.
    """
    return _flip_p_value(diffs, weights, rng.choice(SIGNS, size=(resamples, len(diffs))))


def _flip_p_value(diffs: np.ndarray, weights: np.ndarray, signs: np.ndarray) -> float:
    """:func:`sign_flip_p_value` with its ``resamples x n`` signs (-1.0 or 1.0) drawn."""
    resamples = len(signs)
    observed = abs(float((weights * diffs).sum()))
    flipped = np.abs(signs @ (weights * diffs))
    tolerance = 1e-12 * max(1.0, observed)
    return float((1 + np.count_nonzero(flipped >= observed - tolerance)) / (1 + resamples))


@lru_cache(maxsize=4)
def _paired_draws(n: int, resamples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """What :func:`paired_difference` draws from ``default_rng(seed)``, in order: the bootstrap's
    ``resamples x n`` item indices (returned as their :func:`~harness.rollup.bootstrap.resample_counts`),
    then the sign-flip test's ``resamples x n`` signs.

    Cached (read-only): comparing 20 models with the best over the same n questions and the
    same seed draws the same matrices each time (32 MB each at 2,000 x 2,000).
    """
    rng = np.random.default_rng(seed)
    counts = resample_counts(rng.integers(0, n, size=(resamples, n)))
    signs = rng.choice(SIGNS, size=(resamples, n))
    counts.flags.writeable = False
    signs.flags.writeable = False
    return counts, signs


def paired_difference(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    weights: Sequence[float] | np.ndarray | None = None,
    resamples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> PairedDiff:
    """Compare two models' per-question scores ``a`` and ``b`` (same order, same questions)."""
    av = np.asarray(a, dtype=float)
    bv = np.asarray(b, dtype=float)
    if av.shape != bv.shape:
        raise ValueError(f"paired scores differ in length: {av.shape} vs {bv.shape}")
    w = np.ones_like(av) if weights is None else np.asarray(weights, dtype=float)
    n = len(av)
    if n == 0:
        return PairedDiff(0, None, None, None, None, None, None)
    d = av - bv
    diff = float(np.average(d, weights=w))
    if n == 1:
        return PairedDiff(1, diff, None, None, None, None, None)
    counts, signs = _paired_draws(n, resamples, seed)
    (bounds,) = percentile_bootstrap_counts(d, w, counts, level)
    sd = weighted_sd(d, w)
    return PairedDiff(
        n=n,
        diff=diff,
        low=bounds.low,
        high=bounds.high,
        p_value=_flip_p_value(d, w / w.sum(), signs),
        sd_diff=sd,
        mdd=min_detectable_difference(sd, effective_n(w)),
    )


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm-Bonferroni adjusted p-values (None stays None), controlling the family-wise error rate.

    Comparing every model against the best is several tests at once; without the
    adjustment one of five ties would look significant one time in four.
    """
    present = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    m = len(present)
    out: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(present):
        running = max(running, min(1.0, (m - rank) * p))
        out[i] = running
    return out


def aligned_scores(questions: pd.DataFrame, a: str, b: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Question scores of candidates a and b over the questions both have, and the questions' weights."""
    keys = ["set_id", "question_id"]
    left = questions.loc[questions.candidate == a, [*keys, "score", "weight"]]
    right = questions.loc[questions.candidate == b, [*keys, "score"]]
    both = left.merge(right, on=keys, suffixes=("_a", "_b"))
    return both.score_a.to_numpy(float), both.score_b.to_numpy(float), both.weight.to_numpy(float)


def versus_best(questions: pd.DataFrame, names: list[str], resamples: int, seed: int) -> pd.DataFrame:
    """Each candidate against the one with the best mean question score, paired over shared questions.

    ``diff`` is candidate - best (so <= 0); p-values are Holm-adjusted over the comparisons;
    ``significant`` is False where the gap could be noise. The best has no test of its own.
    """
    means = {n: _weighted_mean(questions[questions.candidate == n]) for n in names}
    scored = [n for n in names if means[n] is not None]
    if not scored:
        return pd.DataFrame(columns=VERSUS_COLUMNS)
    best = max(scored, key=lambda n: means[n])  # type: ignore[arg-type,return-value]
    rows = []
    for name in scored:
        if name == best:
            rows.append({"candidate": name, "best": best, "is_best": True})
            continue
        d = paired_difference(*aligned_scores(questions, name, best), resamples=resamples, seed=seed)
        rows.append({"candidate": name, "best": best, "is_best": False, "n": d.n, "diff": d.diff,
                     "diff_low": d.low, "diff_high": d.high, "p_value": d.p_value, "mdd": d.mdd})  # fmt: skip
    out = pd.DataFrame(rows).reindex(columns=VERSUS_COLUMNS)
    adjusted = holm([None if pd.isna(p) else float(p) for p in out.p_value])
    out["p_holm"] = adjusted
    out["significant"] = [None if p is None else bool(p < ALPHA) for p in adjusted]
    return out


VERSUS_COLUMNS = ["candidate", "best", "is_best", "n", "diff", "diff_low", "diff_high", "p_value", "mdd",
                  "p_holm", "significant"]  # fmt: skip


def _weighted_mean(q: pd.DataFrame) -> float | None:
    return float(np.average(q.score, weights=q.weight)) if len(q) else None
