"""Memory and power measurement: NVML sampler (fake pynvml), host fallback, /metrics, server log.

The fixtures under tests/data/perf come from a real CPU-build vLLM 0.32.0 server
(SmolLM2-135M, 8 concurrent chat requests): ``metrics_cpu.txt`` is a /metrics
scrape taken while they ran, trimmed to the families read here;
``vllm_cpu_server.log`` is that server's log, trimmed to the start-up facts and
the periodic stats lines. GPU-build log lines are rendered from the format
strings in vLLM's source, which a test checks are still there. The same measures on a live
server: tests/e2e/test_perf_memory.py.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psutil
import pytest

from harness.rollup.perf_summary import energy_per_token_j
from harness.run.perf.metrics import MetricsPoller, parse_prometheus, parse_vllm_metrics
from harness.run.perf.nvml import GIB, GpuReading, MemorySampler, Sample, summarize, tree_rss_bytes
from harness.run.perf.serverlog import parse_server_log, read_server_log
from harness.server.model_server import ModelServer
from tests.support.fake_pynvml import FakeDevice, FakeNvml, NVMLError_LibraryNotFound
from tests.support.fake_server import fake_server
from tests.support.files import DATA

PERF = DATA / "perf"
MIB = 1024**2


def hand_trapezoid(points: list[tuple[float, float]]) -> float:
    total = 0.0
    for i in range(1, len(points)):
        (t0, p0), (t1, p1) = points[i - 1], points[i]
        total += (p0 + p1) / 2 * (t1 - t0)
    return total


# --------------------------------------------------------------------------
# NVML sampler, driven by the fake pynvml
# --------------------------------------------------------------------------


def test_sampler_two_gpus_scripted_end_to_end() -> None:
    fake = FakeNvml(
        [
            FakeDevice(
                name="NVIDIA H100 80GB HBM3",
                total_bytes=80 * GIB,
                used_bytes=[10 * GIB, 30 * GIB, 20 * GIB],
                util_gpu_pct=[50, 100],
                power_mw=[100_000, 300_000, 200_000],
            ),
            FakeDevice(
                name="NVIDIA L4", total_bytes=24 * GIB, used_bytes=[5 * GIB, 6 * GIB, 7 * GIB], power_supported=False
            ),
        ]
    )
    with MemorySampler(interval_s=0.01, nvml=fake) as sampler:
        time.sleep(0.3)
    assert not any(t.name == "memory-sampler" for t in threading.enumerate())
    assert fake.shutdown_calls == 1 and not fake.initialized

    samples = sampler.samples
    s = sampler.summary()
    n = len(samples)
    assert n >= 4 and s.samples == n
    assert s.source == "nvml" and s.note is None
    g0, g1 = s.gpus
    assert (g0.index, g0.name, g1.name) == (0, "NVIDIA H100 80GB HBM3", "NVIDIA L4")
    assert (g0.total_gib, g1.total_gib, s.total_gib) == (80, 24, 104)
    assert (g0.peak_used_gib, g1.peak_used_gib) == (30, 7)
    assert s.peak_used_gib == 36  # 30 + 6 at the second sample: the peak of the sum, not the sum of peaks (37)
    assert g0.mean_util_pct == pytest.approx((50 + 100 * (n - 1)) / n)

    watts = [100.0, 300.0] + [200.0] * (n - 2)
    assert [gs.power_w for gs in (x.gpus[0] for x in samples)] == watts
    assert g0.mean_power_w == pytest.approx(sum(watts) / n)
    assert g0.energy_j == pytest.approx(hand_trapezoid([(x.t_s, w) for x, w in zip(samples, watts, strict=True)]))
    assert s.energy_j == g0.energy_j and s.mean_power_w == g0.mean_power_w
    assert s.duration_s == pytest.approx(samples[-1].t_s - samples[0].t_s) and s.duration_s >= 0.3

    # power not supported on GPU 1: None there, said once, and memory still measured
    assert g1.mean_power_w is None and g1.energy_j is None
    assert s.errors == ["GPU 1 power: Not Supported"]


def test_sampler_selected_gpu_and_bytes_name() -> None:
    fake = FakeNvml([FakeDevice(used_bytes=[GIB]), FakeDevice(name=b"Tesla T4", used_bytes=[2 * GIB])])  # type: ignore[arg-type]
    with MemorySampler(gpu_indices=[1], interval_s=0.01, nvml=fake) as sampler:
        pass
    s = sampler.summary()
    assert [(g.index, g.name, g.peak_used_gib) for g in s.gpus] == [(1, "Tesla T4", 2)]
    assert s.samples == 2  # one on entry, one on exit, however short the phase


def test_summarize_by_hand() -> None:
    samples = [
        Sample(0.0, (GpuReading(0, 1 * GIB, 8 * GIB, 10.0, 100.0),)),
        Sample(0.5, (GpuReading(0, 3 * GIB, 8 * GIB, 30.0, 200.0),)),
        Sample(1.0, (GpuReading(0, 2 * GIB, 8 * GIB, None, None),)),  # one failed read is bridged
        Sample(2.0, (GpuReading(0, 2 * GIB, 8 * GIB, 50.0, 50.0),)),
    ]
    s = summarize(samples, source="nvml", names={0: "X"})
    # 0.5 * (100 + 200) / 2 + 1.5 * (200 + 50) / 2 = 75 + 187.5
    assert s.gpus[0].energy_j == pytest.approx(262.5)
    assert s.gpus[0].mean_power_w == pytest.approx(350 / 3)
    assert s.gpus[0].mean_util_pct == pytest.approx(30)
    assert (s.peak_used_gib, s.duration_s, s.peak_rss_gib) == (3, 2.0, None)
    empty = summarize([], source="host", note="n")
    assert (empty.samples, empty.duration_s, empty.gpus, empty.peak_rss_gib, empty.note) == (0, 0.0, [], None, "n")


def test_summarize_matches_numpy_on_random_samples() -> None:
    rng = np.random.default_rng(20240611)
    n, gpus = 200, 3
    t = np.cumsum(rng.uniform(0.3, 0.7, n))
    used = rng.integers(0, 80 * GIB, size=(n, gpus))
    util = rng.uniform(0, 100, size=(n, gpus))
    power = rng.uniform(50, 700, size=(n, gpus))
    has_power = rng.random((n, gpus)) > 0.2
    rss = rng.integers(GIB, 20 * GIB, size=n)
    samples = [
        Sample(
            float(t[i]),
            tuple(
                GpuReading(
                    g, int(used[i, g]), 80 * GIB, float(util[i, g]), float(power[i, g]) if has_power[i, g] else None
                )
                for g in range(gpus)
            ),
            int(rss[i]),
        )
        for i in range(n)
    ]
    s = summarize(samples, source="nvml")
    for g, gs in enumerate(s.gpus):
        m = has_power[:, g]
        assert gs.peak_used_gib == pytest.approx(used[:, g].max() / GIB, rel=1e-12)
        assert gs.mean_util_pct == pytest.approx(util[:, g].mean(), rel=1e-12)
        assert gs.mean_power_w == pytest.approx(power[m, g].mean(), rel=1e-12)
        assert gs.energy_j == pytest.approx(np.trapezoid(power[m, g], t[m]), rel=1e-12)
    assert s.peak_used_gib == pytest.approx(used.sum(axis=1).max() / GIB, rel=1e-12)
    assert s.energy_j == pytest.approx(
        sum(np.trapezoid(power[has_power[:, g], g], t[has_power[:, g]]) for g in range(gpus))
    )
    assert s.peak_rss_gib == pytest.approx(rss.max() / GIB) and s.mean_rss_gib == pytest.approx(rss.mean() / GIB)
    assert s.duration_s == pytest.approx(t[-1] - t[0])


def test_energy_per_token() -> None:
    assert energy_per_token_j(300.0, 150) == 2.0
    assert energy_per_token_j(None, 10) is None and energy_per_token_j(5.0, 0) is None
    assert energy_per_token_j(5.0, None) is None


# --------------------------------------------------------------------------
# Host fallback
# --------------------------------------------------------------------------

CHILD = """
import subprocess, sys, time
grand = subprocess.Popen(
    [sys.executable, "-c", "import time; b = b'y' * (100 * 2**20); print('ok', flush=True); time.sleep(300)"],
    stdout=subprocess.PIPE,
)
grand.stdout.readline()
data = b"x" * (200 * 2**20)
print(grand.pid, flush=True)
time.sleep(300)
"""


@pytest.fixture
def process_tree() -> Iterator[tuple[int, int]]:
    """A python child holding ~200 MiB whose own child holds ~100 MiB; both ended afterwards."""
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True)
    procs = [psutil.Process(child.pid)]
    try:
        assert child.stdout is not None
        grand_pid = int(child.stdout.readline())
        procs.append(psutil.Process(grand_pid))
        yield child.pid, grand_pid
    finally:
        for p in procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                p.kill()
        psutil.wait_procs(procs, timeout=10)
        child.wait(timeout=10)
        assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in procs)


def test_host_fallback_measures_the_whole_process_tree(process_tree: tuple[int, int]) -> None:
    child_pid, grand_pid = process_tree
    no_nvml = FakeNvml(init_error=NVMLError_LibraryNotFound())
    with MemorySampler(pids=[child_pid], interval_s=0.05, nvml=no_nvml) as sampler:
        time.sleep(0.3)
    s = sampler.summary()
    assert s.source == "host" and s.gpus == [] and s.samples >= 3
    assert s.note is not None and "no NVML" in s.note and "NVML Shared Library Not Found" in s.note
    assert s.peak_rss_gib is not None and s.mean_rss_gib is not None
    assert s.peak_rss_gib * GIB >= 300 * MIB  # both allocations: the grandchild is counted
    assert s.mean_rss_gib <= s.peak_rss_gib
    grand_rss = psutil.Process(grand_pid).memory_info().rss
    assert grand_rss >= 100 * MIB
    tree = tree_rss_bytes([child_pid])
    assert tree is not None and tree - psutil.Process(child_pid).memory_info().rss >= grand_rss - 5 * MIB


def test_host_fallback_reasons(monkeypatch: pytest.MonkeyPatch) -> None:
    with MemorySampler(pids=[os.getpid()], interval_s=0.01, nvml=FakeNvml([])) as sampler:
        pass
    s = sampler.summary()
    assert s.note == "NVML found no usable GPU; measured host memory of the server process tree"
    assert s.peak_rss_gib is not None and s.peak_rss_gib > 0
    assert tree_rss_bytes([]) is None

    monkeypatch.setitem(sys.modules, "pynvml", None)  # the package is not installed
    with MemorySampler(interval_s=0.01) as sampler:
        pass
    s = sampler.summary()
    assert s.source == "host" and s.note is not None and s.note.startswith("no NVML (ModuleNotFoundError")
    assert s.note.endswith("no server pid to measure either") and s.peak_rss_gib is None


def test_real_pynvml_without_a_gpu_falls_back() -> None:
    pynvml = pytest.importorskip("pynvml")
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        pass
    else:
        pynvml.nvmlShutdown()
        pytest.skip("this machine has NVML: the real path runs instead of the fallback")
    with MemorySampler(interval_s=0.01) as sampler:
        pass
    s = sampler.summary()
    assert s.source == "host" and s.note is not None and "NVMLError" in s.note


# --------------------------------------------------------------------------
# /metrics
# --------------------------------------------------------------------------


def test_metrics_parser_on_real_cpu_scrape() -> None:
    m = parse_vllm_metrics((PERF / "metrics_cpu.txt").read_text(encoding="utf-8"))
    assert m.kv_cache_usage_frac == pytest.approx(0.02203856749311295)
    assert (m.num_requests_running, m.num_requests_waiting) == (8, 0)
    assert (m.prompt_tokens_total, m.generation_tokens_total) == (328.0, 273.0)
    # the same capacity the server log states: 364 blocks x 128 tokens
    assert (m.kv_cache_size_tokens, m.kv_cache_max_concurrency, m.num_gpu_blocks, m.block_size) == (
        46592,
        22.75,
        364,
        128,
    )


OLD_NAMES = """\
# HELP vllm:gpu_cache_usage_perc GPU KV-cache usage. 1 means 100 percent usage.
# TYPE vllm:gpu_cache_usage_perc gauge
vllm:gpu_cache_usage_perc{model_name="qwen"} 0.25
vllm:gpu_cache_usage_perc{model_name="qwen-b"} 0.75
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{model_name="qwen"} 3.0
vllm:num_requests_running{model_name="qwen-b"} 4.0
vllm:num_requests_waiting{model_name="qwen"} 1.0
vllm:prompt_tokens_total{model_name="qwen"} 100.0
vllm:prompt_tokens_total{model_name="qwen-b"} 20.0
vllm:generation_tokens_total{model_name="qwen",note="a \\"quoted\\", {braced} value"} 5e+02 1700000000000
vllm:generation_tokens_total{model_name="qwen-b"} NaN
vllm:generation_tokens{model_name="qwen"} 999
"""


def test_metrics_parser_on_older_names_and_several_label_sets() -> None:
    m = parse_vllm_metrics(OLD_NAMES)
    assert m.kv_cache_usage_frac == pytest.approx(0.5)  # a mean over engines: each reports its own cache
    assert (m.num_requests_running, m.num_requests_waiting) == (7, 1)
    assert (m.prompt_tokens_total, m.generation_tokens_total) == (120.0, 500.0)  # NaN skipped; exact names only
    assert m.kv_cache_size_tokens is None
    labels = parse_prometheus(OLD_NAMES)["vllm:generation_tokens_total"][0][0]
    assert labels == {"model_name": "qwen", "note": 'a "quoted", {braced} value'}
    both = OLD_NAMES + 'vllm:kv_cache_usage_perc{model_name="qwen"} 0.1\n'
    assert parse_vllm_metrics(both).kv_cache_usage_frac == pytest.approx(0.1)
    assert parse_vllm_metrics("") == parse_vllm_metrics("garbage line\n# only comments")


def test_metrics_parser_skips_a_line_it_cannot_read_and_keeps_the_rest() -> None:
    # prometheus_client refuses the whole text for one bad line; the scrape must not go blank:
    # with a malformed line in the middle, every other sample reads as it does without it.
    lines = OLD_NAMES.splitlines(keepends=True)
    damaged = "".join([*lines[:5], "vllm:num_requests_waiting{model_name=} not-a-number\n", *lines[5:]])
    assert repr(parse_prometheus(damaged)) == repr(parse_prometheus(OLD_NAMES))  # repr: NaN != NaN
    assert parse_vllm_metrics(damaged) == parse_vllm_metrics(OLD_NAMES)


@pytest.fixture
def fake_metrics_server() -> Iterator[tuple[str, list[str]]]:
    """Serves successive /metrics texts (the last repeats) and records the Authorization headers."""
    real = (PERF / "metrics_cpu.txt").read_text(encoding="utf-8")

    def with_tokens(n: int, running: int) -> str:
        text = re.sub(r"(vllm:generation_tokens_total\{[^}]*\}) \S+", rf"\g<1> {n}.0", real)
        return re.sub(r"(vllm:num_requests_running\{[^}]*\}) \S+", rf"\g<1> {running}.0", text)

    texts = [with_tokens(100, 0), real, with_tokens(400, 2)]
    with fake_server(metrics=lambda n: texts[min(n, len(texts)) - 1]) as srv:
        yield srv.base_url, srv.authorizations


def test_metrics_poller_records_peaks_and_growth(fake_metrics_server: tuple[str, list[str]]) -> None:
    url, seen = fake_metrics_server
    with MetricsPoller(ModelServer(base_url=url, model="m", api_key="k3y", managed=False), interval_s=0.02) as poller:
        deadline = time.monotonic() + 10  # a loaded machine may scrape slower than every 20 ms
        while len(seen) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
    assert poller.url == url.removesuffix("/v1") + "/metrics"
    assert not any(t.name == "metrics-poller" for t in threading.enumerate())
    s = poller.summary()
    assert s.scrapes == len(seen) >= 4 and s.failed_scrapes == 0
    assert set(seen) == {"Bearer k3y"}
    assert s.peak_requests_running == 8 and s.peak_requests_waiting == 0
    assert s.peak_kv_cache_usage_frac == pytest.approx(0.02203856749311295)
    assert s.generation_tokens == 300.0 and s.prompt_tokens == 0.0
    assert (s.kv_cache_size_tokens, s.kv_cache_max_concurrency) == (46592, 22.75)


def test_metrics_poller_survives_an_unreachable_server() -> None:
    with MetricsPoller(
        ModelServer(base_url="http://127.0.0.1:9/v1", model="m", api_key=None, managed=False),
        interval_s=0.02,
        timeout_s=0.5,
    ) as poller:
        time.sleep(0.1)
    s = poller.summary()
    assert s.scrapes >= 2 and s.failed_scrapes == s.scrapes
    assert s.last_error is not None and s.last_error.startswith("ConnectError")
    assert s.peak_kv_cache_usage_frac is None and s.generation_tokens is None


# --------------------------------------------------------------------------
# Server log
# --------------------------------------------------------------------------


def test_server_log_parser_on_real_cpu_log() -> None:
    f = read_server_log(PERF / "vllm_cpu_server.log")
    assert f.vllm_version == "0.32.0"
    assert f.weights_gib is None  # the CPU model runner does not log weight memory
    assert f.checkpoint_gib == 0.25 and f.load_s == 1.76
    assert (f.kv_cache_device, f.kv_cache_tokens, f.kv_cache_gib) == ("CPU", 46592, 1.0)
    assert (f.max_concurrency, f.max_concurrency_len) == (22.75, 2048)
    assert (f.peak_kv_cache_usage_pct, f.peak_requests_running, f.peak_requests_waiting) == (4.4, 8, 0)
    assert read_server_log(PERF / "no-such.log") == type(f)()


# Format strings copied from vLLM 0.32.0's source (file under vllm/, string); the GPU-build lines below are
# rendered from them, and test_gpu_format_strings_are_vllms_own checks the installed vLLM still has them.
LOADING_WEIGHTS = ("model_executor/model_loader/default_loader.py", "Loading weights took %.2f seconds")
MODEL_LOADING = ("v1/worker/gpu_model_runner.py", "Model loading took %s GiB memory and %.6f seconds")
KV_MEMORY = ("v1/worker/gpu_worker.py", "Available KV cache memory: %s GiB")
KV_SIZE = ("v1/core/kv_cache_utils.py", "%s KV cache size: %s tokens, ")
MAX_CONCURRENCY = ("v1/core/kv_cache_utils.py", "Maximum concurrency for %s tokens per request: %.2fx")
STATS = [
    ("v1/metrics/loggers.py", part)
    for part in (
        "Avg prompt throughput: %.1f tokens/s",
        "Avg generation throughput: %.1f tokens/s",
        "Running: %d reqs",
        "Waiting: %d reqs",
        "Preemptions: %d",
        "%s KV cache usage: %.1f%%",
        "Prefix cache hit rate: %.1f%%",
    )
]
FORMATS = [LOADING_WEIGHTS, MODEL_LOADING, KV_MEMORY, KV_SIZE, MAX_CONCURRENCY, *STATS]


def gpu_log(tp: int = 2) -> str:
    """A tensor-parallel GPU start as vLLM 0.32 logs it (prefixes as in the real CPU log)."""
    lines = ["(APIServer pid=100) INFO 06-11 10:00:00 [api_utils.py:286] non-default args: {'model': 'm'}"]
    for r in range(tp):
        pre = f"(Worker_TP{r} pid={200 + r}) INFO 06-11 10:00:05 [gpu_model_runner.py:5150] "
        lines += [
            pre + LOADING_WEIGHTS[1] % (3.5 + r),
            pre + MODEL_LOADING[1] % ("7.1", 4.25 + r),
            pre + KV_MEMORY[1] % "60.45",
        ]
    kv = KV_SIZE[1] % ("GPU", "1,980,416") + MAX_CONCURRENCY[1] % ("32,768", 60.44)
    lines.append("(EngineCore pid=150) INFO 06-11 10:00:09 [kv_cache_utils.py:2327] " + kv)
    stats = ", ".join(part for _, part in STATS) % (900.0, 2400.5, 64, 3, 2, "GPU", 37.5, 12.0)
    lines.append("(APIServer pid=100) INFO 06-11 10:01:00 [loggers.py:335] Engine 000: " + stats)
    return "\n".join(lines) + "\n"


def test_server_log_parser_on_gpu_build_lines() -> None:
    f = parse_server_log(gpu_log(tp=2))
    assert f.weights_gib == pytest.approx(14.2)  # summed over the two tensor-parallel workers
    assert f.load_s == 5.25  # the slower worker; "Model loading took" wins over "Loading weights took"
    assert (f.kv_cache_device, f.kv_cache_tokens, f.kv_cache_gib) == ("GPU", 1980416, 60.45)
    assert (f.max_concurrency, f.max_concurrency_len) == (60.44, 32768)
    assert (f.peak_kv_cache_usage_pct, f.peak_requests_running, f.peak_requests_waiting) == (37.5, 64, 3)


def test_server_log_parser_on_older_gpu_wordings_and_restarts() -> None:
    older = (
        "INFO 03-01 vLLM API server version 0.8.5\n"
        "INFO 03-01 [gpu_model_runner.py:1329] Model loading took 15.2389 GiB and 8.123456 seconds\n"
        "INFO 03-01 [kv_cache_utils.py:634] GPU KV cache size: 123,456 tokens\n"
        "INFO 03-01 [kv_cache_utils.py:637] Maximum concurrency for 4,096 tokens per request: 30.14x\n"
    )
    v0 = (
        "INFO 01-01 vLLM API server version 0.5.4\n"
        "INFO 01-01 [model_runner.py:1115] Loading model weights took 12.5523 GB\n"
    )
    f = parse_server_log(older)
    assert (f.vllm_version, f.weights_gib, f.load_s) == ("0.8.5", 15.2389, 8.123456)
    assert (f.kv_cache_tokens, f.max_concurrency, f.max_concurrency_len) == (123456, 30.14, 4096)
    g = parse_server_log(gpu_log() + v0)  # the log is appended per start: the last start counts
    assert (g.vllm_version, g.weights_gib, g.load_s, g.kv_cache_tokens) == ("0.5.4", 12.5523, None, None)


def test_gpu_format_strings_are_vllms_own() -> None:
    spec = importlib.util.find_spec("vllm")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("vllm is not installed")
    root = Path(next(iter(spec.submodule_search_locations)))
    for rel, fmt in FORMATS:
        assert fmt in (root / rel).read_text(encoding="utf-8"), f"{rel} no longer logs {fmt!r}"
