"""Async OpenAI-compatible streaming client: one request in, one timed answer out.

This is the one way to ask a model: candidates, the judge and the load generator all go through
:meth:`ModelClient.generate`, on a client that their server builds
(:meth:`harness.server.model_server.ModelServer.client`, from one :class:`ClientConfig`).
Timings follow vLLM's benchmark (``vllm bench serve``, ``async_request_openai_chat_completions``) exactly:
TTFT is the first
chunk that carries a choice minus request start (vLLM sends it with the first
generated token, even when that token's text is still empty because the
detokenizer holds back an incomplete character), ITL the gaps between
consecutive such chunks, E2E the last such chunk minus request start; the
trailing usage chunk advances nothing; a chunk of thinking counts like any other (TTFT, ITL and
TPOT are over all tokens), and the time to first *answer* token is kept beside it. The thinking
arrives in ``delta.reasoning`` (vLLM 0.32 with ``--reasoning-parser``), ``delta.reasoning_content``
(older vLLM, other engines) or inside the content as ``<think>…</think>`` (no parser); it is kept
apart from the answer by :func:`harness.thinking.separate`. Tool calls (a request that offered ``tools``)
arrive as ``delta.tool_calls`` fragments, joined by :mod:`harness.server.tool_stream`, or as Hermes
``<tool_call>`` text when the server started no tool-call parser. A chat chunk that only announces the
role (no content key, sent by some servers before the first token) starts
nothing either. Events are decoded by :mod:`harness.server.sse`, which also turns
malformed chunks and the server's own error messages into one-line reasons.
Timeouts, connection errors, 429 and 5xx are retried with
exponential backoff; after the last attempt the failure is returned as a result
with ``error`` set, never raised and never dropped. Any other status (400, 401, 403, 404, ...) is
asked once: its error is the server's message. A server that paces requests (a 429 or 503 with
``Retry-After``, a 503 "model is currently loading", :mod:`harness.server.flow`) is waited out as it
asks, within a budget, without spending a retry: ``limits.request_timeout_s`` of waiting for a rate
limit, ``limits.server_start_timeout_s`` for a loading model. The time spent waiting between
attempts (paced waits and backoff) is ``Result.wait_ms``; the timings are those of the attempt
that answered, each measured from its own start, so no wait is ever inside TTFT or E2E.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, Self

import httpx
from pydantic import Field

from harness.records import Api, Request, RequestTiming, ToolCallMade
from harness.server.flow import Pacing, pacing
from harness.server.sse import RETRYABLE_CODES, ChunkStream, StreamFault, error_text, role_only
from harness.server.tool_stream import CallAssembler, calls_in_text, offered_names, take_out
from harness.thinking import separate

RETRY_STATUS = RETRYABLE_CODES
BACKOFF_BASE_S = 0.5
BACKOFF_MAX_S = 8.0
REASONING_FIELDS = ("reasoning", "reasoning_content")
"""Delta fields that carry thinking: vLLM 0.32's name first, then the older one other engines still send."""


class Result(RequestTiming):
    """One streamed answer as the client fills it: the request's timings and token counts
    (:class:`~harness.records.RequestTiming`) and what was said. In memory only: the run
    stage writes it as a ``Generation``, the load sweep as its ``RequestTiming``."""

    text: str = ""
    finish_reason: str | None = None
    started_at: float = 0.0
    started_mono: float = 0.0
    """:func:`time.perf_counter` at the request's start (s): places its chunks on the machine's monotonic clock."""
    attempts: int = 0
    reasoning: str = ""
    """The thinking, apart from ``text`` (the answer)."""
    reasoning_via: str | None = None
    reasoning_tokens: int | None = None
    """From the server's ``usage.completion_tokens_details`` when it gives them."""
    ttfat_ms: float | None = None
    """Time to first answer token (after the thinking)."""
    cut_off_thinking: bool = False
    wait_ms: float = 0.0
    """Time spent waiting between attempts (the server's ``Retry-After`` or loading estimate, and backoff);
    never inside ``ttft_ms`` or ``e2e_ms``, which time the attempt that answered from its own start."""
    tool_calls: list[ToolCallMade] = Field(default_factory=list)
    """The calls of this response: its ``tool_calls`` deltas assembled by index, else (tools offered, none
    streamed) the Hermes ``<tool_call>`` blocks read out of the answer (``from_text``;
    :mod:`harness.server.tool_stream`). A call that could not be read whole carries its ``problem``."""
    tool_call_ms: float | None = None
    """Request start to the chunk that carried the last fragment of the calls (the calls complete), ms;
    None without calls."""


TokenCounter = Callable[[str], int | None]
"""Output tokens of a text by the candidate's tokenizer; None when it cannot count (no tokenizer loads)."""


def count_missing_tokens(out: Result, count_tokens: TokenCounter | None) -> None:
    """Fill ``output_tokens`` from the server's usage, else by the tokenizer (as ``vllm bench serve`` does).

    Without usage and without a tokenizer the count stays unknown (None), never 0.
    """
    if out.output_tokens is not None:
        out.output_tokens_source = "server"
    elif count_tokens is not None and out.error is None:
        out.output_tokens = count_tokens(out.reasoning + out.text)  # thinking tokens are output tokens too
        out.output_tokens_source = "tokenizer" if out.output_tokens is not None else None


class RetryableError(Exception):
    pass


class FatalError(Exception):
    pass


class Paced(RetryableError):
    """The server asked the client to wait and ask again (:func:`harness.server.flow.pacing`)."""

    def __init__(self, message: str, pace: Pacing):
        super().__init__(message)
        self.pace = pace


def request_body(model: str, req: Request) -> dict[str, Any]:
    """The JSON body of ``req`` for ``model`` (OpenAI's Chat Completions or Completions, streamed with usage).

    A chat request with ``tools`` also carries ``tool_choice: "auto"`` (the model decides whether to call);
    its ``messages`` go as given, an assistant message's ``tool_calls`` and ``tool`` replies included.
    """
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": req.max_tokens,
        "temperature": req.temperature,
        "top_p": req.top_p,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if req.seed is not None:
        body["seed"] = req.seed
    if req.stop:
        body["stop"] = req.stop
    if req.ignore_eos:
        body["ignore_eos"] = True
    if req.api == "chat":
        body["messages"] = req.messages
        if req.chat_template_kwargs is not None:
            body["chat_template_kwargs"] = req.chat_template_kwargs
        if req.reasoning_effort is not None:
            body["reasoning_effort"] = req.reasoning_effort
        if req.tools:  # without tools the body is what it always was: no tools, no tool_choice
            body["tools"] = req.tools
            body["tool_choice"] = "auto"
    else:
        body["prompt"] = req.prompt
    return body


def usage_reasoning_tokens(usage: dict[str, Any]) -> int | None:
    """``usage.completion_tokens_details.reasoning_tokens`` when the server gives it (vLLM on CPU does not)."""
    details = usage.get("completion_tokens_details") or {}
    value = details.get("reasoning_tokens") if isinstance(details, dict) else None
    return value if isinstance(value, int) else None


@dataclass(frozen=True)
class ClientConfig:
    """How a client reaches one model on one server: what :class:`ModelClient` and the load generator's
    :class:`~harness.server.fastclient.FastClient` are both built from (picklable, so each load-generator
    process opens its own). Made by :meth:`harness.server.model_server.ModelServer.client_config`."""

    base_url: str
    """The OpenAI-compatible root, ending in ``/v1``."""
    model: str
    """The name sent as ``model``: the served model, or a LoRA adapter's name."""
    api_key: str | None = None
    api: Api | None = None
    """The API the requests are asked on (chat or completions; each :class:`Request` names it too)."""
    reasoning_parser: str | None = None
    """The server's reasoning parser, when it was started with one (thinking then arrives apart)."""
    timeout_s: float = 120.0
    """Each attempt's limit, and the most one answer waits on rate limits in all."""
    retries: int = 2
    load_timeout_s: float = 600.0
    """The most one answer waits on a model that is loading (``limits.server_start_timeout_s``)."""
    wait_when_asked: bool = True
    """False treats a server's request to wait as an ordinary retryable failure (the load sweep, which
    measures what a server sustains)."""

    @property
    def headers(self) -> dict[str, str]:
        """The request headers: the bearer key, when there is one."""
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}


class ModelClient:
    """Streaming client for one model behind an OpenAI-compatible base URL (built from a :class:`ClientConfig`)."""

    def __init__(
        self, config: ClientConfig, *, count_tokens: TokenCounter | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:  # fmt: skip
        """Hold ``config``'s settings as attributes (read once per request), then open the HTTP stack
        (:meth:`_open`, which :class:`~harness.server.fastclient.FastClient` replaces)."""
        self.config = config
        self.count_tokens = count_tokens
        """Counts output tokens for servers that send no usage (see :func:`count_missing_tokens`)."""
        self.base_url = config.base_url.rstrip("/")
        self.model = config.model
        self.timeout_s = config.timeout_s
        self.retries = config.retries
        self.load_timeout_s = config.load_timeout_s
        self.wait_when_asked = config.wait_when_asked
        self._open(transport)

    def _open(self, transport: httpx.AsyncBaseTransport | None) -> None:
        """Open the HTTP stack: an httpx client with the config's headers and timeouts."""
        timeout_s = self.timeout_s
        self._http = httpx.AsyncClient(
            headers=self.config.headers,
            timeout=httpx.Timeout(timeout_s, connect=min(10.0, timeout_s)),
            limits=httpx.Limits(max_connections=256, max_keepalive_connections=256),
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def generate(self, req: Request) -> Result:
        """Stream one answer; failures come back as ``Result.error``.

        A failure that may pass (timeout, connection error, 429 or 5xx, a stream cut short) is asked
        again up to ``retries`` times with exponential backoff; a server that paces requests
        (:class:`Paced`) is waited out within its budget without spending a retry (unless
        ``wait_when_asked`` is off); anything else (400, 401, 403, 404, a malformed stream) is asked once.
        """
        last_error = "no attempt made"
        waited_s = 0.0
        spent_s = {True: 0.0, False: 0.0}  # paced waits so far: loading (True), rate limits (False)
        attempt = failures = 0
        while True:
            attempt += 1
            result = Result(attempts=attempt, wait_ms=waited_s * 1000)
            try:
                await asyncio.wait_for(self._stream(req, result), timeout=self.timeout_s)
                count_missing_tokens(result, self.count_tokens)
                return result
            except StreamFault as exc:  # the server's error or a malformed stream (harness.server.sse)
                if not exc.retryable:
                    result.error = str(exc)
                    return result
                last_error = str(exc)
            except FatalError as exc:
                result.error = str(exc)
                return result
            except Paced as exc:
                last_error = str(exc)
                if self.wait_when_asked:
                    pace = exc.pace
                    result.error = self._beyond_budget(exc, spent_s[pace.loading])
                    if result.error is not None:
                        return result
                    await asyncio.sleep(pace.wait_s)
                    waited_s += pace.wait_s
                    spent_s[pace.loading] += pace.wait_s
                    continue
            except (RetryableError, httpx.TransportError, TimeoutError) as exc:
                last_error = _describe(exc, self.timeout_s)
            failures += 1
            if failures > self.retries:
                return Result(attempts=attempt, error=last_error, started_at=time.time(), wait_ms=waited_s * 1000)
            delay_s = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** (failures - 1))
            await asyncio.sleep(delay_s)
            waited_s += delay_s

    def _beyond_budget(self, exc: Paced, spent_s: float) -> str | None:
        """The answer's error when waiting as ``exc`` asks would pass its budget (``spent_s`` s of it
        waited already); None when the wait fits."""
        pace = exc.pace
        budget_s, limit = (
            (self.load_timeout_s, "limits.server_start_timeout_s")
            if pace.loading
            else (self.timeout_s, "limits.request_timeout_s")
        )
        if spent_s + pace.wait_s <= budget_s:
            return None
        return (
            f"{exc} ({pace.reason}): waiting {pace.wait_s:g} s would pass the {budget_s:g} s "
            f"{limit} allows ({spent_s:g} s waited already)"
        )[:500]

    async def _stream(self, req: Request, out: Result) -> None:
        path = "/chat/completions" if req.api == "chat" else "/completions"
        out.started_at = time.time()
        acc = AnswerBuilder(req.api, out, time.perf_counter(), tools=offered_names(req.tools))
        async with self._http.stream("POST", self.base_url + path, json=request_body(self.model, req)) as resp:
            if resp.status_code != 200:
                body = (await resp.aread()).decode("utf-8", errors="replace")[:2000]
                raise_for_status(resp.status_code, body, resp.headers.get("retry-after"))
            async with aclosing(aiter(ChunkStream(resp.aiter_lines()))) as chunks:  # closed here, not by the GC
                async for chunk in chunks:
                    acc.add(chunk, time.perf_counter())
        acc.finish()


def raise_for_status(status: int, body: str, retry_after: str | None = None) -> None:
    """For a reply that is not 200: :class:`Paced` when the server asks to wait (``retry_after``: its
    ``Retry-After`` header), :class:`RetryableError` (429, 5xx, ...) or :class:`FatalError` (400, 401,
    403, 404, ...), each with the server's message (``HTTP 404: The model `x` does not exist.``)."""
    msg = f"HTTP {status}: {error_text(body)}"
    pace = pacing(status, retry_after, body, time.time())
    if pace is not None:
        raise Paced(msg, pace)
    raise (RetryableError if status in RETRY_STATUS else FatalError)(msg)


class AnswerBuilder:
    """Builds a :class:`Result` from decoded chunks and the moments (``time.perf_counter`` s) they arrived.

    The timing rules of the module docstring live here, so every HTTP stack times alike.
    """

    def __init__(self, api: Api, out: Result, t0: float, *, tools: Collection[str] = ()):
        """``tools``: the names of the tools the request offered, so that calls written as text are read
        out of the answer (none: the answer is left as it is)."""
        self.api, self.out, self.t0, self.tools = api, out, t0, tools
        out.started_mono = t0
        self.last_content: float | None = None
        self.parts: list[tuple[str, float]] = []
        self.thoughts: list[str] = []
        self.calls = CallAssembler()
        self.last_call_ms: float | None = None

    def add(self, chunk: dict[str, Any], now: float) -> None:
        """Account one decoded chunk that arrived at ``now`` (the one reader of a chunk's text, thinking and role)."""
        out = self.out
        choices = chunk.get("choices")
        if choices:
            choice = choices[0]
            delta = choice.get("delta") or {}
            finish = choice.get("finish_reason")
            # a token chunk (its text may still be empty); usage and role-only chunks are not
            if not role_only(delta, finish):
                if self.last_content is None:
                    out.ttft_ms = (now - self.t0) * 1000
                else:
                    out.itl_ms.append((now - self.last_content) * 1000)
                self.last_content = now
                out.e2e_ms = (now - self.t0) * 1000
                text = delta.get("content") if self.api == "chat" else choice.get("text")
                self.parts.append((text or "", out.e2e_ms))
                self.thoughts.append(delta.get(REASONING_FIELDS[0]) or delta.get(REASONING_FIELDS[1]) or "")
                if self.calls.add(delta.get("tool_calls")):
                    self.last_call_ms = out.e2e_ms
            if finish:
                out.finish_reason = finish
        usage = chunk.get("usage")
        if usage:
            out.prompt_tokens = usage.get("prompt_tokens")
            out.output_tokens = usage.get("completion_tokens")
            out.reasoning_tokens = usage_reasoning_tokens(usage)

    def finish(self) -> None:
        """Separate the thinking from the answer and the calls (module :mod:`harness.server.tool_stream`);
        :class:`RetryableError` when no chunk finished it."""
        out = self.out
        if out.finish_reason is None:  # e.g. llama.cpp's server ends a stream a newer request interrupted
            raise RetryableError("stream ended without a finish reason: the server stopped the answer early")
        parts, in_text = self.parts, False
        out.tool_calls, out.tool_call_ms = self.calls.calls(), self.last_call_ms
        if not out.tool_calls and self.tools:
            found = calls_in_text("".join(text for text, _ in parts), self.tools)
            if found.calls:
                parts, out.tool_call_ms = take_out(parts, found.spans)
                out.tool_calls, in_text = found.calls, True
        sep = separate(parts, "".join(self.thoughts))
        out.text = sep.answer.strip() if in_text else sep.answer  # what remains beside the calls
        out.reasoning, out.reasoning_via, out.ttfat_ms = sep.reasoning, sep.via, sep.ttfat_ms
        out.cut_off_thinking = sep.cut_off and not out.tool_calls  # thinking, then a call: the call is the response


def _describe(exc: BaseException, timeout_s: float) -> str:
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return f"timed out after {timeout_s:g} s"
    if isinstance(exc, httpx.TransportError):
        return f"connection error: {type(exc).__name__}: {exc}"[:300]
    return str(exc)[:300]
