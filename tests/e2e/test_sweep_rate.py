"""Poisson-rate sweep levels (``perf.sweep.request_rates``) against the session's real vLLM server.

The README promises load levels "at the plan's concurrency levels or Poisson rates": requests are
sent on a seeded Poisson schedule, not one after another and not evenly spaced. Send times are
taken where the load generator hands each request to the client, so the check is on arrivals as
the server sees them, whatever the server's speed.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from harness.inputs.plan import load_plan
from harness.run.perf.sweep import run_sweep
from harness.run.served import Served
from harness.rundir import RunDir
from harness.server.client import ModelClient, Request, Result
from harness.server.model_server import ModelServer
from tests.support.vllm import endpoint_plan

pytestmark = pytest.mark.vllm
KEY_ENV = "HARNESS_TEST_SWEEP_KEY"
RATE, REQUESTS = 8.0, 48
"""8 requests/s: a mean gap of 125 ms, far below what one answer takes on the CPU build."""


def test_a_rate_level_sends_poisson_arrivals_at_the_asked_rate(
    tmp_path: Path, smol_server: ModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, smol_server.api_key or "")
    sweep = {"concurrency": [], "request_rates": [RATE], "requests_per_level": REQUESTS, "max_tokens": 4}
    lp = load_plan(endpoint_plan(tmp_path, smol_server, ["mini_en.yaml"], KEY_ENV, perf={"sweep": sweep}))
    spans: list[tuple[float, float]] = []  # (sent, answered), perf_counter seconds
    generate = ModelClient.generate

    async def timed(self: ModelClient, req: Request) -> Result:
        sent = time.perf_counter()
        result = await generate(self, req)
        spans.append((sent, time.perf_counter()))
        return result

    monkeypatch.setattr(ModelClient, "generate", timed)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    assert run_sweep(Served(lp, "smol", smol_server, "chat", run_dir, lambda line: None, show_progress=False)) == 1

    (level,) = RunDir(run_dir).read_levels()
    assert (level.candidate, level.level_id, level.kind, level.value) == ("smol", "r8", "rate", RATE)
    assert len(level.requests) == REQUESTS and all(r.error is None for r in level.requests)
    sends = np.sort([s for s, _ in spans])
    gaps = np.diff(sends)
    achieved = (REQUESTS - 1) / (sends[-1] - sends[0])
    # 47 exponential gaps: their mean is within about 15 % (one standard error) of 1/rate
    assert 0.6 * RATE <= achieved <= 1.5 * RATE, achieved
    # exponential gaps have a coefficient of variation of 1; even spacing has 0
    assert gaps.std() / gaps.mean() > 0.5, gaps
    # arrivals are not paced by answers: requests were sent while earlier ones were still unanswered
    in_flight = max(sum(s <= t < e for s, e in spans) for t in sends)
    assert in_flight >= 2
    assert level.wall_s >= sends[-1] - sends[0]  # first send to last answer spans every arrival
