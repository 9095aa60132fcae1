"""``harness validate`` on a set's tools (harness/inputs/tools.py through load_question_set): each problem
with the file and line of the key it is about. The line numbers are counted by hand in the YAML below
(line 1 is ``id: s``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.inputs.questions import load_question_set
from harness.validation import InputError
from tests.support.files import REPO

HEAD = """\
id: s
title: t
language: zh
tools:
  - name: get_leave_balance
    parameters:
      type: object
      properties:
        employee_id: {type: string}
        kind: {type: string, enum: [annual, sick]}
        days: {type: integer}
      required: [employee_id]
  - type: function
    function:
      name: get_machine_param
      parameters: {type: object, properties: {machine_id: {type: string}}}
questions:
"""
# HEAD is lines 1-17; the first question starts on line 18


def load(tmp_path: Path, questions: str, head: str = HEAD) -> tuple[list[str], list[str]]:
    """(errors, warnings) as ``harness validate`` prints them, without the file name."""
    f = tmp_path / "s.yaml"
    f.write_text(head + questions, encoding="utf-8")
    try:
        _, warnings = load_question_set(f, display="s.yaml")
    except InputError as exc:
        return [str(p).removeprefix("s.yaml:") for p in exc.problems if p.severity == "error"], []
    return [], [str(p).removeprefix("s.yaml:") for p in warnings if "tool" in p.message or "argument" in p.message]


def test_a_right_set_has_no_problem(tmp_path: Path) -> None:
    ok = """\
  - id: q1
    category: leave
    question: 我还有几天年假？工号E100
    expect_call:
      name: get_leave_balance
      arguments: {employee_id: E100, kind: {any_of: [annual]}, days: 三}
  - id: q2
    category: leave
    question: 年假怎么申请？
    no_call: true
"""
    assert load(tmp_path, ok) == ([], [])


def test_an_expected_call_to_a_tool_not_offered(tmp_path: Path) -> None:
    q = """\
  - id: q1
    category: leave
    question: 还有几天年假？
    expect_call:
      - name: get_balance
"""
    # line 18 "- id: q1", 21 "expect_call:", 22 "- name: get_balance"
    errors, _ = load(tmp_path, q)
    assert len(errors) == 1
    assert errors[0].startswith("22: questions[0].expect_call[0].name: expect_call names 'get_balance'")
    assert "offered: get_leave_balance, get_machine_param" in errors[0]


def test_expected_arguments_that_do_not_fit_the_schema(tmp_path: Path) -> None:
    q = """\
  - id: q1
    category: leave
    question: 还有几天年假？
    expect_call:
      name: get_leave_balance
      arguments:
        employee_id: E100
        kind: vacation
        days: {number: 3, tolerance: -1}
        year: 2026
"""
    # 25 kind (not an enum member), 26 days.tolerance (negative), 27 year (not declared)
    errors, _ = load(tmp_path, q)
    assert [e.split(": ")[0] for e in errors] == ["25", "26", "27"]
    assert "questions[0].expect_call.arguments.kind" in errors[0] and "'vacation' is not one of" in errors[0]
    assert "arguments.days.tolerance" in errors[1]
    assert "'year' is not an argument of the tool's schema" in errors[2]


def test_a_required_argument_left_out_is_a_warning_that_any_value_passes(tmp_path: Path) -> None:
    q = """\
  - id: q1
    category: leave
    question: 还有几天病假？
    expect_call:
      name: get_leave_balance
      arguments: {kind: sick}
"""
    # the warning is about the arguments mapping, line 23
    errors, warnings = load(tmp_path, q)
    assert errors == []
    assert len(warnings) == 1 and warnings[0].startswith("23: questions[0].expect_call.arguments: warning:")
    assert "'employee_id' is left out: any value the model passes for it is accepted" in warnings[0]
    assert "employee_id: {present: true}" in warnings[0]  # the way to say "any value" on purpose
    # said on purpose: no warning
    errors, warnings = load(tmp_path, q.replace("{kind: sick}", "{kind: sick, employee_id: {present: true}}"))
    assert errors == [] and warnings == []


def test_an_invalid_schema_and_a_schema_not_of_an_object(tmp_path: Path) -> None:
    head = """\
id: s
title: t
language: zh
tools:
  - name: a
    parameters:
      type: object
      properties:
        n: {type: integr}
  - name: b
    parameters: {type: string}
questions:
  - id: q1
    category: c
    question: 你好
"""
    # 9: integr is no JSON Schema type (the error is at the property's "type"); 11: b's parameters
    errors, _ = load(tmp_path, "", head)
    assert [e.split(": ")[0] for e in errors] == ["9", "11"]
    assert "tools[0].parameters.properties.n.type" in errors[0] and "not a valid JSON Schema" in errors[0]
    assert "must be a schema of type: object" in errors[1]


def test_a_tool_name_offered_twice(tmp_path: Path) -> None:
    q = """\
  - id: q1
    category: leave
    question: 还有几天年假？
    tools:
      - name: get_leave_balance
"""
    # the question's own tool (line 22) repeats a set tool's name
    errors, _ = load(tmp_path, q)
    assert len(errors) == 1 and errors[0].startswith("22: questions[0].tools[0].name: tool 'get_leave_balance'")


def test_a_tool_result_for_a_tool_not_offered_and_with_undeclared_arguments(tmp_path: Path) -> None:
    q = """\
  - id: q1
    category: leave
    question: 还有几天年假？
    expect_call: {name: get_leave_balance, arguments: {employee_id: E1}}
    tool_results:
      - name: get_leave_balance
        arguments: {staff: E1}
        content: {days: 3}
      - name: lookup
        content: 3
"""
    # 24: staff is no argument of get_leave_balance; 26: lookup is offered to no question
    errors, _ = load(tmp_path, q)
    assert [e.split(": ")[0] for e in errors] == ["24", "26"]
    assert "questions[0].tool_results[1].name: tool_results names 'lookup'" in errors[1]


@pytest.mark.parametrize("tools", ["", "tools: []\n"])
def test_no_call_on_a_question_offered_no_tools_is_a_warning(tmp_path: Path, tools: str) -> None:
    head = f"id: s\ntitle: t\nlanguage: zh\n{tools}questions:\n"
    q = "  - id: q1\n    category: c\n    question: 你好\n    no_call: true\n"
    # no_call is the 4th line of the question, after the head's lines
    line = head.count("\n") + 4
    errors, warnings = load(tmp_path, q, head)
    assert errors == []
    assert len(warnings) == 1 and warnings[0].startswith(f"{line}: questions[0].no_call: warning: no_call: true")


def test_the_example_set_in_docs_tools_validates_without_a_warning(tmp_path: Path) -> None:
    import re

    text = (REPO / "docs" / "tools.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL) if "questions:" in b]
    assert blocks, "docs/tools.md shows a whole question set"
    for block in blocks:
        f = tmp_path / "doc.yaml"
        f.write_text(block, encoding="utf-8")
        qs, warnings = load_question_set(f)
        assert warnings == []
        assert sum(len(q.expect_call) for q in qs.questions) == 4 and any(q.no_call for q in qs.questions)


def test_each_matcher_form_is_checked_with_its_line(tmp_path: Path) -> None:
    q = """\
  - id: q1
    category: leave
    question: 还有几天年假？工号E100
    expect_call:
      name: get_leave_balance
      arguments:
        employee_id: {present: true, note: x}
        kind: {any_of: [annual, {absent: true}]}
        days: {any_of: [], optional: true}
  - id: q2
    category: leave
    question: 还有几天年假？工号E100
    expect_call:
      name: get_leave_balance
      arguments:
        employee_id: {equals: E100}
        kind: {absent: false}
        days: {number: 3, optional: yes please}
"""
    # q1 starts on line 18, arguments on 23: 24 employee_id (note: no key of present), 25 kind (absent
    # inside an any_of: only an argument may be absent), 26 days (an empty any_of: {absent: true} says that).
    # q2 starts on line 27, arguments on 32: 34 kind (absent: false), 35 days (optional not a boolean).
    errors, _ = load(tmp_path, q)
    assert [e.split(": ")[0] for e in errors] == ["24", "25", "26", "34", "35"], errors
    assert "unknown key note in the present matcher" in errors[0]
    assert "absent: true fits an argument only" in errors[1]
    assert "any_of needs a non-empty list" in errors[2] and "{absent: true}" in errors[2]
    assert "write absent: true, got False" in errors[3]
    assert "optional must be true or false" in errors[4]


def test_each_matcher_form_well_written_validates(tmp_path: Path) -> None:
    q = """\
  - id: q1
    category: leave
    question: 还有几天年假？工号E100
    expect_call:
      name: get_leave_balance
      arguments:
        employee_id: {equals: E100}
        kind: {any_of: [annual, sick], optional: true}
        days: {absent: true}
  - id: q2
    category: leave
    question: 还有几天年假？工号E100
    expect_call:
      name: get_leave_balance
      arguments: {employee_id: {present: true}, days: {number: 3, optional: true}}
"""
    assert load(tmp_path, q) == ([], [])


def test_an_expected_value_outside_the_schemas_bounds_names_the_bound(tmp_path: Path) -> None:
    head = HEAD.replace(
        "        employee_id: {type: string}\n",
        "        employee_id: {type: string, pattern: '^E\\d{4}$'}\n",
    ).replace("        days: {type: integer}\n", "        days: {type: integer, minimum: 1}\n")
    q = """\
  - id: q1
    category: leave
    question: 还有几天年假？
    expect_call:
      name: get_leave_balance
      arguments: {employee_id: e100, days: 0}
"""
    # line 23 holds both arguments: e100 breaks the pattern (lower case, three digits), 0 is under minimum 1
    errors, _ = load(tmp_path, q, head)
    assert len(errors) == 2 and all(e.startswith("23: ") for e in errors)
    assert "arguments.employee_id: get_leave_balance: 'e100' does not match '^E\\\\d{4}$'" in errors[0]
    assert "arguments.days: get_leave_balance: 0 is less than the minimum of 1" in errors[1]
    assert all(e.endswith("no call the API accepts passes this value") for e in errors)


def test_an_unquoted_date_and_an_impossible_one_are_read_as_text(tmp_path: Path) -> None:
    head = HEAD.replace(
        "        days: {type: integer}\n",
        "        days: {type: integer}\n        start: {type: string, format: date}\n",
    )
    ok = """\
  - id: q1
    category: leave
    question: 3月5日起请假
    expect_call:
      name: get_leave_balance
      arguments: {employee_id: E100, start: 2027-03-05}
"""
    # YAML 1.1 would make 2027-03-05 a date object (which JSON cannot hold); the harness reads it as text
    assert load(tmp_path, ok, head) == ([], [])
    # 2027-02-30 used to crash the YAML reader (day out of range); as text it is a date that does not read
    errors, _ = load(tmp_path, ok.replace("2027-03-05", "2027-02-30"), head)
    assert errors == [
        "24: questions[0].expect_call.arguments.start: get_leave_balance: '2027-02-30' names no real day "
        "(the schema's format is date)"
    ]
