"""Whether a question's expected arguments fit the tool's schema, for ``harness validate`` (pure).

The grammar of expected values is :mod:`harness.rubric.tool_args`'s; :func:`expected_problems` reports
each value that cannot be what the schema allows (an undeclared name, a literal of another type or
outside the enum, a string for a number that reads as no number, one for a date that reads as no date)
and each malformed matcher (an unknown key, ``optional`` outside ``any_of`` / ``number``, ``absent`` or
``optional`` where no argument may be left out: an ``any_of`` alternative, an array item), with where it is
below the ``arguments`` mapping.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from harness.rubric.tool_args import (
    ANY_OF,
    DATE_FORMATS,
    HEAD_KEYS,
    MATCHER_KEYS,
    fits_type,
    impossible_iso,
    is_number,
    json_type,
    matcher_head,
    moment,
    plain,
    properties_of,
    read_number,
    required_of,
    schema_refusal,
    schema_types,
    sub_schema,
    takes_undeclared,
)

_MATCHERS = (
    "a matcher is {any_of: [...]}, {number: N, unit, tolerance, abs_tolerance}, either with optional: "
    "true, {present: true}, {absent: true} or {equals: X}"
)


@dataclass(frozen=True)
class ExpectProblem:
    """A problem of an expected value against the tool's schema, for ``harness validate``."""

    at: tuple[str | int, ...]
    """Where, below the ``arguments`` mapping: ``("days",)``, ``("days", "any_of", 1)``."""
    message: str
    severity: Literal["error", "warning"] = "error"


def expected_problems(
    arguments: dict[str, Any], parameters: dict[str, Any], *, call: bool = True
) -> list[ExpectProblem]:
    """Whether expected ``arguments`` fit the tool's ``parameters``: every name declared, each literal of
    the property's type (and enum member; a string for a number reads as one number, one for a date as a
    date), each matcher well formed. ``call``: the arguments of an ``expect_call`` (a required argument
    left out is a warning: any value then passes); False for a ``tool_results`` entry, which matches on
    the arguments it names only."""
    return _object_problems(arguments, parameters, (), call)


def _object_problems(
    expected: dict[str, Any], schema: dict[str, Any], at: tuple[str | int, ...], call: bool, literal: bool = False
) -> list[ExpectProblem]:
    props = properties_of(schema)
    out: list[ExpectProblem] = []
    for k, v in expected.items():
        if k not in props and not takes_undeclared(schema, bool(at)):
            declared = ", ".join(props) or "none"
            out.append(ExpectProblem((*at, k), f"{k!r} is not an argument of the tool's schema (declared: {declared})"))
            continue
        out += _value_problems(v, sub_schema(props, k), (*at, k), call, slot=True, literal=literal)
        if not literal and k in required_of(schema) and matcher_head(v, sub_schema(props, k)) == "absent":
            why = f"{k!r} is required by the schema, so no call the API accepts leaves it out as absent: true asks"
            out.append(ExpectProblem((*at, k), why, "warning"))
    for r in required_of(schema) if call and not literal else []:
        if r not in expected:
            why = (f"required argument {r!r} is left out: any value the model passes for it is accepted; write "
                   f"{r}: {{present: true}} if any value will do, or give its expected value")  # fmt: skip
            out.append(ExpectProblem(at, why, "warning"))
    return out


def _value_problems(
    v: Any, schema: dict[str, Any], at: tuple[str | int, ...], call: bool, *, slot: bool = False, literal: bool = False
) -> list[ExpectProblem]:
    """The problems of one expected value; ``slot``: it is an argument's (a property's) value, which may be
    left out; ``literal``: inside ``equals``, where no mapping is a matcher."""
    v = plain(v)
    types = schema_types(schema)
    if not literal and matcher_head(v, schema) is not None:
        return _matcher_problems(v, schema, at, call, slot)
    if isinstance(v, dict):
        if types and "object" not in types:
            return [ExpectProblem(at, f"an object where the schema says {' or '.join(sorted(types))} ({_MATCHERS})")]
        return _object_problems(v, schema, at, call, literal)
    if isinstance(v, list):
        if types and "array" not in types:
            return [ExpectProblem(at, f"a list where the schema says {' or '.join(sorted(types))}; for accepted "
                                  "alternatives write {any_of: [...]}")]  # fmt: skip
        items = sub_schema(schema, "items")
        return [p for j, item in enumerate(v) for p in _value_problems(item, items, (*at, j), call, literal=literal)]
    if isinstance(v, str) and types and "string" not in types and types & {"number", "integer"}:
        value = read_number(v)
        if value is None:
            return [
                ExpectProblem(at, f"{v!r} reads as no single number, and the schema says {'/'.join(sorted(types))}")
            ]
        if "number" not in types and value != int(value):
            return [ExpectProblem(at, f"{v!r} reads as {value:g}, not an integer as the schema says")]
        return _refused(value, schema, at)
    if not (is_number(v) and "string" in types) and not fits_type(v, schema):
        return [ExpectProblem(at, f"{v!r} is {json_type(v)}, the schema says {' or '.join(sorted(types))}")]
    if isinstance(schema.get("enum"), list) and v not in schema["enum"]:
        return [ExpectProblem(at, f"{v!r} is not one of the schema's values {schema['enum']!r}")]
    if isinstance(v, str) and schema.get("format") in DATE_FORMATS and impossible_iso(v):
        return [ExpectProblem(at, f"{v!r} names no real day (the schema's format is {schema['format']})")]
    if isinstance(v, str) and schema.get("format") in DATE_FORMATS and moment(v) is None:
        return [ExpectProblem(at, f"{v!r} reads as no date or time, and the schema's format is {schema['format']}")]
    return _refused(v, schema, at)


def _refused(v: Any, schema: dict[str, Any], at: tuple[str | int, ...]) -> list[ExpectProblem]:
    """A literal outside the schema's bounds (``pattern``, ``minimum``...): no call the API accepts passes it.
    Its ``format`` is not asked of it: the expected value may be written as people write dates."""
    refused = schema_refusal(v, schema, formats=False)
    return [ExpectProblem(at, f"{refused}: no call the API accepts passes this value")] if refused else []


def _matcher_problems(
    v: dict[str, Any], schema: dict[str, Any], at: tuple[str | int, ...], call: bool, slot: bool
) -> list[ExpectProblem]:
    head = next(h for h in HEAD_KEYS if h in v)
    allowed = MATCHER_KEYS[head]
    unknown = [k for k in v if k not in allowed]
    if unknown:
        others = [k for k in unknown if k in HEAD_KEYS]
        keys = ", ".join(sorted(allowed))
        why = (f"{head} cannot be combined with {', '.join(others)}: one matcher per value" if others else
               f"unknown key {', '.join(map(str, unknown))} in the {head} matcher (its keys: {keys}; for an "
               "object literal whose keys look like a matcher's write {equals: {...}})")  # fmt: skip
        return [ExpectProblem((*at, unknown[0]), why)]
    if head in ("present", "absent"):
        if v[head] is not True:
            return [ExpectProblem((*at, head), f"write {head}: true, got {v[head]!r}")]
        if head == "absent" and not slot:
            return [ExpectProblem(at, "absent: true fits an argument only, not an any_of alternative or array item")]
        return []
    if head == "equals":
        return _value_problems(v["equals"], schema, (*at, "equals"), call, literal=True)
    out = []
    if "optional" in v:
        if not isinstance(v["optional"], bool):
            out.append(ExpectProblem((*at, "optional"), f"optional must be true or false, got {v['optional']!r}"))
        elif v["optional"] and not slot:
            out.append(ExpectProblem((*at, "optional"), "optional: true fits an argument only, not an any_of "
                                     "alternative or array item"))  # fmt: skip
    if head == ANY_OF:
        alts = v[ANY_OF]
        if not isinstance(alts, list) or not alts:
            return [*out, ExpectProblem((*at, ANY_OF), "any_of needs a non-empty list of accepted values "
                                        "(for an argument that must not be passed write {absent: true})")]  # fmt: skip
        return out + [p for j, alt in enumerate(alts) for p in _value_problems(alt, schema, (*at, ANY_OF, j), call)]
    n = v["number"]
    if not is_number(n) and not (isinstance(n, str) and read_number(n) is not None):
        out.append(ExpectProblem((*at, "number"), f"number must be a number, got {n!r}"))
    for key in ("tolerance", "abs_tolerance"):
        if key in v and (not is_number(v[key]) or v[key] < 0):
            out.append(ExpectProblem((*at, key), f"{key} must be a number >= 0, got {v[key]!r}"))
    if "unit" in v and (not isinstance(v["unit"], str) or not v["unit"].strip()):
        out.append(ExpectProblem((*at, "unit"), f"unit must be a unit's spelling (天, kg), got {v['unit']!r}"))
    types = schema_types(schema)
    if types and not types & {"number", "integer", "string"}:
        out.append(ExpectProblem(at, f"a number matcher fits a number or string argument; the schema says "
                                 f"{' or '.join(sorted(types))}"))  # fmt: skip
    return out
