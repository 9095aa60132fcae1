"""Variant families: a candidate that names a ``base`` is a LoRA adapter on it or a quantized build of it.

Checked before any server starts (:func:`check_families`, called by ``load_plan``):

- the base is another candidate of the plan, itself no variant (one level: base -> variants);
- an adapter variant (``adapter: DIR``) has the base's ``model``, runs on the base's own server (so no
  ``endpoint`` and no ``vllm`` settings of its own), and its folder holds a PEFT ``adapter_config.json``
  whose rank fits vLLM's ``--max-lora-rank`` choices and the base's hidden size, and whose
  ``target_modules`` name layers of the base (read from the base's safetensors headers, no weights loaded);
- ``train_data`` exists.

A variant is asked the same questions and prompt variants as its base by construction: every candidate
of a plan answers the plan's ``question_sets`` and ``variants``, so the paired comparison is well defined.

:func:`lora_server_args` turns a base's adapters into the vLLM flags of its one server.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.inputs.modelref import resolve_model
from harness.records import Candidate, Plan, VllmArgs
from harness.validation import LoadedYaml, Problem

VLLM_LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)
"""The ``--max-lora-rank`` values vLLM accepts (vllm/config/lora.py, ``MaxLoRARanks``)."""


@dataclass(frozen=True)
class AdapterInfo:
    """What a PEFT adapter folder declares (``adapter_config.json``)."""

    rank: int
    """LoRA rank ``r``."""
    target_modules: list[str]
    """Module names (or one regex, as a single-item list) the adapter wraps."""
    base_model: str | None
    """``base_model_name_or_path`` as written at training time (informational)."""


def read_adapter(folder: Path) -> AdapterInfo:
    """Read ``folder/adapter_config.json``; raise ValueError with one sentence naming the file and the fix."""
    path = folder / "adapter_config.json"
    if not path.is_file():
        raise ValueError(f"{path} not found: an adapter folder is what peft's save_pretrained writes")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not JSON ({exc.msg}, line {exc.lineno})") from None
    if str(data.get("peft_type", "LORA")).upper() != "LORA":
        raise ValueError(f"{path}: peft_type {data.get('peft_type')!r}; vLLM serves LoRA adapters only")
    rank = data.get("r")
    if not isinstance(rank, int) or rank < 1:
        raise ValueError(f"{path}: r (the LoRA rank) must be a positive integer, got {rank!r}")
    targets = data.get("target_modules") or []
    targets = [targets] if isinstance(targets, str) else [str(t) for t in targets]
    return AdapterInfo(rank, targets, data.get("base_model_name_or_path"))


def max_lora_rank(ranks: Iterable[int]) -> int:
    """The smallest ``--max-lora-rank`` vLLM accepts that holds every rank; ValueError above 512."""
    top = max(ranks, default=1)
    for allowed in VLLM_LORA_RANKS:
        if allowed >= top:
            return allowed
    raise ValueError(f"LoRA rank {top} is above vLLM's largest --max-lora-rank {VLLM_LORA_RANKS[-1]}")


def module_names(model_dir: Path) -> set[str]:
    """Every dotted name component of the model's weights (``q_proj``, ``layers``, ...), from safetensors headers.

    A safetensors file starts with an 8-byte little-endian header length and a JSON header naming each
    tensor, so no weight is read. Empty when the folder has no safetensors file (then nothing is checked).
    """
    names: set[str] = set()
    for file in sorted(model_dir.glob("*.safetensors")):
        with file.open("rb") as f:
            (length,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(length))
        for tensor in header:
            if tensor != "__metadata__":
                names.update(tensor.split("."))
    return names


def _hidden_size(model_dir: Path) -> int | None:
    try:
        config: dict[str, Any] = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    size = config.get("hidden_size") or config.get("text_config", {}).get("hidden_size")
    return size if isinstance(size, int) else None


def adapter_fit(info: AdapterInfo, base_dir: Path | None) -> list[str]:
    """Why the adapter does not fit the base (empty when it fits or the base is not local to look at)."""
    out = []
    if info.rank > VLLM_LORA_RANKS[-1]:
        out.append(f"LoRA rank {info.rank} is above vLLM's largest --max-lora-rank {VLLM_LORA_RANKS[-1]}")
    if base_dir is None or not base_dir.is_dir():
        return out
    hidden = _hidden_size(base_dir)
    if hidden is not None and info.rank > hidden:
        out.append(f"LoRA rank {info.rank} is above the base's hidden size {hidden}")
    names = module_names(base_dir)
    is_regex = len(info.target_modules) == 1 and any(ch in info.target_modules[0] for ch in "*()[]|\\")
    missing = [] if is_regex or not names else [m for m in info.target_modules if m not in names]
    if missing:
        out.append(f"target_modules {missing} are no layers of the base (it has e.g. {_examples(names)})")
    return out


def _examples(names: set[str]) -> str:
    projections = sorted(n for n in names if n.endswith("_proj"))
    return ", ".join(projections[:6]) or ", ".join(sorted(names)[:6])


def check_families(plan: Plan, doc: LoadedYaml, base: Path, problems: list[Problem]) -> None:
    """Append one problem per family mistake (see the module docstring); ``base`` is the plan's folder."""
    by_name = {c.name: c for c in plan.candidates}
    for i, cand in enumerate(plan.candidates):
        at: tuple[str | int, ...] = ("candidates", i)
        if cand.train_data and not (base / cand.train_data).exists():
            problems.append(doc.problem((*at, "train_data"), f"training data {cand.train_data} not found"))
        if cand.base is None:
            if cand.adapter is not None:
                problems.append(doc.problem((*at, "adapter"), "an adapter needs `base:` (the candidate it adapts)"))
            continue
        parent = by_name.get(cand.base)
        if parent is None or parent is cand:
            what = "itself" if parent is cand else f"no candidate {cand.base!r}"
            problems.append(doc.problem((*at, "base"), f"base names {what}; name another candidate of the plan"))
            continue
        if parent.base is not None:
            problems.append(doc.problem((*at, "base"), f"base {parent.name!r} is itself a variant (of "
                                        f"{parent.base!r}); name the family's root"))  # fmt: skip
            continue
        if cand.adapter is not None:
            problems.extend(doc.problem((*at, *where), why) for where, why in _adapter_problems(cand, parent, base))


def _adapter_problems(cand: Candidate, parent: Candidate, base: Path) -> list[tuple[tuple[str, ...], str]]:
    """(field path, sentence) for each way an adapter candidate cannot run on its base's server."""
    out: list[tuple[tuple[str, ...], str]] = []
    if cand.endpoint is not None or parent.endpoint is not None:
        out.append((("adapter",), "an adapter is served on its base's vLLM server: neither may be an endpoint"))
    if cand.model != parent.model:
        out.append((("model",), f"an adapter's model must be its base's ({parent.model!r}), got {cand.model!r}"))
    if cand.vllm != VllmArgs() and cand.vllm != parent.vllm:
        out.append((("vllm",), f"an adapter runs on the server of {parent.name!r}: set vllm there, not here"))
    assert cand.adapter is not None
    try:
        info = read_adapter((base / cand.adapter).resolve())
    except ValueError as exc:
        return [*out, (("adapter",), str(exc))]
    local = resolve_model(base, parent.model) if parent.endpoint is None else None
    out.extend((("adapter",), why) for why in adapter_fit(info, local))
    return out


def adapters_of(plan: Plan, base_name: str) -> list[Candidate]:
    """The adapter candidates served on ``base_name``'s server, in plan order."""
    return [c for c in plan.candidates if c.base == base_name and c.adapter is not None]


def lora_server_args(adapters: list[tuple[str, Path]]) -> list[str]:
    """vLLM flags that serve ``(name, folder)`` adapters beside the base: one server for them all.

    ``--max-lora-rank`` is the smallest allowed value that holds every adapter's rank;
    ``--max-loras`` lets a batch mix all of them. Empty when there are no adapters.
    """
    if not adapters:
        return []
    ranks = [read_adapter(folder).rank for _, folder in adapters]
    modules = [f"{name}={folder}" for name, folder in adapters]
    return ["--enable-lora", "--lora-modules", *modules, "--max-lora-rank", str(max_lora_rank(ranks)),
            "--max-loras", str(len(adapters))]  # fmt: skip
