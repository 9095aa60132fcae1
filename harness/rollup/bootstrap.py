"""Percentile bootstrap over questions (pure): the one resampling every interval in the report uses.

The unit resampled is the question (a row), since that is what varies when the
question set changes. Each resample draws ``n`` rows with replacement; the
statistic is the weighted mean of each column over the drawn rows (a row drawn
twice counts twice, with its weight). The interval is the ``(1 - level) / 2`` and
``1 - (1 - level) / 2`` percentiles of the resampled means (numpy's default
linear interpolation).
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


@lru_cache(maxsize=16)
def bootstrap_draws(n: int, resamples: int, seed: int) -> np.ndarray:
    """The resampled row indices, ``resamples x n`` ints in [0, n): the first draws of ``default_rng(seed)``.

    Cached and read-only: every model of a run is resampled over the same ``n`` questions with the
    same seed, so 20 models share one matrix instead of drawing 20 (32 MB at 2,000 x 2,000).
    """
    idx = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    idx.flags.writeable = False
    return idx


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
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    n = values.shape[0]
    if n < 2:
        raise ValueError(f"a bootstrap needs at least 2 questions, got {n}")
    w = np.asarray(weights, dtype=float)
    totals = w[draws].sum(axis=1)
    tail = (1 - level) / 2 * 100
    out = []
    for j in range(values.shape[1]):
        boot = (values[:, j] * w)[draws].sum(axis=1) / totals  # = (v[idx] * w[idx]).sum(1), one gather less
        low, high = np.percentile(boot, [tail, 100 - tail])
        out.append(Bounds(float(low), float(high)))
    return out
