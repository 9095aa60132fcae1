"""Serve several candidates at once: side by side on one node's GPUs, or as Ray tasks on a cluster.

Both ways run :func:`run_part` once per candidate, which serves that candidate into
its part directory (:mod:`harness.run.parts`) exactly as the sequential run would:
resumable (answers already in the run or the part are not asked again), with the
same watchdog, measurements, sweep and lm-eval tasks. The driver folds each part
into the run directory when its candidate ends and writes the manifest.

- **Side by side** (``harness run --gpus auto|N|0,1,…``): one ``python -m
  harness.run.fleet`` process per candidate, started when :func:`harness.run.placement.place`
  finds it free GPUs and pinned to them. A process that dies fails only its candidate.
- **Ray** (``harness run --ray ADDRESS``): one Ray task per candidate asking for the
  GPUs it needs (``num_gpus``, or a custom resource with ``--ray-gpu-resource``); Ray
  places it and sets ``CUDA_VISIBLE_DEVICES``. A task lost with its worker or node, or
  one that raised, is retried once by Ray (``max_retries=1``); the retry resumes from
  the part. A candidate bigger than any node gets vLLM's own multi-node mode
  (``--distributed-executor-backend ray`` on the same cluster). The results directory
  must be on storage every node sees at the same path (NFS, a cluster file system).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.inputs.plan import LoadedPlan, load_plan
from harness.records import Candidate
from harness.run.candidate import CandidateOutcome, CandidateRun, run_candidate
from harness.run.generate import Log, load_done, plan_work
from harness.run.manifest import gpu_info, plan_fingerprint
from harness.run.parts import fold_part
from harness.run.placement import FleetError, Need, need_of, parse_gpus, pinned_env, place, too_big
from harness.run.serving import die_with_parent, install_signal_handlers
from harness.rundir import RunDir, load_manifest
from harness.store import JsonlAppender, atomic_write_json

POLL_S = 0.5


@dataclass(frozen=True)
class PartJob:
    candidate: str
    gpu_ids: list[int] | None = None
    """GPUs to pin the server to; None when Ray already did (or for an endpoint)."""
    multi_node: bool = False
    """Serve with vLLM's Ray backend across nodes (the candidate is bigger than one node)."""
    ray_address: str | None = None


@dataclass
class Fleet:
    """How ``harness run`` spreads candidates; None of both means one after another."""

    gpus: list[int] | None = None
    ray_address: str | None = None
    ray_gpu_resource: str | None = None
    describe: dict[str, Any] = field(default_factory=dict)
    """Filled in when the run starts: what the manifest records about the fleet."""


def _prefixed(name: str) -> Log:
    def log(msg: str) -> None:
        print(msg if msg.startswith("[") else f"[{name}] {msg}", file=sys.stderr, flush=True)

    return log


def pinned(cand: Candidate, gpu_ids: Sequence[int]) -> Candidate:
    env = {**cand.vllm.env, **pinned_env(gpu_ids)}
    return cand.model_copy(update={"vllm": cand.vllm.model_copy(update={"env": env})})


def multi_node(cand: Candidate, ray_address: str) -> Candidate:
    """The candidate served by vLLM's Ray backend, which places its workers across the cluster itself."""
    extra = [*cand.vllm.extra_args, "--distributed-executor-backend", "ray"]
    env = {**cand.vllm.env, "RAY_ADDRESS": ray_address}
    return cand.model_copy(update={"vllm": cand.vllm.model_copy(update={"extra_args": extra, "env": env})})


def run_part(lp: LoadedPlan, run_dir: Path, job: PartJob, log: Log | None = None) -> CandidateOutcome:
    """Serve one candidate into its part directory and return the outcome (runs in a worker)."""
    log = log or _prefixed(job.candidate)
    cand = next(c for c in lp.plan.candidates if c.name == job.candidate)
    part = RunDir(run_dir).part(cand.name)
    part.root.mkdir(parents=True, exist_ok=True)
    attempt = {"host": socket.gethostname(), "pid": os.getpid(), "started_at": time.time(), "gpu_ids": job.gpu_ids}
    with part.attempts.open("a", encoding="utf-8") as f:
        f.write(json.dumps(attempt) + "\n")
    attempts = [json.loads(ln) for ln in part.attempts.read_text(encoding="utf-8").splitlines() if ln.strip()]
    in_run = {g.key for g in RunDir(run_dir).read_generations() if g.ok}
    in_part = load_done(part.generations, log)
    if len(attempts) > 1:
        log(f"attempt {len(attempts)} on {attempt['host']}: the previous one ended early; "
            f"{len(in_part)} of its answers are kept")  # fmt: skip
    mine = [w for w in plan_work(lp) if w.candidate == cand.name]
    items = [w for w in mine if w.key not in in_run and w.key not in in_part]
    served = cand
    if job.gpu_ids:
        served = pinned(served, job.gpu_ids)
    if job.multi_node and job.ray_address:
        served = multi_node(served, job.ray_address)
    with JsonlAppender(part.generations) as out, JsonlAppender(part.phases) as phases:
        run = CandidateRun(
            lp, served, items, part.root, out, phases, log, show_progress=False, gpu_ids=job.gpu_ids, done_dir=run_dir
        )
        outcome = run_candidate(run)
    outcome.skipped = len(mine) - len(items)
    outcome.info["placement"] = {**attempt, "attempts": len(attempts)}
    return outcome


def outcome_json(o: CandidateOutcome) -> dict[str, Any]:
    return asdict(o)


def outcome_from(d: dict[str, Any]) -> CandidateOutcome:
    return CandidateOutcome(**d)


# --- side by side on one node -------------------------------------------------------------


def _start_worker(lp: LoadedPlan, run_dir: Path, job: PartJob) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "harness.run.fleet", str(lp.path), str(run_dir), job.candidate]
    if job.gpu_ids:
        cmd += ["--gpus", ",".join(map(str, job.gpu_ids))]
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)


def _worker_outcome(run_dir: Path, name: str, code: int) -> CandidateOutcome:
    path = RunDir(run_dir).part(name).outcome
    if code == 0 and path.exists():
        outcome = outcome_from(json.loads(path.read_text(encoding="utf-8")))
    else:
        outcome = CandidateOutcome(name, error=f"its worker process ended with code {code} before it finished")
    path.unlink(missing_ok=True)
    return outcome


@contextlib.contextmanager
def _ended_on_exit(running: dict[str, tuple[subprocess.Popen[bytes], list[int]]]) -> Iterator[None]:
    """On Ctrl-C or an error, SIGTERM the workers (each stops its server) and wait for them."""
    try:
        yield
    finally:
        for proc, _ in running.values():
            if proc.poll() is None:
                proc.terminate()
        for proc, _ in running.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=60)
            if proc.poll() is None:
                proc.kill()


def run_side_by_side(
    lp: LoadedPlan, run_dir: Path, cands: list[Candidate], gpus: list[int], log: Log,
    done: Callable[[CandidateOutcome], None],
) -> None:  # fmt: skip
    """Serve ``cands`` at once where GPUs allow; ``done`` gets each outcome after its part is folded."""
    waiting: list[Need] = [need_of(c) for c in cands]
    if too_big(waiting, len(gpus)):
        raise FleetError("a candidate needs more GPUs than --gpus gives (check_fleet says which)")
    free = list(gpus)
    running: dict[str, tuple[subprocess.Popen[bytes], list[int]]] = {}
    with _ended_on_exit(running):
        while waiting or running:
            for need, ids in place(waiting, free):
                waiting.remove(need)
                free = [g for g in free if g not in ids]
                log(f"[{need.candidate}] starting on GPUs {ids or '(none: endpoint)'}")
                running[need.candidate] = (_start_worker(lp, run_dir, PartJob(need.candidate, ids or None)), ids)
            time.sleep(POLL_S)
            for name, (proc, ids) in list(running.items()):
                code = proc.poll()
                if code is None:
                    continue
                del running[name]
                free += ids
                outcome = _worker_outcome(run_dir, name, code)
                fold_part(run_dir, name)
                done(outcome)


# --- Ray cluster ----------------------------------------------------------------------------


def _ray_part(lp: LoadedPlan, run_dir: str, job: PartJob) -> dict[str, Any]:
    import ray

    ids = [int(i) for i in ray.get_gpu_ids()] or job.gpu_ids
    address = ray.get_runtime_context().gcs_address
    job = PartJob(job.candidate, ids, job.multi_node, address)
    return outcome_json(run_part(lp, Path(run_dir), job))


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def ray_reason(exc: BaseException) -> str:
    """One line for a failed Ray task: the task's own exception, or Ray's (worker or node lost)."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException):
        return f"{type(cause).__name__}: {cause}"[:500]
    lines = [ln.strip() for ln in _ANSI.sub("", str(exc)).splitlines() if ln.strip()]
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"[:500]


def cluster_gpus_per_node(nodes: list[dict[str, Any]], resource: str) -> int:
    """The most ``resource`` (GPU or a stand-in) any alive node of the cluster has."""
    return int(max((n.get("Resources", {}).get(resource, 0) for n in nodes if n.get("Alive")), default=0))


def reachable(address: str, timeout_s: float = 5.0) -> None:
    """Refuse an address nothing listens on at once: Ray itself retries it for minutes."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise FleetError(f"--ray {address!r}: expected HOST:PORT of the cluster's head (ray start --head --port)")
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise FleetError(f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}") from None


def run_on_ray(
    lp: LoadedPlan, run_dir: Path, cands: list[Candidate], fleet: Fleet, log: Log,
    done: Callable[[CandidateOutcome], None],
) -> None:  # fmt: skip
    try:
        import ray
    except ImportError:
        raise FleetError("--ray needs Ray on this machine and every node: pip install 'ray>=2.40'") from None
    resource = fleet.ray_gpu_resource or "GPU"
    try:
        ray.init(address=fleet.ray_address, logging_level=logging.WARNING, log_to_driver=True)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FleetError(f"cannot reach the Ray cluster at {fleet.ray_address}: {first}") from None
    try:
        per_node = cluster_gpus_per_node(ray.nodes(), resource)
        fleet.describe.update({"mode": "ray", "nodes": sum(1 for n in ray.nodes() if n.get("Alive")),
                               "gpus_per_node": per_node, "gpu_resource": resource})  # fmt: skip
        remote = ray.remote(_ray_part)
        refs: dict[Any, str] = {}
        for cand in cands:
            need = need_of(cand).gpus
            spans = need > per_node
            opts: dict[str, Any] = {"max_retries": 1, "retry_exceptions": True, "num_cpus": 1, "num_gpus": 0,
                                    "name": f"harness:{cand.name}"}  # fmt: skip
            if need and not spans:
                if fleet.ray_gpu_resource:
                    opts["resources"] = {resource: need}
                else:
                    opts["num_gpus"] = need
            where = "across nodes (vLLM's Ray backend)" if spans else f"{need} {resource}"
            log(f"[{cand.name}] submitted to Ray: {where}")
            refs[remote.options(**opts).remote(lp, str(run_dir), PartJob(cand.name, multi_node=spans))] = cand.name
        try:
            _collect(ray, refs, run_dir, done)
        except BaseException:  # Ctrl-C or an error here: stop the tasks still on the cluster (their servers die too)
            for ref in refs:
                with contextlib.suppress(Exception):
                    ray.cancel(ref, force=True)
            raise
    finally:
        ray.shutdown()


def _collect(ray: Any, refs: dict[Any, str], run_dir: Path, done: Callable[[CandidateOutcome], None]) -> None:
    """Fold each task's part as it finishes and hand its outcome on; ``refs`` shrinks as tasks end."""
    while refs:
        ready, _ = ray.wait(list(refs), num_returns=1)
        for ref in ready:
            name = refs.pop(ref)
            try:
                outcome = outcome_from(ray.get(ref))
            except ray.exceptions.RayError as exc:
                outcome = CandidateOutcome(name, error=f"its Ray task failed, also when retried: {ray_reason(exc)}")
            fold_part(run_dir, name)
            done(outcome)


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


def check_fleet(lp: LoadedPlan, fleet: Fleet | None) -> None:
    """Before anything is written: every candidate fits the node (side by side), the cluster answers (Ray)."""
    if fleet is None:
        return
    if fleet.ray_address is not None:
        reachable(fleet.ray_address)
        return
    big = too_big([need_of(c) for c in lp.plan.candidates], len(fleet.gpus or []))
    if big:
        names = ", ".join(f"{n.candidate} ({n.gpus})" for n in big)
        raise FleetError(
            f"--gpus gives {len(fleet.gpus or [])} GPUs, fewer than {names} needs; use --ray for multi-node"
        )


def check_fingerprint(lp: LoadedPlan, run_dir: Path) -> None:
    manifest = load_manifest(run_dir)
    if manifest is None or manifest.get("plan_fingerprint") != plan_fingerprint(lp):
        raise FleetError(f"{run_dir} does not hold a run of {lp.path}")


def main(argv: list[str] | None = None) -> int:
    """Worker entry for side-by-side runs: serve one candidate into its part, write its outcome."""
    ap = argparse.ArgumentParser(prog="python -m harness.run.fleet", description=main.__doc__)
    ap.add_argument("plan")
    ap.add_argument("run_dir")
    ap.add_argument("candidate")
    ap.add_argument("--gpus", help="comma-separated GPU indices to pin the server to")
    args = ap.parse_args(argv)
    install_signal_handlers()
    lp = load_plan(Path(args.plan))
    run_dir = Path(args.run_dir)
    check_fingerprint(lp, run_dir)
    ids = [int(x) for x in args.gpus.split(",")] if args.gpus else None
    try:
        outcome = run_part(lp, run_dir, PartJob(args.candidate, ids))
    except KeyboardInterrupt:  # the driver ended this worker; its part stays and the next run folds it
        return 130
    atomic_write_json(RunDir(run_dir).part(args.candidate).outcome, outcome_json(outcome))
    return 0


if __name__ == "__main__":
    sys.exit(main())
