"""Serve several candidates at once: side by side on one node's GPUs, or as Ray tasks on a cluster.

Both ways run :func:`run_part` once per candidate, which serves that candidate into
its part directory (:mod:`harness.parts`) exactly as the sequential run would:
resumable (answers already in the run or the part are not asked again), with the
same watchdog, measurements, sweep and lm-eval tasks. The driver folds each part
into the run directory when its candidate ends and writes the manifest.

- **Side by side** (``harness run --gpus auto|N|0,1,…``): one ``python -m
  harness.run.fleet`` process per candidate, started when :func:`harness.server.placement.place`
  finds it free GPUs and pinned to them. A process that dies fails only its candidate.
- **Ray** (``harness run --ray ADDRESS``): one Ray task per candidate asking for the
  GPUs it needs (``num_gpus``, or a custom resource with ``--ray-gpu-resource``); Ray
  places it and sets ``CUDA_VISIBLE_DEVICES``. A task lost with its worker or node, or
  one that raised, is retried once by Ray (``max_retries=1``); the retry resumes from
  the part. A candidate bigger than any node gets vLLM's own multi-node mode
  (``--distributed-executor-backend ray`` on the same cluster). The results directory
  must be on storage every node sees at the same path (NFS, a cluster file system).

The machinery (workers, placement loop, Ray tasks) is :mod:`harness.server.workers`, shared
with the judges (:mod:`harness.scoring.judge.fleet`); this module is what is the candidates'.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from harness.inputs.plan import LoadedPlan
from harness.parts import fold_part
from harness.records import Candidate
from harness.run.candidate import CandidateOutcome, CandidateRun, run_candidate
from harness.run.generate import Log, load_done, plan_work
from harness.run.manifest import gpu_info, plan_fingerprint
from harness.rundir import RunDir, load_manifest
from harness.server.placement import FleetError, need_of, parse_gpus, too_big
from harness.server.workers import (
    Fleet,
    PartJob,
    Result,
    on_ray,
    prefixed_log,
    reachable,
    record_attempt,
    served_as,
    side_by_side,
    start_worker,
    worker_main,
    worker_result,
)
from harness.store import JsonlAppender


def run_part(lp: LoadedPlan, run_dir: Path, job: PartJob, log: Log | None = None) -> CandidateOutcome:
    """Serve one candidate into its part directory and return the outcome (runs in a worker)."""
    log = log or prefixed_log(f"[{job.name}]")
    cand = next(c for c in lp.plan.candidates if c.name == job.name)
    part = RunDir(run_dir).part(cand.name)
    placement = record_attempt(part, job.gpu_ids)
    in_run = {g.key for g in RunDir(run_dir).read_generations() if g.ok}
    in_part = load_done(part.generations, log)
    if placement["attempts"] > 1:
        log(f"attempt {placement['attempts']} on {placement['host']}: the previous one ended early; "
            f"{len(in_part)} of its answers are kept")  # fmt: skip
    mine = [w for w in plan_work(lp) if w.candidate == cand.name]
    items = [w for w in mine if w.key not in in_run and w.key not in in_part]
    with JsonlAppender(part.generations) as out, JsonlAppender(part.phases) as phases:
        run = CandidateRun(lp, served_as(cand, job), items, part.root, out, phases, log, show_progress=False,
                           gpu_ids=job.gpu_ids, done_dir=run_dir)  # fmt: skip
        outcome = run_candidate(run)
    outcome.skipped = len(mine) - len(items)
    outcome.info["placement"] = placement
    return outcome


def outcome_json(o: CandidateOutcome) -> dict[str, Any]:
    return asdict(o)


def outcome_from(d: dict[str, Any]) -> CandidateOutcome:
    return CandidateOutcome(**d)


def part_result(lp: LoadedPlan, run_dir: Path, job: PartJob) -> Result:
    """:func:`run_part` as a worker's JSON result (a process's or a Ray task's)."""
    return outcome_json(run_part(lp, run_dir, job))


def _ended(run_dir: Path, done: Callable[[CandidateOutcome], None]) -> Callable[[str, Result | None, str], None]:
    """The driver's end of a candidate: fold its part, then hand its outcome (or its failure) on."""

    def end(name: str, result: Result | None, why: str) -> None:
        outcome = outcome_from(result) if result is not None else CandidateOutcome(name, error=why)
        fold_part(run_dir, name)
        done(outcome)

    return end


def run_side_by_side(
    lp: LoadedPlan, run_dir: Path, cands: list[Candidate], gpus: list[int], log: Log,
    done: Callable[[CandidateOutcome], None],
) -> None:  # fmt: skip
    """Serve ``cands`` at once where GPUs allow; ``done`` gets each outcome after its part is folded."""
    end = _ended(run_dir, done)

    def start(job: PartJob) -> subprocess.Popen[bytes]:
        return start_worker("harness.run.fleet", lp, run_dir, job)

    def ended(name: str, code: int) -> None:
        end(name, *worker_result(RunDir(run_dir).part(name).outcome, code))

    side_by_side([need_of(c) for c in cands], gpus, start, ended, log)


def run_on_ray(
    lp: LoadedPlan, run_dir: Path, cands: list[Candidate], fleet: Fleet, log: Log,
    done: Callable[[CandidateOutcome], None],
) -> None:  # fmt: skip
    """One Ray task per candidate (:func:`harness.server.workers.on_ray`); ``done`` as in :func:`run_side_by_side`."""
    on_ray(lp, run_dir, [need_of(c) for c in cands], fleet, part_result, _ended(run_dir, done), log)


def fleet_from_args(gpus: str | None, ray_address: str | None, ray_gpu_resource: str | None) -> Fleet | None:
    """The ``harness run`` options as a :class:`Fleet`; raises :class:`FleetError` for a bad combination."""
    if ray_address is not None and gpus is not None:
        raise FleetError("--gpus and --ray do not go together: on a Ray cluster, Ray places candidates on GPUs")
    if ray_gpu_resource is not None and ray_address is None:
        raise FleetError("--ray-gpu-resource needs --ray ADDRESS")
    if ray_address is not None:
        return Fleet(ray_address=ray_address, ray_gpu_resource=ray_gpu_resource)
    if gpus is not None:
        try:
            return Fleet(gpus=parse_gpus(gpus, len(gpu_info()) if gpus.strip() == "auto" else None))
        except ValueError as exc:
            raise FleetError(str(exc)) from None
    return None


def check_fleet(lp: LoadedPlan, fleet: Fleet | None, judges_only: bool = False) -> None:
    """Before anything is written: every candidate (unless ``judges_only``: ``harness judge``) and judge
    fits the node (side by side), the cluster answers (Ray)."""
    if fleet is None:
        return
    if fleet.ray_address is not None:
        reachable(fleet.ray_address)
        return
    served = [*([] if judges_only else lp.plan.candidates), *lp.plan.panel_judges]
    big = too_big([need_of(c) for c in served], len(fleet.gpus or []))
    if big:
        names = ", ".join(f"{n.candidate} ({n.gpus})" for n in big)
        raise FleetError(
            f"--gpus gives {len(fleet.gpus or [])} GPUs, fewer than {names} needs; use --ray for multi-node"
        )


def check_fingerprint(lp: LoadedPlan, run_dir: Path) -> None:
    """Refuse a run directory that does not hold a run of this plan (a worker's first check)."""
    manifest = load_manifest(run_dir)
    if manifest is None or manifest.plan_fingerprint != plan_fingerprint(lp):
        raise FleetError(f"{run_dir} does not hold a run of {lp.path}")


def main(argv: list[str] | None = None) -> int:
    """Worker entry for side-by-side runs: serve one candidate into its part, write its outcome."""
    return worker_main(argv, "harness.run.fleet", part_result, lambda d, n: RunDir(d).part(n).outcome,
                       check_fingerprint)  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
