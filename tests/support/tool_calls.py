"""A model's call written from a question's expectation, for the tool tests (no tests here).

:func:`call_from` turns an :class:`~harness.records.ExpectedCall` into the (name, arguments JSON) a model
that gets it right would stream: each literal as JSON has it, an ``any_of``'s first alternative, a ``number``
matcher's number, a ``{present: true}`` argument a value its schema allows, ``absent`` and ``optional``
arguments left out.
"""

from __future__ import annotations

import json
from typing import Any

from harness.records import ExpectedCall, Tool
from harness.rubric.tool_args import matcher_head, plain, properties_of, sub_schema

_OMIT = object()


def any_allowed(schema: dict[str, Any]) -> Any:
    """A value the schema allows: its first ``enum`` member, else one of its type."""
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    return {"integer": 1, "number": 1.5, "boolean": True, "array": [], "object": {}, "null": None}.get(kind, "任意文本")


def value_from(expected: Any, schema: dict[str, Any]) -> Any:
    """What a right model passes for one expected value (``_OMIT``: it leaves the argument out)."""
    expected = plain(expected)
    head = matcher_head(expected, schema)
    if head in ("absent",) or (head in ("any_of", "number") and expected.get("optional") is True):
        return _OMIT
    if head == "present":
        return any_allowed(schema)
    if head == "equals":
        return expected["equals"]
    if head == "any_of":
        return value_from(expected["any_of"][0], schema)
    if head == "number":
        return (
            expected["number"] if schema.get("type") != "string" else f"{expected['number']}{expected.get('unit', '')}"
        )
    if isinstance(expected, dict):
        return arguments_from(expected, schema)
    if isinstance(expected, list):
        return [value_from(v, sub_schema(schema, "items")) for v in expected]
    if isinstance(expected, int | float) and not isinstance(expected, bool) and schema.get("type") == "string":
        return str(expected)
    return expected


def arguments_from(expected: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    props = properties_of(schema)
    picked = {k: value_from(v, sub_schema(props, k)) for k, v in expected.items()}
    return {k: v for k, v in picked.items() if v is not _OMIT}


def call_from(expected: ExpectedCall, tools: list[Tool]) -> tuple[str, str]:
    """(name, arguments as JSON text) of the call a right model makes for ``expected``."""
    params = next(t.function.parameters for t in tools if t.name == expected.name)
    return expected.name, json.dumps(arguments_from(expected.arguments, params), ensure_ascii=False)
