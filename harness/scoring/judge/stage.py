"""Judge stage: serve the judge model, ask it, record verdicts in judgments.jsonl.

The judge is served exactly like a candidate (:func:`harness.server.reach.serve`) and
asked through the same client. A reply that cannot be parsed is asked once
more with another seed, then recorded as unparsed: never guessed. Judging is
resumable by key; a changed judge (model, settings or prompt templates)
archives the old judgments instead of mixing them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from tqdm import tqdm

from harness import aio
from harness.inputs.plan import LoadedPlan
from harness.manifest_records import JudgeEntry, RunManifest
from harness.parts import fold_judge_parts
from harness.records import Generation, Judge, Judgment, Limits, Plan, QuestionSet
from harness.rundir import RunDir, load_manifest, save_manifest
from harness.scoring.judge import prompts
from harness.scoring.judge.modelinfo import describe_judge, panel_permissions
from harness.scoring.judge.parse import parse_pair, parse_score
from harness.scoring.judge.work import JudgeItem, injection_items, pairwise_items, single_items
from harness.server.client import Api, ModelClient, Request
from harness.server.model_server import ModelServer
from harness.server.reach import ServerShare, decide_api, serve
from harness.server.vllm_server import ServerStartError
from harness.server.watchdog import ask_all_while_up
from harness.store import JsonlAppender, write_records

PARSE_RETRY_SEED_OFFSET = 1


NOT_THE_JUDGE: dict[str, Any] = {
    "endpoint": {"base_url", "api_key_env"}, "pass_score": True, "price_per_gpu_hour_usd": True, "family": True,
}  # fmt: skip
"""Where the judge is reached, the pass score the report applies, its price and its declared family (which
candidates it grades, not how): changed, its verdicts stand."""

EARLIER_EXCLUDES: tuple[dict[str, Any], ...] = (
    {"endpoint": {"base_url", "api_key_env"}, "pass_score": True, "family": True},  # issue 28 to issue 29
    {"family": True},  # before issue 28: every setting
)
"""What the fingerprints of earlier harness versions left out (``family`` did not exist): a judge whose
recorded fingerprint is one of these is the same judge, and its verdicts stand."""


def _fingerprint(judge: Judge, exclude: dict[str, Any]) -> str:
    data = {"judge": judge.model_dump(mode="json", exclude=exclude), "prompts": prompts.all_versions()}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def judge_fingerprint(judge: Judge) -> str:
    """Hash of what decides the verdicts: the judge's settings but :data:`NOT_THE_JUDGE`, and the prompts."""
    return _fingerprint(judge, NOT_THE_JUDGE)


def same_judge(recorded: str | None, judge: Judge) -> bool:
    """Whether a run's recorded fingerprint is ``judge``'s, as this or an earlier harness computed it
    (None: nothing recorded)."""
    if recorded is None or recorded == judge_fingerprint(judge):
        return True
    # earlier fingerprints hashed the price too: a price added since (the default was 0) is no new judge
    priced = [judge, judge.model_copy(update={"price_per_gpu_hour_usd": 0.0})]
    return recorded in {_fingerprint(j, e) for j in priced for e in EARLIER_EXCLUDES}


def _request(api: Api, item: JudgeItem, judge: Judge, seed: int) -> Request:
    common: dict[str, Any] = dict(max_tokens=judge.max_tokens, temperature=item.temperature, seed=seed)
    if api == "chat":
        return Request(api="chat", messages=[{"role": "user", "content": item.prompt}], **common)
    return Request(api="completions", prompt=item.prompt + "\n", **common)


def _parse(item: JudgeItem, reply: str, scale: int) -> tuple[float | None, str | None]:
    if item.kind == "pairwise":
        return None, parse_pair(reply)
    return parse_score(reply, scale), None


async def ask(client: ModelClient, api: Api, item: JudgeItem, judge: Judge) -> Judgment:
    """One verdict: ask, and once more with another seed if the reply does not parse."""
    record = Judgment(
        key=item.key, kind=item.kind, set_id=item.qs.id, question_id=item.q.id, sample=item.sample,  # type: ignore[arg-type]
        candidates=list(item.candidates), trial=item.trial, attack=item.attack,
        prompt_version=item.prompt_version, seed=item.seed, judge=judge.name,
    )  # fmt: skip
    for attempt in (1, 2):
        seed = item.seed + (PARSE_RETRY_SEED_OFFSET if attempt == 2 else 0)
        res = await client.generate(_request(api, item, judge, seed))
        record.attempts = attempt
        record.wait_ms = (record.wait_ms or 0.0) + res.wait_ms  # the server's pacing and backoff, both asks
        if res.error:
            record.error = res.error
            return record
        score, verdict = _parse(item, res.text, judge.scale)
        record.raw, record.reasoning = res.text, res.reasoning or None
        if score is not None or verdict is not None:
            record.parsed, record.score, record.verdict = True, score, verdict  # type: ignore[assignment]
            return record
    return record


async def _ask_all(
    server: ModelServer, api: Api, items: list[JudgeItem], judge: Judge, limits: Limits, out: JsonlAppender, bar: tqdm
) -> tuple[list[Judgment], str | None]:
    """Every verdict asked, and why the rest were not when the judge's server went away (else None)."""
    results: list[Judgment] = []
    async with server.client(
        api=api,
        timeout_s=limits.request_timeout_s,
        retries=limits.retries,
        load_timeout_s=limits.server_start_timeout_s,
    ) as client:

        async def one(item: JudgeItem) -> str | None:
            j = await ask(client, api, item, judge)
            out.append(j)
            results.append(j)
            bar.update(1)
            return j.error

        stopped = await ask_all_while_up(
            server,
            items,
            one,
            judge.concurrency,
            limits.unresponsive_s,
            limits.max_consecutive_failures,
            busy_s=limits.server_start_timeout_s,
        )
    return results, stopped


def verdicts_done(rd: RunDir, manifest: RunManifest, judge: Judge, log: Callable[[str], None]) -> list[Judgment]:
    """The verdicts already given by this judge; its earlier settings' verdicts are archived, not mixed in."""
    old = manifest.judges.get(judge.name)
    legacy = manifest.legacy_judge
    if not same_judge(old.fingerprint if old else None, judge):
        archived = rd.archive_judgments_of(judge.name, legacy, int(time.time()))
        if archived is not None:
            log(f"[judge {judge.name}] judge or judge prompts changed: its earlier judgments moved to {archived.name}")
    done = [j for j in rd.judgments_of(judge.name, legacy) if j.error is None]
    return done


def _archive_departed(
    lp: LoadedPlan, rd: RunDir, manifest: RunManifest, log: Callable[[str], None]
) -> RunManifest:  # fmt: skip
    """Judges no longer in the plan: their verdicts move to an archive file and their manifest entries go,
    so ``judgments.jsonl`` holds the current panel's verdicts only. Returns the manifest to save."""
    panel = {j.name for j in lp.plan.panel_judges}
    legacy = manifest.legacy_judge
    names = set(manifest.judges) | {j.judge or legacy for j in rd.read_judgments() or []}
    departed = sorted(n for n in names - panel if n is not None)
    if not departed:
        return manifest
    now = int(time.time())
    for name in departed:
        archived = rd.archive_judgments_of(name, legacy, now)
        if archived is not None:
            log(f"[judge {name}] is no longer among the plan's judges: its earlier judgments moved to {archived.name}")
    manifest.judges = {k: v for k, v in manifest.judges.items() if k not in departed}
    return manifest


def migrate_single_judge(rd: RunDir, manifest: RunManifest) -> RunManifest:
    """A run judged before panels: name its one judge on its records, so ``legacy_judge`` goes (its
    entry is under ``judges`` already, :func:`harness.schema.upgrade_manifest_layout`); returns the
    manifest to save."""
    legacy = manifest.legacy_judge
    if legacy is None:
        return manifest
    if rd.judgments.exists():
        records = [j if j.judge else j.model_copy(update={"judge": legacy}) for j in rd.read_judgments() or []]
        write_records(rd.judgments, list[BaseModel](records))
    manifest.judges = dict(manifest.judges)  # assigned, so the file gets the key
    manifest.legacy_judge = None
    return manifest


def judge_work(
    plan: Plan, sets: dict[str, QuestionSet], gens: list[Generation], judge: Judge | None = None,
    may_grade: frozenset[str] | None = None,
) -> list[JudgeItem]:  # fmt: skip
    """Every verdict ``judge`` (default: the plan's first) asks of these answers: single grades (and
    retests) of the answers in ``judge.variants``, pairwise comparisons on the ``decide_on`` variant.
    ``may_grade``: the candidates this judge may grade (None: all); a pair is compared only when it may
    grade both."""
    judge = judge or plan.panel_judges[0]
    if may_grade is not None:
        gens = [g for g in gens if g.candidate in may_grade]
    work: list[JudgeItem] = []
    if "single" in judge.modes:
        work += single_items(judge, sets, [g for g in gens if judge.variants is None or g.variant in judge.variants])
    if "pairwise" in judge.modes:
        # Pairwise compares candidates asked the same way: the variant the decision is made on.
        decided = plan.decision_variant
        order = [c.name for c in plan.candidates if may_grade is None or c.name in may_grade]
        work += pairwise_items(judge, sets, [g for g in gens if g.variant == decided], order)
    return work


@dataclass(frozen=True)
class _Judging:
    """What one session of judging works on: the gradable answers, the verdicts already in, the rest to ask."""

    lp: LoadedPlan
    judge: Judge
    sets: dict[str, QuestionSet]
    gens: list[Generation]
    """Answers the judge can grade: failed answers and answers cut off while thinking gave it
    nothing to grade (they score 0 by rubric), and a candidate of its own family is not its to grade."""
    done: list[Judgment]
    """Verdicts of earlier sessions (by this judge and prompts)."""
    total: int
    """Verdicts the plan asks of these answers, injection probes not counted."""
    pending: list[JudgeItem]

    @property
    def done_keys(self) -> set[str]:
        return {j.key for j in self.done}

    @property
    def probes_possible(self) -> bool:
        return "single" in self.judge.modes and self.judge.injection_answers > 0

    def probes(self, judged: list[Judgment]) -> list[JudgeItem]:
        """Injection probes not asked yet, chosen from the grades in ``judged``; none when the plan asks none."""
        if not self.probes_possible:
            return []
        return _pending_injections(self.judge, self.sets, self.gens, judged, self.done_keys)


def _judging(
    lp: LoadedPlan, judge: Judge, rd: RunDir, done: list[Judgment], may_grade: frozenset[str] | None
) -> _Judging:
    names = {c.name for c in lp.plan.candidates}  # a candidate removed from the plan is not judged
    if may_grade is not None:
        names &= may_grade
    gens = [g for g in rd.read_generations() if g.ok and not g.cut_off_thinking and g.candidate in names]
    sets = {ls.qs.id: ls.qs for ls in lp.sets}
    work = judge_work(lp.plan, sets, gens, judge, may_grade)
    done_keys = {j.key for j in done}
    return _Judging(lp, judge, sets, gens, done, len(work), [w for w in work if w.key not in done_keys])


def prepare_panel(lp: LoadedPlan, run_dir: Path, log: Callable[[str], None]) -> RunManifest:
    """Before any judge grades: fold the verdicts a crashed judge process left in its part, name the one
    judge of a run judged before panels, archive the verdicts of judges no longer in the plan; save and
    return the manifest."""
    for name, added in fold_judge_parts(run_dir).items():
        log(f"[judge {name}] folded {added} verdicts left in its part by an earlier session")
    rd = RunDir(run_dir)
    manifest = _archive_departed(lp, rd, migrate_single_judge(rd, load_manifest(run_dir) or RunManifest()), log)
    save_manifest(run_dir, manifest)
    return manifest


def open_judging(
    lp: LoadedPlan, run_dir: Path, judge: Judge, done: list[Judgment], log: Callable[[str], None]
) -> tuple[_Judging, JudgeEntry]:  # fmt: skip
    """What ``judge`` has left to ask of the run given the verdicts ``done``, and its manifest entry so far."""
    may_grade = panel_permissions(lp)[judge.name]
    work = _judging(lp, judge, RunDir(run_dir), done, may_grade)
    entry = JudgeEntry.model_validate({
        **describe_judge(lp, judge), "fingerprint": judge_fingerprint(judge),
        "prompt_versions": prompts.all_versions(), "may_grade": None if may_grade is None else sorted(may_grade),
        "same_family": lp.plan.panel.same_family, "error": None})  # fmt: skip
    skipped = [c.name for c in lp.plan.candidates if may_grade is not None and c.name not in may_grade]
    if skipped:
        fam = entry.family
        log(f"[judge {judge.name}] does not grade {', '.join(skipped)}: same model family ({fam}); "
            "panel.same_family: exclude")  # fmt: skip
    return work, entry


def nothing_left(work: _Judging, log: Callable[[str], None]) -> bool:
    """True (and said) when every verdict, probes included, is already in."""
    if work.pending or work.probes(work.done):
        return False
    log(f"[judge {work.judge.name}] all {work.total} judgments already present")
    return True


def run_judging(
    lp: LoadedPlan, run_dir: Path, log: Callable[[str], None], show_progress: bool = True,
    server: ModelServer | None = None, judge: Judge | None = None,
) -> JudgeEntry | None:  # fmt: skip
    """Have ``judge`` (default: the plan's first judge) grade every answer of the run it has not graded
    yet and may grade (not its own family's, see :func:`panel_permissions`); return its manifest entry.

    ``server``: an already running server of the judge's model (a candidate's, see
    ``harness.server.reach.ServerShare``); without it the judge's own server is started.
    """
    if judge is None:
        if not lp.plan.panel_judges:
            return None
        judge = lp.plan.panel_judges[0]
    manifest = prepare_panel(lp, run_dir, log)
    work, entry = open_judging(lp, run_dir, judge, verdicts_done(RunDir(run_dir), manifest, judge, log), log)
    if nothing_left(work, log):
        save_entry(run_dir, judge.name, entry, keep_old=True)
        return entry
    grade(work, entry, run_dir, log, show_progress, server)
    save_entry(run_dir, judge.name, entry, keep_old=False)
    return entry


def grade(
    work: _Judging, entry: JudgeEntry, out_dir: Path, log: Callable[[str], None], show_progress: bool = True,
    server: ModelServer | None = None, served: Judge | None = None,
) -> None:  # fmt: skip
    """Ask ``work``'s pending verdicts (then its probes) into ``out_dir``'s ``judgments.jsonl`` (the run's, or
    a judge part's) and fill ``entry`` in (``asked``, ``error``, ``judging_s``, how it was served).

    ``server``: a running server to ask on; else ``served`` (default: the judge; a copy pinned to GPUs in a
    side-by-side worker) is served, its log under ``out_dir``. Raises ``ServerStartError`` when it cannot be.
    """
    judge = work.judge
    served = served or judge
    tag = f"[judge {judge.name}]"
    where = work.lp.model_ref(judge) if judge.endpoint is None else judge.endpoint.base_url
    log(f"{tag} on {server.model}'s server" if server else f"{tag} starting {where}")
    shared = server is not None
    started = time.monotonic()
    with contextlib.nullcontext(server) if shared else serve(work.lp, served, out_dir) as server, \
            JsonlAppender(RunDir(out_dir).judgments) as out:  # fmt: skip
        assert server is not None
        api = _choose_api(work, server, shared, entry, log)
        with tqdm(total=len(work.pending), desc=judge.name, unit="verdict", disable=not show_progress,
                  file=sys.stderr) as bar:  # fmt: skip
            stopped, new = _ask_pending_then_probes(work, server, api, out, bar)
            errors = [j.error for j in new if j.error]  # counted here: a disabled bar (--quiet) counts nothing
            entry.error = f"stopped after {len(new)} of {bar.total} verdicts: {stopped}" if stopped else None
            entry.asked = len(new)
        if stopped:
            log(f"{tag} FAILED mid-run (re-run the same command to ask the rest): {entry.error}")
        elif errors:  # each failed verdict is left out of the panel's; a re-run asks it again
            entry.error = f"{len(errors)} of {len(new)} verdicts failed: {errors[0].splitlines()[0]}"
            log(f"{tag} FAILED: {entry.error} (re-run the same command to ask them again)")
    entry.judging_s = round(time.monotonic() - started, 3)


def save_entry(run_dir: Path, name: str, entry: JudgeEntry, keep_old: bool) -> None:
    """Record ``entry`` as judge ``name``'s in the manifest (``keep_old``: over its earlier entry's fields)."""
    manifest = load_manifest(run_dir) or RunManifest()
    before = manifest.judges.get(name) or JudgeEntry()
    if keep_old:
        entry = JudgeEntry.model_validate({**before.to_json(), **entry.to_json()})
    elif before.fingerprint == entry.fingerprint:  # the same judge: its time and verdicts add up
        entry = entry.model_copy(deep=True)
        for field in SUMMED:
            earlier, now = getattr(before, field), getattr(entry, field)
            if earlier is not None and now is not None:
                setattr(entry, field, earlier + now)
    manifest.judges = {**manifest.judges, name: entry}
    save_manifest(run_dir, manifest)


SUMMED = ("judging_s", "asked", "server_start_s")
"""A judge's entry fields that add up over the sessions of one run (time and cost cover every session):
:func:`save_entry` adds each up."""


def run_panel(
    lp: LoadedPlan, run_dir: Path, log: Callable[[str], None], show_progress: bool = True,
    share: ServerShare | None = None,
) -> dict[str, JudgeEntry]:  # fmt: skip
    """Every judge of the plan's panel grades the run, one after another; returns each judge's entry.

    The judge that can use a candidate's server (``share``) goes first, and that server is stopped
    before the next judge's starts, so no two servers hold the machine at once. A judge whose server
    fails to start is recorded with its error and the others go on (:class:`ServerStartError` is
    caught per judge).
    """
    judges = list(lp.plan.panel_judges)
    shared_name = share.judge if share is not None else None
    judges.sort(key=lambda j: j.name != shared_name)  # the shared server's judge first (stable otherwise)
    entries: dict[str, JudgeEntry] = {}
    for judge in judges:
        server = share.server if share is not None and judge.name == shared_name else None
        try:
            entry = run_judging(lp, run_dir, log, show_progress, server=server, judge=judge)
        except ServerStartError as exc:
            log(f"[judge {judge.name}] FAILED to serve: {exc}")
            entry = JudgeEntry.model_validate({**describe_judge(lp, judge), "error": str(exc)})
            save_entry(run_dir, judge.name, entry, keep_old=True)
        finally:
            if share is not None and judge.name == shared_name:
                share.close()
        if entry is not None:
            entries[judge.name] = entry
    return entries


def _choose_api(
    work: _Judging, server: ModelServer, shared: bool, entry: JudgeEntry, log: Callable[[str], None]
) -> Api:
    """Decide the judge's API, note it and how the judge is served in ``entry``, and log that it is ready."""
    api, why = decide_api(work.lp, work.judge, server)
    entry.api, entry.api_reason = api, why
    entry.server_start_s = None if shared else server.start_s
    entry.shared_server = server.model if shared else None
    if server.dtype is not None:
        entry.dtype = server.dtype.to_json()
        log(f"[judge {work.judge.name}] dtype {server.dtype.dtype}: {server.dtype.reason}")
    log(f"[judge {work.judge.name}] ready; {len(work.pending)} judgments on /v1/{api}")
    return api


def _ask_pending_then_probes(
    work: _Judging, server: ModelServer, api: Api, out: JsonlAppender, bar: tqdm
) -> tuple[str | None, list[Judgment]]:  # fmt: skip
    """Ask the pending verdicts, then (unless the server went away) the injection probes they call for;
    return why the asking stopped early (else None) and the verdicts asked.
    ``bar.total`` grows by the probes."""
    limits = work.lp.plan.limits
    new, stopped = aio.run(_ask_all(server, api, work.pending, work.judge, limits, out, bar))
    if work.probes_possible and not stopped:
        probes = work.probes(work.done + new)
        bar.total += len(probes)
        more, stopped = aio.run(_ask_all(server, api, probes, work.judge, limits, out, bar))
        new += more
    return stopped, new


def _pending_injections(
    judge: Judge, sets: Any, gens: list[Generation], judged: list[Judgment], done_keys: set[str]
) -> list[JudgeItem]:
    return [i for i in injection_items(judge, sets, gens, judged) if i.key not in done_keys]
