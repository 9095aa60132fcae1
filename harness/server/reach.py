"""Reaching a model: serve it (or attach to its endpoint), choose its API, share a server with the judge.

What the run (:mod:`harness.run.candidate`) and the judge (:mod:`harness.scoring.judge.stage`)
both need before they can ask a model anything: :func:`serve` starts a vLLM server for
the model (or attaches to the plan's endpoint), :func:`decide_api` chooses between
``/v1/chat/completions`` and ``/v1/completions``, :class:`ServerShare` hands a candidate's
server on to the judge, and :func:`candidate_info` is what the manifest records about how
the model was reached.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness import aio
from harness.inputs.families import adapters_of
from harness.inputs.plan import LoadedPlan, resolve_model
from harness.records import Candidate, Plan
from harness.rundir import RunDir
from harness.server.adapters import AdapterHost, served_candidate
from harness.server.client import Api, Request
from harness.server.model_server import ModelServer
from harness.server.vllm_server import attach, local_chat_template, start_vllm, vllm_command


async def probe_api(server: ModelServer, plan: Plan) -> Api:
    """For a model we cannot inspect: use chat unless the server says it has no chat template."""
    async with server.client(api="chat", timeout_s=plan.limits.request_timeout_s, retries=0) as client:
        res = await client.generate(Request(api="chat", messages=[{"role": "user", "content": "hi"}], max_tokens=1))
    if res.error and "chat template" in res.error.lower():
        return "completions"
    return "chat"


def decide_api(lp: LoadedPlan, cand: Candidate, server: ModelServer) -> tuple[Api, str]:
    """The API to ask ``cand`` on, and why (a phrase for the log and the manifest).

    The plan's ``api`` unless ``auto``; else chat when the plan or the local model has a
    chat template, completions when a local model has none, and a probe of the endpoint
    (:func:`probe_api`) when the model cannot be inspected.
    """
    if cand.api != "auto":
        return cand.api, "set in the plan"
    if cand.chat_template:
        return "chat", "plan's chat_template"
    local = resolve_model(lp.base_dir, cand.model) if cand.endpoint is None else None
    if local is not None:
        if local_chat_template(local):
            return "chat", "model's own chat template"
        return "completions", "model has no chat template; plain prompt on /v1/completions"
    api = aio.run(probe_api(server, lp.plan))
    return api, "probed the endpoint"


@contextlib.contextmanager
def serve(lp: LoadedPlan, cand: Candidate, run_dir: Path, host: AdapterHost | None = None) -> Iterator[ModelServer]:
    """``cand``'s server while the body runs: its endpoint, or a vLLM server started for it and
    stopped after (log in ``run_dir/logs/<name>.vllm.log``); raises
    :class:`~harness.server.vllm_server.ServerStartError` when it cannot start or be reached.

    A LoRA adapter (:mod:`harness.server.adapters`) is asked on its base's server: the one ``host``
    holds, or one started here with every adapter of the base; its requests then name the adapter.
    """
    if cand.endpoint is not None:
        yield attach(cand)
        return
    if host is not None and (lent := host.lend(cand)) is not None:
        yield lent
        return
    served = served_candidate(lp, cand)
    log_path = RunDir(run_dir).server_log(cand.name)
    with start_vllm(
        lp.model_ref(served),
        served,
        log_path,
        lp.plan.limits.server_start_timeout_s,
        lp.chat_template_path(served),
    ) as server:
        yield replace(server, model=cand.name) if cand.adapter is not None else server


@dataclass
class ServerShare:
    """The judge's server, when the judge is a candidate: that candidate's server, kept up after its answers.

    The judge may reuse a candidate's server when it names the same model, revision,
    chat template and vLLM arguments and that candidate is the last one served in
    this session (so every answer exists when judging starts). One server start is
    saved: on a GPU node, minutes of weight loading; on the CPU demo, ~a minute.
    """

    candidate: str | None
    """The candidate whose server the judge can use (None: the judge starts its own)."""
    judge: str | None = None
    """The judge of the panel that uses it (the first that serves the same model)."""
    server: ModelServer | None = None
    """Set once that candidate's answers are done and its server is kept up."""
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    @classmethod
    def for_judge(cls, lp: LoadedPlan, last: Candidate | None) -> ServerShare:
        """The share for the first judge of the panel that would start the same server as ``last``."""
        for judge in lp.plan.panel_judges:
            same = (
                last is not None and judge.endpoint is None and last.endpoint is None
                and last.adapter is None and not adapters_of(lp.plan, last.name)  # a LoRA server is no plain one
                and lp.model_ref(judge) == lp.model_ref(last) and judge.revision == last.revision
                and lp.chat_template_path(judge) == lp.chat_template_path(last) and judge.vllm == last.vllm
            )  # fmt: skip
            if same and last is not None:
                return cls(last.name, judge.name)
        return cls(None)

    def keep(self, cand: Candidate, server: ModelServer, serving: contextlib.ExitStack) -> bool:
        """Take over ``serving`` (the context that stops ``server``) if ``cand`` is the one to share."""
        if cand.name != self.candidate or not server.managed:
            return False
        self.server = server
        self.stack.push(serving.pop_all())
        return True

    def close(self) -> None:
        self.server = None
        self.stack.close()


def candidate_info(lp: LoadedPlan, cand: Candidate, server: ModelServer, api: Api, why: str) -> dict[str, Any]:
    """What the manifest records of how ``cand`` was reached: model, API and why, chat template,
    endpoint URL or server command, start time (s), GPUs and dtype."""
    local = resolve_model(lp.base_dir, cand.model) if cand.endpoint is None else None
    template_file = lp.chat_template_path(cand)
    template = (
        template_file.read_text(encoding="utf-8") if template_file else (local_chat_template(local) if local else None)
    )
    info: dict[str, Any] = {
        "model": lp.model_ref(cand),
        "api": api,
        "api_reason": why,
        "chat_template": template,
        "base_url": server.base_url if not server.managed else None,
        "server_start_s": server.start_s,
        "cuda_visible_devices": cand.vllm.env.get("CUDA_VISIBLE_DEVICES", os.environ.get("CUDA_VISIBLE_DEVICES")),
    }
    if server.managed:
        dtype = server.dtype.dtype if server.dtype else None
        served = served_candidate(lp, cand)  # cand itself unless it is in a LoRA family
        info["server_command"] = vllm_command(lp.model_ref(served), served, 0, template_file, dtype)[1:]
        if cand.adapter is not None:
            info["adapter"] = {"served_on": served.name, "path": str((lp.base_dir / cand.adapter).resolve())}
    if server.dtype is not None:
        info["dtype"] = server.dtype.to_json()
    return info
