"""`harness estimate` says what it could not estimate (issue 28): shipped configs found, an empty table refused,
the plan's tensor-parallel size shown and judged, an unknown GPU named in one line.

Every expected value is worked by hand in a comment beside it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from tests.support.files import DATA, REPO, write_yaml

LLAMA_8B = {
    "model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
    "num_key_value_heads": 8, "head_dim": 128, "vocab_size": 128256, "intermediate_size": 14336,
    "tie_word_embeddings": False, "torch_dtype": "bfloat16", "max_position_embeddings": 131072,
}  # fmt: skip
"""Llama 3.1 8B's shape: 8,030,261,248 parameters (tests/cli/test_cli_promises.py counts them by hand)."""
GIB = 2**30


def table(out: str) -> dict[tuple[str, str], list[str]]:
    """``(candidate, gpu) -> [tp, fit tp, plan, weights, kv, needed, usable, tok/s, $/1M]``."""
    return {(c[0], c[1]): c[2:] for line in out.splitlines()[2:] if len(c := line.split()) == 11}


def plan_with(tmp_path: Path, candidates: list[dict]) -> Path:
    sets = [str(DATA / "sets" / "mini_en.yaml")]
    return write_yaml(tmp_path / "plan.yaml", {"name": "pre", "question_sets": sets, "candidates": candidates})


def test_the_shipped_shortlist_config_is_found_by_the_candidates_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["estimate", str(REPO / "configs" / "shortlist_reasoning_h100.yaml"), "--gpus", "H100"]) == 0
    out, err = capsys.readouterr()
    rows = table(out)
    # configs/shortlist/qwen2.5-32b.config.json ships: its row is there; the four hub models without one are named
    assert list(rows) == [("qwen2.5-32b", "H100-80GB")]
    assert rows[("qwen2.5-32b", "H100-80GB")][0] == "2"  # the plan's tensor_parallel_size, not the smallest fit
    for name in ("qwen3-32b", "deepseek-r1-distill-qwen-32b", "gpt-oss-120b", "glm-4.5-air"):
        assert f"{name}: no config.json to read" in err


def test_the_plans_tensor_parallel_size_is_shown_and_a_too_small_one_flagged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "shortlist").mkdir()
    (tmp_path / "shortlist" / "llama8b.config.json").write_text(json.dumps(LLAMA_8B), "utf-8")
    (tmp_path / "heads.json").write_text(json.dumps(LLAMA_8B), "utf-8")
    plan = plan_with(tmp_path, [
        {"name": "llama8b", "model": "meta-llama/Llama-3.1-8B-Instruct"},  # found as shortlist/llama8b.config.json
        # 32 attention heads do not split 3 ways, whatever the memory
        {"name": "three", "model": "meta-llama/Llama-3.1-8B-Instruct", "config_json": "heads.json",
         "vllm": {"tensor_parallel_size": 3}},
    ])  # fmt: skip
    assert main(["estimate", str(plan), "--gpus", "H100,L4", "--context", "4096", "--concurrency", "16"]) == 0
    out, err = capsys.readouterr()
    rows = table(out)
    # bfloat16: weights 8,030,261,248 x 2 B = 14.96 GiB, KV 2 x 32 x 8 x 128 x 2 B x 4096 x 16 = 8 GiB,
    # needed (14.96 + 8) x 1.05 = 24.1 GiB. Usable at tp 1: 0.9 x 79.6 = 71.6 GiB on an H100 (fits),
    # 0.9 x 22.5 = 20.2 GiB on an L4 (does not: two L4s do)
    assert rows[("llama8b", "H100-80GB")][:3] == ["1", "1", "ok"]
    assert rows[("llama8b", "L4")][:3] == ["1", "2", "NO-FIT"]
    assert rows[("llama8b", "L4")][7:] == ["–", "–"]  # no roofline and no $ at a size that cannot serve it
    assert float(rows[("llama8b", "L4")][6][:-1]) == pytest.approx(22.5 * 0.9, abs=0.1)  # usable at the plan's tp
    assert rows[("three", "H100-80GB")][:3] == ["3", "1", "NO-FIT"]
    assert "llama8b on L4: the plan's tensor_parallel_size 1 cannot serve it (needs 24.1 GiB" in err
    assert "set tensor_parallel_size: 2" in err
    assert "three on H100-80GB: the plan's tensor_parallel_size 3 cannot serve it (its attention heads do not" in err


def test_no_candidate_to_estimate_is_an_error_not_an_empty_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    remote = {"name": "remote", "model": "remote", "endpoint": {"base_url": "http://127.0.0.1:9/v1"}}
    plan = plan_with(tmp_path, [{"name": "hub", "model": "org/unknown-model"}, remote])
    assert main(["estimate", str(plan)]) == 2
    out, err = capsys.readouterr()
    assert out == ""  # no empty table
    (line,) = err.strip().splitlines()  # one line, no traceback
    assert line.startswith(f"error: {plan}: no candidate could be estimated: hub: no config.json to read")
    assert "remote: no config.json to read" in line


def test_an_unknown_gpu_is_one_line_naming_the_known_ones(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "llama8b.json").write_text(json.dumps(LLAMA_8B), "utf-8")
    plan = plan_with(tmp_path, [{"name": "llama8b", "model": "org/x", "config_json": "llama8b.json"}])
    assert main(["estimate", str(plan), "--gpus", "A100"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip() == (
        "error: unknown GPU 'A100' in --gpus; known GPUs: L4, A10G, RTX4090, A100-40GB, L40S, A6000, A100-80GB, "
        "H100-80GB, H200"
    )
    assert "line 0" not in err
