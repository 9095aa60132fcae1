"""Few-shot examples without leaks (pure): where a question's worked examples come from.

A ``few_shot`` variant shows the set's own ``few_shot:`` examples when it has them. Without
them it falls back to other questions of the set with a reference (same category first), and
that can hand the model the answer: another question's reference "保压压力设为0 MPa" shown
before the question whose check is ``number: 0 MPa`` turns a model's 0 into a 1.0 that the
report would credit to few-shot prompting (issue 32).

So a fallback example is skipped when the question's own checks would find what they look for
in it. The guard is the rubric itself, not a second reader: each content check of the
question (:mod:`harness.rubric`, ``contains_*``, ``number``, ``regex``, groups ...) is run on
the other question's text and answer, whole and clause by clause (a clause alone, so a text
that states several figures, "保压0 MPa，注射80 MPa", is not read as a hedge and let through).
Any credit above 0 is a leak. The number check's reading of figures therefore applies as is:
"零兆帕" and "0.0 MPa" leak a ``number: 0, unit: MPa`` check, "五天" a ``number: 5, unit: 天``.

Two kinds are not guards: ``abstains`` (declining is a behaviour every example may show, not a
fact of another question) and ``choice`` (an option letter of another question says nothing of
this one's; skipping every example with the same letter would itself hint at the answer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from harness.records import CheckSpec, FewShotExample, Question, QuestionSet
from harness.rubric import REGISTRY, run_check
from harness.validation import Problem

ShotOrigin = Literal["set_examples", "other_questions", "none"]
NOT_GUARDS = frozenset({"abstains", "choice"})
"""Content checks that do not decide a leak (see the module docstring)."""
_CLAUSE = re.compile(r"[。；;！!？?\n]+|[，,、](?!\d)")
"""Where a text is cut into clauses: sentence ends, and commas not inside a number (2,000)."""


@dataclass(frozen=True)
class ShotChoice:
    """A question's few-shot examples and where they came from."""

    examples: tuple[FewShotExample, ...]
    origin: ShotOrigin
    """``set_examples``: the set's ``few_shot:``; ``other_questions``: other questions' references (the
    fallback); ``none``: no example at all (no ``few_shot:`` and no other question with a clean reference)."""
    skipped: tuple[tuple[str, str], ...] = ()
    """(other question's id, why) for each fallback example left out as a leak, in set order."""


def _guards(checks: list[CheckSpec]) -> list[CheckSpec]:
    """The question's content checks that decide a leak (constraints only take credit away)."""
    return [c for c in checks if c.type in REGISTRY and not REGISTRY[c.type].constraint and c.type not in NOT_GUARDS]


def _clauses(text: str) -> list[str]:
    parts = [p.strip() for p in _CLAUSE.split(text)]
    return [text, *(p for p in parts if p and p != text.strip())]


def leak(text: str, q: Question) -> str | None:
    """Why ``text`` gives away what ``q``'s checks look for (the check and its explanation), or None.

    Example: ``q`` checks ``{type: number, value: 0, unit: MPa}``; ``text`` "保压压力为0 MPa，注射压力80 MPa"
    -> ``"number: found '0 MPa' = 0 MPa"``; "注射压力80 MPa" -> None.
    """
    for spec in _guards(q.checks):
        for part in _clauses(text):
            try:
                result = run_check(spec, part)
            except (KeyError, ValueError):  # a malformed check is validation's to report, not a leak
                break
            if result.score > 0:
                return f"{spec.type}: {result.explanation}"
    return None


def choose_shots(qs: QuestionSet, q: Question, shots: int) -> ShotChoice:
    """The set's ``few_shot`` examples (the first ``shots``), else other questions with a reference, same
    category first, skipping the question itself and every one that :func:`leak` s ``q``'s answer.

    Deterministic (set order), so every candidate sees the same examples.
    """
    if qs.few_shot:
        return ShotChoice(tuple(qs.few_shot[:shots]), "set_examples")
    others = [o for o in qs.questions if o.id != q.id and o.reference]
    ranked = [o for o in others if o.category == q.category] + [o for o in others if o.category != q.category]
    picked: list[FewShotExample] = []
    skipped: list[tuple[str, str]] = []
    for o in ranked:
        if len(picked) == shots:
            break
        why = leak(f"{o.question}\n{o.reference}", q)
        if why is not None:
            skipped.append((o.id, why))
            continue
        picked.append(FewShotExample(question=o.question, answer=o.reference or ""))
    return ShotChoice(tuple(picked), "other_questions" if picked else "none", tuple(skipped))


@dataclass(frozen=True)
class ShotSource:
    """Where one ``few_shot`` variant's examples come from on one set, over all its questions."""

    origin: ShotOrigin
    """``set_examples`` when the set has ``few_shot:``; else ``other_questions`` (``none``: no question gets one)."""
    skipped: int = 0
    """Fallback examples left out as leaks, summed over the set's questions."""
    short: int = 0
    """Questions that get fewer than ``shots`` examples."""


def shot_source(qs: QuestionSet, shots: int) -> ShotSource:
    """Sum :func:`choose_shots` over the set's questions for a variant of ``shots`` examples."""
    choices = [choose_shots(qs, q, shots) for q in qs.questions]
    if qs.few_shot:
        return ShotSource("set_examples", short=sum(len(c.examples) < shots for c in choices))
    origin: ShotOrigin = "other_questions" if any(c.examples for c in choices) else "none"
    return ShotSource(origin, sum(len(c.skipped) for c in choices), sum(len(c.examples) < shots for c in choices))


def fallback_warning(qs: QuestionSet, set_file: str, line: int, variant: str, shots: int) -> Problem | None:
    """A warning (at the set's ``file:line``) when the ``few_shot`` variant ``variant`` falls back to other
    questions' references because the set has no ``few_shot:`` examples; None when it has them."""
    if qs.few_shot:
        return None
    src = shot_source(qs, shots)
    why = (
        f"no few_shot: examples, so the plan's few_shot variant {variant!r} shows other questions' references "
        f"instead ({src.skipped} left out because they give away a question's answer; {src.short} of "
        f"{len(qs.questions)} questions get fewer than {shots}): add few_shot: question/answer pairs that are "
        "not questions of the set"
    )
    return Problem(set_file, line, "few_shot", why, severity="warning")
