"""Agreement statistics for human review (pure): Wilson intervals, confusion counts, Krippendorff's alpha.

Cohen's kappa and Spearman's rho live in :mod:`harness.rollup.judge_stats` and are reused, not redefined.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Z_95 = 1.959963984540054
"""The standard normal's 97.5% quantile: a two-sided 95% interval."""


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float] | None:
    """Wilson's score interval (Wilson 1927, "Probable inference, the law of succession, and statistical
    inference", JASA 22:209-212) for a proportion ``successes / n``: (low, high) in [0, 1]; None when n == 0.

    centre = (p + z^2/(2n)) / (1 + z^2/n); half width = z / (1 + z^2/n) * sqrt(p(1-p)/n + z^2/(4n^2)).
    Unlike the normal (Wald) interval it stays inside [0, 1] and is not zero-width at 0 or n successes,
    which matters with the few answers people review. Raises ValueError unless 0 <= successes <= n.
    """
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got {successes} of {n}")
    if n == 0:
        return None
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Confusion:
    """Machine verdict (rubric or judge) against people's: counts of answers."""

    tp: int
    """Machine acceptable, people acceptable."""
    fp: int
    """Machine acceptable, people not: a false pass."""
    fn: int
    """Machine not acceptable, people acceptable: a false fail."""
    tn: int
    """Neither acceptable."""

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def precision(self) -> float | None:
        """tp / (tp + fp): of the answers the machine calls acceptable, the share people accept; None with none."""
        called = self.tp + self.fp
        return self.tp / called if called else None


def confusion(machine: Sequence[bool], human: Sequence[bool]) -> Confusion:
    """Confusion counts of paired verdicts (same answers, same order); ValueError when the lengths differ."""
    if len(machine) != len(human):
        raise ValueError(f"machine and human verdicts differ in length: {len(machine)} and {len(human)}")
    pairs = list(zip(map(bool, machine), map(bool, human), strict=True))
    return Confusion(
        tp=sum(m and h for m, h in pairs),
        fp=sum(m and not h for m, h in pairs),
        fn=sum(h and not m for m, h in pairs),
        tn=sum(not m and not h for m, h in pairs),
    )


Level = Literal["nominal", "interval"]


def _delta(a: float, b: float, level: Level) -> float:
    if level == "nominal":
        return 0.0 if a == b else 1.0
    return (a - b) ** 2


def krippendorff_alpha(units: Sequence[Sequence[float | None]], level: Level) -> tuple[float | None, int]:
    """Krippendorff's alpha = 1 - D_o / D_e and the number of pairable units, for any number of coders.

    ``units``: one sequence per unit (an answer) of the values its coders gave (None: that coder gave
    none). Units with fewer than two values cannot be paired and are dropped. With m_u values in unit u
    and n = sum of m_u over pairable units (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability",
    sections on the coincidence matrix):

        D_o = 1/n * sum_u 1/(m_u - 1) * sum_{i != j in u} delta(v_i, v_j)
        D_e = 1/(n (n - 1)) * sum_{i != j over all pairable values} delta(v_i, v_j)

    ``delta`` is 0/1 for unequal values (``nominal``) or the squared difference (``interval``).
    Alpha is None with no pairable unit or when every value is the same (D_e == 0: no variation to agree on).
    """
    if level not in ("nominal", "interval"):
        raise ValueError(f"level must be 'nominal' or 'interval', got {level!r}")
    pairable = [vals for u in units if len(vals := [float(v) for v in u if v is not None]) >= 2]
    if not pairable:
        return None, 0
    n = sum(len(u) for u in pairable)
    observed = (
        sum(
            sum(_delta(a, b, level) for i, a in enumerate(u) for j, b in enumerate(u) if i != j) / (len(u) - 1)
            for u in pairable
        )
        / n
    )
    pooled = [v for u in pairable for v in u]
    counts: dict[float, int] = {}
    for v in pooled:
        counts[v] = counts.get(v, 0) + 1
    # sum over ordered pairs of distinct values (by position) = sum over value pairs n_c n_k delta(c, k)
    values = list(counts)
    expected = sum(counts[c] * counts[k] * _delta(c, k, level) for c in values for k in values) / (n * (n - 1))
    if expected == 0:
        return None, len(pairable)
    return 1.0 - observed / expected, len(pairable)
