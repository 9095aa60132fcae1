"""Groups of checks: ``all_of`` (weighted mean, passes when all pass) and ``any_of`` (best).

Example::

    - type: any_of          # either the figure or an explicit referral is fine
      checks:
        - {type: number, value: 300, unit: 元}
        - {type: contains_any, values: [请咨询财务部]}
"""

from __future__ import annotations

from pydantic import Field

from harness.records import CheckSpec
from harness.scoring.registry import Args, Evidence, Outcome, check, combine, run_check


class GroupArgs(Args):
    checks: list[CheckSpec] = Field(min_length=1)


def _summary(results: list) -> str:  # type: ignore[type-arg]
    return "; ".join(f"{'✓' if r.passed else '✗'} {r.type}: {r.explanation}" for r in results)


@check("all_of", GroupArgs, uses_evidence=True)
def all_of(answer: str, args: GroupArgs, evidence: Evidence | None = None) -> Outcome:
    """All sub-checks: score is their weighted mean (0 if a critical one fails); passes when all pass."""
    results = [run_check(spec, answer, evidence) for spec in args.checks]
    return Outcome(combine(results), all(r.passed for r in results), _summary(results))


@check("any_of", GroupArgs, uses_evidence=True)
def any_of(answer: str, args: GroupArgs, evidence: Evidence | None = None) -> Outcome:
    """Any sub-check: score is the best sub-score; passes when one passes."""
    results = [run_check(spec, answer, evidence) for spec in args.checks]
    return Outcome(max(r.score for r in results), any(r.passed for r in results), _summary(results))
