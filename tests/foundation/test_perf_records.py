"""The perf records (harness/perf_records.py): typed on reading, in the JSON shape older runs wrote.

Before issue 30 a ``PerfRecord``'s ``memory``, ``metrics`` and ``server`` were dicts (each summary's
``model_dump``, ``{}`` for a server log that was missing) and a capacity point a dict; the lines below
are in that shape, as a run of schema 1 wrote them (the summaries carried their own ``schema_version``).
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.perf_records import CapacityPoint, MemorySummary, MetricsSummary, PerfRecord, ServerLogFacts
from harness.rollup.sessions import merge_sessions
from harness.rundir import RunDir
from harness.store import JsonlAppender

OLD_PERF = {
    "schema_version": 1, "candidate": "smol", "started_at": 1700000000.5,
    "memory": {"schema_version": 1, "source": "host", "duration_s": 15.2, "samples": 31, "gpus": [],
               "total_gib": None, "peak_used_gib": None, "mean_power_w": None, "energy_j": None,
               "peak_rss_gib": 5.03, "mean_rss_gib": 5.0, "note": "no NVML (no driver)", "errors": []},
    "metrics": {"schema_version": 1, "scrapes": 30, "failed_scrapes": 1, "last_error": "ReadTimeout: timed out",
                "duration_s": 15.1, "peak_kv_cache_usage_frac": 0.036, "peak_requests_running": 16,
                "peak_requests_waiting": 0, "prompt_tokens": 5528.0, "generation_tokens": 1088.0,
                "kv_cache_size_tokens": 93184, "kv_cache_max_concurrency": 22.75},
    "server": {},
}  # fmt: skip
OLD_CAPACITY = {
    "schema_version": 1, "candidate": "smol", "kind": "concurrency", "estimate": 4, "lower": 4, "upper": 8,
    "requests_per_s": 3.5, "out_tok_per_s": 210.0,
    "points": [{"value": 4, "met": [True, True], "goodput_req_per_s": [3.0, 4.0], "out_tok_per_s": [200.0, 220.0]},
               {"value": 8, "met": [False, False], "goodput_req_per_s": [1.0, None], "out_tok_per_s": [90.0, None]}],
}  # fmt: skip


def write_lines(path: Path, *records: dict[str, object]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def test_an_old_perf_line_reads_into_typed_summaries(tmp_path: Path) -> None:
    rd = RunDir(tmp_path)
    write_lines(rd.perf, OLD_PERF)
    (rec,) = rd.read_perf()
    assert rec.schema_version == 2  # upgraded on reading
    assert isinstance(rec.memory, MemorySummary) and isinstance(rec.metrics, MetricsSummary)
    assert (rec.memory.source, rec.memory.peak_rss_gib, rec.memory.samples) == ("host", 5.03, 31)
    assert (rec.metrics.peak_requests_running, rec.metrics.kv_cache_size_tokens) == (16, 93184)
    assert rec.metrics.last_error == "ReadTimeout: timed out"
    assert rec.server == ServerLogFacts()  # no log: every fact unknown
    assert rec.server.weights_gib is None


def test_an_empty_summary_reads_as_not_measured(tmp_path: Path) -> None:
    rd = RunDir(tmp_path)
    write_lines(rd.perf, OLD_PERF | {"memory": {}, "metrics": {}}, OLD_PERF | {"schema_version": 2, "memory": {}})
    first, second = rd.read_perf()
    assert (first.memory, first.metrics) == (None, None)
    assert second.memory is None and second.metrics is not None and second.metrics.scrapes == 30


def test_a_new_perf_line_keeps_the_old_field_names(tmp_path: Path) -> None:
    rd = RunDir(tmp_path)
    write_lines(rd.perf, OLD_PERF)
    (old,) = rd.read_perf()
    merged = merge_sessions([old])["smol"]
    assert merged.memory is not None
    merged.memory.sessions_not_merged = 2  # merged records only: never written
    with JsonlAppender(tmp_path / "again.jsonl") as out:
        out.append(merged)
    written = json.loads((tmp_path / "again.jsonl").read_text(encoding="utf-8"))
    assert list(written) == ["schema_version", "candidate", "started_at", "memory", "metrics", "server"]
    assert list(written["memory"]) == list(OLD_PERF["memory"])  # type: ignore[arg-type]
    assert list(written["metrics"]) == list(OLD_PERF["metrics"])  # type: ignore[arg-type]
    assert written["server"]["kv_cache_tokens"] is None and len(written["server"]) == 12  # every ServerLogFacts field
    assert PerfRecord.model_validate(written).memory == old.memory


def test_an_old_capacity_line_reads_into_typed_points(tmp_path: Path) -> None:
    rd = RunDir(tmp_path)
    write_lines(rd.capacity, OLD_CAPACITY)
    (rec,) = rd.read_capacity()
    assert rec.slo is None  # judged against the plan's SLOs
    assert rec.points == [
        CapacityPoint(value=4, met=[True, True], goodput_req_per_s=[3.0, 4.0], out_tok_per_s=[200.0, 220.0]),
        CapacityPoint(value=8, met=[False, False], goodput_req_per_s=[1.0, None], out_tok_per_s=[90.0, None]),
    ]
    assert (rec.points[0].order, rec.points[0].stopped) == (None, [])  # written before either was recorded
