"""Generation stage: questions x candidates x samples -> Generation records.

Resumable: every answer has a key (``candidate/set/question/sample[/variant]``); keys
already in ``generations.jsonl`` are skipped, and failed generations from an
earlier session are dropped and asked again, so the file holds each key exactly
once. Candidates are served one after another; a candidate whose server cannot
start, dies, hangs or fails request after request (see :mod:`harness.run.watchdog`)
is recorded as failed with the reason and the run goes on with the next.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from harness import aio
from harness.inputs.families import adapters_of
from harness.inputs.plan import LoadedPlan, resolve_model
from harness.inputs.prompts import Framing, build_request
from harness.inputs.variants import framings, generation_key
from harness.records import DEFAULT_VARIANT, Candidate, Generation, Phase, Plan, Question, QuestionSet
from harness.run import lmeval_stage
from harness.run.adapters import AdapterHost, family_root, order_families, served_candidate
from harness.run.client import Api, ModelClient, Request, TokenCounter
from harness.run.freshness import changed_questions, forget, question_digest, record_sets
from harness.run.manifest import open_manifest, save_manifest
from harness.run.parts import fold_all
from harness.run.perf.measure import measure_server
from harness.run.perf.sweep import run_sweep, sweep_pending
from harness.run.reasoning_parsers import check_parsers
from harness.run.serving import (
    Server,
    ServerStartError,
    attach,
    local_chat_template,
    start_vllm,
    vllm_command,
)
from harness.run.tokencount import split_tokens
from harness.run.tokens import token_counter
from harness.run.watchdog import ServerGone, ask_all_while_up
from harness.store import JsonlAppender, resume_records

if TYPE_CHECKING:
    from harness.run.fleet import Fleet

GENERATIONS = "generations.jsonl"
PHASES = "phases.jsonl"

Log = Callable[[str], None]


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class WorkItem:
    key: str
    candidate: str
    qs: QuestionSet
    q: Question
    sample: int
    seed: int
    variant: str = DEFAULT_VARIANT
    framing: Framing = field(default_factory=Framing)

    @property
    def digest(self) -> str:
        """What this item asks, as a digest (see :mod:`harness.run.freshness`)."""
        return question_digest(self.qs, self.q, self.framing)


def plan_work(lp: LoadedPlan) -> list[WorkItem]:
    """Every (candidate, variant, question, sample) the plan asks for, in a stable order.

    Variants are interleaved per candidate so that a candidate's server, once started,
    answers every variant; the framing of each question is computed once for all.
    """
    s = lp.plan.sampling
    framed = framings(lp.plan.variants, [(ls.path, ls.qs) for ls in lp.sets])
    return [
        WorkItem(
            generation_key(c.name, ls.qs.id, q.id, i, v.name),
            c.name,
            ls.qs,
            q,
            i,
            s.seed + i,
            v.name,
            framed[(v.name, ls.qs.id, q.id)],
        )
        for c in lp.plan.candidates
        for v in lp.plan.variants
        for ls in lp.sets
        for q in ls.qs.questions
        for i in range(s.samples)
    ]


@dataclass
class CandidateOutcome:
    name: str
    asked: int = 0
    ok: int = 0
    failed: int = 0
    skipped: int = 0
    error: str | None = None
    api: str | None = None
    lm_eval_error: str | None = None
    info: dict[str, Any] = field(default_factory=dict)


def load_done(path: Path, log: Log) -> dict[str, str | None]:
    """Keys already answered, with the digest of what was asked; drops failed records so they are asked again."""
    kept, cut, dropped = resume_records(path, Generation, lambda g: g.ok)
    if cut:
        log(f"repaired {path.name}: removed a torn last line ({cut} bytes)")
    if dropped:
        log(f"{dropped} failed answers from an earlier session will be asked again")
    return {g.key: g.question_digest for g in kept}


def to_generation(w: WorkItem, api: Api, r: Any, count: TokenCounter | None = None) -> Generation:
    """The record of one answer; ``count`` counts thinking tokens when the server's usage does not."""
    reasoning_tokens, answer_tokens, token_split = split_tokens(
        r.output_tokens, r.reasoning, r.text, r.reasoning_tokens, count if r.reasoning else None
    )
    return Generation(
        key=w.key, candidate=w.candidate, set_id=w.qs.id, question_id=w.q.id, sample=w.sample,
        variant=w.variant, context_ids=list(w.framing.context_ids), context=w.framing.context, api=api,
        seed=w.seed, text=r.text, finish_reason=r.finish_reason,
        prompt_tokens=r.prompt_tokens, output_tokens=r.output_tokens, ttft_ms=r.ttft_ms,
        e2e_ms=r.e2e_ms, itl_ms=r.itl_ms, started_at=r.started_at, attempts=r.attempts, error=r.error,
        reasoning=r.reasoning or None, reasoning_via=r.reasoning_via, reasoning_tokens=reasoning_tokens,
        answer_tokens=answer_tokens, token_split=token_split, ttfat_ms=r.ttfat_ms,
        cut_off_thinking=r.cut_off_thinking,
        output_tokens_source=r.output_tokens_source, question_digest=w.digest,
    )  # fmt: skip


async def probe_api(server: Server, plan: Plan) -> Api:
    """For a model we cannot inspect: use chat unless the server says it has no chat template."""
    async with ModelClient(server.base_url, server.model, server.api_key, plan.limits.request_timeout_s, 0) as client:
        res = await client.generate(Request(api="chat", messages=[{"role": "user", "content": "hi"}], max_tokens=1))
    if res.error and "chat template" in res.error.lower():
        return "completions"
    return "chat"


def decide_api(lp: LoadedPlan, cand: Candidate, server: Server) -> tuple[Api, str]:
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
def serve(lp: LoadedPlan, cand: Candidate, run_dir: Path, host: AdapterHost | None = None) -> Iterator[Server]:
    if cand.endpoint is not None:
        yield attach(cand)
        return
    # Variant families (harness/run/adapters.py): an adapter is asked on its base's server, held
    # by ``host`` or started here with every adapter of the base; requests then name the adapter.
    if host is not None and (lent := host.lend(cand)) is not None:
        yield lent
        return
    served = served_candidate(lp, cand)
    log_path = run_dir / "logs" / f"{cand.name}.vllm.log"
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
    server: Server | None = None
    """Set once that candidate's answers are done and its server is kept up."""
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    @classmethod
    def for_judge(cls, lp: LoadedPlan, last: Candidate | None) -> ServerShare:
        judge = lp.plan.judge
        same = (
            judge is not None and last is not None and judge.endpoint is None and last.endpoint is None
            and last.adapter is None and not adapters_of(lp.plan, last.name)  # a LoRA server is no plain one
            and lp.model_ref(judge) == lp.model_ref(last) and judge.revision == last.revision
            and lp.chat_template_path(judge) == lp.chat_template_path(last) and judge.vllm == last.vllm
        )  # fmt: skip
        return cls(last.name if same and last is not None else None)

    def keep(self, cand: Candidate, server: Server, serving: contextlib.ExitStack) -> bool:
        """Take over ``serving`` (the context that stops ``server``) if ``cand`` is the one to share."""
        if cand.name != self.candidate or not server.managed:
            return False
        self.server = server
        self.stack.push(serving.pop_all())
        return True

    def close(self) -> None:
        self.server = None
        self.stack.close()


@dataclass
class Tally:
    ok: int = 0
    failed: int = 0
    stopped: str | None = None
    """Why the candidate's answers ended early (server gone, or too many failures in a row)."""


async def _generate_all(
    server: Server, api: Api, items: list[WorkItem], plan: Plan, out: JsonlAppender, bar: tqdm,
    count: TokenCounter | None = None,
) -> Tally:  # fmt: skip
    """Ask every item; stop early (and say why) when the server is gone or the breaker trips."""
    limits = plan.limits
    tally = Tally()
    async with ModelClient(
        server.base_url, server.model, server.api_key, limits.request_timeout_s, limits.retries,
        count_tokens=count,
    ) as client:  # fmt: skip

        async def ask(w: WorkItem) -> str | None:
            res = await client.generate(build_request(api, w.qs, w.q, plan.sampling, w.seed, w.framing))
            out.append(to_generation(w, api, res, count))
            if res.error is None:
                tally.ok += 1
            else:
                tally.failed += 1
            bar.update(1)
            return res.error

        tally.stopped = await ask_all_while_up(
            server, items, ask, limits.concurrency, limits.unresponsive_s, limits.max_consecutive_failures
        )
    return tally


def _candidate_info(lp: LoadedPlan, cand: Candidate, server: Server, api: Api, why: str) -> dict[str, Any]:
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


def run_candidate(
    lp: LoadedPlan, cand: Candidate, items: list[WorkItem], run_dir: Path,
    out: JsonlAppender, phases: JsonlAppender, log: Log, show_progress: bool,
    gpu_ids: list[int] | None = None, done_dir: Path | None = None, share: ServerShare | None = None,
    host: AdapterHost | None = None,
) -> CandidateOutcome:  # fmt: skip
    """Serve one candidate, ask it ``items``, then run its load sweep and lm-eval tasks.

    ``run_dir`` receives the server log and measurements (a part directory when the
    candidate runs beside others); a sweep or lm-eval stage already complete in
    ``done_dir`` (default ``run_dir``) is not run again. ``gpu_ids`` are the GPUs the
    server is pinned to, the ones its memory is sampled on (default: every GPU). When
    ``share`` names this candidate, its server is left running for the judge.
    """
    finished_in = done_dir or run_dir
    outcome = CandidateOutcome(cand.name, asked=len(items))
    started = time.time()
    api: Api | None = None
    server_start_s = None
    try:
        log(
            f"[{cand.name}] starting server"
            if cand.endpoint is None
            else f"[{cand.name}] using endpoint {cand.endpoint.base_url}"
        )
        with contextlib.ExitStack() as serving:
            server = serving.enter_context(serve(lp, cand, run_dir, host))
            server_start_s = server.start_s
            api, why = decide_api(lp, cand, server)
            outcome.api, outcome.info = api, _candidate_info(lp, cand, server, api, why)
            ready = f" in {server.start_s:.0f} s" if server.start_s else ""
            if server.dtype is not None:
                log(f"[{cand.name}] dtype {server.dtype.dtype}: {server.dtype.reason}")
                if server.dtype.warning:
                    log(f"[{cand.name}] WARNING {server.dtype.warning}")
            log(f"[{cand.name}] ready{ready}; {len(items)} requests on /v1/{api} ({why})")
            with measure_server(lp, cand.name, server, run_dir, log, gpu_ids):
                started = time.time()
                if items:
                    with tqdm(
                        total=len(items), desc=cand.name, unit="ans", disable=not show_progress, file=sys.stderr
                    ) as bar:
                        tally = aio.run(_generate_all(server, api, items, lp.plan, out, bar, token_counter(lp, cand)))
                    outcome.ok, outcome.failed = tally.ok, tally.failed
                    if tally.stopped:
                        outcome.error = (
                            f"stopped after {tally.ok + tally.failed} of {len(items)} answers: {tally.stopped}"
                        )
                    phases.append(
                        Phase(
                            candidate=cand.name,
                            started_at=started,
                            ended_at=time.time(),
                            requests=tally.ok + tally.failed,
                            server_start_s=server_start_s,
                            api=api,
                            error=outcome.error,
                        )
                    )
                if outcome.error:
                    log(
                        f"[{cand.name}] FAILED mid-run, {len(items) - outcome.ok - outcome.failed} answers not asked "
                        f"(re-run the same command to ask them): {outcome.error}"
                    )
                else:
                    try:
                        run_sweep(lp, cand.name, server, api, run_dir, log, show_progress, done_dir)
                    except ServerGone as exc:  # its answers are all in; serving under load is what failed
                        outcome.error = f"its server went away {exc}"
                        log(f"[{cand.name}] FAILED {exc} (re-run the same command to finish the sweep)")
                    else:
                        if lmeval_stage.pending(lp, cand.name, finished_in):
                            outcome.lm_eval_error = lmeval_stage.run_candidate_tasks(lp, cand, server, run_dir, log)
            if share is not None and not outcome.error and share.keep(cand, server, serving):
                log(f"[{cand.name}] server kept up for the judge (same model and serving arguments)")
            root = family_root(lp.plan.candidates, cand).name
            if host is not None and host.keep(root, server, serving):
                log(f"[{cand.name}] server of {root} kept up for its LoRA adapters")
    except ServerStartError as exc:
        outcome.error = str(exc)
        log(f"[{cand.name}] FAILED to serve: {exc}")
        phases.append(
            Phase(
                candidate=cand.name,
                started_at=started,
                ended_at=time.time(),
                requests=0,
                error=str(exc),
            )
        )
    except BaseException:
        done = outcome.ok + outcome.failed
        phases.append(
            Phase(
                candidate=cand.name,
                started_at=started,
                ended_at=time.time(),
                requests=done,
                server_start_s=server_start_s,
                api=api,
                error="interrupted",
            )
        )
        raise
    return outcome


def run_generation(
    lp: LoadedPlan, run_dir: Path, log: Log = _stderr, show_progress: bool = True, fleet: Fleet | None = None,
    share: ServerShare | None = None,
) -> list[CandidateOutcome]:  # fmt: skip
    """Generate every missing answer of the plan into ``run_dir``.

    Candidates are served one after another, or with ``fleet`` side by side on this
    node's GPUs or as tasks on a Ray cluster (:mod:`harness.run.fleet`). Served one after
    another, the last candidate's server is handed to ``share`` when the judge can use it
    (:meth:`ServerShare.for_judge`); the caller then closes ``share``.
    """
    lmeval_stage.preflight(lp)
    check_parsers(lp.plan, str(lp.path))
    run_dir.mkdir(parents=True, exist_ok=True)
    manifest = open_manifest(lp, run_dir)
    for name, added in fold_all(run_dir).items():
        log(f"[{name}] folded {added} answers left in its part by an earlier session")
    gens_path = run_dir / GENERATIONS
    done = load_done(gens_path, log)
    work = plan_work(lp)
    changed = changed_questions(work, done)
    forget(run_dir, gens_path, changed, log)
    done = {k: v for k, v in done.items() if k not in changed.keys}
    record_sets(manifest, [(ls.path, ls.qs) for ls in lp.sets])
    save_manifest(run_dir, manifest)
    outcomes: list[CandidateOutcome] = []

    def record(outcome: CandidateOutcome) -> None:
        entry = manifest["candidates"].setdefault(outcome.name, {})
        entry.update(outcome.info)
        entry["error"] = outcome.error
        if lp.plan.lm_eval is not None:
            entry["lm_eval_error"] = outcome.lm_eval_error
        if fleet is not None:
            manifest["fleet"] = fleet.describe
        save_manifest(run_dir, manifest)
        outcomes.append(outcome)

    todo: list[tuple[Candidate, list[WorkItem]]] = []
    for cand in lp.plan.candidates:
        mine = [w for w in work if w.candidate == cand.name]
        pending = [w for w in mine if w.key not in done]
        if pending or sweep_pending(lp, cand.name, run_dir) or lmeval_stage.pending(lp, cand.name, run_dir):
            todo.append((cand, pending))
        else:
            log(f"[{cand.name}] all {len(mine)} answers already present")
            outcomes.append(CandidateOutcome(cand.name, skipped=len(mine)))
    if fleet is not None and todo:
        from harness.run import fleet as spread

        cands = [c for c, _ in todo]
        if fleet.ray_address is not None:
            spread.run_on_ray(lp, run_dir, cands, fleet, log, record)
        else:
            fleet.describe.update({"mode": "side_by_side", "gpus": fleet.gpus})
            spread.run_side_by_side(lp, run_dir, cands, fleet.gpus or [], log, record)
        return outcomes
    todo = order_families(todo)  # a base's adapters right after it, on its server
    if share is not None:
        share.candidate = ServerShare.for_judge(lp, todo[-1][0] if todo else None).candidate
    host = AdapterHost()
    with JsonlAppender(gens_path) as out, JsonlAppender(run_dir / PHASES) as phases, host.stack:
        for i, (cand, pending) in enumerate(todo):
            host.release_unless(cand)
            host.hold_for = _next_on_same_server(lp, todo, i)
            outcome = run_candidate(lp, cand, pending, run_dir, out, phases, log, show_progress, share=share,
                                    host=host)  # fmt: skip
            outcome.skipped = sum(w.candidate == cand.name for w in work) - len(pending)
            record(outcome)
        host.close()
    return outcomes


def _next_on_same_server(lp: LoadedPlan, todo: list[tuple[Candidate, list[WorkItem]]], i: int) -> str | None:
    """The family root of candidate ``i`` when candidate ``i + 1`` is one of its adapters, else None."""
    if i + 1 >= len(todo) or todo[i + 1][0].adapter is None:
        return None
    root = family_root(lp.plan.candidates, todo[i][0]).name
    return root if todo[i + 1][0].base == root else None
