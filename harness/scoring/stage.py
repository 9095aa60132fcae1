"""Scoring stage: generations.jsonl + the question sets -> scores.jsonl.

Scoring is pure and fast, so the stage rewrites ``scores.jsonl`` whole (and
atomically) each time: fix a rubric, re-score, no generation needed. The
question sets are read from the paths the manifest recorded; a set that changed
since the run is noted, since that is usually the point of re-scoring.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.inputs.retrieval import context_passages, source_rank, squash
from harness.inputs.run_sets import load_run_sets
from harness.inputs.variants import context_hit
from harness.records import CallGrade, CheckSpec, Generation, Question, QuestionSet, Score, Tool
from harness.rubric import parse_args, run_check, score_answer, verdict
from harness.rubric.figures import NumberArgs
from harness.rubric.registry import Evidence
from harness.rubric.tool_calls import grade_calls, with_later_rounds
from harness.rundir import RunDir


def source_passages(g: Generation, q: Question) -> tuple[int | None, str | None]:
    """The rank (1 = best) of the first passage ``g`` was given that holds ``q``'s ``source``, and the passages
    that hold it, joined; (None, None) when none does, none was given or the question names no source."""
    if not g.context or q.source is None:
        return None, None
    passages = context_passages(g.context, len(g.context_ids))
    wanted = squash(q.source)
    holding = [p for p in passages if wanted and wanted in squash(p)]
    return source_rank(g.context, len(g.context_ids), q.source), "\n".join(holding) if holding else None


def asked_figures(q: Question) -> tuple[NumberArgs, ...]:
    """The arguments of ``q``'s ``number`` checks: the figures it asks about (``Evidence.asked``)."""
    return tuple(a for c in q.checks if c.type == "number" and isinstance(a := parse_args(c), NumberArgs))


def evidence_for(g: Generation, q: Question) -> Evidence:
    """The question, its reference, the figures it asks about, and the material an answer was given with
    whether it held the question's source and the passages that did.

    An answer given passages (``context_ids``) holds the source when one passage does; a context without
    passage ids (written by hand, or before them) is read whole."""
    _, holding = source_passages(g, q)
    if g.context_ids and g.context:
        hit = None if q.source is None else holding is not None
    else:
        hit = context_hit(g.context, q) if g.context else None
    declines = q.source is None and any(c.type == "abstains" and not c.optional for c in q.checks)
    return Evidence(
        g.context or None,
        hit,
        q.question,
        q.reference or "",
        holding,
        expects_decline=declines,
        asked=asked_figures(q),
        source=q.source,
        cut_off=g.finish_reason == "length",
    )


def grade_answer_calls(g: Generation, q: Question, tools: Sequence[Tool]) -> CallGrade | None:
    """The grade of the first response's calls (:func:`~harness.rubric.tool_calls.grade_calls`), and of a
    call repeated in a later round (:func:`~harness.rubric.tool_calls.with_later_rounds`), for a question
    with ``expect_call`` or ``no_call``; None for another question and for a failed answer (no
    response to grade: it counts among the failed answers, not in the call figures)."""
    if not q.grades_calls or not g.ok:
        return None
    made = g.tool_calls
    calls = [(c.name, c.arguments) for c in made]
    first = grade_calls(tools, q.expect_call, q.no_call, calls, [c.problem for c in made], [c.from_text for c in made])
    return with_later_rounds(first, g.tool_steps)


def with_calls(
    value: float | None, passed: bool | None, has_checks: bool, calls: CallGrade | None
) -> tuple[float | None, bool | None]:  # fmt: skip
    """An answer's (score, acceptability) once its calls are graded: a careful grader accepts an answer to a
    question that expects a call only when the call is right, and a ``no_call`` answer only when no call was
    made; the text must pass its checks as well. So a wrong call (wrong, missed, unexpected or unparsable)
    makes the answer score 0 and not acceptable, as a failed critical check does; a right call leaves the
    text's (score, verdict) as they are, and stands alone (1.0, acceptable) for a question with no checks.
    docs/tools.md, "How a call enters the grade"."""
    if calls is None:
        return value, passed
    if not calls.right:
        return 0.0, False
    return (value, passed) if has_checks else (1.0, True)


def score_generation(g: Generation, q: Question, tools: Sequence[Tool] | None = None) -> Score:
    """Score the answer only (``g.answer``): the model's thinking is never checked.

    A failed generation, and an answer cut off while thinking (no answer given), score 0. For a question
    that grades calls, the first response's calls are graded against ``tools`` (the tools offered: its
    set's and its own; default its own) and enter the score and verdict (:func:`with_calls`); a multi-step
    answer's text is its final answer, scored by the checks as any answer.
    """
    evidence = evidence_for(g, q)
    hit = evidence.holds_answer
    rank = source_passages(g, q)[0] if g.context_ids else None
    ref: dict[str, Any] = {"key": g.key, "candidate": g.candidate, "set_id": g.set_id, "question_id": g.question_id,
           "sample": g.sample, "variant": g.variant, "context_hit": hit, "context_rank": rank}  # fmt: skip
    graded = bool(q.checks) or q.grades_calls
    if not g.ok:
        return Score(**ref, score=0.0 if graded else None, essentials_passed=False if graded else None, error=g.error)
    calls = grade_answer_calls(g, q, q.tools if tools is None else tools)
    if g.cut_off_thinking:
        return Score(**ref, score=0.0 if graded else None, essentials_passed=False if graded else None,
                     cut_off_thinking=True, calls=calls)  # fmt: skip
    value, results = score_answer(q.checks, g.answer, evidence)
    value, passed = with_calls(value, verdict(results), bool(q.checks), calls)
    faithfulness = run_check(CheckSpec(type="faithful"), g.answer, evidence) if evidence.context else None
    return Score(**ref, score=value, essentials_passed=passed, checks=results, faithfulness=faithfulness, calls=calls)


def score_records(gens: list[Generation], sets: dict[str, QuestionSet]) -> list[Score]:
    """Pure: one Score per generation whose question still exists."""
    index = {(qs.id, q.id): (q, qs.tools_for(q)) for qs in sets.values() for q in qs.questions}
    return [score_generation(g, *index[(g.set_id, g.question_id)]) for g in gens if (g.set_id, g.question_id) in index]


def score_run(run_dir: Path) -> tuple[Path, list[str]]:
    """Score every answer of the run and replace its ``scores.jsonl``; returns its path and notes for the user.

    Raises :class:`~harness.rundir.RunDirError` when ``run_dir`` is not a run or a question set is gone.
    """
    sets, notes = load_run_sets(run_dir)
    rd = RunDir(run_dir)
    gens = rd.read_generations()
    scores = score_records(gens, sets)
    if len(scores) < len(gens):
        notes.append(f"{len(gens) - len(scores)} answers belong to questions or question sets no longer in the run; "
                     "not scored")  # fmt: skip
    return rd.write_scores(scores), notes
