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

import numpy as np


@dataclass(frozen=True)
class Bounds:
    """Percentile interval of one column's resampled weighted mean."""

    low: float
    high: float


def percentile_bootstrap(
    values: np.ndarray, weights: np.ndarray, resamples: int, rng: np.random.Generator, level: float = 0.95
) -> list[Bounds]:  # fmt: skip
    """Percentile bootstrap intervals of the weighted mean of each column of ``values``.

    ``values``: (n,) or (n, m) floats, rows are questions; ``weights``: (n,) floats
    with a positive sum. Every column is resampled with the same draws of rows (one
    ``rng.integers(0, n, size=(resamples, n))`` call), so the intervals of several
    metrics describe the same hypothetical question sets, and a caller that goes on
    to use ``rng`` (a permutation test) continues from the same state as before.
    Returns one ``Bounds`` per column. Raises ``ValueError`` when ``n < 2``: one
    question has no spread to resample, and the caller says "no interval" instead.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    n = values.shape[0]
    if n < 2:
        raise ValueError(f"a bootstrap needs at least 2 questions, got {n}")
    idx = rng.integers(0, n, size=(resamples, n))
    w = np.asarray(weights, dtype=float)[idx]
    totals = w.sum(axis=1)
    tail = (1 - level) / 2 * 100
    out = []
    for j in range(values.shape[1]):
        boot = (values[:, j][idx] * w).sum(axis=1) / totals
        low, high = np.percentile(boot, [tail, 100 - tail])
        out.append(Bounds(float(low), float(high)))
    return out
