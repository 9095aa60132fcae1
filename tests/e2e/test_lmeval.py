"""lm-evaluation-harness through the harness, checked against lm-eval's own command line.

The shipped task ``harness_policy_mc_zh`` (``lm_eval_tasks/``, exported from
``question_sets/policy_mc_zh.yaml``) runs against the session vLLM server twice:
once through :func:`harness.run.lmeval.run_tasks`, once through the ``lm_eval``
command line with the same model arguments. Both must score every document the
same, which shows the harness drives lm-eval the way its command line does. The
offline checks (hub tasks and unknown names refused up front) are in tests/run/test_lmeval_tasks.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from harness.records import LmEval
from harness.rollup.lm_eval import headline
from harness.run.lmeval import run_tasks
from harness.server.model_server import ModelServer
from tests.support.files import REPO, SMOL, need_model

TASKS = REPO / "lm_eval_tasks"
TASK = "harness_policy_mc_zh"


def task_docs() -> int:
    """Documents in the shipped task: the lines of its one JSONL data file."""
    files = sorted((TASKS / TASK).glob("*.jsonl"))
    assert len(files) == 1, f"expected one data file for {TASK}, found {files}"
    return sum(1 for line in files[0].read_text(encoding="utf-8").splitlines() if line.strip())


def logliks(rows: list[dict[str, Any]]) -> dict[int, list[float]]:
    """Per document: the log-likelihood of each choice (the command line writes them as strings)."""
    return {r["doc_id"]: [float(choice[0]) for choice in r["filtered_resps"]] for r in rows}


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.vllm
def test_run_tasks_matches_the_lm_eval_command_line(tmp_path: Path, smol_server: ModelServer) -> None:
    need_model(SMOL)
    docs = task_docs()
    key = smol_server.api_key or ""
    cfg = LmEval(tasks=[TASK], include_path="lm_eval_tasks")
    out = tmp_path / "harness"
    t0 = time.monotonic()
    found = run_tasks(smol_server.base_url, smol_server.model, key, str(SMOL), cfg, REPO, out)
    harness_s = time.monotonic() - t0

    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    samples = read_jsonl(out / f"samples_{TASK}.jsonl")
    figures = found[TASK]
    assert 0.0 <= figures["acc"] <= 1.0 and 0.0 <= figures["acc_norm"] <= 1.0 and figures["n"] == docs
    assert figures["acc_stderr"] is not None and figures["acc_stderr"] > 0
    assert results["n-samples"][TASK] == {"original": docs, "effective": docs}
    assert results["model_types"] == {TASK: "local-completions"}
    assert len(samples) == docs and all(len(s["filtered_resps"]) == len(s["doc"]["choices"]) for s in samples)
    assert headline(results) == {f"lmeval_{TASK}": figures["acc"], f"lmeval_{TASK}_stderr": figures["acc_stderr"]}
    for f in out.iterdir():
        assert key not in f.read_text(encoding="utf-8"), f"API key written to {f.name}"

    # The same task through lm-eval's command line, the key in its environment only.
    base = smol_server.base_url.rstrip("/")
    model_args = f"model={smol_server.model},base_url={base}/completions,tokenizer_backend=huggingface,tokenizer={SMOL}"
    env = {**os.environ, "OPENAI_API_KEY": key, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "lm_eval", "--model", "local-completions", "--model_args", model_args, "--tasks", TASK,
           "--include_path", str(TASKS), "--output_path", str(tmp_path / "cli"), "--log_samples"]  # fmt: skip
    assert key not in " ".join(cmd)
    t0 = time.monotonic()
    proc = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    cli_s = time.monotonic() - t0
    assert proc.returncode == 0, proc.stderr[-3000:]
    (cli_results,) = (tmp_path / "cli").glob("*/results_*.json")
    (cli_samples,) = (tmp_path / "cli").glob(f"*/samples_{TASK}_*.jsonl")
    cli = json.loads(cli_results.read_text(encoding="utf-8"))

    assert cli["n-samples"][TASK] == results["n-samples"][TASK]
    assert cli["results"][TASK]["acc,none"] == results["results"][TASK]["acc,none"] == figures["acc"]
    assert cli["results"][TASK]["acc_norm,none"] == results["results"][TASK]["acc_norm,none"]
    cli_rows = read_jsonl(cli_samples)
    assert {r["doc_id"]: r["prompt_hash"] for r in cli_rows} == {r["doc_id"]: r["prompt_hash"] for r in samples}
    ours, theirs = logliks(samples), logliks(cli_rows)
    assert ours.keys() == theirs.keys() and len(ours) == docs
    for doc_id, values in ours.items():
        assert values == pytest.approx(theirs[doc_id], abs=1e-6), f"doc {doc_id}"
    gap = max(abs(a - b) for d in ours for a, b in zip(ours[d], theirs[d], strict=True))
    print(f"\nlm-eval {TASK}: {docs} docs, acc {figures['acc']:.4f} (harness) = {cli['results'][TASK]['acc,none']:.4f}"
          f" (CLI), largest loglik gap {gap:.1e}; harness {harness_s:.1f} s, CLI {cli_s:.1f} s")  # fmt: skip


@pytest.mark.vllm
def test_an_exported_free_text_set_runs_as_a_generative_task(tmp_path: Path, smol_server: ModelServer) -> None:
    """Questions with references export to generate_until, which runs through local-chat-completions."""
    from harness.inputs.questions import load_question_set
    from harness.run.lmeval_export import export_task

    qs, _ = load_question_set(REPO / "tests" / "data" / "sets" / "mini_en.yaml")
    exported = export_task(qs, tmp_path / "tasks")
    (task,) = exported.tasks
    assert exported.gen > 0 and exported.mc == 0
    cfg = LmEval(tasks=[task], include_path="tasks", limit=2)
    found = run_tasks(
        smol_server.base_url, smol_server.model, smol_server.api_key, None, cfg, tmp_path, tmp_path / "out"
    )
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert results["model_types"] == {task: "local-chat-completions"}
    assert 0.0 <= found[task]["exact_match"] <= 1.0 and found[task]["n"] == 2
    rows = read_jsonl(tmp_path / "out" / f"samples_{task}.jsonl")
    assert len(rows) == 2 and all(isinstance(r["resps"][0][0], str) for r in rows)  # generated text, logged
