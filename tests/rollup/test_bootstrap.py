"""The percentile bootstrap (harness/rollup/bootstrap.py), on cases worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from harness.rollup.bootstrap import (
    bootstrap_counts,
    bootstrap_draws,
    percentile_bootstrap,
    percentile_bootstrap_counts,
    resample_counts,
)

# ---------------------------------------------------------------- percentile bootstrap


def test_bootstrap_percentiles_of_two_equal_questions() -> None:
    # Two questions scoring 0 and 1, equal weights: a resample of two draws has mean 0, 0.5
    # or 1 with probability 1/4, 1/2, 1/4. The 30th and 70th percentiles (level 0.4) both
    # fall inside the middle half, so both bounds are 0.5; at level 0.95 the 2.5th and
    # 97.5th percentiles are the extremes 0 and 1.
    values, weights = np.array([0.0, 1.0]), np.array([1.0, 1.0])
    (middle,) = percentile_bootstrap(values, weights, bootstrap_draws(2, 4000, 0), level=0.4)
    assert (middle.low, middle.high) == (0.5, 0.5)
    (wide,) = percentile_bootstrap(values, weights, bootstrap_draws(2, 4000, 0))
    assert (wide.low, wide.high) == (0.0, 1.0)


def test_bootstrap_weights_count_per_draw() -> None:
    # Weights 3 and 1; each draw picks a question with probability 1/2 (weights do not
    # change the draws, only the mean of what was drawn). Both draws of question 0 give 0
    # (p = 1/4), one of each gives (3 * 0 + 1 * 1) / (3 + 1) = 0.25 (p = 1/2), both of
    # question 1 give 1 (p = 1/4). The 30th and 70th percentiles (level 0.4) fall in the
    # middle half: 0.25, where equal weights would give 0.5.
    (b,) = percentile_bootstrap(np.array([0.0, 1.0]), np.array([3.0, 1.0]), bootstrap_draws(2, 4000, 1), level=0.4)
    assert (b.low, b.high) == (0.25, 0.25)


def test_bootstrap_columns_share_draws_which_are_the_seeds_first() -> None:
    # A column that is twice another has, draw for draw, twice its mean, so twice its bounds
    # (when the two are resampled with the same rows). The draws are the first
    # integers(0, n, (resamples, n)) of default_rng(seed), so a paired test that draws its
    # sign flips next from the same generator continues from where they leave it.
    x = np.random.default_rng(7).random(9)
    a, b = percentile_bootstrap(np.column_stack([x, 2 * x]), np.ones(9), bootstrap_draws(9, 300, 3))
    assert (b.low, b.high) == pytest.approx((2 * a.low, 2 * a.high))
    assert np.array_equal(bootstrap_draws(9, 300, 3), np.random.default_rng(3).integers(0, 9, size=(300, 9)))


def test_bootstrap_by_counts_equals_explicit_resampling() -> None:
    # The plain definition: resample r takes rows draws[r] (with repeats), its statistic is
    # sum(v[rows] * w[rows]) / sum(w[rows]); the bounds are numpy's linear percentiles of those.
    # The count-matrix product adds the same terms in another order: equal to within rounding
    # (1e-12 is thousands of times the float64 error of a 500-term sum of values in [0, 3]).
    rng = np.random.default_rng(11)
    values = np.column_stack([rng.random(500), rng.integers(0, 2, 500).astype(float), 3 * rng.random(500)])
    weights = rng.choice([0.5, 1.0, 2.0], 500)
    draws = bootstrap_draws(500, 700, 5)
    bounds = percentile_bootstrap(values, weights, draws, level=0.9)
    for j, b in enumerate(bounds):
        boot = [(values[rows, j] * weights[rows]).sum() / weights[rows].sum() for rows in draws]
        low, high = np.percentile(boot, [5, 95])
        assert abs(b.low - low) < 1e-12 and abs(b.high - high) < 1e-12
    # The roll-up's cached counts are those of the same draws: the same bounds, to the last digit.
    cached = percentile_bootstrap_counts(values, weights, bootstrap_counts(500, 700, 5), level=0.9)
    assert [(b.low, b.high) for b in cached] == [(b.low, b.high) for b in bounds]


def test_resample_counts_count_each_row_per_resample() -> None:
    # Resample 0 draws rows 2, 2, 0: row 0 once, row 2 twice; resample 1 draws 1, 1, 1.
    counts = resample_counts(np.array([[2, 2, 0], [1, 1, 1]]))
    assert counts.tolist() == [[1.0, 0.0, 2.0], [0.0, 3.0, 0.0]]


def test_bootstrap_refuses_one_question() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        percentile_bootstrap(np.array([1.0]), np.array([1.0]), np.zeros((10, 1), dtype=int))
