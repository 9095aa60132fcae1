"""Run named jobs at once: one worker process per job pinned to free GPUs of this node, or one Ray task per job.

The candidates (:mod:`harness.run.fleet`) and the judges (:mod:`harness.scoring.judge.fleet`)
spread the same way; only what a job does and how its result is folded into the run differ.

- **Side by side** (:func:`side_by_side`): one ``python -m <worker module>`` process per job,
  started when :func:`harness.server.placement.place` finds it free GPUs and pinned to them. Each
  process writes its result as JSON (``outcome.json`` of its part directory) and exits 0; a
  process that dies fails only its job.
- **Ray** (:func:`on_ray`): one Ray task per job asking for the GPUs it needs (``num_gpus``, or a
  custom resource with ``--ray-gpu-resource``); Ray places it and sets ``CUDA_VISIBLE_DEVICES``.
  A task lost with its worker or node, or one that raised, is retried once (``max_retries=1``).
  A job bigger than any node gets vLLM's own multi-node mode (:attr:`PartJob.multi_node`).
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from harness.inputs.plan import LoadedPlan, load_plan
from harness.records import Candidate
from harness.rundir import RunDir
from harness.server.placement import FleetError, Need, pinned_env, place, too_big
from harness.server.vllm_server import die_with_parent, install_signal_handlers
from harness.store import atomic_write_json

Log = Callable[[str], None]
"""Where progress lines go (the run's and the judge's log)."""

POLL_S = 0.5

Result = dict[str, Any]
"""What a job hands back to the driver: JSON (a candidate's outcome, a judge's manifest entry)."""
Work = Callable[[LoadedPlan, Path, "PartJob"], Result]
"""A job's body: runs in the worker (a process or a Ray task); must be a module-level function for Ray."""
Ended = Callable[[str, "Result | None", str], None]
"""Called in the driver as each job ends: its name, its result (None when it failed) and why it failed."""


@dataclass(frozen=True)
class PartJob:
    name: str
    """The candidate's or the judge's name."""
    gpu_ids: list[int] | None = None
    """GPUs to pin the server to; None when Ray already did (or for an endpoint)."""
    multi_node: bool = False
    """Serve with vLLM's Ray backend across nodes (the job is bigger than one node)."""
    ray_address: str | None = None


@dataclass
class Fleet:
    """How ``harness run`` spreads candidates and judges; None of both means one after another."""

    gpus: list[int] | None = None
    ray_address: str | None = None
    ray_gpu_resource: str | None = None
    describe: dict[str, Any] = field(default_factory=dict)
    """Filled in when the run starts: what the manifest records about the fleet."""


def prefixed_log(tag: str) -> Log:
    """A worker's log: each line to stderr, ``tag`` (``[name]``) before those that name nothing."""

    def log(msg: str) -> None:
        print(msg if msg.startswith("[") else f"{tag} {msg}", file=sys.stderr, flush=True)

    return log


C = TypeVar("C", bound=Candidate)


def pinned(cand: C, gpu_ids: Sequence[int]) -> C:
    """``cand`` (a candidate or a judge) served on ``gpu_ids`` only."""
    env = {**cand.vllm.env, **pinned_env(gpu_ids)}
    return cand.model_copy(update={"vllm": cand.vllm.model_copy(update={"env": env})})


def multi_node(cand: C, ray_address: str) -> C:
    """``cand`` served by vLLM's Ray backend, which places its workers across the cluster itself."""
    extra = [*cand.vllm.extra_args, "--distributed-executor-backend", "ray"]
    env = {**cand.vllm.env, "RAY_ADDRESS": ray_address}
    return cand.model_copy(update={"vllm": cand.vllm.model_copy(update={"extra_args": extra, "env": env})})


def served_as(cand: C, job: PartJob) -> C:
    """``cand`` as this job serves it: pinned to the job's GPUs, or across nodes."""
    served = pinned(cand, job.gpu_ids) if job.gpu_ids else cand
    return multi_node(served, job.ray_address) if job.multi_node and job.ray_address else served


def record_attempt(part: RunDir, gpu_ids: list[int] | None) -> dict[str, Any]:
    """Note this attempt in the part's ``attempts.jsonl`` (creating the part); returns it (host, pid,
    ``started_at`` in unix seconds, ``gpu_ids``) with ``attempts``, the attempts so far, this one included."""
    part.root.mkdir(parents=True, exist_ok=True)
    attempt = {"host": socket.gethostname(), "pid": os.getpid(), "started_at": time.time(), "gpu_ids": gpu_ids}
    with part.attempts.open("a", encoding="utf-8") as f:
        f.write(json.dumps(attempt) + "\n")
    attempts = sum(1 for ln in part.attempts.read_text(encoding="utf-8").splitlines() if ln.strip())
    return {**attempt, "attempts": attempts}


# --- side by side on one node -------------------------------------------------------------


def start_worker(module: str, lp: LoadedPlan, run_dir: Path, job: PartJob) -> subprocess.Popen[bytes]:
    """``python -m module PLAN RUN_DIR NAME [--gpus 0,1]``: a worker that dies with the driver."""
    cmd = [sys.executable, "-m", module, str(lp.path), str(run_dir), job.name]
    if job.gpu_ids:
        cmd += ["--gpus", ",".join(map(str, job.gpu_ids))]
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)


def worker_result(path: Path, code: int) -> tuple[Result | None, str]:
    """The result a worker wrote at ``path`` (removed), or None and why when it ended without one."""
    result = json.loads(path.read_text(encoding="utf-8")) if code == 0 and path.exists() else None
    with contextlib.suppress(OSError):  # no part directory at all (the worker failed before making it)
        path.unlink(missing_ok=True)
    return result, "" if result is not None else f"its worker process ended with code {code} before it finished"


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


def side_by_side(
    needs: Sequence[Need], gpus: list[int], start: Callable[[PartJob], subprocess.Popen[bytes]],
    end: Callable[[str, int], None], log: Log, tag: str = "",
) -> None:  # fmt: skip
    """Start a worker per need (``start``) as GPUs free up; ``end(name, exit code)`` as each ends.

    ``tag`` goes before the name in the log (``"judge "``: ``[judge NAME] starting on GPUs [0]``).
    Raises :class:`FleetError` when a need is bigger than ``gpus``.
    """
    waiting = list(needs)
    if too_big(waiting, len(gpus)):
        raise FleetError("a candidate or judge needs more GPUs than --gpus gives")
    free = list(gpus)
    running: dict[str, tuple[subprocess.Popen[bytes], list[int]]] = {}
    with _ended_on_exit(running):
        while waiting or running:
            for need, ids in place(waiting, free):
                waiting.remove(need)
                free = [g for g in free if g not in ids]
                log(f"[{tag}{need.candidate}] starting on GPUs {ids or '(none: endpoint)'}")
                running[need.candidate] = (start(PartJob(need.candidate, ids or None)), ids)
            time.sleep(POLL_S)
            for name, (proc, ids) in list(running.items()):
                code = proc.poll()
                if code is None:
                    continue
                del running[name]
                free += ids
                end(name, code)


def worker_main(
    argv: list[str] | None, module: str, work: Work, outcome: Callable[[Path, str], Path],
    check: Callable[[LoadedPlan, Path], None],
) -> int:  # fmt: skip
    """A side-by-side worker's entry: ``check`` the run, do ``work``, write its result where ``outcome`` says."""
    ap = argparse.ArgumentParser(prog=f"python -m {module}")
    ap.add_argument("plan")
    ap.add_argument("run_dir")
    ap.add_argument("name")
    ap.add_argument("--gpus", help="comma-separated GPU indices to pin the server to")
    args = ap.parse_args(argv)
    install_signal_handlers()
    lp = load_plan(Path(args.plan))
    run_dir = Path(args.run_dir)
    check(lp, run_dir)
    ids = [int(x) for x in args.gpus.split(",")] if args.gpus else None
    try:
        result = work(lp, run_dir, PartJob(args.name, ids))
    except KeyboardInterrupt:  # the driver ended this worker; its part stays and the next run folds it
        return 130
    atomic_write_json(outcome(run_dir, args.name), result)
    return 0


# --- Ray cluster ----------------------------------------------------------------------------


def ray_task(work: Work, lp: LoadedPlan, run_dir: str, job: PartJob) -> Result:
    """A job as a Ray task: on the GPUs Ray gave it, with the cluster's address for multi-node serving."""
    import ray

    ids = [int(i) for i in ray.get_gpu_ids()] or job.gpu_ids
    address = ray.get_runtime_context().gcs_address
    return work(lp, Path(run_dir), PartJob(job.name, ids, job.multi_node, address))


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


def on_ray(
    lp: LoadedPlan, run_dir: Path, needs: Sequence[Need], fleet: Fleet, work: Work, end: Ended, log: Log,
    tag: str = "",
) -> None:  # fmt: skip
    """Submit one Ray task per need running ``work``; ``end`` gets each task's result as it finishes."""
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
        remote = ray.remote(ray_task)
        refs: dict[Any, str] = {}
        for need in needs:
            spans = need.gpus > per_node
            opts: dict[str, Any] = {"max_retries": 1, "retry_exceptions": True, "num_cpus": 1, "num_gpus": 0,
                                    "name": f"harness:{tag}{need.candidate}"}  # fmt: skip
            if need.gpus and not spans:
                if fleet.ray_gpu_resource:
                    opts["resources"] = {resource: need.gpus}
                else:
                    opts["num_gpus"] = need.gpus
            where = "across nodes (vLLM's Ray backend)" if spans else f"{need.gpus} {resource}"
            log(f"[{tag}{need.candidate}] submitted to Ray: {where}")
            job = PartJob(need.candidate, multi_node=spans)
            refs[remote.options(**opts).remote(work, lp, str(run_dir), job)] = need.candidate
        try:
            _collect(ray, refs, end)
        except BaseException:  # Ctrl-C or an error here: stop the tasks still on the cluster (their servers die too)
            for ref in refs:
                with contextlib.suppress(Exception):
                    ray.cancel(ref, force=True)
            raise
    finally:
        ray.shutdown()


def _collect(ray: Any, refs: dict[Any, str], end: Ended) -> None:
    """Hand each task's result on as it finishes; ``refs`` shrinks as tasks end."""
    while refs:
        ready, _ = ray.wait(list(refs), num_returns=1)
        for ref in ready:
            name = refs.pop(ref)
            try:
                result: Result | None = ray.get(ref)
                why = ""
            except ray.exceptions.RayError as exc:
                result, why = None, f"its Ray task failed, also when retried: {ray_reason(exc)}"
            end(name, result, why)
