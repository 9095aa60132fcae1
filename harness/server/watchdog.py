"""Is the candidate's server still there? Stop asking one that is gone.

Two signals end a candidate's generation early, each with a reason for the run's
manifest and report:

- :func:`watch_server` polls the server while answers are being generated. A
  started server whose process has ended is gone at once (the reason names the
  exit code or signal and quotes its log). vLLM's ``/health`` answers 503 once
  its engine has died (``EngineDeadError``), which for a started server is also
  final. A server that gives ``/health`` no answer for ``unresponsive_s``
  (a stopped or wedged process, a dead host) is declared hung.
- :class:`Breaker` counts requests that failed in a row (each after its own
  retries): a wrong key, a dead engine behind a proxy or a wedged GPU that still
  answers ``/health`` trips it.

Answers not asked because of either are not written: they count as missing, and
re-running the same command asks them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from harness.server.model_server import HEALTH_TIMEOUT_S, Health, ModelServer, exit_description

POLL_INTERVAL_S = 1.0
T = TypeVar("T")


@dataclass
class Breaker:
    """Trips after ``limit`` failed requests in a row; any success resets the count."""

    limit: int | None
    run: int = 0

    def record(self, error: str | None) -> str | None:
        """Count one finished request; return the reason to stop once the breaker trips."""
        if error is None:
            self.run = 0
            return None
        self.run += 1
        if self.limit is not None and self.run >= self.limit:
            return f"{self.run} requests in a row failed (limits.max_consecutive_failures); the last: {error}"
        return None


def _log(server: ModelServer) -> str:
    return f":\n{server.log_tail()}" if server.log_path else ""


async def watch_server(
    server: ModelServer, unresponsive_s: float, poll_s: float = POLL_INTERVAL_S, http: httpx.AsyncClient | None = None,
    busy_s: float = 0.0,
) -> str:  # fmt: skip
    """Poll until the server is gone and return why; runs until cancelled otherwise.

    A ``/health`` route that answers anything but 200 or 5xx (an endpoint without one,
    or one behind authentication) leaves the decision to the requests and the breaker.
    An endpoint's ``503`` ("not now": a model still loading, a gateway pacing requests) counts as
    alive for ``busy_s`` seconds since its last 200 or the watch's start (the client waits on a loading
    model as long, ``limits.server_start_timeout_s``); past that, and for any other 5xx, it is gone
    after ``unresponsive_s``.
    """
    own = http is None
    client = http or httpx.AsyncClient(timeout=min(HEALTH_TIMEOUT_S, unresponsive_s))
    last_alive = last_ok = time.monotonic()
    use_health = True
    try:
        while True:
            await asyncio.sleep(poll_s)
            code = server.exit_code
            if code is not None:
                return f"the vLLM server {exit_description(code)}{_log(server)}"
            if not use_health:
                continue
            check = await server.health(client)
            state, status = check.state, check.status_code
            now = time.monotonic()
            if state is Health.UP:
                last_alive = last_ok = now
            elif state is Health.BUSY and server.managed:
                return f"the vLLM engine died (/health answered 503){_log(server)}"
            elif state is Health.BUSY and now - last_ok <= busy_s:
                last_alive = now  # an endpoint loading or pacing: its requests wait as it asks
            elif state is Health.NO_ROUTE:
                use_health = False
            if now - last_alive > unresponsive_s:
                if state is Health.BUSY and busy_s:
                    return (f"the server stopped answering: /health answered 503 for {now - last_ok:.0f} s "
                            "(limits.server_start_timeout_s, then limits.unresponsive_s)")  # fmt: skip
                said = "gave no answer" if status is None else f"answered {status}"
                return f"the server stopped answering: /health {said} for {unresponsive_s:g} s (limits.unresponsive_s)"
    finally:
        if own:
            await client.aclose()


class ServerGone(RuntimeError):
    """Raised by a stage that cannot go on because its server went away; the message is the reason."""


async def until_gone(
    server: ModelServer, unresponsive_s: float, work: Awaitable[T], *also: asyncio.Future[Any], busy_s: float = 0.0
) -> tuple[T | None, str | None]:
    """Await ``work`` unless the server goes away first (or one of ``also`` resolves with a reason).
    ``busy_s``: how long an endpoint's 503 counts as alive (:func:`watch_server`).

    Returns (its result, None), or (None, why) after cancelling it. An exception of ``work``
    itself propagates: that is a bug, not a fault of the server.
    """
    task: asyncio.Future[Any] = asyncio.ensure_future(work)
    watch: asyncio.Future[Any] = asyncio.ensure_future(watch_server(server, unresponsive_s, busy_s=busy_s))
    try:
        await asyncio.wait([task, watch, *also], return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        # Ctrl-C / SIGTERM (harness.aio): stop the requests in flight before the caller closes
        # their HTTP client, or they fail on a closed client and their errors go unretrieved.
        task.cancel()
        watch.cancel()
        await asyncio.gather(task, watch, return_exceptions=True)
        raise
    stopped = None
    if not task.done():
        stopped = watch.result() if watch.done() else next(str(f.result()) for f in also if f.done())
        task.cancel()
    watch.cancel()
    await asyncio.gather(task, watch, return_exceptions=True)
    return (task.result(), None) if stopped is None else (None, stopped)


async def ask_all_while_up(
    server: ModelServer, items: Sequence[T], ask: Callable[[T], Awaitable[str | None]], concurrency: int,
    unresponsive_s: float, max_consecutive_failures: int | None, busy_s: float = 0.0,
) -> str | None:  # fmt: skip
    """Run ``ask`` (one request; returns its error or None) over ``items``, ``concurrency`` at a time.

    Returns None when every item was asked, else why the rest were not: the server is
    gone (:func:`watch_server`, with ``busy_s``) or the :class:`Breaker` tripped. Requests still in
    flight then are cancelled; items never asked are left to the next session.
    """
    sem = asyncio.Semaphore(concurrency)
    breaker = Breaker(max_consecutive_failures)
    tripped: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    async def one(item: T) -> None:
        async with sem:
            if tripped.done():
                return
            error = await ask(item)
        reason = breaker.record(error)
        if reason and not tripped.done():
            tripped.set_result(reason)

    _, stopped = await until_gone(
        server, unresponsive_s, asyncio.gather(*(one(i) for i in items)), tripped, busy_s=busy_s
    )
    return stopped
