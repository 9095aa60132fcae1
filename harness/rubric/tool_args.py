"""A tool call's arguments against the expected ones, by the type in the tool's JSON Schema (pure).

:func:`grade_arguments` compares the arguments a model passed (a parsed JSON object) with those an
:class:`harness.records.ExpectedCall` gives, and returns every :class:`ArgError` (``missing``,
``wrong_value``, ``wrong_type``, ``invented``) with the argument's path (``days``, ``items[0].amount``).
:func:`harness.rubric.tool_expect.expected_problems` checks, for ``harness validate``, that expected
arguments fit the schema.

The expected-value grammar (docs/tools.md, "Expected calls"), per argument the expectation names:

- a literal: must be passed, equal after normalisation by the property's schema type:
  ``number`` / ``integer``: numeric equality (a string literal is read by the rubric's number reader, so
  ``"三"`` is 3 and ``"1.5万"`` 15000); ``string``: normalised text (NFKC: full/half width; case; space
  around and runs of space inside); ``string`` with ``enum``: the exact member; ``string`` with ``format:
  date`` / ``date-time`` / ``time``: the same date and time, the expected value in any written form
  (``2026年3月5日``, ``March 5, 2026``, ``下午2点半``), the passed one in the ISO 8601 form the format asks
  (:func:`schema_refusal`; time zones are not read); a number
  literal for a ``string`` property: the string's one figure, read as the ``number`` check reads an answer
  (``"三天"`` passes 3); ``boolean`` / ``null``: equality; ``array``: the same length and each item by the
  ``items`` schema, in order; ``object``: recursively, as the arguments themselves;
- ``{any_of: [v1, v2, ...]}``: must be passed, equal to one of the alternatives (each a literal or a matcher);
- ``{number: 3, unit: 天, tolerance: 0.01, abs_tolerance: 0.5}``: a number within the tolerance
  (``tolerance`` relative, 0.01 = 1 %; ``abs_tolerance`` in the unit; the larger bound wins; both
  default to 0). A JSON number is taken to be in ``unit``; a string is read as the ``number`` check reads
  an answer, with units converted (``"72小时"`` is 3 天) and a bare figure taken to be in ``unit``;
- ``optional: true`` added to an ``any_of`` or ``number`` matcher: may be left out; if passed, must match;
- ``{present: true}``: must be passed, with any value its schema allows;
- ``{absent: true}``: must not be passed (passing it is an ``invented`` error);
- ``{equals: X}``: the literal ``X``, even when ``X`` is a mapping whose keys look like a matcher's.

A mapping is a matcher when it holds one of the head keys (``any_of``, ``number``, ``present``, ``absent``,
``equals``) and is not, for an ``object`` property, made only of declared properties of it. An argument the
expectation does not name may be omitted or passed with any value its schema allows (a value of the wrong
type, outside the enum or the schema's bounds, or with undeclared keys is still an error); a literal,
``any_of``, ``number`` or ``present`` one must be passed, unless the schema gives a ``default`` that matches
it (leaving the argument out passes the default). An argument the schema does not declare is ``invented``
unless the object's schema sets ``additionalProperties`` to true or a schema. A value of the wrong JSON type
is ``wrong_type`` even when it could be read as the right one: ``"3"`` for an ``integer`` fails the schema's
validation, as the API receiving the call would refuse it (``3.0`` is an integer, as in JSON Schema;
``true`` is no number).

Compared with BFCL's AST checker (gorilla, ``bfcl/eval_checker/ast_eval/ast_checker.py``): BFCL lists
accepted values per argument (here ``any_of``), marks one that may be omitted with ``""`` (here
``optional: true``) and refuses a declared argument its answer does not name (here ``{absent: true}``; an
argument the expectation does not name may take any value its schema allows); BFCL's
``standardize_string`` drops spaces and ``,./-_*^`` and lower-cases, which makes ``"1.5"`` equal ``"15"``
and ``"A-1"`` equal ``"A1"``: here only width, case and white space are normalised. BFCL compares
numbers exactly (an int accepted for a float); here a tolerance and a unit may be given, and a
Chinese numeral is read. BFCL checks nested objects one level deep; here at any depth.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re
from typing import Any

from harness.records import ArgError
from harness.rubric.checks_number import NumberArgs, number
from harness.rubric.datetimes import When, find_when
from harness.rubric.numbers import find_numbers, scan_text
from harness.rubric.text import nfkc

"""The kinds of argument error, in the order figures list them."""

ANY_OF = "any_of"
ANY: Any = object()
"""The expectation of an argument the expected call leaves out: any value its schema allows."""
NUMBER_KEYS = frozenset({"number", "unit", "tolerance", "abs_tolerance"})
"""The keys of a ``{number: ...}`` matcher (``number`` required; ``optional`` besides)."""
HEAD_KEYS = ("any_of", "number", "present", "absent", "equals")
"""The keys that make a mapping a matcher; one of them, exactly, heads each matcher."""
MATCHER_KEYS: dict[str, frozenset[str]] = {
    "any_of": frozenset({"any_of", "optional"}),
    "number": NUMBER_KEYS | {"optional"},
    "present": frozenset({"present"}),
    "absent": frozenset({"absent"}),
    "equals": frozenset({"equals"}),
}
"""Each matcher's head key -> the keys it may hold."""
DATE_FORMATS = ("date", "date-time", "time")
_SPACE = re.compile(r"\s+")


def matcher_head(value: Any, schema: dict[str, Any] | None = None) -> str | None:
    """The head key of an expected ``value`` that is a matcher (:data:`HEAD_KEYS`, the first it holds);
    None for a literal: no head key, or an object literal whose keys are all declared properties."""
    if not isinstance(value, dict) or not value:
        return None
    head = next((h for h in HEAD_KEYS if h in value), None)
    props = (schema or {}).get("properties")
    if head is None or (isinstance(props, dict) and set(value) <= set(props)):
        return None
    return head


def is_matcher(value: Any, schema: dict[str, Any] | None = None) -> bool:
    """Whether an expected ``value`` is a matcher (:func:`matcher_head`) rather than a literal."""
    return matcher_head(value, schema) is not None


def may_omit(expected: Any, schema: dict[str, Any]) -> bool:
    """Whether an argument expected to be ``expected`` may be left out: ``absent``, ``optional: true``, or
    a schema ``default`` that matches it."""
    head = matcher_head(plain(expected), schema)
    if head == "absent" or (head in ("any_of", "number") and expected.get("optional") is True):
        return True
    return "default" in schema and head != "absent" and not compare_value(expected, schema["default"], schema, "")


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


SCALAR_KEYWORDS = (
    "pattern", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
)  # fmt: skip
"""The JSON Schema keywords that bound a string or a number (2020-12 validation vocabulary, §6.2-6.3)."""
_ISO = {
    "date": re.compile(r"\d{4}-\d{2}-\d{2}"),
    "date-time": re.compile(r"\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:\d{2})?)?"),
    "time": re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:\d{2})?"),
}
"""The ISO 8601 forms a ``format`` asks for (RFC 3339's ``full-date``, ``date-time`` and ``time``, with a
missing offset, seconds, or (for a date-time) time allowed, as pydantic's date parsing takes them)."""


def schema_refusal(value: Any, schema: dict[str, Any], *, formats: bool = True) -> str | None:
    """Why an API validating by ``schema`` would refuse the scalar ``value``, or None.

    Checks the bounds of :data:`SCALAR_KEYWORDS` (a ``pattern`` not matched, a number under its
    ``minimum``...) with jsonschema's Draft 2020-12 validator, and, with ``formats``, that a string for a
    ``format: date`` / ``date-time`` / ``time`` property is in the ISO 8601 form (:data:`_ISO`) and a real
    date (``2026-11-31`` is none). Objects and arrays are checked by their own items and properties.

    >>> schema_refusal("brg-6204", {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{4}$"})
    "'brg-6204' does not match '^[A-Z]{3}-[0-9]{4}$'"
    >>> schema_refusal("March 5, 2027", {"type": "string", "format": "date"})
    "'March 5, 2027' is not a date in the form YYYY-MM-DD"
    """
    if isinstance(value, dict | list | bool) or value is None:
        return None
    bounds = {k: schema[k] for k in SCALAR_KEYWORDS if k in schema}
    if bounds and (error := next(_validator(json.dumps(bounds, sort_keys=True)).iter_errors(value), None)):
        return str(error.message)
    form = schema.get("format")
    if formats and isinstance(value, str) and form in _ISO and not _iso_ok(value.strip(), form):
        shown = {"date": "YYYY-MM-DD", "date-time": "YYYY-MM-DDTHH:MM:SS", "time": "HH:MM:SS"}[form]
        return f"{value!r} is not a {form.replace('-', ' ')} in the form {shown}"
    return None


@functools.lru_cache(maxsize=256)
def _validator(bounds_json: str) -> Any:
    """One validator per distinct set of bounds (a run grades many calls against the same few schemas)."""
    import jsonschema  # a light import here: grading needs it only for schemas with bounds

    return jsonschema.Draft202012Validator(json.loads(bounds_json))


def impossible_iso(text: str) -> bool:
    """``text`` is written as an ISO date (or date-time) that names no real day: ``2027-02-30``."""
    head = text.strip()[:10]
    return bool(_ISO["date"].fullmatch(head)) and not _iso_ok(head, "date")


def _iso_ok(text: str, form: str) -> bool:
    if not _ISO[form].fullmatch(text):
        return False
    try:
        if form == "date":
            dt.date.fromisoformat(text)
        elif form == "date-time":
            dt.datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
        else:
            dt.time.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@functools.lru_cache(maxsize=1024)
def read_number(text: str) -> float | None:
    """The one number a string literal states (``"三"``, ``"1.5万"``, ``" 12 "``); None when it states
    none or several."""
    found = find_numbers(text)
    return found[0].value if len(found) == 1 else None


def moment(text: str) -> tuple[tuple[int | None, ...], When | None] | None:
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
    a, b = moment(expected), moment(got)
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
    target = float(n) if is_number(n) else read_number(str(n))
    if target is None:
        return False
    rel, absolute = float(spec.get("tolerance", 0) or 0), float(spec.get("abs_tolerance", 0) or 0)
    if is_number(got):
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
    if is_number(expected):
        return _close(float(expected), float(got)) if is_number(got) else _number_matches({"number": expected}, got)
    if isinstance(expected, str) and is_number(got):
        value = read_number(expected)
        return value is not None and _close(value, float(got))
    if isinstance(expected, str) and isinstance(got, str):
        if "enum" in schema:
            return expected == got
        if schema.get("format") in DATE_FORMATS and (same := _same_moment(expected, got)) is not None:
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
        return [ArgError("wrong_type", path, f"expected {allowed}, got {json_type(got)} {_show(got)}")]
    if (refused := schema_refusal(got, schema)) is not None:  # the API would refuse it, whatever was expected
        return [ArgError("wrong_value", path, f"the schema refuses it: {refused}")]
    if expected is ANY:  # any value the schema allows: its type, enum, bounds and keys are still checked
        if isinstance(schema.get("enum"), list) and got not in schema["enum"]:
            return [ArgError("wrong_value", path, f"{_show(got)} is not one of the schema's values {schema['enum']!r}")]
        if isinstance(got, dict):
            return compare_object({}, got, schema, path)
        if isinstance(got, list):
            return [
                e for k, y in enumerate(got) for e in compare_value(ANY, y, sub_schema(schema, "items"), f"{path}[{k}]")
            ]
        return []
    head = matcher_head(expected, schema)
    if head == "present":
        return compare_value(ANY, got, schema, path)
    if head == "absent":
        return [ArgError("invented", path, f"expected not to be passed, got {_show(got)}")]
    if head == "equals":
        return _compare_literal(_escaped(expected["equals"]), got, schema, path)
    if head == ANY_OF:
        alts = expected[ANY_OF] if isinstance(expected[ANY_OF], list) else []
        if any(not compare_value(alt, got, schema, path) for alt in alts):
            return []
        return [ArgError("wrong_value", path, f"expected any of {alts!r}, got {_show(got)}")]
    if head == "number":
        if _number_matches(expected, got):
            return []
        return [ArgError("wrong_value", path, f"expected {_describe_number(expected)}, got {_show(got)}")]
    return _compare_literal(expected, got, schema, path)


def _escaped(value: Any) -> Any:
    """A literal given under ``equals`` with every mapping inside it escaped too, so no part is a matcher."""
    if isinstance(value, dict):
        return {k: {"equals": v} for k, v in value.items()}
    if isinstance(value, list):
        return [{"equals": v} for v in value]
    return value


def _compare_literal(expected: Any, got: Any, schema: dict[str, Any], path: str) -> list[ArgError]:
    """Every error of ``got`` (of an allowed type) against a literal ``expected``."""
    if isinstance(schema.get("enum"), list) and got not in schema["enum"]:
        return [ArgError("wrong_value", path, f"{_show(got)} is not one of the schema's values {schema['enum']!r}")]
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return [ArgError("wrong_type", path, f"expected an object, got {json_type(got)} {_show(got)}")]
        return compare_object(expected, got, schema, path)
    if isinstance(expected, list):
        if not isinstance(got, list):
            return [ArgError("wrong_type", path, f"expected an array, got {json_type(got)} {_show(got)}")]
        if len(got) != len(expected):
            return [ArgError("wrong_value", path, f"expected {len(expected)} items, got {len(got)}")]
        items = sub_schema(schema, "items")
        return [
            e
            for k, (x, y) in enumerate(zip(expected, got, strict=True))
            for e in compare_value(x, y, items, f"{path}[{k}]")
        ]
    if isinstance(got, dict | list):
        return [ArgError("wrong_type", path, f"expected {expected!r}, got {json_type(got)} {_show(got)}")]
    if _scalar_matches(expected, got, schema):
        return []
    return [ArgError("wrong_value", path, f"expected {expected!r}, got {_show(got)}")]


def _show(value: Any) -> str:
    """A passed value as a reason quotes it: its repr, cut at 80 characters."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _describe_number(spec: dict[str, Any]) -> str:
    out = f"{spec['number']:g}{spec.get('unit') or ''}" if is_number(spec["number"]) else repr(spec["number"])
    bounds = [f"±{spec['abs_tolerance']:g}" if spec.get("abs_tolerance") else ""]
    bounds.append(f"±{100 * spec['tolerance']:g}%" if spec.get("tolerance") else "")
    return out + "".join(f" {b}" for b in bounds if b)


def properties_of(schema: dict[str, Any]) -> dict[str, Any]:
    props = schema.get("properties")
    return props if isinstance(props, dict) else {}


def sub_schema(schema: dict[str, Any], key: str) -> dict[str, Any]:
    """A sub-schema (``items``, a property's), ``{}`` (any value) when absent or not a mapping."""
    sub = schema.get(key)
    return sub if isinstance(sub, dict) else {}


def required_of(schema: dict[str, Any]) -> list[str]:
    req = schema.get("required")
    return [r for r in req if isinstance(r, str)] if isinstance(req, list) else []


def takes_undeclared(schema: dict[str, Any], nested: bool) -> bool:
    """Whether the object takes keys it does not declare: ``additionalProperties`` true or a schema, or a
    nested object whose schema declares no ``properties`` (a free-form mapping; the arguments object
    itself with no properties takes no arguments)."""
    extra = schema.get("additionalProperties")
    if extra is None:
        return nested and "properties" not in schema
    return extra is True or isinstance(extra, dict)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def compare_object(
    expected: dict[str, Any], got: dict[str, Any], schema: dict[str, Any], path: str = ""
) -> list[ArgError]:
    """Every error of a passed object against an expected one: invented (undeclared), missing (required by
    the schema or given by the expectation, with no matching ``default``), each expected value, and each
    other declared value against its schema (its type, enum and keys)."""
    props = properties_of(schema)
    required = required_of(schema)
    errors = [
        ArgError("invented", _join(path, k), f"{k!r} is not an argument of the schema")
        for k in got
        if k not in props and not takes_undeclared(schema, bool(path))
    ]
    for k in dict.fromkeys([*required, *expected, *(k for k in got if k in props)]):
        sub = sub_schema(props, k)
        if k in got:
            errors += compare_value(expected.get(k, ANY), got[k], sub, _join(path, k))
            continue
        if k in expected and may_omit(expected[k], sub):
            continue  # absent, optional, or the schema's default matches it
        why = "required by the schema" if k in required else "expected"
        errors.append(ArgError("missing", _join(path, k), f"{k!r} is {why} but was not passed"))
    return errors


def grade_arguments(expected: dict[str, Any], got: dict[str, Any], parameters: dict[str, Any]) -> list[ArgError]:
    """The errors of a call's parsed arguments ``got`` against ``expected`` (an :class:`ExpectedCall`'s
    ``arguments``), by the tool's ``parameters`` schema; empty when they match."""
    return compare_object(expected, got, parameters)
