"""Grade a response's tool calls against its question's expectation (pure).

:func:`grade_calls` takes the tools offered, the question's ``expect_call`` (or ``no_call``) and the calls
the model made, each as ``(name, arguments)`` with the arguments as the server streamed them (a JSON
string), and returns a :class:`CallGrade`: one outcome per response (:data:`CALL_OUTCOMES`), the pairing
of expected and made calls, and the argument errors of each pair (:mod:`harness.rubric.tool_args`).

Parallel calls match in any order: expected and made calls are paired by the assignment that makes the
most pairs right, then the most pairs of the same function, then the fewest argument errors; a repeat
of an earlier call (same function, same arguments) pairs only where it is right (brute force
over assignments for up to :data:`BRUTE_FORCE_CALLS` calls a side, greedy beyond); a made call left over
(a duplicate, an extra call) or an expected call left unpaired makes the response ``wrong_call``. This
is BFCL's exact match for the parallel category (``parallel_function_checker_no_order``: same count, each
expected call matched by a distinct made call), with the pairing kept for the report.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any, Literal

from harness.records import (
    CALL_OUTCOMES,
    ArgError,
    CallGrade,
    CallOutcome,
    CallPair,
    ExpectedCall,
    Tool,
    ToolResult,
    ToolStep,
)
from harness.rubric.tool_args import grade_arguments, json_type

__all__ = ["CALL_OUTCOMES", "ArgError", "CallGrade", "CallOutcome", "CallPair", "grade_calls", "result_for"]

BRUTE_FORCE_CALLS = 6
"""Up to this many calls on each side, every assignment is tried; beyond, pairs are taken greedily."""


def parse_arguments(raw: str) -> tuple[dict[str, Any] | None, str]:
    """(the arguments object, "") or (None, why it is not one). An empty string is ``{}`` (servers send
    it for a function called with no arguments); anything else must be a JSON object."""
    if not raw.strip():
        return {}, ""
    try:
        value = json.loads(raw)
    except (json.JSONDecodeError, RecursionError) as exc:
        return None, f"not JSON ({exc.msg if isinstance(exc, json.JSONDecodeError) else 'nested too deep'})"
    if not isinstance(value, dict):
        return None, f"a JSON {json_type(value)}, not an object"
    return value, ""


def _pair(
    k: int, j: int, expected: Sequence[ExpectedCall], name: str, got: dict[str, Any], tools: dict[str, Tool]
) -> CallPair | None:
    """The pair of expected call ``k`` and made call ``j``; a call to another function pairs only when no
    expected call names that function (a duplicate of an expected call is extra, not a wrong function)."""
    if name != expected[k].name:
        return None if any(e.name == name for e in expected) else CallPair(expected=k, made=j, same_function=False)
    tool = tools.get(name)
    params = tool.function.parameters if tool is not None else {}
    return CallPair(expected=k, made=j, same_function=True, errors=grade_arguments(expected[k].arguments, got, params))


def _score(pairs: Sequence[CallPair]) -> tuple[int, int, int]:
    return (sum(p.right for p in pairs), sum(p.same_function for p in pairs), -sum(len(p.errors) for p in pairs))


def _assignments(table: list[list[CallPair | None]], k: int, used: frozenset[int]) -> Iterator[list[CallPair]]:
    """Every pairing of expected calls ``k..`` with distinct made calls not in ``used`` (or none)."""
    if k == len(table):
        yield []
        return
    for rest in _assignments(table, k + 1, used):
        yield rest
    for p in table[k]:
        if p is not None and p.made not in used:
            for rest in _assignments(table, k + 1, used | {p.made}):
                yield [p, *rest]


def _assign(table: list[list[CallPair | None]], n_made: int, first: dict[int, int]) -> list[CallPair]:
    """The pairing (one made call per expected call at most) with the best :func:`_score`, then the most
    pairs. A repeat ``j`` of an earlier call ``first[j]`` is paired only where that earlier call is paired
    right: a duplicate is extra, not a wrong attempt at another expected call."""

    def fair(pairs: list[CallPair]) -> bool:
        right = {p.made for p in pairs if p.right}
        return all(p.right and first[p.made] in right for p in pairs if p.made in first)

    if len(table) <= BRUTE_FORCE_CALLS and n_made <= BRUTE_FORCE_CALLS:
        best = max(filter(fair, _assignments(table, 0, frozenset())), key=lambda ps: (_score(ps), len(ps)))
        return sorted(best, key=lambda p: p.expected)
    out: list[CallPair] = []
    candidates = sorted((p for row in table for p in row if p is not None), key=lambda p: _score([p]), reverse=True)
    for p in candidates:
        if all(q.made != p.made and q.expected != p.expected for q in out) and fair([*out, p]):
            out.append(p)
    return sorted(out, key=lambda p: p.expected)


def grade_calls(
    tools: Sequence[Tool], expect_call: Sequence[ExpectedCall], no_call: bool, calls: Sequence[tuple[str, str]],
    problems: Sequence[str | None] = (), from_text: Sequence[bool] = (),
) -> CallGrade:  # fmt: skip
    """Grade ``calls`` ((name, raw arguments) in the order made) against ``expect_call`` or ``no_call``.

    ``problems``: per call, why the stream could not be read whole (``ToolCallMade.problem``; None: read
    whole); a call with a problem makes the response ``unparsable`` whatever its arguments say.
    ``from_text``: per call, whether it was read from the answer's text (``ToolCallMade.from_text``); it is
    graded like any call and counted in :attr:`CallGrade.in_text`.
    Raises ValueError when the question grades no calls (neither ``expect_call`` nor ``no_call``)."""
    if not no_call and not expect_call:
        raise ValueError("the question grades no calls: give expect_call or no_call")
    expects: Literal["calls", "no_call"] = "no_call" if no_call else "calls"

    def grade(outcome: CallOutcome, reason: str, **parts: list[Any]) -> CallGrade:
        return CallGrade.model_validate(
            {"outcome": outcome, "expects": expects, "made": len(calls), "in_text": sum(from_text),
             "parsed": outcome != "unparsable",
             "reason": reason, **parts}
        )  # fmt: skip

    for j, problem in enumerate(problems):
        if problem:
            name = calls[j][0] if j < len(calls) else "?"
            return grade("unparsable", f"call {j + 1} ({name or 'no name'}): {problem}")
    parsed: list[dict[str, Any]] = []
    for j, (name, raw) in enumerate(calls):
        args, why = parse_arguments(raw)
        if args is None:
            return grade("unparsable", f"call {j + 1} ({name}): the arguments are {why}: {raw[:80]!r}")
        parsed.append(args)
    names = [name for name, _ in calls]
    if no_call:
        if calls:
            why = f"called {', '.join(names)}; the question is to be answered without a call"
            return grade("unexpected_call", why, extra=list(range(len(calls))))
        return grade("no_call_right", "answered without a call, as expected")
    if not calls:
        want = ", ".join(c.name for c in expect_call)
        return grade("missed_call", f"made no call; expected {want}", missing=list(range(len(expect_call))))
    by_name = {t.name: t for t in tools}
    calls_made = list(zip(names, parsed, strict=True))
    first = {j: calls_made.index(c) for j, c in enumerate(calls_made) if calls_made.index(c) < j}
    table = [
        [_pair(k, j, expect_call, names[j], parsed[j], by_name) for j in range(len(calls))]
        for k in range(len(expect_call))
    ]
    pairs = _assign(table, len(calls), first)
    missing = [k for k in range(len(expect_call)) if all(p.expected != k for p in pairs)]
    extra = [j for j in range(len(calls)) if all(p.made != j for p in pairs)]
    if all(p.right for p in pairs) and not missing and not extra:
        return grade("right", "the expected calls, with the expected arguments", pairs=pairs)
    why = _why_wrong(pairs, missing, extra, expect_call, names, by_name)
    return grade("wrong_call", why, pairs=pairs, missing=missing, extra=extra)


def _why_wrong(
    pairs: list[CallPair], missing: list[int], extra: list[int], expect_call: Sequence[ExpectedCall],
    names: list[str], tools: dict[str, Tool],
) -> str:  # fmt: skip
    parts = []
    for p in pairs:
        if not p.same_function:
            offered = "" if names[p.made] in tools else " (not a function offered)"
            parts.append(f"called {names[p.made]}{offered} instead of {expect_call[p.expected].name}")
        elif p.errors:
            parts.append(
                f"{names[p.made]}: " + "; ".join(f"{e.path} {e.kind.replace('_', ' ')} ({e.why})" for e in p.errors)
            )
    parts += [f"expected call {_shown(expect_call[k])} not made" for k in missing]
    parts += [f"extra call {names[j]}" for j in extra]
    return "; ".join(parts)


def with_later_rounds(grade: CallGrade, steps: Sequence[ToolStep]) -> CallGrade:
    """``grade`` (of the first response's calls) once the later rounds of a multi-step answer are seen: a
    right grade becomes ``wrong_call`` when a later round repeats a call already answered (the same
    function with the same arguments, compared as parsed JSON). After the reply, calling again is a loop
    for a lookup and a second action for a submission (a second reimbursement, a duplicate work order); a
    careful grader fails it whatever the final text says. Any other grade, and a grade with no later
    round, is returned as it is. ``steps``: ``Generation.tool_steps`` (round 1 holds the first response's
    calls)."""
    if not grade.right or grade.expects != "calls" or len(steps) < 2:
        return grade
    answered: list[tuple[str, Any]] = []
    for number, step in enumerate(steps, start=1):
        for call in step.calls:
            args, _ = parse_arguments(call.arguments)
            if number > 1 and (call.name, args) in answered:
                why = (
                    f"repeated {call.name} with the same arguments in round {number}, after the tool had"
                    " replied: a loop, or the action done twice"
                )
                return grade.model_copy(update={"outcome": "wrong_call", "reason": why})
            answered.append((call.name, args))
    return grade


def _shown(call: ExpectedCall, limit: int = 80) -> str:
    """An expected call as one short line: ``get_machine_parameter {"machine_id": "CNC-07", ...}``."""
    if not call.arguments:
        return call.name
    args = json.dumps(call.arguments, ensure_ascii=False, default=str)
    return f"{call.name} {args if len(args) <= limit else args[:limit] + '…'}"


def result_for(call: tuple[str, str], results: Sequence[ToolResult], tools: Sequence[Tool]) -> ToolResult | None:
    """The scripted reply for a made ``call`` ((name, raw arguments), as :func:`grade_calls` takes it): the
    first of ``results`` (:meth:`QuestionSet.tool_results_for`: the question's own first) that names the
    same function and whose ``arguments``, when given, match the call's as an expected call's would
    (:func:`~harness.rubric.tool_args.grade_arguments`, by the tool's schema in ``tools``). Only the
    arguments a result names decide: an error elsewhere in the call (an argument it leaves out, an
    invented one) is the call's grade's business, not the reply's. None when no result fits or the
    arguments do not parse."""
    name, raw = call
    got, _ = parse_arguments(raw)
    if got is None:
        return None
    tool = next((t for t in tools if t.name == name), None)
    params = tool.function.parameters if tool is not None else {}
    for r in results:
        if r.name != name:
            continue
        if r.arguments is None:
            return r
        named = set(r.arguments)
        errors = grade_arguments(r.arguments, got, params)
        if not any(_top(e.path) in named for e in errors):
            return r
    return None


def _top(path: str) -> str:
    """The argument an error's path starts with: ``items[0].qty`` -> ``items``."""
    return path.split(".", 1)[0].split("[", 1)[0]
