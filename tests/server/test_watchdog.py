"""The watchdog and breaker that stop asking a server that is gone (no vLLM needed).

The real faults (a vLLM server killed or stopped mid-run) are in test_faults.py.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from harness.server.model_server import ModelServer, exit_description, log_tail
from harness.server.vllm_server import free_port
from harness.server.watchdog import Breaker, ServerGone, until_gone, watch_server
from tests.support.files import DATA


def test_breaker_trips_after_a_run_of_failures_and_resets_on_success() -> None:
    b = Breaker(3)
    assert [b.record("HTTP 500"), b.record("HTTP 500"), b.record(None)] == [None, None, None]
    assert b.record("timed out") is None and b.record("timed out") is None
    reason = b.record("HTTP 401: bad key")
    assert reason == "3 requests in a row failed (limits.max_consecutive_failures); the last: HTTP 401: bad key"
    never = Breaker(None)
    assert all(never.record("boom") is None for _ in range(1000))


def test_exit_description_names_signals() -> None:
    assert exit_description(-9) == "was killed by SIGKILL"
    assert exit_description(1) == "exited with code 1"


def _server(managed: bool, proc: subprocess.Popen[bytes] | None = None, log: Path | None = None) -> ModelServer:
    return ModelServer(
        base_url="http://127.0.0.1:9/v1", model="m", api_key=None, managed=managed, proc=proc, log_path=log
    )


def _watch(server: ModelServer, unresponsive_s: float, handler=None, within_s: float = 10.0) -> str:  # type: ignore[no-untyped-def]
    async def go() -> str:
        http = httpx.AsyncClient(transport=httpx.MockTransport(handler)) if handler else None
        try:
            return await asyncio.wait_for(watch_server(server, unresponsive_s, poll_s=0.05, http=http), within_s)
        finally:
            if http:
                await http.aclose()

    return asyncio.run(go())


def test_a_started_server_that_ends_is_gone_at_once_with_its_log(tmp_path: Path) -> None:
    log = tmp_path / "m.vllm.log"
    log.write_text("INFO starting\nRuntimeError: CUDA error: an illegal memory access was encountered\n")
    proc = subprocess.Popen([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"])
    proc.wait()
    reason = _watch(_server(True, proc, log), 60, lambda r: httpx.Response(200))
    assert reason.startswith("the vLLM server was killed by SIGKILL:")
    assert "illegal memory access" in reason


def test_a_dead_vllm_engine_is_final_but_an_endpoints_503_must_last(tmp_path: Path) -> None:
    def unavailable(r: httpx.Request) -> httpx.Response:
        assert r.url.path == "/health"
        return httpx.Response(503)

    assert _watch(_server(True), 60, unavailable).startswith("the vLLM engine died (/health answered 503)")
    # a load balancer's 503 may pass: an endpoint is only declared gone after unresponsive_s
    reason = _watch(_server(False), 0.3, unavailable)
    assert "stopped answering" in reason and "0.3 s" in reason


def test_a_server_that_does_not_answer_is_declared_hung() -> None:
    server = ModelServer(base_url=f"http://127.0.0.1:{free_port()}/v1", model="m", api_key=None, managed=False)
    assert _watch(server, 0.3).startswith("the server stopped answering: /health gave no answer for 0.3 s")


def test_an_endpoint_without_a_health_route_is_left_to_the_requests() -> None:
    with pytest.raises(TimeoutError):
        _watch(_server(False), 0.2, lambda r: httpx.Response(404), within_s=1.0)


def test_a_healthy_server_is_watched_until_cancelled() -> None:
    with pytest.raises(TimeoutError):
        _watch(_server(True), 0.2, lambda r: httpx.Response(200), within_s=1.0)


def test_log_tail_names_the_root_cause_not_the_access_log(tmp_path: Path) -> None:
    """Lines as vLLM 0.32's CPU build wrote them when seeded sampling killed its engine."""
    log = tmp_path / "m.vllm.log"
    log.write_text(
        "(APIServer pid=1) WARNING 11-24 06:41:43 [utils.py:2] fd limit errors like `OSError: [Errno 24]`\n"
        "(Worker pid=3) ERROR 11-24 06:42:09 [mp.py:1] RuntimeError: CPU Generator does not use offset\n"
        "(Worker pid=3) ERROR 11-24 06:42:09 [mp.py:1] RuntimeError: CPU Generator does not use offset\n"
        "(EngineCore pid=2) ERROR 11-24 06:42:09 [core.py:1] RuntimeError: Worker failed with error 'CPU Generator'\n"
        "(APIServer pid=1) ERROR 11-24 06:42:09 [llm.py:9] vllm.v1.engine.exceptions.EngineDeadError: EngineCore\n"
        + 'INFO:     127.0.0.1:56280 - "POST /v1/chat/completions HTTP/1.1" 500 Internal ModelServer Error\n'
        * 20,
        encoding="utf-8",
    )
    assert log_tail(log).splitlines() == [
        "RuntimeError: CPU Generator does not use offset",
        "RuntimeError: Worker failed with error 'CPU Generator'",
        "vllm.v1.engine.exceptions.EngineDeadError: EngineCore",
    ]
    log.write_text("usage: api_server.py [-h]\napi_server.py: error: unrecognized arguments: --no-such-flag\n")
    assert log_tail(log) == "api_server.py: error: unrecognized arguments: --no-such-flag"
    log.write_text("".join(f"line {i}\n" for i in range(30)))
    assert log_tail(log, lines=3) == "line 27\nline 28\nline 29"


def test_a_judge_that_is_gone_stops_the_judging_with_the_reason(tmp_path: Path) -> None:
    """The judge's verdicts go through the same guard as the candidates' answers."""
    import yaml

    from harness.inputs.plan import load_plan
    from harness.records import Generation
    from harness.run.manifest import open_manifest
    from harness.scoring.judge.stage import run_judging
    from harness.store import JsonlAppender

    sets = DATA / "sets"
    dead = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens: every request and /health fail
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump({
        "name": "judge-gone",
        "candidates": [{"name": "a", "model": "a", "endpoint": {"base_url": dead}}],
        "question_sets": [str(sets / "mini_en.yaml")],
        "judge": {"model": "j", "api": "chat", "endpoint": {"base_url": dead}, "modes": ["single"],
                  "retest_fraction": 0, "injection_answers": 0, "concurrency": 2},
        "limits": {"unresponsive_s": 0.5, "retries": 0, "max_consecutive_failures": 100},
    }))  # fmt: skip
    lp = load_plan(plan)
    run_dir = tmp_path / "run"
    open_manifest(lp, run_dir)
    qs = lp.sets[0].qs
    with JsonlAppender(run_dir / "generations.jsonl") as out:
        for i in range(40):  # many verdicts to ask: the guard must stop them, not wait for each to fail
            for q in qs.questions:
                out.append(Generation(key=f"a/{qs.id}/{q.id}/{i}", candidate="a", set_id=qs.id, question_id=q.id,
                                      sample=i, api="chat", seed=i, text="answer"))  # fmt: skip
    logged: list[str] = []
    entry = run_judging(lp, run_dir, logged.append, show_progress=False)
    assert entry is not None and entry.error is not None
    asked, total = (int(n) for n in re.findall(r"\d+", entry.error)[:2])
    assert entry.error.startswith(f"stopped after {asked} of {total} verdicts: ") and asked < total == 160
    assert any(line.startswith("[judge judge] FAILED mid-run") for line in logged)


def test_until_gone_returns_the_result_or_why_the_server_went() -> None:
    server = ModelServer(base_url=f"http://127.0.0.1:{free_port()}/v1", model="m", api_key=None, managed=False)

    async def go(work):  # type: ignore[no-untyped-def]
        return await until_gone(server, 0.3, work)

    assert asyncio.run(go(asyncio.sleep(0, result=5))) == (5, None)
    result, why = asyncio.run(go(asyncio.sleep(30)))
    assert result is None and why is not None and why.startswith("the server stopped answering")

    async def bug() -> None:
        raise ValueError("a bug in the stage")

    with pytest.raises(ValueError, match="a bug in the stage"):
        asyncio.run(go(bug()))


def test_a_server_that_hangs_during_the_load_sweep_stops_it(tmp_path: Path) -> None:
    """A socket that accepts connections and never answers: requests and /health hang alike."""
    import socket
    import time

    import yaml

    from harness.inputs.plan import load_plan
    from harness.run.perf.sweep import run_sweep
    from harness.run.served import Served
    from harness.rundir import LOADTEST

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    port = silent.getsockname()[1]
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump({
        "name": "sweep-hang",
        "candidates": [{"name": "a", "model": "a", "endpoint": {"base_url": f"http://127.0.0.1:{port}/v1"}}],
        "question_sets": [str(DATA / "sets" / "mini_en.yaml")],
        "perf": {"sweep": {"concurrency": [1], "requests_per_level": 2, "max_tokens": 8}},
        "limits": {"unresponsive_s": 0.5, "request_timeout_s": 60},
    }))  # fmt: skip
    lp = load_plan(plan)
    server = ModelServer(base_url=f"http://127.0.0.1:{port}/v1", model="a", api_key=None, managed=False)
    t0 = time.monotonic()
    try:
        with pytest.raises(ServerGone, match=r"^during the load sweep at c1: the server stopped answering"):
            run_sweep(Served(lp, "a", server, "chat", tmp_path, lambda msg: None, show_progress=False))
    finally:
        silent.close()
    assert time.monotonic() - t0 < 10, "the sweep must not wait for the 60 s request timeout"
    assert not (tmp_path / LOADTEST).exists() or (tmp_path / LOADTEST).read_text() == ""


def test_cancelling_until_gone_stops_the_requests_in_flight_before_it_returns() -> None:
    """Ctrl-C/SIGTERM cancel the stage; its requests must be stopped before the caller closes their HTTP
    client, or they fail on a closed client and asyncio prints "exception was never retrieved"."""
    server = ModelServer(base_url=f"http://127.0.0.1:{free_port()}/v1", model="m", api_key=None, managed=False)
    client_open = True
    failed_on_closed_client: list[int] = []

    async def request(i: int) -> None:
        await asyncio.sleep(0.05 * (i + 1))
        if not client_open:
            failed_on_closed_client.append(i)
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        await asyncio.sleep(30)

    async def stage() -> None:
        nonlocal client_open
        try:
            await until_gone(server, 60, asyncio.gather(*(request(i) for i in range(8))))
        finally:
            client_open = False  # what `async with ModelClient(...)` does on the way out

    async def main() -> list[asyncio.Task[object]]:
        task = asyncio.ensure_future(stage())
        await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.5)  # long enough for every request to have reached the closed client
        return [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]

    assert asyncio.run(main()) == []
    assert failed_on_closed_client == []


def test_an_endpoint_loading_answers_503_and_is_waited_on_as_long_as_a_load_may_take() -> None:
    # all routes of a loading endpoint answer 503 (as its requests do, which the client waits out within
    # limits.server_start_timeout_s): with busy_s 0.6 and unresponsive_s 0.2, a 503 lasting 0.4 s is no outage ...
    t0 = time.monotonic()

    def loading(r: httpx.Request) -> httpx.Response:
        return httpx.Response(503 if time.monotonic() - t0 < 0.4 else 200)

    async def go(handler, busy_s: float, within_s: float) -> str:  # type: ignore[no-untyped-def]
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            return await asyncio.wait_for(
                watch_server(_server(False), 0.2, poll_s=0.05, http=http, busy_s=busy_s), within_s
            )

    with pytest.raises(TimeoutError):  # watched until cancelled: never declared gone
        asyncio.run(go(loading, 0.6, 1.5))
    # ... and one that never loads is gone once busy_s (0.6) and then unresponsive_s (0.2) have passed: ~0.8 s
    t1 = time.monotonic()
    reason = asyncio.run(go(lambda r: httpx.Response(503), 0.6, 5.0))
    assert 0.75 <= time.monotonic() - t1 < 2.0
    assert reason.startswith("the server stopped answering: /health answered 503 for ")
    assert reason.endswith("(limits.server_start_timeout_s, then limits.unresponsive_s)")
