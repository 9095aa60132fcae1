"""Timing statistics (pure), with the definitions of vLLM's benchmark.

TPOT = (E2E - TTFT) / (output tokens - 1); percentiles by linear
interpolation (numpy's default, as ``vllm bench serve`` uses); output
throughput = sum of output tokens / wall time of the phase.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

PERCENTILES = (50, 90, 95, 99)


def percentile(values: Sequence[float], p: float) -> float | None:
    """Linear-interpolation percentile; None for no values."""
    arr = np.asarray([v for v in values if v is not None], dtype=float)
    if arr.size == 0:
        return None
    return float(np.percentile(arr, p, method="linear"))


def percentiles(values: Sequence[float], ps: Iterable[float] = PERCENTILES) -> dict[str, float | None]:
    return {f"p{p:g}": percentile(values, p) for p in ps}


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
