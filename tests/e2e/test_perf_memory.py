"""Memory, /metrics and the server log measured on the session vLLM server (CPU build), all at once.

The parsers and samplers each have their unit tests, on fixtures taken from such a server, in
tests/run/test_perf_memory.py; here they read a live one.
"""

from __future__ import annotations

import threading

import httpx
import pytest

from harness.run.perf.metrics import MetricsPoller
from harness.run.perf.nvml import MemorySampler
from harness.run.perf.serverlog import read_server_log
from harness.server.model_server import ModelServer
from tests.support.fake_pynvml import FakeNvml, NVMLError_LibraryNotFound


@pytest.mark.vllm
def test_measures_a_real_vllm_server(smol_server: ModelServer) -> None:
    assert smol_server.pid is not None and smol_server.log_path is not None
    headers = {"Authorization": f"Bearer {smol_server.api_key}"}
    body = {"model": smol_server.model, "messages": [{"role": "user", "content": "Count to fifty."}], "max_tokens": 48}

    codes: list[int] = []

    def ask() -> None:
        codes.append(
            httpx.post(f"{smol_server.base_url}/chat/completions", json=body, headers=headers, timeout=120).status_code
        )

    no_nvml = FakeNvml(init_error=NVMLError_LibraryNotFound())
    with (
        MemorySampler(pids=[smol_server.pid], interval_s=0.1, nvml=no_nvml) as mem,
        MetricsPoller(smol_server, interval_s=0.05) as met,
    ):
        workers = [threading.Thread(target=ask) for _ in range(4)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    m, h = met.summary(), mem.summary()
    assert codes == [200] * 4
    assert m.failed_scrapes == 0 and m.generation_tokens is not None and m.generation_tokens >= 4
    assert m.peak_requests_running is not None and m.peak_requests_running >= 1
    assert m.peak_kv_cache_usage_frac is not None and 0 < m.peak_kv_cache_usage_frac <= 1
    assert h.source == "host" and h.peak_rss_gib is not None and h.peak_rss_gib > 0.3  # server + engine + weights
    facts = read_server_log(smol_server.log_path)
    assert facts.kv_cache_tokens == m.kv_cache_size_tokens and facts.kv_cache_tokens is not None
    assert facts.load_s is not None and facts.max_concurrency_len == 2048
