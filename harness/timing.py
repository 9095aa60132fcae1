"""Timing statistics (pure), with the definitions of vLLM's benchmark; one phase summarised against SLOs.

Foundation: the run stage judges each point of an SLO capacity search with :func:`phase_stats`
while it serves, and the roll-up summarises every phase with the same function.

TPOT = (E2E - TTFT) / (output tokens - 1); percentiles by linear
interpolation (numpy's default, as ``vllm bench serve`` uses); output
throughput = sum of output tokens / wall time of the phase.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

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


PCTS = (50, 90, 95, 99)
"""The percentiles every phase reports."""


def meets_slo(t: RequestTiming, slo: Slo) -> bool:
    if t.error is not None:
        return False
    tpot = tpot_ms(t.e2e_ms, t.ttft_ms, t.output_tokens)
    checks = ((slo.ttft_ms, t.ttft_ms), (slo.tpot_ms, tpot), (slo.e2e_ms, t.e2e_ms))
    return all(limit is None or (value is not None and value <= limit) for limit, value in checks)


def phase_stats(timings: Sequence[RequestTiming], wall_s: float, slo: Slo) -> dict[str, Any]:
    """One phase's throughput, latency percentiles and goodput, as a flat row (one per phase or load level).

    ``timings``: every request of the phase (failed ones too); ``wall_s``: the phase's wall time in seconds.
    Keys: ``requests``, ``failed`` (counts); ``wall_s``; ``requests_per_s``, ``out_tok_per_s``,
    ``total_tok_per_s`` (over the successful requests / ``wall_s``; a token rate is None when any successful
    request's count is unknown, never a lower guess); ``out_tokens_counted_by`` (``tokenizer``, ``server``
    or None); ``{ttft,tpot,itl,e2e}_p{50,90,95,99}_ms`` (linear-interpolated percentiles in ms over the
    successful requests: TTFT, TPOT = (E2E − TTFT) / (output tokens − 1), every inter-token gap, E2E; None
    with no value); ``goodput_req_per_s`` (requests meeting every SLO of ``slo`` / ``wall_s``);
    ``slo_attainment`` (their share of all requests, None with none); ``meets_slo`` (attainment at least
    ``slo.attainment``). The definitions follow vLLM's ``benchmarks/serve`` (``vllm bench serve``);
    goodput is DistServe's (Zhong et al. 2024). Pure; raises nothing.
    """
    ok = [t for t in timings if t.error is None]
    # an unknown count (no usage, no tokenizer) makes the rate unknown, not lower
    out_tok = None if any(t.output_tokens is None for t in ok) else sum(t.output_tokens or 0 for t in ok)
    in_tok = None if any(t.prompt_tokens is None for t in ok) else sum(t.prompt_tokens or 0 for t in ok)
    sources = {t.output_tokens_source for t in ok if t.output_tokens_source}
    row: dict[str, Any] = {
        "requests": len(timings),
        "failed": len(timings) - len(ok),
        "wall_s": wall_s,
        "requests_per_s": rate_per_s(len(ok), wall_s),
        "out_tok_per_s": rate_per_s(out_tok, wall_s) if out_tok is not None else None,
        "total_tok_per_s": rate_per_s(out_tok + in_tok, wall_s) if out_tok is not None and in_tok is not None else None,
        "out_tokens_counted_by": "tokenizer" if "tokenizer" in sources else ("server" if sources else None),
    }
    series = {
        "ttft": [t.ttft_ms for t in ok if t.ttft_ms is not None],
        "tpot": [v for t in ok if (v := tpot_ms(t.e2e_ms, t.ttft_ms, t.output_tokens)) is not None],
        "itl": [gap for t in ok for gap in t.itl_ms],
        "e2e": [t.e2e_ms for t in ok if t.e2e_ms is not None],
    }
    for name, values in series.items():
        for p in PCTS:
            row[f"{name}_p{p}_ms"] = percentile(values, p)
    good = sum(meets_slo(t, slo) for t in timings)
    row["goodput_req_per_s"] = rate_per_s(good, wall_s)
    row["slo_attainment"] = good / len(timings) if timings else None
    row["meets_slo"] = bool(timings) and good / len(timings) >= slo.attainment
    return row
