"""`make gpu-check`: the harness's NVML sampler and dtype choice against a real GPU, checked with nvidia-smi.

Needs only PyTorch (CUDA build), nvidia-ml-py and the harness: no vLLM. While a decode-shaped torch
workload runs on one GPU (batched matrix-vector products shaped like a ~1.1B model's decode step,
TinyLlama's shape: 22 layers, hidden 2048, MLP 5632, a batch of 16 sequences; each step is 16 "tokens"),

- the harness's :class:`harness.run.perf.nvml.MemorySampler` reads memory and power through NVML,
  and :func:`harness.rollup.perf_summary.energy_per_token_j` turns its energy into joules per token;
- ``nvidia-smi --query-gpu=memory.used,power.draw --format=csv`` is sampled alongside;
- the harness's dtype choice (:func:`harness.dtype.choose_dtype` on :func:`harness.hardware.host_facts`)
  is set against what torch says of the same GPU (compute capability, bfloat16 support), and the
  workload runs in the dtype the harness chose.

It prints one table (figure, harness, nvidia-smi or torch, verdict) and exits 0 when every figure
agrees within its tolerance, 1 when one does not, 2 without a GPU (one line saying so). Under a minute
with the default ``--seconds 20``. The readings are pure functions of the samples (:func:`compare`), so
``scripts/tests/test_gpu_check.py`` runs the whole script against ``tests/support/fake_pynvml.FakeNvml``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the harness, run from a checkout

from harness.dtype import DtypeChoice, choose_dtype
from harness.hardware import host_facts, visible_gpu_ids
from harness.perf_records import MemorySummary
from harness.rollup.perf_summary import energy_per_token_j
from harness.run.perf.nvml import MemorySampler, trapezoid_j
from harness.run.perf.periodic import Periodic

EXIT_OK, EXIT_MISMATCH, EXIT_NO_GPU = 0, 1, 2
GIB = 1024**3
MIB_PER_GIB = 1024
MEMORY_TOLERANCE_GIB = 0.25
"""Peak memory used: NVML and nvidia-smi read the same counter; they may differ by what was allocated
between two samples of each (a quarter GiB is ample for this workload, which allocates once)."""
POWER_TOLERANCE = 0.15
"""Mean power and energy per token: relative. Power changes within a sampling interval and the two
samplers read at different instants; 15 % separates a real disagreement (a wrong unit: mW against W,
a wrong GPU) from sampling noise."""


@dataclass(frozen=True)
class TorchFacts:
    """What torch says of the GPU the workload runs on."""

    available: bool
    name: str = ""
    capability: tuple[int, int] | None = None
    bf16_supported: bool | None = None


def torch_facts() -> TorchFacts:
    """torch's view of ``cuda:0``; ``available`` False without torch's CUDA or a GPU."""
    try:
        import torch
    except ImportError:
        return TorchFacts(False)
    if not torch.cuda.is_available():
        return TorchFacts(False)
    major, minor = torch.cuda.get_device_capability(0)
    try:  # torch >= 2.3 counts emulated bfloat16 (a T4) as supported unless told not to
        bf16 = torch.cuda.is_bf16_supported(including_emulation=False)
    except TypeError:
        bf16 = torch.cuda.is_bf16_supported()
    return TorchFacts(True, torch.cuda.get_device_name(0), (int(major), int(minor)), bool(bf16))


@dataclass(frozen=True)
class WorkloadResult:
    tokens: int
    """Sequences x decode steps run."""
    seconds: float
    allocated_gib: float | None = None
    """torch's peak allocation (``max_memory_allocated``): the tensors alone, without the CUDA context."""


def decode_workload(dtype: str, seconds: float, layers: int = 22, hidden: int = 2048, mlp: int = 5632,
                    batch: int = 16) -> WorkloadResult:  # fmt: skip
    """Decode-shaped matmuls on ``cuda:0`` for ``seconds``: per step, each layer's attention projections
    (``batch x hidden`` by ``hidden x 4 hidden``, as Q, K, V, O) and gated MLP (``hidden x 2 mlp``, ``mlp x
    hidden``); every weight is read once per step, as in decode. A step is ``batch`` tokens."""
    import torch

    kind = getattr(torch, dtype)
    dev = torch.device("cuda:0")
    torch.manual_seed(0)
    weights = [(torch.randn(hidden, 4 * hidden, device=dev, dtype=kind) * 0.01,
                torch.randn(hidden, 2 * mlp, device=dev, dtype=kind) * 0.01,
                torch.randn(mlp, hidden, device=dev, dtype=kind) * 0.01) for _ in range(layers)]  # fmt: skip
    x = torch.randn(batch, hidden, device=dev, dtype=kind)
    tokens, start = 0, time.monotonic()
    with torch.inference_mode():
        while time.monotonic() - start < seconds:
            h = x
            for attn, up, down in weights:
                h = h + (h @ attn)[:, :hidden]
                gate, value = (h @ up).chunk(2, dim=-1)
                h = h + (torch.nn.functional.silu(gate) * value) @ down
            torch.cuda.synchronize()
            tokens += batch
    took = time.monotonic() - start
    return WorkloadResult(tokens, took, torch.cuda.max_memory_allocated(dev) / GIB)


def parse_smi(text: str) -> tuple[float | None, float | None]:
    """``memory.used`` (MiB) and ``power.draw`` (W) of ``nvidia-smi --query-gpu=memory.used,power.draw
    --format=csv,noheader,nounits`` (one GPU): (GiB, W); ``[N/A]`` or ``[Not Supported]`` is None."""
    cells = [c.strip() for c in text.strip().splitlines()[0].split(",")]

    def number(cell: str) -> float | None:
        try:
            return float(cell)
        except ValueError:
            return None

    used_mib, power_w = (number(c) for c in cells[:2])
    return (used_mib / MIB_PER_GIB if used_mib is not None else None), power_w


def query_smi(index: int) -> tuple[float | None, float | None]:
    """One nvidia-smi reading of GPU ``index`` (NVML's PCI order, as nvidia-smi's ``-i``)."""
    out = subprocess.run(
        ["nvidia-smi", "-i", str(index), "--query-gpu=memory.used,power.draw", "--format=csv,noheader,nounits"],
        capture_output=True, text=True, timeout=10, check=True,
    )  # fmt: skip
    return parse_smi(out.stdout)


class SmiSampler(Periodic):
    """nvidia-smi read on the same life cycle as the harness's sampler (on entry, every interval, on exit)."""

    thread_name = "nvidia-smi-sampler"

    def __init__(self, query: Callable[[], tuple[float | None, float | None]], interval_s: float = 0.5) -> None:
        super().__init__(interval_s)
        self.query = query
        self.readings: list[tuple[float, float | None, float | None]] = []
        """(seconds since start, GiB used, W)."""

    def take(self) -> object:
        used, power = self.query()
        with self._lock:
            self.readings.append((self._elapsed_s(), used, power))
        return used, power


@dataclass(frozen=True)
class Row:
    figure: str
    harness: str
    other: str
    """nvidia-smi's reading, or torch's."""
    verdict: str
    """``ok``, ``MISMATCH``, or ``–`` (nothing to compare)."""


def _fmt(value: float | None, digits: int) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _within(a: float | None, b: float | None, *, absolute: float | None = None, relative: float | None = None) -> str:
    if a is None or b is None:
        return "–"
    limit = absolute if absolute is not None else (relative or 0.0) * max(abs(a), abs(b))
    return "ok" if abs(a - b) <= limit else "MISMATCH"


def compare(summary: MemorySummary, smi: Sequence[tuple[float, float | None, float | None]], work: WorkloadResult,
            choice: DtypeChoice, torch_view: TorchFacts) -> list[Row]:  # fmt: skip
    """The table's rows (pure): the harness's readings against nvidia-smi's and torch's.

    Peak memory: the sampler's ``peak_used_gib`` against the highest nvidia-smi ``memory.used``
    (:data:`MEMORY_TOLERANCE_GIB`). Mean power: the sampler's ``mean_power_w`` against the mean of
    nvidia-smi's ``power.draw`` (:data:`POWER_TOLERANCE`). Energy per token: the sampler's energy (trapezoid
    over its samples) / tokens against nvidia-smi's power integrated the same way / tokens. dtype: the
    harness's choice against torch's bfloat16 support (bfloat16 exactly when torch supports it).
    """
    used = [u for _, u, _ in smi if u is not None]
    power = [(t, p) for t, _, p in smi if p is not None]
    smi_peak = max(used) if used else None
    smi_power = sum(p for _, p in power) / len(power) if power else None
    smi_energy = trapezoid_j(power) if len(power) > 1 else None
    harness_j = energy_per_token_j(summary.energy_j, work.tokens)
    smi_j = energy_per_token_j(smi_energy, work.tokens)
    gpu = summary.gpus[0] if summary.gpus else None
    cc = ".".join(map(str, torch_view.capability)) if torch_view.capability else "–"
    facts = choice.basis.get("gpus") or [{}]
    nvml_cc = facts[0].get("compute_capability")
    want = "bfloat16" if torch_view.bf16_supported else "float16"
    return [
        Row("GPU", gpu.name if gpu else "–", torch_view.name or "–",  # another name: NVML watches another GPU
            "ok" if gpu and gpu.name == torch_view.name else "MISMATCH"),
        Row("compute capability", ".".join(map(str, nvml_cc)) if nvml_cc else "–", cc,
            "ok" if nvml_cc and torch_view.capability and tuple(nvml_cc) == torch_view.capability else "MISMATCH"),
        Row("dtype (auto)", choice.dtype, f"bf16 supported: {torch_view.bf16_supported}",
            "ok" if choice.dtype == want else "MISMATCH"),
        Row("peak memory used (GiB)", _fmt(summary.peak_used_gib, 2), _fmt(smi_peak, 2),
            _within(summary.peak_used_gib, smi_peak, absolute=MEMORY_TOLERANCE_GIB)),
        Row("torch allocated, peak (GiB)", "–", _fmt(work.allocated_gib, 2), "–"),
        Row("mean power (W)", _fmt(summary.mean_power_w, 1), _fmt(smi_power, 1),
            _within(summary.mean_power_w, smi_power, relative=POWER_TOLERANCE)),
        Row("energy (J / token)", _fmt(harness_j, 4), _fmt(smi_j, 4),
            _within(harness_j, smi_j, relative=POWER_TOLERANCE)),
        Row("decode tokens / s", _fmt(work.tokens / work.seconds if work.seconds else None, 0), "–", "–"),
        Row("samples", str(summary.samples), str(len(smi)), "–"),
    ]  # fmt: skip


def format_table(rows: Sequence[Row]) -> str:
    head = f"{'figure':30s}{'harness':>26s}{'nvidia-smi / torch':>30s}{'':>3s}verdict"
    lines = [head, "-" * len(head)]
    lines += [f"{r.figure:30s}{r.harness:>26s}{r.other:>30s}{'':>3s}{r.verdict}" for r in rows]
    return "\n".join(lines)


def run_check(
    seconds: float,
    *,
    nvml: Any = None,
    smi: Callable[[int], tuple[float | None, float | None]] = query_smi,
    workload: Callable[[str, float], WorkloadResult] = decode_workload,
    facts: Callable[[], TorchFacts] = torch_facts,
    interval_s: float = 0.5,
) -> tuple[list[Row] | None, str | None]:
    """The table's rows, or (None, why) without a GPU. ``nvml``, ``smi``, ``workload`` and ``facts`` stand in
    for pynvml, nvidia-smi, the torch workload and torch's view in tests."""
    view = facts()
    if not view.available:
        return None, "no GPU: torch sees no CUDA device (a CPU build of torch, or no NVIDIA driver)"
    visible = visible_gpu_ids(os.environ)
    index = visible[0] if visible else 0  # cuda:0 is the first visible GPU; NVML and nvidia-smi count all
    host = host_facts([index], nvml=nvml)
    if host.device != "gpu":
        return None, f"no GPU: NVML sees no GPU {index} (is nvidia-ml-py installed and the driver loaded?)"
    choice = choose_dtype("auto", host)
    sampler = MemorySampler(gpu_indices=[index], interval_s=interval_s, nvml=nvml)
    smi_sampler = SmiSampler(lambda: smi(index), interval_s)
    with sampler, smi_sampler:
        work = workload(choice.dtype, seconds)
    return compare(sampler.summary(), smi_sampler.readings, work, choice, view), None


def main(argv: Sequence[str] | None = None, **parts: Any) -> int:
    """``parts``: :func:`run_check`'s stand-ins (tests)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the workload runs (default 20)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    rows, why = run_check(args.seconds, **parts)
    if rows is None:
        print(f"gpu-check: {why}; run it on a machine with an NVIDIA GPU", file=sys.stderr)
        return EXIT_NO_GPU
    print(format_table(rows))
    bad = [r.figure for r in rows if r.verdict == "MISMATCH"]
    verdict = f"disagree: {', '.join(bad)}" if bad else "every figure agrees"
    print(f"({time.monotonic() - started:.0f} s; {verdict})")
    return EXIT_MISMATCH if bad else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
