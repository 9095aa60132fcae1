"""Variant families in a plan: a base exists, adapters fit it, vLLM gets one server's LoRA flags."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from harness.inputs.families import lora_server_args, max_lora_rank, module_names, read_adapter
from harness.inputs.plan import load_plan
from harness.validation import InputError

SET = """\
id: s
title: T
language: en
questions:
  - id: q1
    category: c
    question: How many days?
    reference: 5 days
"""


def _model(folder: Path, tensors: list[str], hidden: int = 64) -> None:
    """A model folder whose safetensors header names ``tensors`` (no weights: the header is all we read)."""
    folder.mkdir(parents=True)
    header = json.dumps({t: {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]} for t in tensors}).encode()
    (folder / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + b"\0\0\0\0")
    (folder / "config.json").write_text(json.dumps({"hidden_size": hidden}))


def _adapter(folder: Path, r: int = 8, targets: list[str] | None = None) -> None:
    folder.mkdir(parents=True)
    config = {"peft_type": "LORA", "r": r, "target_modules": targets or ["q_proj", "v_proj"]}
    (folder / "adapter_config.json").write_text(json.dumps(config))


@pytest.fixture
def plan_dir(tmp_path: Path) -> Path:
    (tmp_path / "set.yaml").write_text(SET)
    _model(tmp_path / "base", [f"model.layers.0.self_attn.{p}.weight" for p in ("q_proj", "k_proj", "v_proj")])
    _model(tmp_path / "base-int8", ["model.layers.0.self_attn.q_proj.weight"])
    _adapter(tmp_path / "ad")
    return tmp_path


def _load(folder: Path, candidates: str) -> list[str]:
    """Load a plan with these candidates (YAML lines); the problems' messages, empty when it loads."""
    (folder / "plan.yaml").write_text(f"name: p\nquestion_sets: [set.yaml]\ncandidates:\n{candidates}")
    try:
        load_plan(folder / "plan.yaml")
    except InputError as exc:
        return [str(p) for p in exc.problems]
    return []


BASE = "  - {name: b, model: ./base}\n"


def test_a_family_with_an_adapter_and_a_quantized_build_loads(plan_dir: Path) -> None:
    cands = (
        BASE
        + "  - {name: b-lora, model: ./base, base: b, adapter: ./ad}\n  - {name: b-q, model: ./base-int8, base: b}\n"
    )
    assert _load(plan_dir, cands) == []


@pytest.mark.parametrize(
    ("cand", "expected"),
    [
        ("{name: v, model: ./base, base: nope}", "base names no candidate 'nope'"),
        ("{name: v, model: ./base, base: v}", "base names itself"),
        ("{name: v, model: ./base, adapter: ./ad}", "an adapter needs `base:`"),
        ("{name: v, model: ./base-int8, base: b, adapter: ./ad}", "an adapter's model must be its base's ('./base')"),
        ("{name: v, model: ./base, base: b, adapter: ./missing}", "adapter_config.json not found"),
        ("{name: v, model: ./base, base: b, train_data: ./none.jsonl}", "training data ./none.jsonl not found"),
        ("{name: v, model: ./base, base: b, adapter: ./ad, vllm: {max_model_len: 512}}",
         "an adapter runs on the server of 'b': set vllm there"),
    ],
)  # fmt: skip
def test_family_mistakes_are_named(plan_dir: Path, cand: str, expected: str) -> None:
    found = _load(plan_dir, BASE + f"  - {cand}\n")
    assert len(found) == 1 and expected in found[0], found
    assert found[0].startswith("plan.yaml:") or "plan.yaml:" in found[0]


def test_a_base_that_is_itself_a_variant_is_refused(plan_dir: Path) -> None:
    cands = BASE + "  - {name: v1, model: ./base-int8, base: b}\n  - {name: v2, model: ./base-int8, base: v1}\n"
    (found,) = _load(plan_dir, cands)
    assert "base 'v1' is itself a variant (of 'b')" in found


def test_adapter_targets_and_rank_must_fit_the_base(plan_dir: Path) -> None:
    # The base has q/k/v_proj and hidden size 64: o_proj is no layer of it, rank 128 exceeds 64.
    _adapter(plan_dir / "wide", r=128, targets=["q_proj", "o_proj"])
    found = _load(plan_dir, BASE + "  - {name: v, model: ./base, base: b, adapter: ./wide}\n")
    assert len(found) == 2
    assert "LoRA rank 128 is above the base's hidden size 64" in found[0]
    assert "target_modules ['o_proj'] are no layers of the base (it has e.g. k_proj, q_proj, v_proj)" in found[1]


def test_module_names_read_from_the_safetensors_header(plan_dir: Path) -> None:
    assert {"q_proj", "k_proj", "v_proj", "layers", "0", "weight"} <= module_names(plan_dir / "base")
    assert module_names(plan_dir / "ad") == set()  # no safetensors: nothing to check against


@pytest.mark.parametrize(("ranks", "expected"), [([8], 8), ([4, 9], 16), ([], 1), ([1], 1), ([320], 320), ([321], 512)])
def test_max_lora_rank_is_the_smallest_allowed_value_holding_every_rank(ranks: list[int], expected: int) -> None:
    assert max_lora_rank(ranks) == expected


def test_max_lora_rank_above_512_is_an_error() -> None:
    with pytest.raises(ValueError, match="above vLLM's largest --max-lora-rank 512"):
        max_lora_rank([600])


def test_lora_server_args_serve_every_adapter_from_one_server(tmp_path: Path) -> None:
    _adapter(tmp_path / "a", r=8)
    _adapter(tmp_path / "b", r=16)
    args = lora_server_args([("x", tmp_path / "a"), ("y", tmp_path / "b")])
    assert args == ["--enable-lora", "--lora-modules", f"x={tmp_path / 'a'}", f"y={tmp_path / 'b'}",
                    "--max-lora-rank", "16", "--max-loras", "2"]  # fmt: skip
    assert lora_server_args([]) == []


def test_read_adapter_accepts_a_single_regex_target(tmp_path: Path) -> None:
    folder = tmp_path / "ad"
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps({"r": 4, "target_modules": ".*proj"}))
    info = read_adapter(folder)
    assert (info.rank, info.target_modules) == (4, [".*proj"])


def test_the_plan_fingerprint_of_a_plan_without_families_is_unchanged(plan_dir: Path) -> None:
    # The fingerprint hashes the non-default plan settings only: the plan as written, nothing the new
    # family fields add while unset.
    import hashlib

    from harness.run.manifest import plan_fingerprint

    _load(plan_dir, BASE)
    written = {"name": "p", "question_sets": ["set.yaml"], "candidates": [{"name": "b", "model": "./base"}]}
    expected = hashlib.sha256(json.dumps(written, sort_keys=True).encode()).hexdigest()
    assert plan_fingerprint(load_plan(plan_dir / "plan.yaml")) == expected


def test_the_shortlist_example_family_validates_uncommented(tmp_path: Path) -> None:
    # configs/shortlist_h100.yaml carries the family commented out (docs/scaling.md counts eight models);
    # uncommented into the candidate list, beside a stand-in adapter folder, it is a valid plan.
    from tests.support.files import REPO

    plan = (REPO / "configs" / "shortlist_h100.yaml").read_text(encoding="utf-8")
    block = plan.split("# BEGIN FAMILY\n")[1].split("# END FAMILY")[0]
    family = "".join(line[1:] + "\n" for line in block.splitlines())
    head, tail = plan.split("\nquestion_sets:", 1)
    (tmp_path / "configs").mkdir()
    text = (
        head.rstrip()
        + "\n"
        + family
        + "\nquestion_sets:"
        + tail.replace("../question_sets/", str(REPO / "question_sets") + "/")
    )
    (tmp_path / "configs" / "plan.yaml").write_text(
        text.replace("config_json: shortlist/", f"config_json: {REPO}/configs/shortlist/")
    )
    _adapter(tmp_path / "configs" / "adapters" / "qwen2.5-7b-support", r=16)
    (tmp_path / "configs" / "adapters" / "qwen2.5-7b-support" / "train_data").mkdir()
    lp = load_plan(tmp_path / "configs" / "plan.yaml")
    variants = {c.name: c.base for c in lp.plan.candidates if c.base}
    assert variants == {
        "qwen2.5-7b-awq": "qwen2.5-7b",
        "qwen2.5-7b-fp8": "qwen2.5-7b",
        "qwen2.5-7b-support": "qwen2.5-7b",
    }
