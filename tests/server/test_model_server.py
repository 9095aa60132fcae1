"""The model-server contract (:mod:`harness.server.model_server`): health, URLs, the client it builds.

Against the in-process fake server of ``tests/fake_server.py`` (no vLLM needed).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.records import Request
from harness.server.model_server import Health, HealthCheck, ModelServer, fast_client
from harness.server.vllm_server import ServerStartError, free_port, wait_healthy
from tests.support.fake_server import Reply, chunk, fake_server, sse_bytes


def endpoint(base_url: str, **kw: object) -> ModelServer:
    return ModelServer(base_url=base_url, model="m", api_key=None, managed=False, **kw)  # type: ignore[arg-type]


def health(server: ModelServer) -> HealthCheck:
    return asyncio.run(server.health(timeout_s=5.0))


def answer(n: int) -> Reply:
    return Reply([(0.0, sse_bytes(chunk("hi"), chunk(finish="stop"), "[DONE]"))])


def test_health_says_up_loading_no_route_and_gone() -> None:
    with fake_server(answer, health=lambda: 200) as srv:
        assert health(endpoint(srv.base_url)) == HealthCheck(200)
        assert health(endpoint(srv.base_url)).state is Health.UP
    with fake_server(answer, health=lambda: 503) as srv:  # a dead vLLM engine, or an endpoint still loading
        assert health(endpoint(srv.base_url)).state is Health.BUSY
    with fake_server(answer, health=lambda: 500) as srv:
        assert health(endpoint(srv.base_url)).state is Health.FAILING
    with fake_server(answer) as srv:  # GET not served: 501, a 5xx like any other
        assert health(endpoint(srv.base_url)) == HealthCheck(501)
        assert health(endpoint(srv.base_url)).state is Health.FAILING
    with fake_server(answer, health=lambda: 404) as srv:  # no /health route
        assert health(endpoint(srv.base_url)).state is Health.NO_ROUTE
    gone = health(endpoint(f"http://127.0.0.1:{free_port()}/v1"))  # nothing listens on a port just freed
    assert gone == HealthCheck(None) and gone.state is Health.GONE


def test_the_servers_routes_hang_off_its_root_not_v1() -> None:
    server = endpoint("http://10.0.0.5:8000/v1/")
    assert server.health_url == "http://10.0.0.5:8000/health"
    assert server.metrics_url == "http://10.0.0.5:8000/metrics"


def test_client_carries_the_api_the_parser_and_the_served_name() -> None:
    server = ModelServer(
        base_url="http://127.0.0.1:9/v1", model="base", api_key="k", managed=True, reasoning_parser="qwen3"
    )
    client = server.client(api="chat", timeout_s=7.0, retries=1, load_timeout_s=30.0)
    assert (client.config.api, client.config.reasoning_parser, client.model) == ("chat", "qwen3", "base")
    assert (client.timeout_s, client.retries, client.load_timeout_s, client.wait_when_asked) == (7.0, 1, 30.0, True)
    assert client.config.headers == {"Authorization": "Bearer k"}
    lora = server.client(api="completions", model="base-lora")  # a LoRA adapter on its base's server
    assert (lora.config.api, lora.model) == ("completions", "base-lora")
    asyncio.run(client.aclose())
    asyncio.run(lora.aclose())


def test_both_clients_send_the_name_the_server_gave_them() -> None:
    with fake_server(answer) as srv:
        server = endpoint(srv.base_url)

        async def ask() -> tuple[str, str]:
            req = Request(api="chat", messages=[{"role": "user", "content": "x"}], max_tokens=4)
            async with server.client(api="chat", model="adapter-a", retries=0) as c:
                plain = (await c.generate(req)).text
            config = server.client_config(api="chat", model="adapter-b", retries=0, wait_when_asked=False)
            async with fast_client(config) as f:
                fast = (await f.generate(req)).text
            return plain, fast

        assert asyncio.run(ask()) == ("hi", "hi")
    assert [json.loads(body)["model"] for body in srv.requests] == ["adapter-a", "adapter-b"]


def test_the_start_up_wait_returns_once_health_is_up_and_names_the_log_when_the_process_ends(tmp_path: Path) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with fake_server(answer, health=lambda: 200) as srv:
            wait_healthy(sleeper, endpoint(srv.base_url, proc=sleeper), timeout_s=10.0)  # returns: no raise
    finally:
        sleeper.kill()
        sleeper.wait()
    log = tmp_path / "m.vllm.log"
    log.write_text("INFO loading\nValueError: no such model\n", encoding="utf-8")
    ended = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    ended.wait()
    server = ModelServer(base_url=f"http://127.0.0.1:{free_port()}/v1", model="m", api_key=None, managed=True,
                         proc=ended, log_path=log)  # fmt: skip
    assert server.exit_code == 3
    with pytest.raises(ServerStartError) as err:
        wait_healthy(ended, server, timeout_s=10.0)
    assert str(err.value) == "vLLM server exited with code 3 before it was healthy:\nValueError: no such model"
    assert server.log_tail() == "ValueError: no such model"
    assert endpoint("http://x/v1").log_tail() == "" and endpoint("http://x/v1").exit_code is None
