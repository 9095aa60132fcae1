"""GPU memory, utilisation and power during a generation phase (NVML), or host memory without NVML.

:class:`MemorySampler` is a context manager around a candidate's generation
phase. A background thread reads every GPU through NVML (``pynvml``, from the
``nvidia-ml-py`` package) every ``interval_s`` and, when server pids are given,
the resident memory of each server's whole process tree (vLLM spawns an engine
core and workers, so the tree is listed again at every sample). Samples are kept
raw; :func:`summarize` turns them into a :class:`MemorySummary` and is pure.

Without NVML (no driver, no GPU, e.g. the CPU build of vLLM) the sampler says so
in ``note`` and measures host memory of the server process tree instead. Every
NVML call is guarded on its own: a metric a GPU does not support (power on some
boards) becomes None for that metric, and the reason is kept in ``errors``.
NVML indices follow PCI order, not ``CUDA_VISIBLE_DEVICES``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from statistics import fmean
from typing import Any, Literal, TypeVar

import psutil

from harness.perf_records import GpuSummary, MemorySummary
from harness.run.perf.periodic import Periodic

GIB = 1024**3
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class GpuReading:
    """One GPU at one instant; None where NVML could not give the value."""

    index: int
    used_bytes: int | None
    total_bytes: int | None
    util_pct: float | None
    power_w: float | None


@dataclass(frozen=True, slots=True)
class Sample:
    t_s: float
    """Seconds since the sampler started (monotonic clock)."""
    gpus: tuple[GpuReading, ...] = ()
    host_rss_bytes: int | None = None
    """Sum of the resident memory of the server process trees; None without pids."""


def _agg(fn: Callable[[list[float]], float], values: Iterable[float | None]) -> float | None:
    """``fn`` of the known values; None when none is known."""
    vals = [v for v in values if v is not None]
    return fn(vals) if vals else None


def _gib(b: float | None) -> float | None:
    return None if b is None else b / GIB


def trapezoid_j(points: Sequence[tuple[float, float]]) -> float | None:
    """Integral of (t_s, power_w) points by the trapezoid rule, in joules; None without points."""
    if not points:
        return None
    return sum((p0 + p1) / 2 * (t1 - t0) for (t0, p0), (t1, p1) in pairwise(points))


def summarize(
    samples: Sequence[Sample],
    *,
    source: Literal["nvml", "host"],
    names: dict[int, str] | None = None,
    note: str | None = None,
    errors: Sequence[str] = (),
) -> MemorySummary:
    """Peaks, means and energy of raw samples (pure).

    Means are plain means over the samples that have the value (the sampler's
    interval is regular). Energy integrates only the samples that have a power
    reading, so one failed read bridges its neighbours instead of counting zero.
    """
    names = names or {}
    duration = samples[-1].t_s - samples[0].t_s if samples else 0.0
    indices = sorted({g.index for s in samples for g in s.gpus} | set(names))
    gpus = []
    for i in indices:
        rows = [(s.t_s, g) for s in samples for g in s.gpus if g.index == i]
        power = [(t, g.power_w) for t, g in rows if g.power_w is not None]
        gpus.append(
            GpuSummary(
                index=i,
                name=names.get(i, f"GPU {i}"),
                total_gib=_gib(_agg(max, [g.total_bytes for _, g in rows])),
                peak_used_gib=_gib(_agg(max, [g.used_bytes for _, g in rows])),
                mean_util_pct=_agg(fmean, [g.util_pct for _, g in rows]),
                mean_power_w=_agg(fmean, [p for _, p in power]),
                energy_j=trapezoid_j(power),
            )
        )
    used_sums = [_agg(sum, (g.used_bytes for g in s.gpus)) for s in samples]

    return MemorySummary(
        source=source,
        duration_s=duration,
        samples=len(samples),
        gpus=gpus,
        total_gib=_agg(sum, [g.total_gib for g in gpus]),
        peak_used_gib=_gib(_agg(max, used_sums)),
        mean_power_w=_agg(sum, [g.mean_power_w for g in gpus]),
        energy_j=_agg(sum, [g.energy_j for g in gpus]),
        peak_rss_gib=_gib(_agg(max, [s.host_rss_bytes for s in samples])),
        mean_rss_gib=_gib(_agg(fmean, [s.host_rss_bytes for s in samples])),
        note=note,
        errors=list(errors),
    )


def tree_rss_bytes(pids: Iterable[int]) -> int | None:
    """Resident memory of each pid and all its descendants, listed now; None when none is alive."""
    seen: dict[int, int] = {}
    for pid in pids:
        try:
            root = psutil.Process(pid)
            procs = [root, *root.children(recursive=True)]
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        for p in procs:
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                seen.setdefault(p.pid, p.memory_info().rss)
    return sum(seen.values()) if seen else None


class MemorySampler(Periodic):
    """Samples GPUs (or host memory) in a thread while the ``with`` block runs.

    ``nvml`` injects a module with pynvml's functions (tests pass a fake);
    by default ``pynvml`` is imported here, when the sampler starts.
    """

    thread_name = "memory-sampler"

    def __init__(
        self,
        gpu_indices: Sequence[int] | None = None,
        pids: Sequence[int] = (),
        interval_s: float = 0.5,
        nvml: Any = None,
    ) -> None:
        super().__init__(interval_s)
        self.gpu_indices = list(gpu_indices) if gpu_indices is not None else None
        self.pids = list(pids)
        self._nvml_arg = nvml
        self._nvml: Any = None
        self._nvml_error: type[BaseException] = Exception
        self._handles: dict[int, Any] = {}
        self.names: dict[int, str] = {}
        self.note: str | None = None
        self._errors: list[str] = []
        self._samples: list[Sample] = []

    @property
    def source(self) -> Literal["nvml", "host"]:
        return "nvml" if self._nvml is not None else "host"

    @property
    def samples(self) -> list[Sample]:
        with self._lock:
            return list(self._samples)

    def _error(self, what: str, exc: BaseException) -> None:
        msg = f"{what}: {exc or type(exc).__name__}"
        with self._lock:
            if msg not in self._errors:
                self._errors.append(msg)

    def _open_nvml(self) -> None:
        """Initialise NVML and find the devices; on failure leave ``_nvml`` None and say why in ``note``."""
        try:
            nvml = self._nvml_arg
            if nvml is None:
                import pynvml  # here, not at the top: a machine without the package still imports the harness

                nvml = pynvml
            nvml.nvmlInit()
        except Exception as exc:  # ImportError, NVMLError (no driver), OSError
            self._fall_back(f"no NVML ({type(exc).__name__}: {exc})")
            return
        self._nvml_error = nvml.NVMLError
        try:
            indices = self.gpu_indices if self.gpu_indices is not None else range(nvml.nvmlDeviceGetCount())
            for i in indices:
                try:
                    handle = nvml.nvmlDeviceGetHandleByIndex(i)
                except self._nvml_error as exc:
                    self._error(f"GPU {i} handle", exc)
                    continue
                self._handles[i] = handle
                name = self._call(nvml.nvmlDeviceGetName, handle, f"GPU {i} name")
                self.names[i] = name.decode() if isinstance(name, bytes) else str(name or f"GPU {i}")
        except self._nvml_error as exc:
            self._error("device count", exc)
        if not self._handles:
            with contextlib.suppress(Exception):
                nvml.nvmlShutdown()
            self._fall_back("NVML found no usable GPU")
            return
        self._nvml = nvml

    def _fall_back(self, reason: str) -> None:
        what = "measured host memory of the server process tree" if self.pids else "no server pid to measure either"
        self.note = f"{reason}; {what}"

    def _call(self, fn: Callable[[Any], T], handle: Any, what: str) -> T | None:
        try:
            return fn(handle)
        except self._nvml_error as exc:
            self._error(what, exc)
            return None

    def _read_gpu(self, i: int, handle: Any) -> GpuReading:
        nvml = self._nvml
        mem = self._call(nvml.nvmlDeviceGetMemoryInfo, handle, f"GPU {i} memory")
        util = self._call(nvml.nvmlDeviceGetUtilizationRates, handle, f"GPU {i} utilization")
        power_mw = self._call(nvml.nvmlDeviceGetPowerUsage, handle, f"GPU {i} power")
        return GpuReading(
            index=i,
            used_bytes=int(mem.used) if mem is not None else None,
            total_bytes=int(mem.total) if mem is not None else None,
            util_pct=float(util.gpu) if util is not None else None,
            power_w=power_mw / 1000.0 if power_mw is not None else None,
        )

    def sample_once(self) -> Sample:
        """Take one sample now and keep it."""
        gpus = tuple(self._read_gpu(i, h) for i, h in self._handles.items()) if self._nvml is not None else ()
        rss = tree_rss_bytes(self.pids) if self.pids else None
        s = Sample(t_s=self._elapsed_s(), gpus=gpus, host_rss_bytes=rss)
        with self._lock:
            self._samples.append(s)
        return s

    def take(self) -> Sample:
        return self.sample_once()

    def _open(self) -> None:
        self._open_nvml()

    def _on_error(self, exc: Exception) -> None:
        self._error("sample", exc)

    def _close(self) -> None:
        if self._nvml is not None:
            with contextlib.suppress(Exception):
                self._nvml.nvmlShutdown()

    def summary(self) -> MemorySummary:
        with self._lock:
            errors = list(self._errors)
        return summarize(self.samples, source=self.source, names=self.names, note=self.note, errors=errors)
