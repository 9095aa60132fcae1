"""Figures of tool calling over many graded responses (pure): what the roll-up reports per candidate.

:func:`call_figures` counts :class:`harness.rubric.tool_calls.CallGrade` records. Each rate names its
denominator; a rate whose denominator is 0 is None (not measured), never 0. The outcomes follow BFCL's
categories where they meet: call accuracy is BFCL's AST accuracy on questions that expect calls (exact
match of every call, parallel calls in any order), and the no-call share is its irrelevance detection.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from pydantic import BaseModel, ConfigDict

from harness.records import ARG_ERROR_KINDS, LevelCalls
from harness.rubric.tool_calls import CallGrade


def _rate(count: int, of: int) -> float | None:
    return count / of if of else None


class CallFigures(BaseModel):
    """Tool-calling figures of one candidate (or one load level), over graded responses."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    responses: int
    """Responses graded on calls (to questions with ``expect_call`` or ``no_call``)."""
    expect_call_responses: int
    """Responses to questions with ``expect_call``: the denominator of the three call rates (an unparsable
    response counts here and in none of the three: right + wrong + missed + unparsable = this)."""
    no_call_responses: int
    """Responses to questions with ``no_call``: the denominator of ``unexpected_call_rate``."""
    call_accuracy: float | None
    """right / expect_call_responses: the right functions with the right arguments, none missing or extra."""
    wrong_call_rate: float | None
    """wrong_call / expect_call_responses: a call to another function, with wrong arguments, or extra."""
    missed_call_rate: float | None
    """missed_call / expect_call_responses: no call made where one was expected."""
    unexpected_call_rate: float | None
    """unexpected_call / no_call_responses: a call made where the question is to be answered directly."""
    no_call_precision: float | None
    """no_call_right / (no_call_right + missed_call): of the responses that made no call (with parsable
    output), the share that were right not to."""
    unparsable_share: float | None
    """unparsable / responses: responses with a call whose arguments are not a JSON object."""
    text_call_share: float | None
    """Calls read from the answer's text / calls made, over every graded response: how much of the
    calling went around the server's tool-call protocol (a ``<tool_call>`` block the server's parser did
    not take, or plain JSON). Such calls are graded like the others; a high share says the serving stack
    must read calls out of the text (or the model needs a prompt or an adapter) before it can drive the
    company's systems (docs/tools.md, "Calls written in the text")."""
    arg_errors: dict[str, int]
    """Argument errors by kind (``missing``, ``wrong_value``, ``wrong_type``, ``invented``), counted over
    calls paired with a call to the expected function; every kind present, 0 when none."""
    outcomes: dict[str, int]
    """Responses per outcome (:data:`harness.rubric.tool_calls.CALL_OUTCOMES`)."""


def call_figures(grades: Iterable[CallGrade]) -> CallFigures:
    """The figures of ``grades`` (one per response; several samples of a question count each)."""
    grades = list(grades)
    outcomes = Counter(g.outcome for g in grades)
    expect_n = sum(g.expects == "calls" for g in grades)
    no_call_n = len(grades) - expect_n
    kinds = Counter(e.kind for g in grades for e in g.arg_errors)
    silent = outcomes["no_call_right"] + outcomes["missed_call"]
    return CallFigures(
        responses=len(grades),
        expect_call_responses=expect_n,
        no_call_responses=no_call_n,
        call_accuracy=_rate(outcomes["right"], expect_n),
        wrong_call_rate=_rate(outcomes["wrong_call"], expect_n),
        missed_call_rate=_rate(outcomes["missed_call"], expect_n),
        unexpected_call_rate=_rate(outcomes["unexpected_call"], no_call_n),
        no_call_precision=_rate(outcomes["no_call_right"], silent),
        unparsable_share=_rate(outcomes["unparsable"], len(grades)),
        text_call_share=_rate(sum(g.in_text for g in grades), sum(g.made for g in grades)),
        arg_errors={k: kinds[k] for k in ARG_ERROR_KINDS},
        outcomes={str(k): n for k, n in outcomes.items()},
    )


def pooled_call_accuracy(runs: Sequence[LevelCalls | None]) -> float | None:
    """Call accuracy of several load runs together (the runs of one capacity point, or at the capacity
    estimate): their right responses / their responses to ``expect_call`` questions; None without any.
    Pooled, not a mean of the runs' accuracies: a run with more such responses weighs more."""
    known = [c for c in runs if c is not None]
    of = sum(c.expect_call_responses for c in known)
    return sum(c.right for c in known) / of if of else None
