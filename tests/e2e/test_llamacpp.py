"""A second real server: llama.cpp's (llama-cpp-python) beside vLLM in one run.

"Any OpenAI-compatible endpoint" shown on a server that is not vLLM: llama.cpp serves the
demo's SmolLM2 GGUF as shipped (``harness prepare-models --gguf``) and is reached as an
``endpoint`` candidate; vLLM serves the same model converted to Hugging Face format. Both
answer, are scored and reported in one run, with TTFT, token counts and throughput that are
right for each server. Not part of `make test`: llama-cpp-python is compiled on install
(`make test-llamacpp` installs it and runs this file).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.cli import main
from harness.server.vllm_server import free_port
from tests.support.files import DATA, MODELS, SMOL, need_model, write_yaml
from tests.support.vllm import CPU_VLLM

pytestmark = [pytest.mark.vllm, pytest.mark.llamacpp]

GGUF = Path(os.environ.get("HARNESS_GGUF_DIR", MODELS / ".cache" / "gguf")) / "smollm2-135m-instruct.gguf"
MAX_TOKENS = 24


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """llama-cpp-python's OpenAI-compatible server on the SmolLM2 GGUF; yields its /v1 URL and its log."""
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        pytest.fail("llama-cpp-python is not installed: run `make test-llamacpp` (it installs and builds it)")
    if not GGUF.is_file():
        pytest.fail(f"{GGUF} is missing: run `harness prepare-models --gguf --only smollm2-135m-instruct`")
    port = free_port()
    log = tmp_path_factory.mktemp("llama") / "llama.log"
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(GGUF), "--model_alias", "smol-gguf",
           "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", "2",
           # by default a new request cuts the answer in flight short ([DONE], no finish reason); queue instead
           "--interrupt_requests", "False"]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama.cpp server exited ({proc.returncode}): {log.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("llama.cpp server did not answer /v1/models within 120 s")
            time.sleep(0.5)
        yield url, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


PERF_LINE = re.compile(r"llama_perf_context_print:\s+(eval|total) time =\s+([\d.]+) ms /\s+(\d+) (runs|tokens)")


def server_requests(log: Path) -> list[dict[str, float]]:
    """Per request, in the order served, llama.cpp's own figures: eval ms and runs, total ms."""
    out: list[dict[str, float]] = []
    for kind, ms, n, _ in PERF_LINE.findall(log.read_text(errors="replace")):
        if kind == "eval":
            out.append({"eval_ms": float(ms), "runs": int(n)})
        elif out:
            out[-1]["total_ms"] = float(ms)
    return out


def gens_of(run_dir: Path, candidate: str) -> list[dict]:
    rows = [json.loads(ln) for ln in (run_dir / "generations.jsonl").read_text("utf-8").splitlines()]
    return [g for g in rows if g["candidate"] == candidate]


def test_llamacpp_endpoint_beside_vllm_answers_scores_and_reports(
    tmp_path: Path, llama_server: tuple[str, Path]
) -> None:
    smol = need_model(SMOL)
    url, log = llama_server
    plan = write_yaml(tmp_path / "plan.yaml", {
        "name": "two-servers",
        "candidates": [
            {"name": "smol-vllm", "model": str(smol), "vllm": CPU_VLLM.model_dump(exclude_defaults=True)},
            {"name": "smol-llamacpp", "model": "smol-gguf", "api": "chat",
             "endpoint": {"base_url": url, "tokenizer": str(smol)}},
        ],
        "question_sets": [str(DATA / "sets" / "mini_en.yaml")],
        "sampling": {"temperature": 0.0, "max_tokens": MAX_TOKENS, "seed": 3},
        "limits": {"concurrency": 2, "request_timeout_s": 300},
        "perf": {"sweep": None},
    })  # fmt: skip
    run_dir, rep = tmp_path / "run", tmp_path / "rep"
    assert main(["run", str(plan), "--run-dir", str(run_dir), "--report-dir", str(rep), "--quiet"]) == 0

    for name in ("smol-vllm", "smol-llamacpp"):
        gens = gens_of(run_dir, name)
        assert len(gens) == 4 and all(g["error"] is None and g["text"].strip() for g in gens), gens
        for g in gens:
            assert 0 < g["ttft_ms"] <= g["e2e_ms"]
            assert g["output_tokens"] is not None and 1 <= g["output_tokens"] <= MAX_TOKENS + 2
            # one chunk per generated token on both servers: chunks (ITL gaps + 1) track the token count
            # (llama.cpp's role-only first chunk is not one of them)
            assert abs(len(g["itl_ms"]) + 1 - g["output_tokens"]) <= 3, g
            if g["finish_reason"] == "length":  # cut at max_tokens: the count must say so
                assert abs(g["output_tokens"] - MAX_TOKENS) <= 2, g

    llama = gens_of(run_dir, "smol-llamacpp")
    sources = {g["output_tokens_source"] for g in llama}
    assert sources <= {"server", "tokenizer"} and sources
    assert {g["output_tokens_source"] for g in gens_of(run_dir, "smol-vllm")} == {"server"}

    # llama.cpp's own log: it serves one request at a time and prints each one's timings
    served = server_requests(log)
    assert len(served) == 4
    # generated tokens = the first (from the prompt pass) + one per eval run; the tokenizer counts the
    # text, without the end-of-sequence token an answer that stopped by itself also generated
    generated = sorted(int(r["runs"]) + 1 for r in served)
    counted = sorted(g["output_tokens"] for g in llama)
    assert all(gen - cnt in (0, 1) for gen, cnt in zip(generated, counted, strict=True)), (generated, counted)
    # the first request served waited for nobody (the shortest TTFT): it is the server's time before its
    # first token; the role-only chunk llama.cpp sends first does not shorten it
    first = min(llama, key=lambda g: g["ttft_ms"])
    assert first["ttft_ms"] == pytest.approx(served[0]["total_ms"] - served[0]["eval_ms"], rel=0.25, abs=300)
    # requests run one after another, so the phase's tok/s is the tokens over the server's busy time
    busy_s = sum(r["total_ms"] for r in served) / 1000
    expected_tok_s = sum(counted) / busy_s

    scores = [json.loads(ln) for ln in (run_dir / "scores.jsonl").read_text("utf-8").splitlines()]
    assert sorted({s["candidate"] for s in scores}) == ["smol-llamacpp", "smol-vllm"] and len(scores) == 8
    models = {m["candidate"]: m for m in json.loads((rep / "summary.json").read_text("utf-8"))["models"]}
    for name in ("smol-vllm", "smol-llamacpp"):
        m = models[name]
        assert m["answers"] == 4 and m["out_tok_per_s"] > 0 and m["ttft_p50_ms"] > 0
    assert models["smol-llamacpp"]["out_tok_per_s"] == pytest.approx(expected_tok_s, rel=0.25)
    assert models["smol-llamacpp"]["out_tokens_counted_by"] == ("tokenizer" if "tokenizer" in sources else "server")
    html = (rep / "index.html").read_text("utf-8")
    assert "smol-llamacpp" in html and "smol-vllm" in html
