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
from dataclasses import dataclass

import httpx

from harness.serving import Server, exit_description, log_tail

POLL_INTERVAL_S = 1.0
HEALTH_TIMEOUT_S = 10.0


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


def _log(server: Server) -> str:
    return f":\n{log_tail(server.log_path)}" if server.log_path else ""


async def watch_server(
    server: Server, unresponsive_s: float, poll_s: float = POLL_INTERVAL_S, http: httpx.AsyncClient | None = None
) -> str:
    """Poll until the server is gone and return why; runs until cancelled otherwise.

    A ``/health`` route that answers anything but 200 or 5xx (an endpoint without one,
    or one behind authentication) leaves the decision to the requests and the breaker.
    """
    own = http is None
    client = http or httpx.AsyncClient(timeout=min(HEALTH_TIMEOUT_S, unresponsive_s))
    last_alive = time.monotonic()
    use_health = True
    try:
        while True:
            await asyncio.sleep(poll_s)
            code = server.exit_code()
            if code is not None:
                return f"the vLLM server {exit_description(code)}{_log(server)}"
            if not use_health:
                continue
            try:
                status: int | None = (await client.get(server.health_url)).status_code
            except httpx.HTTPError:
                status = None
            now = time.monotonic()
            if status == 200:
                last_alive = now
            elif status == 503 and server.managed:
                return f"the vLLM engine died (/health answered 503){_log(server)}"
            elif status is not None and status < 500:
                use_health = False
            if now - last_alive > unresponsive_s:
                return (
                    f"the server stopped answering: /health gave no answer for {unresponsive_s:g} s "
                    "(limits.unresponsive_s)"
                )
    finally:
        if own:
            await client.aclose()
