"""The one registry of rubric checks, and how a rubric is applied to an answer.

A check is registered with :func:`check`, which names it and binds the pydantic
model of its arguments (``extra="forbid"``: a misspelt argument in a question
set is an error, not a silently ignored key). A check maps an answer to an
:class:`Outcome` with a score in [0, 1] and a short explanation that a reviewer
reads in the report. Check modules register on import; ``harness.rubric``
imports them all.

A check either recognises right content (``contains_all``, ``number``, ``choice``...) or only
constrains the answer (``not_contains``, ``max_chars``, ``max_sentences``, ``language``,
``answers``, and ``faithful`` when it only checks that nothing was invented): registered with
``constraint=True``. Only content earns credit; see :func:`combine`.
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
    constraint: bool | None = None
    """Overrides the check type's ``constraint`` for this outcome (``faithful`` recognises a right
    refusal, but only constrains an answer that states figures)."""


@dataclass(frozen=True)
class Evidence:
    """What a check may know beyond the answer: the question asked, its reference answer, and
    the material the answer was given (``with_context``), if any.

    Checks registered with ``uses_evidence=True`` receive it. The scoring stage always passes
    one (``context`` None when no material was given); a test may pass None.
    """

    context: str | None = None
    holds_answer: bool | None = None
    """Whether the material contains the question's ``source``; None when the question names none
    or no material was given."""
    question: str = ""
    """The question as asked: words and figures it holds are echoes when an answer repeats them,
    not the answer's claim."""
    reference: str = ""
    """The reference answer: figures it states (or computes, e.g. 5天 + 7天 = 12天) are not an
    invention of the answer."""
    source_text: str | None = None
    """The passages given that hold the question's ``source`` (the passage the question names), joined;
    None when the question names no source or none of the passages given holds it. ``faithful`` takes
    figures from these alone, so a figure from another passage is not support."""
    expects_decline: bool = False
    """The question names no ``source`` and its rubric asks for a decline (an essential ``abstains`` check): the
    material lacks its answer by design, so a context answer must decline, as when no passage holds the source."""
    asked: tuple[Args, ...] = ()
    """The figures the question asks about: its ``number`` checks' arguments (``NumberArgs``; typed by their
    base here, which the figures module builds on). Empty: it asks for none."""
    source: str | None = None
    """The question's ``source`` as written (a table row, "ABS | 模具温度 | 60 ℃ ± 5 ℃", or words of a passage)."""
    cut_off: bool = False
    """The answer stopped at the token limit (``finish_reason`` ``length``): a figure it ends on may be cut
    ("$24.9" of "$24.99", "≤0." of "≤0.2%"), so ``faithful`` does not hold it against the answer."""

    @property
    def given(self) -> str:
        """Everything the answer may take figures from: material, question and reference."""
        return "\n".join(part for part in (self.context or "", self.question, self.reference) if part)

    @property
    def support(self) -> str:
        """What ``faithful`` takes figures from: the passages holding the source (else every passage
        given), the question and the reference."""
        material = self.source_text if self.source_text is not None else self.context
        return "\n".join(part for part in (material or "", self.question, self.reference) if part)


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
    constraint: bool = False
    """The check only constrains the answer: it can take credit away, never earn it."""


REGISTRY: dict[str, CheckType] = {}

A = TypeVar("A", bound=Args)
CheckFn = Callable[[str, A], Outcome]


def check(name: str, args: type[A], uses_evidence: bool = False, constraint: bool = False) -> Callable[[Any], Any]:
    """Register ``fn(answer, args) -> Outcome`` (``fn(answer, args, evidence)`` with ``uses_evidence``) as ``name``;
    ``constraint``: the check only constrains an answer and earns no credit on its own."""

    def register(fn: Any) -> Any:
        if name in REGISTRY:
            raise ValueError(f"check {name!r} registered twice")
        REGISTRY[name] = CheckType(name, args, fn, (fn.__doc__ or "").strip(), uses_evidence, constraint)
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
        constraint=kind.constraint if outcome.constraint is None else outcome.constraint,
        optional=spec.optional,
    )


def combine(results: list[CheckResult]) -> float:
    """The rubric score: what the content checks earn, less what the constraint checks take away.

    ``content`` = weighted mean of the checks that recognise right content; ``loss`` = the
    weight of failed constraint checks (times how far they failed) over the weight of all
    checks; score = ``content × (1 − loss)``. 0 when a critical check failed, and 0 when no
    content check applies: saying nothing earns nothing. When every content check passes
    this is the plain weighted mean of all checks.

    Example: ``number`` (weight 2) and ``contains_any`` (1) pass, ``not_contains`` (1) fails:
    content = (2·1 + 1·1) / 3 = 1, loss = 1·1 / 4 = 0.25, score 0.75. The same answer
    with ``number`` failed: content = 1/3, score 1/3 × 0.75 = 0.25. An empty answer passes
    only the ``not_contains``: content = 0, score 0.
    """
    if any(r.critical and not r.passed for r in results):
        return 0.0
    applicable = [r for r in results if r.weight > 0]
    content = [r for r in applicable if not r.constraint]
    content_weight = sum(r.weight for r in content)
    if content_weight <= 0:
        return 0.0
    earned = sum(r.score * r.weight for r in content) / content_weight
    loss = sum((1 - r.score) * r.weight for r in applicable if r.constraint) / sum(r.weight for r in applicable)
    return earned * (1 - loss)


def verdict(results: list[CheckResult]) -> bool | None:
    """Whether the answer is acceptable: every essential part of it is right.

    A careful grader rejects an answer that leaves out an asked part, however much else it
    gets right: "PA66 要干燥80℃" to "PA66 干燥温度和时间？" earns half the score and is not
    acceptable. So: False when a critical check fails, or when any essential (not ``optional``)
    check that applies fails, content or constraint (a stated forbidden figure makes the
    answer wrong); True when they all pass and at least one essential content check applies
    (saying nothing is never acceptable). None when no essential content check applies and
    none failed: an author who made every content check optional leaves the verdict to the
    score against the plan's ``rubric_pass_threshold``.
    """
    applicable = [r for r in results if r.weight > 0]
    if any(r.critical and not r.passed for r in results):
        return False
    essential = [r for r in applicable if not r.optional]
    if any(not r.passed for r in essential):
        return False
    return True if any(not r.constraint for r in essential) else None


def score_answer(
    checks: list[CheckSpec], answer: str, evidence: Evidence | None = None
) -> tuple[float | None, list[CheckResult]]:
    """The answer's rubric score and each check's result; None when there are no checks."""
    if not checks:
        return None, []
    results = [run_check(spec, answer, evidence) for spec in checks]
    return combine(results), results
