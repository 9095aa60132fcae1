"""One session of ``harness run``: every answer, sweep and lm-eval task the run directory still lacks.

Resumable: every answer has a key (``candidate/set/question/sample[/variant]``); keys
already in ``generations.jsonl`` are skipped, and failed generations from an
earlier session are dropped and asked again, so the file holds each key exactly
once. Answers whose question changed since they were asked are forgotten and asked
again (:mod:`harness.run.freshness`). Candidates are served one after another
(:func:`harness.run.candidate.run_candidate`), or side by side or on a Ray cluster
(:mod:`harness.run.fleet`); a candidate whose server cannot start, dies, hangs or fails
request after request (see :mod:`harness.server.watchdog`) is recorded as failed with the
reason and the run goes on with the next.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from harness.inputs.embeddings import CachedEmbedder
from harness.inputs.plan import LoadedPlan
from harness.manifest_records import CandidateEntry, EmbeddingEntry, RunManifest
from harness.parts import fold_all
from harness.records import Candidate
from harness.run import fleet as spread
from harness.run import lmeval_stage
from harness.run.candidate import CandidateOutcome, CandidateRun, run_candidate
from harness.run.fleet import Fleet
from harness.run.freshness import changed_questions, forget, record_sets
from harness.run.generate import Log, WorkItem, load_done, plan_work
from harness.run.manifest import open_manifest
from harness.run.perf.sweep import sweep_pending
from harness.rundir import RunDir, save_manifest
from harness.server.adapters import AdapterHost, family_root, order_families
from harness.server.embeddings import prepare_embedder
from harness.server.reach import ServerShare
from harness.server.reasoning_parsers import check_parsers
from harness.store import JsonlAppender


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


@dataclass
class _Session:
    """What every step of a session shares; the outcomes are written into the manifest as each candidate ends."""

    lp: LoadedPlan
    run_dir: Path
    log: Log
    manifest: RunManifest
    fleet: Fleet | None
    outcomes: list[CandidateOutcome] = field(default_factory=list)

    def record(self, outcome: CandidateOutcome) -> None:
        old = self.manifest.candidates.get(outcome.name)
        entry = {**(old.to_json() if old else {}), **outcome.info, "error": outcome.error}
        if self.lp.plan.lm_eval is not None:
            entry["lm_eval_error"] = outcome.lm_eval_error
        self.manifest.candidates[outcome.name] = CandidateEntry.model_validate(entry)
        if self.fleet is not None:
            self.manifest.fleet = self.fleet.describe
        save_manifest(self.run_dir, self.manifest)
        self.outcomes.append(outcome)


def run_session(
    lp: LoadedPlan, run_dir: Path, log: Log = _stderr, show_progress: bool = True, fleet: Fleet | None = None,
    share: ServerShare | None = None,
) -> list[CandidateOutcome]:  # fmt: skip
    """Generate every missing answer of the plan into ``run_dir``, with each candidate's sweep and lm-eval tasks.

    Candidates are served one after another, or with ``fleet`` side by side on this
    node's GPUs or as tasks on a Ray cluster (:mod:`harness.run.fleet`). Served one after
    another, the last candidate's server is handed to ``share`` when the judge can use it
    (:meth:`ServerShare.for_judge`); the caller then closes ``share``. Returns one outcome
    per candidate of the plan, those with nothing left to do included (as ``skipped``).
    """
    lmeval_stage.preflight(lp)
    check_parsers(lp.plan, str(lp.path))
    run_dir.mkdir(parents=True, exist_ok=True)
    session = _Session(lp, run_dir, log, open_manifest(lp, run_dir, log), fleet)
    work, done = _resume(session)
    todo = _todo(session, work, done)
    if fleet is not None and todo:
        _run_fleet(session, fleet, [c for c, _ in todo])
    else:
        todo = order_families(todo)  # a base's adapters right after it, on its server
        if share is not None:
            found = ServerShare.for_judge(lp, todo[-1][0] if todo else None)
            share.candidate, share.judge = found.candidate, found.judge
        _run_in_turn(session, todo, work, show_progress, share)
    return session.outcomes


def _resume(session: _Session) -> tuple[list[WorkItem], set[str]]:
    """The plan's work and the keys already answered (folding parts, forgetting changed questions)."""
    run_dir, log = session.run_dir, session.log
    for name, added in fold_all(run_dir).items():
        log(f"[{name}] folded {added} answers left in its part by an earlier session")
    gens_path = RunDir(run_dir).generations
    done = load_done(gens_path, log)
    work = plan_work(session.lp, _embeddings(session))
    changed = changed_questions(work, done)
    forget(run_dir, gens_path, changed, log)
    record_sets(session.manifest, [(ls.path, ls.qs) for ls in session.lp.sets])
    save_manifest(run_dir, session.manifest)
    return work, {k for k in done if k not in changed.keys}


def _embeddings(session: _Session) -> CachedEmbedder | None:
    """Embed what the dense and hybrid variants need (before any candidate starts) and note it in the manifest."""
    lp = session.lp
    emb = lp.plan.embedding
    if emb is None or all(v.retriever == "bm25" for v in lp.plan.variants):
        return None
    sets = [(ls.path, ls.qs) for ls in lp.sets]
    log_path = RunDir(session.run_dir).server_log("embedding")
    timeout_s = lp.plan.limits.server_start_timeout_s
    cache, info = prepare_embedder(
        emb, lp.plan.variants, sets, lp.base_dir, log_path, timeout_s, session.log, lp.knowledge_base
    )
    retrievers = {v.name: str(v.retriever) for v in lp.plan.variants if v.kind == "with_context"}
    session.manifest.embedding = EmbeddingEntry(**info.to_json(), retrievers=retrievers)
    return cache


def _todo(session: _Session, work: list[WorkItem], done: set[str]) -> list[tuple[Candidate, list[WorkItem]]]:
    """Each candidate with answers, sweep levels or lm-eval tasks left, with its answers left;
    the others are skipped (their outcome is kept at once, not written to the manifest)."""
    lp, run_dir = session.lp, session.run_dir
    todo: list[tuple[Candidate, list[WorkItem]]] = []
    for cand in lp.plan.candidates:
        mine = [w for w in work if w.candidate == cand.name]
        pending = [w for w in mine if w.key not in done]
        if pending or sweep_pending(lp, cand.name, run_dir) or lmeval_stage.pending(lp, cand.name, run_dir):
            todo.append((cand, pending))
        else:
            session.log(f"[{cand.name}] all {len(mine)} answers already present")
            session.outcomes.append(CandidateOutcome(cand.name, skipped=len(mine)))
    return todo


def _run_fleet(session: _Session, fleet: Fleet, cands: list[Candidate]) -> None:
    """Serve ``cands`` side by side on this node's GPUs, or as tasks on the Ray cluster."""
    lp, run_dir, log = session.lp, session.run_dir, session.log
    if fleet.ray_address is not None:
        spread.run_on_ray(lp, run_dir, cands, fleet, log, session.record)
    else:
        fleet.describe.update({"mode": "side_by_side", "gpus": fleet.gpus})
        spread.run_side_by_side(lp, run_dir, cands, fleet.gpus or [], log, session.record)


def _run_in_turn(
    session: _Session, todo: list[tuple[Candidate, list[WorkItem]]], work: list[WorkItem], show_progress: bool,
    share: ServerShare | None,
) -> None:  # fmt: skip
    """Serve the candidates of ``todo`` one after another into the run directory."""
    run_dir = session.run_dir
    rd = RunDir(run_dir)
    host = AdapterHost()
    with JsonlAppender(rd.generations) as out, JsonlAppender(rd.phases) as phases, host.stack:
        for i, (cand, pending) in enumerate(todo):
            host.release_unless(cand)
            host.hold_for = _next_on_same_server(session.lp, todo, i)
            run = CandidateRun(
                session.lp, cand, pending, run_dir, out, phases, session.log, show_progress, share=share, host=host
            )
            outcome = run_candidate(run)
            outcome.skipped = sum(w.candidate == cand.name for w in work) - len(pending)
            session.record(outcome)
        host.close()


def _next_on_same_server(lp: LoadedPlan, todo: list[tuple[Candidate, list[WorkItem]]], i: int) -> str | None:
    """The family root of candidate ``i`` when candidate ``i + 1`` is one of its adapters, else None."""
    if i + 1 >= len(todo) or todo[i + 1][0].adapter is None:
        return None
    root = family_root(lp.plan.candidates, todo[i][0]).name
    return root if todo[i + 1][0].base == root else None
