"""The load generator that keeps up: work split over processes, the aiohttp client, the known-truth figures.

Pure parts (dealing a level out, the ideal throughput, lag per chunk) with hand-worked
values; the client against tests/support/fake_server.py (stream faults) and against the truth
server (harness_bench/truth_server.py) in its own process.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.inputs.plan import LoadedPlan
from harness.run.perf.loadgen import Level, LoadTarget, auto_workers, deal, poisson_offsets_s, run_level_workers
from harness.rundir import RunDir
from harness.server import client as client_mod
from harness.server import fastclient
from harness.server.client import AnswerBuilder, ClientConfig, Request, Result
from harness.server.fastclient import FastClient, StampedBody, read_events
from harness_bench.known_truth import (
    Answer,
    Figures,
    ServedRecord,
    chunk_lags_ms,
    figures,
    ideal_tok_per_s,
    verdicts,
)
from harness_bench.truth_server import Timing, schedule
from tests.support.fake_server import ANSWER, Reply, chunk, fake_server, sse_bytes
from tests.support.files import DATA
from tests.support.truth import truth_server

CHAT = Request(api="chat", messages=[{"role": "user", "content": "hi"}], max_tokens=32)
USAGE = json.dumps({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 9}})


# ---------------------------------------------------------------- dealing a level out (pure)


def test_a_concurrency_is_split_as_evenly_as_it_goes_and_requests_round_robin() -> None:
    shares = deal(7, Level("concurrency", 5), 2, seed=0)
    assert [s[0] for s in shares] == [[0, 2, 4, 6], [1, 3, 5]]
    assert [s[2] for s in shares] == [3, 2]  # 5 in flight: 3 + 2
    assert all(s[1] is None for s in shares)


def test_no_worker_gets_a_cap_of_zero() -> None:
    shares = deal(10, Level("concurrency", 1), 4, seed=0)
    assert len(shares) == 1 and shares[0][2] == 1 and shares[0][0] == list(range(10))


def test_a_rate_keeps_one_poisson_schedule_dealt_round_robin() -> None:
    shares = deal(5, Level("rate", 4.0), 2, seed=3)
    whole = poisson_offsets_s(5, 4.0, 3)
    merged = {i: o for idx, offs, _ in shares for i, o in zip(idx, offs or [], strict=True)}
    assert merged == dict(enumerate(whole))
    assert [s[2] for s in shares] == [3, 2]  # a rate is uncapped: a worker may have all its requests in flight


def test_automatic_workers_one_per_128_streams_at_most_half_the_cpus() -> None:
    assert auto_workers(Level("concurrency", 16), cpus=8) == 1
    assert auto_workers(Level("concurrency", 129), cpus=8) == 2
    assert auto_workers(Level("concurrency", 1024), cpus=8) == 4  # half of 8; 8 by the streams
    assert auto_workers(Level("concurrency", 1024), cpus=2) == 1  # the other core is the server's


# ---------------------------------------------------------------- known-truth figures (pure)


def test_ideal_throughput_of_a_concurrency_is_whole_waves_of_one_request() -> None:
    t = Timing(ttft_ms=50, itl_ms=10, tokens=3)  # one request: 50 + 2 x 10 = 70 ms
    assert ideal_tok_per_s("concurrency", 2, 3, t) == pytest.approx(9 / 0.14)  # 2 waves
    assert ideal_tok_per_s("rate", 10, 11, t) == pytest.approx(33 / 1.07)  # 10 gaps of 0.1 s + 70 ms


def test_lag_is_reception_minus_real_send_per_chunk() -> None:
    served = ServedRecord(
        0, arrival=100.0, scheduled=schedule(100.0, Timing(50, 10, 3)), sent=[100.050, 100.060, 100.070]
    )
    a = Answer(start_s=99.999, ttft_ms=52.0, itl_ms=[10.0, 11.0], text="<0> t t", output_tokens=3)
    # received at 100.051, 100.061, 100.072
    assert chunk_lags_ms(a, served) == pytest.approx([1.0, 1.0, 2.0])
    f = figures("x", Level("concurrency", 1), [a], [served], wall_s=0.073, truth=Timing(50, 10, 3))
    assert f.matched == 1 and f.completed == 1
    assert f.lag_ms["p50"] == pytest.approx(1.0) and f.lag_ms["p99"] == pytest.approx(1.98)
    assert f.send_delay_ms["p50"] == pytest.approx(1.0)
    assert f.ttft_nominal_err_ms["p50"] == pytest.approx(2.0)
    assert f.itl_nominal_err_ms["p50"] == pytest.approx(0.5)  # gaps 10 and 11: median 10.5
    # the server was exactly on time here, so the error against what it did is the same
    assert f.ttft_err_ms["p50"] == pytest.approx(2.0) and f.itl_err_ms["p50"] == pytest.approx(0.5)
    assert f.server_late_ms["p50"] == pytest.approx(0.0, abs=1e-6)
    assert f.share_of_ideal == pytest.approx((3 / 0.073) / (3 / 0.07))


def test_error_is_against_what_the_server_really_did() -> None:
    late = ServedRecord(0, arrival=10.0, scheduled=schedule(10.0, Timing(50, 10, 2)), sent=[10.060, 10.075])
    a = Answer(start_s=10.0, ttft_ms=61.0, itl_ms=[15.0], text="<0> t", output_tokens=2)
    f = figures("x", Level("concurrency", 1), [a], [late], wall_s=0.08, truth=Timing(50, 10, 2))
    assert f.ttft_err_ms["p50"] == pytest.approx(1.0)  # the server sent at 60 ms; the client saw 61
    assert f.ttft_nominal_err_ms["p50"] == pytest.approx(11.0)
    assert f.itl_err_ms["p50"] == pytest.approx(0.0, abs=1e-6) and f.itl_nominal_err_ms["p50"] == pytest.approx(5.0)
    assert f.server_late_ms["p50"] == pytest.approx(12.5)  # due at 50 and 60 ms, sent at 60 and 75


def test_a_failed_or_unmatched_answer_adds_no_lag() -> None:
    served = ServedRecord(4, 0.0, [0.05], [0.05])
    answers = [Answer(0.0, None, [], "", None, ok=False), Answer(0.0, 51.0, [], "<9>", 1)]
    f = figures("x", Level("concurrency", 2), answers, [served], 1.0, Timing(50, 10, 1))
    assert (f.completed, f.matched, f.lag_ms["p50"]) == (1, 0, None)


def _fig(tool: str, level_id: str, ttft: float, itl99: float, share: float, lag: tuple[float, float],
         late99: float) -> Figures:  # fmt: skip
    return Figures(tool, level_id, 10, 10, 0.0, 1000.0, share, ttft_err_ms={"p50": ttft, "p99": ttft},
                   itl_err_ms={"p50": 0.0, "p99": itl99}, lag_ms={"p50": lag[0], "p99": lag[1]},
                   server_late_ms={"p50": 0.0, "p99": late99})  # fmt: skip


def test_a_verdict_compares_medians_over_rounds_of_absolute_errors() -> None:
    rows = [
        # c16: harness TTFT error 2 and 4 ms (median 3), vllm -5 and 7 (median 1): |3| > |1| + 0.1
        _fig("harness", "c16", 2.0, 1.0, 0.98, (0.4, 1.0), 1.0),
        _fig("vllm", "c16", -5.0, 1.05, 0.97, (0.3, 1.0), 2.0),
        _fig("harness", "c16", 4.0, 1.0, 0.98, (0.6, 1.2), 1.0),
        _fig("vllm", "c16", 7.0, 1.05, 0.97, (0.3, 1.0), 2.0),
        # r50: the harness is as close as vllm within 0.1 ms, but its lag misses the p99 bound
        _fig("vllm", "r50", 1.0, 0.50, 0.99, (0.2, 1.0), 9.0),
        _fig("harness", "r50", -1.05, 0.59, 0.99, (0.5, 6.0), 1.0),
        _fig("harness", "c64", 1.0, 1.0, 0.9, (0.5, 1.0), 1.0),  # no vllm run: no verdict
    ]
    c16, r50 = verdicts(rows)
    assert (c16.level_id, c16.rounds, r50.rounds) == ("c16", 2, 1)
    assert c16.no_worse["ttft_err_ms.p50"] is False and c16.no_worse["itl_err_ms.p99"] is True
    assert c16.no_worse["share_of_ideal"] is True  # 2 % short of the ideal vs 3 %
    assert c16.lag_ms == {"p50": pytest.approx(0.5), "p99": pytest.approx(1.1)} and c16.lag_within_bound
    assert c16.server_on_time and not c16.all_no_worse
    assert r50.all_no_worse  # |-1.05| <= |1.0| + 0.1 and 0.59 <= 0.50 + 0.1
    assert not r50.lag_within_bound
    assert r50.server_late_p99_ms == pytest.approx(5.0) and r50.server_on_time  # median of 9 and 1


# ---------------------------------------------------------------- the aiohttp client on a real socket


def ask(replies: list[Reply], retries: int = 1) -> tuple[Result, int]:
    with fake_server(lambda n: replies[min(n, len(replies)) - 1]) as srv:

        async def go() -> Result:
            async with FastClient(ClientConfig(base_url=srv.base_url, model="m", timeout_s=10.0, retries=retries)) as c:
                return await c.generate(CHAT)

        return asyncio.run(go()), len(srv.requests)


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_mod, "BACKOFF_BASE_S", 0.0)


def test_fast_client_reads_a_stream_like_the_model_client() -> None:
    body = b": ping\n\n" + sse_bytes(
        chunk(role=True), chunk("年假5天，"), "", chunk("严禁短接，应停机报修。", "stop"), USAGE, "[DONE]"
    )
    res, n = ask([Reply([(0.0, body)])])
    assert (res.error, res.text, res.output_tokens, res.finish_reason, n) == (None, ANSWER, 9, "stop", 1)
    assert len(res.itl_ms) == 1  # two token chunks; the role-only chunk and the keep-alive are none


def test_a_chunk_is_timed_when_its_last_byte_arrives() -> None:
    first = sse_bytes(chunk("年假5天，"))
    second = sse_bytes(chunk("严禁短接，应停机报修。", "stop"), USAGE, "[DONE]")
    cut = len(second) // 3
    res, _ = ask([Reply([(0.0, first), (0.0, second[:cut]), (0.3, second[cut:])])])
    assert res.error is None and res.text == ANSWER
    assert res.itl_ms[0] >= 290  # the second chunk was only whole 0.3 s later


class _Body:
    """A response body handed to the reader in the given reads (``iter_any``), however late."""

    def __init__(self, *reads: bytes):
        self.reads = reads

    async def _each(self) -> Any:
        for r in self.reads:
            yield r

    def iter_any(self) -> Any:
        return self._each()


def test_each_chunk_takes_the_time_of_the_socket_read_that_completed_it() -> None:
    a = sse_bytes(chunk("年假5天，"))
    b = sse_bytes(chunk("严禁短接，"))
    c = sse_bytes(chunk("应停机报修。", "stop"), USAGE, "[DONE]")
    body = a + b + c
    # the socket reads: all of a by 1.0 s (its last byte exactly), half of b by 1.7 s, the rest by 2.5 s;
    # the reader got the whole body in one late read
    stamps = [(len(a), 1.0), (len(a) + len(b) // 2, 1.7), (len(body), 2.5)]
    out = Result()
    StampedBody(AnswerBuilder("chat", out, 0.0), body, stamps).decode()
    assert out.text == ANSWER and out.output_tokens == 9
    assert out.ttft_ms == pytest.approx(1000.0)
    # b's line ended after the 1.7 s read: it was whole at 2.5 s, with c
    assert out.itl_ms == pytest.approx([1500.0, 0.0])
    assert out.e2e_ms == pytest.approx(2500.0)


def test_without_stamps_a_chunk_is_timed_when_the_reader_gets_it() -> None:
    body = sse_bytes(chunk("年假5天，"), chunk("严禁短接，应停机报修。", "stop"), "[DONE]")
    out = Result()
    t0 = time.perf_counter()
    acc = AnswerBuilder("chat", out, t0 - 3.0)  # sent 3 s ago
    asyncio.run(read_events(_Body(body), acc))  # type: ignore[arg-type]
    assert out.ttft_ms is not None and 3000 <= out.ttft_ms < 3000 + (time.perf_counter() - t0) * 1000
    assert out.itl_ms == pytest.approx([0.0], abs=5.0)  # one read: both at once


def test_a_body_past_the_read_buffer_is_read_to_its_end_and_timed() -> None:
    # 3 MiB at once (past aiohttp's high-water mark of 2 x READ_BUFSIZE), then the last chunk 0.3 s later
    big = sse_bytes(*[chunk("x" * 10_000) for _ in range(300)])
    last = sse_bytes(chunk("。", "stop"), USAGE, "[DONE]")
    res, _ = ask([Reply([(0.0, big), (0.3, last)])])
    assert res.error is None and res.text == "x" * 3_000_000 + "。"
    assert len(res.itl_ms) == 300 and res.itl_ms[-1] >= 290  # the last chunk came 0.3 s after the others
    # the reader was woken to take each 0.5 MiB as it came, so the connection was never paused
    # and no chunk of the first 3 MB was held back for a late read
    assert sum(res.itl_ms[:-1]) < 200


def ask_later(replies: list[Reply]) -> tuple[Result, Result]:
    """The answer as ``decode_later`` hands it back, and the same answer after ``decode_pending()`` (a copy each)."""
    with fake_server(lambda n: replies[min(n, len(replies)) - 1]) as srv:

        async def go() -> tuple[Result, Result]:
            async with FastClient(
                ClientConfig(base_url=srv.base_url, model="m", timeout_s=10.0, retries=0), decode_later=True
            ) as c:
                res = await c.generate(CHAT)
                before = res.model_copy(deep=True)
                c.decode_pending()
                return before, res

        return asyncio.run(go())


def test_an_answer_decoded_later_is_the_answer_decoded_at_once() -> None:
    first = sse_bytes(chunk(role=True), chunk("年假5天，"))
    second = sse_bytes(chunk("严禁短接，应停机报修。", "stop"), USAGE, "[DONE]")
    reply = Reply([(0.0, first), (0.2, second)])
    before, later = ask_later([reply])
    now, _ = ask([reply])
    # before decoding: the TTFT alone (what the level's over-saturation watch reads), no text
    assert before.ttft_ms is not None and before.text == "" and before.itl_ms == [] and before.error is None
    assert later.ttft_ms == before.ttft_ms
    assert (later.text, later.output_tokens, later.finish_reason, later.error) == (ANSWER, 9, "stop", None)
    assert (now.text, now.output_tokens, now.finish_reason) == (ANSWER, 9, "stop")
    assert len(later.itl_ms) == len(now.itl_ms) == 1 and later.itl_ms[0] >= 190 and now.itl_ms[0] >= 190


def test_a_fault_decoded_later_is_the_answers_error_with_no_timings() -> None:
    before, later = ask_later([Reply([(0.0, sse_bytes(chunk("年假", None)))])])  # no [DONE]
    assert before.error is None and before.ttft_ms is not None
    assert later.error is not None and "before [DONE]" in later.error
    assert (later.ttft_ms, later.e2e_ms, later.itl_ms) == (None, None, [])


def test_decoding_later_takes_no_retries_and_no_token_counter() -> None:
    with pytest.raises(ValueError, match="no retries"):
        FastClient(ClientConfig(base_url="http://127.0.0.1:9/v1", model="m", retries=1), decode_later=True)
    with pytest.raises(ValueError, match="token counter"):
        FastClient(
            ClientConfig(base_url="http://127.0.0.1:9/v1", model="m", retries=0), count_tokens=len, decode_later=True
        )


def test_a_stream_cut_before_done_is_retried_then_reported() -> None:
    body = sse_bytes(chunk("年假", None))
    res, n = ask([Reply([(0.0, body)])], retries=1)
    assert n == 2 and res.error is not None and "before [DONE]" in res.error


def test_the_servers_error_event_is_its_message() -> None:
    body = b'event: error\ndata: {"error": {"message": "model overloaded", "code": 400}}\n\n'
    res, n = ask([Reply([(0.0, body)])])
    assert n == 1 and res.error is not None and "model overloaded" in res.error


def test_a_429_is_retried() -> None:
    busy = Reply([(0.0, b'{"error": {"message": "busy"}}')], status=429, content_type="application/json")
    ok = Reply([(0.0, sse_bytes(chunk(ANSWER, "stop"), USAGE, "[DONE]"))])
    res, n = ask([busy, ok])
    assert (res.error, res.text, n) == (None, ANSWER, 2)


# ---------------------------------------------------------------- worker processes against the truth server


@pytest.fixture(scope="module")
def truth_url() -> Iterator[str]:
    with truth_server("--ttft-ms", "50", "--itl-ms", "5") as url:
        yield url


def truth(url: str) -> list[dict[str, object]]:
    with urllib.request.urlopen(url + "/truth", timeout=10) as r:
        return json.load(r)["requests"]  # type: ignore[no-any-return]


def requests(n: int, tokens: int) -> list[Request]:
    return [Request(api="chat", messages=[{"role": "user", "content": str(i)}], max_tokens=tokens) for i in range(n)]


def test_two_workers_run_every_request_once_in_order(truth_url: str) -> None:
    truth(truth_url)
    run = asyncio.run(
        run_level_workers(
            LoadTarget.at(truth_url + "/v1", "fake", timeout_s=30), requests(6, 4), Level("concurrency", 3), workers=2
        )
    )
    served = truth(truth_url)
    assert run.workers == 2 and len(run.results) == 6 and len(served) == 6
    assert all(r.error is None and r.output_tokens == 4 and len(r.itl_ms) == 3 for r in run.results)
    assert len({r.text for r in run.results}) == 6  # each answer carries its own request number
    assert all(r.ttft_ms is not None and r.ttft_ms >= 50 for r in run.results)
    assert run.scheduled_mono == [None] * 6
    # two waves of 50 + 3 x 5 = 65 ms at the least
    assert run.wall_s >= 0.13
    assert run.cpu_s is not None and run.cpu_s > 0


def test_chunks_are_stamped_at_their_socket_read_never_before_the_server_sent_them(
    truth_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stamped: list[bool] = []
    real = fastclient.stamping

    def spy(resp: Any) -> Any:
        got = real(resp)
        stamped.append(got is not None)
        return got

    monkeypatch.setattr(fastclient, "stamping", spy)
    truth(truth_url)
    run = asyncio.run(
        run_level_workers(
            LoadTarget.at(truth_url + "/v1", "fake", timeout_s=30), requests(16, 8), Level("concurrency", 8)
        )
    )
    served = {int(d["rid"]): ServedRecord(d["rid"], d["arrival"], d["scheduled"], d["sent"]) for d in truth(truth_url)}  # type: ignore[arg-type, call-overload]
    assert stamped == [True] * 16  # this aiohttp's connections stamp every response
    lags = []
    for r in run.results:
        rid = int(r.text.split(">")[0].lstrip("<"))
        answer = Answer(r.started_mono, r.ttft_ms, r.itl_ms, r.text, r.output_tokens)
        lags += chunk_lags_ms(answer, served[rid])
    assert len(lags) == 16 * 8
    assert min(lags) >= 0  # a stamp is a read after the server's write, never before


def test_a_rate_level_sends_each_request_on_its_schedule(truth_url: str) -> None:
    run = asyncio.run(
        run_level_workers(
            LoadTarget.at(truth_url + "/v1", "fake", timeout_s=30),
            requests(8, 2),
            Level("rate", 20.0),
            workers=2,
            seed=1,
        )
    )
    assert all(r.error is None for r in run.results)
    delays = [r.started_mono - due for r, due in zip(run.results, run.scheduled_mono, strict=True) if due is not None]
    assert len(delays) == 8
    assert min(delays) >= 0  # never early
    offsets = poisson_offsets_s(8, 20.0, 1)
    spans = [due - run.scheduled_mono[0] for due in run.scheduled_mono if due is not None]  # type: ignore[operator]
    # the schedule is the single Poisson draw (each worker starts its clock at the barrier: within a few ms)
    assert spans == pytest.approx(offsets, abs=0.05)


# ---------------------------------------------------------------- validity guards (pure) and the sweep


def test_a_send_more_than_10_ms_behind_its_schedule_is_late() -> None:
    from harness.run.perf.guards import guards

    g = guards("rate", [1.0, 2.012, 3.004], [1.0, 2.0, 3.0], [50.0, 50.0, 50.0], wall_s=3.0, workers=1, cpu_s=0.3)
    assert g.late_sends == 1 and g.dispatch_delay_ms["max"] == pytest.approx(12.0)
    assert g.dispatch_delay_ms["p50"] == pytest.approx(4.0)
    assert g.client_cpu_frac == pytest.approx(0.1) and len(g.problems) == 1 and "behind schedule" in g.problems[0]


def test_a_client_at_90_percent_cpu_per_worker_is_saturated() -> None:
    from harness.run.perf.guards import guards

    g = guards("concurrency", [1.0, 1.1], [None, None], [50.0, 60.0], wall_s=1.0, workers=2, cpu_s=1.8)
    assert g.dispatch_delay_ms == {} and g.late_sends == 0
    assert g.client_cpu_frac == pytest.approx(0.9) and "client CPU 90%" in g.problems[0]


def test_ttft_that_keeps_growing_through_the_level_is_over_saturation() -> None:
    from harness.run.perf.guards import guards

    started = [float(i) for i in range(9)]
    growing = [100.0] * 3 + [400.0] * 3 + [700.0] * 3  # last third 7x the first, +600 ms
    g = guards("rate", started, [None] * 9, growing, wall_s=9.0, workers=1, cpu_s=None)
    assert (g.ttft_growth, g.oversaturated) == (pytest.approx(7.0), True)
    mild = [100.0] * 6 + [250.0] * 3  # 2.5x but only +150 ms: noise at this scale
    assert guards("rate", started, [None] * 9, mild, 9.0, 1, None).oversaturated is False
    assert guards("rate", started[:5], [None] * 5, growing[:5], 9.0, 1, None).ttft_growth is None  # too few


def _endpoint_plan(tmp_path: Path, name: str, url: str, perf: dict[str, Any]) -> LoadedPlan:
    """A plan of one endpoint candidate ``a`` at the truth server ``url``, asked mini_en.yaml, with ``perf``."""
    import yaml

    from harness.inputs.plan import load_plan

    plan = tmp_path / "plan.yaml"
    plan.write_text(
        yaml.safe_dump(
            {
                "name": name,
                "candidates": [{"name": "a", "model": "a", "endpoint": {"base_url": url + "/v1"}}],
                "question_sets": [str(DATA / "sets" / "mini_en.yaml")],
                "perf": perf,
            }
        )
    )
    return load_plan(plan)


def test_the_sweep_records_each_level_with_its_guards(truth_url: str, tmp_path: Path) -> None:
    from harness.run.perf.sweep import run_sweep
    from harness.run.served import Served
    from harness.server.model_server import ModelServer

    lp = _endpoint_plan(
        tmp_path,
        "sweep-guards",
        truth_url,
        {"sweep": {"concurrency": [2], "request_rates": [20], "requests_per_level": 6, "max_tokens": 3}},
    )
    server = ModelServer(base_url=truth_url + "/v1", model="a", api_key=None, managed=False)
    assert run_sweep(Served(lp, "a", server, "chat", tmp_path, lambda msg: None, show_progress=False)) == 2
    c2, r20 = RunDir(tmp_path).read_levels()
    assert (c2.level_id, r20.level_id) == ("c2", "r20")
    assert all(t.error is None and t.output_tokens == 3 for t in c2.requests + r20.requests)
    assert c2.guards is not None and c2.guards.dispatch_delay_ms == {} and c2.guards.workers == 1
    assert r20.guards is not None and set(r20.guards.dispatch_delay_ms) == {"p50", "p99", "max"}
    assert r20.guards.dispatch_delay_ms["p50"] is not None and r20.guards.dispatch_delay_ms["p50"] >= 0


# ---------------------------------------------------------------- capacity search against a simulated server (pure)


def test_a_clean_boundary_is_bracketed_then_bisected_to_one_stream() -> None:
    from harness.run.perf.capacity import CapacitySearch, search

    probed: list[float] = []

    def run(v: float) -> bool:
        probed.append(v)
        return v <= 37

    cap = search(CapacitySearch("concurrency", start=1, limit=1024), run, repeats=1)
    assert probed == [1, 2, 4, 8, 16, 32, 64, 48, 40, 36, 38, 37]
    assert (cap.estimate, cap.lower, cap.upper) == (37, 37, 38)


def test_a_noisy_point_widens_the_interval_but_a_majority_still_passes() -> None:
    from harness.run.perf.capacity import CapacitySearch, search

    noisy = {37: iter([True, False, True])}

    def run(v: float) -> bool:
        return next(noisy[v]) if v in noisy else v <= 37

    cap = search(CapacitySearch("concurrency"), run, repeats=3)
    assert cap.estimate == 37  # 2 of 3 runs met the SLOs
    assert (cap.lower, cap.upper) == (36, 38)  # 37 is not sure either way


def test_a_rate_is_bisected_to_a_share_of_itself() -> None:
    from harness.run.perf.capacity import CapacitySearch, search

    cap = search(CapacitySearch("rate", start=1, limit=100, resolution=0.1), lambda v: v <= 5.3, repeats=2)
    # 1, 2, 4 pass, 8 fails; 6 fails, 5 passes, 5.5 fails: 5.5 - 5 <= 10% of 5, done
    assert [p.value for p in cap.points] == [1, 2, 4, 5, 5.5, 6, 8]
    assert (cap.estimate, cap.lower, cap.upper) == (5, 5, 5.5)


def test_a_server_that_fails_the_first_point_has_no_capacity() -> None:
    from harness.run.perf.capacity import CapacitySearch, search

    cap = search(CapacitySearch("concurrency", start=1), lambda v: False, repeats=3)
    assert (cap.estimate, cap.lower, cap.upper, len(cap.points)) == (None, None, 1, 1)


def test_the_search_stops_at_its_limit_without_an_upper_bound() -> None:
    from harness.run.perf.capacity import CapacitySearch, search

    cap = search(CapacitySearch("concurrency", start=1, limit=10), lambda v: True, repeats=1)
    assert [p.value for p in cap.points] == [1, 2, 4, 8, 10]
    assert (cap.estimate, cap.upper) == (10, None)


@pytest.fixture(scope="module")
def batch4_url() -> Iterator[str]:
    """A truth server that streams 4 requests at once (TTFT 200 ms, ITL 20 ms, 3 tokens) and queues the rest.

    Slow on purpose: the SLO tests below leave 120 ms either side of their limit, so a busy
    2-core CI host does not move a point across it."""
    with truth_server("--ttft-ms", "200", "--itl-ms", "20", "--tokens", "3", "--max-running", "4") as url:
        yield url


def test_the_capacity_search_finds_a_four_request_batch(batch4_url: str, tmp_path: Path) -> None:
    """At 4 streams no request waits (TTFT ~200 ms); at 5 or more, one in five waits a whole answer (~440 ms),
    over the 320 ms TTFT limit for more than 5 % of the requests: the capacity is 4, between 4 and 5."""
    from harness.run.perf.sweep import run_sweep, sweep_pending
    from harness.run.served import Served
    from harness.server.model_server import ModelServer

    lp = _endpoint_plan(
        tmp_path,
        "capacity",
        batch4_url,
        {
            "slo": {"ttft_ms": 320},
            "sweep": {
                "concurrency": [],
                "requests_per_level": 4,
                "max_tokens": 3,
                "capacity": "concurrency",
                "capacity_repeats": 1,
                "capacity_limit": 8,
            },
        },
    )
    assert sweep_pending(lp, "a", tmp_path)
    server = ModelServer(base_url=batch4_url + "/v1", model="a", api_key=None, managed=False)
    run_sweep(Served(lp, "a", server, "chat", tmp_path, lambda msg: None, show_progress=False))
    (cap,) = RunDir(tmp_path).read_capacity()
    assert [p.value for p in cap.points] == [1, 2, 4, 5, 6, 8]  # doubled to 8, then 6, 5
    assert [p.order for p in cap.points] == [1, 2, 3, 6, 5, 4]  # ... so 8 was the 4th probe, 5 the last
    assert cap.slo is not None and cap.slo.ttft_ms == 320
    assert (cap.estimate, cap.lower, cap.upper) == (4, 4, 5)
    assert cap.requests_per_s is not None and cap.requests_per_s > 0
    assert not sweep_pending(lp, "a", tmp_path)  # a resumed run does not search again


def test_an_over_saturated_rate_stops_the_higher_rates(batch4_url: str, tmp_path: Path) -> None:
    """40 requests in 0.2 s to a server that answers 4 per 240 ms: the last wait ~2.4 s, the first ~0.2 s."""
    from harness.run.perf.sweep import run_sweep
    from harness.run.served import Served
    from harness.server.model_server import ModelServer

    lp = _endpoint_plan(
        tmp_path,
        "oversaturated",
        batch4_url,
        {"sweep": {"concurrency": [], "request_rates": [200, 400], "requests_per_level": 40, "max_tokens": 3}},
    )
    logged: list[str] = []
    server = ModelServer(base_url=batch4_url + "/v1", model="a", api_key=None, managed=False)
    assert run_sweep(Served(lp, "a", server, "chat", tmp_path, logged.append, show_progress=False)) == 1
    r200, r400 = RunDir(tmp_path).read_levels()
    assert r200.level_id == "r200" and r200.guards is not None and r200.guards.oversaturated
    assert r200.stopped is None and len(r200.requests) == 40  # 2.4 s: too short for the online stop
    assert any("higher rates skipped" in line and "r400" in line for line in logged)
    # the skipped level is a record of its own: no requests, the reason, and done for a resumed run
    assert (r400.level_id, r400.requests, r400.skipped) == ("r400", [], "over-saturated at r200")
    assert run_sweep(Served(lp, "a", server, "chat", tmp_path, logged.append, show_progress=False)) == 0


def test_the_watch_counts_in_flight_over_every_worker_and_trips_once() -> None:
    from harness.run.perf.loadgen import Watch

    asked: list[int] = []

    def test(samples: Any, now: float) -> str | None:
        asked.append(len(samples))
        return "full" if len(samples) >= 2 else None

    w = Watch(test, t0=100.0, workers=2, every_s=0.0)  # asked at every add
    assert w.add(0, [(101.0, 50.0, 3)]) is False  # worker 0 sent 3, 1 answered: 2 in flight
    assert w.add(1, [(101.5, 70.0, 2)]) is True  # 3 + 2 sent, 2 answered: 3 in flight
    assert [(c.t_s, c.ttft_ms, c.in_flight) for c in w.samples] == [(1.0, 50.0, 2), (1.5, 70.0, 3)]
    assert w.add(0, [(102.0, 90.0, 4)]) is False and w.reason == "full" and asked == [1, 2]  # tripped once


@pytest.mark.parametrize("workers", [1, 2])
def test_an_over_saturated_level_is_stopped_while_it_runs(workers: int) -> None:
    """200 requests at 50/s to a server that answers ~16/s (4 per 240 ms): unstopped they take ~12 s.

    Request i waits ~0.04 x i s more than the one before, so with the minimums lowered to 1 s and 10
    answers the test trips by ~2 s; the level keeps its answers and counts the rest. A server of its
    own: the truth server goes on serving requests whose client hung up, so a shared one stays busy."""
    from functools import partial

    from harness.run.perf.guards import oversaturation

    test = partial(oversaturation, min_elapsed_s=1.0, min_completions=10)
    with truth_server("--ttft-ms", "200", "--itl-ms", "20", "--tokens", "3", "--max-running", "4") as url:
        target = LoadTarget.at(url + "/v1", "fake", timeout_s=30)
        t0 = time.perf_counter()
        run = asyncio.run(
            run_level_workers(target, requests(200, 3), Level("rate", 50.0), workers=workers, stop_when=test)
        )
        took = time.perf_counter() - t0
    assert run.stopped is not None and "over-saturated after" in run.stopped
    assert took < 8.0, took  # well before the ~12 s the whole level needs
    assert run.unsent + run.cut > 0 and len(run.results) + run.unsent + run.cut == 200
    assert 10 <= len(run.results) < 150 and all(r.error is None for r in run.results)


def test_the_sweep_records_a_level_cut_by_the_online_stop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """r50 (200 requests) to the ~16/s server, the stop's minimums lowered to 1 s and 10 answers: r50 is cut
    and recorded with its answers, the count of the rest and why; r100 is skipped."""
    from functools import partial

    from harness.run.perf import sweep
    from harness.run.perf.guards import oversaturation
    from harness.run.served import Served
    from harness.server.model_server import ModelServer

    monkeypatch.setattr(sweep, "oversaturation", partial(oversaturation, min_elapsed_s=1.0, min_completions=10))
    with truth_server("--ttft-ms", "200", "--itl-ms", "20", "--tokens", "3", "--max-running", "4") as url:
        rates = {"concurrency": [], "request_rates": [50, 100], "requests_per_level": 200, "max_tokens": 3}
        lp = _endpoint_plan(tmp_path, "online-stop", url, {"sweep": rates})
        server = ModelServer(base_url=url + "/v1", model="a", api_key=None, managed=False)
        logged: list[str] = []
        assert sweep.run_sweep(Served(lp, "a", server, "chat", tmp_path, logged.append, show_progress=False)) == 1
    r50, r100 = RunDir(tmp_path).read_levels()
    assert r50.stopped is not None and r50.stopped.startswith("over-saturated after")
    assert len(r50.requests) + r50.unsent + r50.cut == 200 and r50.unsent + r50.cut > 0
    assert r50.guards is not None and r50.guards.oversaturated and "stopped early" in r50.guards.problems[-1]
    assert (r100.requests, r100.skipped) == ([], "over-saturated at r50")
    assert any("stopped early" in line for line in logged)


def test_a_level_that_keeps_up_is_not_stopped(truth_url: str) -> None:
    from functools import partial

    from harness.run.perf.guards import oversaturation

    test = partial(oversaturation, min_elapsed_s=0.0, min_completions=3)
    run = asyncio.run(run_level_workers(LoadTarget.at(truth_url + "/v1", "fake", timeout_s=30), requests(12, 2),
                                        Level("concurrency", 3), stop_when=test))  # fmt: skip
    assert (run.stopped, run.unsent, run.cut, len(run.results)) == (None, 0, 0, 12)


def test_fast_client_reads_the_completions_api() -> None:
    text = json.dumps({"choices": [{"index": 0, "text": ANSWER, "finish_reason": "length"}]}, ensure_ascii=False)
    with fake_server(lambda n: Reply([(0.0, sse_bytes(text, USAGE, "[DONE]"))])) as srv:

        async def go() -> Result:
            async with FastClient(ClientConfig(base_url=srv.base_url, model="m", timeout_s=10.0, retries=0)) as c:
                return await c.generate(Request(api="completions", prompt="年假几天？", max_tokens=8))

        got = asyncio.run(go())
        assert (got.text, got.finish_reason, got.output_tokens) == (ANSWER, "length", 9)
        assert json.loads(srv.requests[0])["prompt"] == "年假几天？"
