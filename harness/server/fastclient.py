"""The load generator's HTTP stack: aiohttp, with each chunk timed when its bytes arrived.

:class:`FastClient` is a :class:`~harness.server.client.ModelClient` (same request body,
retries, error texts, and the timing rules of :class:`~harness.server.client.AnswerBuilder`)
whose stream is read with aiohttp, the stack ``vllm bench serve`` uses: its C HTTP parser
is far cheaper per chunk than httpx's.

**When a chunk arrived.** A client that reads the clock when its task gets round to a chunk
times every chunk late by the work queued ahead of it: with 64 streams whose chunks come in
the same instant, the last one waits for 63 tasks to run (measured: ~1 ms p50, 3 ms p99 at
6,400 chunks/s on one core; ``vllm bench serve`` times this way). Here the connection's
protocol (:class:`_StampingHandler`, aiohttp's own ``ResponseHandler`` with one method
extended) reads the clock at every socket read, before the bytes are parsed, and notes how
many body bytes had arrived by then; each chunk is timed at the read that completed it. An
event loop runs all the reads of one poll before any task, so a chunk is stamped within
microseconds of its read however much parsing waits. When the connection did not stamp
(an aiohttp that builds its connections some other way: :func:`stamping` is None), a chunk
is timed when the reader gets its bytes.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp.client_proto import ResponseHandler

from harness.server.client import (
    AnswerBuilder,
    ClientConfig,
    FatalError,
    ModelClient,
    Request,
    Result,
    RetryableError,
    TokenCounter,
    raise_for_status,
    request_body,
)
from harness.server.sse import DONE, SseDecoder, StreamFault, decode_chunk, raise_unfinished
from harness.server.tool_stream import offered_names

READ_BUFSIZE = 2**20
"""aiohttp's read buffer per response (bytes): a connection stops being read once twice this is unread."""


class FastClient(ModelClient):
    """A :class:`ModelClient` on aiohttp; open it inside the event loop that uses it."""

    def __init__(
        self, config: ClientConfig, *, count_tokens: TokenCounter | None = None, decode_later: bool = False
    ) -> None:
        """One connection per request in flight, no limit (the load level sets how many).

        ``decode_later``: a stamped answer's body is kept undecoded, with only its TTFT read,
        until :meth:`decode_pending` (the load generator decodes after a level, so the level's
        event loop does no parsing). ValueError with retries or a token counter: a fault
        found later cannot be retried, and there is no text to count yet.
        """
        if decode_later and (config.retries or count_tokens is not None):
            raise ValueError("decode_later takes no retries and no token counter")
        self.decode_later = decode_later
        self._later: list[StampedBody] = []
        super().__init__(config, count_tokens=count_tokens)

    def _open(self, transport: object = None) -> None:
        """Open an aiohttp session whose connections stamp each socket read (no ``transport``: aiohttp has none)."""
        timeout_s = self.timeout_s
        self._session = aiohttp.ClientSession(
            headers=self.config.headers,
            timeout=aiohttp.ClientTimeout(total=timeout_s, connect=min(10.0, timeout_s)),
            connector=_StampingConnector(limit=0, limit_per_host=0, force_close=False),
            read_bufsize=READ_BUFSIZE,
        )

    async def aclose(self) -> None:
        await self._session.close()

    async def _stream(self, req: Request, out: Result) -> None:
        path = "/chat/completions" if req.api == "chat" else "/completions"
        out.started_at = time.time()
        acc = AnswerBuilder(req.api, out, time.perf_counter(), tools=offered_names(req.tools))
        try:
            async with self._session.post(self.base_url + path, json=request_body(self.model, req)) as resp:
                if resp.status != 200:
                    body_text = (await resp.read()).decode("utf-8", errors="replace")[:2000]
                    raise_for_status(resp.status, body_text, resp.headers.get("Retry-After"))
                conn = stamping(resp)
                if conn is None:
                    await read_events(resp.content, acc)
                    acc.finish()
                    return
                body = await read_body(resp.content, conn)
        except aiohttp.ClientError as exc:
            raise RetryableError(f"connection error: {type(exc).__name__}: {exc}"[:300]) from exc
        later = StampedBody(acc, body, conn.arrivals)
        if self.decode_later:
            out.ttft_ms = later.first_token_ms()
            self._later.append(later)
        else:
            later.decode()

    def decode_pending(self) -> None:
        """Decode every answer kept by ``decode_later``, in place: its text, timings and tokens, or its error."""
        for later in self._later:
            out = later.acc.out
            try:
                later.decode()
            except (StreamFault, RetryableError, FatalError) as exc:
                out.error = str(exc)[:300]
                out.ttft_ms = out.e2e_ms = None
                out.itl_ms = []
        self._later.clear()


Arrivals = list[tuple[int, float]]
"""(body bytes received so far, ``time.perf_counter`` s of the socket read that brought them), in order."""


WAKE_BYTES = 2**19
"""Unread body bytes at which a stamped response's reader is woken to take them (aiohttp stops reading a
connection once twice its read buffer, :data:`READ_BUFSIZE`, is unread)."""


class _StampingHandler(ResponseHandler):
    """aiohttp's connection protocol, noting at each socket read how much of the body had arrived.

    It also wakes the response's reader (:func:`read_body`) when the body ends, when the
    connection is lost, or when :data:`WAKE_BYTES` are unread; not per chunk.
    """

    def __init__(self, loop: Any) -> None:
        super().__init__(loop)
        self.stamped: Any = None
        self.arrivals: Arrivals = []
        self.taken = 0
        """Body bytes of the stamped response its reader has taken."""
        self.wake = asyncio.Event()

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        super().data_received(data)
        payload = self._payload
        received = getattr(payload, "total_bytes", None)
        if payload is None or received is None:
            return
        if payload is not self.stamped:  # a new response on this connection
            self.stamped, self.arrivals, self.taken = payload, [], 0
            payload.on_eof(self.wake.set)
        self.arrivals.append((received, now))
        if received - self.taken >= WAKE_BYTES:
            self.wake.set()

    def connection_lost(self, exc: BaseException | None) -> None:
        super().connection_lost(exc)
        self.wake.set()


class _StampingConnector(aiohttp.TCPConnector):
    """A TCPConnector whose connections are :class:`_StampingHandler` (aiohttp builds them with ``_factory``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(getattr(self, "_factory", None), functools.partial):  # every aiohttp 3.x so far
            self._factory = functools.partial(_StampingHandler, loop=self._loop)  # type: ignore[assignment]


def stamping(resp: aiohttp.ClientResponse) -> _StampingHandler | None:
    """The connection that stamps ``resp``'s body as it arrives; None when it does not."""
    conn = resp.connection
    proto = conn.protocol if conn is not None else None
    if isinstance(proto, _StampingHandler) and proto.stamped is resp.content:
        return proto
    return None


class _Lines:
    """Splits a body's bytes into lines and hands each to the SSE handling, timed by ``stamps`` or as given."""

    def __init__(self, acc: AnswerBuilder, stamps: Arrivals | None):
        self.acc, self.stamps, self.decoder = acc, stamps, SseDecoder()
        self.rest = b""
        self.done = 0  # body bytes before ``rest``
        self.k = 0  # first stamp not yet passed

    def feed(self, data: bytes, now: float, until_token: bool = False) -> bool:
        """Handle every whole line of ``data`` (read at ``now``); True at ``[DONE]`` (or the first token)."""
        lines = (self.rest + data).split(b"\n")
        self.rest = lines.pop()
        stamps = self.stamps
        for raw in lines:
            self.done += len(raw) + 1
            at = now
            if stamps is not None:
                while self.k < len(stamps) and stamps[self.k][0] < self.done:
                    self.k += 1
                if self.k < len(stamps):
                    at = stamps[self.k][1]
            if _line(raw, self.decoder, self.acc, at) or (until_token and self.acc.last_content is not None):
                return True
        return False

    def close(self) -> None:
        """The body ended: handle what is left; :class:`StreamFault` unless ``[DONE]`` or a finish reason came."""
        if self.rest and _line(self.rest, self.decoder, self.acc, time.perf_counter()):
            return
        for event in self.decoder.close():
            if event.data.strip() == DONE:
                return
            self.acc.add(decode_chunk(event), time.perf_counter())
        raise_unfinished(self.decoder, self.acc.out.finish_reason is not None)


async def read_events(content: aiohttp.StreamReader, acc: AnswerBuilder) -> None:
    """Feed every chunk of the body to ``acc`` as it comes, each with the moment the reader got its
    bytes (a connection that does not stamp; else :func:`read_body` and :class:`StampedBody`).

    A ``data: {...}`` line with nothing pending is decoded
    straight from bytes (the way vLLM sends every chunk); anything else goes through
    :class:`~harness.server.sse.SseDecoder`, so the faults :class:`~harness.server.sse.ChunkStream`
    raises are raised alike (the server's error, a malformed chunk, a body that stopped
    before ``[DONE]``).
    """
    lines = _Lines(acc, None)
    async for data in content.iter_any():
        if lines.feed(data, time.perf_counter()):
            return
    lines.close()


async def read_body(content: aiohttp.StreamReader, conn: _StampingHandler) -> bytes:
    """The whole body of a response its connection stamps, read when it has ended.

    The stamps already say when each chunk arrived, so the reader need not wake per chunk:
    it sleeps until the connection wakes it (:class:`_StampingHandler`: the body ended, the
    connection was lost, or :data:`WAKE_BYTES` are unread) and takes what has come. A chunk
    costs the client one socket read and the parser's callback, not a task switch: the CPU
    a load generator saves is left to the streams beside it and to the server.
    """
    parts = []
    while True:
        conn.wake.clear()
        ended = content.is_eof()
        data = content.read_nowait()
        conn.taken += len(data)
        parts.append(data)
        if ended:
            return b"".join(parts)
        await conn.wake.wait()


@dataclass
class StampedBody:
    """A stamped body read whole, to decode into ``acc`` (now or after the level)."""

    acc: AnswerBuilder
    body: bytes
    stamps: Arrivals

    def decode(self) -> None:
        """Every chunk into ``acc`` at its stamp, then ``acc.finish()``; the faults of :func:`read_events`."""
        lines = _Lines(self.acc, self.stamps)
        if not lines.feed(self.body, self.stamps[-1][1] if self.stamps else time.perf_counter()):
            lines.close()
        self.acc.finish()

    def first_token_ms(self) -> float | None:
        """The TTFT (ms) alone, from the first lines up to the first token chunk; None if there is none."""
        scratch = AnswerBuilder(self.acc.api, Result(), self.acc.t0)
        try:
            _Lines(scratch, self.stamps).feed(self.body, time.perf_counter(), until_token=True)
        except (StreamFault, RetryableError):
            return None
        return scratch.out.ttft_ms


def _line(raw: bytes, decoder: SseDecoder, acc: AnswerBuilder, now: float) -> bool:
    """Handle one line (without its ``\\n``); True at ``[DONE]``."""
    idle = not decoder._data and decoder._kind == "message"
    if idle and raw.startswith(b"data: {"):
        chunk = _plain_chunk(raw[6:])
        if chunk is not None:
            decoder.events += 1
            acc.add(chunk, now)
            return False
    if idle and raw in (b"", b"\r"):
        return False
    for event in decoder.feed(raw.decode("utf-8", errors="replace").removesuffix("\r")):
        if event.data.strip() == DONE:
            return True
        acc.add(decode_chunk(event), now)
    return False


def _plain_chunk(data: bytes) -> dict[str, Any] | None:
    """A well-formed token or usage chunk parsed from ``data``; None for anything the full decoder must judge."""
    try:
        chunk = json.loads(data)
    except ValueError:
        return None  # e.g. one JSON object over several data lines
    if not isinstance(chunk, dict) or "error" in chunk:
        return None
    choices = chunk.get("choices")
    usage = chunk.get("usage")
    if not isinstance(choices, list) or (usage is not None and not isinstance(usage, dict)):
        return None
    for c in choices:
        delta = c.get("delta") if isinstance(c, dict) else None
        if not isinstance(c, dict) or not isinstance(delta, dict | None):
            return None
        if not isinstance((delta or {}).get("content"), str | None) or not isinstance(c.get("text"), str | None):
            return None
    return chunk
