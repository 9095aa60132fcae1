"""What the load sweep sends, and the grading of the tool calls it got back (after each level).

:func:`sweep_load` cycles the plan's questions into a level's requests. A request is the question's prompt
with the sweep's fixed output length (``sweep.max_tokens``, ``ignore_eos``, no stop strings), exactly as
it always was, except for a question offered tools (:meth:`~harness.records.QuestionSet.tools_for`) on the
chat API: that one is sent as the quality run sends its first request (:func:`harness.run.generate.answer`:
the plan's ``sampling.max_tokens``, its tools with ``tool_choice: "auto"``, the model stopping where it
stops). A call is complete only at the model's own end: cut at a fixed length, or followed by what a model
writes past its end (``ignore_eos``), it would grade the sweep's settings, not the load. On the completions
API such a question goes without tools, as before, and its calls are not graded (the quality run does not
ask it there at all).

:func:`level_calls` grades, once the level is over, the first response of every answered request to a
question that grades calls (``expect_call`` or ``no_call``) with
:func:`~harness.rubric.tool_calls.grade_calls`, as the scoring stage grades an answer
(:func:`harness.scoring.stage.grade_answer_calls`); nothing of it runs while the level's clock does.
No scripted tool reply is sent back under load: multi-step questions count by their first response.
NVIDIA's AIPerf measures accuracy under load the same way, and reports the share of unparsable calls
rising with concurrency (https://github.com/ai-dynamo/aiperf).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace

from harness.inputs.plan import LoadedPlan
from harness.inputs.prompts import build_request
from harness.records import Api, ExpectedCall, LevelCalls, Question, Request, Sweep, Tool
from harness.rubric.tool_calls import grade_calls
from harness.rubric.tool_figures import call_figures
from harness.run.tool_rounds import with_tools
from harness.server.client import Result


@dataclass(frozen=True)
class CallCheck:
    """How the calls of one sweep request are graded: the tools it offered, its question's expectation."""

    tools: tuple[Tool, ...]
    expect_call: tuple[ExpectedCall, ...]
    no_call: bool


@dataclass(frozen=True)
class LoadRequests:
    """A level's requests, in the order sent, and per request how its calls are graded."""

    requests: list[Request]
    checks: list[CallCheck | None]
    """Per request: its :class:`CallCheck`; None for a request whose calls are not graded."""

    @property
    def grades_calls(self) -> bool:
        return any(c is not None for c in self.checks)


def sweep_load(lp: LoadedPlan, api: Api, sweep: Sweep) -> LoadRequests:
    """``sweep.requests_per_level`` requests cycled from the plan's questions (the module's docstring)."""
    s = lp.plan.sampling
    pool = [(ls.qs, q) for ls in lp.sets for q in ls.qs.questions]
    requests, checks = [], list[CallCheck | None]()
    for i, (qs, q) in zip(range(sweep.requests_per_level), itertools.cycle(pool), strict=False):
        req = build_request(api, qs, q, s, s.seed + i)
        tools = qs.tools_for(q)
        if tools and api == "chat":
            requests.append(with_tools(req, tools))
            checks.append(_check(q, tools))
            continue
        requests.append(replace(req, max_tokens=sweep.max_tokens or s.max_tokens, stop=None,
                                ignore_eos=sweep.ignore_eos))  # fmt: skip
        checks.append(None)
    return LoadRequests(requests, checks)


def _check(q: Question, tools: Sequence[Tool]) -> CallCheck | None:
    return CallCheck(tuple(tools), tuple(q.expect_call), q.no_call) if q.grades_calls else None


def level_calls(
    results: Sequence[Result], indices: Sequence[int], checks: Sequence[CallCheck | None]
) -> LevelCalls | None:
    """The graded calls of a level's ``results`` (``indices``: each one's request, into ``checks``).

    None when no request of the level grades calls. A request never answered (a level cut short) is in
    none of the counts; one that failed is counted in ``failed``, not graded."""
    if not any(c is not None for c in checks):
        return None
    grades, failed = [], 0
    for i, r in zip(indices, results, strict=True):
        check = checks[i]
        if check is None:
            continue
        if r.error is not None:
            failed += 1
            continue
        calls = [(c.name, c.arguments) for c in r.tool_calls]
        grades.append(grade_calls(check.tools, check.expect_call, check.no_call, calls,
                                  [c.problem for c in r.tool_calls]))  # fmt: skip
    f = call_figures(grades)
    n = f.outcomes.get
    return LevelCalls(responses=f.responses, expect_call_responses=f.expect_call_responses, right=n("right", 0),
                      wrong_call=n("wrong_call", 0), missed_call=n("missed_call", 0),
                      unexpected_call=n("unexpected_call", 0), no_call_right=n("no_call_right", 0),
                      unparsable=n("unparsable", 0), failed=failed, call_accuracy=f.call_accuracy,
                      unparsable_share=f.unparsable_share)  # fmt: skip
