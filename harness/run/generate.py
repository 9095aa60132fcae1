"""Generating answers: the plan's work items, asking a served model for them, the Generation records.

:func:`plan_work` lists every answer the plan asks for (``candidate/set/question/sample[/variant]``
keys, see :func:`harness.inputs.variants.generation_key`); :func:`load_done` reads the keys
already answered (dropping failed answers so they are asked again); :func:`generate_all` asks
one served candidate for its items under the watchdog (:mod:`harness.server.watchdog`) and
appends each answer as a :class:`~harness.records.Generation` (:func:`to_generation`).
Serving, measuring and the rest of a candidate's run: :mod:`harness.run.candidate`; the whole
session: :mod:`harness.run.session`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from harness.inputs.embeddings import Fetch, cache_only
from harness.inputs.plan import LoadedPlan
from harness.inputs.prompts import Framing, build_request
from harness.inputs.variants import framings, generation_key
from harness.records import (
    DEFAULT_VARIANT,
    Generation,
    GivenPassage,
    Plan,
    Question,
    QuestionSet,
    Sampling,
    timing_fields,
)
from harness.run.freshness import question_digest
from harness.run.tool_rounds import NO_CHAT_API, Asks, exchange, with_tools
from harness.server.client import Api, Result, TokenCounter
from harness.server.model_server import ModelServer
from harness.server.token_split import split_tokens
from harness.server.watchdog import ask_all_while_up
from harness.store import JsonlAppender, resume_records

Log = Callable[[str], None]


@dataclass(frozen=True)
class WorkItem:
    """One answer to ask: a question of a set, for one candidate, sample and prompt variant."""

    key: str
    """``candidate/set/question/sample[/variant]``, unique in ``generations.jsonl``."""
    candidate: str
    qs: QuestionSet
    q: Question
    sample: int
    seed: int
    """The sampling seed: the plan's seed plus the sample's index."""
    variant: str = DEFAULT_VARIANT
    framing: Framing = field(default_factory=Framing)

    @property
    def digest(self) -> str:
        """What this item asks, as a digest (see :mod:`harness.run.freshness`)."""
        return question_digest(self.qs, self.q, self.framing)


def plan_work(lp: LoadedPlan, embed: Fetch | None = None) -> list[WorkItem]:
    """Every (candidate, variant, question, sample) the plan asks for, in a stable order.

    Variants are interleaved per candidate so that a candidate's server, once started,
    answers every variant; the framing of each question is computed once for all. ``embed`` serves
    the dense and hybrid variants; without it they read the embedding cache the session filled
    (``harness.server.embeddings.prepare_embedder``), as a fleet worker does.
    """
    s = lp.plan.sampling
    if embed is None and lp.plan.embedding is not None:
        embed = cache_only(lp.plan.embedding)
    framed = framings(lp.plan.variants, [(ls.path, ls.qs) for ls in lp.sets], lp.knowledge_base, embed)
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
        passages=[GivenPassage(id=p.id, doc=p.doc, heading=p.heading, page=p.page, text=p.text)
                  for p in w.framing.passages],
        seed=w.seed, text=r.text, finish_reason=r.finish_reason, **timing_fields(r),
        started_at=r.started_at, attempts=r.attempts, wait_ms=r.wait_ms, reasoning=r.reasoning or None,
        reasoning_via=r.reasoning_via, reasoning_tokens=reasoning_tokens, answer_tokens=answer_tokens,
        token_split=token_split, ttfat_ms=r.ttfat_ms, cut_off_thinking=r.cut_off_thinking, question_digest=w.digest,
    )  # fmt: skip


async def answer(
    client: Asks, api: Api, w: WorkItem, sampling: Sampling, count: TokenCounter | None = None
) -> Generation:
    """Ask one item and return its record. A question offered tools is asked with them, on the chat API
    only, with its scripted replies sent back (:mod:`harness.run.tool_rounds`): the record's ``text`` is
    the final answer, ``tool_calls``/``tool_call_ms`` the first response's, ``tool_steps`` each round;
    ``ttft_ms``, ``e2e_ms`` and the token counts describe the first response (the later rounds' own
    timings and tokens are not recorded). On the completions API such a question is not asked: the
    record's error is :data:`~harness.run.tool_rounds.NO_CHAT_API`."""
    req = build_request(api, w.qs, w.q, sampling, w.seed, w.framing)
    tools = w.qs.tools_for(w.q)
    if not tools:
        return to_generation(w, api, await client.generate(req), count)
    if api != "chat":
        return to_generation(w, api, Result(error=NO_CHAT_API, started_at=time.time()), count)
    ex = await exchange(client, with_tools(req, tools), w.qs.tool_results_for(w.q), tools)
    g = to_generation(w, api, ex.first, count)
    g.tool_calls, g.tool_call_ms, g.tool_steps = list(ex.first.tool_calls), ex.first.tool_call_ms, ex.steps
    if ex.steps:
        final = ex.final  # the answer is the last response's text
        g.text, g.finish_reason, g.cut_off_thinking = final.text, final.finish_reason, final.cut_off_thinking
        g.error = ex.error
    return g


@dataclass
class Tally:
    """How a candidate's answers went: answers recorded without and with an error."""

    ok: int = 0
    failed: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    """Each failed answer's error (its first line), with how many answers failed so, in the order first met."""
    stopped: str | None = None
    """Why the candidate's answers ended early (server gone, or too many failures in a row)."""


async def generate_all(
    server: ModelServer, api: Api, items: list[WorkItem], plan: Plan, out: JsonlAppender, bar: tqdm,
    count: TokenCounter | None = None,
) -> Tally:  # fmt: skip
    """Ask every item; stop early (and say why) when the server is gone or the breaker trips."""
    limits = plan.limits
    tally = Tally()
    async with server.client(
        api=api, timeout_s=limits.request_timeout_s, retries=limits.retries,
        load_timeout_s=limits.server_start_timeout_s, count_tokens=count,
    ) as client:  # fmt: skip

        async def ask(w: WorkItem) -> str | None:
            g = await answer(client, api, w, plan.sampling, count)
            out.append(g)
            if g.error is None:
                tally.ok += 1
            else:
                tally.failed += 1
                line = g.error.splitlines()[0] if g.error.strip() else "unknown error"
                tally.reasons[line] = tally.reasons.get(line, 0) + 1
            bar.update(1)
            return None if g.error == NO_CHAT_API else g.error  # not the server failing: no breaker

        tally.stopped = await ask_all_while_up(
            server,
            items,
            ask,
            limits.concurrency,
            limits.unresponsive_s,
            limits.max_consecutive_failures,
            busy_s=limits.server_start_timeout_s,  # a loading endpoint answers 503 on /health too
        )
    return tally
