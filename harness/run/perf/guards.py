"""Validity guards of one load level (pure): did it measure the server, or the client?

Three questions, each answered from what the load generator recorded:

- **Dispatch** (rate levels): was each request sent when the Poisson schedule said? A
  client that falls behind sends later and fewer at once, and hides exactly the queueing
  the rate was meant to cause (coordinated omission). Reported as the delay p50/p99/max and
  the count of sends more than :data:`LATE_SEND_MS` late.
- **Client CPU**: the client processes' CPU seconds over the level's wall time per worker;
  above :data:`CPU_SATURATED` the client, not the server, set the pace.
- **Over-saturation**: the median TTFT of the last third of the requests (in send order) is
  :data:`GROWTH_FACTOR` x that of the first third and at least :data:`GROWTH_MIN_MS` more:
  the server's queue was still growing when the level ended, so its figures depend on the
  level's length, and any higher rate can only do worse (the sweep stops there). At a
  concurrency level the queue is bounded by the concurrency, so this only marks the level.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

import numpy as np

from harness.records import LevelGuards

LATE_SEND_MS = 10.0
CPU_SATURATED = 0.9
GROWTH_FACTOR = 2.0
GROWTH_MIN_MS = 500.0


def dispatch_delays_ms(started: Sequence[float], due: Sequence[float | None]) -> list[float]:
    """Send minus schedule (ms) of every request that had a schedule (``time.perf_counter`` s both)."""
    return [(s - d) * 1000 for s, d in zip(started, due, strict=True) if d is not None and s]


def ttft_growth(started: Sequence[float], ttft_ms: Sequence[float | None]) -> tuple[float | None, float]:
    """(last third's median TTFT / first third's, their difference in ms); (None, 0) under 6 answers."""
    pairs = sorted((s, t) for s, t in zip(started, ttft_ms, strict=True) if t is not None)
    k = len(pairs) // 3
    if k < 2:
        return None, 0.0
    first = statistics.median(t for _, t in pairs[:k])
    last = statistics.median(t for _, t in pairs[-k:])
    return (last / first if first > 0 else None), last - first


def guards(kind: str, started: Sequence[float], due: Sequence[float | None], ttft_ms: Sequence[float | None],
           wall_s: float, workers: int, cpu_s: float | None) -> LevelGuards:  # fmt: skip
    """The guards of one level from per-request send times, schedules and TTFTs (same order)."""
    delays = dispatch_delays_ms(started, due)
    arr = np.asarray(delays, dtype=float)
    dispatch: dict[str, float | None] = (
        {"p50": float(np.percentile(arr, 50)), "p99": float(np.percentile(arr, 99)), "max": float(arr.max())}
        if arr.size else {}
    )  # fmt: skip
    late = int((arr > LATE_SEND_MS).sum())
    frac = cpu_s / (wall_s * workers) if cpu_s is not None and wall_s > 0 and workers > 0 else None
    growth, grown_ms = ttft_growth(started, ttft_ms)
    over = growth is not None and growth >= GROWTH_FACTOR and grown_ms >= GROWTH_MIN_MS
    problems = []
    if late:
        problems.append(f"{late} of {len(delays)} requests sent > {LATE_SEND_MS:g} ms behind schedule "
                        f"(p99 {dispatch['p99']:.0f} ms): the client fell behind")  # fmt: skip
    if frac is not None and frac >= CPU_SATURATED:
        problems.append(f"client CPU {frac:.0%} of {workers} process(es): the client may have set the pace")
    if over:
        problems.append(f"TTFT grew {growth:.1f}x through the level (+{grown_ms:.0f} ms): over-saturated")
    return LevelGuards(workers=workers, client_cpu_s=cpu_s, client_cpu_frac=frac, dispatch_delay_ms=dispatch,
                       late_sends=late, ttft_growth=growth, oversaturated=over, problems=problems)  # fmt: skip
