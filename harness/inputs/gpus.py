"""A small table of common serving GPUs for the physical-limit pre-screen.

The roofline pre-screen (``harness.rollup.roofline``) needs three numbers per GPU:
how much memory vLLM can use, how fast that memory streams (decode is bound by
it), and what an hour costs. They live here, in one registry, so adding a GPU is
one entry and nothing else changes.

Sources and what the numbers mean:

* ``memory_gib`` is the total the driver reports (``nvidia-smi --query-gpu=memory.total``),
  not the marketing figure: ECC and firmware reservations make a "24 GB" L4 hold
  22.5 GiB, and vLLM's ``gpu_memory_utilization`` is a fraction of the driver's total.
  ``nominal_gb`` is the marketing figure, used for the memory ladder.
* ``bandwidth_gb_per_s`` is peak memory bandwidth, 1 GB = 1e9 bytes, from the vendor
  spec sheet (NVIDIA data sheets; the A10G, AWS's variant of the A10, from the A10's).
  Decode kernels reach only part of it, typically 70-90%.
* ``price_usd_per_hour`` (per GPU) is a rough on-demand public-cloud ballpark (late 2024 to
  2025, GPU clouds to hyperscalers); prices vary by 2-3x between providers and
  regions, so a plan overrides them with its own (``perf.gpu_prices_usd_per_hour`` or
  ``Candidate.price_per_gpu_hour_usd``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MEMORY_LADDER_GB = (24, 40, 48, 80, 141)
"""The common memory sizes, smallest first; every GPU below sits on one rung."""


@dataclass(frozen=True)
class GPU:
    name: str
    """Registry key, e.g. ``H100-80GB``."""
    nominal_gb: int
    """Memory as marketed (``80`` for an 80 GB card): the ladder rung."""
    memory_gib: float
    """Total memory as the driver reports it, GiB (2**30 bytes)."""
    bandwidth_gb_per_s: float
    """Peak memory bandwidth, vendor spec sheet, GB/s (1e9 bytes/s)."""
    price_usd_per_hour: float
    """USD per GPU-hour, a rough on-demand ballpark; the plan's price overrides it."""
    compute_capability: tuple[int, int]
    """CUDA compute capability (NVIDIA's CUDA GPUs list): bfloat16 is native from 8.0 (Ampere) on."""
    description: str
    aliases: tuple[str, ...] = ()
    """Other spellings ``gpu()`` accepts (compared case- and punctuation-insensitively)."""


def _mib(mib: int) -> float:
    return mib / 1024


# Memory: nvidia-smi memory.total in MiB. Bandwidth: vendor spec sheet.
_TABLE = (
    GPU("L4", 24, _mib(23034), 300, 0.80, (8, 9), "NVIDIA L4, 24 GB GDDR6 (Ada)"),
    GPU("A10G", 24, _mib(23028), 600, 1.00, (8, 6), "NVIDIA A10G, 24 GB GDDR6 (AWS G5)", ("A10",)),
    GPU("RTX4090", 24, _mib(24564), 1008, 0.60, (8, 9), "GeForce RTX 4090, 24 GB GDDR6X", ("4090",)),
    GPU("A100-40GB", 40, _mib(40960), 1555, 1.60, (8, 0), "NVIDIA A100 40 GB HBM2", ("A100-40G",)),
    GPU("L40S", 48, _mib(46068), 864, 1.20, (8, 9), "NVIDIA L40S, 48 GB GDDR6 (Ada)"),
    GPU("A6000", 48, _mib(49140), 768, 0.80, (8, 6), "NVIDIA RTX A6000, 48 GB GDDR6", ("RTX A6000",)),
    GPU("A100-80GB", 80, _mib(81920), 2039, 2.00, (8, 0), "NVIDIA A100 80 GB HBM2e SXM", ("A100-80G",)),
    GPU("H100-80GB", 80, _mib(81559), 3350, 3.00, (9, 0), "NVIDIA H100 80 GB HBM3 SXM", ("H100", "H100-SXM")),
    GPU("H200", 141, _mib(143771), 4800, 4.00, (9, 0), "NVIDIA H200 141 GB HBM3e SXM", ("H200-141GB",)),
)

GPUS: dict[str, GPU] = {g.name: g for g in _TABLE}
"""The registry, by name. Add a GPU by adding an entry to ``_TABLE``."""


def _norm(name: str) -> str:
    return "".join(ch for ch in name.upper() if ch.isalnum())


_LOOKUP: dict[str, GPU] = {_norm(key): g for g in _TABLE for key in (g.name, *g.aliases)}


def gpu(name: str) -> GPU:
    """The GPU called ``name`` (``h100``, ``RTX 4090`` and ``a100-80gb`` all work).

    Raises ValueError naming every known GPU, so a typo in a plan or on the
    command line is fixed from the message alone.
    """
    found = _LOOKUP.get(_norm(name))
    if found is None:
        raise ValueError(f"unknown GPU {name!r}; known GPUs: {', '.join(GPUS)}")
    return found


def by_memory(gpus: Iterable[GPU] | None = None) -> list[GPU]:
    """GPUs up the memory ladder: smallest rung first, the cheaper one first within a rung."""
    return sorted(GPUS.values() if gpus is None else gpus, key=lambda g: (g.nominal_gb, g.price_usd_per_hour))
