"""Scoring stage: generations.jsonl + the question sets -> scores.jsonl.

Scoring is pure and fast, so the stage rewrites ``scores.jsonl`` whole (and
atomically) each time: fix a rubric, re-score, no generation needed. The
question sets are read from the paths the manifest recorded; a set that changed
since the run is noted, since that is usually the point of re-scoring.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.inputs.run_sets import load_run_sets
from harness.inputs.variants import context_hit
from harness.records import CheckSpec, Generation, Question, QuestionSet, Score
from harness.rubric import run_check, score_answer, verdict
from harness.rubric.registry import Evidence
from harness.rundir import RunDir


def evidence_for(g: Generation, q: Question) -> Evidence:
    """The question, its reference, and the material an answer was given with whether it held the question's source."""
    hit = context_hit(g.context, q) if g.context else None
    return Evidence(g.context or None, hit, q.question, q.reference or "")


def score_generation(g: Generation, q: Question) -> Score:
    """Score the answer only (``g.answer``): the model's thinking is never checked.

    A failed generation, and an answer cut off while thinking (no answer given), score 0.
    """
    evidence = evidence_for(g, q)
    hit = evidence.holds_answer
    ref: dict[str, Any] = {"key": g.key, "candidate": g.candidate, "set_id": g.set_id, "question_id": g.question_id,
           "sample": g.sample, "variant": g.variant, "context_hit": hit}  # fmt: skip
    if not g.ok:
        return Score(
            **ref, score=0.0 if q.checks else None, essentials_passed=False if q.checks else None, error=g.error
        )
    if g.cut_off_thinking:
        return Score(**ref, score=0.0 if q.checks else None, essentials_passed=False if q.checks else None,
                     cut_off_thinking=True)  # fmt: skip
    value, results = score_answer(q.checks, g.answer, evidence)
    faithfulness = run_check(CheckSpec(type="faithful"), g.answer, evidence) if evidence.context else None
    return Score(**ref, score=value, essentials_passed=verdict(results), checks=results, faithfulness=faithfulness)


def score_records(gens: list[Generation], sets: dict[str, QuestionSet]) -> list[Score]:
    """Pure: one Score per generation whose question still exists."""
    index = {(qs.id, q.id): q for qs in sets.values() for q in qs.questions}
    return [score_generation(g, index[(g.set_id, g.question_id)]) for g in gens if (g.set_id, g.question_id) in index]


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
