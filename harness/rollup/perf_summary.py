"""Phase statistics (pure): throughput, latency percentiles, goodput, SLO attainment, cost.

One function, :func:`phase_stats`, summarises any phase (the generation phase
or one level of the load sweep) with the definitions of ``vllm bench serve``:
throughput over the phase's wall time, percentiles by linear interpolation,
goodput = requests per second that met every SLO.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from harness.records import Candidate, LoadLevel, Perf, Phase, RequestTiming, Slo
from harness.rollup import perf_stats as stats

PCTS = (50, 90, 95, 99)


def energy_per_token_j(energy_j: float | None, output_tokens: int | None) -> float | None:
    """Joules per output token; None when either is unknown or no token was produced."""
    if energy_j is None or not output_tokens:
        return None
    return energy_j / output_tokens


def meets_slo(t: RequestTiming, slo: Slo) -> bool:
    if t.error is not None:
        return False
    tpot = stats.tpot_ms(t.e2e_ms, t.ttft_ms, t.output_tokens)
    checks = ((slo.ttft_ms, t.ttft_ms), (slo.tpot_ms, tpot), (slo.e2e_ms, t.e2e_ms))
    return all(limit is None or (value is not None and value <= limit) for limit, value in checks)


def phase_stats(timings: Sequence[RequestTiming], wall_s: float, slo: Slo) -> dict[str, Any]:
    ok = [t for t in timings if t.error is None]
    # an unknown count (no usage, no tokenizer) makes the rate unknown, not lower
    out_tok = None if any(t.output_tokens is None for t in ok) else sum(t.output_tokens or 0 for t in ok)
    in_tok = None if any(t.prompt_tokens is None for t in ok) else sum(t.prompt_tokens or 0 for t in ok)
    sources = {t.output_tokens_source for t in ok if t.output_tokens_source}
    row: dict[str, Any] = {
        "requests": len(timings),
        "failed": len(timings) - len(ok),
        "wall_s": wall_s,
        "requests_per_s": stats.rate_per_s(len(ok), wall_s),
        "out_tok_per_s": stats.rate_per_s(out_tok, wall_s) if out_tok is not None else None,
        "total_tok_per_s": stats.rate_per_s(out_tok + in_tok, wall_s)
        if out_tok is not None and in_tok is not None
        else None,
        "out_tokens_counted_by": "tokenizer" if "tokenizer" in sources else ("server" if sources else None),
    }
    series = {
        "ttft": [t.ttft_ms for t in ok if t.ttft_ms is not None],
        "tpot": [v for t in ok if (v := stats.tpot_ms(t.e2e_ms, t.ttft_ms, t.output_tokens)) is not None],
        "itl": [gap for t in ok for gap in t.itl_ms],
        "e2e": [t.e2e_ms for t in ok if t.e2e_ms is not None],
    }
    for name, values in series.items():
        for p in PCTS:
            row[f"{name}_p{p}_ms"] = stats.percentile(values, p)
    good = sum(meets_slo(t, slo) for t in timings)
    row["goodput_req_per_s"] = stats.rate_per_s(good, wall_s)
    row["slo_attainment"] = good / len(timings) if timings else None
    row["meets_slo"] = bool(timings) and good / len(timings) >= slo.attainment
    return row


def sweep_frame(levels: Sequence[LoadLevel], slo: Slo) -> pd.DataFrame:
    """One row per (candidate, level), in the order run."""
    rows = [
        {
            "candidate": lv.candidate,
            "level": lv.level_id,
            "kind": lv.kind,
            "value": lv.value,
            **phase_stats(lv.requests, lv.wall_s, slo),
        }
        for lv in levels
    ]
    return pd.DataFrame(rows)


def best_levels(sweep: pd.DataFrame) -> pd.DataFrame:
    """Per candidate, the level with the highest output tok/s among those meeting the SLOs."""
    if sweep.empty:
        return pd.DataFrame(columns=["candidate", "level", "out_tok_per_s", "requests_per_s"])
    meeting = sweep[sweep.meets_slo & sweep.out_tok_per_s.notna()]
    if meeting.empty:
        return pd.DataFrame(columns=["candidate", "level", "out_tok_per_s", "requests_per_s"])
    idx = meeting.groupby("candidate").out_tok_per_s.idxmax()
    return meeting.loc[idx, ["candidate", "level", "out_tok_per_s", "requests_per_s"]].reset_index(drop=True)


def cost_row(price_usd_per_gpu_hour: float | None, gpus: int, best_out_tok_per_s: float | None,
             best_requests_per_s: float | None, gpu_seconds: float,
             tokens_per_answer: float | None = None) -> dict[str, float | None]:  # fmt: skip
    """$ per 1M output tokens and per 1,000 questions at the best SLO-meeting level; GPU-hours used.

    With ``tokens_per_answer`` (this run's mean output tokens per answer, thinking included) a
    question costs what its tokens cost at that level: a model that thinks 2,000 tokens per
    answer pays for them. Without it, 1,000 requests at the level's requests/s.
    """
    price = price_usd_per_gpu_hour or 0.0
    per_mtok = stats.usd_per_mtok(price, gpus, best_out_tok_per_s)
    per_thousand = None
    if per_mtok is not None and tokens_per_answer:
        per_thousand = per_mtok * tokens_per_answer * 1000 / 1e6
    elif price > 0 and best_requests_per_s:
        per_thousand = price * gpus * (1000 / best_requests_per_s) / 3600
    return {
        "usd_per_mtok": per_mtok,
        "usd_per_1k_questions": per_thousand,
        "gpu_hours": gpu_seconds * gpus / 3600,
    }


def price_per_gpu_hour(cand: Candidate, perf: Perf) -> float | None:
    """The candidate's own price, else the plan's price for its GPU type, else the documented default."""
    if cand.price_per_gpu_hour_usd > 0:
        return cand.price_per_gpu_hour_usd
    if perf.gpu is None:
        return None
    if perf.gpu in perf.gpu_prices_usd_per_hour:
        return perf.gpu_prices_usd_per_hour[perf.gpu]
    from harness.inputs.gpus import gpu

    return gpu(perf.gpu).price_usd_per_hour


def cost_frame(candidates: Sequence[Candidate], perf: Perf, sweep: pd.DataFrame, phases: Sequence[Phase],
               fallback: pd.DataFrame) -> pd.DataFrame:  # fmt: skip
    """Per candidate: the best SLO-meeting level and what serving costs there.

    Without a sweep (or when no level meets the SLOs) the generation phase's
    throughput from ``fallback`` (the model summary) is used and labelled so.
    """
    best = best_levels(sweep).set_index("candidate") if not sweep.empty else pd.DataFrame()
    rows = []
    for cand in candidates:
        gpus = cand.gpus
        seconds = sum(p.ended_at - p.started_at + (p.server_start_s or 0) for p in phases if p.candidate == cand.name)
        if not sweep.empty:
            seconds += float(sweep[sweep.candidate == cand.name].wall_s.sum())
        if cand.name in best.index:
            level, tok_s, req_s = (
                best.loc[cand.name, "level"],
                best.loc[cand.name, "out_tok_per_s"],
                best.loc[cand.name, "requests_per_s"],
            )
        else:
            row = fallback.set_index("candidate").loc[cand.name] if cand.name in set(fallback.candidate) else None
            level = "generation phase" if row is not None else None
            tok_s = row.out_tok_per_s if row is not None else None
            req_s = row.requests_per_s if row is not None else None
        rows.append(
            {
                "candidate": cand.name,
                "cost_basis": level,
                "best_out_tok_per_s": tok_s,
                "best_requests_per_s": req_s,
                "price_usd_per_gpu_hour": price_per_gpu_hour(cand, perf),
                **cost_row(
                    price_per_gpu_hour(cand, perf),
                    gpus,
                    tok_s,
                    req_s,
                    seconds,
                    _tokens_per_answer(fallback, cand.name),
                ),
            }
        )
    return pd.DataFrame(rows)


def _tokens_per_answer(models: pd.DataFrame, name: str) -> float | None:
    """Mean output tokens per answer (thinking included) from the model summary, when it has them."""
    if "mean_output_tokens" not in models or name not in set(models.candidate):
        return None
    value = models.set_index("candidate").loc[name, "mean_output_tokens"]
    return float(value) if value is not None and value == value and value > 0 else None


def memory_needed_gib(server: dict, metrics: dict, gpus: int) -> float | None:
    """Memory one GPU needs for this model at the run's peak: weights + the KV cache actually used, / GPUs.

    vLLM reserves most of a GPU up front, so the memory a GPU shows in use is not what
    the model needs; the weights (logged by vLLM, else the checkpoint size) plus the
    peak share of the KV cache in use is. None when the log gives neither figure.
    """
    weights = server.get("weights_gib") or server.get("checkpoint_gib")
    if weights is None:
        return None
    kv_gib, usage = server.get("kv_cache_gib"), metrics.get("peak_kv_cache_usage_frac")
    kv_used = kv_gib * usage if kv_gib is not None and usage is not None else 0.0
    return (weights + kv_used) / max(gpus, 1)
