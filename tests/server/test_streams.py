"""Streams from endpoints that are not vLLM, on a real socket (tests/support/fake_server.py).

Each case is a stream a real server or proxy sends: keep-alives, one JSON object over
two ``data:`` lines, no usage, a role-only first chunk sent before the first token,
the server's error in a 200 body or an ``error`` event, malformed chunks.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.cli import main
from harness.records import RequestTiming, Slo
from harness.server import client as client_mod
from harness.server.client import ClientConfig, ModelClient, Request, Result
from harness.server.sse import Event, SseDecoder, StreamFault, decode_chunk, role_only
from harness.timing import phase_stats
from tests.support.fake_server import ANSWER, Reply, chunk, fake_server, run_plan, sse_bytes
from tests.support.files import DATA, SMOL, write_yaml

CHAT = Request(api="chat", messages=[{"role": "user", "content": "年假几天？能短接吗？"}], max_tokens=32)


USAGE = json.dumps({"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 9}})


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_mod, "BACKOFF_BASE_S", 0.0)


def ask(
    replies: list[Reply], retries: int = 2, count_tokens: client_mod.TokenCounter | None = None
) -> tuple[Result, int]:
    """One request through the real client; the n-th attempt gets ``replies[n-1]`` (the last one repeats)."""
    with fake_server(lambda n: replies[min(n, len(replies)) - 1]) as srv:

        async def go() -> Result:
            async with ModelClient(
                ClientConfig(base_url=srv.base_url, model="m", timeout_s=10.0, retries=retries),
                count_tokens=count_tokens,
            ) as c:
                return await c.generate(CHAT)

        res = asyncio.run(go())
        return res, len(srv.requests)


def stream(*pieces: bytes | tuple[float, bytes]) -> Reply:
    return Reply([p if isinstance(p, tuple) else (0.0, p) for p in pieces])


# ---------------------------------------------------------------- 1, 2: keep-alives and split events


def test_an_empty_data_line_is_a_keep_alive_and_skipped() -> None:
    body = sse_bytes(chunk("年假5天，"), "", chunk("严禁短接，"), chunk("应停机报修。", "stop"), USAGE, "[DONE]")
    assert b"data: \n\n" in body
    res, n = ask([stream(body)])
    assert (res.error, res.text, res.output_tokens, n) == (None, ANSWER, 9, 1)
    assert len(res.itl_ms) == 2  # three token chunks, the keep-alive is none


def test_comment_lines_are_keep_alives_too() -> None:
    body = b": ping\n\n" + sse_bytes(chunk(ANSWER, "stop"), USAGE, "[DONE]")
    res, _ = ask([stream(body)])
    assert (res.error, res.text) == (None, ANSWER)


def test_one_json_object_over_two_data_lines_is_one_event() -> None:
    first, second = chunk(ANSWER, "stop").split('"delta"')
    body = f'data: {first}\ndata: "delta"{second}\n\n'.encode() + sse_bytes(USAGE, "[DONE]")
    res, _ = ask([stream(body)])
    assert (res.error, res.text, res.finish_reason) == (None, ANSWER, "stop")


def test_whole_events_without_blank_lines_between_them_are_still_separate() -> None:
    body = "".join(f"data: {e}\n" for e in (chunk("年假5天，"), chunk("严禁短接，应停机报修。", "stop"), "[DONE]"))
    res, _ = ask([stream(body.encode())])
    assert (res.error, res.text, len(res.itl_ms)) == (None, ANSWER, 1)


def test_the_decoder_joins_data_lines_with_a_newline_and_reads_event_names() -> None:
    d = SseDecoder()
    assert d.feed("event: error") == [] and d.feed('data: {"a":') == [] and d.feed("data: 1}") == []
    assert d.feed("") == [Event('{"a":\n1}', "error")]
    assert d.feed("data: [DONE]") == [Event("[DONE]")]  # acted on without waiting for the blank line
    assert d.feed("data:") == [] and d.feed("") == [] and d.events == 2  # keep-alive: no event


# ---------------------------------------------------------------- 3: no usage


def test_without_usage_the_count_is_unknown_not_zero() -> None:
    res, _ = ask([stream(sse_bytes(chunk(ANSWER, "stop"), "[DONE]"))])
    assert (res.error, res.text, res.output_tokens, res.output_tokens_source) == (None, ANSWER, None, None)


def test_without_usage_the_tokenizer_counts_and_says_so() -> None:
    res, _ = ask([stream(sse_bytes(chunk(ANSWER, "stop"), "[DONE]"))], count_tokens=len)
    # a stand-in tokenizer that counts characters: 年假5天， (5) 严禁短接， (5) 应停机报修。 (6)
    assert (res.output_tokens, res.output_tokens_source) == (16, "tokenizer")


def test_the_servers_usage_wins_over_the_tokenizer() -> None:
    res, _ = ask([stream(sse_bytes(chunk(ANSWER, "stop"), USAGE, "[DONE]"))], count_tokens=len)
    assert (res.output_tokens, res.output_tokens_source) == (9, "server")


def test_a_phase_with_an_unknown_token_count_has_an_unknown_rate() -> None:
    counted = RequestTiming(ttft_ms=10, e2e_ms=110, output_tokens=11, output_tokens_source="server")
    unknown = RequestTiming(ttft_ms=10, e2e_ms=110, output_tokens=None)
    failed = RequestTiming(error="HTTP 500: boom")
    row = phase_stats([counted, unknown, failed], 2.0, Slo())
    assert (row.out_tok_per_s, row.total_tok_per_s, row.out_tokens_counted_by) == (None, None, "server")
    by_tok = RequestTiming(ttft_ms=10, e2e_ms=110, prompt_tokens=4, output_tokens=9, output_tokens_source="tokenizer")
    row = phase_stats([counted.model_copy(update={"prompt_tokens": 5}), by_tok, failed], 2.0, Slo())
    assert (row.out_tok_per_s, row.total_tok_per_s) == (10.0, 14.5)  # (11 + 9) / 2 s; (11 + 9 + 5 + 4) / 2 s
    assert row.out_tokens_counted_by == "tokenizer"  # one count came from the tokenizer: say so


def test_an_endpoint_tokenizer_counts_tokens_when_the_server_sends_no_usage(tmp_path: Path) -> None:
    if not (SMOL / "tokenizer.json").exists():
        pytest.skip(f"{SMOL} is not prepared (make models)")
    smol = SMOL
    body = sse_bytes(chunk("Hello world", "stop"), "[DONE]")  # no usage chunk
    with fake_server(lambda n: stream(body)) as srv:
        plan = run_plan(tmp_path, srv.base_url)
        data = yaml.safe_load(plan.read_text("utf-8"))
        data["candidates"][0]["endpoint"]["tokenizer"] = str(smol)
        write_yaml(plan, data)
        code = main(["run", str(plan), "--run-dir", str(tmp_path / "run"),
                     "--report-dir", str(tmp_path / "rep"), "--quiet"])  # fmt: skip
    assert code == 0
    gens = [json.loads(ln) for ln in (tmp_path / "run" / "generations.jsonl").read_text("utf-8").splitlines()]
    # SmolLM2's BPE: "Hello", " world"
    assert [(g["output_tokens"], g["output_tokens_source"]) for g in gens] == [(2, "tokenizer")] * 2
    (model,) = json.loads((tmp_path / "rep" / "summary.json").read_text("utf-8"))["models"]
    assert model["out_tok_per_s"] > 0 and model["out_tokens_counted_by"] == "tokenizer"
    assert "(tokenizer)</span>" in (tmp_path / "rep" / "index.html").read_text("utf-8")


# ---------------------------------------------------------------- 4: role-only first chunk


def test_a_role_only_chunk_sent_at_once_does_not_start_ttft() -> None:
    role_chunk = sse_bytes(chunk(role=True))
    rest = sse_bytes(chunk("年假5天，"), chunk("严禁短接，应停机报修。", "stop"), USAGE, "[DONE]")
    res, _ = ask([Reply([(0.0, role_chunk), (0.4, rest)])])
    assert res.error is None and res.text == ANSWER
    assert res.ttft_ms is not None and 400 <= res.ttft_ms < 1000  # the first token came 400 ms in
    assert len(res.itl_ms) == 1 and res.itl_ms[0] < 200  # no 400 ms gap after a role chunk


def is_role_only(chunk: dict[str, Any]) -> bool:
    choice = chunk["choices"][0]
    return role_only(choice["delta"], choice.get("finish_reason"))


def test_vllms_first_chunk_with_role_and_empty_content_is_the_first_token() -> None:
    assert not is_role_only(json.loads(chunk("", role=True)))  # vLLM: {"role": "assistant", "content": ""}
    assert is_role_only(json.loads(chunk(role=True)))  # {"role": "assistant"} alone
    assert not is_role_only(json.loads(chunk(role=True, finish="stop")))  # the end is a token event
    first = sse_bytes(chunk("", role=True))
    rest = sse_bytes(chunk(ANSWER, "stop"), USAGE, "[DONE]")
    res, _ = ask([Reply([(0.3, first), (0.2, rest)])])
    assert res.ttft_ms is not None and 300 <= res.ttft_ms < 450  # timed from the role chunk, as vllm bench does
    assert len(res.itl_ms) == 1 and res.itl_ms[0] >= 150  # 200 ms later, less scheduling jitter


# ---------------------------------------------------------------- 5: the server's own error


def test_an_error_object_in_a_200_body_keeps_its_message_and_is_not_retried() -> None:
    body = json.dumps({"error": {"message": "model 'm' not found", "type": "invalid_request_error", "code": 404}})
    res, n = ask([Reply([(0.0, body.encode())], content_type="application/json")])
    assert (res.error, n) == ("server error in stream: model 'm' not found", 1)


def test_an_overloaded_error_in_a_200_body_is_retried() -> None:
    busy = Reply([(0.0, b'{"error": {"message": "server busy", "code": 503}}')], content_type="application/json")
    res, n = ask([busy, stream(sse_bytes(chunk(ANSWER, "stop"), "[DONE]"))])
    assert (res.error, res.text, n, res.attempts) == (None, ANSWER, 2, 2)


def test_an_error_event_in_the_stream_keeps_the_servers_message() -> None:
    body = sse_bytes(chunk("年假")) + b'event: error\ndata: {"message": "KV cache exhausted"}\n\n'
    res, n = ask([stream(body)])
    assert (res.error, n) == ("server error in stream: KV cache exhausted", 1)


def test_an_error_chunk_in_the_stream_keeps_the_servers_message() -> None:
    res, _ = ask([stream(sse_bytes(chunk("年假"), '{"error": {"message": "prompt too long"}}'))])
    assert res.error == "server error in stream: prompt too long"


@pytest.mark.parametrize(
    ("status", "message"), [(404, "The model `m` does not exist."), (401, "Incorrect API key provided")]
)
def test_404_and_401_are_not_retried_and_keep_the_message(status: int, message: str) -> None:
    body = json.dumps({"error": {"message": message}}).encode()
    res, n = ask([Reply([(0.0, body)], status=status, content_type="application/json")])
    assert (res.error, n, res.attempts) == (f"HTTP {status}: {message}", 1, 1)


def test_a_reply_that_is_not_a_stream_says_so() -> None:
    body = json.dumps({"choices": [{"message": {"content": ANSWER}}]}, ensure_ascii=False).encode()
    res, n = ask([Reply([(0.0, body)], content_type="application/json")])
    assert res.error is not None and res.error.startswith("the server did not stream") and n == 1


# ---------------------------------------------------------------- 6: malformed chunks


STREAMS = DATA / "malformed" / "streams"
STREAM_OUTCOME = {
    # the server's bytes as sent -> the answer's error (or its text when the stream is good)
    "ok_keep_alives.sse": ANSWER,
    "ok_event_over_two_lines.sse": ANSWER,
    "ok_no_blank_lines.sse": ANSWER,
    "ok_crlf_role_only_first.sse": ANSWER,
    "not_json.sse": 'malformed stream: a chunk is not JSON: {"choices": [{"delta": {"content": "年假',
    "not_an_object.sse": 'malformed stream: a chunk is a JSON list, not an object: ["年假5天"]',
    "no_choices.sse": 'malformed stream: a chunk has no choices: {"id": "c1", "object": "chat.completion.chunk"}',
    "choices_not_a_list.sse": "malformed stream: a chunk's choices are not choice objects: ",
    "content_not_text.sse": "malformed stream: a chunk's choices are not choice objects: ",
    "usage_not_an_object.sse": "malformed stream: a chunk's usage is not an object: ",
    "error_event.sse": "server error in stream: KV cache exhausted",
    "error_chunk.sse": "server error in stream: prompt too long",
    "error_body_200.json": "server error in stream: model 'm' not found",
    "not_streamed.json": "the server did not stream (its reply is not server-sent events): ",
}


def test_every_stream_of_the_corpus_is_listed() -> None:
    assert sorted(p.name for p in STREAMS.iterdir()) == sorted(STREAM_OUTCOME)


@pytest.mark.parametrize("name", sorted(STREAM_OUTCOME))
def test_each_stream_of_the_corpus_gives_its_answer_or_a_one_line_reason(name: str) -> None:
    body = (STREAMS / name).read_bytes()
    kind = "application/json" if name.endswith(".json") else "text/event-stream"
    res, n = ask([Reply([(0.0, body)], content_type=kind)])
    expected = STREAM_OUTCOME[name]
    if name.startswith("ok_"):
        assert (res.error, res.text, res.output_tokens, n) == (None, expected, 9, 1)
    else:
        assert res.error is not None and res.error.startswith(expected), res.error
        assert "\n" not in res.error and res.text == "" and n == 1  # one line; not retried


def test_decode_chunk_names_what_is_wrong() -> None:
    with pytest.raises(StreamFault, match="malformed stream: a chunk is not JSON"):
        decode_chunk(Event('{"choices": ['))
    with pytest.raises(StreamFault, match="server error in stream: busy") as err:
        decode_chunk(Event('{"error": {"message": "busy", "code": 503}}'))
    assert err.value.retryable  # an overloaded server is asked again
    assert decode_chunk(Event('{"choices": [], "usage": {"completion_tokens": 3}}'))["usage"] == {
        "completion_tokens": 3
    }


# ---------------------------------------------------------------- a whole run against such a server


def test_a_run_against_a_keep_alive_server_stores_scores_and_reports_the_answer(tmp_path: Path) -> None:
    body = sse_bytes(chunk(role=True), "", chunk("年假5天，"), chunk("严禁短接，应停机报修。", "stop"), "[DONE]")
    with fake_server(lambda n: stream(body)) as srv:
        plan = run_plan(tmp_path, srv.base_url)
        code = main(["run", str(plan), "--run-dir", str(tmp_path / "run"),
                     "--report-dir", str(tmp_path / "rep"), "--quiet"])  # fmt: skip
    assert code == 0
    gens = [json.loads(ln) for ln in (tmp_path / "run" / "generations.jsonl").read_text("utf-8").splitlines()]
    assert [g["text"] for g in gens] == [ANSWER, ANSWER] and all(g["error"] is None for g in gens)
    scores = [json.loads(ln) for ln in (tmp_path / "run" / "scores.jsonl").read_text("utf-8").splitlines()]
    assert [s["score"] for s in scores] == [1.0, 1.0]
    (model,) = json.loads((tmp_path / "rep" / "summary.json").read_text("utf-8"))["models"]
    # no usage and no endpoint.tokenizer: the figure is unknown, never 0
    assert model["out_tok_per_s"] is None and model["best_out_tok_per_s"] is None  # both were 0.0
    assert model["out_tokens_counted_by"] is None and model["usd_per_mtok"] is None
    assert "unknown" in (tmp_path / "rep" / "index.html").read_text("utf-8")


def test_a_run_against_a_malformed_server_fails_its_answers_and_exits_1(tmp_path: Path) -> None:
    body = sse_bytes(chunk("年假"), '{"id": "c1"}', "[DONE]")
    with fake_server(lambda n: stream(body)) as srv:
        plan = run_plan(tmp_path, srv.base_url)
        code = main(["run", str(plan), "--run-dir", str(tmp_path / "run"),
                     "--report-dir", str(tmp_path / "rep"), "--quiet"])  # fmt: skip
    assert code == 1  # README: 1 when the run finished but requests failed
    gens = [json.loads(ln) for ln in (tmp_path / "run" / "generations.jsonl").read_text("utf-8").splitlines()]
    assert [g["error"] for g in gens] == ['malformed stream: a chunk has no choices: {"id": "c1"}'] * 2
    assert (tmp_path / "rep" / "index.html").exists()


def test_a_tokenizer_that_cannot_be_loaded_leaves_the_count_unknown(tmp_path: Path) -> None:
    from harness.server.tokenizer import _load

    count = _load(str(tmp_path / "no-such-tokenizer"))
    assert count("年假5天") is None
    res, _ = ask([stream(sse_bytes(chunk(ANSWER, "stop"), "[DONE]"))], count_tokens=count)
    assert (res.error, res.output_tokens, res.output_tokens_source) == (None, None, None)


def test_where_an_endpoints_tokenizer_comes_from(tmp_path: Path) -> None:
    from harness.inputs.plan import load_plan
    from harness.server.tokenizer import tokenizer_ref

    (tmp_path / "tok").mkdir()
    (tmp_path / "m").mkdir()
    plan = run_plan(tmp_path, "http://127.0.0.1:9/v1")
    data = yaml.safe_load(plan.read_text("utf-8"))
    base = data["candidates"][0]
    data["candidates"] = [
        {**base, "name": "none"},  # "other" is no folder: nothing to count with
        {**base, "name": "own", "endpoint": {**base["endpoint"], "tokenizer": "tok"}},
        {**base, "name": "hub", "endpoint": {**base["endpoint"], "tokenizer": "org/tok"}},
        {**base, "name": "folder", "model": "./m"},
    ]
    lp = load_plan(write_yaml(plan, data))
    refs = {c.name: tokenizer_ref(lp, c) for c in lp.plan.candidates}
    root = tmp_path.resolve()
    assert refs == {"none": None, "own": str(root / "tok"), "hub": "org/tok", "folder": str(root / "m")}


def test_the_lines_source_is_closed_at_done_and_when_the_reader_stops_early() -> None:
    """Left open, a suspended line generator is closed later by the garbage collector's finalizer task,
    which asyncio may collect before it runs ("Task was destroyed but it is pending!" in the demo's log)."""
    from harness.server.sse import ChunkStream

    closed: list[str] = []

    async def lines(name: str) -> Any:
        try:
            for line in (f"data: {chunk('a')}", "", "data: [DONE]", "", "data: after the end", ""):
                yield line
        finally:
            closed.append(name)

    async def read_all() -> tuple[int, list[str]]:
        n = len([c async for c in ChunkStream(lines("done"))])
        return n, closed[:]  # as the loop runs on, not at its shutdown (which closes every generator)

    async def stop_early() -> list[str]:
        stream = aiter(ChunkStream(lines("early")))
        await anext(stream)
        await stream.aclose()  # what `aclosing` does when the reader leaves the loop
        return closed[:]

    assert asyncio.run(read_all()) == (1, ["done"])
    assert asyncio.run(stop_early()) == ["done", "early"]
