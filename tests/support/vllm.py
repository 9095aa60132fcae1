"""Helpers for the end-to-end tests on a real vLLM server (CPU build): its arguments, a plan that
reaches it as an endpoint, and the processes a run leaves behind.

The server itself is the session fixture ``smol_server`` in tests/conftest.py.
"""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import psutil

from harness.records import VllmArgs
from tests.support.files import DATA, write_yaml

if TYPE_CHECKING:
    from harness.server.model_server import ModelServer

# Whole prefills: seeded sampling crashes vLLM 0.32's CPU engine when a prefill is chunked (see configs/demo.yaml).
CPU_VLLM = VllmArgs(
    max_model_len=2048, enforce_eager=True, env={"VLLM_CPU_KVCACHE_SPACE": "1"},  # dtype auto: native here
    extra_args=["--no-enable-chunked-prefill", "--max-num-batched-tokens", "2048"],
)  # fmt: skip


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
