"""The harness's load generator: replay prompts at a concurrency level or a Poisson rate.

Like ``vllm bench serve``: with a request rate, arrivals follow a Poisson
process (exponential gaps, seeded) and are not capped; with a concurrency
level, that many requests are in flight at all times. Per-request timings come
from the same streaming client the candidates are evaluated with, so the
numbers describe the exact path the answers took.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from harness.records import RequestTiming, timing_fields
from harness.run.client import ModelClient, Request, Result


@dataclass(frozen=True)
class Level:
    """One load level: ``concurrency`` in-flight requests, or ``rate`` requests/s (Poisson)."""

    kind: str  # "concurrency" | "rate"
    value: float

    @property
    def id(self) -> str:
        return f"c{self.value:g}" if self.kind == "concurrency" else f"r{self.value:g}"


@dataclass
class LevelRun:
    level: Level
    results: list[Result]
    started_at: float
    wall_s: float


def timing(r: Result) -> RequestTiming:
    """The record of one request's timings (no text: load-test answers are not scored)."""
    return RequestTiming(**timing_fields(r))


def poisson_offsets_s(n: int, rate_per_s: float, seed: int) -> list[float]:
    """Arrival times (s after start) of ``n`` requests at ``rate_per_s``; the first arrives at 0."""
    gaps = np.random.default_rng(seed).exponential(1.0 / rate_per_s, size=n)
    gaps[0] = 0.0
    return np.cumsum(gaps).tolist()


async def run_level(
    client: ModelClient, requests: list[Request], level: Level, seed: int = 0, on_done: Callable[[], None] | None = None
) -> LevelRun:
    """Send every request at ``level``; the wall time spans the first send to the last answer."""
    started_at = time.time()
    t0 = time.perf_counter()
    results: list[Result | None] = [None] * len(requests)

    async def one(i: int, req: Request) -> None:
        results[i] = await client.generate(req)
        if on_done:
            on_done()

    if level.kind == "concurrency":
        sem = asyncio.Semaphore(int(level.value))

        async def capped(i: int, req: Request) -> None:
            async with sem:
                await one(i, req)

        await asyncio.gather(*(capped(i, r) for i, r in enumerate(requests)))
    else:
        offsets = poisson_offsets_s(len(requests), level.value, seed)

        async def scheduled(i: int, req: Request) -> None:
            await asyncio.sleep(max(0.0, offsets[i] - (time.perf_counter() - t0)))
            await one(i, req)

        await asyncio.gather(*(scheduled(i, r) for i, r in enumerate(requests)))
    return LevelRun(level, [r for r in results if r is not None], started_at, time.perf_counter() - t0)
