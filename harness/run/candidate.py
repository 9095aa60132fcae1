"""One candidate's run: serve it, ask it its answers while measuring, then sweep its load and run lm-eval.

:func:`run_candidate` reads top-down as the phases of :class:`CandidateRun`:

1. serve (:func:`harness.server.reach.serve`: start vLLM, or attach to the endpoint) and choose the API;
2. measure (:func:`harness.run.perf.measure.measure_server`) while
3. generating the answers (:func:`harness.run.generate.generate_all`), one ``phases.jsonl``
   record for them; then, unless the answers stopped early,
4. the load sweep (:func:`harness.run.perf.sweep.run_sweep`) and
5. the lm-eval tasks (:mod:`harness.run.lmeval_stage`);
6. the server is handed to the judge when :class:`~harness.server.reach.ServerShare` names this candidate.

A server that cannot start fails only this candidate (:attr:`CandidateOutcome.error`); an
interruption records the phase as ``interrupted`` and goes on up.
"""

from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from harness import aio
from harness.inputs.plan import LoadedPlan
from harness.records import Candidate, Phase
from harness.run import lmeval_stage
from harness.run.generate import Log, WorkItem, generate_all
from harness.run.perf.measure import measure_server
from harness.run.perf.sweep import run_sweep
from harness.run.served import Served
from harness.server.adapters import AdapterHost, family_root
from harness.server.client import Api
from harness.server.model_server import ModelServer
from harness.server.reach import ServerShare, candidate_info, decide_api, serve
from harness.server.tokenizer import token_counter
from harness.server.vllm_server import ServerStartError
from harness.server.watchdog import ServerGone
from harness.store import JsonlAppender


@dataclass
class CandidateOutcome:
    """How one candidate's run ended; the session records it in the manifest."""

    name: str
    asked: int = 0
    """Answers this session set out to ask."""
    ok: int = 0
    failed: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    """Why requests failed: each error line (the server's message) with how many answers it failed."""
    skipped: int = 0
    """Answers already present from an earlier session, not asked again."""
    error: str | None = None
    """Why the candidate failed (server did not start, stopped mid-run, went away in the sweep)."""
    api: str | None = None
    lm_eval_error: str | None = None
    info: dict[str, Any] = field(default_factory=dict)
    """How the model was reached (:func:`harness.server.reach.candidate_info`), plus placement in a fleet."""


@dataclass(frozen=True)
class CandidateRun:
    """Everything one candidate's run needs: what to serve and ask, where its records and files go."""

    lp: LoadedPlan
    cand: Candidate
    """The candidate as served (pinned to GPUs, or on vLLM's Ray backend, when in a fleet)."""
    items: list[WorkItem]
    """The answers still to ask (empty when only the sweep or lm-eval is left)."""
    run_dir: Path
    """Receives the server log and measurements: the run directory, or the candidate's part directory."""
    out: JsonlAppender
    """Where answers go (``generations.jsonl`` of ``run_dir``)."""
    phases: JsonlAppender
    """Where the phase records go (``phases.jsonl`` of ``run_dir``)."""
    log: Log
    show_progress: bool = True
    gpu_ids: list[int] | None = None
    """GPUs the server is pinned to and its memory is sampled on (None: every GPU)."""
    done_dir: Path | None = None
    """Where a sweep or lm-eval stage already complete is looked for (None: ``run_dir``)."""
    share: ServerShare | None = None
    """Keeps this candidate's server up for the judge when it names this candidate."""
    host: AdapterHost | None = None
    """Holds a LoRA family's server between the base and its adapters (:mod:`harness.server.adapters`)."""

    @property
    def name(self) -> str:
        return self.cand.name

    def on(self, server: ModelServer, api: Api) -> Served:
        """This candidate on its running ``server``: the context of its measurement phases."""
        return Served(self.lp, self.name, server, api, self.run_dir, self.log, self.show_progress, self.done_dir)

    @property
    def finished_in(self) -> Path:
        return self.done_dir or self.run_dir


@dataclass
class _Progress:
    """What the phase record knows so far: filled in as the run goes on."""

    started: float = field(default_factory=time.time)
    """Unix time (s): when serving began, then when the answers began."""
    server_start_s: float | None = None
    api: Api | None = None


def _record_phase(run: CandidateRun, progress: _Progress, requests: int, error: str | None) -> None:
    run.phases.append(
        Phase(
            candidate=run.name,
            started_at=progress.started,
            ended_at=time.time(),
            requests=requests,
            server_start_s=progress.server_start_s,
            api=progress.api,
            error=error,
        )
    )


def run_candidate(run: CandidateRun) -> CandidateOutcome:
    """Serve ``run.cand``, ask it ``run.items``, then run its load sweep and lm-eval tasks.

    Returns how it went; a server that cannot start is an outcome with an error, not a
    raise. Anything else that escapes (Ctrl-C, a bug) is recorded as an interrupted phase
    and re-raised.
    """
    outcome = CandidateOutcome(run.name, asked=len(run.items))
    progress = _Progress()
    try:
        run.log(
            f"[{run.name}] starting server"
            if run.cand.endpoint is None
            else f"[{run.name}] using endpoint {run.cand.endpoint.base_url}"
        )
        with contextlib.ExitStack() as serving:
            server = serving.enter_context(serve(run.lp, run.cand, run.run_dir, run.host))
            progress.server_start_s = server.start_s
            progress.api = _choose_api(run, server, outcome)
            with measure_server(run.lp, run.name, server, run.run_dir, run.log, run.gpu_ids):
                _answer_sweep_lmeval(run, server, progress.api, outcome, progress)
            _keep_for_judge(run, server, serving, outcome)
    except ServerStartError as exc:
        outcome.error = str(exc)
        run.log(f"[{run.name}] FAILED to serve: {exc}")
        _record_phase(run, progress, requests=0, error=str(exc))
    except BaseException:
        _record_phase(run, progress, requests=outcome.ok + outcome.failed, error="interrupted")
        raise
    return outcome


def _choose_api(run: CandidateRun, server: ModelServer, outcome: CandidateOutcome) -> Api:
    """Decide the API, note how the model is reached in ``outcome``, and log that it is ready."""
    api, why = decide_api(run.lp, run.cand, server)
    outcome.api, outcome.info = api, candidate_info(run.lp, run.cand, server, api, why)
    ready = f" in {server.start_s:.0f} s" if server.start_s else ""
    if server.dtype is not None:
        run.log(f"[{run.name}] dtype {server.dtype.dtype}: {server.dtype.reason}")
        if server.dtype.warning:
            run.log(f"[{run.name}] WARNING {server.dtype.warning}")
    run.log(f"[{run.name}] ready{ready}; {len(run.items)} requests on /v1/{api} ({why})")
    return api


def _answer_sweep_lmeval(
    run: CandidateRun, server: ModelServer, api: Api, outcome: CandidateOutcome, progress: _Progress
) -> None:
    """The measured part: the answers, then (unless they stopped early) the sweep and lm-eval."""
    progress.started = time.time()
    if run.items:
        _generate(run, server, api, outcome)
        _record_phase(run, progress, requests=outcome.ok + outcome.failed, error=outcome.error)
    if outcome.error:
        run.log(
            f"[{run.name}] FAILED mid-run, {len(run.items) - outcome.ok - outcome.failed} answers not asked "
            f"(re-run the same command to ask them): {outcome.error}"
        )
    elif _sweep(run, server, api, outcome):
        _lm_eval(run, server, outcome)


def _generate(run: CandidateRun, server: ModelServer, api: Api, outcome: CandidateOutcome) -> None:
    """Ask every item; counts (and why the answers stopped early) go into ``outcome``."""
    n = len(run.items)
    with tqdm(total=n, desc=run.name, unit="ans", disable=not run.show_progress, file=sys.stderr) as bar:
        tally = aio.run(
            generate_all(server, api, run.items, run.lp.plan, run.out, bar, token_counter(run.lp, run.cand))
        )
    outcome.ok, outcome.failed, outcome.reasons = tally.ok, tally.failed, tally.reasons
    if tally.stopped:
        outcome.error = f"stopped after {tally.ok + tally.failed} of {n} answers: {tally.stopped}"


def _sweep(run: CandidateRun, server: ModelServer, api: Api, outcome: CandidateOutcome) -> bool:
    """The load sweep's pending levels; False (and the error in ``outcome``) when the server went away."""
    try:
        run_sweep(run.on(server, api))
    except ServerGone as exc:  # its answers are all in; serving under load is what failed
        outcome.error = f"its server went away {exc}"
        run.log(f"[{run.name}] FAILED {exc} (re-run the same command to finish the sweep)")
        return False
    return True


def _lm_eval(run: CandidateRun, server: ModelServer, outcome: CandidateOutcome) -> None:
    """The plan's lm-eval tasks, unless already complete; their failure is the candidate's ``lm_eval_error``."""
    if lmeval_stage.pending(run.lp, run.name, run.finished_in):
        outcome.lm_eval_error = lmeval_stage.run_candidate_tasks(run.lp, run.cand, server, run.run_dir, run.log)


def _keep_for_judge(
    run: CandidateRun, server: ModelServer, serving: contextlib.ExitStack, outcome: CandidateOutcome
) -> None:
    if run.share is not None and not outcome.error and run.share.keep(run.cand, server, serving):
        run.log(f"[{run.name}] server kept up for the judge (same model and serving arguments)")
    root = family_root(run.lp.plan.candidates, run.cand).name
    if run.host is not None and run.host.keep(root, server, serving):
        run.log(f"[{run.name}] server of {root} kept up for its LoRA adapters")
