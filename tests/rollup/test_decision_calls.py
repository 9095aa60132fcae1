"""Tool calls in the decision (issue 31): the calls side (call accuracy) weighed like the other sides, the
call constraints, a plan that does not use them decided exactly as before, and the plan check that refuses
a call weight or limit no question of the plan can measure.

Every mark and reason is worked by hand beside it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pytest

from harness.inputs.plan import load_plan
from harness.manifest_records import CandidateEntry, RunManifest
from harness.records import Constraints, Generation, Plan, Weights
from harness.rollup.decision import DecisionRule, recommend, violations
from harness.rollup.figures import RunRecords, assemble
from harness.rollup.frames import views
from harness.scoring.stage import score_records
from harness.validation import InputError
from tests.support.files import write_yaml
from tests.support.tool_set import LEAVE_TOOL, call, hr_set


def questions(scores: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame([{"candidate": c, "set_id": "s", "question_id": f"q{i}", "score": v, "weight": 1.0}
                         for c, vals in scores.items() for i, v in enumerate(vals)])  # fmt: skip


# a scores better on the rubric, b calls better: a 0.8 / calls 0.5, b 0.7 / calls 1.0
MODELS = pd.DataFrame({"candidate": ["a", "b"], "rubric_mean": [0.8, 0.7], "call_accuracy": [0.5, 1.0],
                       "unparsable_share": [0.0, 0.0], "call_responses": [8, 8]})  # fmt: skip
QUESTIONS = questions({"a": [0.8] * 10, "b": [0.7] * 10})


def test_the_calls_side_weighs_call_accuracy() -> None:
    rule = DecisionRule(Weights(quality=0.5, cost=0, latency=0, stability=0, calls=0.5), Constraints(), k=1)
    r = recommend(MODELS, QUESTIONS, rule)
    # no cost, latency or stability figures: quality and calls, 0.5 each
    assert r.weights_used == {"quality": 0.5, "calls": 0.5}
    t = r.table.set_index("candidate")
    # a: 0.5 x 0.8 + 0.5 x 0.5 = 0.65; b: 0.5 x 0.7 + 0.5 x 1.0 = 0.85
    assert t.loc["a", "overall"] == pytest.approx(0.65) and t.loc["b", "overall"] == pytest.approx(0.85)
    assert r.recommended == "b"
    assert "calls 50%" in r.reason and "expected tool calls in 100% of the answers that call for one" in r.reason


def test_by_default_calls_weigh_nothing_and_the_decision_is_as_before() -> None:
    rule = DecisionRule(Weights(), Constraints(), k=1)
    with_calls, without = recommend(MODELS, QUESTIONS, rule), recommend(MODELS[["candidate", "rubric_mean"]],
                                                                        QUESTIONS, rule)  # fmt: skip
    assert with_calls.recommended == without.recommended == "a"  # quality alone: 0.8 > 0.7
    assert with_calls.weights_used == without.weights_used == {"quality": 1.0}
    assert with_calls.reason == without.reason and "tool calls" not in with_calls.reason


def test_a_calls_weight_without_call_figures_is_left_out() -> None:
    rule = DecisionRule(Weights(quality=0.5, calls=0.5), Constraints(), k=1)
    r = recommend(MODELS[["candidate", "rubric_mean"]], QUESTIONS, rule)  # a run that graded no calls
    assert set(r.weights_used) == {"quality"} and r.recommended == "a"


def test_a_candidate_without_call_figures_marks_0_on_calls_when_others_have_them() -> None:
    models = MODELS.assign(call_accuracy=[float("nan"), 1.0], call_responses=[0, 8])  # a: on completions, say
    rule = DecisionRule(Weights(quality=0.5, cost=0, latency=0, stability=0, calls=0.5), Constraints(), k=1)
    t = recommend(models, QUESTIONS, rule).table.set_index("candidate")
    # a: 0.5 x 0.8 + 0.5 x 0 (no figure counts as none, as for every side) = 0.4; b: 0.85
    assert pd.isna(t.loc["a", "calls"]) and t.loc["a", "overall"] == pytest.approx(0.4)


def test_call_constraints_exclude_with_reasons() -> None:
    c = Constraints(min_call_accuracy=0.8, max_unparsable_call_share=0.1)
    row = {"candidate": "m", "rubric_mean": 0.9, "call_accuracy": 0.5, "unparsable_share": 0.25, "call_responses": 8}
    assert violations(row, c, k=1) == ["call accuracy 0.50 < 0.8", "unparsable call share 0.25 > 0.1"]
    # at the limit is within it
    assert violations({**row, "call_accuracy": 0.8, "unparsable_share": 0.1}, c, 1) == []
    # no graded call at all (no call columns: the run graded none; or the candidate's are empty)
    assert violations({"candidate": "m", "rubric_mean": 0.9}, c, 1) == [
        "no graded tool call to check min_call_accuracy 0.8",
        "no graded tool call to check max_unparsable_call_share 0.1",
    ]
    # graded calls, but none to a question with expect_call: call accuracy has no denominator
    only_no_call = {"candidate": "m", "rubric_mean": 0.9, "call_accuracy": None, "unparsable_share": 0.0,
                    "call_responses": 3}  # fmt: skip
    assert violations(only_no_call, c, 1) == ["no answer to a question with expect_call to check min_call_accuracy 0.8"]


def test_a_call_constraint_can_leave_no_recommendation() -> None:
    rule = DecisionRule(Weights(), Constraints(min_call_accuracy=0.9), k=1)
    r = recommend(MODELS, QUESTIONS, rule)
    assert r.recommended == "b"  # a's 0.5 < 0.9 puts it out; b's 1.0 meets it
    assert "Not eligible: a (call accuracy 0.50 < 0.9)" in r.reason
    none = recommend(MODELS.assign(call_accuracy=[0.5, 0.6]), QUESTIONS, rule)
    assert none.recommended is None and "b: call accuracy 0.60 < 0.9" in none.reason


def test_call_settings_are_written_only_when_set() -> None:
    # a plan that does not use them saves and reports as before (summary.json, the run's saved plan)
    assert "calls" not in Weights().model_dump() and "calls" not in json.loads(Weights().model_dump_json())
    assert not {"min_call_accuracy", "max_unparsable_call_share"} & set(Constraints().model_dump())
    set_ = Constraints(min_call_accuracy=0.8)
    assert set_.model_dump()["min_call_accuracy"] == 0.8 and "max_unparsable_call_share" not in set_.model_dump()
    assert Weights.model_validate(Weights(calls=0.3).model_dump()).calls == 0.3
    assert Weights(quality=0, cost=0, latency=0, stability=0, calls=1).calls == 1  # calls alone is a weight


# ---------------------------------------------------------------- through the roll-up


SICK = '{"employee_id": "E2051", "leave_type": "病假"}'
E1024 = '{"employee_id": "E1024", "leave_type": "年假"}'
ANNUAL_2051 = '{"employee_id": "E2051", "leave_type": "年假"}'


def tool_run(weights: Mapping[str, float], constraints: Mapping[str, float]) -> RunRecords:
    """Two candidates on tests/support/tool_set's HR set, one sample each: a calls right on ``call`` and
    ``two_step`` (call accuracy 2/2), b calls ``call`` with the wrong leave_type (1/2); both answer ``direct``
    without a call."""
    qs = hr_set()
    plan = Plan.model_validate({"name": "p", "question_sets": ["hr.yaml"], "bootstrap_resamples": 200,
                                "candidates": [{"name": "a", "model": "org/a"}, {"name": "b", "model": "org/b"}],
                                "weights": weights, "constraints": constraints})  # fmt: skip
    calls = {("a", "call"): SICK, ("a", "two_step"): E1024, ("b", "call"): ANNUAL_2051, ("b", "two_step"): E1024}
    gens = [Generation(key=f"{c}/hr/{q}/0", candidate=c, set_id="hr", question_id=q, sample=0, api="chat", seed=0,
                       text="还剩3天" if q == "two_step" else "可以按0.5天请",
                       tool_calls=[call("get_leave_balance", calls[c, q])] if (c, q) in calls else [])
            for c in ("a", "b") for q in ("call", "two_step", "direct")]  # fmt: skip
    g, s = views(gens, score_records(gens, {"hr": qs}))
    manifest = RunManifest(candidates={n: CandidateEntry(api="chat", error=None) for n in ("a", "b")})
    return RunRecords(plan=plan, manifest=manifest, sets={"hr": qs}, gens=g, scores=s, phases=[], levels=[],
                      capacity=[], perf_records=[], judgments=None)  # fmt: skip


def test_the_rollup_decides_on_the_call_figures() -> None:
    weights = {"quality": 0, "cost": 0, "latency": 0, "stability": 0, "calls": 1}
    data = assemble(tool_run(weights, {}))
    m = data.models.set_index("candidate")
    assert m.loc["a", "call_accuracy"] == 1.0 and m.loc["b", "call_accuracy"] == 0.5
    rec = data.recommendation
    assert rec.weights_used == {"calls": 1.0} and rec.recommended == "a" and rec.runner_up == "b"
    # b breaks a call accuracy of at least 0.75: 0.5 < 0.75
    limited = assemble(tool_run({}, {"min_call_accuracy": 0.75})).recommendation
    assert limited.recommended == "a" and "b (call accuracy 0.50 < 0.75)" in limited.reason


# ---------------------------------------------------------------- the plan check


def plan_with(tmp_path: Path, questions: list[dict], **settings: object) -> Path:
    write_yaml(tmp_path / "hr.yaml", {"id": "hr", "title": "HR", "language": "zh", "tools": [LEAVE_TOOL],
                                      "questions": questions})  # fmt: skip
    return write_yaml(tmp_path / "plan.yaml", {
        "name": "p", "candidates": [{"name": "a", "model": "a", "endpoint": {"base_url": "http://127.0.0.1:9/v1"}}],
        "question_sets": ["hr.yaml"], **settings,
    })  # fmt: skip


PLAIN = {"id": "q", "category": "c", "question": "年假几天？"}
NO_CALL = {"id": "direct", "category": "c", "question": "年假最少可以按几天请？", "no_call": True}
EXPECT = {"id": "call", "category": "c", "question": "我是E2051，病假还能请几天？",
          "expect_call": {"name": "get_leave_balance", "arguments": {"employee_id": "E2051"}}}  # fmt: skip


def problems(path: Path) -> list[str]:
    try:
        load_plan(path, display="plan.yaml")
    except InputError as exc:
        return [str(p) for p in exc.problems]
    return []


def test_validate_refuses_a_call_weight_or_limit_no_question_measures(tmp_path: Path) -> None:
    plan = plan_with(tmp_path, [PLAIN], weights={"quality": 0.5, "calls": 0.5},
                     constraints={"min_call_accuracy": 0.8, "max_unparsable_call_share": 0.1})  # fmt: skip
    got = problems(plan)
    # plan.yaml: name (line 1), candidates (2-6: name, model, endpoint, base_url), question_sets (7-8),
    # weights (9), quality (10), calls (11), constraints (12), min_call_accuracy (13), max_unparsable_call_share (14)
    assert len(got) == 3
    assert got[0].startswith("plan.yaml:11: weights.calls: no question of the plan's sets has expect_call")
    assert got[1].startswith("plan.yaml:13: constraints.min_call_accuracy: no question")
    assert got[2].startswith("plan.yaml:14: constraints.max_unparsable_call_share: no question of the plan's sets "
                             "grades tool calls")  # fmt: skip


def test_a_no_call_question_measures_unparsable_calls_but_not_call_accuracy(tmp_path: Path) -> None:
    limits = {"min_call_accuracy": 0.8, "max_unparsable_call_share": 0.1}
    got = problems(plan_with(tmp_path, [NO_CALL], constraints=limits))
    assert len(got) == 1 and "constraints.min_call_accuracy" in got[0]
    assert problems(plan_with(tmp_path, [NO_CALL, EXPECT], weights={"calls": 1}, constraints=limits)) == []


def test_calls_written_in_the_text_are_named_in_the_reason_and_can_be_limited() -> None:
    # b's calls all came as text, a's a quarter of them; a made calls through the protocol otherwise
    models = MODELS.assign(text_call_share=[0.25, 1.0])
    rule = DecisionRule(Weights(quality=0.5, cost=0, latency=0, stability=0, calls=0.5), Constraints(), k=1)
    r = recommend(models, QUESTIONS, rule)
    assert r.recommended == "b"  # 0.85 > 0.65, as in test_the_calls_side_weighs_call_accuracy
    assert (
        "expected tool calls in 100% of the answers that call for one (all of them written in the text, not "
        "through the server's tool-call protocol)" in r.reason
    )
    # a stock server reads protocol calls only: with the limit at 0, b is out and a (0.25 > 0) too
    strict = DecisionRule(rule.weights, Constraints(max_text_call_share=0.3), k=1)
    r = recommend(models, QUESTIONS, strict)
    assert r.recommended == "a" and "b (share of calls written in the text 1.00 > 0.3)" in r.reason
    assert "(25% of its calls written in the text" in r.reason
    # a candidate graded on calls that made none has nothing written in the text to judge
    silent = {"candidate": "m", "rubric_mean": 0.9, "call_accuracy": 0.0, "text_call_share": None, "call_responses": 8}
    assert violations(silent, Constraints(max_text_call_share=0.0), 1) == []
