"""The one registry of rubric checks, and how a rubric is applied to an answer.

A check is registered with :func:`check`, which names it and binds the pydantic
model of its arguments (``extra="forbid"``: a misspelt argument in a question
set is an error, not a silently ignored key). A check maps an answer to an
:class:`Outcome` with a score in [0, 1] and a short explanation that a reviewer
reads in the report. Check modules register on import; ``harness.scoring.rubric``
imports them all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

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
CheckFn = Callable[[str, A], Outcome]


def check(name: str, args: type[A]) -> Callable[[CheckFn[A]], CheckFn[A]]:
    """Register ``fn(answer, args) -> Outcome`` as check ``name``."""

    def register(fn: CheckFn[A]) -> CheckFn[A]:
        if name in REGISTRY:
            raise ValueError(f"check {name!r} registered twice")
        REGISTRY[name] = CheckType(name, args, fn, (fn.__doc__ or "").strip())
        return fn

    return register


def parse_args(spec: CheckSpec) -> Args:
    """Validate a check's arguments; raises KeyError or pydantic ValidationError."""
    return REGISTRY[spec.type].args_model.model_validate(spec.args)


def run_check(spec: CheckSpec, answer: str) -> CheckResult:
    outcome = REGISTRY[spec.type].fn(answer, parse_args(spec))
    return CheckResult(
        type=spec.type,
        weight=spec.weight,
        score=outcome.score,
        passed=outcome.passed,
        explanation=outcome.explanation,
        critical=spec.critical,
    )


def combine(results: list[CheckResult]) -> float:
    """Weighted mean of the check scores; 0 when any critical check failed."""
    if any(r.critical and not r.passed for r in results):
        return 0.0
    total = sum(r.weight for r in results)
    return sum(r.score * r.weight for r in results) / total


def score_answer(checks: list[CheckSpec], answer: str) -> tuple[float | None, list[CheckResult]]:
    """The answer's rubric score and each check's result; None when there are no checks."""
    if not checks:
        return None, []
    results = [run_check(spec, answer) for spec in checks]
    return combine(results), results
