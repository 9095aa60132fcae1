"""Rubric checks, driven by the table in data/rubric_cases.yaml."""

from __future__ import annotations

import pytest
import yaml

from harness import rubric
from harness.records import CheckSpec
from harness.rubric.registry import Evidence
from tests.support.files import DATA

CASES = yaml.safe_load((DATA / "rubric_cases.yaml").read_text(encoding="utf-8"))


def flat_to_spec(check: dict) -> dict:
    """A check as written in a question set (flat mapping) -> CheckSpec shape, groups included."""
    args = dict(check)
    out = {k: args.pop(k) for k in ("type", "weight", "critical", "optional") if k in args}
    if isinstance(args.get("checks"), list):
        args["checks"] = [flat_to_spec(c) for c in args["checks"]]
    return {**out, "args": args}


def spec(check: dict) -> CheckSpec:
    return CheckSpec.model_validate(flat_to_spec(check))


@pytest.mark.parametrize("case", CASES, ids=[f"{c['check']['type']}:{c['answer'][:20]}" for c in CASES])
def test_case(case: dict) -> None:
    given = case.get("evidence")
    evidence = (
        Evidence(given.get("context"), given.get("holds_answer"), given.get("question", ""), given.get("reference", ""))
        if given
        else None
    )
    result = rubric.run_check(spec(case["check"]), case["answer"], evidence)
    assert result.score == pytest.approx(case["score"]), result.explanation
    assert result.passed == case.get("passed", case["score"] == 1)
    assert result.explanation


def test_every_registered_check_has_cases_and_a_doc() -> None:
    covered = {c["check"]["type"] for c in CASES}
    for name, kind in rubric.REGISTRY.items():
        assert name in covered, f"no data-driven case for {name}"
        assert kind.doc, f"{name} has no docstring"


def test_weighted_mean_and_no_checks() -> None:
    checks = [
        spec({"type": "contains_any", "values": ["a"], "weight": 3}),
        spec({"type": "contains_any", "values": ["b"]}),
    ]
    score, results = rubric.score_answer(checks, "a")
    assert score == pytest.approx(0.75)
    assert [r.passed for r in results] == [True, False]
    assert rubric.score_answer([], "anything") == (None, [])


def test_explanations_say_what_was_seen() -> None:
    r = rubric.run_check(spec({"type": "number", "value": 5, "unit": "天"}), "3天或者7天")
    assert "expected 5天" in r.explanation and "3" in r.explanation and "7" in r.explanation
