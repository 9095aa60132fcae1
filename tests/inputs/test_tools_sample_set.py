"""The sample tool set (question_sets/hr_production_tools_zh.yaml) stays right and keeps covering each kind.

What its author would check by hand: it loads without a warning; every expected call and scripted result
names a declared tool; every expected argument is declared, and its value fits that parameter's schema
(type, enum, pattern, date format); required parameters it leaves to the model are free text; dates come from
explicit dates in the question; and it keeps at least three no-call questions, one parallel question and two
multi-step questions whose scripted reply is what the final-answer checks look for.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from harness.inputs.questions import load_question_set
from harness.records import Question, QuestionSet
from harness.rubric.tool_calls import grade_calls, result_for
from tests.support.files import REPO
from tests.support.tool_calls import call_from

SET = REPO / "question_sets" / "hr_production_tools_zh.yaml"
GUIDE = REPO / "docs" / "tools.md"


@pytest.fixture(scope="module")
def qs() -> QuestionSet:
    loaded, warnings = load_question_set(SET)
    assert warnings == []  # every reference passes its own checks, no check echoes the question
    return loaded


def _validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def _values(want: Any) -> list[Any]:
    """The literal values an expected argument accepts: ``{any_of: [...]}`` each, ``{number: N, ...}`` N;
    none for ``{present: true}`` (any value) and ``{absent: true}``."""
    if isinstance(want, dict) and ("present" in want or "absent" in want):
        return []
    if isinstance(want, dict) and "any_of" in want:
        return list(want["any_of"])
    if isinstance(want, dict) and "number" in want:
        return [want["number"]]
    return [want]


def _tool_schemas(qs: QuestionSet, q: Question) -> dict[str, dict[str, Any]]:
    return {t.name: t.function.parameters for t in qs.tools_for(q)}


def test_tool_schemas_are_valid_json_schema(qs: QuestionSet) -> None:
    assert [t.name for t in qs.tools] == ["get_leave_balance", "submit_reimbursement", "get_machine_parameter",
                                          "create_work_order"]  # fmt: skip
    for t in qs.tools:
        jsonschema.Draft202012Validator.check_schema(t.function.parameters)
        assert t.function.description  # a model picks tools by their descriptions


def test_every_call_and_result_names_a_declared_tool_with_declared_arguments_that_fit(qs: QuestionSet) -> None:
    for q in qs.questions:
        schemas = _tool_schemas(qs, q)
        for call in [*q.expect_call, *qs.tool_results_for(q)]:
            assert call.name in schemas, f"{q.id}: {call.name} is not declared"
            props = schemas[call.name]["properties"]
            for name, want in (call.arguments or {}).items():
                assert name in props, f"{q.id}: {call.name}.{name} is not declared"
                for value in _values(want):
                    errors = [e.message for e in _validator(props[name]).iter_errors(value)]
                    assert errors == [], f"{q.id}: {call.name}.{name}={value!r}: {errors}"


def test_required_parameters_left_to_the_model_are_free_text(qs: QuestionSet) -> None:
    """A required enum, id or number the set does not pin would let a wrong call pass unchecked."""
    for q in qs.questions:
        schemas = _tool_schemas(qs, q)
        for call in q.expect_call:
            schema = schemas[call.name]
            free = {k for k, v in call.arguments.items() if v == {"present": True}}
            left = set(schema.get("required", [])) - set(call.arguments)
            assert not left, f"{q.id}: required {left} left out: write {{present: true}} for any value"
            for name in free:
                prop = schema["properties"][name]
                assert prop.get("type") == "string" and not ({"enum", "pattern", "format"} & set(prop)), (q.id, name)


def test_dates_come_from_explicit_dates_in_the_question(qs: QuestionSet) -> None:
    # reimb-001: "2026年11月3日" -> "2026-11-03"; relative dates (昨天, 下周一) have no single right value.
    dated = 0
    for q in qs.questions:
        schemas = _tool_schemas(qs, q)
        for call in q.expect_call:
            for name, want in call.arguments.items():
                if schemas[call.name]["properties"][name].get("format") != "date":
                    continue
                y, m, d = (int(p) for p in str(want).split("-"))
                assert f"{y}年{m}月{d}日" in q.question, q.id
                assert not re.search(r"[昨今明前后]天|[上下本这]周|[上下本这]个?月", q.question), q.id
                dated += 1
    assert dated >= 2


def test_chinese_numeral_amount_and_number_type(qs: QuestionSet) -> None:
    by_id = {q.id: q for q in qs.questions}
    # 三百五十元 = 3 x 100 + 5 x 10 = 350, a number in 元, not the text.
    assert "三百五十元" in by_id["reimb-001"].question
    assert by_id["reimb-001"].expect_call[0].arguments["amount"] == 350
    # 1280.50元 must be passed as the number 1280.5: the string "1280.50元" fails the schema.
    amount = _tool_schemas(qs, by_id["reimb-002"])["submit_reimbursement"]["properties"]["amount"]
    assert by_id["reimb-002"].expect_call[0].arguments["amount"] == 1280.5
    assert list(_validator(amount).iter_errors("1280.50元")) and not list(_validator(amount).iter_errors(1280.5))


def test_the_set_keeps_each_kind_of_question(qs: QuestionSet) -> None:
    no_call = [q for q in qs.questions if q.no_call]
    parallel = [q for q in qs.questions if len(q.expect_call) >= 2]
    multi_step = [q for q in qs.questions if qs.tool_results_for(q) and q.expect_call]
    single = [q for q in qs.questions if len(q.expect_call) == 1 and not qs.tool_results_for(q)]
    assert len(no_call) >= 3 and len(parallel) >= 1 and len(multi_step) >= 2 and len(single) >= 3
    assert 10 <= len(qs.questions) <= 14
    # A question answered in words is scored on those words: no-call and multi-step ones all have checks.
    assert all(q.checks for q in no_call + multi_step)
    assert all(q.reference and q.category for q in qs.questions)
    # Each of the four tools is expected somewhere.
    assert {c.name for q in qs.questions for c in q.expect_call} == {t.name for t in qs.tools}


def test_multi_step_checks_look_for_what_the_scripted_reply_says(qs: QuestionSet) -> None:
    by_id = {q.id: q for q in qs.questions}
    # leave-002: the balance reply says 3 days; the answer must say 3 天 (and that 4 days are not enough).
    leave = by_id["leave-002"]
    (reply,) = qs.tool_results_for(leave)
    assert reply.content["remaining_days"] == 3
    assert [c.args.get("value") for c in leave.checks if c.type == "number"] == [3]
    # The reply is reachable: the right call's arguments are the reply's.
    assert reply.arguments == leave.expect_call[0].arguments
    # wo-001: the work-order reply carries an order number the answer must repeat.
    (order,) = qs.tool_results_for(by_id["wo-001"])
    assert [order.content["order_id"]] == next(c.args["values"] for c in by_id["wo-001"].checks)


def test_the_guide_examples_load_with_the_sample_tools(qs: QuestionSet, tmp_path: Path) -> None:
    """docs/tools.md's YAML examples are real: the tools block and each list of questions load."""
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)]
    tools = next(b["tools"] for b in blocks if isinstance(b, dict) and "tools" in b)
    questions = [q for b in blocks if isinstance(b, list) for q in b]
    assert len(questions) >= 4
    data = {"id": "guide", "title": "guide", "language": "zh", "questions": questions,
            "tools": [*tools, *(t.model_dump() for t in qs.tools if t.name != "get_leave_balance")]}  # fmt: skip
    f = tmp_path / "guide.yaml"
    f.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    loaded, warnings = load_question_set(f)
    assert warnings == [] and len(loaded.questions) == len(questions)


# ---------------------------------------------------------------- the set through the grader


def test_each_expected_call_written_as_the_models_call_grades_right(qs: QuestionSet) -> None:
    """A model that makes exactly the expected calls (parallel ones in the order written) is ``right``; a
    ``no_call`` question answered without a call is ``no_call_right``."""
    graded = 0
    for q in qs.questions:
        tools = qs.tools_for(q)
        if q.no_call:
            assert grade_calls(tools, [], True, []).outcome == "no_call_right", q.id
            continue
        made = [call_from(c, tools) for c in q.expect_call]
        grade = grade_calls(tools, q.expect_call, False, made)
        assert grade.outcome == "right", (q.id, made, grade.reason)
        # the same calls in reverse order: parallel calls match in any order
        assert grade_calls(tools, q.expect_call, False, made[::-1]).outcome == "right", q.id
        graded += 1
    assert graded == 8  # 12 questions less the 4 no-call ones (docs/tools.md, "The sample set")


def test_wo_001_takes_any_fault_description_but_not_none(qs: QuestionSet) -> None:
    # fault_description: {present: true}: the model's own words pass; leaving it out is `missing`.
    q = next(q for q in qs.questions if q.id == "wo-001")
    tools = qs.tools_for(q)
    said = '{"machine_id": "CNC-07", "priority": "紧急", "fault_description": "主轴异响并振动，已停机"}'
    assert grade_calls(tools, q.expect_call, False, [("create_work_order", said)]).outcome == "right"
    bare = '{"machine_id": "CNC-07", "priority": "紧急"}'
    grade = grade_calls(tools, q.expect_call, False, [("create_work_order", bare)])
    assert grade.outcome == "wrong_call" and [(e.kind, e.path) for e in grade.arg_errors] == [
        ("missing", "fault_description")
    ]


def test_each_scripted_result_answers_a_call_the_expectation_accepts(qs: QuestionSet) -> None:
    """Every tool_results entry is reachable: the right call of its question gets it back (result_for)."""
    answered = 0
    for q in qs.questions:
        tools = qs.tools_for(q)
        made = [call_from(c, tools) for c in q.expect_call]
        for r in qs.tool_results_for(q):
            hits = [m for m in made if result_for(m, [r], tools) is r]
            assert hits, f"{q.id}: no right call gets the reply of {r.name} {r.arguments}"
            assert grade_calls(tools, q.expect_call, False, made).outcome == "right"
            answered += 1
    assert answered == 2  # leave-002 and wo-001 script one reply each
