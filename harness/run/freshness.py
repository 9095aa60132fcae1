"""Answers to questions that changed between two sessions of one run are asked again.

A run's fingerprint covers the plan, not the question sets' contents, so a set can be
edited between two sessions (a typo fixed, a context reworded). Each answer records a
digest of exactly what was asked (the question, the set's context, the variant's role,
worked examples and retrieved passages, as chat messages; the tools offered and their
scripted replies); on resuming, answers whose digest differs from what would be asked now
are dropped, with their judgments, and asked again; the rest are kept. Answers recorded before digests existed are kept.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from harness.inputs.prompts import Framing, chat_messages
from harness.manifest_records import QuestionSetEntry, RunManifest
from harness.records import Generation, Judgment, Question, QuestionSet
from harness.rundir import RunDir
from harness.store import resume_records, sha256_file


def question_digest(qs: QuestionSet, q: Question, framing: Framing) -> str:
    """Digest of what one question puts before the model (its text, the set's context and the variant's framing).

    For a question offered tools or scripted tool replies, the digest covers them too (each tool's
    definition, each reply's name, arguments and content), so editing a tool's schema or a reply asks the
    question again; a question with neither keeps the digest it always had (its answers are not asked again).
    """
    messages = chat_messages(qs, q, framing)
    tools, results = qs.tools_for(q), qs.tool_results_for(q)
    if tools or results:
        offered = {"messages": messages, "tools": [t.model_dump(mode="json") for t in tools],
                   "tool_results": [r.model_dump(mode="json") for r in results]}  # fmt: skip
        text = json.dumps(offered, ensure_ascii=False, sort_keys=True)
    else:
        text = json.dumps(messages, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Asked(Protocol):
    """What :func:`changed_questions` needs of a work item."""

    @property
    def key(self) -> str: ...
    @property
    def digest(self) -> str: ...
    @property
    def qs(self) -> QuestionSet: ...
    @property
    def q(self) -> Question: ...


@dataclass(frozen=True)
class Changed:
    keys: frozenset[str]
    """Generation keys to ask again."""
    questions: tuple[tuple[str, str], ...]
    """(set id, question id) of each changed question, in plan order."""


def changed_questions(work: Iterable[Asked], done: Mapping[str, str | None]) -> Changed:
    """Pure: the answers in ``done`` (key -> digest) whose question is no longer asked the same way."""
    keys: set[str] = set()
    questions: dict[tuple[str, str], None] = {}
    for w in work:
        old = done.get(w.key)
        if old is not None and old != w.digest:
            keys.add(w.key)
            questions[(w.qs.id, w.q.id)] = None
    return Changed(frozenset(keys), tuple(questions))


def record_sets(manifest: RunManifest, sets: Iterable[tuple[Path, QuestionSet]]) -> None:
    """The sets' current sha256 and size in the manifest: this session asks them as they are now."""
    for path, qs in sets:
        entry = manifest.question_sets.setdefault(qs.id, QuestionSetEntry(path=str(path)))
        entry.sha256, entry.questions = sha256_file(path), len(qs.questions)


def forget(run_dir: Path, gens_path: Path, changed: Changed, log: Callable[[str], None]) -> None:
    """Drop the changed answers and every judgment of their questions from the run, and say so."""
    if not changed.keys:
        return
    resume_records(gens_path, Generation, lambda g: g.key not in changed.keys)
    judged = RunDir(run_dir).judgments
    if judged.exists():
        gone = set(changed.questions)
        resume_records(judged, Judgment, lambda j: (j.set_id, j.question_id) not in gone)
    names = ", ".join(f"{s}/{q}" for s, q in changed.questions[:5]) + (" …" if len(changed.questions) > 5 else "")
    log(
        f"{len(changed.questions)} question{'s' if len(changed.questions) != 1 else ''} changed since an earlier "
        "session of this run (text, context or "
        f"framing): their {len(changed.keys)} answers are asked again ({names}); the other answers are kept"
    )
