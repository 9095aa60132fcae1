"""What the report must say about the judge: its size and family, and the warnings they call for.

A small judge agrees poorly with human graders, and a judge from the same model
family as a candidate tends to prefer it (self-preference); both are stated.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from harness.inputs.plan import LoadedPlan, resolve_model
from harness.records import Candidate

SMALL_JUDGE_PARAMS = 7e9
FAMILIES = (
    "qwen",
    "llama",
    "smollm",
    "gemma",
    "mistral",
    "mixtral",
    "phi",
    "deepseek",
    "glm",
    "yi",
    "baichuan",
    "internlm",
)


def _config(path: Path | None) -> dict[str, Any]:
    if path is None or not (path / "config.json").is_file():
        return {}
    try:
        return json.loads((path / "config.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    except (OSError, json.JSONDecodeError):
        return {}


def family(name: str, config: dict[str, Any]) -> str | None:
    """Model family from the model's name or path, else from ``config.json``'s ``model_type``, else from
    its ``architectures`` (``Qwen2ForCausalLM`` -> qwen); None when none names a known family."""
    low = name.lower()
    for fam in FAMILIES:
        if re.search(rf"(^|[^a-z]){fam}", low):
            return "mistral" if fam == "mixtral" else fam
    model_type = str(config.get("model_type", "")).lower()
    by_type = next((f for f in FAMILIES if model_type.startswith(f)), None)
    if by_type is not None:
        return by_type
    architectures = [str(a).lower() for a in config.get("architectures") or []]  # e.g. Qwen2ForCausalLM
    return next((f for f in FAMILIES for a in architectures if a.startswith(f)), None)


def param_count(path: Path | None, config: dict[str, Any]) -> int | None:
    """Parameters of a local model, exact where the checkpoint says so.

    From the safetensors headers: each file names every tensor's shape, and the count is
    the sum over tensors of the product of the shape (the weights themselves are not
    read). The files are those of ``model.safetensors.index.json`` when there is one, so
    a repository that also ships a ``consolidated.safetensors`` copy is not counted twice.
    A quantized checkpoint (``quantization_config``) packs several weights into one
    stored element, so its headers undercount: it, and a model without safetensors, is
    counted from ``config.json`` by the roofline's :class:`ModelShape`. None for a remote
    model, or when neither can be read.
    """
    if path is None:
        return None
    files = _safetensors_files(path)
    stored = _stored_elements(files) if files and not config.get("quantization_config") else None
    if stored is not None:
        return stored
    from harness.modelshape import ModelShape

    try:
        return ModelShape.from_config(config).params if config else None
    except ValueError:
        return None


def _safetensors_files(path: Path) -> list[Path]:
    index = path / "model.safetensors.index.json"
    if index.is_file():
        try:
            shards = sorted(set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values()))
            return [path / name for name in shards]
        except (OSError, ValueError, KeyError, AttributeError):
            pass
    return sorted(path.glob("*.safetensors"))


def _stored_elements(files: list[Path]) -> int | None:
    """Elements of every tensor in ``files``, from their headers (the weights are not read).

    None when the ``safetensors`` package is missing (it comes with vLLM) or a file is not
    a readable safetensors file.
    """
    try:
        from safetensors import SafetensorError, safe_open
    except ImportError:
        return None
    total = 0
    for file in files:
        try:
            with safe_open(str(file), framework="numpy") as f:
                total += sum(math.prod(f.get_slice(name).get_shape()) for name in f.keys())  # noqa: SIM118
        except (OSError, SafetensorError):
            return None
    return total


def _local(lp: LoadedPlan, cand: Candidate) -> Path | None:
    return resolve_model(lp.base_dir, cand.model) if cand.endpoint is None else None


def model_family(lp: LoadedPlan, model: Candidate) -> str | None:
    """The family of a candidate's or judge's model: the plan's ``family`` when given, else from its name
    (an endpoint's served model name), else the ``config.json`` of its local folder (an endpoint's
    ``tokenizer`` folder) (:func:`family`); None when nothing tells."""
    if model.family:
        return model.family.lower()
    name = model.model if model.endpoint is None else (model.endpoint.model or model.model)
    folder = _local(lp, model)
    if folder is None and model.endpoint is not None and model.endpoint.tokenizer:
        folder = resolve_model(lp.base_dir, model.endpoint.tokenizer)
    return family(name, _config(folder))


def family_exclusions(
    judge_families: Mapping[str, str | None],
    candidate_families: Mapping[str, str | None],
    same_family: Literal["exclude", "allow"],
) -> dict[str, frozenset[str] | None]:
    """Judge name -> the candidate names it may grade; None = every candidate.

    With ``exclude`` a judge may not grade a candidate whose family (:func:`family`) is known
    and equal to its own (self-preference); an unknown family (None) on either side excludes nothing.
    With ``allow`` every judge gets None. A judge that excludes no candidate gets None too.
    """
    out: dict[str, frozenset[str] | None] = {}
    for judge, fam in judge_families.items():
        mine = [c for c, cf in candidate_families.items() if fam is not None and cf is not None and cf == fam]
        if same_family == "allow" or not mine:
            out[judge] = None
        else:
            out[judge] = frozenset(c for c in candidate_families if c not in mine)
    return out


def panel_permissions(lp: LoadedPlan) -> dict[str, frozenset[str] | None]:
    """Judge name -> the candidates it may grade (None: every one).

    With ``panel.same_family: exclude`` (the default) a judge never grades a candidate of its own
    family, to keep self-preference out of the verdict (Panickssery et al. 2024, "LLM Evaluators
    Recognize and Favor Their Own Generations"); a judge or candidate of unknown family is not excluded.
    """
    plan = lp.plan
    return family_exclusions(
        {j.name: model_family(lp, j) for j in plan.panel_judges},
        {c.name: model_family(lp, c) for c in plan.candidates},
        plan.panel.same_family,
    )


def describe_judge(lp: LoadedPlan, judge: Candidate) -> dict[str, Any]:
    local = _local(lp, judge)
    config = _config(local)
    fam = model_family(lp, judge)
    params = param_count(local, config)
    warnings = []
    if params is not None and params < SMALL_JUDGE_PARAMS:
        warnings.append(
            f"The judge has about {params / 1e9:.1f}B parameters. Judges this small agree poorly with human graders "
            "and are easily swayed; read its grades as indicative only, and weigh the rubric scores and the "
            "reliability figures below before acting on them."
        )
    same = [c.name for c in lp.plan.candidates if fam and model_family(lp, c) == fam]
    if same and lp.plan.panel.same_family == "allow":
        warnings.append(
            f"The judge and candidate{'s' if len(same) > 1 else ''} {', '.join(same)} are of the {fam} family, and "
            "the plan lets it grade them (panel.same_family: allow): it may favour them (self-preference)."
        )
    elif same:
        warnings.append(
            f"The judge does not grade {', '.join(same)}: same model family ({fam}); panel.same_family: exclude."
        )
    return {"name": judge.name, "model": lp.model_ref(judge), "family": fam, "params": params, "warnings": warnings}
