"""Merge what a candidate's server needed and used over every session of one run (pure).

A resumed run measures each session's server separately (``perf.jsonl`` gets one
record per candidate per session). The report shows one row per candidate: peaks
are the highest of any session, energy, samples and counter growth add up, means
are weighted by each session's duration, and anything else is the latest known
value. Sessions measured another way than the latest (host memory on one machine,
NVML on another) are not mixed in; the merged record says how many were left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from harness.perf_records import GpuSummary, MemorySummary, MetricsSummary, PerfRecord, ServerLogFacts

T = TypeVar("T")
N = TypeVar("N", int, float)


def _known(values: Sequence[T | None]) -> list[T]:
    return [v for v in values if v is not None]


def _max(values: Sequence[N | None]) -> N | None:
    return max(_known(values), default=None)


def _sum(values: Sequence[N | None]) -> N | None:
    known = _known(values)
    return sum(known[1:], known[0]) if known else None


def _weighted_mean(values: Sequence[float | None], weights: Sequence[float]) -> float | None:
    """Mean of the known values weighted by their sessions' durations (s); a plain mean when no duration is known."""
    pairs = [(v, w) for v, w in zip(values, weights, strict=True) if v is not None]
    total = sum(w for _, w in pairs)
    if not pairs:
        return None
    return sum(v * w for v, w in pairs) / total if total > 0 else sum(v for v, _ in pairs) / len(pairs)


def _latest(values: Sequence[T | None]) -> T | None:
    known = _known(values)
    return known[-1] if known else None


def _union(values: Sequence[list[str]]) -> list[str]:
    return list(dict.fromkeys(e for v in values for e in v))


def merge_memory(parts: Sequence[MemorySummary]) -> MemorySummary:
    """One memory summary from per-session ones (oldest first, at least one): peaks and sizes the
    highest, energy, samples and duration summed, means weighted by duration, the rest the latest."""
    if len(parts) == 1:
        return parts[0].model_copy()
    weights = [p.duration_s for p in parts]
    last = parts[-1]
    return MemorySummary(
        schema_version=last.schema_version,
        source=last.source,
        duration_s=sum(p.duration_s for p in parts),
        samples=sum(p.samples for p in parts),
        gpus=_merge_gpus(parts, weights),
        total_gib=_max([p.total_gib for p in parts]),
        peak_used_gib=_max([p.peak_used_gib for p in parts]),
        mean_power_w=_weighted_mean([p.mean_power_w for p in parts], weights),
        energy_j=_sum([p.energy_j for p in parts]),
        peak_rss_gib=_max([p.peak_rss_gib for p in parts]),
        mean_rss_gib=_weighted_mean([p.mean_rss_gib for p in parts], weights),
        note=_latest([p.note for p in parts]),
        errors=_union([p.errors for p in parts]),
    )


def _merge_gpus(parts: Sequence[MemorySummary], weights: Sequence[float]) -> list[GpuSummary]:
    """Each GPU (by NVML index, in order of first appearance) merged over the sessions that sampled it."""
    by_index: dict[int, list[tuple[GpuSummary, float]]] = {}
    for part, w in zip(parts, weights, strict=True):
        for g in part.gpus:
            by_index.setdefault(g.index, []).append((g, w))
    merged = []
    for index, entries in by_index.items():
        gs, ws = [g for g, _ in entries], [w for _, w in entries]
        merged.append(
            GpuSummary(
                index=index,
                name=gs[-1].name,
                total_gib=_max([g.total_gib for g in gs]),
                peak_used_gib=_max([g.peak_used_gib for g in gs]),
                mean_util_pct=_weighted_mean([g.mean_util_pct for g in gs], ws),
                mean_power_w=_weighted_mean([g.mean_power_w for g in gs], ws),
                energy_j=_sum([g.energy_j for g in gs]),
            )
        )
    return merged


def merge_metrics(parts: Sequence[MetricsSummary]) -> MetricsSummary | None:
    """One ``/metrics`` summary from per-session ones (oldest first): peaks the highest, scrapes and
    counter growth summed, the rest the latest known; None without any."""
    if len(parts) <= 1:
        return parts[0].model_copy() if parts else None
    return MetricsSummary(
        schema_version=parts[-1].schema_version,
        scrapes=sum(p.scrapes for p in parts),
        failed_scrapes=sum(p.failed_scrapes for p in parts),
        last_error=_latest([p.last_error for p in parts]),
        duration_s=sum(p.duration_s for p in parts),
        peak_kv_cache_usage_frac=_max([p.peak_kv_cache_usage_frac for p in parts]),
        peak_requests_running=_max([p.peak_requests_running for p in parts]),
        peak_requests_waiting=_max([p.peak_requests_waiting for p in parts]),
        prompt_tokens=_sum([p.prompt_tokens for p in parts]),
        generation_tokens=_sum([p.generation_tokens for p in parts]),
        kv_cache_size_tokens=_latest([p.kv_cache_size_tokens for p in parts]),
        kv_cache_max_concurrency=_latest([p.kv_cache_max_concurrency for p in parts]),
    )


def merge_server(parts: Sequence[ServerLogFacts]) -> ServerLogFacts:
    """Each fact of the server logs (oldest first) at its latest known value."""
    known = [p.model_dump(exclude_none=True) for p in parts]
    return ServerLogFacts.model_validate({k: v for facts in known for k, v in facts.items()})


def merge_sessions(records: Sequence[PerfRecord]) -> dict[str, PerfRecord]:
    """Per candidate, its sessions' records merged into one (records in file order, oldest first)."""
    by_candidate: dict[str, list[PerfRecord]] = {}
    for r in records:
        by_candidate.setdefault(r.candidate, []).append(r)
    out = {}
    for name, recs in by_candidate.items():
        measured = [r.memory for r in recs if r.memory is not None]
        memory = None
        if measured:
            same = [m for m in measured if m.source == measured[-1].source]
            memory = merge_memory(same)
            memory.sessions_not_merged = len(measured) - len(same)
        out[name] = PerfRecord(
            candidate=name,
            started_at=recs[0].started_at,
            memory=memory,
            metrics=merge_metrics([r.metrics for r in recs if r.metrics is not None]),
            server=merge_server([r.server for r in recs]),
        )
    return out
