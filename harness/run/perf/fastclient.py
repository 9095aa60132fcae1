"""The load generator's HTTP stack: aiohttp, with each chunk timed when its bytes arrive.

:class:`FastClient` is a :class:`~harness.run.client.ModelClient` (same request body,
retries, error texts, and the timing rules of :class:`~harness.run.client.AnswerBuilder`)
whose stream is read with aiohttp, the stack ``vllm bench serve`` uses: its C HTTP parser
is far cheaper per chunk than httpx's, and ``iter_any`` hands over every byte already
received, so the clock is read once per read, as the bytes arrive, and then the lines of
that read are split and decoded. A chunk is timed at the read that completed it, not when
the parser reached it.
"""

from __future__ import annotations

import json
import time
from typing import Any

import aiohttp

from harness.run.client import (
    AnswerBuilder,
    ModelClient,
    Request,
    Result,
    RetryableError,
    TokenCounter,
    raise_for_status,
    request_body,
)
from harness.run.sse import DONE, SseDecoder, StreamFault, body_error, decode_chunk


class FastClient(ModelClient):
    """A :class:`ModelClient` on aiohttp; open it inside the event loop that uses it."""

    def __init__(self, base_url: str, model: str, api_key: str | None = None, timeout_s: float = 120.0,
                 retries: int = 2, count_tokens: TokenCounter | None = None, max_connections: int = 0):  # fmt: skip
        """``max_connections``: 0 for no limit (one connection per request in flight)."""
        headers = self._identify(base_url, model, api_key, timeout_s, retries, count_tokens)
        self._session = aiohttp.ClientSession(
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout_s, connect=min(10.0, timeout_s)),
            connector=aiohttp.TCPConnector(limit=max_connections, limit_per_host=0, force_close=False),
        )

    async def aclose(self) -> None:
        await self._session.close()

    async def _stream(self, req: Request, out: Result) -> None:
        path = "/chat/completions" if req.api == "chat" else "/completions"
        out.started_at = time.time()
        acc = AnswerBuilder(req.api, out, time.perf_counter())
        try:
            async with self._session.post(self.base_url + path, json=request_body(self.model, req)) as resp:
                if resp.status != 200:
                    raise_for_status(resp.status, (await resp.read()).decode("utf-8", errors="replace")[:500])
                await read_events(resp.content, acc)
        except aiohttp.ClientError as exc:
            raise RetryableError(f"connection error: {type(exc).__name__}: {exc}"[:300]) from exc
        acc.finish()


async def read_events(content: aiohttp.StreamReader, acc: AnswerBuilder) -> None:
    """Feed every chunk of the body to ``acc``, each with the moment its last byte was read.

    A ``data: {...}`` line with nothing pending is decoded straight from bytes (the way vLLM
    sends every chunk); anything else goes through :class:`~harness.run.sse.SseDecoder`, so
    the faults :class:`~harness.run.sse.ChunkStream` raises are raised alike (the server's
    error, a malformed chunk, a body that stopped before ``[DONE]``).
    """
    decoder = SseDecoder()
    rest = b""
    async for data in content.iter_any():
        now = time.perf_counter()
        lines = (rest + data).split(b"\n")
        rest = lines.pop()
        for raw in lines:
            if _line(raw, decoder, acc, now):
                return
    if rest and _line(rest, decoder, acc, time.perf_counter()):
        return
    for event in decoder.close():
        if event.data.strip() == DONE:
            return
        acc.add(decode_chunk(event), time.perf_counter())
    raise body_error(decoder) or StreamFault("stream ended before [DONE]", retryable=True)


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
