"""A small HR question set with tools, and a fake client of prepared results, for the run, scoring and
roll-up tests of tool calls (no tests here)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from harness.records import QuestionSet, Request, ToolCallMade
from harness.server.client import Result

LEAVE_TOOL = {
    "name": "get_leave_balance",
    "description": "查询员工某类假期的剩余天数。",
    "parameters": {
        "type": "object",
        "properties": {
            "employee_id": {"type": "string"},
            "leave_type": {"type": "string", "enum": ["年假", "病假", "调休"]},
        },
        "required": ["employee_id", "leave_type"],
    },
}
MACHINE_TOOL = {
    "name": "get_machine_parameter",
    "description": "查询一台机床某个运行参数的当前值。",
    "parameters": {
        "type": "object",
        "properties": {"machine_id": {"type": "string"}, "parameter": {"type": "string"}},
        "required": ["machine_id", "parameter"],
    },
}


def hr_set(**changes: Any) -> QuestionSet:
    """The set: ``call`` (single step, graded), ``two_step`` (a scripted reply, then checks on the final
    text), ``direct`` (``no_call`` with a check), ``plain`` (no tools at all: an ordinary question).
    ``changes`` replace top-level keys of the set (e.g. ``tools``)."""
    return QuestionSet.model_validate(hr_set_data(**changes))


def hr_set_data(**changes: Any) -> dict[str, Any]:
    """:func:`hr_set` as the YAML file would hold it."""
    data: dict[str, Any] = {
        "id": "hr",
        "title": "HR",
        "language": "zh",
        "tools": [LEAVE_TOOL, MACHINE_TOOL],
        "tool_results": [
            {"name": "get_machine_parameter", "content": {"value": 1200, "checked_on": dt.date(2026, 3, 5)}},
        ],
        "questions": [
            {"id": "call", "category": "假期", "question": "我是E2051，病假还能请几天？",
             "expect_call": {"name": "get_leave_balance", "arguments": {"employee_id": "E2051", "leave_type": "病假"}}},
            {"id": "two_step", "category": "假期", "question": "工号E1024，年假还剩几天？",
             "expect_call": {"name": "get_leave_balance", "arguments": {"employee_id": "E1024", "leave_type": "年假"}},
             "tool_results": [{"name": "get_leave_balance", "arguments": {"employee_id": "E1024"},
                               "content": {"remaining_days": 3}}],
             "checks": [{"type": "number", "args": {"value": 3, "unit": "天"}}]},
            {"id": "direct", "category": "制度", "question": "年假最少可以按几天请？", "no_call": True,
             "checks": [{"type": "number", "args": {"value": 0.5, "unit": "天"}}]},
        ],
    }  # fmt: skip
    data.update(changes)
    return data


def plain_set() -> QuestionSet:
    return QuestionSet.model_validate(
        {"id": "plain", "title": "P", "language": "zh",
         "questions": [{"id": "q", "category": "c", "question": "年假几天？"}]}
    )  # fmt: skip


def call(name: str, arguments: str, id_: str | None = "c1") -> ToolCallMade:
    return ToolCallMade(name=name, arguments=arguments, id=id_)


def result(text: str = "", calls: list[ToolCallMade] | None = None, **fields: Any) -> Result:
    """A finished response: ``text``, ``calls`` (with ``tool_call_ms`` 120 when there are calls)."""
    base: dict[str, Any] = {"tool_call_ms": 120.0 if calls else None, "ttft_ms": 50.0, "e2e_ms": 150.0,
                            "finish_reason": "tool_calls" if calls else "stop", "attempts": 1}  # fmt: skip
    return Result(text=text, tool_calls=calls or [], **{**base, **fields})


class FakeClient:
    """Answers each request with the next prepared result; keeps every request it was sent."""

    def __init__(self, *results: Result) -> None:
        self.results = list(results)
        self.requests: list[Request] = []

    async def generate(self, req: Request) -> Result:
        self.requests.append(req)
        return self.results.pop(0)
