"""Shared fixtures. The real vLLM server (CPU build) starts once per session."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import yaml

from harness.records import Candidate, VllmArgs
from harness.server.model_server import ModelServer
from harness.server.vllm_server import start_vllm

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
MODELS = Path(os.environ.get("HARNESS_MODELS_DIR", REPO / "models"))
SMOL = MODELS / "smollm2-135m-instruct"
GEMMA = MODELS / "gemma-3-270m"
HARNESS = [sys.executable, "-m", "harness.cli"]

# Whole prefills: seeded sampling crashes vLLM 0.32's CPU engine when a prefill is chunked (see configs/demo.yaml).
CPU_VLLM = VllmArgs(
    max_model_len=2048, enforce_eager=True, env={"VLLM_CPU_KVCACHE_SPACE": "1"},  # dtype auto: native here
    extra_args=["--no-enable-chunked-prefill", "--max-num-batched-tokens", "2048"],
)  # fmt: skip


def need_model(path: Path) -> Path:
    if not (path / "config.json").exists():
        pytest.fail(f"demo model {path} is missing: run `make models` (make test does)")
    return path


@pytest.fixture(scope="session")
def smol_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModelServer]:
    """SmolLM2-135M-Instruct on a real vLLM server, shared by the whole session."""
    model = need_model(SMOL)
    log = tmp_path_factory.mktemp("server") / "smol.vllm.log"
    cand = Candidate(name="smol-session", model=str(model), vllm=CPU_VLLM)
    with start_vllm(str(model), cand, log, timeout_s=600) as server:
        yield server


def write_yaml(path: Path, data: object) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def endpoint_plan(tmp: Path, server: ModelServer, sets: list[str], key_env: str, **extra: object) -> Path:
    """A plan whose one candidate is the session server, reached as an endpoint."""
    plan = {
        "name": "e2e",
        "candidates": [{
            "name": "smol",
            "model": "smol",
            "endpoint": {"base_url": server.base_url, "api_key_env": key_env, "model": server.model},
        }],
        "question_sets": [str(DATA / "sets" / s) for s in sets],
        "sampling": {"temperature": 0.0, "max_tokens": 24, "seed": 7, "samples": 1},
        "limits": {"concurrency": 4, "request_timeout_s": 120, "retries": 1},
        "perf": {"sweep": {"concurrency": [1, 4], "requests_per_level": 4, "max_tokens": 8}},
    }  # fmt: skip
    for k, v in extra.items():
        plan[k] = v if not isinstance(v, dict) else {**plan.get(k, {}), **v}  # type: ignore[dict-item]
    return write_yaml(tmp / "plan.yaml", plan)


def watch_tree(proc: subprocess.Popen, seen: set[int], stop: threading.Event) -> None:
    """Collect every descendant pid of ``proc`` while it runs."""
    while not stop.is_set():
        try:
            seen.update(p.pid for p in psutil.Process(proc.pid).children(recursive=True))
        except psutil.NoSuchProcess:
            return
        time.sleep(0.2)


def alive(pids: set[int]) -> list[str]:
    out = []
    for pid in pids:
        try:
            p = psutil.Process(pid)
            if p.status() != psutil.STATUS_ZOMBIE:
                out.append(" ".join(p.cmdline())[:120])
        except psutil.NoSuchProcess:
            pass
    return out


def vllm_servers(name: str) -> list[psutil.Process]:
    """The running vLLM API servers whose ``--served-model-name`` is ``name`` (a candidate's servers)."""
    out = []
    for p in psutil.process_iter(["cmdline"]):
        cmd = p.info["cmdline"] or []
        if "--served-model-name" in cmd and cmd[cmd.index("--served-model-name") + 1] == name:
            out.append(p)
    return out
