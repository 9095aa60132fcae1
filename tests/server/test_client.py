"""Client behaviour the real server cannot be made to show on demand: 5xx, 4xx, broken streams.

The happy path runs against real vLLM in test_e2e.py; here an httpx mock
transport replays OpenAI-style server-sent events byte for byte.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from harness.server import client as client_mod
from harness.server.client import Request
from tests.support.scripted import ScriptedModel


def sse(*chunks: dict, done: bool = True) -> bytes:
    body = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks)
    return (body + ("data: [DONE]\n\n" if done else "")).encode()


def chat_chunk(text: str, finish: str | None = None) -> dict:
    return {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}]}


USAGE = {"choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": 3}}
CHAT = Request(api="chat", messages=[{"role": "user", "content": "hi"}], max_tokens=8)


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_mod, "BACKOFF_BASE_S", 0.0)


def run(
    handler, req: Request = CHAT, retries: int = 2, timeout_s: float = 5.0
) -> tuple[client_mod.Result, list[httpx.Request]]:
    model = ScriptedModel(handler)

    async def go() -> client_mod.Result:
        async with model.client(api_key="secret", timeout_s=timeout_s, retries=retries) as c:
            return await c.generate(req)

    return asyncio.run(go()), model.requests


def test_stream_is_assembled_and_timed() -> None:
    res, seen = run(
        lambda n, r: httpx.Response(
            200, content=sse(chat_chunk("Hel"), chat_chunk("lo"), chat_chunk("!", "stop"), USAGE)
        )
    )
    assert res.error is None and res.text == "Hello!"
    assert (res.finish_reason, res.prompt_tokens, res.output_tokens) == ("stop", 11, 3)
    assert res.ttft_ms is not None and res.e2e_ms is not None and res.e2e_ms >= res.ttft_ms
    assert len(res.itl_ms) == 2  # three content chunks -> two gaps
    body = json.loads(seen[0].content)
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert seen[0].headers["authorization"] == "Bearer secret"
    assert seen[0].url.path == "/v1/chat/completions"


def test_completions_endpoint_and_text_field() -> None:
    req = Request(api="completions", prompt="Q: hi\nA:", stop=["\nQ:"])
    chunk = {"choices": [{"index": 0, "text": "hey", "finish_reason": "stop"}]}
    res, seen = run(lambda n, r: httpx.Response(200, content=sse(chunk)), req)
    assert res.text == "hey" and seen[0].url.path == "/v1/completions"
    assert json.loads(seen[0].content)["stop"] == ["\nQ:"]


def test_5xx_is_retried_then_succeeds() -> None:
    def handler(n: int, r: httpx.Request) -> httpx.Response:
        return (
            httpx.Response(503, json={"error": {"message": "busy"}})
            if n == 1
            else httpx.Response(200, content=sse(chat_chunk("ok", "stop")))
        )

    res, seen = run(handler)
    assert res.error is None and res.text == "ok" and res.attempts == 2 and len(seen) == 2


def test_persistent_5xx_becomes_a_failed_result() -> None:
    res, seen = run(lambda n, r: httpx.Response(500, json={"error": {"message": "boom"}}), retries=2)
    assert res.error == "HTTP 500: boom" and res.attempts == 3 and len(seen) == 3
    assert res.text == ""


def test_4xx_is_not_retried() -> None:
    res, seen = run(lambda n, r: httpx.Response(400, json={"error": {"message": "bad request"}}))
    assert res.error == "HTTP 400: bad request" and len(seen) == 1


def test_stream_cut_before_done_is_retried() -> None:
    # cut with no finish reason: the answer may be partial (issue 28: with a finish reason it is whole)
    def handler(n: int, r: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=sse(chat_chunk("par", "stop" if n > 1 else None), done=n > 1))

    res, _ = run(handler)
    assert res.error is None and res.attempts == 2


def test_a_stream_without_a_finish_reason_is_retried_then_reported() -> None:
    # llama.cpp's server (interrupt_requests on) ends an interrupted answer with [DONE] and no finish reason
    role = {"choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]}
    res, seen = run(lambda n, r: httpx.Response(200, content=sse(role)), retries=1)
    assert res.error == "stream ended without a finish reason: the server stopped the answer early"
    assert res.text == "" and len(seen) == 2


def test_connection_error_is_retried_and_reported() -> None:
    def handler(n: int, r: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    res, seen = run(handler, retries=1)
    assert res.error is not None and res.error.startswith("connection error") and len(seen) == 2
    assert "secret" not in res.error


def test_timing_follows_vllm_bench_first_chunk_with_a_choice_and_usage_advances_nothing() -> None:
    role = {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}
    res, _ = run(lambda n, r: httpx.Response(200, content=sse(role, chat_chunk("Hi"), chat_chunk("!", "stop"), USAGE)))
    assert res.text == "Hi!"
    assert len(res.itl_ms) == 2  # role -> "Hi" -> "!": the role chunk is the first token's chunk
    assert res.e2e_ms is not None and res.ttft_ms is not None
    assert res.e2e_ms == pytest.approx(res.ttft_ms + sum(res.itl_ms), abs=1e-6)  # the usage chunk is not counted
