"""The host a server runs on: CPU model and flags, GPUs and their compute capability.

I/O only (``/proc/cpuinfo``, NVML); what follows from the facts (the dtype) is
decided in :mod:`harness.dtype`. ``nvml`` parameters stand in for the ``pynvml``
module, so tests pass ``tests/support/fake_pynvml.FakeNvml`` and a GPU machine the real one.
"""

from __future__ import annotations

import importlib
import platform
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16", "bf16")
"""``/proc/cpuinfo`` flags of a CPU with native bfloat16 arithmetic: x86 AVX512_BF16 and AMX-BF16, Arm BF16."""
CPU_FLAGS_SHOWN = ("avx2", "avx512f", "avx512_bf16", "avx512_fp16", "amx_bf16", "amx_tile", "bf16", "asimd")
"""The flags recorded in the manifest: the ones the dtype choice and CPU kernels depend on."""


@dataclass(frozen=True)
class GpuFacts:
    name: str
    compute_capability: tuple[int, int] | None
    """(major, minor) from NVML ``nvmlDeviceGetCudaComputeCapability``; None when NVML does not say."""


@dataclass(frozen=True)
class HostFacts:
    """What the dtype choice depends on: the device a server runs on and what it computes natively."""

    device: Literal["cpu", "gpu"]
    cpu_model: str = ""
    cpu_flags: frozenset[str] = field(default_factory=frozenset)
    """Lower-case ``/proc/cpuinfo`` flags (x86 ``flags``, Arm ``Features``)."""
    gpus: tuple[GpuFacts, ...] = ()
    """The GPUs the server is pinned to (all visible ones when not pinned)."""

    def describe(self) -> dict[str, Any]:
        """The facts as recorded in the manifest: the CPU model and its relevant flags, or the GPUs."""
        if self.device == "gpu":
            return {"device": "gpu", "gpus": [asdict(g) for g in self.gpus]}
        return {
            "device": "cpu",
            "cpu_model": self.cpu_model,
            "cpu_flags": sorted(f for f in self.cpu_flags if f in CPU_FLAGS_SHOWN),
        }


def cpu_bf16_native(flags: Iterable[str]) -> bool:
    return any(f in CPU_BF16_FLAGS for f in flags)


def read_cpuinfo(text: str) -> tuple[str, frozenset[str]]:
    """CPU model name and flags from the text of ``/proc/cpuinfo`` (x86 and Arm layouts)."""
    model, flags = "", set[str]()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key in ("model name", "hardware", "cpu model") and not model:
            model = value.strip()
        elif key in ("flags", "features") and not flags:
            flags = set(value.lower().split())
    return model, frozenset(flags)


def cpu_facts(cpuinfo: Path = Path("/proc/cpuinfo")) -> HostFacts:
    try:
        model, flags = read_cpuinfo(cpuinfo.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        model, flags = platform.processor(), frozenset()
    return HostFacts("cpu", model or platform.processor() or platform.machine(), flags)


def gpu_facts(nvml: Any = None, indices: Iterable[int] | None = None) -> tuple[GpuFacts, ...]:
    """The GPUs NVML sees (``indices`` only, when given); empty without NVML or GPUs."""
    wanted = None if indices is None else set(indices)
    return tuple(
        GpuFacts(g["name"], g["compute_capability"]) for g in gpu_info(nvml) if wanted is None or g["index"] in wanted
    )


def host_facts(gpu_ids: Iterable[int] | None = None, nvml: Any = None) -> HostFacts:
    """The GPUs a server would run on (``gpu_ids``, else all), or this CPU when NVML sees none."""
    gpus = gpu_facts(nvml, gpu_ids)
    if gpus:
        cpu = cpu_facts()
        return HostFacts("gpu", cpu.cpu_model, cpu.cpu_flags, gpus)
    return cpu_facts()


def gpu_info(nvml: Any = None) -> list[dict[str, Any]]:
    """GPUs seen by NVML (index, name, memory_gib, compute_capability); empty on machines without NVML.

    ``nvml`` stands in for the ``pynvml`` module (tests pass ``tests/support/fake_pynvml.FakeNvml``).
    """
    if nvml is None:
        try:
            nvml = importlib.import_module("pynvml")
        except ImportError:
            return []
    try:
        nvml.nvmlInit()
    except Exception:
        return []
    try:
        out = []
        for i in range(nvml.nvmlDeviceGetCount()):
            h = nvml.nvmlDeviceGetHandleByIndex(i)
            name = nvml.nvmlDeviceGetName(h)
            mem = nvml.nvmlDeviceGetMemoryInfo(h)
            try:
                major, minor = nvml.nvmlDeviceGetCudaComputeCapability(h)
                cc: tuple[int, int] | None = (int(major), int(minor))
            except Exception:
                cc = None
            out.append(
                {
                    "index": i,
                    "name": name if isinstance(name, str) else name.decode(),
                    "memory_gib": mem.total / 2**30,
                    "compute_capability": cc,
                }
            )
        return out
    finally:
        nvml.nvmlShutdown()


def visible_gpu_ids(env: Mapping[str, str]) -> list[int] | None:
    """GPU indices named by ``CUDA_VISIBLE_DEVICES`` (None: unset, or given as UUIDs -> every GPU)."""
    value = env.get("CUDA_VISIBLE_DEVICES")
    if value is None:
        return None
    try:
        return [int(x) for x in value.split(",") if x.strip()]
    except ValueError:
        return None
