"""What the report must say about the judge: its size and family, and the warnings they call for.

A small judge agrees poorly with human graders, and a judge from the same model
family as a candidate tends to prefer it (self-preference); both are stated.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

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
_BYTES = {"bfloat16": 2, "float16": 2, "float32": 4, "float8": 1, "int8": 1}


def _config(path: Path | None) -> dict[str, Any]:
    if path is None or not (path / "config.json").is_file():
        return {}
    try:
        return json.loads((path / "config.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    except (OSError, json.JSONDecodeError):
        return {}


def family(name: str, config: dict[str, Any]) -> str | None:
    """Model family from the model's name or path, else from its architecture type."""
    low = name.lower()
    for fam in FAMILIES:
        if re.search(rf"(^|[^a-z]){fam}", low):
            return "mistral" if fam == "mixtral" else fam
    model_type = str(config.get("model_type", "")).lower()
    return next((f for f in FAMILIES if model_type.startswith(f)), None)


def param_count(path: Path | None, config: dict[str, Any]) -> float | None:
    """Parameters estimated from the safetensors size and dtype of a local model."""
    if path is None:
        return None
    files = list(path.glob("*.safetensors"))
    if not files:
        return None
    dtype = str(config.get("torch_dtype") or config.get("dtype") or "bfloat16")
    return sum(f.stat().st_size for f in files) / _BYTES.get(dtype, 2)


def _local(lp: LoadedPlan, cand: Candidate) -> Path | None:
    return resolve_model(lp.base_dir, cand.model) if cand.endpoint is None else None


def describe_judge(lp: LoadedPlan, judge: Candidate) -> dict[str, Any]:
    local = _local(lp, judge)
    config = _config(local)
    name = judge.model if judge.endpoint is None else (judge.endpoint.model or judge.model)
    fam = family(name, config)
    params = param_count(local, config)
    warnings = []
    if params is not None and params < SMALL_JUDGE_PARAMS:
        warnings.append(
            f"The judge has about {params / 1e9:.1f}B parameters. Judges this small agree poorly with human graders "
            "and are easily swayed; read its grades as indicative only, and weigh the rubric scores and the "
            "reliability figures below before acting on them."
        )
    for cand in lp.plan.candidates:
        cand_name = cand.model if cand.endpoint is None else (cand.endpoint.model or cand.model)
        cand_fam = family(cand_name, _config(_local(lp, cand)))
        if fam and cand_fam == fam:
            warnings.append(
                f"The judge and candidate {cand.name} are both of the {fam} family: "
                "the judge may favour it (self-preference)."
            )
    return {"name": judge.name, "model": lp.model_ref(judge), "family": fam, "params": params, "warnings": warnings}
