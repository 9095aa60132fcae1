"""What a target load costs, from each candidate's searched SLO capacity (pure)."""

from __future__ import annotations

import pandas as pd
import pytest

from harness.perf_records import CapacityRecord
from harness.records import Candidate, Perf, VllmArgs
from harness.rollup.perf_summary import capacity_frame, cost_frame, target_load_cost


def test_replicas_are_whole_and_cover_the_target() -> None:
    got = target_load_cost(20.0, 7.5, gpus=1, price=2.40, gpu_name="H100")
    assert (got["target_replicas"], got["target_gpus"]) == (3, 3)  # 20 / 7.5 = 2.67 -> 3
    assert got["target_usd_per_hour"] == pytest.approx(7.20)
    assert got["target_load"] == "for 20 requests/s within the SLOs: 3 × H100, $7.20/h"
    assert target_load_cost(15.0, 7.5, 2, 2.0, "L4")["target_gpus"] == 4  # exactly 2 replicas of 2 GPUs
    assert target_load_cost(15.0, 7.5, 1, None, None)["target_load"] == "for 15 requests/s within the SLOs: 2 × GPU"
    assert target_load_cost(15.0, None, 1, 2.0, "L4")["target_replicas"] is None


def test_the_searched_capacity_is_the_cost_basis() -> None:
    cands = [Candidate(name="a", model="m", price_per_gpu_hour_usd=3.6, vllm=VllmArgs(tensor_parallel_size=2)),
             Candidate(name="b", model="m", price_per_gpu_hour_usd=3.6)]  # fmt: skip
    perf = Perf(gpu="H100", target_rps=10.0)
    cap = capacity_frame([CapacityRecord(candidate="a", kind="concurrency", estimate=12, lower=8, upper=16,
                                         requests_per_s=4.0, out_tok_per_s=1000.0)])  # fmt: skip
    fallback = pd.DataFrame({"candidate": ["a", "b"], "out_tok_per_s": [50.0, 60.0], "requests_per_s": [1.0, 1.0]})
    rows = cost_frame(cands, perf, pd.DataFrame(), [], fallback, cap).set_index("candidate")
    assert rows.loc["a", "cost_basis"] == "SLO capacity c12 (8–16)"
    assert rows.loc["a", "best_out_tok_per_s"] == 1000.0
    # $3.6/h x 2 GPUs / (1000 tok/s x 3600 s) x 1e6 = $2 per 1M tokens
    assert rows.loc["a", "usd_per_mtok"] == pytest.approx(2.0)
    # 10 req/s over 4 req/s per replica -> 3 replicas of 2 GPUs = 6 GPUs at $3.6 = $21.60/h
    assert rows.loc["a", "target_load"] == "for 10 requests/s within the SLOs: 6 × H100, $21.60/h"
    assert rows.loc["b", "cost_basis"] == "generation phase"  # no search: as before
    assert pd.isna(rows.loc["b", "target_load"])
