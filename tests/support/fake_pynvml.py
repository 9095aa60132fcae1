"""A fake of the pynvml functions the harness uses, with scripted readings.

Same names and return shapes as ``pynvml`` (nvidia-ml-py): memory info with
``total``/``free``/``used`` in bytes, utilisation with ``gpu``/``memory`` in
percent, power in milliwatts as an int, names as str, and ``NVMLError`` carrying
an NVML error code whose ``str`` is NVML's message. Calls before ``nvmlInit``
(or after ``nvmlShutdown``) raise "Uninitialized", as the real library does.

Each scripted list is consumed one value per call and its last value repeats,
so a test need not know how many samples a thread will take.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

GIB = 1024**3

NVML_SUCCESS = 0
NVML_ERROR_UNINITIALIZED = 1
NVML_ERROR_INVALID_ARGUMENT = 2
NVML_ERROR_NOT_SUPPORTED = 3
NVML_ERROR_LIBRARY_NOT_FOUND = 12

_MESSAGES = {
    NVML_ERROR_UNINITIALIZED: "Uninitialized",
    NVML_ERROR_INVALID_ARGUMENT: "Invalid Argument",
    NVML_ERROR_NOT_SUPPORTED: "Not Supported",
    NVML_ERROR_LIBRARY_NOT_FOUND: "NVML Shared Library Not Found",
}


class NVMLError(Exception):
    """pynvml's error: ``value`` is the NVML return code."""

    def __init__(self, value: int) -> None:
        super().__init__(value)
        self.value = value

    def __str__(self) -> str:
        return _MESSAGES.get(self.value, "Unknown Error")


class NVMLError_NotSupported(NVMLError):  # pynvml's name
    def __init__(self, value: int = NVML_ERROR_NOT_SUPPORTED) -> None:
        super().__init__(value)


class NVMLError_LibraryNotFound(NVMLError):  # pynvml's name
    def __init__(self, value: int = NVML_ERROR_LIBRARY_NOT_FOUND) -> None:
        super().__init__(value)


@dataclass
class c_nvmlMemory_t:  # pynvml's name
    total: int
    free: int
    used: int


@dataclass
class c_nvmlUtilization_t:  # pynvml's name
    gpu: int
    memory: int


class _Script:
    """Values handed out one per call; the last one repeats."""

    def __init__(self, values: Sequence[int]) -> None:
        if not values:
            raise ValueError("a script needs at least one value")
        self.values = list(values)
        self.calls = 0

    def next(self) -> int:
        v = self.values[min(self.calls, len(self.values) - 1)]
        self.calls += 1
        return v


@dataclass
class FakeDevice:
    name: str = "NVIDIA A100-SXM4-80GB"
    total_bytes: int = 80 * GIB
    used_bytes: Sequence[int] = (0,)
    util_gpu_pct: Sequence[int] = (0,)
    util_memory_pct: Sequence[int] = (0,)
    power_mw: Sequence[int] = (60_000,)
    power_supported: bool = True
    compute_capability: tuple[int, int] = (8, 0)
    """CUDA compute capability (major, minor): 8.0 for an A100, 9.0 H100, 7.5 T4, 7.0 V100."""
    scripts: dict[str, _Script] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.scripts = {
            "used": _Script(self.used_bytes),
            "util_gpu": _Script(self.util_gpu_pct),
            "util_memory": _Script(self.util_memory_pct),
            "power": _Script(self.power_mw),
        }


@dataclass(frozen=True)
class c_nvmlDevice_t:  # pynvml's name; an opaque handle
    index: int


class FakeNvml:
    """Stands in for the ``pynvml`` module: pass an instance as ``MemorySampler(nvml=...)``."""

    NVMLError = NVMLError
    NVMLError_NotSupported = NVMLError_NotSupported
    NVMLError_LibraryNotFound = NVMLError_LibraryNotFound
    NVML_ERROR_NOT_SUPPORTED = NVML_ERROR_NOT_SUPPORTED

    def __init__(self, devices: Sequence[FakeDevice] = (), init_error: Exception | None = None) -> None:
        self.devices = list(devices)
        self.init_error = init_error
        self.initialized = False
        self.init_calls = 0
        self.shutdown_calls = 0
        self._lock = threading.Lock()

    def _device(self, handle: c_nvmlDevice_t) -> FakeDevice:
        if not self.initialized:
            raise NVMLError(NVML_ERROR_UNINITIALIZED)
        if not isinstance(handle, c_nvmlDevice_t) or not 0 <= handle.index < len(self.devices):
            raise NVMLError(NVML_ERROR_INVALID_ARGUMENT)
        return self.devices[handle.index]

    def nvmlInit(self) -> None:
        self.init_calls += 1
        if self.init_error is not None:
            raise self.init_error
        self.initialized = True

    def nvmlShutdown(self) -> None:
        if not self.initialized:
            raise NVMLError(NVML_ERROR_UNINITIALIZED)
        self.shutdown_calls += 1
        self.initialized = False

    def nvmlDeviceGetCount(self) -> int:
        if not self.initialized:
            raise NVMLError(NVML_ERROR_UNINITIALIZED)
        return len(self.devices)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> c_nvmlDevice_t:
        handle = c_nvmlDevice_t(index)
        self._device(handle)
        return handle

    def nvmlDeviceGetName(self, handle: c_nvmlDevice_t) -> str:
        return self._device(handle).name

    def nvmlDeviceGetCudaComputeCapability(self, handle: c_nvmlDevice_t) -> tuple[int, int]:
        return self._device(handle).compute_capability

    def nvmlDeviceGetMemoryInfo(self, handle: c_nvmlDevice_t) -> c_nvmlMemory_t:
        dev = self._device(handle)
        with self._lock:
            used = dev.scripts["used"].next()
        return c_nvmlMemory_t(total=dev.total_bytes, free=dev.total_bytes - used, used=used)

    def nvmlDeviceGetUtilizationRates(self, handle: c_nvmlDevice_t) -> c_nvmlUtilization_t:
        dev = self._device(handle)
        with self._lock:
            return c_nvmlUtilization_t(gpu=dev.scripts["util_gpu"].next(), memory=dev.scripts["util_memory"].next())

    def nvmlDeviceGetPowerUsage(self, handle: c_nvmlDevice_t) -> int:
        dev = self._device(handle)
        if not dev.power_supported:
            raise NVMLError_NotSupported()
        with self._lock:
            return int(dev.scripts["power"].next())
