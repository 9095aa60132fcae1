"""Groups of checks: ``all_of`` (combined like a rubric, passes when all pass) and ``any_of`` (best).

A group only constrains the answer when every check in it does; in ``any_of`` only the
alternatives that recognise content earn (an empty answer cannot pass by a ``not_contains``).

Example::

    - type: any_of          # either the figure or an explicit referral is fine
      checks:
        - {type: number, value: 300, unit: 元}
        - {type: contains_any, values: [请咨询财务部]}
"""

from __future__ import annotations

from pydantic import Field

from harness.records import CheckSpec
from harness.rubric.registry import Args, Evidence, Outcome, check, combine, run_check


class GroupArgs(Args):
    checks: list[CheckSpec] = Field(min_length=1)


def _summary(results: list) -> str:  # type: ignore[type-arg]
    return "; ".join(f"{'✓' if r.passed else '✗'} {r.type}: {r.explanation}" for r in results)


@check("all_of", GroupArgs, uses_evidence=True)
def all_of(answer: str, args: GroupArgs, evidence: Evidence | None = None) -> Outcome:
    """All sub-checks: score is combined as a rubric's (:func:`combine`: content earns, constraints
    take away, 0 if a critical one fails); passes when all pass."""
    results = [run_check(spec, answer, evidence) for spec in args.checks]
    constraint = all(r.constraint for r in results)
    score = combine([r.model_copy(update={"constraint": False}) for r in results]) if constraint else combine(results)
    return Outcome(score, all(r.passed for r in results), _summary(results), constraint=constraint)


@check("any_of", GroupArgs, uses_evidence=True)
def any_of(answer: str, args: GroupArgs, evidence: Evidence | None = None) -> Outcome:
    """Any sub-check: score is the best sub-score of those that recognise content; passes when one of them passes."""
    results = [run_check(spec, answer, evidence) for spec in args.checks]
    content = [r for r in results if not r.constraint] or results
    constraint = content is results and all(r.constraint for r in results)
    return Outcome(
        max(r.score for r in content), any(r.passed for r in content), _summary(results), constraint=constraint
    )
