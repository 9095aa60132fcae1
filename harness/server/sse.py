"""Server-sent events as OpenAI-compatible servers send them (pure: no I/O, no clock).

vLLM sends one ``data: {json}`` line and a blank line per chunk. Other servers and
proxies differ within what the format allows, and some beyond it; each difference
below was met with a real endpoint:

- an empty ``data:`` line (a keep-alive) is skipped;
- one JSON object over several ``data:`` lines is one event (the lines join with a
  newline, as the format says);
- ``event: error`` carries the server's own message;
- an event of any other named type (``event: ping``, sent by some gateways as a heartbeat) is
  skipped: by the SSE format (WHATWG HTML, "Server-sent events") the ``event`` field sets the
  event's type, and only the default type (``message``) carries completion chunks;
- a stream that ends after a chunk with a finish reason but without ``data: [DONE]`` (some
  llama.cpp builds, TGI, gateways) is complete: the finish reason says the answer is whole;
- consecutive ``data:`` lines with no blank line between them, each a whole JSON
  object, are separate events (a common fault of hand-written servers);
- a body that is not an event stream at all (an HTTP 200 with an error object) is
  kept, so its message can be shown.

:func:`decode_chunk` turns one event's data into a chunk or a :class:`StreamFault`
that says what was wrong, never a bare ``json`` traceback.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterable
from dataclasses import dataclass, field
from typing import Any

DONE = "[DONE]"
PASSED_KINDS = frozenset({"message", "error"})
"""Event types whose data the client reads: the default (chunks) and ``error`` (the server's message)."""
STRAY_KEEP_CHARS = 2000


class StreamFault(Exception):
    """A stream the client cannot use: the server's error or a malformed chunk."""

    def __init__(self, message: str, retryable: bool = False):
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class Event:
    data: str
    kind: str = "message"
    """The ``event:`` field (``message`` when absent)."""


def _complete(data: str) -> bool:
    """Whether ``data`` is a whole payload by itself (the end marker or one JSON value)."""
    if data.strip() == DONE:
        return True
    try:
        json.loads(data)
    except ValueError:
        return False
    return True


@dataclass
class SseDecoder:
    """Feed lines (without their line ending); get back the events they complete."""

    _data: list[str] = field(default_factory=list)
    _kind: str = "message"
    stray: list[str] = field(default_factory=list)
    """Lines that are no event-stream field (a JSON error body sent instead of events)."""
    events: int = 0
    """Events dispatched so far (keep-alives not counted)."""

    def feed(self, line: str) -> list[Event]:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return []  # a comment: some servers' keep-alive
        name, sep, value = line.partition(":")
        if not sep or name not in ("data", "event", "id", "retry"):
            if sum(map(len, self.stray)) < STRAY_KEEP_CHARS:
                self.stray.append(line)
            return []
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            self._kind = value.strip() or "message"
            return []
        if name != "data":
            return []
        out: list[Event] = []
        if self._data and _complete("\n".join(self._data)) and value.strip():
            out = self._dispatch()  # no blank line between two whole events
        self._data.append(value)
        if value.strip() == DONE and len(self._data) == 1:
            out += self._dispatch()  # the end marker needs no blank line to be acted on
        return out

    def close(self) -> list[Event]:
        """Events left when the body ends without a final blank line."""
        return self._dispatch()

    def _dispatch(self) -> list[Event]:
        data, kind = "\n".join(self._data), self._kind
        self._data, self._kind = [], "message"
        if not data.strip():
            return []  # keep-alive (or a stray blank line)
        if kind not in PASSED_KINDS:
            return []  # a named event of another type (``event: ping``): no completion chunk
        self.events += 1
        return [Event(data, kind)]


def error_text(data: str) -> str:
    """The message of an error payload, on one line of at most 300 characters.

    ``{"error": {"message": m}}`` (OpenAI, vLLM), ``{"message": m}`` (some gateways, Ollama),
    ``{"error": m}`` (TGI, llama.cpp), ``{"detail": m}`` (FastAPI servers) -> m; else the text itself.
    """
    try:
        obj = json.loads(data)
    except ValueError:
        return _one_line(data)
    if isinstance(obj, dict):
        inner = obj.get("error", obj)
        if isinstance(inner, dict):
            msg = inner.get("message", inner.get("detail", inner))
            return _one_line(str(msg))
        return _one_line(str(obj.get("message", inner)))
    return _one_line(str(obj))


def _one_line(text: str, n: int = 300) -> str:
    """``text`` with its whitespace runs (newlines included) made one space, cut to ``n`` characters."""
    return " ".join(text.split())[:n]


RETRYABLE_CODES = frozenset({408, 409, 429, 500, 502, 503, 504})


def _error_fault(payload: Any, raw: str) -> StreamFault:
    inner = payload.get("error", payload) if isinstance(payload, dict) else payload
    code = inner.get("code") if isinstance(inner, dict) else None
    retryable = isinstance(code, int) and code in RETRYABLE_CODES
    return StreamFault(f"server error in stream: {error_text(raw)}", retryable=retryable)


def decode_chunk(event: Event) -> dict[str, Any]:
    """The chunk of one event; :class:`StreamFault` for the server's error or a malformed chunk."""
    data = event.data
    if event.kind == "error":
        try:
            payload: Any = json.loads(data)
        except ValueError:
            payload = data
        raise _error_fault(payload, data)
    try:
        chunk = json.loads(data)
    except ValueError:
        raise StreamFault(f"malformed stream: a chunk is not JSON: {_clip(data)}") from None
    if not isinstance(chunk, dict):
        raise StreamFault(f"malformed stream: a chunk is a JSON {type(chunk).__name__}, not an object: {_clip(data)}")
    if "error" in chunk:
        raise _error_fault(chunk, data)
    if chunk.get("usage") is not None and not isinstance(chunk["usage"], dict):
        raise StreamFault(f"malformed stream: a chunk's usage is not an object: {_clip(data)}")
    if "choices" not in chunk:
        if "usage" in chunk:
            return chunk
        raise StreamFault(f"malformed stream: a chunk has no choices: {_clip(data)}")
    choices = chunk["choices"]
    if not isinstance(choices, list) or not all(_well_formed(c) for c in choices):
        raise StreamFault(f"malformed stream: a chunk's choices are not choice objects: {_clip(data)}")
    return chunk


def _well_formed(choice: Any) -> bool:
    """A choice object whose delta is an object and whose texts are strings (or absent)."""
    if not isinstance(choice, dict):
        return False
    delta = choice.get("delta", {})
    if delta is None:
        delta = {}
    if not isinstance(delta, dict):
        return False
    return all(isinstance(t, str | None) for t in (delta.get("content"), choice.get("text")))


def finish_reason(chunk: dict[str, Any]) -> str | None:
    """The chunk's finish reason; None when it has none, or an empty one (``""``: Ollama's role chunk)."""
    choices = chunk.get("choices") or []
    reason = choices[0].get("finish_reason") if choices else None
    return reason or None


def raise_unfinished(decoder: SseDecoder, finished: bool) -> None:
    """At the end of a body without ``[DONE]``: nothing when a finish reason came (the answer is whole),
    else the server's error of a body that was no stream, or a retryable "stream ended before [DONE]"."""
    if finished:
        return
    raise body_error(decoder) or StreamFault("stream ended before [DONE]", retryable=True)


def role_only(delta: dict[str, Any], finish: Any) -> bool:
    """Whether a chat choice (its ``delta`` and ``finish_reason``) only announces the assistant's role
    (``{"role": "assistant"}``, no content key).

    Some servers send it the moment the request arrives, before the first token; it
    must not start TTFT. vLLM's first chunk carries ``"content": ""`` beside the role
    and comes with the first token, so it still counts, as in ``vllm bench serve``.
    A role chunk with ``"finish_reason": ""`` (Ollama) is role-only too when its texts are
    empty: an empty finish reason is none, and vLLM never sends one.
    """
    if "role" not in delta:
        return False
    if finish is None:
        return all(v is None for k, v in delta.items() if k != "role")
    if finish == "":
        return not any(v for k, v in delta.items() if k != "role")
    return False


def body_error(decoder: SseDecoder) -> StreamFault | None:
    """Why a body with no events failed: the server's error object, or that it did not stream."""
    if decoder.events or not decoder.stray:
        return None
    body = "\n".join(decoder.stray)
    try:
        obj = json.loads(body)
    except ValueError:
        return StreamFault(f"the server did not stream (its reply is not server-sent events): {_clip(body)}")
    if isinstance(obj, dict) and ("error" in obj or ("message" in obj and "choices" not in obj)):
        return _error_fault(obj, body)
    return StreamFault(f"the server did not stream (its reply is not server-sent events): {_clip(body)}")


class ChunkStream:
    """The chunks of a streamed reply, in order, up to ``[DONE]``; iterate once.

    Raises :class:`StreamFault` for the server's error or a malformed chunk, and at the
    end of a body that stopped before ``[DONE]`` with no finish reason (with the server's
    message when the body was an error object rather than events).
    """

    def __init__(self, lines: AsyncIterable[str]):
        self._lines = lines
        self.decoder = SseDecoder()
        self.finished = False
        """A chunk with a (non-empty) finish reason has passed."""

    def _chunk(self, event: Event) -> dict[str, Any]:
        chunk = decode_chunk(event)
        self.finished = self.finished or finish_reason(chunk) is not None
        return chunk

    async def __aiter__(self) -> AsyncGenerator[dict[str, Any], None]:
        """The chunks; the lines' source is closed when they end, stop at ``[DONE]`` or this is closed."""
        try:
            async for line in self._lines:
                for event in self.decoder.feed(line):
                    if event.data.strip() == DONE:
                        return
                    yield self._chunk(event)
            for event in self.decoder.close():
                if event.data.strip() == DONE:
                    return
                yield self._chunk(event)
            raise_unfinished(self.decoder, self.finished)
        finally:
            # not left to the garbage collector, whose finalizer task, collected before it ran,
            # printed "Task was destroyed but it is pending!"
            close = getattr(self._lines, "aclose", None)
            if close is not None:
                await close()


def _clip(text: str, n: int = 120) -> str:
    text = text.replace("\n", "\\n")
    return text if len(text) <= n else text[:n] + "…"
