"""An in-process HTTP server that answers every POST with exact bytes, on a schedule.

For stream faults a real server cannot be made to show: each reply is a status,
headers and a list of ``(delay_s, bytes)`` pieces, written and flushed one by
one on a real socket, so the client meets real chunking and real delays.
GET answers ``/health`` with a chosen status and, when asked, ``/metrics`` with
successive Prometheus texts (the metrics poller's tests).

Use it for anything that must meet a real socket in the test process: a candidate or
judge endpoint with fixed replies, a stream cut or delayed, a 429 with Retry-After,
a /metrics scrape. For timing figures known in advance, under load, use the truth
server instead (:mod:`tests.support.truth`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from harness.server.vllm_server import free_port
from tests.support.files import write_yaml

ANSWER = "年假5天，严禁短接，应停机报修。"
"""Scores 1.0 on the question of :func:`run_plan`."""


@dataclass
class Reply:
    pieces: list[tuple[float, bytes]]
    status: int = 200
    content_type: str = "text/event-stream"
    headers: dict[str, str] = field(default_factory=dict)
    """Further response headers (``Retry-After``)."""


@dataclass
class FakeServer:
    base_url: str
    requests: list[bytes] = field(default_factory=list)
    """The body of each POST, in order."""
    authorizations: list[str] = field(default_factory=list)
    """The ``Authorization`` header of each GET of ``/metrics`` ("" when absent), in order."""


def sse_bytes(*events: str) -> bytes:
    """``data: <event>`` blocks, each ended by a blank line, as vLLM writes them."""
    return "".join(f"data: {e}\n\n" for e in events).encode()


@contextmanager
def fake_server(
    reply: Callable[[int], Reply] | None = None,
    health: Callable[[], int] | None = None,
    metrics: Callable[[int], str] | None = None,
    answer: Callable[[bytes], Reply] | None = None,
) -> Iterator[FakeServer]:
    """Serve ``reply(n)`` for the n-th POST (1-based) on 127.0.0.1; yields its /v1 base URL.

    ``answer``: instead of ``reply``, the reply to a POST's body (for requests sent at once, whose order of
    arrival is not theirs: the load sweep's).

    ``reply`` None: POST is not served (501). ``health``: the status of every other GET (``/health``),
    empty-bodied; None: such a GET is not served (501). ``metrics``: the text of the n-th GET of
    ``/metrics`` (1-based, ``text/plain; version=0.0.4``); None: ``/metrics`` is a GET like any other."""
    seen: list[bytes] = []
    authorizations: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            if metrics is not None and self.path == "/metrics":
                authorizations.append(self.headers.get("Authorization", ""))
                body = metrics(len(authorizations)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True
                return
            if health is None:
                self.send_error(501)
                return
            self.send_response(health())
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True

        def do_POST(self) -> None:
            if reply is None and answer is None:
                self.send_error(501)
                return
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            seen.append(body)
            r = answer(body) if answer is not None else reply(len(seen))  # type: ignore[misc]
            self.send_response(r.status)
            self.send_header("Content-Type", r.content_type)
            self.send_header("Connection", "close")
            for name, value in r.headers.items():
                self.send_header(name, value)
            self.end_headers()
            for delay_s, piece in r.pieces:
                time.sleep(delay_s)
                self.wfile.write(piece)
                self.wfile.flush()
            self.close_connection = True

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield FakeServer(f"http://127.0.0.1:{server.server_address[1]}/v1", seen, authorizations)
    finally:
        server.shutdown()
        server.server_close()


def chunk(text: str | None = None, finish: str | None = None, role: bool = False) -> str:
    delta: dict[str, str] = {"role": "assistant"} if role else {}
    if text is not None:
        delta["content"] = text
    return json.dumps({"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}, ensure_ascii=False)


def run_plan(tmp_path: Path, base_url: str, **extra: object) -> Path:
    """A plan with one endpoint candidate at ``base_url`` and one question that :data:`ANSWER` answers."""
    qs = {
        "id": "safety", "title": "安全", "language": "zh",
        "questions": [{
            "id": "leave_door", "category": "安全", "question": "年假几天？安全门能短接吗？",
            "checks": [
                {"type": "number", "value": 5, "unit": "天"},
                {"type": "not_contains", "values": ["短接"]},
                {"type": "contains_all", "values": ["停机", "报修"]},
            ],
        }],
    }  # fmt: skip
    write_yaml(tmp_path / "set.yaml", qs)
    return write_yaml(tmp_path / "plan.yaml", {
        "name": "streams",
        "candidates": [{"name": "other", "model": "other", "api": "chat", "endpoint": {"base_url": base_url}}],
        "question_sets": ["set.yaml"],
        "sampling": {"max_tokens": 32, "samples": 2},
        "limits": {"retries": 0, "concurrency": 2},
        "perf": {"sweep": None},
        **extra,
    })  # fmt: skip


def finished_run(tmp: Path, body: bytes) -> Path:
    """``harness run`` to the end in ``tmp/run`` against a fake endpoint that answers ``body`` every time."""
    from harness.cli import main

    with fake_server(lambda n: Reply([(0.0, body)])) as srv:
        plan = run_plan(tmp, srv.base_url)
        assert main(["run", str(plan), "--run-dir", str(tmp / "run"), "--no-report", "--quiet"]) == 0
    return tmp


def closed_port_url() -> str:
    """``http://127.0.0.1:<port>/v1`` where nothing listens: a port the system just handed out, left closed
    (a server that is gone, or never was)."""
    return f"http://127.0.0.1:{free_port()}/v1"
