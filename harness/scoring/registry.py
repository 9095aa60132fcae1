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
    applicable: bool = True
    """False when the check has nothing to judge (e.g. ``faithful`` with no material given): weight 0."""


@dataclass(frozen=True)
class Evidence:
    """What the answer was given beyond the question: retrieved material (``with_context``)."""

    context: str | None
    holds_answer: bool | None
    """Whether the material contains the question's ``source``; None when the question names none."""
    question: str = ""
    """The question and its reference answer: figures they state (or that the reference computes,
    e.g. 5天 + 7天 = 12天) are not the answer's invention."""


class Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class CheckType:
    name: str
    args_model: type[Args]
    fn: Callable[..., Outcome]
    doc: str
    uses_evidence: bool = False
    """The function takes a third argument, the :class:`Evidence` (or None)."""


REGISTRY: dict[str, CheckType] = {}

A = TypeVar("A", bound=Args)
CheckFn = Callable[[str, A], Outcome]


def check(name: str, args: type[A], uses_evidence: bool = False) -> Callable[[Any], Any]:
    """Register ``fn(answer, args) -> Outcome`` (``fn(answer, args, evidence)`` with ``uses_evidence``) as ``name``."""

    def register(fn: Any) -> Any:
        if name in REGISTRY:
            raise ValueError(f"check {name!r} registered twice")
        REGISTRY[name] = CheckType(name, args, fn, (fn.__doc__ or "").strip(), uses_evidence)
        return fn

    return register


def parse_args(spec: CheckSpec) -> Args:
    """Validate a check's arguments; raises KeyError or pydantic ValidationError."""
    return REGISTRY[spec.type].args_model.model_validate(spec.args)


def run_check(spec: CheckSpec, answer: str, evidence: Evidence | None = None) -> CheckResult:
    kind = REGISTRY[spec.type]
    args = parse_args(spec)
    outcome = kind.fn(answer, args, evidence) if kind.uses_evidence else kind.fn(answer, args)
    return CheckResult(
        type=spec.type,
        weight=spec.weight if outcome.applicable else 0.0,
        score=outcome.score,
        passed=outcome.passed,
        explanation=outcome.explanation,
        critical=spec.critical,
    )


def combine(results: list[CheckResult]) -> float:
    """Weighted mean of the check scores; 0 when any critical check failed; 1 when none applied."""
    if any(r.critical and not r.passed for r in results):
        return 0.0
    total = sum(r.weight for r in results)
    return sum(r.score * r.weight for r in results) / total if total > 0 else 1.0


def score_answer(
    checks: list[CheckSpec], answer: str, evidence: Evidence | None = None
) -> tuple[float | None, list[CheckResult]]:
    """The answer's rubric score and each check's result; None when there are no checks."""
    if not checks:
        return None, []
    results = [run_check(spec, answer, evidence) for spec in checks]
    return combine(results), results
