"""The SLO capacity search against a running server (I/O): ``perf.sweep.capacity``.

Runs after the sweep's levels, on the same server: :class:`~harness.run.perf.capacity.CapacitySearch`
picks each point, every run of it is one level sent by the multi-process load generator and
judged by :func:`~harness.timing.phase_stats` against the plan's SLOs (and, when the plan's questions grade
tool calls, its calls graded after it: :func:`~harness.run.perf.load_requests.level_calls`). One
:class:`~harness.perf_records.CapacityRecord` per candidate goes to ``capacity.jsonl``; a resumed
run skips a candidate already there (a cut-off search starts over).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

from harness.perf_records import CapacityPoint, CapacityRecord
from harness.records import LevelCalls, Slo
from harness.rubric.tool_figures import pooled_call_accuracy
from harness.run.perf.capacity import Capacity, CapacitySearch
from harness.run.perf.guards import oversaturation
from harness.run.perf.load_requests import LoadRequests, level_calls, sweep_load
from harness.run.perf.loadgen import Level, send_level, timing
from harness.run.served import Served
from harness.rundir import RunDir
from harness.store import JsonlAppender
from harness.timing import phase_stats

WAVES = 3
"""A concurrency point sends at least this many times its concurrency in requests (a steady state)."""


@dataclass(frozen=True, slots=True)
class ProbeRun:
    """One run of a probed point, judged against the SLOs."""

    met: bool
    """Met the SLOs (a run the online stop cut short never does)."""
    goodput_req_per_s: float | None
    out_tok_per_s: float | None
    stopped: str | None = None
    """Why the run was cut short; None: it ran out."""
    calls: LevelCalls | None = None
    """Its tool calls, graded; None when none of its requests grades calls."""


def capacity_done(candidate: str, run_dir: Path) -> bool:
    return any(r.candidate == candidate for r in RunDir(run_dir).read_capacity())


def run_capacity(on: Served) -> CapacityRecord | None:
    """Search ``on.candidate``'s SLO capacity unless recorded already; the record, or None when not asked for."""
    lp, candidate, api, run_dir, log = on.lp, on.candidate, on.api, on.run_dir, on.log

    sweep = lp.plan.perf.sweep
    if sweep is None or sweep.capacity is None or capacity_done(candidate, run_dir):
        return None
    search = CapacitySearch(sweep.capacity, start=1, limit=sweep.capacity_limit)
    probes: dict[float, list[ProbeRun]] = {}
    while (value := search.next_value()) is not None:
        level = Level(sweep.capacity, value)
        n = max(sweep.requests_per_level, int(value) * WAVES if sweep.capacity == "concurrency" else 0)
        requests = sweep_load(lp, api, sweep.model_copy(update={"requests_per_level": n}))
        runs = [_probe(on, requests, level, k) for k in range(sweep.capacity_repeats)]
        probes[value] = runs
        search.record(value, [r.met for r in runs])
        log(f"[{candidate}] capacity search: {level.id} met the SLOs in {sum(r.met for r in runs)} "
            f"of {len(runs)} runs")  # fmt: skip
    record = to_capacity_record(candidate, search.result(), probes, lp.plan.perf.slo)
    with JsonlAppender(RunDir(run_dir).capacity) as out:
        out.append(record)
    return record


def _probe(on: Served, load: LoadRequests, level: Level, k: int) -> ProbeRun:
    """The ``k``-th run of the point ``level`` (seeded apart): met the SLOs?, goodput, tok/s, why it was cut,
    its calls graded."""
    lp = on.lp
    run = send_level(on, load.requests, level, seed=lp.plan.sampling.seed + k, during="the capacity search",
                     stop_when=oversaturation)  # fmt: skip
    stats = phase_stats([timing(r) for r in run.results], run.wall_s, lp.plan.perf.slo)
    # a run cut by the online stop was over-saturated: it fails, whatever its answered requests say
    return ProbeRun(met=stats.meets_slo and run.stopped is None, goodput_req_per_s=stats.goodput_req_per_s,
                    out_tok_per_s=stats.out_tok_per_s, stopped=run.stopped,
                    calls=level_calls(run.results, run.indices, load.checks))  # fmt: skip


def to_capacity_record(candidate: str, cap: Capacity, probes: dict[float, list[ProbeRun]],
                       slo: Slo | None = None) -> CapacityRecord:  # fmt: skip
    """The record of a finished search (pure): the estimate's figures are medians over its runs.

    ``probes`` in the order probed (each point's ``order`` counts from 1); the points are listed by value.
    """
    at = probes.get(cap.estimate, []) if cap.estimate is not None else []

    def median(vals: list[float | None]) -> float | None:
        known = [v for v in vals if v is not None]
        return statistics.median(known) if known else None

    order = {v: k + 1 for k, v in enumerate(probes)}
    points = [CapacityPoint(value=v, met=[r.met for r in runs], goodput_req_per_s=[r.goodput_req_per_s for r in runs],
                            out_tok_per_s=[r.out_tok_per_s for r in runs], order=order[v],
                            stopped=[r.stopped for r in runs],
                            calls=[r.calls for r in runs] if any(r.calls is not None for r in runs) else [])
              for v, runs in sorted(probes.items())]  # fmt: skip
    return CapacityRecord(candidate=candidate, kind=cap.kind, estimate=cap.estimate, lower=cap.lower,  # type: ignore[arg-type]
                          upper=cap.upper, requests_per_s=median([r.goodput_req_per_s for r in at]),
                          out_tok_per_s=median([r.out_tok_per_s for r in at]), points=points, slo=slo,
                          call_accuracy=pooled_call_accuracy([r.calls for r in at]))  # fmt: skip
