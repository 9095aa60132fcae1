"""Which dtype a candidate is served in: what the hardware computes natively.

vLLM's own ``--dtype auto`` takes the checkpoint's ``torch_dtype`` (bfloat16 for
nearly every current model). That is right on a GPU of compute capability 8.0 or
later and on a CPU with AVX512_BF16 or AMX, and very wrong elsewhere: on an
AVX2-only CPU, bfloat16 matrix products run on an emulated path (measured on an
AMD EPYC without AVX-512: 0.8 GFLOP/s in bfloat16 against 31.8 in float32 on one
core; SmolLM2-135M served 17.6 output tok/s in bfloat16 and 73.9 in float32),
and pre-Ampere GPUs (V100, T4: compute capability 7.x) refuse bfloat16.

So a plan's ``dtype: auto`` is resolved here, before the server starts, and the
resolved name is what ``--dtype`` receives:

* CPU: ``bfloat16`` when the CPU has AVX512_BF16 or AMX-BF16 (x86) or BF16 (Arm),
  else ``float32``.
* GPU: ``bfloat16`` on compute capability >= 8.0, else ``float16`` -- but never
  float16 for a model family that overflows in it (vLLM's
  ``_FLOAT16_NOT_SUPPORTED_MODELS``: Gemma 2/3, GLM-4); those stay float32
  on a pre-Ampere GPU.

* A checkpoint quantized with a method whose kernels take 16-bit activations only (AWQ, GPTQ:
  vLLM refuses float32 for them, "torch.float32 is not supported for quantization method awq")
  is served in ``bfloat16`` where float32 would be picked (emulated on an AVX2-only CPU: slower,
  but served), ``float16`` on a GPU without bfloat16.

An explicit dtype in the plan is kept; :attr:`DtypeChoice.warning` says when it is
emulated (or refused) on this hardware. The host facts are gathered by
:func:`host_facts` (I/O) and the choice is the pure :func:`choose_dtype`, so tests
fake the facts the way ``tests/support/fake_pynvml.py`` fakes NVML.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.hardware import CPU_BF16_FLAGS, GpuFacts, HostFacts, cpu_bf16_native, host_facts, visible_gpu_ids

HALF_ONLY_QUANT_METHODS = frozenset({"awq", "awq_marlin", "gptq", "gptq_marlin", "marlin"})
"""``quantization_config.quant_method`` values whose vLLM kernels accept float16/bfloat16 only
(vLLM 0.32's ``get_supported_act_dtypes`` of AWQ and GPTQ: ``[torch.half, torch.bfloat16]``)."""
FLOAT16_UNSAFE_MODEL_TYPES = frozenset({"gemma2", "gemma3", "gemma3_text", "glm4"})
"""Model families that overflow in float16: vLLM 0.32 ``config/model.py`` ``_FLOAT16_NOT_SUPPORTED_MODELS``."""
BF16_MIN_COMPUTE_CAPABILITY = (8, 0)
"""bfloat16 tensor cores start with Ampere (A100: 8.0); vLLM refuses bfloat16 below it."""
DTYPE_ALIASES = {"half": "float16", "float": "float32", "bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}
KNOWN_DTYPES = ("auto", "bfloat16", "float16", "float32", *DTYPE_ALIASES)
"""What ``vllm.dtype`` accepts (vLLM's ``--dtype`` choices and their short spellings)."""
DTYPE_BYTES = {"bfloat16": 2, "float16": 2, "float32": 4}


@dataclass(frozen=True)
class DtypeChoice:
    """The dtype a server is started with, and why."""

    requested: str
    """As written in the plan (``auto`` by default)."""
    dtype: str
    """What ``--dtype`` receives: ``bfloat16``, ``float16`` or ``float32``."""
    reason: str
    """One sentence naming the hardware fact behind the choice."""
    warning: str | None = None
    """Set when an explicit dtype is emulated or refused on this hardware."""
    basis: dict[str, Any] = field(default_factory=dict)
    """:meth:`HostFacts.describe` of the host the choice was made on."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def normalise(dtype: str) -> str:
    """``half`` -> ``float16`` etc.; ValueError for a name vLLM does not accept."""
    name = dtype.strip().lower().removeprefix("torch.")
    name = DTYPE_ALIASES.get(name, name)
    if name not in KNOWN_DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; use one of auto, bfloat16, float16, float32")
    return name


def _min_capability(gpus: tuple[GpuFacts, ...]) -> tuple[int, int] | None:
    known = [g.compute_capability for g in gpus if g.compute_capability is not None]
    return min(known) if known else None


def native_dtypes(host: HostFacts) -> tuple[str, ...]:
    """The dtypes this host computes natively, best first."""
    if host.device == "cpu":
        return ("bfloat16", "float32") if cpu_bf16_native(host.cpu_flags) else ("float32",)
    cc = _min_capability(host.gpus)
    if cc is None or cc >= BF16_MIN_COMPUTE_CAPABILITY:
        return ("bfloat16", "float16", "float32")
    return ("float16", "float32")


def _hardware(host: HostFacts) -> str:
    if host.device == "cpu":
        has = [f.upper() for f in CPU_BF16_FLAGS if f in host.cpu_flags]
        what = f"with {'/'.join(has)}" if has else "without AVX512_BF16 or AMX"
        return f"CPU {host.cpu_model or platform.machine()} {what}".replace("  ", " ")
    cc = _min_capability(host.gpus)
    names = ", ".join(sorted({g.name for g in host.gpus})) or "GPU"
    return f"{names} (compute capability {cc[0]}.{cc[1]})" if cc else f"{names} (compute capability unknown)"


def choose_dtype(
    requested: str,
    host: HostFacts,
    model_type: str | None = None,
    checkpoint_dtype: str | None = None,
    quant_method: str | None = None,
) -> DtypeChoice:
    """Resolve a plan's ``vllm.dtype`` for ``host``.

    ``model_type``, ``checkpoint_dtype`` and ``quant_method`` are the checkpoint's ``config.json``
    fields (``model_type``, ``torch_dtype``, ``quantization_config.quant_method``); a float16
    checkpoint stays float16 where float16 is native (converting it to bfloat16 would drop
    mantissa bits). Raises ValueError for an unknown dtype name. See the module docstring.
    """
    want = normalise(requested)
    hw = _hardware(host)
    basis = host.describe()
    native = native_dtypes(host)
    if want != "auto":
        warning = None
        if want not in native:
            slow = (
                "refused by vLLM" if host.device == "gpu" and want == "bfloat16" else "emulated, several times slower"
            )
            warning = f"dtype {want} is not native on this {hw}: {slow}; dtype: auto would serve {native[0]}"
        return DtypeChoice(requested, want, f"set in the plan ({want})", warning, basis)
    pick = native[0]
    if pick == "float32" and (quant_method or "").lower() in HALF_ONLY_QUANT_METHODS:
        half = "float16" if host.device == "gpu" else "bfloat16"
        why = f"auto: {quant_method} runs in 16-bit only; {hw} has no native {half} (emulated, slower)"
        return DtypeChoice(requested, half, why, None, basis)
    try:
        stored = normalise(checkpoint_dtype) if checkpoint_dtype else None
    except ValueError:
        stored = None
    if stored == "float16" and "float16" in native:
        return DtypeChoice(requested, "float16", f"auto: the checkpoint is float16, native on this {hw}", None, basis)
    if pick == "float16" and model_type in FLOAT16_UNSAFE_MODEL_TYPES:
        return DtypeChoice(
            requested, "float32", f"auto: {hw} has no bfloat16 and {model_type} overflows in float16", None, basis
        )
    why = {
        "bfloat16": "computes bfloat16 natively",
        "float32": "has no native bfloat16 (it would be emulated)",
        "float16": "has no bfloat16; float16 is native",
    }[pick]
    return DtypeChoice(requested, pick, f"auto: {hw} {why}", None, basis)


def checkpoint_model_type(config: Mapping[str, Any] | None) -> str | None:
    """``model_type`` of a ``config.json`` (the text model's, for a multimodal one)."""
    if not config:
        return None
    text = config.get("text_config")
    if isinstance(text, Mapping) and text.get("model_type"):
        return str(text["model_type"])
    mt = config.get("model_type")
    return str(mt) if mt else None


def read_checkpoint_config(model_ref: str) -> dict[str, Any] | None:
    """The ``config.json`` of a local model folder; None for a hub id or an unreadable file."""
    path = Path(model_ref) / "config.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def served_dtype(requested: str, model_ref: str, env: Mapping[str, str], nvml: Any = None) -> DtypeChoice:
    """:func:`choose_dtype` for a server about to start on this host with environment ``env``."""
    config = read_checkpoint_config(model_ref)
    host = host_facts(visible_gpu_ids(env), nvml)
    return choose_dtype(
        requested, host, checkpoint_model_type(config), checkpoint_dtype(config), checkpoint_quant_method(config)
    )


def checkpoint_quant_method(config: Mapping[str, Any] | None) -> str | None:
    """``quantization_config.quant_method`` of a ``config.json`` (``awq``, ``gptq``...); None when unquantized."""
    quant = (config or {}).get("quantization_config")
    method = quant.get("quant_method") if isinstance(quant, Mapping) else None
    return str(method) if method else None


def checkpoint_dtype(config: Mapping[str, Any] | None) -> str | None:
    """``torch_dtype`` (or ``dtype``) of a ``config.json``, the text model's for a multimodal one."""
    if not config:
        return None
    text = config.get("text_config")
    found = config.get("torch_dtype") or config.get("dtype")
    if not found and isinstance(text, Mapping):
        found = text.get("torch_dtype") or text.get("dtype")
    return str(found) if found else None


def dtype_on_gpu(requested: str, config: Mapping[str, Any] | None) -> Callable[[Any], str]:
    """``gpu -> dtype``: what a model (its ``config.json``) is served in on a GPU of the registry
    (:mod:`harness.inputs.gpus`: ``name`` and ``compute_capability``), for memory and roofline estimates."""
    model_type, stored, quant = checkpoint_model_type(config), checkpoint_dtype(config), checkpoint_quant_method(config)

    def on(gpu: Any) -> str:
        host = HostFacts("gpu", gpus=(GpuFacts(gpu.name, gpu.compute_capability),))
        return choose_dtype(requested, host, model_type, stored, quant).dtype

    return on
