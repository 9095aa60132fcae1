"""Percentile bootstrap over questions (pure): the one resampling every interval in the report uses.

The unit resampled is the question (a row), since that is what varies when the
question set changes. Each resample draws ``n`` rows with replacement; the
statistic is the weighted mean of each column over the drawn rows (a row drawn
twice counts twice, with its weight). The interval is the ``(1 - level) / 2`` and
``1 - (1 - level) / 2`` percentiles of the resampled means (numpy's default
linear interpolation).

Computed as a matrix product: with ``counts[r, i]`` the times row ``i`` is drawn in
resample ``r``, resample ``r``'s weighted mean is ``counts[r] @ (v * w) / counts[r] @ w``,
the same sum as over the drawn rows, added in another order (the two differ by a few
units in the last place, below 1e-15 for means in [0, 1]; ``tests/rollup/test_bootstrap.py``
pins this against the plain definition). One product serves every column, one more the weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class Bounds:
    """Percentile interval of one column's resampled weighted mean."""

    low: float
    high: float


def bootstrap_draws(n: int, resamples: int, seed: int) -> np.ndarray:
    """The resampled row indices, ``resamples x n`` ints in [0, n): the first draws of ``default_rng(seed)``
    (the roll-up keeps their :func:`bootstrap_counts`)."""
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def resample_counts(draws: np.ndarray) -> np.ndarray:
    """``resamples x n`` floats: ``counts[r, i]`` is how many times resample ``r`` of ``draws`` drew row ``i``."""
    resamples, n = draws.shape
    offsets = np.arange(resamples, dtype=np.int64)[:, None] * n  # resample r's rows in [r * n, (r + 1) * n)
    return np.bincount((draws + offsets).ravel(), minlength=resamples * n).reshape(resamples, n).astype(float)


@lru_cache(maxsize=16)
def bootstrap_counts(n: int, resamples: int, seed: int) -> np.ndarray:
    """:func:`resample_counts` of :func:`bootstrap_draws` ``(n, resamples, seed)``, cached and read-only in its
    place: every model of a run is resampled over the same ``n`` questions with the same seed, so 20 models
    share one matrix (32 MB at 2,000 x 2,000, as the draws took)."""
    counts = resample_counts(bootstrap_draws(n, resamples, seed))
    counts.flags.writeable = False
    return counts


def percentile_bootstrap(
    values: np.ndarray, weights: np.ndarray, draws: np.ndarray, level: float = 0.95
) -> list[Bounds]:
    """Percentile bootstrap intervals of the weighted mean of each column of ``values``.

    ``values``: (n,) or (n, m) floats, rows are questions; ``weights``: (n,) floats with a
    positive sum; ``draws``: ``resamples x n`` row indices (:func:`bootstrap_draws`, or the
    first draws of a generator a caller goes on using). Every column is resampled with the
    same draws, so the intervals of several metrics describe the same hypothetical question
    sets. Returns one ``Bounds`` per column. Raises ``ValueError`` when ``n < 2``: one
    question has no spread to resample, and the caller says "no interval" instead.
    """
    return percentile_bootstrap_counts(values, weights, resample_counts(np.asarray(draws)), level)


def percentile_bootstrap_counts(
    values: np.ndarray, weights: np.ndarray, counts: np.ndarray, level: float = 0.95
) -> list[Bounds]:
    """:func:`percentile_bootstrap` with the draws given as their ``resamples x n`` :func:`resample_counts`
    (:func:`bootstrap_counts`, cached); the same ``values``, ``weights``, result and ``ValueError``."""
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    n = values.shape[0]
    if n < 2:
        raise ValueError(f"a bootstrap needs at least 2 questions, got {n}")
    w = np.asarray(weights, dtype=float)
    boot = (counts @ (values * w[:, None])) / (counts @ w)[:, None]  # resamples x columns
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(boot, [tail, 100 - tail], axis=0)
    return [Bounds(float(lo), float(hi)) for lo, hi in zip(low, high, strict=True)]
