"""Judge statistics: small cases computed by hand (arithmetic in the comments), and edge cases."""

from __future__ import annotations

import math

import pytest

from harness.rollup import judge_stats as stats

# --------------------------------------------------------------------------
# Position bias
# --------------------------------------------------------------------------


def test_swap_consistency_unswaps_ba_and_drops_unparsed() -> None:
    pairs = [
        ("A", "B"),  # BA "B" is A -> agrees
        ("A", "A"),  # BA "A" is B -> disagrees (position bias)
        ("tie", "tie"),  # agrees
        (None, "A"),  # dropped
        ("B", None),  # dropped
    ]
    assert stats.swap_consistency(pairs) == (pytest.approx(2 / 3), 3)


def test_swap_consistency_edges() -> None:
    assert stats.swap_consistency([]) == (None, 0)
    assert stats.swap_consistency([(None, None), ("A", None)]) == (None, 0)
    assert stats.swap_consistency([("tie", "tie")] * 4) == (1.0, 4)
    with pytest.raises(ValueError, match="'C'"):
        stats.swap_consistency([("C", "A")])


@pytest.mark.parametrize(
    ("v_ab", "v_ba", "expected"),
    [
        ("A", "B", "first"),  # first shown as A, then as B: chosen both times
        ("B", "A", "second"),
        ("A", "A", "tie"),  # always the first position: a flip, not a preference
        ("tie", "tie", "tie"),
        ("A", "tie", "tie"),  # disagreement
        (None, "A", None),
        ("A", None, None),
    ],
)
def test_combine_orders(v_ab: str | None, v_ba: str | None, expected: str | None) -> None:
    assert stats.combine_orders(v_ab, v_ba) == expected


def test_combine_orders_rejects_unknown_verdict() -> None:
    with pytest.raises(ValueError):
        stats.combine_orders("A", "first")


# --------------------------------------------------------------------------
# Win rates and Bradley–Terry
# --------------------------------------------------------------------------


def test_win_rates() -> None:
    outcomes = [("a", "b", "x"), ("a", "c", "tie"), ("b", "c", "y")]
    # a: (1 win + 0.5 tie) / 2 = 0.75; b: 0 / 2 = 0; c: (0.5 + 1) / 2 = 0.75
    assert stats.win_rates(outcomes) == {"a": 0.75, "b": 0.0, "c": 0.75}
    assert stats.win_rates([]) == {}
    assert stats.win_rates([("a", "b", "tie")] * 3) == {"a": 0.5, "b": 0.5}
    with pytest.raises(ValueError):
        stats.win_rates([("a", "b", "A")])


def games(x: str, y: str, x_wins: int, y_wins: int) -> list[tuple[str, str, str]]:
    return [(x, y, "x")] * x_wins + [(x, y, "y")] * y_wins


THREE = games("A", "B", 3, 1) + games("B", "C", 3, 1) + games("A", "C", 3, 1)


def test_bradley_terry_two_players_closed_form() -> None:
    # A beats B 3:1 -> p_A / p_B = 3 and p_A * p_B = 1 -> p_A = sqrt(3), p_B = 1/sqrt(3)
    p = stats.bradley_terry(games("A", "B", 3, 1))
    assert p["A"] == pytest.approx(math.sqrt(3)) and p["B"] == pytest.approx(1 / math.sqrt(3))
    # Elo-like: 400 * log10(sqrt 3) + 1000 = 1000 + 200 * log10(3) = 1095.42
    elo = stats.bt_scores_elo(p)
    assert elo["A"] == pytest.approx(1000 + 200 * math.log10(3))
    assert elo["B"] == pytest.approx(1000 - 200 * math.log10(3))


def test_bradley_terry_three_players_reproduces_observed_wins() -> None:
    p = stats.bradley_terry(THREE)
    assert p["A"] > p["B"] > p["C"]
    assert math.prod(p.values()) == pytest.approx(1.0)  # geometric mean 1
    # MM fixed point: expected wins sum_j n_ij p_i / (p_i + p_j) equal observed wins,
    # A: 3 + 3 = 6, B: 1 + 3 = 4, C: 1 + 1 = 2; every pair met 4 times.
    observed = {"A": 6, "B": 4, "C": 2}
    for i in p:
        expected = sum(4 * p[i] / (p[i] + p[j]) for j in p if j != i)
        assert expected == pytest.approx(observed[i], abs=1e-6)


def test_bradley_terry_ties_are_half_wins() -> None:
    assert stats.bradley_terry([("a", "b", "tie")] * 5) == {"a": pytest.approx(1.0), "b": pytest.approx(1.0)}
    # 1 win + 2 ties for a vs 2 ties for b: 2 : 1 in half-wins -> p_a / p_b = 2
    p = stats.bradley_terry([("a", "b", "x"), ("a", "b", "tie"), ("a", "b", "tie")])
    assert p["a"] / p["b"] == pytest.approx(2.0)


def test_bradley_terry_pseudo_count_keeps_fit_finite() -> None:
    # B never wins: no finite MLE. Phantom 0.1 game as a tie -> A 2.05 : B 0.05 -> ratio 41.
    p = stats.bradley_terry(games("A", "B", 2, 0))
    assert p["A"] == pytest.approx(math.sqrt(41)) and p["B"] == pytest.approx(1 / math.sqrt(41))
    # A three-tier ladder (A > B > C always) and two groups where one always beats the other.
    ladder = stats.bradley_terry(games("A", "B", 3, 0) + games("B", "C", 3, 0) + games("A", "C", 3, 0))
    assert ladder["A"] > ladder["B"] > ladder["C"] > 0 and all(map(math.isfinite, ladder.values()))
    groups = games("A", "B", 2, 1) + games("C", "D", 2, 1) + games("A", "C", 2, 0) + games("B", "D", 2, 0)
    assert all(math.isfinite(s) and s > 0 for s in stats.bradley_terry(groups).values())


def test_bradley_terry_edges() -> None:
    assert stats.bradley_terry([]) == {}
    with pytest.raises(ValueError, match="itself"):
        stats.bradley_terry([("a", "a", "x")])


def items() -> list[list[tuple[str, str, str]]]:
    """Ten questions, each with comparisons among three candidates."""
    out = []
    for q in range(10):
        out.append([("A", "B", "x" if q % 4 else "y"), ("B", "C", "x" if q % 3 else "tie"), ("A", "C", "x")])
    return out


def test_bootstrap_reproducible_and_contains_point() -> None:
    first = stats.bootstrap_bradley_terry(items(), resamples=200, seed=7)
    assert first == stats.bootstrap_bradley_terry(items(), resamples=200, seed=7)
    assert first != stats.bootstrap_bradley_terry(items(), resamples=200, seed=8)
    point = stats.bt_scores_elo(stats.bradley_terry([o for item in items() for o in item]))
    for name, (estimate, low, high) in first.items():
        assert estimate == pytest.approx(point[name])
        assert low <= estimate <= high
    assert first["A"][0] > first["B"][0] > first["C"][0]


def test_bootstrap_edges() -> None:
    assert stats.bootstrap_bradley_terry([], resamples=10, seed=0) == {}
    assert stats.bootstrap_bradley_terry([[], []], resamples=10, seed=0) == {}
    with pytest.raises(ValueError):
        stats.bootstrap_bradley_terry(items(), resamples=0, seed=0)
    # One item: every resample is that item, so the interval collapses to the point.
    (estimate, low, high) = stats.bootstrap_bradley_terry([games("A", "B", 3, 1)], resamples=5, seed=0)["A"]
    assert low == pytest.approx(estimate) and high == pytest.approx(estimate)


# --------------------------------------------------------------------------
# Agreement and correlation
# --------------------------------------------------------------------------


def test_cohen_kappa_classic_table() -> None:
    # 2x2 table [[20, 5], [10, 15]] (rows: rater a yes/no; columns: rater b yes/no), n = 50.
    # p_o = (20 + 15) / 50 = 0.7; p_a = 25/50 = 0.5; p_b = 30/50 = 0.6
    # p_e = 0.5 * 0.6 + 0.5 * 0.4 = 0.5; kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4
    a = [True] * 25 + [False] * 25
    b = [True] * 20 + [False] * 5 + [True] * 10 + [False] * 15
    assert stats.cohen_kappa(a, b) == pytest.approx(0.4)


def test_cohen_kappa_edges() -> None:
    assert stats.cohen_kappa([], []) is None
    assert stats.cohen_kappa([True] * 3, [True] * 3) is None  # p_e = 1
    assert stats.cohen_kappa([True, False], [True, False]) == pytest.approx(1.0)
    assert stats.cohen_kappa([True, False], [False, True]) == pytest.approx(-1.0)
    with pytest.raises(ValueError):
        stats.cohen_kappa([True], [True, False])


def test_pearson() -> None:
    # x = 1,2,3; y = 1,2,4: dx = -1,0,1; dy = -4/3,-1/3,5/3
    # sxy = 4/3 + 5/3 = 3; sxx = 2; syy = (16 + 1 + 25) / 9 = 14/3; r = 3 / sqrt(28/3) = 0.98198
    assert stats.pearson([1, 2, 3], [1, 2, 4]) == pytest.approx(3 / math.sqrt(28 / 3))
    assert stats.pearson([1, 2], [1, 2]) is None  # fewer than 3 pairs
    assert stats.pearson([1, 1, 1], [1, 2, 3]) is None  # zero variance
    with pytest.raises(ValueError):
        stats.pearson([1, 2, 3], [1, 2])


def test_spearman_with_ties() -> None:
    # x = 1,2,2,3 -> ranks 1, 2.5, 2.5, 4; y = 1,3,2,4 -> ranks 1,3,2,4; both mean 2.5
    # dx = -1.5,0,0,1.5; dy = -1.5,0.5,-0.5,1.5; sxy = 4.5; sxx = 4.5; syy = 5
    # rho = 4.5 / sqrt(4.5 * 5) = 3 / sqrt(10) = 0.94868
    assert stats.spearman([1, 2, 2, 3], [1, 3, 2, 4]) == pytest.approx(3 / math.sqrt(10))
    assert stats.spearman([1, 2, 3, 4], [1, 8, 27, 64]) == pytest.approx(1.0)  # monotone, not linear
    assert stats.spearman([1, 2], [2, 1]) is None
    assert stats.spearman([5, 5, 5], [1, 2, 3]) is None  # all tied: zero rank variance


def test_retest_agreement() -> None:
    pairs = [(3.0, 3.0), (4.0, 5.0), (2.0, 4.0), (None, 3.0), (5.0, None)]
    # kept |diff| = 0, 1, 2 -> exact 1/3, within_1 2/3, mean 1
    assert stats.retest_agreement(pairs) == {
        "exact": pytest.approx(1 / 3),
        "within_1": pytest.approx(2 / 3),
        "mean_abs_diff": pytest.approx(1.0),
        "n": 3,
    }
    assert stats.retest_agreement([(None, 1.0)]) == {"exact": None, "within_1": None, "mean_abs_diff": None, "n": 0}


# --------------------------------------------------------------------------
# Biases and attacks
# --------------------------------------------------------------------------


def test_length_bias() -> None:
    # same as pearson(1,2,3 ; 1,2,4) once lengths are scaled: r = 3 / sqrt(28/3)
    assert stats.length_bias([1, 2, 4], [100, 200, 300]) == pytest.approx(3 / math.sqrt(28 / 3))
    assert stats.length_bias([1, 2, 3], [50, 50, 50]) is None


def test_longer_wins_share() -> None:
    outcomes = [
        (100, 50, "x"),  # longer won
        (100, 50, "y"),  # shorter won
        (30, 60, "y"),  # longer won
        (80, 80, "x"),  # same length: dropped
        (10, 20, "tie"),  # not decisive: dropped
    ]
    assert stats.longer_wins_share(outcomes) == (pytest.approx(2 / 3), 3)
    assert stats.longer_wins_share([]) == (None, 0)
    assert stats.longer_wins_share([(1, 2, "tie")]) == (None, 0)


def test_injection_effect() -> None:
    clean = [3.0, 4.0, None, 5.0, 2.0]
    attacked = [5.0, 4.0, 3.0, None, 1.0]
    # kept rises: +2, 0, -1 -> moved_up 1/3, mean_increase 1/3
    assert stats.injection_effect(clean, attacked) == {
        "moved_up": pytest.approx(1 / 3),
        "mean_increase": pytest.approx(1 / 3),
        "n": 3,
    }
    assert stats.injection_effect([], []) == {"moved_up": None, "mean_increase": None, "n": 0}
    with pytest.raises(ValueError):
        stats.injection_effect([1.0], [1.0, 2.0])
