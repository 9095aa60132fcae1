"""Measure a candidate's server while it works: memory (NVML or host), /metrics peaks, server log.

Wraps the generation phase and the load sweep of one candidate; on exit one
:class:`PerfRecord` goes to ``perf.jsonl``. Measurement never fails a run: a
sampler that cannot start is recorded with the reason.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from harness.inputs.plan import LoadedPlan
from harness.perf_records import PerfRecord, ServerLogFacts
from harness.run.perf.metrics import MetricsPoller
from harness.run.perf.nvml import MemorySampler
from harness.run.perf.serverlog import read_server_log
from harness.rundir import RunDir
from harness.server.model_server import ModelServer
from harness.store import JsonlAppender


@contextlib.contextmanager
def measure_server(
    lp: LoadedPlan, candidate: str, server: ModelServer, run_dir: Path, log: Callable[[str], None],
    gpu_ids: list[int] | None = None,
) -> Iterator[None]:  # fmt: skip
    """Sample memory (on ``gpu_ids``, default every GPU) and vLLM's metrics while the body runs."""
    started = time.time()
    interval = lp.plan.perf.sample_interval_s
    sampler = MemorySampler(pids=[server.pid] if server.pid else [], interval_s=interval, gpu_indices=gpu_ids)
    poller = MetricsPoller(server, interval)
    with contextlib.ExitStack() as stack:
        for name, ctx in (("memory sampler", sampler), ("metrics poller", poller)):
            try:
                stack.enter_context(ctx)  # type: ignore[arg-type]
            except Exception as exc:  # measurement must not fail the run
                log(f"[{candidate}] {name} did not start: {exc}")
        try:
            yield
        finally:
            stack.close()
            record = PerfRecord(
                candidate=candidate,
                started_at=started,
                memory=sampler.summary(),
                metrics=poller.summary(),
                server=read_server_log(server.log_path) if server.log_path else ServerLogFacts(),
            )
            with JsonlAppender(RunDir(run_dir).perf) as out:
                out.append(record)
