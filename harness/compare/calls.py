"""What changed in the tool calls between two runs (pure): per candidate, the call figures of each run and their
difference B - A, and the questions whose call outcome changed.

Only runs whose scores grade calls have any (an answers frame with a ``call`` column,
:data:`harness.rollup.frames.CALL_COLUMNS`); when neither run has, :func:`call_change` gives None and the
comparison is as it was. The figures are :mod:`harness.rollup.calls`' over the answers of each run's decision
variant (docs/tools.md, "Figures"); a figure a run does not measure is None, and so is its difference. A
question's outcome is its graded samples' outcomes in sample order; it changed when that list did, over the
questions both runs asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from harness.records import CallGrade, CallOutcome
from harness.rollup.calls import RATE_COLUMNS, candidate_calls

CALL_FIGURES = (*RATE_COLUMNS, "tool_call_p50_ms", "tool_call_p90_ms", "call_pass_hat_k")
"""The figures compared, under their :mod:`harness.rollup.calls` names."""

QuestionKey = tuple[str, str]


@dataclass(frozen=True)
class CallFigureChange:
    metric: str
    a: float | None
    b: float | None
    diff: float | None
    """b - a; None when either run does not measure it."""


@dataclass(frozen=True)
class CallFlip:
    """A question whose call outcome changed: each run's outcomes, in sample order."""

    set_id: str
    question_id: str
    outcomes_a: list[CallOutcome]
    outcomes_b: list[CallOutcome]
    detail: str | None
    """Why the first sample whose outcome changed is wrong, named by run and sample (``B sample 1: leave_type:
    expected '年假', got '病假'``): its differing arguments, else the grade's reason; run B's, else run A's; None
    when it is right in both."""


@dataclass(frozen=True)
class CallChange:
    """One candidate's tool calls, run A against run B."""

    responses_a: int
    """Graded answers in run A (0: its calls were not graded)."""
    responses_b: int
    figures: list[CallFigureChange]
    changed: list[CallFlip]


def _why(grade: CallGrade) -> str:
    errors = grade.arg_errors
    return "; ".join(f"{e.path}: {e.why}" for e in errors) if errors else grade.reason


def _detail(ga: dict[int, CallGrade], gb: dict[int, CallGrade]) -> str | None:
    """Why the first sample whose outcome changed is wrong in run B (else in run A), named by run and sample."""
    for i in sorted(set(ga) | set(gb)):
        a, b = ga.get(i), gb.get(i)
        if (a and a.outcome) == (b and b.outcome):
            continue
        for run, g in (("B", b), ("A", a)):
            if g is not None and not g.right:
                return f"{run} sample {i}: {_why(g)}"
        return None
    return None


def _outcomes(answers: pd.DataFrame, name: str) -> dict[QuestionKey, dict[int, CallGrade]]:
    """Per question, the candidate's graded samples' grades by sample, in sample order."""
    if "call" not in answers.columns:
        return {}
    mine = answers[(answers.candidate == name) & answers.call.notna()].sort_values("sample")
    out: dict[QuestionKey, dict[int, CallGrade]] = {}
    for set_id, qid, sample, grade in zip(mine.set_id, mine.question_id, mine["sample"], mine.call, strict=True):
        out.setdefault((set_id, qid), {})[int(sample)] = grade
    return out


def _figures(answers: pd.DataFrame, name: str, k: int) -> dict[str, Any]:
    if "call" not in answers.columns:
        return {"call_responses": 0}
    return candidate_calls(answers, name, k)


def _num(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def call_change(
    a: pd.DataFrame, b: pd.DataFrame, name: str, k_a: int, k_b: int, common: set[QuestionKey]
) -> CallChange | None:  # fmt: skip
    """Candidate ``name``'s calls in the answers ``a`` and ``b`` (each run's decision variant; pass^k with each
    run's samples ``k_a``, ``k_b``), over the ``common`` questions for the outcome changes; None when neither run
    graded calls."""
    if "call" not in a.columns and "call" not in b.columns:
        return None
    fa, fb = _figures(a, name, k_a), _figures(b, name, k_b)
    figures = []
    for metric in CALL_FIGURES:
        va, vb = _num(fa.get(metric)), _num(fb.get(metric))
        figures.append(CallFigureChange(metric, va, vb, vb - va if va is not None and vb is not None else None))
    oa, ob = _outcomes(a, name), _outcomes(b, name)
    changed = []
    for key in sorted((set(oa) | set(ob)) & common):
        ga, gb = oa.get(key, {}), ob.get(key, {})
        outcomes_a, outcomes_b = [g.outcome for g in ga.values()], [g.outcome for g in gb.values()]
        if outcomes_a == outcomes_b:
            continue
        changed.append(CallFlip(key[0], key[1], outcomes_a, outcomes_b, _detail(ga, gb)))
    return CallChange(int(fa["call_responses"]), int(fb["call_responses"]), figures, changed)
