"""The harness's load generator: replay prompts at a concurrency level or a Poisson rate.

Like ``vllm bench serve``: with a request rate, arrivals follow a Poisson
process (exponential gaps, seeded) and are not capped; with a concurrency
level, that many requests are in flight at all times. Per-request timings come
from the same streaming client the candidates are evaluated with, so the
numbers describe the exact path the answers took.

:func:`run_level_workers` is the load generator that keeps up at high chunk rates: the
requests are split over worker processes, each with its own event loop (uvloop when
installed) and an aiohttp client (:class:`~harness.server.fastclient.FastClient`, the
same timing rules), released together by a barrier. A Poisson schedule is drawn once and
dealt out round-robin, so the arrival process is the one a single client would send. Each
answer is reported as it ends (worker processes relay them every :data:`RELAY_S`) to a
:class:`Watch`, which stops the level when its stop test trips (the online over-saturation stop).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
import multiprocessing as mp
import os
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from harness.records import RequestTiming, timing_fields
from harness.run.perf.guards import Completion

if TYPE_CHECKING:
    from harness.run.served import Served
    from harness.server.fastclient import FastClient

from harness import aio
from harness.server.client import ClientConfig, ModelClient, Request, Result, count_missing_tokens
from harness.server.model_server import ModelServer, fast_client
from harness.server.watchdog import ServerGone, until_gone

T = TypeVar("T")


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
    scheduled_mono: list[float | None] = field(default_factory=list)
    """Per result: when its request was due (``time.perf_counter`` s; None at a concurrency level)."""
    workers: int = 1
    cpu_s: float | None = None
    """CPU time (user + system, s) the client's processes spent on the level."""
    stopped: str | None = None
    """Why the level was stopped before every request was answered (the online stop); None when it ran out."""
    unsent: int = 0
    """Requests a stopped level never sent."""
    cut: int = 0
    """Requests a stopped level sent but cancelled before their answer ended (not in ``results``)."""
    indices: list[int] = field(default_factory=list)
    """Per result: the index of its request in the level's requests (a stopped level has gaps)."""


def timing(r: Result) -> RequestTiming:
    """The record of one request's timings (no text: load-test answers are not scored)."""
    return RequestTiming(**timing_fields(r))


def poisson_offsets_s(n: int, rate_per_s: float, seed: int) -> list[float]:
    """Arrival times (s after start) of ``n`` requests at ``rate_per_s``: the first at 0, the last at ``(n-1)/rate``.

    A Poisson process conditioned on its span: the ``n-2`` arrivals between the first and
    the last are uniform on the span (drawn as partial sums of exponential gaps scaled to
    it, which have that distribution). An unconditioned draw's span varies by
    ``sqrt(n)/rate`` (±4.5 % at 500 requests), and with it the throughput the level can
    show; ``vllm bench serve`` rescales its gaps the same way (vllm/benchmarks/serve.py,
    ``get_request``: "re-scale delay time to ensure the final delay_ts align with
    target_total_delay_s"). Seeded: the same schedule for the same ``(n, rate, seed)``.
    """
    if n <= 1:
        return [0.0] * n
    gaps = np.random.default_rng(seed).exponential(1.0 / rate_per_s, size=n - 1)
    arrivals = np.concatenate([[0.0], np.cumsum(gaps)])
    return (arrivals * ((n - 1) / rate_per_s / arrivals[-1])).tolist()


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
    answered = [(i, r) for i, r in enumerate(results) if r is not None]
    return LevelRun(level, [r for _, r in answered], started_at, time.perf_counter() - t0,
                    indices=[i for i, _ in answered])  # fmt: skip


WORKER_STREAMS = 128
"""Requests in flight one worker process carries before another is added (automatic worker count).

Up to this many (or this rate) a single worker is the caller's own process and loop; above it,
even a single worker is a process of its own on uvloop, which measured closer to the truth at
256 streams than the caller's default loop (docs/performance.md, known truth)."""


def auto_workers(level: Level, cpus: int | None = None) -> int:
    """Worker processes for ``level``: one per :data:`WORKER_STREAMS` in flight, at most half the CPUs.

    The other half is left to the server's own front end (vLLM's API server is one busy Python
    process even when the model runs on GPUs): a client that starves it measures a slower
    server. At a rate level the in-flight count is not known in advance; the rate stands in.
    """
    cpus = cpus or os.cpu_count() or 1
    return max(1, min(cpus // 2, math.ceil(level.value / WORKER_STREAMS)))


@dataclass(frozen=True)
class Share:
    """One worker's part of a level: request indices, the requests, their due offsets (s) or a cap."""

    indices: list[int]
    requests: list[Request]
    offsets_s: list[float] | None
    cap: int


def deal(n: int, level: Level, workers: int, seed: int) -> list[tuple[list[int], list[float] | None, int]]:
    """Split ``n`` requests over ``workers`` (pure): round-robin indices, their offsets, each one's cap.

    A concurrency ``c`` is split as evenly as it goes (caps differ by at most one; no worker
    gets a cap of 0 while it has requests). A rate keeps one Poisson schedule for all.
    """
    workers = max(1, min(workers, n, int(level.value) if level.kind == "concurrency" else n))
    offsets = poisson_offsets_s(n, level.value, seed) if level.kind == "rate" else None
    out = []
    for w in range(workers):
        idx = list(range(w, n, workers))
        cap = (
            int(level.value) // workers + (w < int(level.value) % workers) if level.kind == "concurrency" else len(idx)
        )
        out.append((idx, [offsets[i] for i in idx] if offsets else None, cap))
    return out


async def until(due: float) -> None:
    """Sleep to ``due`` (``time.perf_counter`` s), never waking early: uvloop's timers round to 1 ms,
    so the last millisecond is spent yielding to the loop."""
    await asyncio.sleep(max(0.0, due - time.perf_counter() - 0.001))
    while time.perf_counter() < due:
        await asyncio.sleep(0)


@contextlib.contextmanager
def no_gc_pauses() -> Iterator[None]:
    """No cyclic garbage collection while a level runs (as ``vllm bench serve`` freezes its heap):
    a full collection over a large heap stalls the loop for milliseconds, and every chunk waiting
    then is timed late. Collected once afterwards."""
    gc.collect()
    gc.freeze()
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
        gc.unfreeze()


Row = tuple[int, Result, float | None]
"""One answered request of a share: (index in the level, its result, when it was due or None)."""
OnAnswer = Callable[[int, Result], None]
"""Called in the loop as each answer ends, with the share's requests sent so far and the result."""
Seen = tuple[float, float | None, int]
"""One answer as the parent is told of it: when it ended (``time.perf_counter`` s), its TTFT (ms),
and the requests its worker had sent by then."""


async def _drive(client: ModelClient, share: Share, t0: float, stop: asyncio.Event | None = None,
                 on_answer: OnAnswer | None = None) -> tuple[list[Row], int]:  # fmt: skip
    """Send a share's requests (at its cap, or each at ``t0 + offset``): (the answered rows, requests sent).

    Setting ``stop`` cancels what is pending and in flight; the rows answered by then are kept.
    Callers run it inside :func:`no_gc_pauses`, entered before ``t0`` is read.
    """
    sem = asyncio.Semaphore(share.cap)
    sent = 0

    async def one(j: int) -> Row:
        nonlocal sent
        due = t0 + share.offsets_s[j] if share.offsets_s is not None else None
        if due is not None:
            await until(due)
        async with sem:
            sent += 1
            result = await client.generate(share.requests[j])
            if on_answer:
                on_answer(sent, result)
            return share.indices[j], result, due

    tasks = [asyncio.ensure_future(one(j)) for j in range(len(share.requests))]
    try:
        await _until_done_or(tasks, stop)
    finally:
        for t in tasks:
            t.cancel()
    if tasks:
        await asyncio.wait(tasks)
    return [t.result() for t in tasks if not t.cancelled()], sent


async def _until_done_or(tasks: Sequence[asyncio.Future[Row]], stop: asyncio.Event | None) -> None:
    """Wait for every task, or for ``stop`` to be set, whichever comes first."""
    if not tasks:
        return
    if stop is None:
        await asyncio.wait(tasks)
        return
    halted: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
    every: asyncio.Future[Any] = asyncio.gather(*tasks, return_exceptions=True)
    try:
        await asyncio.wait([every, halted], return_when=asyncio.FIRST_COMPLETED)
    finally:
        halted.cancel()


RELAY_S = 0.1
"""A worker process sends the answers it has seen to the parent every this many seconds (one message)."""


async def _relay(conn: Any, halt: Any, stop: asyncio.Event, batch: list[Seen]) -> None:
    """Every :data:`RELAY_S`: send ``("answers", batch)`` to the parent and empty the batch;
    set ``stop`` once the parent sets ``halt``."""
    while True:
        await asyncio.sleep(RELAY_S)
        if batch:
            conn.send(("answers", batch[:]))
            batch.clear()
        if halt.is_set():
            stop.set()


def _worker(conn: Any, barrier: Any, halt: Any, target: LoadTarget, share: Share) -> None:
    """A worker process: open a FastClient, wait at the barrier, drive the share while relaying each
    answer (:func:`_relay`), stop early when the parent sets ``halt``; send back ``("done", (rows, t0, cpu, sent))``."""
    cpu = [0.0]

    async def go() -> tuple[tuple[list[Row], int], float]:
        async with target.client() as client:
            with no_gc_pauses():  # its full collection before the barrier, not on the level's clock
                await asyncio.get_running_loop().run_in_executor(None, barrier.wait)
                t0 = time.perf_counter()
                cpu[0] = _cpu_s()
                stop, batch = asyncio.Event(), list[Seen]()

                def seen(n_sent: int, r: Result) -> None:
                    batch.append((time.perf_counter(), r.ttft_ms, n_sent))

                relay = asyncio.ensure_future(_relay(conn, halt, stop, batch))
                try:
                    driven = await _drive(client, share, t0, stop, seen)
                finally:
                    relay.cancel()
                cpu[0] = _cpu_s() - cpu[0]
            if batch:
                conn.send(("answers", batch))
            client.decode_pending()  # after the level: none of its loop's time went to parsing
            return driven, t0

    (rows, sent), t0 = _run_loop(go())
    conn.send(("done", (rows, t0, cpu[0], sent)))
    conn.close()


def _cpu_s() -> float:
    """This process's CPU seconds, user + system (``CLOCK_PROCESS_CPUTIME_ID``: ns, not 10 ms ticks)."""
    return time.process_time()


@dataclass(frozen=True)
class LoadTarget:
    """Where and how the load generator's clients connect: a server's :class:`ClientConfig` (picklable:
    each worker process opens its own client from it, :meth:`client`)."""

    config: ClientConfig

    @classmethod
    def on(cls, server: ModelServer, timeout_s: float = 120.0, retries: int = 0) -> LoadTarget:
        """The load target for ``server`` (:meth:`ModelServer.client_config`).

        wait_when_asked off: a level measures what the server sustains, so a 429 or a loading 503 is a
        failed request of the level, never a wait its timings would leave out (docs/reliability.md).
        """
        return cls(server.client_config(timeout_s=timeout_s, retries=retries, wait_when_asked=False))

    @classmethod
    def at(
        cls, base_url: str, model: str, api_key: str | None = None, timeout_s: float = 120.0, retries: int = 0
    ) -> LoadTarget:
        """The load target for an endpoint known only by its URL (``http://127.0.0.1:8000/v1``): the tools' way in."""
        return cls.on(ModelServer(base_url=base_url, model=model, api_key=api_key, managed=False), timeout_s, retries)

    def client(self) -> FastClient:
        """The load generator's client (:class:`~harness.server.fastclient.FastClient`); its answers are decoded
        after the level (``decode_later``) unless it retries."""
        return fast_client(self.config, decode_later=not self.config.retries)


StopTest = Callable[[Sequence[Completion], float], str | None]
"""Why a level should stop now, from its answers so far and the seconds since it started; None to go on
(:func:`harness.run.perf.guards.oversaturation`)."""

CHECK_S = 0.25
"""The stop test is asked at most this often (s): it reads every answer so far."""


class Watch:
    """The parent's view of a running level: each answer with the requests in flight then, and the stop test's verdict.

    Fed from one thread (the loop's); ``add`` returns True once, when the test first trips.
    """

    def __init__(self, test: StopTest | None, t0: float, workers: int, every_s: float = CHECK_S) -> None:
        self.test, self.t0, self.every_s = test, t0, every_s
        self.sent = [0] * workers
        self.samples: list[Completion] = []
        self.reason: str | None = None
        self._checked = -math.inf

    def add(self, worker: int, answers: Sequence[Seen]) -> bool:
        """``answers`` of ``worker``, each with what it had sent by then; the others' sends as last told."""
        for ended, ttft, sent in answers:
            self.sent[worker] = max(self.sent[worker], sent)
            in_flight = sum(self.sent) - len(self.samples) - 1
            self.samples.append(Completion(ended - self.t0, ttft, max(in_flight, 0)))
        now = time.perf_counter() - self.t0
        if self.test is None or self.reason is not None or now - self._checked < self.every_s:
            return False
        self._checked = now
        self.reason = self.test(self.samples, now)
        return self.reason is not None


async def run_level_workers(
    target: LoadTarget, requests: Sequence[Request], level: Level, *, workers: int = 0, seed: int = 0,
    on_done: Callable[[int], None] | None = None, stop_when: StopTest | None = None,
) -> LevelRun:  # fmt: skip
    """Send every request at ``level`` to ``target`` from ``workers`` processes (0: :func:`auto_workers`).

    Output tokens the server does not report are left None (count them afterwards with
    :func:`harness.server.client.count_missing_tokens`). ``on_done(k)`` is called as ``k`` more
    answers come back. ``stop_when`` is asked, as the answers come back, whether to stop the
    level (:class:`Watch`); a stopped level keeps its answers and says why, and how many
    requests were never sent or cut (:class:`LevelRun`). Cancelling this coroutine stops the workers.
    """
    shares = deal(len(requests), level, workers or auto_workers(level), seed)
    if len(shares) == 1 and level.value <= WORKER_STREAMS:  # light: this process and its loop, no start-up cost
        return await _in_process(target, requests, level, shares[0], on_done, stop_when)
    ctx = mp.get_context("spawn")
    barrier, halt = ctx.Barrier(len(shares) + 1), ctx.Event()
    procs, pipes = [], []
    for idx, offs, cap in shares:
        recv, send = ctx.Pipe(duplex=False)
        share = Share(idx, [requests[i] for i in idx], offs, cap)
        p = ctx.Process(target=_worker, args=(send, barrier, halt, target, share), daemon=True)
        p.start()
        send.close()
        procs.append(p)
        pipes.append(recv)
    loop = asyncio.get_running_loop()
    try:
        await loop.run_in_executor(None, barrier.wait)
        started_at, t_start = time.time(), time.perf_counter()
        watch = Watch(stop_when, t_start, len(shares))

        def seen(w: int, answers: list[Seen]) -> None:
            if watch.add(w, answers):
                halt.set()
            if on_done:
                on_done(len(answers))

        def relayed(w: int) -> Callable[[list[Seen]], None]:
            def relay(answers: list[Seen]) -> None:
                loop.call_soon_threadsafe(seen, w, answers)

            return relay

        got = await asyncio.gather(*(loop.run_in_executor(None, _receive, r, relayed(w)) for w, r in enumerate(pipes)))
    finally:
        barrier.abort()  # frees a wait still pending when cancelled
        for p in procs:
            if p.is_alive():
                p.terminate()
            p.join(5)
    return _merge(level, got, started_at, t_start, len(shares), len(requests), watch.reason)


async def _in_process(target: LoadTarget, requests: Sequence[Request], level: Level,
                      dealt: tuple[list[int], list[float] | None, int], on_done: Callable[[int], None] | None,
                      stop_when: StopTest | None) -> LevelRun:  # fmt: skip
    """One share driven from a thread of this process with an event loop of its own (uvloop when
    installed, as in a worker: measured ~2x less CPU per chunk than the default loop), without a
    process's start-up. Cancelling this coroutine stops the thread's level within :data:`RELAY_S`."""
    idx, offsets, cap = dealt
    share = Share(idx, [requests[i] for i in idx], offsets, cap)
    started_at = time.time()
    halt = threading.Event()
    try:
        rows, sent, t0, cpu, reason = await asyncio.to_thread(_run_loop, _in_thread(target, share, halt, on_done,
                                                                                      stop_when))  # fmt: skip
    finally:
        halt.set()
    return _merge(level, [(rows, t0, cpu, sent)], started_at, t0, 1, len(requests), reason)


async def _in_thread(target: LoadTarget, share: Share, halt: threading.Event, on_done: Callable[[int], None] | None,
                     stop_when: StopTest | None) -> tuple[list[Row], int, float, float, str | None]:  # fmt: skip
    """The thread's level: (rows, requests sent, its start, the thread's CPU seconds, why it was stopped)."""
    async with target.client() as client:
        with no_gc_pauses():  # its full collection before the level's clock starts
            cpu0, t0 = time.thread_time(), time.perf_counter()
            watch, stop = Watch(stop_when, t0, 1), asyncio.Event()

            def seen(sent: int, r: Result) -> None:
                if watch.add(0, [(time.perf_counter(), r.ttft_ms, sent)]):
                    stop.set()
                if on_done:
                    on_done(1)

            halted = asyncio.ensure_future(_until_set(halt, stop))
            try:
                rows, sent = await _drive(client, share, t0, stop, seen)
            finally:
                halted.cancel()
            cpu = time.thread_time() - cpu0
        client.decode_pending()
    return rows, sent, t0, cpu, watch.reason


async def _until_set(halt: threading.Event, stop: asyncio.Event) -> None:
    """Set ``stop`` once another thread sets ``halt`` (looked at every :data:`RELAY_S`)."""
    while not halt.is_set():
        await asyncio.sleep(RELAY_S)
    stop.set()


def _run_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on a new event loop of this thread: uvloop when installed, else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


Got = tuple[list[Row], float, float, int]
"""One worker's outcome: its answered rows, its start (``time.perf_counter`` s), CPU seconds, requests sent."""


def _receive(conn: Any, relay: Callable[[list[Seen]], None]) -> Got:
    """Read one worker's messages until its outcome; ``("answers", [Seen])`` go to ``relay``."""
    while True:
        try:
            kind, body = (msg := conn.recv())[0], msg[1:]
        except EOFError:
            raise RuntimeError("a load generator worker process died before sending its results") from None
        if kind == "done":
            return body[0]  # type: ignore[no-any-return]
        relay(*body)


def _merge(level: Level, got: list[Got], started_at: float, t_start: float, workers: int, n: int,
           stopped: str | None) -> LevelRun:  # fmt: skip
    """One LevelRun from the workers' results, in request order; wall from the first start to the last answer.

    A level cut short (``stopped``) counts the ``n`` requests it did not answer: never sent, or sent and cut.
    """
    rows = sorted((row for results, _, _, _ in got for row in results), key=lambda x: x[0])
    results = [r for _, r, _ in rows]
    t0 = min([t for _, t, _, _ in got] + [t_start])
    ends = [r.started_mono + (r.e2e_ms or 0) / 1000 for r in results if r.started_mono]
    wall = (max(ends) - t0) if ends else time.perf_counter() - t_start
    sent = sum(k for _, _, _, k in got)
    return LevelRun(level, results, started_at, wall, scheduled_mono=[due for _, _, due in rows], workers=workers,
                    cpu_s=sum(c for _, _, c, _ in got), stopped=stopped, unsent=n - sent,
                    cut=sent - len(results), indices=[i for i, _, _ in rows])  # fmt: skip


def send_level(
    on: Served, requests: Sequence[Request], level: Level, *, seed: int, during: str,
    on_done: Callable[[int], None] | None = None, stop_when: StopTest | None = None,
) -> LevelRun:  # fmt: skip
    """Send one level to ``on.server`` while it is watched (:func:`~harness.server.watchdog.until_gone`),
    stopped early when ``stop_when`` trips (:func:`run_level_workers`).

    Output tokens the server did not report are counted with ``on.count_tokens``. Raises
    :class:`~harness.server.watchdog.ServerGone` ("during ``during`` at <level>: why") when the
    server goes away or stops answering mid-level.
    """
    server, limits = on.server, on.lp.plan.limits
    target = LoadTarget.on(server, limits.request_timeout_s)

    async def go() -> tuple[LevelRun | None, str | None]:
        sent = run_level_workers(target, requests, level, seed=seed, on_done=on_done, stop_when=stop_when)
        return await until_gone(server, limits.unresponsive_s, sent)

    run, stopped = aio.run(go())
    if run is None:
        raise ServerGone(f"during {during} at {level.id}: {stopped}")
    count_tokens = on.count_tokens
    for r in run.results:
        count_missing_tokens(r, count_tokens)
    return run
