"""Flow control is not a wrong answer (issue 28): servers that pace, load, skip ``[DONE]`` or send named events.

Each case is a reply a real server sends (named beside it; docs/reliability.md), served on a real
socket by tests/support/fake_server.py, and asked through both HTTP stacks: the answer client
(:class:`~harness.server.client.ModelClient`, httpx) and the load generator's
(:class:`~harness.server.fastclient.FastClient`, aiohttp). Both must give the same answer, the
same number of requests and the same recorded wait. The bad replies are files in
tests/data/malformed/flow/.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from email.utils import formatdate
from pathlib import Path

import pytest

from harness.cli import failed_requests, main
from harness.server import client as client_mod
from harness.server.client import ClientConfig, ModelClient, Request, Result
from harness.server.fastclient import FastClient
from harness.server.flow import LOADING_POLL_MAX_S, loading_estimate_s, pacing, retry_after_s
from tests.support.fake_server import ANSWER, Reply, chunk, fake_server, run_plan, sse_bytes
from tests.support.files import DATA

FLOW = DATA / "malformed" / "flow"
CHAT = Request(api="chat", messages=[{"role": "user", "content": "年假几天？能短接吗？"}], max_tokens=32)
OK = Reply([(0.0, sse_bytes(chunk(ANSWER, "stop"), "[DONE]"))])
CLIENTS = [ModelClient, FastClient]


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_mod, "BACKOFF_BASE_S", 0.01)


def reply_file(name: str) -> Reply:
    """A recorded HTTP reply: ``*.reply.json`` (status, headers, body) or ``*.sse`` (a 200 event stream)."""
    path = FLOW / name
    if name.endswith(".sse"):
        return Reply([(0.0, path.read_bytes())])
    r = json.loads(path.read_text("utf-8"))
    return Reply([(0.0, r["body"].encode())], status=r["status"], content_type=r["content_type"], headers=r["headers"])


def ask(
    cls: type[ModelClient], replies: list[Reply], retries: int = 2, timeout_s: float = 10.0, load_s: float = 600.0
) -> tuple[Result, int, float]:
    """One request; the n-th attempt gets ``replies[n-1]`` (the last repeats). The answer, the requests the
    server saw, and the wall time (s)."""
    with fake_server(lambda n: replies[min(n, len(replies)) - 1]) as srv:

        async def go() -> Result:
            async with cls(
                ClientConfig(
                    base_url=srv.base_url, model="m", timeout_s=timeout_s, retries=retries, load_timeout_s=load_s
                )
            ) as c:
                return await c.generate(CHAT)

        t0 = time.perf_counter()
        res = asyncio.run(go())
        return res, len(srv.requests), time.perf_counter() - t0


# ---------------------------------------------------------------- the pure rules (harness.server.flow)


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = 1_445_412_480.0  # Wed, 21 Oct 2015 07:28:00 GMT (RFC 9110's example date)
    assert retry_after_s("3", now) == 3.0
    assert retry_after_s(" 120 ", now) == 120.0
    assert retry_after_s("Wed, 21 Oct 2015 07:28:05 GMT", now) == 5.0  # 07:28:05 - 07:28:00
    assert retry_after_s("Wed, 21 Oct 2015 07:27:00 GMT", now) == 0.0  # a past date: now
    assert retry_after_s("soon", now) is None and retry_after_s(None, now) is None and retry_after_s("-1", now) is None
    assert retry_after_s("0", now) == 0.0 and retry_after_s("2.5", now) is None  # delta-seconds: ASCII digits only
    assert retry_after_s("\u00b2", now) is None  # "²": str.isdigit() says yes, float() raised ValueError


@pytest.mark.parametrize("cls", CLIENTS)
def test_a_retry_after_that_is_no_number_keeps_the_backoff(cls: type[ModelClient]) -> None:
    # Retry-After: "²" (latin-1 superscript two) was read as a number and crashed the client with a ValueError;
    # unreadable, it is a 429 without Retry-After: backoff, one retry spent, then the answer
    res, n, _ = ask(cls, [reply_file("429_retry_after_not_ascii.reply.json"), OK], retries=1)
    assert (res.error, res.text, n, res.attempts) == (None, ANSWER, 2, 2)


def test_loading_estimate_is_capped_and_defaulted() -> None:
    assert loading_estimate_s('{"error": "Model x is currently loading", "estimated_time": 0.3}') == 0.3
    assert loading_estimate_s('{"error": "Model x is currently loading", "estimated_time": 85.0}') == LOADING_POLL_MAX_S
    assert loading_estimate_s('{"error": "Model x is currently loading"}') == 2.0  # LOADING_DEFAULT_S
    assert loading_estimate_s('{"error": "CUDA out of memory"}') is None


def test_only_429_and_503_pace() -> None:
    assert pacing(429, "1", "{}", 0.0) is not None
    assert pacing(429, None, "{}", 0.0) is None  # no header: ordinary backoff
    assert pacing(500, "1", "{}", 0.0) is None
    assert pacing(404, "1", "{}", 0.0) is None
    loading = pacing(503, None, '{"error": "Model x is currently loading", "estimated_time": 4}', 0.0)
    assert loading is not None and loading.loading and loading.wait_s == 4.0


# ---------------------------------------------------------------- 1. rate limit with Retry-After


@pytest.mark.parametrize("cls", CLIENTS)
def test_429_with_retry_after_seconds_waits_as_told_then_answers(cls: type[ModelClient]) -> None:
    # retries=0: a paced wait spends no retry; it is bounded by the request's budget (10 s here)
    res, n, wall_s = ask(cls, [reply_file("429_retry_after_1.reply.json"), OK], retries=0)
    assert (res.error, res.text, n, res.attempts) == (None, ANSWER, 2, 2)
    assert res.wait_ms >= 1000 and wall_s >= 1.0  # Retry-After: 1
    assert res.ttft_ms is not None and res.ttft_ms < 1000  # the wait is not in the TTFT
    assert res.e2e_ms is not None and res.e2e_ms < 1000


@pytest.mark.parametrize("cls", CLIENTS)
def test_429_with_retry_after_as_an_http_date_waits_until_then(cls: type[ModelClient]) -> None:
    # an HTTP-date has whole seconds: the whole second 3 s after the current one (t0) is at most 3 s away and,
    # read by the client less than 1 s after t0 (a loaded machine included), more than 3 - 1 - 1 = 1 s away.
    # ("now + 2 s" rounded down was flaky: it is under 1 s away whenever the request takes longer than the
    # fraction of a second that rounding left, e.g. 0.05 s when t0 ends in .95)
    target = math.floor(time.time()) + 3
    later = Reply([(0.0, b"{}")], status=429, content_type="application/json",
                  headers={"Retry-After": formatdate(target, usegmt=True)})  # fmt: skip
    res, n, _ = ask(cls, [later, OK], retries=0)
    assert (res.error, res.text, n) == (None, ANSWER, 2)
    assert 1000 <= res.wait_ms <= 3000


@pytest.mark.parametrize("cls", CLIENTS)
def test_a_retry_after_beyond_the_budget_fails_at_once_and_says_why(cls: type[ModelClient]) -> None:
    far = Reply([(0.0, b'{"error": {"message": "Rate limit reached"}}')], status=429,
                content_type="application/json", headers={"Retry-After": "30"})  # fmt: skip
    res, n, wall_s = ask(cls, [far, OK], timeout_s=2.0)
    assert n == 1 and wall_s < 1.5  # not waited, not asked again
    assert res.error == (
        "HTTP 429: Rate limit reached (Retry-After: 30): waiting 30 s would pass the 2 s "
        "limits.request_timeout_s allows (0 s waited already)"
    )


@pytest.mark.parametrize("cls", CLIENTS)
def test_429_without_retry_after_keeps_the_backoff_and_spends_retries(cls: type[ModelClient]) -> None:
    res, n, _ = ask(cls, [reply_file("429_no_retry_after.reply.json")], retries=1)
    assert (res.error, n, res.attempts) == ("HTTP 429: Rate limit reached", 2, 2)  # 1 + retries=1
    assert res.wait_ms >= 10  # one backoff of BACKOFF_BASE_S = 0.01 s


def test_the_load_sweep_does_not_wait_when_asked_a_refusal_fails_its_request() -> None:
    # a level measures what the server sustains: a wait its timings leave out would flatter it
    from harness.run.perf.loadgen import LoadTarget

    with fake_server(lambda n: reply_file("429_retry_after_1.reply.json") if n == 1 else OK) as srv:

        async def go() -> Result:
            async with LoadTarget.at(srv.base_url, "m", None, 10.0).client() as c:
                res = await c.generate(CHAT)
                c.decode_pending()
                return res

        t0 = time.perf_counter()
        res = asyncio.run(go())
        wall_s, n = time.perf_counter() - t0, len(srv.requests)
    assert (res.error, n) == ("HTTP 429: Rate limit reached", 1) and wall_s < 1.0  # retries=0, no wait


@pytest.mark.parametrize("cls", CLIENTS)
def test_without_waiting_a_paced_refusal_spends_a_retry_like_any_429(cls: type[ModelClient]) -> None:
    with fake_server(lambda n: reply_file("429_retry_after_1.reply.json") if n == 1 else OK) as srv:

        async def go() -> Result:
            async with cls(
                ClientConfig(base_url=srv.base_url, model="m", timeout_s=10.0, retries=1, wait_when_asked=False)
            ) as c:
                return await c.generate(CHAT)

        res = asyncio.run(go())
        n = len(srv.requests)
    assert (res.error, res.text, n, res.attempts) == (None, ANSWER, 2, 2)
    assert 10 <= res.wait_ms < 1000  # one backoff of 0.01 s, not the Retry-After of 1 s


# ---------------------------------------------------------------- 2. model still loading


@pytest.mark.parametrize("cls", CLIENTS)
def test_503_loading_is_waited_out_within_the_server_start_timeout(cls: type[ModelClient]) -> None:
    loading = reply_file("503_loading.reply.json")  # estimated_time 0.3
    res, n, _ = ask(cls, [loading, loading, OK], retries=0, load_s=5.0)
    assert (res.error, res.text, n) == (None, ANSWER, 3)
    assert res.wait_ms >= 600  # two waits of 0.3 s


@pytest.mark.parametrize("cls", CLIENTS)
def test_503_loading_longer_than_the_server_start_timeout_fails_with_the_reason(cls: type[ModelClient]) -> None:
    loading = reply_file("503_loading.reply.json")
    res, n, _ = ask(cls, [loading], retries=0, load_s=0.5)
    # 0.3 s waited (within 0.5), the next 0.3 s would make 0.6 > 0.5: two requests, then the reason
    assert n == 2 and res.error is not None
    assert res.error.startswith("HTTP 503: Model hr/hr-7b is currently loading (the model is loading, wait 0.3 s)")
    assert "limits.server_start_timeout_s" in res.error and "0.3 s waited already" in res.error


# ---------------------------------------------------------------- 3. no [DONE]; 4. named events; 5. empty finish


@pytest.mark.parametrize("cls", CLIENTS)
@pytest.mark.parametrize("name", ["no_done_after_stop.sse", "ping_events.sse", "ollama_empty_finish.sse"])
def test_streams_that_are_whole_give_the_whole_answer_once(cls: type[ModelClient], name: str) -> None:
    res, n, _ = ask(cls, [reply_file(name)])
    assert (res.error, res.text, res.finish_reason, res.output_tokens, n) == (None, ANSWER, "stop", 9, 1)


@pytest.mark.parametrize("cls", CLIENTS)
@pytest.mark.parametrize("name", ["cut_no_finish_no_done.sse", "empty_finish_only_no_done.sse"])
def test_a_stream_cut_without_a_finish_reason_is_still_retried(cls: type[ModelClient], name: str) -> None:
    # finish_reason "" is no finish reason: the answer may be partial
    res, n, _ = ask(cls, [reply_file(name)], retries=1)
    assert (res.error, res.text, n) == ("stream ended before [DONE]", "", 2)


@pytest.mark.parametrize("cls", CLIENTS)
def test_an_ollama_role_chunk_with_an_empty_finish_reason_does_not_start_ttft(cls: type[ModelClient]) -> None:
    role = json.dumps({"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": ""}]})
    rest = sse_bytes(chunk(ANSWER, "stop"), "[DONE]")
    res, n, _ = ask(cls, [Reply([(0.0, sse_bytes(role)), (0.3, rest)])])
    assert (res.error, res.text, res.finish_reason, n) == (None, ANSWER, "stop", 1)
    assert res.ttft_ms is not None and res.ttft_ms >= 300  # the first token came 0.3 s after the role chunk
    assert res.itl_ms == []  # one token chunk: the role chunk is no token


def test_the_load_generators_early_ttft_also_skips_the_empty_finish_role_chunk() -> None:
    # decode_later reads the TTFT alone before decoding (harness.server.fastclient.StampedBody.first_token_ms)
    from harness.run.perf.loadgen import LoadTarget

    role = json.dumps({"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": ""}]})
    reply = Reply([(0.0, sse_bytes(role)), (0.3, sse_bytes(chunk(ANSWER, "stop")))])  # no [DONE] either
    with fake_server(lambda n: reply) as srv:

        async def go() -> tuple[float | None, Result]:
            async with LoadTarget.at(srv.base_url, "m", None, 10.0).client() as c:
                res = await c.generate(CHAT)
                early = res.ttft_ms
                c.decode_pending()
                return early, res

        early, res = asyncio.run(go())
    assert early is not None and early >= 300 and res.ttft_ms == early
    assert (res.error, res.text, res.finish_reason) == (None, ANSWER, "stop")


# ---------------------------------------------------------------- 6. 404 / 401 / 403: asked once, the server's words


@pytest.mark.parametrize("cls", CLIENTS)
@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("404_model_not_found.reply.json", "HTTP 404: The model `hr-lora` does not exist."),
        ("401_detail.reply.json", "HTTP 401: Invalid API key"),
        ("403_text_two_lines.reply.json", "HTTP 403: Forbidden: this key may not use model hr-lora"),
    ],
)
def test_404_401_403_are_asked_once_with_the_servers_message(cls: type[ModelClient], name: str, error: str) -> None:
    res, n, _ = ask(cls, [reply_file(name), OK], retries=2)
    assert (res.error, n, res.attempts, res.wait_ms) == (error, 1, 1, 0.0)


def test_the_console_line_gives_the_count_and_the_commonest_reason() -> None:
    assert failed_requests(4, {"HTTP 404: The model `hr-lora` does not exist.": 4}) == (
        "4 requests failed: HTTP 404: The model `hr-lora` does not exist."
    )
    assert failed_requests(3, {"timed out after 5 s": 1, "HTTP 500: boom": 2}) == (
        "3 requests failed: HTTP 500: boom (and 1 other reason)"
    )
    assert failed_requests(1, {}) == "1 request failed"


# ---------------------------------------------------------------- through `harness run`: records, console, report


def _gens(run: Path) -> list[dict]:
    return [json.loads(ln) for ln in (run / "generations.jsonl").read_text("utf-8").splitlines()]


def test_a_run_against_an_unknown_model_asks_once_and_says_why(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    not_found = reply_file("404_model_not_found.reply.json")
    with fake_server(lambda n: not_found) as srv:
        plan = run_plan(tmp_path, srv.base_url, limits={"retries": 2, "concurrency": 2})
        code = main(["run", str(plan), "--run-dir", str(tmp_path / "run"), "--no-report", "--quiet"])
        asked = len(srv.requests)
    assert code == 1 and asked == 2  # two samples, each asked once despite retries: 2
    err = capsys.readouterr().err
    assert err.count("[other] 2 requests failed: HTTP 404: The model `hr-lora` does not exist.") == 1
    assert [g["error"] for g in _gens(tmp_path / "run")] == ["HTTP 404: The model `hr-lora` does not exist."] * 2


def test_a_rate_limited_run_scores_its_answers_and_reports_the_wait_apart(tmp_path: Path) -> None:
    limited = reply_file("429_retry_after_1.reply.json")
    with fake_server(lambda n: limited if n == 1 else OK) as srv:
        plan = run_plan(tmp_path, srv.base_url, limits={"retries": 0, "concurrency": 1})
        code = main(["run", str(plan), "--run-dir", str(tmp_path / "run"), "--report-dir", str(tmp_path / "rep"),
                     "--quiet"])  # fmt: skip
        asked = len(srv.requests)
    assert code == 0 and asked == 3  # two answers, the first asked twice
    gens = sorted(_gens(tmp_path / "run"), key=lambda g: g["wait_ms"])
    assert [g["error"] for g in gens] == [None, None] and [g["text"] for g in gens] == [ANSWER, ANSWER]
    assert gens[0]["wait_ms"] == 0.0 and gens[1]["wait_ms"] >= 1000 and gens[1]["attempts"] == 2
    assert gens[1]["ttft_ms"] < 1000  # timed from the attempt that answered
    scores = [json.loads(ln) for ln in (tmp_path / "run" / "scores.jsonl").read_text("utf-8").splitlines()]
    assert [s["score"] for s in scores] == [1.0, 1.0]  # a paced answer is no wrong answer
    (model,) = json.loads((tmp_path / "rep" / "summary.json").read_text("utf-8"))["models"]
    assert model["waited_answers"] == 1
    assert model["wait_total_s"] >= 1.0 and model["wait_mean_ms"] >= 500  # 1 s over 2 answers
    assert model["e2e_p95_ms"] < 1000  # the latency figures leave the wait out
    html = (tmp_path / "rep" / "index.html").read_text("utf-8")
    assert 'id="wait-table"' in html


def test_a_run_without_waits_shows_no_wait_table(tmp_path: Path) -> None:
    with fake_server(lambda n: OK) as srv:
        plan = run_plan(tmp_path, srv.base_url)
        code = main(["run", str(plan), "--run-dir", str(tmp_path / "run"), "--report-dir", str(tmp_path / "rep"),
                     "--quiet"])  # fmt: skip
    assert code == 0
    (model,) = json.loads((tmp_path / "rep" / "summary.json").read_text("utf-8"))["models"]
    assert (model["waited_answers"], model["wait_total_s"], model["wait_mean_ms"]) == (0, 0.0, 0.0)
    assert 'id="wait-table"' not in (tmp_path / "rep" / "index.html").read_text("utf-8")


def test_the_judges_waits_are_recorded_per_verdict_and_shown_in_the_wait_table(tmp_path: Path) -> None:
    limited = reply_file("429_retry_after_1.reply.json")
    grade = Reply([(0.0, sse_bytes(chunk("[[8]]", "stop"), "[DONE]"))])
    with fake_server(lambda n: OK) as cand, fake_server(lambda n: limited if n == 1 else grade) as judge_srv:
        judge = {"model": "j", "api": "chat", "endpoint": {"base_url": judge_srv.base_url}, "modes": ["single"],
                 "retest_fraction": 0, "injection_answers": 0, "concurrency": 1}  # fmt: skip
        plan = run_plan(tmp_path, cand.base_url, judge=judge, limits={"retries": 0, "concurrency": 1})
        code = main(["run", str(plan), "--run-dir", str(tmp_path / "run"), "--report-dir", str(tmp_path / "rep"),
                     "--quiet"])  # fmt: skip
        judged = len(judge_srv.requests)
    assert code == 0 and judged == 3  # two verdicts (one question x 2 samples), the first asked twice
    verdicts = [json.loads(ln) for ln in (tmp_path / "run" / "judgments.jsonl").read_text("utf-8").splitlines()]
    verdicts.sort(key=lambda j: j["wait_ms"])
    assert [j["score"] for j in verdicts] == [8.0, 8.0]  # a paced verdict is read like any other
    assert verdicts[0]["wait_ms"] == 0.0 and verdicts[1]["wait_ms"] >= 1000  # Retry-After: 1
    wait = json.loads((tmp_path / "rep" / "summary.json").read_text("utf-8"))["judge_wait"]
    assert wait["waited_answers"] == 1 and wait["wait_total_s"] >= 1.0 and wait["wait_mean_ms"] >= 500  # 1 s / 2
    html = (tmp_path / "rep" / "index.html").read_text("utf-8")
    table = html[html.index('id="wait-table"') : html.index("</table>", html.index('id="wait-table"'))]
    assert 'judge: judge (verdicts)</td><td class="num">1</td>' in table


def test_an_endpoint_that_answers_503_everywhere_while_loading_is_waited_out_not_declared_gone(
    tmp_path: Path,
) -> None:
    # a loading endpoint answers /health 503 too; for 1.5 s here, longer than limits.unresponsive_s (0.5 s) but
    # within limits.server_start_timeout_s (30 s): the run waits (it was cut: "/health gave no answer for 0.5 s")
    loading = reply_file("503_loading.reply.json")  # estimated_time 0.3
    first: list[float] = []  # when the first request came: the load is timed from it

    def loaded() -> bool:
        return bool(first) and time.monotonic() - first[0] >= 1.5

    def reply(n: int) -> Reply:
        first.append(time.monotonic()) if not first else None
        return OK if loaded() else loading

    with fake_server(reply, health=lambda: 200 if loaded() else 503) as srv:
        plan = run_plan(tmp_path, srv.base_url, limits={"retries": 0, "concurrency": 2, "unresponsive_s": 0.5,
                                                        "server_start_timeout_s": 30})  # fmt: skip
        code = main(["run", str(plan), "--run-dir", str(tmp_path / "run"), "--no-report", "--quiet"])
    assert code == 0
    gens = _gens(tmp_path / "run")
    assert [g["error"] for g in gens] == [None, None] and [g["text"] for g in gens] == [ANSWER, ANSWER]
    # both asked at once at the start of the load, answered once 1.5 s had passed: each waited (in 0.3 s steps)
    # 1.5 s less the few ms its refused attempts took
    assert all(g["wait_ms"] >= 1000 for g in gens)
