"""Merge what a candidate's server needed and used over every session of one run (pure).

A resumed run measures each session's server separately (``perf.jsonl`` gets one
record per candidate per session). The report shows one row per candidate: peaks
are the highest of any session, energy, samples and counter growth add up, means
are weighted by each session's duration, and anything else is the latest known
value. Sessions measured another way than the latest (host memory on one machine,
NVML on another) are not mixed in; the merged record says how many were left out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from harness.records import PerfRecord

Merge = Callable[[list[Any], list[float]], Any]
"""(values, one per session, oldest first; session durations in s) -> the merged value."""


def _known(values: list[Any]) -> list[Any]:
    return [v for v in values if v is not None]


def _max(values: list[Any], _w: list[float]) -> Any:
    return max(_known(values), default=None)


def _sum(values: list[Any], _w: list[float]) -> Any:
    known = _known(values)
    return sum(known) if known else None


def _weighted_mean(values: list[Any], weights: list[float]) -> Any:
    pairs = [(v, w) for v, w in zip(values, weights, strict=True) if v is not None]
    total = sum(w for _, w in pairs)
    if not pairs:
        return None
    return sum(v * w for v, w in pairs) / total if total > 0 else sum(v for v, _ in pairs) / len(pairs)


def _latest(values: list[Any], _w: list[float]) -> Any:
    known = _known(values)
    return known[-1] if known else None


def _union(values: list[Any], _w: list[float]) -> Any:
    return list(dict.fromkeys(e for v in values if v for e in v))


RULES: dict[str, Merge] = {
    # memory (harness.run.perf.nvml.MemorySummary and GpuSummary)
    "peak_used_gib": _max, "peak_rss_gib": _max, "total_gib": _max,
    "energy_j": _sum, "samples": _sum, "duration_s": _sum,
    "mean_power_w": _weighted_mean, "mean_rss_gib": _weighted_mean, "mean_util_pct": _weighted_mean,
    "errors": _union,
    # /metrics (harness.run.perf.metrics.MetricsSummary)
    "peak_kv_cache_usage_frac": _max, "peak_requests_running": _max, "peak_requests_waiting": _max,
    "scrapes": _sum, "failed_scrapes": _sum, "prompt_tokens": _sum, "generation_tokens": _sum,
}  # fmt: skip
"""How each field merges over sessions; a field not listed takes its latest known value."""


def merge_dicts(parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One summary from per-session summaries (oldest first), field by field (see :data:`RULES`)."""
    parts = [p for p in parts if p]
    if len(parts) <= 1:
        return dict(parts[0]) if parts else {}
    weights = [float(p.get("duration_s") or 0.0) for p in parts]
    out: dict[str, Any] = {}
    for key in dict.fromkeys(k for p in parts for k in p):
        values = [p.get(key) for p in parts]
        if key == "gpus":
            out[key] = _merge_gpus(values, weights)
        else:
            out[key] = RULES.get(key, _latest)(values, weights)
    return out


def _merge_gpus(values: list[Any], weights: list[float]) -> list[dict[str, Any]]:
    by_index: dict[Any, list[tuple[dict[str, Any], float]]] = {}
    for gpus, w in zip(values, weights, strict=True):
        for g in gpus or []:
            by_index.setdefault(g.get("index"), []).append((g, w))
    merged = []
    for entries in by_index.values():
        gs, ws = [g for g, _ in entries], [w for _, w in entries]
        merged.append(
            {k: RULES.get(k, _latest)([g.get(k) for g in gs], ws) for k in dict.fromkeys(k for g in gs for k in g)}
        )
    return merged


def merge_sessions(records: Sequence[PerfRecord]) -> dict[str, PerfRecord]:
    """Per candidate, its sessions' records merged into one (records in file order, oldest first)."""
    by_candidate: dict[str, list[PerfRecord]] = {}
    for r in records:
        by_candidate.setdefault(r.candidate, []).append(r)
    out = {}
    for name, recs in by_candidate.items():
        source = next((r.memory.get("source") for r in reversed(recs) if r.memory.get("source")), None)
        same = [r for r in recs if r.memory.get("source") in (source, None)]
        memory = merge_dicts([r.memory for r in same])
        if len(same) < len(recs):
            memory["sessions_not_merged"] = len(recs) - len(same)
        out[name] = PerfRecord(
            candidate=name,
            started_at=recs[0].started_at,
            memory=memory,
            metrics=merge_dicts([r.metrics for r in recs]),
            server={k: v for r in recs for k, v in r.server.items() if v is not None},
        )
    return out
