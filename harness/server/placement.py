"""Which candidate runs on which GPUs of a node (pure).

Candidates that need fewer GPUs than the node has run side by side, each pinned to
its own GPUs through ``CUDA_VISIBLE_DEVICES``. :func:`place` is greedy first-fit in
plan order: each waiting candidate that fits in the free GPUs starts, lowest GPU
indices first; one that does not fit waits for GPUs to be freed while later, smaller
ones may start (so a shortlist of mixed sizes keeps the node busy). A candidate
needing more GPUs than the node has can never start here: :func:`too_big` names
them before anything runs (on a Ray cluster they use vLLM's multi-node mode).

GPU indices are NVML's (PCI bus order); the servers get ``CUDA_DEVICE_ORDER=PCI_BUS_ID``
so that CUDA numbers the GPUs the same way and memory is sampled on the right ones.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from harness.records import Candidate


class FleetError(RuntimeError):
    """A fleet option that cannot work (no Ray, a candidate bigger than the node); one line for the user."""


@dataclass(frozen=True)
class Need:
    candidate: str
    gpus: int


def need_of(cand: Candidate) -> Need:
    """GPUs a candidate occupies on this node: none for an endpoint served elsewhere."""
    return Need(cand.name, 0 if cand.endpoint else cand.gpus)


def too_big(needs: Sequence[Need], node_gpus: int) -> list[Need]:
    return [n for n in needs if n.gpus > node_gpus]


def place(waiting: Sequence[Need], free: Sequence[int]) -> list[tuple[Need, list[int]]]:
    """Start what fits now: (need, GPU indices) for each candidate that gets GPUs, in plan order."""
    left = sorted(free)
    out = []
    for n in waiting:
        if n.gpus <= len(left):
            out.append((n, left[: n.gpus]))
            left = left[n.gpus :]
    return out


def pinned_env(gpu_ids: Sequence[int]) -> dict[str, str]:
    """Environment that pins a server to ``gpu_ids`` (NVML / PCI numbering)."""
    return {"CUDA_DEVICE_ORDER": "PCI_BUS_ID", "CUDA_VISIBLE_DEVICES": ",".join(str(i) for i in gpu_ids)}


def parse_gpus(spec: str, detected: int | None) -> list[int]:
    """``--gpus`` value -> GPU indices: ``auto`` (every GPU NVML sees), a count (``4``) or a list (``0,2,3``).

    Raises ValueError with a one-line message for anything else.
    """
    spec = spec.strip()
    if spec == "auto":
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        if visible:
            return [int(x) for x in visible.split(",") if x.strip().isdigit()]
        if not detected:
            raise ValueError("--gpus auto: no GPU found (NVML); give a count or indices, e.g. --gpus 2")
        return list(range(detected))
    try:
        ids = [int(x) for x in spec.split(",")] if "," in spec else list(range(int(spec)))
    except ValueError:
        raise ValueError(f"--gpus {spec!r}: expected auto, a count such as 4, or indices such as 0,1,3") from None
    if not ids or min(ids) < 0 or len(set(ids)) != len(ids):
        raise ValueError(f"--gpus {spec!r}: expected at least one GPU, no negative or repeated index")
    return ids
