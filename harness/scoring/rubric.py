"""Rubric checks: pure functions in one registry.

A check is registered with :func:`check`, which names it and binds the pydantic
model that validates its arguments (``extra="forbid"``, so a misspelt argument
in a question set is an error, not a silently ignored key). Each check maps an
answer to a :class:`Outcome` with a score in [0, 1] and a short explanation a
reviewer can read in the report.

Example (YAML in a question set)::

    checks:
      - type: number
        value: 1.5
        unit: 倍
      - type: contains_any
        values: [加班费, 工资]
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from harness.records import CheckResult, CheckSpec


@dataclass(frozen=True)
class Outcome:
    score: float
    passed: bool
    explanation: str


class Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class CheckType:
    name: str
    args_model: type[Args]
    fn: Callable[[str, Any], Outcome]
    doc: str


REGISTRY: dict[str, CheckType] = {}

A = TypeVar("A", bound=Args)


def check(name: str, args: type[A]) -> Callable[[Callable[[str, A], Outcome]], Callable[[str, A], Outcome]]:
    """Register ``fn(answer, args) -> Outcome`` as check ``name``."""

    def register(fn: Callable[[str, A], Outcome]) -> Callable[[str, A], Outcome]:
        if name in REGISTRY:
            raise ValueError(f"check {name!r} registered twice")
        REGISTRY[name] = CheckType(name, args, fn, (fn.__doc__ or "").strip())
        return fn

    return register


# --------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------

_SPACE = re.compile(r"\s+")


def normalize(text: str, case_sensitive: bool = False) -> str:
    """NFKC (full-width -> half-width, ℃ -> °C), case-fold, drop white space."""
    text = unicodedata.normalize("NFKC", text)
    if not case_sensitive:
        text = text.casefold()
    return _SPACE.sub("", text)


# --------------------------------------------------------------------------
# Text containment
# --------------------------------------------------------------------------


class ValuesArgs(Args):
    values: list[str] = Field(min_length=1)
    case_sensitive: bool = False

    @field_validator("values")
    @classmethod
    def _non_empty(cls, values: list[str]) -> list[str]:
        if any(not normalize(v) for v in values):
            raise ValueError("values must not contain empty strings")
        return values


def _found(answer: str, args: ValuesArgs) -> list[bool]:
    hay = normalize(answer, args.case_sensitive)
    return [normalize(v, args.case_sensitive) in hay for v in args.values]


@check("contains_all", ValuesArgs)
def contains_all(answer: str, args: ValuesArgs) -> Outcome:
    """Every value appears; partial credit is the fraction found."""
    found = _found(answer, args)
    missing = [v for v, f in zip(args.values, found, strict=True) if not f]
    score = sum(found) / len(found)
    if not missing:
        return Outcome(1.0, True, "all present")
    return Outcome(score, False, "missing: " + ", ".join(missing))


@check("contains_any", ValuesArgs)
def contains_any(answer: str, args: ValuesArgs) -> Outcome:
    """At least one value appears."""
    hits = [v for v, f in zip(args.values, _found(answer, args), strict=True) if f]
    if hits:
        return Outcome(1.0, True, "found: " + hits[0])
    return Outcome(0.0, False, "none of: " + ", ".join(args.values))


@check("not_contains", ValuesArgs)
def not_contains(answer: str, args: ValuesArgs) -> Outcome:
    """No value appears (a wrong figure, a dangerous instruction)."""
    hits = [v for v, f in zip(args.values, _found(answer, args), strict=True) if f]
    if hits:
        return Outcome(0.0, False, "forbidden: " + ", ".join(hits))
    return Outcome(1.0, True, "none present")


# --------------------------------------------------------------------------
# Regular expression
# --------------------------------------------------------------------------


class RegexArgs(Args):
    pattern: str = Field(min_length=1)
    ignore_case: bool = False

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"pattern does not compile: {exc}") from None
        return pattern


@check("regex", RegexArgs)
def regex(answer: str, args: RegexArgs) -> Outcome:
    """The pattern is found (``re.search``) in the NFKC-normalised answer."""
    flags = re.IGNORECASE if args.ignore_case else 0
    m = re.search(args.pattern, unicodedata.normalize("NFKC", answer), flags)
    if m:
        return Outcome(1.0, True, f"matched {m.group(0)[:40]!r}")
    return Outcome(0.0, False, f"no match for /{args.pattern}/")


# --------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------

_NUMBER = re.compile(r"(?<![\d.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")


def extract_numbers(answer: str) -> list[tuple[float, str]]:
    """Arabic numbers in the answer, each with the text that follows it."""
    text = unicodedata.normalize("NFKC", answer)
    out = []
    for m in _NUMBER.finditer(text):
        value = float(m.group(0).replace(",", ""))
        out.append((value, text[m.end() : m.end() + 12]))
    return out


class NumberArgs(Args):
    value: float
    unit: str | None = None
    tolerance: float = Field(default=0.0, ge=0)
    tolerance_pct: float | None = Field(default=None, ge=0)


@check("number", NumberArgs)
def number(answer: str, args: NumberArgs) -> Outcome:
    """A number within tolerance of ``value`` (followed by ``unit`` when given)."""
    tol = args.tolerance
    if args.tolerance_pct is not None:
        tol = max(tol, abs(args.value) * args.tolerance_pct / 100)
    unit = normalize(args.unit) if args.unit else None
    numbers = extract_numbers(answer)
    for value, after in numbers:
        if abs(value - args.value) <= tol + 1e-9 and (unit is None or normalize(after).startswith(unit)):
            return Outcome(1.0, True, f"found {value:g}{args.unit or ''}")
    want = f"{args.value:g}{args.unit or ''}" + (f" ±{tol:g}" if tol else "")
    seen = ", ".join(f"{v:g}" for v, _ in numbers[:6]) or "no numbers"
    return Outcome(0.0, False, f"expected {want}; saw {seen}")


# --------------------------------------------------------------------------
# Applying a rubric
# --------------------------------------------------------------------------


def parse_args(spec: CheckSpec) -> Args:
    """Validate a check's arguments; raises KeyError or pydantic ValidationError."""
    kind = REGISTRY[spec.type]
    return kind.args_model.model_validate(spec.args)


def run_check(spec: CheckSpec, answer: str) -> CheckResult:
    kind = REGISTRY[spec.type]
    outcome = kind.fn(answer, parse_args(spec))
    return CheckResult(
        type=spec.type,
        weight=spec.weight,
        score=outcome.score,
        passed=outcome.passed,
        explanation=outcome.explanation,
    )


def score_answer(checks: list[CheckSpec], answer: str) -> tuple[float | None, list[CheckResult]]:
    """Weighted mean of the check scores; None when there are no checks."""
    if not checks:
        return None, []
    results = [run_check(spec, answer) for spec in checks]
    total = sum(r.weight for r in results)
    return sum(r.score * r.weight for r in results) / total, results
