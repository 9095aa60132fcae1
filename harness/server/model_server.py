"""The one contract for a model server: how every stage reaches it once it is up.

A :class:`ModelServer` is an OpenAI-compatible server the harness either started
(:func:`harness.server.vllm_server.start_vllm`) or attached to (:func:`harness.server.vllm_server.attach`).
Everything that talks to it goes through this record:

- :meth:`ModelServer.health` is the one ``/health`` probe (the start-up wait and the watchdog both ask it);
- :attr:`ModelServer.metrics_url` and :meth:`ModelServer.metrics_reader` are where ``/metrics`` is read;
- :meth:`ModelServer.client` builds the streaming client for it (chat or completions, the reasoning
  parser, the served model or a LoRA adapter's name), keyword arguments only; the load generator's
  worker processes take the picklable :meth:`ModelServer.client_config` and open it with :func:`fast_client`;
- :meth:`ModelServer.log_tail` and :attr:`ModelServer.exit_code` say why a started server ended.

Modelled on inspect_ai's ``ModelAPI`` (one narrow interface, ``model/_model.py``) whose vLLM provider
(``model/_providers/vllm.py``) is its OpenAI-compatible provider plus a local-server lifecycle
(``_util/local_server.py``: start, wait for the server, terminate), and on GuideLLM's ``backends/``
split (``backends/backend.py``: a backend's start-up, validation, requests and shutdown behind one
class; ``backends/openai.py``: the OpenAI-compatible HTTP implementation). Here one record serves
both started and attached servers, as both speak the same HTTP API; only their lifecycle differs.
"""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from harness.dtype import DtypeChoice
from harness.records import Api
from harness.server.client import ClientConfig, ModelClient, TokenCounter

if TYPE_CHECKING:
    from harness.server.fastclient import FastClient

LOG_TAIL_LINES = 12
HEALTH_TIMEOUT_S = 10.0
"""Longest a ``/health`` probe waits for its answer (s)."""


class Health(StrEnum):
    """What a server's ``GET /health`` said."""

    UP = "up"
    """200: the server answers."""
    BUSY = "busy"
    """503: vLLM's engine is dead, or an endpoint is loading its model or pacing requests."""
    FAILING = "failing"
    """Any other 5xx."""
    NO_ROUTE = "no_route"
    """Any other status (404, 401, ...): the server has no usable ``/health`` route."""
    GONE = "gone"
    """No answer at all: refused, reset or timed out."""


@dataclass(frozen=True)
class HealthCheck:
    """One ``/health`` probe: the status code (None when nothing answered) and what it means."""

    status_code: int | None

    @property
    def state(self) -> Health:
        code = self.status_code
        if code is None:
            return Health.GONE
        if code == 200:
            return Health.UP
        if code == 503:
            return Health.BUSY
        return Health.FAILING if code >= 500 else Health.NO_ROUTE


class ScrapeError(RuntimeError):
    """A page of the server could not be read; the message is ``<exception type>: <reason>``."""


class PageReader:
    """Reads one page of a server (``/metrics``) again and again on one connection (synchronous: a thread polls it)."""

    def __init__(self, url: str, api_key: str | None, timeout_s: float) -> None:
        self.url = url
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(timeout=timeout_s, headers=headers)

    def text(self) -> str:
        """The page's text; :class:`ScrapeError` on any HTTP failure (connection, timeout, non-2xx)."""
        try:
            resp = self._http.get(self.url)
            resp.raise_for_status()
        except httpx.HTTPError as exc:
            raise ScrapeError(f"{type(exc).__name__}: {exc}") from exc
        return resp.text

    def close(self) -> None:
        self._http.close()


@dataclass(frozen=True)
class ModelServer:
    """A running OpenAI-compatible model server, started here or attached (see the module docstring)."""

    base_url: str
    """Ends in ``/v1``."""
    model: str
    """The model name to send in requests (a LoRA adapter's name when the server is lent to one)."""
    api_key: str | None
    managed: bool
    """True when the harness started (and will stop) the process."""
    start_s: float | None = None
    log_path: Path | None = None
    pid: int | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)
    dtype: DtypeChoice | None = None
    """The dtype a started server was given, and why (None for an endpoint)."""
    reasoning_parser: str | None = None
    """vLLM's ``--reasoning-parser`` the server was started with (None: none, or unknown for an endpoint)."""

    @property
    def root_url(self) -> str:
        """``base_url`` without its ``/v1``: where the server's own routes are."""
        return self.base_url.rstrip("/").removesuffix("/v1")

    @property
    def health_url(self) -> str:
        return self.root_url + "/health"

    @property
    def metrics_url(self) -> str:
        """vLLM's Prometheus ``/metrics``."""
        return self.root_url + "/metrics"

    @property
    def exit_code(self) -> int | None:
        """The started server's exit code once it has ended; None while it runs (or for an endpoint)."""
        return None if self.proc is None else self.proc.poll()

    def log_tail(self) -> str:
        """Why a started server ended, from its log (:func:`log_tail`); ``""`` without a log."""
        return log_tail(self.log_path) if self.log_path else ""

    async def health(self, http: httpx.AsyncClient | None = None, timeout_s: float = HEALTH_TIMEOUT_S) -> HealthCheck:
        """Ask ``GET /health`` once (on ``http`` when given, else on a client opened for this one probe).

        Never raises for an HTTP failure: no answer is :attr:`Health.GONE`.
        """
        own = http is None
        client = http or httpx.AsyncClient(timeout=timeout_s)
        try:
            return HealthCheck((await client.get(self.health_url)).status_code)
        except httpx.HTTPError:
            return HealthCheck(None)
        finally:
            if own:
                await client.aclose()

    def metrics_reader(self, timeout_s: float = 5.0) -> PageReader:
        """A reader of :attr:`metrics_url` that sends the API key (a proxy in front of an endpoint may ask for it)."""
        return PageReader(self.metrics_url, self.api_key, timeout_s)

    def client_config(
        self, *, api: Api | None = None, model: str | None = None, timeout_s: float = 120.0, retries: int = 2,
        load_timeout_s: float = 600.0, wait_when_asked: bool = True,
    ) -> ClientConfig:  # fmt: skip
        """How a client reaches this server (picklable); ``model`` overrides the served name (a LoRA adapter's)."""
        return ClientConfig(
            base_url=self.base_url, model=model or self.model, api_key=self.api_key, api=api,
            reasoning_parser=self.reasoning_parser, timeout_s=timeout_s, retries=retries,
            load_timeout_s=load_timeout_s, wait_when_asked=wait_when_asked,
        )  # fmt: skip

    def client(
        self, *, api: Api | None = None, model: str | None = None, timeout_s: float = 120.0, retries: int = 2,
        load_timeout_s: float = 600.0, wait_when_asked: bool = True, count_tokens: TokenCounter | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> ModelClient:  # fmt: skip
        """The streaming client for this server (:class:`~harness.server.client.ModelClient`); see
        :meth:`client_config` for the arguments, and the client for ``count_tokens`` and ``transport``."""
        config = self.client_config(
            api=api, model=model, timeout_s=timeout_s, retries=retries, load_timeout_s=load_timeout_s,
            wait_when_asked=wait_when_asked,
        )  # fmt: skip
        return ModelClient(config, count_tokens=count_tokens, transport=transport)


def fast_client(config: ClientConfig, *, decode_later: bool = False) -> FastClient:
    """The load generator's client for ``config`` (:class:`~harness.server.fastclient.FastClient`, aiohttp,
    imported only where load is generated); ``decode_later`` as there."""
    from harness.server.fastclient import FastClient

    return FastClient(config, decode_later=decode_later)


_CAUSE = re.compile(r"\w(?:Error|Exception): |\berror: ")
_LOG_PREFIX = re.compile(r"^\(\w+ pid=\d+\)\s+(?:[A-Z]+ [\d-]+ [\d:]+ \[[^\]]*\]\s*)?")


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """Why a server ended, from its log: the first error lines (the root cause) and the last.

    Access-log lines (``"POST /v1/... HTTP/1.1" 500 Internal Server Error``) are not causes;
    without any error line, the last ``lines`` lines.
    """
    try:
        text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "(no server log)"
    causes: list[str] = []
    for ln in text:
        if _CAUSE.search(ln) and "HTTP/1." not in ln and " WARNING " not in ln:
            cause = _LOG_PREFIX.sub("", ln.strip())
            if cause not in causes:
                causes.append(cause)
    picked = causes[:2] + causes[-1:] if len(causes) > 2 else causes
    if not picked:
        picked = [ln.strip() for ln in text[-lines:]]
    return "\n".join(picked)[-2000:]


def exit_description(code: int) -> str:
    """``exited with code 1`` or ``was killed by SIGKILL``."""
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"
