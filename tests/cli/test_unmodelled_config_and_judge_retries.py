"""Input that passed `harness validate` but failed a later stage: now refused up front, or degraded.

The plan-file cases (a misspelt perf.gpu, a pass_score off the judge's scale, an lm-eval task
the run's preflight refuses) are in the malformed corpus (test_malformed.py). Here: a
candidate whose config.json the roofline cannot model, and the judge's retries.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from harness.cli import main
from tests.support.fake_server import ANSWER, Reply, chunk, fake_server, finished_run, sse_bytes
from tests.support.files import write_yaml

BODY = sse_bytes(
    chunk(ANSWER, "stop"),
    json.dumps({"choices": [], "usage": {"prompt_tokens": 20, "completion_tokens": 12}}),
    "[DONE]",
)

QWEN_LIKE = {
    "model_type": "qwen2", "hidden_size": 896, "num_hidden_layers": 24, "num_attention_heads": 14,
    "num_key_value_heads": 2, "vocab_size": 151936, "intermediate_size": 4864, "torch_dtype": "bfloat16",
    "max_position_embeddings": 32768,
}  # fmt: skip


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return finished_run(tmp_path_factory.mktemp("finished"), BODY)


def with_config(finished: Path, tmp_path: Path, config: dict) -> Path:
    """A copy of the run whose candidate's model folder holds ``config`` and whose saved plan names an H100
    (the plan file does not: report it with ``--saved-plan``)."""
    run = tmp_path / "run"
    shutil.copytree(finished / "run", run)
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text(json.dumps(config), "utf-8")
    manifest = json.loads((run / "manifest.json").read_text("utf-8"))
    manifest["candidates"]["other"]["model"] = str(tmp_path / "model")
    manifest["plan"]["perf"]["gpu"] = "H100-80GB"
    (run / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    return run


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"kv_lora_rank": 512}, "config.json field 'kv_lora_rank': latent attention (DeepSeek) is not modelled"),
        ({"interleave_moe_layer_step": 1}, "config.json field 'interleave_moe_layer_step': interleaved MoE (Llama 4)"),
        ({"torch_dtype": None}, "config.json field 'torch_dtype' is missing; expected one of"),
    ],
)
def test_a_config_the_roofline_cannot_model_degrades_to_a_note(
    finished: Path, tmp_path: Path, change: dict, why: str
) -> None:
    run = with_config(finished, tmp_path, {**QWEN_LIKE, **change})
    assert main(["report", str(run), "--out", str(tmp_path / "rep"), "--saved-plan"]) == 0
    (model,) = json.loads((tmp_path / "rep" / "summary.json").read_text("utf-8"))["models"]
    assert model["roofline_tok_per_s"] is None and model["roofline_note"].startswith(f"not modelled: {why}")
    html = (tmp_path / "rep" / "index.html").read_text("utf-8")
    assert html.count("not modelled: config.json field") == 2  # the cost table and the memory table


def test_a_config_the_roofline_models_still_gets_its_figure(finished: Path, tmp_path: Path) -> None:
    run = with_config(finished, tmp_path, QWEN_LIKE)
    assert main(["report", str(run), "--out", str(tmp_path / "rep"), "--saved-plan"]) == 0
    (model,) = json.loads((tmp_path / "rep" / "summary.json").read_text("utf-8"))["models"]
    assert model["roofline_tok_per_s"] > 0 and model["roofline_note"] is None


@pytest.mark.parametrize(("retries", "requests"), [(0, 2), (1, 4), (3, 8)])
def test_the_judge_follows_limits_retries(finished: Path, tmp_path: Path, retries: int, requests: int) -> None:
    """Two answers, one single grade each (no retest, no injection probes); every attempt gets a 503."""
    shutil.copytree(finished, tmp_path / "r")
    root = tmp_path / "r"
    manifest = json.loads((root / "run" / "manifest.json").read_text("utf-8"))
    for meta in manifest["question_sets"].values():
        meta["path"] = str(root / "set.yaml")
    (root / "run" / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    busy = Reply([(0.0, b'{"error": {"message": "busy"}}')], status=503, content_type="application/json")
    with fake_server(lambda n: busy) as judge:
        plan = yaml.safe_load((root / "plan.yaml").read_text("utf-8"))
        plan["limits"]["retries"] = retries
        plan["judge"] = {"model": "j", "api": "chat", "modes": ["single"], "retest_fraction": 0,
                         "injection_answers": 0, "endpoint": {"base_url": judge.base_url}}  # fmt: skip
        write_yaml(root / "judge_plan.yaml", plan)
        main(["judge", str(root / "run"), "--config", str(root / "judge_plan.yaml"), "--quiet"])
        assert len(judge.requests) == requests
