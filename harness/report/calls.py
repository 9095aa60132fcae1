"""The report's tool calls (pure): the "Tool calls" section's figures in words, and each answer's calls for the
drill-down. Only a run whose scores grade calls has either (its answers frame has a ``call`` column,
:data:`harness.rollup.frames.CALL_COLUMNS`); any other run's page is as it was.

The figures are those of :mod:`harness.rollup.calls` (docs/tools.md, "Figures"); each is shown with the counts
it is made of ("7/10 right"), taken from :func:`harness.rubric.tool_figures.call_figures` over the same
answers, so a reader sees how many responses a rate stands on. Model output is data here: a made call's name
and arguments travel as the text the server streamed, and the page writes them with ``textContent`` only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd
from pydantic import TypeAdapter
from typing_extensions import TypedDict

from harness.records import CallGrade, ExpectedCall, Question, ToolCallMade, ToolStep
from harness.rubric.tool_calls import parse_arguments
from harness.rubric.tool_figures import call_figures


class CallsView(TypedDict):
    """The fields of a :class:`~harness.records.Generation` the drill-down's calls read."""

    schema_version: int
    key: str
    tool_calls: list[ToolCallMade]
    tool_steps: list[ToolStep]


CALLS_VIEW: TypeAdapter[CallsView] = TypeAdapter(CallsView)
CallReader = Callable[[set[str]], dict[str, CallsView]]
"""Generation keys -> those answers' made calls (:func:`harness.report.load.answer_calls`)."""

ARG_KIND_WORDS = {"missing": "missing", "wrong_value": "wrong value", "wrong_type": "wrong type",
                  "invented": "invented"}  # fmt: skip


def _share(count: int, of: int, word: str) -> dict[str, Any]:
    """A rate as the page shows it: the share (None: not measured) and its counts in words."""
    return {"rate": count / of if of else None, "label": f"{count}/{of} {word}" if of else "no responses"}


def call_rows(models: pd.DataFrame, answers: pd.DataFrame, names: list[str]) -> list[dict[str, Any]]:
    """One row per candidate for the "Tool calls" section; ``[]`` when no answer's calls were graded.

    Each rate is ``{rate, label}`` (:func:`_share`): call accuracy ``right/expect_call``, wrong and missed
    calls over the same, unexpected calls over ``no_call`` responses, no-call precision ``no_call_right /
    (no_call_right + missed_call)``, unparsable over every graded response; ``text`` the calls written in the
    answer's text over the calls made (``text_call_share``, docs/tools.md, "Calls written in the text"); ``args``
    the argument errors by kind; latency p50/p90 (ms) over the ``made`` calls and pass^k over
    ``pass_k_questions`` come from ``models`` (:mod:`harness.rollup.calls`).
    """
    if "call" not in answers.columns or "call_accuracy" not in models.columns:
        return []
    by_name = models.set_index("candidate")
    rows = []
    for name in (n for n in names if n in by_name.index):
        mine = answers[(answers.candidate == name) & answers.call.notna()]
        f = call_figures(list(mine.call))
        o, expect, none = f.outcomes, f.expect_call_responses, f.no_call_responses
        silent = o.get("no_call_right", 0) + o.get("missed_call", 0)
        m = by_name.loc[name]
        rows.append({
            "candidate": name, "responses": f.responses,
            "accuracy": _share(o.get("right", 0), expect, "right"),
            "wrong": _share(o.get("wrong_call", 0), expect, "wrong call"),
            "missed": _share(o.get("missed_call", 0), expect, "missed"),
            "unexpected": _share(o.get("unexpected_call", 0), none, "called"),
            "no_call_precision": _share(o.get("no_call_right", 0), silent, "right not to call"),
            "unparsable": _share(o.get("unparsable", 0), f.responses, "unparsable"),
            "text": _text_share(sum(g.in_text for g in mine.call), sum(g.made for g in mine.call)),
            "args": [(ARG_KIND_WORDS[k], n) for k, n in f.arg_errors.items()],
            "pairs": sum(p.same_function for g in mine.call for p in g.pairs),
            "made": sum(bool(g.made) for g in mine.call),
            "p50_ms": _cell(m.get("tool_call_p50_ms")), "p90_ms": _cell(m.get("tool_call_p90_ms")),
            "pass_k": _cell(m.get("call_pass_hat_k")),
            "pass_k_questions": int(m.get("call_pass_hat_k_questions") or 0),
        })  # fmt: skip
    return rows


def _text_share(in_text: int, made: int) -> dict[str, Any]:
    """``text_call_share`` as the page shows it: "12/12 calls written in the text"; not measured without calls."""
    if not made:
        return {"rate": None, "label": "no calls made"}
    return {"rate": in_text / made, "label": f"{in_text}/{made} call{'s' if made != 1 else ''} written in the text"}


def _cell(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _count(value: Any) -> int:
    return 0 if value is None or pd.isna(value) else int(value)


def sweep_call_cells(sweep: pd.DataFrame) -> list[dict[str, Any] | None] | None:
    """Per row of the sweep frame, in its order, the level's graded calls for the sweep table, or None for a
    level that graded none; None (no call columns on the page) when no level graded calls.

    Each: ``accuracy`` (right over the responses to ``expect_call`` questions), ``unparsable`` (over the
    responses graded), both ``{rate, label}`` (:func:`_share`), and the ``wrong`` and ``missed`` counts; from
    :data:`harness.rollup.perf_summary.LEVEL_CALL_COLUMNS`.
    """
    if "call_responses" not in sweep.columns or not sweep.call_responses.notna().any():
        return None
    cells: list[dict[str, Any] | None] = []
    for row in sweep.to_dict("records"):
        if pd.isna(row["call_responses"]):
            cells.append(None)
            continue
        responses = _count(row["call_responses"])
        cells.append({
            "accuracy": _share(_count(row["right_calls"]), _count(row["expect_call_responses"]), "right"),
            "unparsable": _share(_count(row["unparsable_calls"]), responses, "unparsable"),
            "wrong": _count(row["wrong_calls"]), "missed": _count(row["missed_calls"]),
        })  # fmt: skip
    return cells


# ---------------------------------------------------------------- the drill-down's calls


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=False)


_STEP = re.compile(r"\.?([^.\[\]]+)|\[(\d+)\]")


def at_path(value: Any, path: str) -> tuple[bool, Any]:
    """(found, the value) at an argument path as :class:`~harness.records.ArgError` names it (``days``,
    ``machine.id``, ``items[0].amount``); (False, None) where the path leads nowhere."""
    for m in _STEP.finditer(path):
        key, index = m.group(1), m.group(2)
        if index is not None and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        elif key is not None and isinstance(value, dict) and key in value:
            value = value[key]
        else:
            return False, None
    return True, value


def expected_entry(q: Question) -> dict[str, Any] | None:
    """The question's expectation for the drill-down: ``{"no": true}`` for ``no_call``, else ``{"x": [[name,
    arguments as JSON text], ...]}``; None when the question's calls are not graded."""
    if q.no_call:
        return {"no": True}
    if q.expect_call:
        return {"x": [[e.name, _json(e.arguments)] for e in q.expect_call]}
    return None


def _show(found: bool, value: Any) -> str | None:
    return _json(value) if found else None


def _made(c: ToolCallMade) -> list[Any]:
    """A made call for the drill-down: ``[name, arguments text, problem]``, with ``1`` after them when it was read
    from the answer's text (``from_text``; a call through the protocol leaves it out, to keep the page small)."""
    return [c.name, c.arguments, c.problem] + ([1] if c.from_text else [])


def answer_entry(grade: CallGrade, made: CallsView | None, expected: list[ExpectedCall]) -> dict[str, Any]:
    """One graded answer's calls for the drill-down (compact keys; model text kept as streamed):

    ``o`` outcome, ``why`` the grade's reason (a wrong outcome only), ``m`` made calls ``[name, arguments text,
    problem]`` (then ``1`` for a call written in the text: :func:`_made`), ``p`` pairs ``[expected index, made
    index, same function, errors]`` with each error ``[kind, path, why, expected (JSON text or None), got (JSON
    text or None)]``, ``mi`` expected calls not made, ``x`` made calls paired with none; ``st`` the multi-step
    rounds ``[[calls], [replies], text]``, each call ``[name, arguments text]`` (then ``1`` when written in the
    text), only when there are several. ``made`` None (the generation was not read) gives no ``m``.
    """
    out: dict[str, Any] = {"o": grade.outcome}
    if not grade.right:  # a right grade's reason says nothing the outcome does not; 200,000 of them add up
        out["why"] = grade.reason
    calls = made["tool_calls"] if made is not None else []
    if made is not None:
        out["m"] = [_made(c) for c in calls]
    pairs = []
    for p in grade.pairs:
        errors = []
        if p.errors:
            got_args = parse_arguments(calls[p.made].arguments)[0] if p.made < len(calls) else None
            want_args = expected[p.expected].arguments if p.expected < len(expected) else {}
            for e in p.errors:
                want, got = at_path(want_args, e.path), at_path(got_args or {}, e.path)
                errors.append([e.kind, e.path, e.why, _show(*want), _show(*got)])
        pairs.append([p.expected, p.made, p.same_function, errors])
    if pairs:
        out["p"] = pairs
    if grade.missing:
        out["mi"] = list(grade.missing)
    if grade.extra:
        out["x"] = list(grade.extra)
    steps = made["tool_steps"] if made is not None else []
    if len(steps) > 1 or (steps and steps[0].replies):
        out["st"] = [[[[c.name, c.arguments, *([1] if c.from_text else [])] for c in s.calls], list(s.replies),
                      s.text] for s in steps]  # fmt: skip
    return out


def drill_calls(
    answers: pd.DataFrame, questions: dict[tuple[str, str], Question], read: CallReader | None
) -> dict[str, dict[str, Any]] | None:  # fmt: skip
    """Answer key -> :func:`answer_entry` for every answer whose calls were graded; None when none were
    (the drill-down then is as it was). ``read`` reads the made calls (None: the outcome and pairs only)."""
    if "call" not in answers.columns:
        return None
    graded = answers[answers.call.notna()]
    made = read(set(graded.key)) if read is not None else {}
    out = {}
    for key, set_id, qid, grade in zip(graded.key, graded.set_id, graded.question_id, graded.call, strict=True):
        q = questions.get((set_id, qid))
        out[key] = answer_entry(grade, made.get(key) if read is not None else None, q.expect_call if q else [])
    return out


def read_calls_of(views: Iterable[CallsView], keys: set[str]) -> dict[str, CallsView]:
    """The views of ``keys`` only."""
    return {v["key"]: v for v in views if v["key"] in keys}
