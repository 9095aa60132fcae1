"""Tool calls a model wrote as plain JSON in its answer (pure): a fenced block, or the start of the answer.

Small models often "call" a tool by writing the call's JSON as text instead of the format their chat
template asks for. Qwen2.5-Coder-0.5B-Instruct, offered tools through its Hermes template, answers the
sample set's questions with a fenced block (````json {"name": "get_leave_balance", "arguments": {…}}````)
or the bare object, never ``<tool_call>`` (docs/tools.md, "Calls written in the text"). BFCL grades such
output the same way: its prompt-mode models' calls are parsed from the text and scored like native
function calls, and the leaderboard labels the mode ("Prompt" beside "FC").

Read here, after the Hermes blocks (:func:`harness.server.tool_stream.calls_in_text`) found nothing:

- each fenced code block (three backticks, an optional ``json`` tag) whose content is a call object or
  several (one after another, or a JSON array of them);
- otherwise the call objects the answer begins with (the text after them stays the answer).

A *call object* is a JSON object whose ``name`` is one of the tools offered, with ``arguments`` or
``parameters`` (vLLM's ``llama3_json`` parser accepts either key) as an object or a JSON string. The name
must be offered so that an answer that merely *is* JSON (a question that asks for a JSON record) is never
taken for a call. A fence that does not parse but names an offered tool (``"name": "…"``), or an answer
that begins so, is an attempted call: kept, with a ``problem`` (graded unparsable), as an open
``<tool_call>`` block is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from typing import Any

from harness.records import ToolCallMade

FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\n(.*?)```|```[ \t]*(?:json|JSON)?[ \t]*\n(.*)", re.DOTALL)
"""A fenced code block (closed, or open to the end of the text), its content in group 1 or 2."""
NAME = re.compile(r'"name"\s*:\s*"((?:[^"\\]|\\.)*)"')


def json_values(text: str) -> list[Any] | None:
    """The JSON values ``text`` holds one after another (whitespace between), or None when any part is not JSON.

    >>> json_values('{"a": 1}\\n{"b": 2}')
    [{'a': 1}, {'b': 2}]
    """
    decoder, pos, values = json.JSONDecoder(), 0, []
    text = text.strip()
    while pos < len(text):
        try:
            value, pos = decoder.raw_decode(text, pos)
        except ValueError:
            return None
        values.append(value)
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return values or None


def as_calls(values: list[Any], names: Collection[str]) -> list[ToolCallMade] | None:
    """``values`` as calls ``from_text`` when every one is a call object (a list: its items), else None."""
    flat = [item for v in values for item in (v if isinstance(v, list) else [v])]
    calls = []
    for obj in flat:
        if not isinstance(obj, dict) or obj.get("name") not in names:
            return None
        args = obj.get("arguments", obj.get("parameters"))
        if not isinstance(args, dict | str):
            return None
        text = args if isinstance(args, str) else json.dumps(args, ensure_ascii=False)
        calls.append(ToolCallMade(name=obj["name"], arguments=text, from_text=True))
    return calls or None


def json_calls(answer: str, names: Collection[str]) -> tuple[list[ToolCallMade], list[tuple[int, int]]]:
    """The calls written as JSON in ``answer`` (thinking already taken out) and the spans they occupy.

    ``names``: the tools the request offered (none offered: nothing is read). Returns ``([], [])`` when the
    answer holds no call object (module docstring).

    >>> calls, spans = json_calls('```json\\n{"name": "f", "arguments": {"a": 1}}\\n```', {"f"})
    >>> calls[0].name, calls[0].arguments, spans
    ('f', '{"a": 1}', [(0, 48)])
    """
    if not names:
        return [], []
    calls: list[ToolCallMade] = []
    spans: list[tuple[int, int]] = []
    for m in FENCE.finditer(answer):
        closed = m.group(1) is not None
        body = m.group(1) if closed else m.group(2)
        values = json_values(body)
        found = as_calls(values, names) if values is not None else None
        if found:
            calls += found
            spans.append(m.span())
        elif values is None and (named := NAME.search(body)) and named.group(1) in names:
            how = "" if closed else " (the block was never closed)"
            calls.append(ToolCallMade(
                name=named.group(1), arguments=body.strip(), from_text=True,
                problem=f"the fenced block naming {named.group(1)} is not JSON{how}",
            ))  # fmt: skip
            spans.append(m.span())
    if calls:
        return calls, spans
    return leading_calls(answer, names)


def leading_calls(answer: str, names: Collection[str]) -> tuple[list[ToolCallMade], list[tuple[int, int]]]:
    """The call objects the answer begins with (one after another, or an array), and their one span; the
    text after them stays the answer. An answer that begins with JSON naming an offered tool but does not
    parse (cut off, a brace missing) is one attempted call with a ``problem``."""
    decoder, calls = json.JSONDecoder(), []
    start = pos = end = len(answer) - len(answer.lstrip())
    while pos < len(answer):
        try:
            value, after = decoder.raw_decode(answer, pos)
        except ValueError:
            break
        found = as_calls([value], names)
        if not found:
            break
        calls += found
        end = pos = after
        while pos < len(answer) and answer[pos].isspace():
            pos += 1
    if calls:
        return calls, [(start, end)]
    named = NAME.search(answer, start)
    if answer[start : start + 1] in ("{", "[") and named and named.group(1) in names:
        body = answer[start:].rstrip()
        problem = (
            f"the answer begins with JSON naming {named.group(1)} that is no call (an object with name and arguments)"
        )
        return [ToolCallMade(name=named.group(1), arguments=body, from_text=True, problem=problem)], [
            (start, len(body) + start)
        ]
    return [], []
