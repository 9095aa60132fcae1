"""Timing statistics (pure), with the definitions of vLLM's benchmark; one phase summarised against SLOs.

Foundation: the run stage judges each point of an SLO capacity search with :func:`phase_stats`
while it serves, and the roll-up summarises every phase with the same function.

TPOT = (E2E - TTFT) / (output tokens - 1); percentiles by linear
interpolation (numpy's default, as ``vllm bench serve`` uses); output
throughput = sum of output tokens / wall time of the phase.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel

from harness.records import RequestTiming, Slo


def percentile(values: Sequence[float | None], p: float) -> float | None:
    """Linear-interpolation percentile (numpy's default, as ``vllm bench serve``); None for no values.

    The one percentile of the harness: phase statistics, the load generator's guards and the
    client-fidelity benchmark all take theirs from here.
    """
    arr = np.asarray([v for v in values if v is not None], dtype=float)
    if arr.size == 0:
        return None
    return float(np.percentile(arr, p, method="linear"))


def tpot_ms(e2e_ms: float | None, ttft_ms: float | None, output_tokens: int | None) -> float | None:
    """Time per output token after the first; None when undefined (< 2 tokens)."""
    if e2e_ms is None or ttft_ms is None or output_tokens is None or output_tokens < 2:
        return None
    return (e2e_ms - ttft_ms) / (output_tokens - 1)


def rate_per_s(count: float, wall_s: float) -> float | None:
    return count / wall_s if wall_s > 0 else None


def usd_per_mtok(price_per_gpu_hour_usd: float, gpus: int, out_tok_per_s: float | None) -> float | None:
    """$ per 1M output tokens = price x GPUs / (tok/s x 3600) x 1e6; None without a price."""
    if not out_tok_per_s or price_per_gpu_hour_usd <= 0:
        return None
    return price_per_gpu_hour_usd * gpus / (out_tok_per_s * 3600) * 1e6


def meets_slo(t: RequestTiming, slo: Slo) -> bool:
    if t.error is not None:
        return False
    tpot = tpot_ms(t.e2e_ms, t.ttft_ms, t.output_tokens)
    checks = ((slo.ttft_ms, t.ttft_ms), (slo.tpot_ms, tpot), (slo.e2e_ms, t.e2e_ms))
    return all(limit is None or (value is not None and value <= limit) for limit, value in checks)


class PhaseStats(BaseModel):
    """One phase's throughput, latency percentiles and goodput (one per phase or load level): :func:`phase_stats`.

    Rates are over the successful requests / ``wall_s``; percentiles are linear-interpolated (numpy's default)
    in ms over the successful requests, None with no value. The definitions follow vLLM's
    ``benchmarks/serve`` (``vllm bench serve``); goodput is DistServe's (Zhong et al. 2024). Field order is
    the column order of the report's sweep frame (:func:`harness.rollup.perf_summary.sweep_frame`).
    """

    requests: int
    """Every request of the phase, failed ones too."""
    failed: int
    wall_s: float
    """The phase's wall time."""
    requests_per_s: float | None
    out_tok_per_s: float | None
    """None when any successful request's count is unknown, never a lower guess."""
    total_tok_per_s: float | None
    """Prompt + output tokens per second; None as ``out_tok_per_s``, or when a prompt count is unknown."""
    out_tokens_counted_by: Literal["tokenizer", "server"] | None
    """``tokenizer`` when any output count came from the candidate's tokenizer, else ``server``; None: none known."""
    ttft_p50_ms: float | None
    ttft_p90_ms: float | None
    ttft_p95_ms: float | None
    ttft_p99_ms: float | None
    tpot_p50_ms: float | None
    """TPOT = (E2E − TTFT) / (output tokens − 1)."""
    tpot_p90_ms: float | None
    tpot_p95_ms: float | None
    tpot_p99_ms: float | None
    itl_p50_ms: float | None
    """Over every inter-token gap of every successful request."""
    itl_p90_ms: float | None
    itl_p95_ms: float | None
    itl_p99_ms: float | None
    e2e_p50_ms: float | None
    e2e_p90_ms: float | None
    e2e_p95_ms: float | None
    e2e_p99_ms: float | None
    goodput_req_per_s: float | None
    """Requests meeting every SLO / ``wall_s``."""
    slo_attainment: float | None
    """Their share of all requests; None with no request."""
    meets_slo: bool
    """Attainment at least ``slo.attainment``."""


def phase_stats(timings: Sequence[RequestTiming], wall_s: float, slo: Slo) -> PhaseStats:
    """One phase's :class:`PhaseStats` against ``slo``.

    ``timings``: every request of the phase (failed ones too); ``wall_s``: the phase's wall time in seconds.
    Pure; raises nothing.
    """
    ok = [t for t in timings if t.error is None]
    # an unknown count (no usage, no tokenizer) makes the rate unknown, not lower
    out_tok = None if any(t.output_tokens is None for t in ok) else sum(t.output_tokens or 0 for t in ok)
    in_tok = None if any(t.prompt_tokens is None for t in ok) else sum(t.prompt_tokens or 0 for t in ok)
    sources = {t.output_tokens_source for t in ok if t.output_tokens_source}
    ttft = [t.ttft_ms for t in ok if t.ttft_ms is not None]
    tpot = [v for t in ok if (v := tpot_ms(t.e2e_ms, t.ttft_ms, t.output_tokens)) is not None]
    itl = [gap for t in ok for gap in t.itl_ms]
    e2e = [t.e2e_ms for t in ok if t.e2e_ms is not None]
    good = sum(meets_slo(t, slo) for t in timings)
    return PhaseStats(
        requests=len(timings),
        failed=len(timings) - len(ok),
        wall_s=wall_s,
        requests_per_s=rate_per_s(len(ok), wall_s),
        out_tok_per_s=rate_per_s(out_tok, wall_s) if out_tok is not None else None,
        total_tok_per_s=rate_per_s(out_tok + in_tok, wall_s) if out_tok is not None and in_tok is not None else None,
        out_tokens_counted_by="tokenizer" if "tokenizer" in sources else ("server" if sources else None),
        ttft_p50_ms=percentile(ttft, 50), ttft_p90_ms=percentile(ttft, 90),
        ttft_p95_ms=percentile(ttft, 95), ttft_p99_ms=percentile(ttft, 99),
        tpot_p50_ms=percentile(tpot, 50), tpot_p90_ms=percentile(tpot, 90),
        tpot_p95_ms=percentile(tpot, 95), tpot_p99_ms=percentile(tpot, 99),
        itl_p50_ms=percentile(itl, 50), itl_p90_ms=percentile(itl, 90),
        itl_p95_ms=percentile(itl, 95), itl_p99_ms=percentile(itl, 99),
        e2e_p50_ms=percentile(e2e, 50), e2e_p90_ms=percentile(e2e, 90),
        e2e_p95_ms=percentile(e2e, 95), e2e_p99_ms=percentile(e2e, 99),
        goodput_req_per_s=rate_per_s(good, wall_s),
        slo_attainment=good / len(timings) if timings else None,
        meets_slo=bool(timings) and good / len(timings) >= slo.attainment,
    )  # fmt: skip
