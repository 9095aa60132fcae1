"""A fake OpenAI-compatible streaming server whose timing is known exactly (the known-truth benchmark).

Every ``POST /v1/chat/completions`` or ``/v1/completions`` is answered with a stream of
``tokens`` chunks: the first ``ttft_ms`` after the request arrived, then one every ``itl_ms``,
each on an absolute schedule (no drift), then a usage chunk and ``[DONE]``. Each chunk
carries ``"sent"``: the :func:`time.perf_counter` reading (seconds, CLOCK_MONOTONIC on Linux,
shared by every process of the machine) at the moment it was written to the socket, so a
client on the same machine can measure its own lag per chunk, apart from the server's
lateness. The first chunk's text is ``<rid>`` (the request's number), so a client's answers
can be matched with the server's record of them.

``GET /truth`` returns the record of every request answered since the last call, as
``{"requests": [{"rid", "arrival", "scheduled": [s], "sent": [s]}]}`` and clears it.

Run it in its own process (``python -m harness_bench.truth_server --port 8123``) so its
work never shares an event loop with the client under test; it uses uvloop when installed.
HTTP/1.1 keep-alive with chunked transfer encoding; no TLS, no auth (any key is accepted).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

CHAT_PATH = "/v1/chat/completions"
COMPLETIONS_PATH = "/v1/completions"


@dataclass(frozen=True)
class Timing:
    """The truth: time to first token, inter-token latency (ms) and output tokens per request."""

    ttft_ms: float = 50.0
    itl_ms: float = 10.0
    tokens: int = 64
    max_running: int = 0
    """Requests streamed at once (0: no limit); the rest wait in arrival order, like a server's batch."""


@dataclass
class Served:
    """The server's record of one answered request (perf_counter seconds)."""

    rid: int
    arrival: float
    scheduled: list[float] = field(default_factory=list)
    sent: list[float] = field(default_factory=list)


def schedule(arrival: float, t: Timing) -> list[float]:
    """Send times (s) of the ``t.tokens`` chunks of a request that arrived at ``arrival`` (s)."""
    first = arrival + t.ttft_ms / 1000
    return [first + k * t.itl_ms / 1000 for k in range(t.tokens)]


def _chunk(chat: bool, text: str, sent: float, finish: str | None) -> bytes:
    fin = "null" if finish is None else f'"{finish}"'
    choice = f'"delta":{{"content":"{text}"}}' if chat else f'"text":"{text}"'
    kind = "chat.completion.chunk" if chat else "text_completion"
    body = (f'{{"id":"x","object":"{kind}","model":"fake","choices":[{{"index":0,{choice},'
            f'"finish_reason":{fin}}}],"sent":{sent:.7f}}}')  # fmt: skip
    return b"data: " + body.encode() + b"\n\n"


def _http_chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


class _Conn(asyncio.Protocol):
    def __init__(self, app: TruthServer):
        self.app = app
        self.buf = b""
        self.transport: asyncio.Transport | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            head_end = self.buf.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buf[:head_end].decode("latin-1").split("\r\n")
            length = 0
            for line in head[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if len(self.buf) < head_end + 4 + length:
                return
            body = self.buf[head_end + 4 : head_end + 4 + length]
            self.buf = self.buf[head_end + 4 + length :]
            method, path = [*head[0].split(" "), "", ""][:2]
            self.app.handle(self, method, path, body)

    def write(self, data: bytes) -> None:
        if not self.closed and self.transport is not None:
            self.transport.write(data)


class TruthServer:
    """The protocol factory and the record of answered requests."""

    def __init__(self, timing: Timing):
        self.timing = timing
        self.served: list[Served] = []
        self.next_rid = 0
        self.running = 0
        self.waiting: deque[tuple[_Conn, bool, int, float]] = deque()

    def handle(self, conn: _Conn, method: str, path: str, body: bytes) -> None:
        path = path.split("?")[0]
        if method == "GET" and path == "/truth":
            out = {"requests": [s.__dict__ for s in self.served]}
            self.served = []
            return self._reply(conn, 200, json.dumps(out).encode(), "application/json")
        if method == "GET" and path in ("/v1/models", "/health"):
            return self._reply(conn, 200, b'{"object":"list","data":[{"id":"fake","object":"model"}]}',
                               "application/json")  # fmt: skip
        if method != "POST" or path not in (CHAT_PATH, COMPLETIONS_PATH):
            return self._reply(conn, 404, b'{"error":{"message":"not found"}}', "application/json")
        self._admit(conn, path == CHAT_PATH, _max_tokens(body, self.timing.tokens), time.perf_counter())

    def _admit(self, conn: _Conn, chat: bool, tokens: int, arrival: float) -> None:
        if self.timing.max_running and self.running >= self.timing.max_running:
            self.waiting.append((conn, chat, tokens, arrival))
            return
        self.running += 1
        self._stream(conn, chat, tokens, arrival)

    def _done(self) -> None:
        self.running -= 1
        if self.waiting:
            self._admit(*self.waiting.popleft())

    def _reply(self, conn: _Conn, status: int, body: bytes, ctype: str) -> None:
        conn.write(b"HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s"
                   % (status, ctype.encode(), len(body), body))  # fmt: skip

    def _stream(self, conn: _Conn, chat: bool, tokens: int, arrival: float) -> None:
        """Stream from now on (a queued request's schedule starts when it is admitted; its arrival stays)."""
        start = time.perf_counter()
        rec = Served(self.next_rid, arrival, schedule(start, Timing(self.timing.ttft_ms, self.timing.itl_ms, tokens)))
        self.next_rid += 1
        self.served.append(rec)
        conn.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
        loop = asyncio.get_running_loop()
        offset = loop.time() - time.perf_counter()  # loop clock vs perf_counter

        def send(k: int) -> None:
            if conn.closed:
                self._done()
                return
            now = time.perf_counter()
            if now < rec.scheduled[k]:  # uvloop rounds timers to 1 ms: a chunk is never sent before its time
                loop.call_at(rec.scheduled[k] + offset + 0.0005, send, k)
                return
            last = k == len(rec.scheduled) - 1
            text = f"<{rec.rid}>" if k == 0 else " t"
            data = _chunk(chat, text, now, "length" if last else None)
            if last:
                usage = {"prompt_tokens": 8, "completion_tokens": tokens, "total_tokens": 8 + tokens}
                data += b"data: " + json.dumps({"id": "x", "choices": [], "usage": usage}).encode() + b"\n\n"
                data += b"data: [DONE]\n\n"
            rec.sent.append(now)
            conn.write(_http_chunk(data) + (b"0\r\n\r\n" if last else b""))
            if last:
                self._done()
            else:
                loop.call_at(rec.scheduled[k + 1] + offset, send, k + 1)

        loop.call_at(rec.scheduled[0] + offset, send, 0)


def _max_tokens(body: bytes, default: int) -> int:
    try:
        req: dict[str, Any] = json.loads(body or b"{}")
    except ValueError:
        return default
    n = req.get("max_completion_tokens") or req.get("max_tokens") or default
    return max(1, int(n))


async def serve(port: int, timing: Timing, host: str = "127.0.0.1") -> None:
    loop = asyncio.get_running_loop()
    app = TruthServer(timing)
    server = await loop.create_server(lambda: _Conn(app), host, port, backlog=4096)
    print(f"truth server on http://{host}:{port}/v1 (ttft {timing.ttft_ms} ms, itl {timing.itl_ms} ms)", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="fake streaming server with exact TTFT/ITL")
    p.add_argument("--port", type=int, default=8123)
    p.add_argument("--ttft-ms", type=float, default=50.0)
    p.add_argument("--itl-ms", type=float, default=10.0)
    p.add_argument("--tokens", type=int, default=64, help="output tokens when the request sets no max_tokens")
    p.add_argument("--max-running", type=int, default=0, help="requests streamed at once; the rest queue (0: all)")
    a = p.parse_args(argv)
    runner = asyncio.run
    try:
        import uvloop

        runner = uvloop.run  # type: ignore[assignment]
    except ImportError:
        pass
    runner(serve(a.port, Timing(a.ttft_ms, a.itl_ms, a.tokens, a.max_running)))


if __name__ == "__main__":
    main()
