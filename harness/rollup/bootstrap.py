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
units in the last place, below 1e-15 for means in [0, 1]; ``tests/test_shared_pieces.py``
pins this against the plain definition). One product serves every column.
"""

from __future__ import annotations

from collections import OrderedDict
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


COUNTS_CACHED = 16
"""Count matrices kept (:func:`resample_counts`), as many as :func:`bootstrap_draws` keeps draws: one per
read-only draws matrix in use (32 MB at 2,000 x 2,000; a category of 100 questions 1.6 MB)."""
_counts_cache: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()


def resample_counts(draws: np.ndarray) -> np.ndarray:
    """``resamples x n`` floats: ``counts[r, i]`` is how many times resample ``r`` of ``draws`` drew row ``i``.

    A read-only ``draws`` (:func:`bootstrap_draws` and the paired test's cached draws) has its
    counts cached, keyed by the array itself (held, so its identity stays its own), for the
    ``COUNTS_CACHED`` most recent; a writable one is counted afresh, since it may change.
    """
    key = id(draws)
    hit = _counts_cache.get(key)
    if hit is not None and hit[0] is draws:
        _counts_cache.move_to_end(key)
        return hit[1]
    resamples, n = draws.shape
    offsets = np.arange(resamples, dtype=np.int64)[:, None] * n  # resample r's rows in [r * n, (r + 1) * n)
    counts = np.bincount((draws + offsets).ravel(), minlength=resamples * n).reshape(resamples, n).astype(float)
    if not draws.flags.writeable:
        counts.flags.writeable = False
        _counts_cache[key] = (draws, counts)
        while len(_counts_cache) > COUNTS_CACHED:
            _counts_cache.popitem(last=False)
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
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    n = values.shape[0]
    if n < 2:
        raise ValueError(f"a bootstrap needs at least 2 questions, got {n}")
    w = np.asarray(weights, dtype=float)
    counts = resample_counts(draws)
    boot = (counts @ (values * w[:, None])) / (counts @ w)[:, None]  # resamples x columns
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(boot, [tail, 100 - tail], axis=0)
    return [Bounds(float(lo), float(hi)) for lo, hi in zip(low, high, strict=True)]
