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

The over-saturation question is also asked *while* a level runs (:func:`oversaturation`, on
the answers as they come back): the load generator stops a level that trips it instead of
letting its queue grow for minutes.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from harness.records import LevelGuards
from harness.timing import percentile

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
        {"p50": percentile(delays, 50), "p99": percentile(delays, 99), "max": float(arr.max())} if arr.size else {}
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


# ---------------------------------------------------------------- the online stop (inside a level)

MIN_COMPLETIONS = 20
"""The online stop judges nothing before this many answers have come back."""
MIN_ELAPSED_S = 10.0
"""... nor before this many seconds of the level (a short burst queues, then drains)."""
SLOPE_T = 2.0
"""The in-flight slope must exceed this many standard errors (about a 95 % one-sided t-test from 20 points)."""
MIN_QUEUE_GROWTH = 4.0
"""... and the fitted line must rise by at least this many requests over the samples' span."""


@dataclass(frozen=True)
class Completion:
    """One answer as the load generator saw it come back, while its level ran."""

    t_s: float
    """When the answer ended, seconds after the level started."""
    ttft_ms: float | None
    """Its time to first token (None: failed before a token)."""
    in_flight: int
    """Requests sent and not yet answered at ``t_s``, over every worker."""


def slope(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    """Least-squares slope of ``ys`` on ``xs`` and its standard error; (0, inf) under 3 points or one x."""
    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    if x.size < 3 or np.ptp(x) == 0:
        return 0.0, math.inf
    dx = x - x.mean()
    sxx = float((dx * dx).sum())
    b = float((dx * (y - y.mean())).sum()) / sxx
    resid = y - y.mean() - b * dx
    return b, math.sqrt(float((resid * resid).sum()) / (x.size - 2) / sxx)


def oversaturation(samples: Sequence[Completion], elapsed_s: float, *, min_completions: int = MIN_COMPLETIONS,
                   min_elapsed_s: float = MIN_ELAPSED_S) -> str | None:  # fmt: skip
    """Why the level should stop now (the server cannot keep up), or None (pure; ``samples`` in arrival order).

    After the GuideLLM over-saturation detector (vllm-project/guidellm,
    ``docs/guides/over_saturation_stopping.md``: "both concurrent requests and TTFT show
    statistically significant positive slopes", after a minimum duration and a minimum number
    of points); written here from that description, simpler: it trips when, at least
    ``min_elapsed_s`` into the level and with ``min_completions`` answers,

    - the requests in flight grow with time: the least-squares slope over every completion is
      positive by :data:`SLOPE_T` standard errors and the fitted line rises by
      :data:`MIN_QUEUE_GROWTH` requests or more (at a concurrency level the count is capped, so
      a server that keeps up never trips it), and
    - the TTFT of the latest third of the answers is :data:`GROWTH_FACTOR` x that of the first
      third and :data:`GROWTH_MIN_MS` more (:func:`ttft_growth`, the after-the-fact guard's rule).
    """
    if elapsed_s < min_elapsed_s or len(samples) < min_completions:
        return None
    t = [s.t_s for s in samples]
    b, se = slope(t, [s.in_flight for s in samples])
    if not (b > SLOPE_T * se and b * (max(t) - min(t)) >= MIN_QUEUE_GROWTH):
        return None
    growth, grown_ms = ttft_growth(t, [s.ttft_ms for s in samples])
    if growth is None or growth < GROWTH_FACTOR or grown_ms < GROWTH_MIN_MS:
        return None
    return (f"over-saturated after {elapsed_s:.0f} s: requests in flight grew {b:.2f}/s "
            f"and TTFT {growth:.1f}x (+{grown_ms:.0f} ms) over {len(samples)} answers")  # fmt: skip
