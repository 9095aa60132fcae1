"""vLLM server lifecycle: start a vLLM server for a candidate, or attach to the plan's endpoint.

:func:`start_vllm` is the only code that starts a *model server*: a vLLM OpenAI-compatible
server on 127.0.0.1, a free port, a random API key passed by environment so it never shows in
``ps`` or the server log; it yields a :class:`~harness.server.model_server.ModelServer` once
``/health`` answers 200. :func:`attach` makes the same record for an already-running endpoint.
A started server runs in its own process group and is ended with everything it spawned on
success, error, Ctrl-C and SIGTERM; on Linux it also gets SIGTERM if the harness dies (kill -9).
:func:`harness.server.reach.serve` chooses between the two for a candidate or a judge.

Other processes are spawned elsewhere, none of them a model server:
:func:`harness.server.workers.start_worker` (a worker process per candidate or judge served side by
side: ``harness.run.fleet`` and ``harness.scoring.judge.fleet`` start them through it; each worker then
starts its own server here), ``harness.run.perf.loadgen`` (the load generator's worker processes),
``harness.report.browser`` (Chromium, for the PDF), ``harness.inputs.models`` (``pip download``) and
``harness.run.manifest`` (``git``, for the harness's commit).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import psutil

from harness.dtype import served_dtype
from harness.records import Candidate
from harness.server.model_server import Health, ModelServer, exit_description
from harness.server.reasoning_parsers import NO_PARSER, vllm_reasoning_args
from harness.server.tool_parsers import vllm_tool_args

STARTUP_PROBE_TIMEOUT_S = 5.0
"""Each ``/health`` probe's limit while a started server loads (s)."""


class ServerStartError(RuntimeError):
    """The server did not become healthy; the message holds the reason from its log."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def vllm_command(
    model_ref: str, cand: Candidate, port: int, chat_template: Path | None, dtype: str | None = None
) -> list[str]:
    """Command line for vLLM's OpenAI-compatible server (the API key goes by env).

    ``dtype`` is the resolved dtype (:func:`harness.dtype.served_dtype`); None passes the plan's as written.
    A candidate's ``tool_parser`` adds ``--enable-auto-tool-choice --tool-call-parser NAME``.
    """
    v = cand.vllm
    cmd = [
        sys.executable, "-m", "vllm.entrypoints.openai.api_server",
        "--model", model_ref,
        "--served-model-name", cand.name,
        "--host", "127.0.0.1",
        "--port", str(port),
        "--dtype", dtype or v.dtype,
        "--tensor-parallel-size", str(v.tensor_parallel_size),
    ]  # fmt: skip
    if v.pipeline_parallel_size > 1:
        cmd += ["--pipeline-parallel-size", str(v.pipeline_parallel_size)]
    if cand.revision:
        cmd += ["--revision", cand.revision]
    if v.max_model_len:
        cmd += ["--max-model-len", str(v.max_model_len)]
    if v.enforce_eager:
        cmd.append("--enforce-eager")
    if v.gpu_memory_utilization:
        cmd += ["--gpu-memory-utilization", str(v.gpu_memory_utilization)]
    if chat_template:
        cmd += ["--chat-template", str(chat_template)]
    return cmd + vllm_reasoning_args(cand.reasoning) + vllm_tool_args(cand) + list(v.extra_args)


def die_with_parent() -> None:
    """Runs in the child before exec: SIGTERM it when the harness process dies."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    os.setsid()


def stop_process_tree(proc: subprocess.Popen[bytes], grace_s: float = 20.0) -> None:
    """SIGTERM the server's process group and descendants, then SIGKILL what remains."""
    try:
        tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        tree = []
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
        os.killpg(proc.pid, signal.SIGCONT)  # a stopped (hung) server handles its SIGTERM now
    for p in tree:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.terminate()
            p.resume()
    _, alive = psutil.wait_procs(tree, timeout=grace_s)
    for p in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    psutil.wait_procs(alive, timeout=5)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def wait_healthy(proc: subprocess.Popen[bytes], server: ModelServer, timeout_s: float) -> None:
    """Return once ``server`` (started as ``proc``) answers ``/health`` with 200 (:meth:`ModelServer.health`);
    :class:`ServerStartError` with the log's reason when the process ends first or ``timeout_s`` passes."""
    asyncio.run(_until_healthy(proc, server, timeout_s))


async def _until_healthy(proc: subprocess.Popen[bytes], server: ModelServer, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(timeout=STARTUP_PROBE_TIMEOUT_S) as http:
        while True:
            code = proc.poll()
            if code is not None:
                raise ServerStartError(
                    f"vLLM server {exit_description(code)} before it was healthy:\n{server.log_tail()}"
                )
            if (await server.health(http)).state is Health.UP:
                return
            if time.monotonic() > deadline:
                raise ServerStartError(f"vLLM server not healthy after {timeout_s:.0f} s:\n{server.log_tail()}")
            await asyncio.sleep(0.5)


@contextlib.contextmanager
def start_vllm(
    model_ref: str,
    cand: Candidate,
    log_path: Path,
    timeout_s: float,
    chat_template: Path | None = None,
) -> Iterator[ModelServer]:
    port = free_port()
    api_key = secrets.token_urlsafe(24)
    child_env = {**os.environ, **cand.vllm.env, "VLLM_API_KEY": api_key}
    dtype = served_dtype(cand.vllm.dtype, model_ref, child_env)
    if Path(model_ref).is_dir():
        child_env.setdefault("HF_HUB_OFFLINE", "1")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            vllm_command(model_ref, cand, port, chat_template, dtype.dtype),
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=child_env, preexec_fn=die_with_parent, cwd=log_path.parent,
        )  # fmt: skip
    server = ModelServer(
        base_url=f"http://127.0.0.1:{port}/v1",
        model=cand.name,
        api_key=api_key,
        managed=True,
        log_path=log_path,
        pid=proc.pid,
        proc=proc,
        dtype=dtype,
        reasoning_parser=None if cand.reasoning.parser == NO_PARSER else cand.reasoning.parser,
    )
    try:
        wait_healthy(proc, server, timeout_s)
        yield replace(server, start_s=time.monotonic() - t0)
    finally:
        stop_process_tree(proc)


def attach(cand: Candidate) -> ModelServer:
    """A server for a candidate that names an already-running endpoint."""
    ep = cand.endpoint
    assert ep is not None
    key = None
    if ep.api_key_env:
        key = os.environ.get(ep.api_key_env)
        if key is None:
            raise ServerStartError(f"environment variable {ep.api_key_env} (the endpoint's API key) is not set")
    parser = None if cand.reasoning.parser == NO_PARSER else cand.reasoning.parser  # as the plan describes it
    return ModelServer(
        base_url=ep.base_url.rstrip("/"), model=ep.model or cand.model, api_key=key, managed=False,
        reasoning_parser=parser,
    )  # fmt: skip


def local_chat_template(model_dir: Path) -> str | None:
    """The chat template shipped with a local Hugging Face model, if any."""
    jinja = model_dir / "chat_template.jinja"
    if jinja.is_file():
        return jinja.read_text(encoding="utf-8")
    cfg = model_dir / "tokenizer_config.json"
    if cfg.is_file():
        try:
            tmpl = json.loads(cfg.read_text(encoding="utf-8")).get("chat_template")
        except (json.JSONDecodeError, OSError):
            return None
        if isinstance(tmpl, str):
            return tmpl
        if isinstance(tmpl, list) and tmpl:  # named templates: take "default"
            named = {t.get("name"): t.get("template") for t in tmpl if isinstance(t, dict)}
            return named.get("default") or next(iter(named.values()), None)
    return None


def install_signal_handlers() -> None:
    """Turn SIGTERM/SIGHUP into KeyboardInterrupt so every ``finally`` runs."""

    def _raise(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise)
