"""Load sweep (I/O): replay the question-set prompts at each level against a running server.

Runs after a candidate's answers are generated, on the same server. Each level
is written to ``loadtest.jsonl`` as one record when it completes, so a resumed
run skips finished levels and reruns a level that was cut off (a partial level
would mix two sessions' timings). Levels are sent by the multi-process load generator
(:func:`~harness.run.perf.loadgen.run_level_workers`); each record carries its validity
guards (:mod:`harness.run.perf.guards`). A level is stopped as soon as the online test finds it
over-saturated (:func:`~harness.run.perf.guards.oversaturation`; the record says why and how many
requests it never sent or cut), and a rate level found over-saturated, online or afterwards,
skips the higher rates: each is recorded with no requests and the reason, and counts as done
for a resumed run (they can only do worse). When the plan's questions grade tool calls, each level's
calls are graded once it is over and recorded with it (``LoadLevel.calls``;
:mod:`harness.run.perf.load_requests`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from harness.inputs.plan import LoadedPlan
from harness.records import LoadLevel, Sweep
from harness.run.perf.capacity_run import capacity_done, run_capacity
from harness.run.perf.guards import guards, oversaturation
from harness.run.perf.load_requests import CallCheck, level_calls, sweep_load
from harness.run.perf.loadgen import Level, LevelRun, send_level, timing
from harness.run.served import Served
from harness.rundir import RunDir
from harness.store import JsonlAppender


def levels(sweep: Sweep) -> list[Level]:
    return [Level("concurrency", c) for c in sweep.concurrency] + [Level("rate", r) for r in sweep.request_rates]


def to_record(candidate: str, run: LevelRun, checks: Sequence[CallCheck | None] = ()) -> LoadLevel:
    """The level's record; ``checks`` (per request, :func:`~harness.run.perf.load_requests.sweep_load`) grade
    its tool calls, after the level."""
    timings = [timing(r) for r in run.results]
    checked = guards(run.level.kind, [r.started_mono for r in run.results], run.scheduled_mono or [None] * len(timings),
                     [r.ttft_ms for r in run.results], run.wall_s, run.workers, run.cpu_s)  # fmt: skip
    if run.stopped:
        checked.oversaturated = True
        checked.problems.append(f"stopped early ({run.unsent} never sent, {run.cut} cut): {run.stopped}")
    return LoadLevel(candidate=candidate, level_id=run.level.id, kind=run.level.kind, value=run.level.value,  # type: ignore[arg-type]
                     started_at=run.started_at, wall_s=run.wall_s, requests=timings, guards=checked,
                     stopped=run.stopped, unsent=run.unsent, cut=run.cut,
                     calls=level_calls(run.results, run.indices, checks))  # fmt: skip


def skipped_record(candidate: str, level: Level, why: str) -> LoadLevel:
    """The record of a level not sent (no requests, no figures): ``why`` says which level made it pointless."""
    return LoadLevel(candidate=candidate, level_id=level.id, kind=level.kind, value=level.value,  # type: ignore[arg-type]
                     started_at=time.time(), wall_s=0.0, requests=[], skipped=why)  # fmt: skip


def levels_done(candidate: str, *run_dirs: Path) -> set[str]:
    """Sweep levels of ``candidate`` already recorded in any of ``run_dirs`` (a run and its part)."""
    return {lv.level_id for d in run_dirs for lv in RunDir(d).read_levels() if lv.candidate == candidate}


def sweep_pending(lp: LoadedPlan, candidate: str, run_dir: Path) -> bool:
    sweep = lp.plan.perf.sweep
    if sweep is None:
        return False
    done = levels_done(candidate, run_dir)
    searching = sweep.capacity is not None and not capacity_done(candidate, run_dir)
    return searching or any(lv.id not in done for lv in levels(sweep))


def run_sweep(on: Served) -> int:
    """Run the sweep levels not yet recorded for ``on.candidate`` (in ``on.run_dir`` or ``on.done_dir``),
    then its SLO capacity search when the plan asks for one; return how many levels ran."""
    sweep = on.lp.plan.perf.sweep
    if sweep is None:
        return 0
    done = levels_done(on.candidate, *on.finished_in)
    todo = [lv for lv in levels(sweep) if lv.id not in done]
    ran = _run_levels(on, todo) if todo else 0
    run_capacity(on)
    return ran


def _run_levels(on: Served, todo: list[Level]) -> int:
    lp, candidate, log = on.lp, on.candidate, on.log
    sweep = lp.plan.perf.sweep
    assert sweep is not None
    path = RunDir(on.run_dir).loadtest
    load = sweep_load(lp, on.api, sweep)
    requests = load.requests
    log(f"[{candidate}] load sweep: {', '.join(lv.id for lv in todo)} × {len(requests)} requests")
    with JsonlAppender(path) as out, tqdm(total=len(todo) * len(requests), desc=f"{candidate} sweep", unit="req",
                                          disable=not on.show_progress, file=sys.stderr) as bar:  # fmt: skip
        ran, skip = 0, dict[str, str]()
        for level in todo:
            if level.id in skip:
                out.append(skipped_record(candidate, level, skip[level.id]))
                continue
            run = send_level(on, requests, level, seed=lp.plan.sampling.seed, during="the load sweep",
                             on_done=bar.update, stop_when=oversaturation)  # fmt: skip
            record = to_record(candidate, run, load.checks)
            out.append(record)
            ran += 1
            if record.calls is not None:
                c = record.calls
                log(f"[{candidate}] {level.id}: call accuracy {_pct(c.call_accuracy)} over {c.expect_call_responses}"
                    f" responses, {c.unparsable} unparsable of {c.responses} graded")  # fmt: skip
            for problem in record.guards.problems if record.guards else []:
                log(f"[{candidate}] {level.id}: {problem}")
            if level.kind == "rate" and record.guards and record.guards.oversaturated:
                higher = [lv.id for lv in todo if lv.kind == "rate" and lv.value > level.value and lv.id not in skip]
                skip |= dict.fromkeys(higher, f"over-saturated at {level.id}")
                if higher:
                    log(f"[{candidate}] over-saturated at {level.id}: higher rates skipped ({', '.join(higher)})")
    return ran


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"
