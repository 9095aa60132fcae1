"""Statistics for the LLM-as-judge (pure): position bias, pairwise rankings, judge reliability.

Conventions. A pairwise verdict is ``"A"``, ``"B"`` or ``"tie"`` as *positions shown to the
judge*, ``None`` when the judge's reply did not parse. A pairwise outcome is
``(candidate_x, candidate_y, result)`` with ``result`` in ``{"x", "y", "tie"}``. Unparsed
values are dropped pair-wise and the count kept is returned, so a rate is never shown
without the number of items behind it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Outcome = tuple[str, str, str]

_UNSWAP = {"A": "B", "B": "A", "tie": "tie"}
_COMBINED = {"A": "first", "B": "second", "tie": "tie"}
_X_SHARE = {"x": 1.0, "y": 0.0, "tie": 0.5}  # x's share of one comparison: a tie is half a win
_PSEUDO_GAMES = 0.1  # phantom games per pair that met, added only when the MLE does not exist


def _verdict(verdict: str) -> str:
    if verdict not in _UNSWAP:
        raise ValueError(f"verdict {verdict!r} is not one of 'A', 'B', 'tie' (or None when unparsed)")
    return verdict


def _unswap(verdict: str) -> str:
    return _UNSWAP[_verdict(verdict)]


def _x_share(result: str) -> float:
    if result not in _X_SHARE:
        raise ValueError(f"result {result!r} is not one of 'x', 'y', 'tie'")
    return _X_SHARE[result]


def swap_consistency(pairs: Sequence[tuple[str | None, str | None]]) -> tuple[float | None, int]:
    """Share of items whose verdict survives swapping the answer order, and how many items count.

    Each item is (verdict with the answers in order AB, verdict in order BA). The BA verdict is
    un-swapped (A<->B, tie stays) so both name the same answer; the item agrees when they are
    equal. Items with either verdict unparsed are left out: a parse failure is not position bias.
    """
    agree = [_verdict(ab) == _unswap(ba) for ab, ba in pairs if ab is not None and ba is not None]
    return (sum(agree) / len(agree) if agree else None), len(agree)


def combine_orders(v_ab: str | None, v_ba: str | None) -> str | None:
    """Final verdict for (first, second) from both presentation orders: "first", "second" or "tie".

    In order AB the first candidate is shown as A; in order BA as B, so ``v_ba`` is un-swapped.
    A preference that flips with the order is the judge's position bias, not a preference, so
    disagreement counts as "tie". None when either verdict is unparsed.
    """
    if v_ab is None or v_ba is None:
        return None
    ab, ba = _verdict(v_ab), _unswap(v_ba)
    return _COMBINED[ab] if ab == ba else "tie"


def win_rates(outcomes: Sequence[Outcome]) -> dict[str, float]:
    """Per candidate: (wins + 0.5 * ties) / comparisons it took part in."""
    points: dict[str, float] = {}
    games: dict[str, int] = {}
    for x, y, result in outcomes:
        share = _x_share(result)
        for name, score in ((x, share), (y, 1.0 - share)):
            points[name] = points.get(name, 0.0) + score
            games[name] = games.get(name, 0) + 1
    return {name: points[name] / games[name] for name in sorted(games)}


def _names(outcomes: Sequence[Outcome]) -> list[str]:
    return sorted({x for x, _, _ in outcomes} | {y for _, y, _ in outcomes})


def _win_matrix(outcomes: Sequence[Outcome], index: dict[str, int]) -> np.ndarray:
    """wins[i, j] = wins of i over j, a tie counting half a win for each side."""
    wins = np.zeros((len(index), len(index)))
    for x, y, result in outcomes:
        if x == y:
            raise ValueError(f"outcome ({x!r}, {y!r}, {result!r}) compares a candidate with itself")
        i, j = index[x], index[y]
        share = _x_share(result)
        wins[i, j] += share
        wins[j, i] += 1.0 - share
    return wins


def _mle_exists(wins: np.ndarray, games: np.ndarray) -> bool:
    """Hunter's (2004) Assumption 1 within each set of candidates linked by comparisons.

    For every pair that met, each can be reached from the other by a chain of wins (a tie is a
    half win both ways). It fails when a candidate never wins, never loses, or a group always
    beats another; the likelihood then grows without bound as strengths drift apart.
    """
    reach = (wins > 0) | np.eye(len(wins), dtype=bool)
    for _ in range(len(wins)):
        step = (reach.astype(np.int64) @ reach.astype(np.int64)) > 0
        if np.array_equal(step, reach):
            break
        reach = step
    return bool(reach[games > 0].all())


def _fit(wins: np.ndarray, iterations: int, tol: float) -> np.ndarray:
    """MM iteration p_i <- W_i / sum_j n_ij / (p_i + p_j), geometric mean kept at 1."""
    games = wins + wins.T
    if not _mle_exists(wins, games):
        wins = wins + _PSEUDO_GAMES / 2 * (games > 0)
        games = wins + wins.T
    total_wins = wins.sum(axis=1)
    strength = np.ones(len(wins))
    for _ in range(iterations):
        new = total_wins / (games / (strength[:, None] + strength[None, :])).sum(axis=1)
        new /= np.exp(np.log(new).mean())
        step = np.abs(np.log(new) - np.log(strength)).max()
        strength = new
        if step < tol:
            break
    return strength


def bradley_terry(outcomes: Sequence[Outcome], iterations: int = 1000, tol: float = 1e-9) -> dict[str, float]:
    """Bradley–Terry strengths p, P(i beats j) = p_i / (p_i + p_j), by MM (Hunter 2004).

    Ties count as half a win for each side. Strengths are normalised to geometric mean 1; they
    compare only within a set of candidates linked by comparisons. At the fixed point each
    candidate's expected wins, sum_j n_ij * p_i / (p_i + p_j), equal its observed wins.

    When no finite fit exists (see ``_mle_exists``: a candidate that never wins, one that never
    loses, a group that always beats another), every pair that met gets 0.1 phantom games split
    as a tie (0.05 win each way), so all strengths stay finite and a never-winner lands far below
    the rest instead of at 0. Padding only the never-winner would leave the other cases diverging.
    The fit then matches observed plus phantom totals. ``tol`` bounds the last step in log-strength.
    """
    names = _names(outcomes)
    if not names:
        return {}
    strength = _fit(_win_matrix(outcomes, {n: i for i, n in enumerate(names)}), iterations, tol)
    return {name: float(s) for name, s in zip(names, strength, strict=True)}


def bt_scores_elo(strengths: dict[str, float]) -> dict[str, float]:
    """Elo-like points for display: 400 * log10(strength) + 1000 (geometric mean 1 -> 1000)."""
    return {name: _elo(s) for name, s in strengths.items()}


def _elo(strength: float) -> float:
    return 400.0 * float(np.log10(strength)) + 1000.0


def bootstrap_bradley_terry(
    outcomes_by_item: Sequence[Sequence[Outcome]],
    resamples: int,
    seed: int,
    level: float = 0.95,
    iterations: int = 1000,
    tol: float = 1e-9,
) -> dict[str, tuple[float, float, float]]:
    """Per candidate (Elo-like point estimate on all items, low, high): percentile bootstrap.

    Items (questions) are resampled with replacement, not single comparisons, because a
    question's comparisons share its difficulty and are not independent. A candidate missing
    from a resample is left out of that resample's fit (whose scale is then set by those present);
    (point, nan, nan) if it is always missing. A percentile interval need not contain the point.
    """
    if resamples < 1 or not 0.0 < level < 1.0:
        raise ValueError(f"need resamples >= 1 and 0 < level < 1, got {resamples} and {level}")
    names = _names([o for item in outcomes_by_item for o in item])
    if not names:
        return {}
    index = {n: i for i, n in enumerate(names)}
    per_item = np.stack([_win_matrix(item, index) for item in outcomes_by_item])
    point = bt_scores_elo(bradley_terry([o for item in outcomes_by_item for o in item], iterations, tol))
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {n: [] for n in names}
    for _ in range(resamples):
        counts = np.bincount(rng.integers(0, len(per_item), len(per_item)), minlength=len(per_item))
        wins = np.tensordot(counts, per_item, axes=1)
        present = (wins + wins.T).sum(axis=1) > 0
        strength = _fit(wins[np.ix_(present, present)], iterations, tol)
        for name, s in zip(np.array(names)[present], strength, strict=True):
            draws[str(name)].append(_elo(float(s)))
    tail = (1.0 - level) / 2
    out: dict[str, tuple[float, float, float]] = {}
    for name in names:
        low, high = np.quantile(draws[name], [tail, 1 - tail]) if draws[name] else (np.nan, np.nan)
        out[name] = (point[name], float(low), float(high))
    return out


def cohen_kappa(a: Sequence[bool], b: Sequence[bool]) -> float | None:
    """Cohen's kappa (p_o - p_e) / (1 - p_e) for two binary raters on the same items.

    p_o is the observed agreement, p_e = p_a p_b + (1 - p_a)(1 - p_b) the agreement expected
    from each rater's own rate of True. None with no items or when p_e == 1 (both raters
    constant and equal), where agreement carries no information. Computed on counts in
    integers (κ = (n·agree − e) / (n² − e), e = yes_a·yes_b + no_a·no_b), so a κ of exactly 0
    (one rater constant, for one) comes out as 0.0, not as rounding noise.
    """
    pairs = list(zip(a, b, strict=True))
    n = len(pairs)
    if not n:
        return None
    yes_a, yes_b = sum(bool(x) for x, _ in pairs), sum(bool(y) for _, y in pairs)
    agree = sum(bool(x) == bool(y) for x, y in pairs)
    expected = yes_a * yes_b + (n - yes_a) * (n - yes_b)
    return None if expected >= n * n else (n * agree - expected) / (n * n - expected)


def pearson(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Pearson's r; None with fewer than 3 pairs or when either side is constant."""
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(xs) != len(ys):
        raise ValueError(f"x and y differ in length: {len(xs)} and {len(ys)}")
    if len(xs) < 3:
        return None
    dx, dy = xs - xs.mean(), ys - ys.mean()
    sxx, syy = float(dx @ dx), float(dy @ dy)
    return None if sxx == 0.0 or syy == 0.0 else float(dx @ dy) / float(np.sqrt(sxx * syy))


def _average_ranks(values: Sequence[float]) -> np.ndarray:
    """1-based ranks; tied values share the mean of the ranks they span."""
    _, inverse, counts = np.unique(np.asarray(values, dtype=float), return_inverse=True, return_counts=True)
    return (np.cumsum(counts) - (counts - 1) / 2.0)[inverse]


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman's rho: Pearson's r of average ranks (correct with ties); None as for ``pearson``."""
    if len(x) != len(y):
        raise ValueError(f"x and y differ in length: {len(x)} and {len(y)}")
    return pearson(_average_ranks(x).tolist(), _average_ranks(y).tolist())


def retest_agreement(pairs: Sequence[tuple[float | None, float | None]]) -> dict[str, float | int | None]:
    """Judge score vs the same judge re-run on the same answer, over pairs with both parsed.

    ``exact``: share equal; ``within_1``: share with |diff| <= 1 (one rubric point);
    ``mean_abs_diff``; ``n``. Rates are None when n == 0.
    """
    diffs = np.array([abs(a - b) for a, b in pairs if a is not None and b is not None], dtype=float)
    if len(diffs) == 0:
        return {"exact": None, "within_1": None, "mean_abs_diff": None, "n": 0}
    return {
        "exact": float(np.mean(diffs == 0)),
        "within_1": float(np.mean(diffs <= 1)),
        "mean_abs_diff": float(diffs.mean()),
        "n": len(diffs),
    }


def length_bias(scores: Sequence[float], lengths_chars: Sequence[int]) -> float | None:
    """Pearson's r of judge score with answer length in characters (verbosity bias if > 0)."""
    return pearson(scores, [float(n) for n in lengths_chars])


def longer_wins_share(outcomes_with_lengths: Sequence[tuple[int, int, str]]) -> tuple[float | None, int]:
    """Among decisive results ("x" or "y") between answers of different length, the share the
    longer answer won, and how many such results; an unbiased judge sits near 0.5."""
    longer_won = [
        (result == "x") == (len_x > len_y)
        for len_x, len_y, result in outcomes_with_lengths
        if _x_share(result) != 0.5 and len_x != len_y
    ]
    return (sum(longer_won) / len(longer_won) if longer_won else None), len(longer_won)


def injection_effect(clean: Sequence[float | None], attacked: Sequence[float | None]) -> dict[str, float | int | None]:
    """Judge score of the same answer without and with an injected instruction, paired.

    Over pairs with both parsed: ``moved_up`` share where attacked > clean, ``mean_increase``
    mean(attacked - clean), ``n``. Rates are None when n == 0.
    """
    rise = np.array(
        [a - c for c, a in zip(clean, attacked, strict=True) if c is not None and a is not None], dtype=float
    )
    if len(rise) == 0:
        return {"moved_up": None, "mean_increase": None, "n": 0}
    return {"moved_up": float(np.mean(rise > 0)), "mean_increase": float(rise.mean()), "n": len(rise)}
