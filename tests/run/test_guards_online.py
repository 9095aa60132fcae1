"""The online over-saturation stop (pure): hand-built answer series of servers that keep up and that do not."""

from __future__ import annotations

import numpy as np
import pytest

from harness.run.perf.guards import Completion, oversaturation, slope


def first_trip(samples: list[Completion]) -> float | None:
    """The time of the first answer after which the stop trips, judged after every answer as the load generator does."""
    for k in range(1, len(samples) + 1):
        if oversaturation(samples[:k], samples[k - 1].t_s):
            return samples[k - 1].t_s
    return None


def fifo(sends: list[float], service_s: float, ttft_s: float) -> list[Completion]:
    """One-at-a-time server: each request waits for the one before, then takes ``service_s``
    (its first token at ``ttft_s``)."""
    out, free = [], 0.0
    for i, sent in enumerate(sends):
        begin = max(sent, free)
        free = begin + service_s
        in_flight = sum(s <= free for s in sends) - (i + 1)
        out.append(Completion(free, (begin - sent + ttft_s) * 1000, in_flight))
    return out


def test_slope_of_a_line_is_exact_with_no_error() -> None:
    assert slope([0, 1, 2, 3], [1, 3, 5, 7]) == (pytest.approx(2.0), pytest.approx(0.0))
    assert slope([1, 1, 1], [1, 2, 3])[1] == float("inf")  # one x: no slope


def test_a_growing_queue_trips_the_stop_by_12_seconds() -> None:
    """10 requests/s to a server that answers 5/s: in flight grows ~5/s and each answer waits ~0.1 s longer.

    At 10 s (the minimum time) 50 answers are back: the first third waited ~0.8 s, the last ~3.3 s: >2x, +>500 ms.
    """
    samples = fifo([i / 10 for i in range(600)], service_s=0.2, ttft_s=0.05)
    t = first_trip(samples)
    assert t is not None and 10.0 <= t <= 12.0
    reason = oversaturation(samples[:55], samples[54].t_s)
    assert reason is not None and "over-saturated after 11 s" in reason and "in flight grew" in reason


def test_a_server_that_keeps_up_never_trips_it() -> None:
    """Poisson arrivals at 5/s, each answered in 1 s with the others batched alongside: in flight hovers
    around 5 for 10 minutes, TTFT stays 100 ms."""
    sends = np.cumsum(np.random.default_rng(7).exponential(0.2, size=3000)).tolist()
    samples = [Completion(s + 1.0, 100.0, sum(s2 <= s + 1.0 for s2 in sends[i : i + 40]) - 1)
               for i, s in enumerate(sends)]  # fmt: skip
    assert max(c.in_flight for c in samples) > 5  # it really fluctuates
    assert all(oversaturation(samples[:k], samples[k - 1].t_s) is None for k in range(20, len(samples), 50))


def test_a_concurrency_level_with_slow_answers_does_not_trip_it() -> None:
    """16 in flight throughout, TTFT tripling as the server warms its cache the wrong way: the queue does not grow."""
    samples = [Completion(0.5 * i, 100.0 + 10.0 * i, 16) for i in range(200)]
    assert first_trip(samples) is None


def test_a_short_burst_does_not_trip_it() -> None:
    """40 requests at once to the 5/s server: the queue and the waits grow, but all is answered in 8 s."""
    samples = fifo([0.0] * 40, service_s=0.2, ttft_s=0.05)
    assert samples[-1].t_s == pytest.approx(8.0) and first_trip(samples) is None


def test_a_growing_queue_with_flat_ttft_does_not_trip_it() -> None:
    """In flight grows but each first token comes as fast as ever (the server streams more at once): both must grow."""
    samples = [Completion(0.1 * i, 100.0, i // 2) for i in range(300)]
    assert first_trip(samples) is None
