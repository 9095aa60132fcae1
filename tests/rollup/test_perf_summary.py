"""Phase statistics against numpy on random data; goodput, best level, cost; the load generator's arrivals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness.records import LoadLevel, RequestTiming, Slo
from harness.rollup.perf_summary import best_levels, cost_row, sweep_frame
from harness.run.perf.loadgen import Level, poisson_offsets_s
from harness.timing import meets_slo, phase_stats


def random_timings(n: int, seed: int) -> list[RequestTiming]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        ttft = float(rng.uniform(50, 500))
        tokens = int(rng.integers(2, 200))
        gaps = rng.uniform(5, 40, size=tokens - 1)
        out.append(RequestTiming(ttft_ms=ttft, e2e_ms=ttft + float(gaps.sum()), itl_ms=gaps.tolist(),
                                 prompt_tokens=int(rng.integers(10, 900)), output_tokens=tokens))  # fmt: skip
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_phase_stats_match_numpy(seed: int) -> None:
    timings = random_timings(257, seed)
    wall_s = 12.5
    s = phase_stats(timings, wall_s, Slo())
    ttft = np.array([t.ttft_ms for t in timings])
    e2e = np.array([t.e2e_ms for t in timings])
    out = np.array([t.output_tokens for t in timings])
    tpot = (e2e - ttft) / (out - 1)
    itl = np.concatenate([t.itl_ms for t in timings])
    pcts = (50, 90, 95, 99)
    assert [s.ttft_p50_ms, s.ttft_p90_ms, s.ttft_p95_ms, s.ttft_p99_ms] == pytest.approx(np.percentile(ttft, pcts))
    assert [s.e2e_p50_ms, s.e2e_p90_ms, s.e2e_p95_ms, s.e2e_p99_ms] == pytest.approx(np.percentile(e2e, pcts))
    assert [s.tpot_p50_ms, s.tpot_p90_ms, s.tpot_p95_ms, s.tpot_p99_ms] == pytest.approx(np.percentile(tpot, pcts))
    assert [s.itl_p50_ms, s.itl_p90_ms, s.itl_p95_ms, s.itl_p99_ms] == pytest.approx(np.percentile(itl, pcts))
    assert s.out_tok_per_s == pytest.approx(out.sum() / wall_s)
    assert s.total_tok_per_s == pytest.approx((out.sum() + sum(t.prompt_tokens or 0 for t in timings)) / wall_s)
    assert s.requests_per_s == pytest.approx(257 / wall_s)


def test_goodput_counts_requests_meeting_every_slo() -> None:
    slo = Slo(ttft_ms=100, tpot_ms=10, attainment=0.5)
    fast = RequestTiming(ttft_ms=50, e2e_ms=50 + 9 * 8, output_tokens=10)  # tpot 8
    slow_first = RequestTiming(ttft_ms=150, e2e_ms=150 + 9 * 8, output_tokens=10)
    slow_tokens = RequestTiming(ttft_ms=50, e2e_ms=50 + 9 * 20, output_tokens=10)  # tpot 20
    failed = RequestTiming(error="HTTP 500: boom")
    assert [meets_slo(t, slo) for t in (fast, slow_first, slow_tokens, failed)] == [True, False, False, False]
    s = phase_stats([fast, fast, slow_first, failed], 2.0, slo)
    assert s.goodput_req_per_s == pytest.approx(1.0) and s.slo_attainment == pytest.approx(0.5)  # 2 fast / 2 s; 2 of 4
    assert s.meets_slo and s.failed == 1


def test_best_level_is_the_fastest_that_meets_the_slos() -> None:
    def level(cand: str, lid: str, value: float, ttft: float, n_tok: int, wall: float) -> LoadLevel:
        reqs = [RequestTiming(ttft_ms=ttft, e2e_ms=ttft + 10 * (n_tok - 1), output_tokens=n_tok)] * 4
        return LoadLevel(
            candidate=cand, level_id=lid, kind="concurrency", value=value, started_at=0, wall_s=wall, requests=reqs
        )

    levels = [level("a", "c1", 1, 100, 10, 4.0), level("a", "c4", 4, 200, 10, 1.0), level("a", "c16", 16, 900, 10, 0.5)]
    frame = sweep_frame(levels, Slo(ttft_ms=300))
    best = best_levels(frame)
    assert best.to_dict("records") == [{"candidate": "a", "level": "c4", "out_tok_per_s": 40.0, "requests_per_s": 4.0}]
    assert best_levels(sweep_frame(levels, Slo(ttft_ms=10))).empty
    assert best_levels(pd.DataFrame()).empty


def test_cost_row() -> None:
    row = cost_row(2.0, 2, 1000.0, 4.0, 1800.0)
    assert row["usd_per_mtok"] == pytest.approx(2 * 2 / (1000 * 3600) * 1e6)
    assert row["usd_per_1k_questions"] == pytest.approx(2 * 2 * (1000 / 4) / 3600)
    assert row["gpu_hours"] == pytest.approx(1.0)
    assert cost_row(None, 1, 1000.0, 4.0, 0)["usd_per_mtok"] is None


def test_poisson_arrivals_inside_the_span_are_uniform_with_exponential_gaps() -> None:
    """Conditioned on its span, a Poisson process's inner arrivals are uniform order statistics."""
    from scipy import stats

    a = np.asarray(poisson_offsets_s(4001, 2.0, seed=11))
    inner = a[1:-1] / a[-1]
    assert stats.kstest(inner, "uniform").pvalue > 0.01
    gaps = np.diff(a)
    assert gaps.std() / gaps.mean() == pytest.approx(1.0, abs=0.05)  # exponential: sd = mean (a grid has 0)
    assert poisson_offsets_s(1, 2.0, 0) == [0.0] and poisson_offsets_s(2, 4.0, 0) == [0.0, 0.25]


def test_poisson_arrivals_have_the_asked_rate_and_are_reproducible() -> None:
    a = poisson_offsets_s(4000, 5.0, seed=7)
    assert a == poisson_offsets_s(4000, 5.0, seed=7) and a[0] == 0.0
    assert np.all(np.diff(a) >= 0)
    assert a[-1] == pytest.approx(3999 / 5.0)  # the span is fixed: 3,999 gaps of 1/5 s on average
    assert Level("rate", 2.5).id == "r2.5" and Level("concurrency", 16).id == "c16"
