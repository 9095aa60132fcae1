"""A tool call's arguments against the expected ones, by the type in the tool's JSON Schema (pure).

:func:`grade_arguments` compares the arguments a model passed (a parsed JSON object) with those an
:class:`harness.records.ExpectedCall` gives, and returns every :class:`ArgError` (``missing``,
``wrong_value``, ``wrong_type``, ``invented``) with the argument's path (``days``, ``items[0].amount``).
:func:`expected_problems` checks, for ``harness validate``, that expected arguments fit the schema.

The expected-value grammar (docs/tools.md, "Expected calls"):

- a literal, compared by the property's schema type:
  ``number`` / ``integer``: numeric equality (a string literal is read by the rubric's number reader, so
  ``"三"`` is 3 and ``"1.5万"`` 15000); ``string``: normalised text (NFKC: full/half width; case; space
  around and runs of space inside); ``string`` with ``enum``: the exact member; ``string`` with ``format:
  date`` / ``date-time`` / ``time``: the same date and time whatever the written form (``2026-03-05`` is
  ``2026年3月5日`` and ``March 5, 2026``; ``14:30`` is ``下午2点半``; time zones are not read); a number
  literal for a ``string`` property: the string's one figure, read as the ``number`` check reads an answer
  (``"三天"`` passes 3); ``boolean`` / ``null``: equality; ``array``: the same length and each item by the
  ``items`` schema, in order; ``object``: recursively, as the arguments themselves;
- ``{any_of: [v1, v2, ...]}``: any one of the alternatives, each itself a literal or a matcher;
- ``{number: 3, unit: 天, tolerance: 0.01, abs_tolerance: 0.5}``: a number within the tolerance
  (``tolerance`` relative, 0.01 = 1 %; ``abs_tolerance`` in the unit; the larger bound wins; both
  default to 0). A JSON number is taken to be in ``unit``; a string is read as the ``number`` check reads
  an answer, with units converted (``"72小时"`` is 3 天) and a bare figure taken to be in ``unit``.

A mapping is a matcher when its keys are matcher keys and, for an ``object`` property, not all declared
properties of it. An argument the expectation leaves out may be passed with any value or omitted; one it
gives must be passed, unless the schema gives a ``default`` that matches it (leaving the argument out
passes the default). An argument the schema does not declare is ``invented`` unless the object's schema
sets ``additionalProperties`` to true or a schema. A value of the wrong JSON type is ``wrong_type`` even
when it could be read as the right one: ``"3"`` for an ``integer`` fails the schema's validation, as the
API receiving the call would refuse it (``3.0`` is an integer, as in JSON Schema; ``true`` is no number).

Compared with BFCL's AST checker (gorilla, ``bfcl/eval_checker/ast_eval/ast_checker.py``): BFCL lists
accepted values per argument (here ``any_of``) and marks an optional argument that may be omitted with
``""`` (here: leave it out of the expectation, or rely on the schema's ``default``); BFCL's
``standardize_string`` drops spaces and ``,./-_*^`` and lower-cases, which makes ``"1.5"`` equal ``"15"``
and ``"A-1"`` equal ``"A1"``: here only width, case and white space are normalised. BFCL compares
numbers exactly (an int accepted for a float); here a tolerance and a unit may be given, and a
Chinese numeral is read. BFCL checks nested objects one level deep; here at any depth.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from dataclasses import dataclass
from typing import Any, Literal

from harness.rubric.checks_number import NumberArgs, number
from harness.rubric.datetimes import When, find_when
from harness.rubric.numbers import find_numbers, scan_text
from harness.rubric.text import nfkc

ArgErrorKind = Literal["missing", "wrong_value", "wrong_type", "invented"]
ARG_ERROR_KINDS: tuple[ArgErrorKind, ...] = ("missing", "wrong_value", "wrong_type", "invented")
"""The kinds of argument error, in the order figures list them."""

ANY_OF = "any_of"
NUMBER_KEYS = frozenset({"number", "unit", "tolerance", "abs_tolerance"})
"""The keys of a ``{number: ...}`` matcher (``number`` required)."""
_DATE_FORMATS = ("date", "date-time", "time")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class ArgError:
    """One argument that differs from the expectation."""

    kind: ArgErrorKind
    path: str
    """The argument: ``days``, ``machine.id``, ``items[0].amount``."""
    why: str
    """One sentence: what was expected and what was passed."""


def is_matcher(value: Any, schema: dict[str, Any] | None = None) -> bool:
    """Whether an expected ``value`` is an ``any_of`` or ``number`` matcher rather than an object literal."""
    if not isinstance(value, dict) or not value:
        return False
    keys = set(value)
    if not (keys == {ANY_OF} or ("number" in keys and keys <= NUMBER_KEYS)):
        return False
    props = (schema or {}).get("properties")
    return not (isinstance(props, dict) and keys <= set(props))


def json_type(value: Any) -> str:
    """The JSON type of a parsed value: ``null``, ``boolean``, ``integer`` (3 and 3.0), ``number``,
    ``string``, ``array`` or ``object``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value) and value == int(value)):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


def schema_types(schema: dict[str, Any]) -> set[str]:
    """The JSON types a property's schema allows (``type`` as a string or list; else those of its
    ``enum``); empty when it says none (any value)."""
    t = schema.get("type")
    if isinstance(t, str):
        return {t}
    if isinstance(t, list):
        return {x for x in t if isinstance(x, str)}
    if isinstance(schema.get("enum"), list):
        return {"number" if json_type(v) == "integer" else json_type(v) for v in schema["enum"]}
    return set()


def fits_type(value: Any, schema: dict[str, Any]) -> bool:
    """Whether ``value``'s JSON type is one the schema allows (an integer is a number)."""
    allowed = schema_types(schema)
    kind = json_type(value)
    return not allowed or kind in allowed or (kind == "integer" and "number" in allowed)


def _numeric(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@functools.lru_cache(maxsize=1024)
def read_number(text: str) -> float | None:
    """The one number a string literal states (``"三"``, ``"1.5万"``, ``" 12 "``); None when it states
    none or several."""
    found = find_numbers(text)
    return found[0].value if len(found) == 1 else None


def _moment(text: str) -> tuple[tuple[int | None, ...], When | None] | None:
    """(year, month, day) of the date a string writes and the clock time after it; None when none."""
    whens = find_when(scan_text(text))
    date = next((w for w in whens if w.kind == "date"), None)
    time = next((w for w in whens if w.kind == "time"), None)
    if date is None and time is None:
        return None
    return ((date.year, date.month, date.day) if date else (), time)


def _same_moment(expected: str, got: str) -> bool | None:
    """Whether ``got`` writes the date and time ``expected`` writes (a time only where ``expected`` gives
    one); None when either writes none."""
    a, b = _moment(expected), _moment(got)
    if a is None or b is None:
        return None
    if a[0] != b[0] or (a[1] is not None and b[1] is None):
        return False
    if a[1] is None or b[1] is None:
        return True  # an expected date alone leaves the time free
    return bool(a[1].hours() & b[1].hours()) and (a[1].minute or 0, a[1].second or 0) == (
        b[1].minute or 0,
        b[1].second or 0,
    )


def norm_text(text: str) -> str:
    """How strings are compared: NFKC (full/half width), case-folded, space around removed and runs of
    space inside made one."""
    return _SPACE.sub(" ", nfkc(text).casefold().strip())


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def _number_matches(spec: dict[str, Any], got: Any) -> bool:
    n = spec["number"]
    target = float(n) if _numeric(n) else read_number(str(n))
    if target is None:
        return False
    rel, absolute = float(spec.get("tolerance", 0) or 0), float(spec.get("abs_tolerance", 0) or 0)
    if _numeric(got):
        return abs(float(got) - target) <= max(absolute, rel * abs(target)) + 1e-9 * max(1.0, abs(target))
    if isinstance(got, str):
        unit = spec.get("unit")
        args = NumberArgs(value=target, unit=unit, require_unit=False, tolerance=absolute, tolerance_pct=rel * 100)
        return number(got, args).passed
    return False


def _scalar_matches(expected: Any, got: Any, schema: dict[str, Any]) -> bool:
    """Whether a literal ``expected`` matches ``got`` (already of an allowed type) by the schema's type."""
    if isinstance(expected, bool) or expected is None or isinstance(got, bool) or got is None:
        return expected is got or (expected == got and type(expected) is type(got))
    if _numeric(expected):
        return _close(float(expected), float(got)) if _numeric(got) else _number_matches({"number": expected}, got)
    if isinstance(expected, str) and _numeric(got):
        value = read_number(expected)
        return value is not None and _close(value, float(got))
    if isinstance(expected, str) and isinstance(got, str):
        if "enum" in schema:
            return expected == got
        if schema.get("format") in _DATE_FORMATS and (same := _same_moment(expected, got)) is not None:
            return same
        return norm_text(expected) == norm_text(got)
    return False


def plain(expected: Any) -> Any:
    """An expected value as JSON has it: a date or date-time YAML read unquoted (``as_of: 2026-03-05``) is
    its ISO text."""
    return expected.isoformat() if isinstance(expected, dt.date) else expected


def compare_value(expected: Any, got: Any, schema: dict[str, Any], path: str) -> list[ArgError]:
    """Every error of a passed value ``got`` against an expected value (a literal or a matcher), by
    ``schema`` (the property's JSON Schema; ``{}`` for any)."""
    expected = plain(expected)
    if not fits_type(got, schema):
        allowed = " or ".join(sorted(schema_types(schema)))
        return [ArgError("wrong_type", path, f"expected {allowed}, got {json_type(got)} {got!r}")]
    if is_matcher(expected, schema):
        if ANY_OF in expected:
            if any(not compare_value(alt, got, schema, path) for alt in expected[ANY_OF]):
                return []
            return [ArgError("wrong_value", path, f"expected any of {expected[ANY_OF]!r}, got {got!r}")]
        if _number_matches(expected, got):
            return []
        return [ArgError("wrong_value", path, f"expected {_describe_number(expected)}, got {got!r}")]
    if isinstance(schema.get("enum"), list) and got not in schema["enum"]:
        return [ArgError("wrong_value", path, f"{got!r} is not one of the schema's values {schema['enum']!r}")]
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return [ArgError("wrong_type", path, f"expected an object, got {json_type(got)} {got!r}")]
        return compare_object(expected, got, schema, path)
    if isinstance(expected, list):
        if not isinstance(got, list):
            return [ArgError("wrong_type", path, f"expected an array, got {json_type(got)} {got!r}")]
        if len(got) != len(expected):
            return [ArgError("wrong_value", path, f"expected {len(expected)} items, got {len(got)}")]
        items = _sub(schema, "items")
        return [
            e
            for k, (x, y) in enumerate(zip(expected, got, strict=True))
            for e in compare_value(x, y, items, f"{path}[{k}]")
        ]
    if isinstance(got, dict | list):
        return [ArgError("wrong_type", path, f"expected {expected!r}, got {json_type(got)} {got!r}")]
    if _scalar_matches(expected, got, schema):
        return []
    return [ArgError("wrong_value", path, f"expected {expected!r}, got {got!r}")]


def _describe_number(spec: dict[str, Any]) -> str:
    out = f"{spec['number']:g}{spec.get('unit') or ''}" if _numeric(spec["number"]) else repr(spec["number"])
    bounds = [f"±{spec['abs_tolerance']:g}" if spec.get("abs_tolerance") else ""]
    bounds.append(f"±{100 * spec['tolerance']:g}%" if spec.get("tolerance") else "")
    return out + "".join(f" {b}" for b in bounds if b)


def _properties(schema: dict[str, Any]) -> dict[str, Any]:
    props = schema.get("properties")
    return props if isinstance(props, dict) else {}


def _sub(schema: dict[str, Any], key: str) -> dict[str, Any]:
    """A sub-schema (``items``, a property's), ``{}`` (any value) when absent or not a mapping."""
    sub = schema.get(key)
    return sub if isinstance(sub, dict) else {}


def _open(schema: dict[str, Any]) -> bool:
    """Whether the object takes arguments it does not declare (``additionalProperties`` true or a schema)."""
    extra = schema.get("additionalProperties", False)
    return extra is True or isinstance(extra, dict)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def compare_object(
    expected: dict[str, Any], got: dict[str, Any], schema: dict[str, Any], path: str = ""
) -> list[ArgError]:
    """Every error of a passed object against an expected one: invented (undeclared), missing (required by
    the schema or given by the expectation, with no matching ``default``), and each expected value."""
    props = _properties(schema)
    required = [r for r in schema.get("required", []) if isinstance(r, str)]
    errors = [
        ArgError("invented", _join(path, k), f"{k!r} is not an argument of the schema")
        for k in got
        if k not in props and not _open(schema)
    ]
    for k in dict.fromkeys([*required, *expected]):
        sub = _sub(props, k)
        if k in got:
            if k in expected:
                errors += compare_value(expected[k], got[k], sub, _join(path, k))
            continue
        if k in expected and "default" in sub and not compare_value(expected[k], sub["default"], sub, k):
            continue  # left out: the default, which is the expected value
        why = "required by the schema" if k in required else "expected"
        errors.append(ArgError("missing", _join(path, k), f"{k!r} is {why} but was not passed"))
    return errors


def grade_arguments(expected: dict[str, Any], got: dict[str, Any], parameters: dict[str, Any]) -> list[ArgError]:
    """The errors of a call's parsed arguments ``got`` against ``expected`` (an :class:`ExpectedCall`'s
    ``arguments``), by the tool's ``parameters`` schema; empty when they match."""
    return compare_object(expected, got, parameters)


_MATCHERS = "a matcher is {any_of: [...]} or {number: N, unit, tolerance, abs_tolerance}"


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
    expected: dict[str, Any], schema: dict[str, Any], at: tuple[str | int, ...], call: bool
) -> list[ExpectProblem]:
    props = _properties(schema)
    out: list[ExpectProblem] = []
    for k, v in expected.items():
        if k not in props and not _open(schema):
            declared = ", ".join(props) or "none"
            out.append(ExpectProblem((*at, k), f"{k!r} is not an argument of the tool's schema (declared: {declared})"))
            continue
        out += _value_problems(v, _sub(props, k), (*at, k), call)
    for r in schema.get("required", []) if call else []:
        if isinstance(r, str) and r not in expected:
            why = (f"required argument {r!r} is left out: any value the model passes for it is accepted; "
                   "give its expected value if it matters")  # fmt: skip
            out.append(ExpectProblem(at, why, "warning"))
    return out


def _value_problems(v: Any, schema: dict[str, Any], at: tuple[str | int, ...], call: bool) -> list[ExpectProblem]:
    v = plain(v)
    types = schema_types(schema)
    if is_matcher(v, schema):
        return _matcher_problems(v, schema, at, call)
    if isinstance(v, dict):
        if types and "object" not in types:
            return [ExpectProblem(at, f"an object where the schema says {' or '.join(sorted(types))} ({_MATCHERS})")]
        return _object_problems(v, schema, at, call)
    if isinstance(v, list):
        if types and "array" not in types:
            return [ExpectProblem(at, f"a list where the schema says {' or '.join(sorted(types))}; for accepted "
                                  "alternatives write {any_of: [...]}")]  # fmt: skip
        items = _sub(schema, "items")
        return [p for j, item in enumerate(v) for p in _value_problems(item, items, (*at, j), call)]
    if isinstance(v, str) and types and "string" not in types and types & {"number", "integer"}:
        value = read_number(v)
        if value is None:
            return [
                ExpectProblem(at, f"{v!r} reads as no single number, and the schema says {'/'.join(sorted(types))}")
            ]
        if "number" not in types and value != int(value):
            return [ExpectProblem(at, f"{v!r} reads as {value:g}, not an integer as the schema says")]
        return []
    if not (_numeric(v) and "string" in types) and not fits_type(v, schema):
        return [ExpectProblem(at, f"{v!r} is {json_type(v)}, the schema says {' or '.join(sorted(types))}")]
    if isinstance(schema.get("enum"), list) and v not in schema["enum"]:
        return [ExpectProblem(at, f"{v!r} is not one of the schema's values {schema['enum']!r}")]
    if isinstance(v, str) and schema.get("format") in _DATE_FORMATS and _moment(v) is None:
        return [ExpectProblem(at, f"{v!r} reads as no date or time, and the schema's format is {schema['format']}")]
    return []


def _matcher_problems(
    v: dict[str, Any], schema: dict[str, Any], at: tuple[str | int, ...], call: bool
) -> list[ExpectProblem]:
    if ANY_OF in v:
        alts = v[ANY_OF]
        if not isinstance(alts, list) or not alts:
            return [ExpectProblem((*at, ANY_OF), "any_of needs a non-empty list of accepted values")]
        return [p for j, alt in enumerate(alts) for p in _value_problems(alt, schema, (*at, ANY_OF, j), call)]
    out = []
    n = v["number"]
    if not _numeric(n) and not (isinstance(n, str) and read_number(n) is not None):
        out.append(ExpectProblem((*at, "number"), f"number must be a number, got {n!r}"))
    for key in ("tolerance", "abs_tolerance"):
        if key in v and (not _numeric(v[key]) or v[key] < 0):
            out.append(ExpectProblem((*at, key), f"{key} must be a number >= 0, got {v[key]!r}"))
    if "unit" in v and (not isinstance(v["unit"], str) or not v["unit"].strip()):
        out.append(ExpectProblem((*at, "unit"), f"unit must be a unit's spelling (天, kg), got {v['unit']!r}"))
    types = schema_types(schema)
    if types and not types & {"number", "integer", "string"}:
        out.append(ExpectProblem(at, f"a number matcher fits a number or string argument; the schema says "
                                 f"{' or '.join(sorted(types))}"))  # fmt: skip
    return out
