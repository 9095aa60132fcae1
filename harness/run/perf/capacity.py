"""SLO capacity found, not guessed (pure): bracket, then bisect, each point repeated.

The capacity of a candidate is the largest concurrency (or Poisson rate) at which a level
still meets the plan's SLOs (``Slo.attainment`` of its requests meet every limit). The
search probes a level ``repeats`` times; the point *passes* when a majority of its runs
meet the SLOs. It doubles from ``start`` until a point fails (the bracket), then bisects
between the highest passing and the lowest failing point until they are ``resolution``
apart (1 for a concurrency; a share of the value for a rate).

The result carries an interval from the repeats: ``lower`` is the highest point whose every
run passed, ``upper`` the lowest point whose every run failed; a point with mixed runs lies
between them, and the estimate is the highest passing point. The search is a state machine
(:class:`CapacitySearch`: :meth:`~CapacitySearch.next_value`, then
:meth:`~CapacitySearch.record`), so the I/O that runs a level stays outside.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Point:
    value: float
    runs: tuple[bool, ...]
    """Whether each repeat met the SLOs."""

    @property
    def passed(self) -> bool:
        return sum(self.runs) * 2 > len(self.runs)


@dataclass(frozen=True)
class Capacity:
    """The search's answer; None bounds when the search never saw a pass (or a fail)."""

    kind: str
    estimate: float | None
    """The highest point that passed (majority of its runs); None when even ``start`` failed."""
    lower: float | None
    """Highest point whose every run passed."""
    upper: float | None
    """Lowest point whose every run failed; None when no point failed up to ``limit``."""
    points: tuple[Point, ...]


@dataclass
class CapacitySearch:
    """Bracket-then-bisect over one load kind (``concurrency``: integers; ``rate``: requests/s)."""

    kind: str
    start: float = 1.0
    limit: float = 1024.0
    """Never probe above this; reaching it without a fail ends the search (upper stays None)."""
    resolution: float = 0.1
    """Rate levels: stop when (fail - pass) <= resolution x pass. Concurrency stops at a gap of 1."""
    points: list[Point] = field(default_factory=list)

    def _passes(self) -> list[float]:
        return [p.value for p in self.points if p.passed]

    def _fails(self) -> list[float]:
        return [p.value for p in self.points if not p.passed]

    def next_value(self) -> float | None:
        """The next level to probe, or None when the search is done."""
        passes, fails = self._passes(), self._fails()
        if not self.points:
            return self.start
        if not fails:  # still bracketing: double
            top = max(passes)
            if top >= self.limit:
                return None
            return min(self._round(top * 2), self.limit)
        lo, hi = max([p for p in passes if p < min(fails)], default=None), min(fails)
        if lo is None:
            return None  # the first point already failed
        if self._close(lo, hi):
            return None
        mid = self._round((lo + hi) / 2)
        return mid if lo < mid < hi else None

    def record(self, value: float, runs: list[bool]) -> None:
        self.points.append(Point(value, tuple(runs)))

    def result(self) -> Capacity:
        fails = self._fails()
        below = [p for p in self.points if not fails or p.value < min(fails)]
        estimate = max((p.value for p in below if p.passed), default=None)
        lower = max((p.value for p in self.points if all(p.runs)), default=None)
        upper = min((p.value for p in self.points if not any(p.runs)), default=None)
        return Capacity(self.kind, estimate, lower, upper, tuple(sorted(self.points, key=lambda p: p.value)))

    def _round(self, v: float) -> float:
        return float(math.floor(v)) if self.kind == "concurrency" else round(v, 3)

    def _close(self, lo: float, hi: float) -> bool:
        return hi - lo <= 1 if self.kind == "concurrency" else hi - lo <= self.resolution * lo


def search(s: CapacitySearch, run: Callable[[float], bool], repeats: int = 3) -> Capacity:
    """Drive ``s`` with ``run(value) -> met the SLOs`` called ``repeats`` times per point."""
    while (v := s.next_value()) is not None:
        s.record(v, [run(v) for _ in range(repeats)])
    return s.result()
