"""Grading a response's tool calls (harness/rubric/tool_calls.py) and the figures over many
(harness/rubric/tool_figures.py): hand-reasoned cases of every outcome."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.records import ExpectedCall, Tool, ToolCallMade, ToolResult, ToolStep
from harness.rubric.tool_calls import CallGrade, grade_calls, result_for, with_later_rounds
from harness.rubric.tool_figures import call_figures

TOOLS = [
    Tool.model_validate(
        {
            "name": "get_leave_balance",
            "parameters": {
                "type": "object",
                "properties": {
                    "employee_id": {"type": "string"},
                    "kind": {"type": "string", "enum": ["annual", "sick"]},
                },
                "required": ["employee_id"],
            },
        }
    ),
    Tool.model_validate(
        {
            "name": "get_machine_param",
            "parameters": {
                "type": "object",
                "properties": {"machine_id": {"type": "string"}, "param": {"type": "string"}},
                "required": ["machine_id", "param"],
            },
        }
    ),
    Tool.model_validate(
        {
            "name": "create_work_order",
            "parameters": {
                "type": "object",
                "properties": {
                    "machine": {
                        "type": "object",
                        "properties": {"line": {"type": "string"}, "station": {"type": "integer"}},
                    },
                    "hours": {"type": "number"},
                },
            },
        }
    ),
]
BALANCE = ExpectedCall(name="get_leave_balance", arguments={"employee_id": "E100", "kind": "annual"})
TEMP = ExpectedCall(name="get_machine_param", arguments={"machine_id": "IM-280", "param": "temperature"})
SPEED = ExpectedCall(name="get_machine_param", arguments={"machine_id": "IM-280", "param": "speed"})


def call(name: str, **args: Any) -> tuple[str, str]:
    return name, json.dumps(args, ensure_ascii=False)


def grade(expect: list[ExpectedCall], calls: list[tuple[str, str]], no_call: bool = False) -> CallGrade:
    return grade_calls(TOOLS, expect, no_call, calls)


def test_the_expected_call_is_right() -> None:
    g = grade([BALANCE], [call("get_leave_balance", employee_id="E100", kind="annual")])
    assert (g.outcome, g.parsed, g.missing, g.extra, g.arg_errors) == ("right", True, [], [], [])


def test_a_call_to_another_function_is_a_wrong_call() -> None:
    g = grade([BALANCE], [call("get_machine_param", machine_id="E100", param="annual")])
    assert g.outcome == "wrong_call"
    assert [(p.expected, p.made, p.same_function) for p in g.pairs] == [(0, 0, False)]
    assert g.arg_errors == []  # the function is wrong: its arguments are not compared
    assert "instead of get_leave_balance" in g.reason


def test_a_function_not_offered_is_named_as_such() -> None:
    g = grade([BALANCE], [call("get_balance", employee_id="E100")])
    assert g.outcome == "wrong_call" and "not a function offered" in g.reason


def test_a_wrong_value_is_a_wrong_call_with_the_argument_named() -> None:
    g = grade([BALANCE], [call("get_leave_balance", employee_id="E100", kind="sick")])
    assert g.outcome == "wrong_call"
    assert [(e.kind, e.path) for e in g.arg_errors] == [("wrong_value", "kind")]


def test_an_invented_argument_and_a_missing_required_one() -> None:
    g = grade([BALANCE], [call("get_leave_balance", kind="annual", year=2026)])
    assert g.outcome == "wrong_call"
    assert sorted((e.kind, e.path) for e in g.arg_errors) == [("invented", "year"), ("missing", "employee_id")]


def test_parallel_calls_in_swapped_order_are_right() -> None:
    calls = [
        call("get_machine_param", machine_id="IM-280", param="speed"),
        call("get_machine_param", machine_id="im-280", param="temperature"),
    ]
    g = grade([TEMP, SPEED], calls)
    assert g.outcome == "right"
    # the pairing follows the arguments, not the order: expected 0 (temperature) is made call 1
    assert [(p.expected, p.made) for p in g.pairs] == [(0, 1), (1, 0)]


def test_one_of_two_parallel_calls_missing_is_a_wrong_call() -> None:
    g = grade([TEMP, SPEED], [call("get_machine_param", machine_id="IM-280", param="speed")])
    assert (g.outcome, g.missing, g.extra) == ("wrong_call", [0], [])
    assert g.arg_errors == []  # the call made is right; the other one is missing
    # the reason names which of the two same-named calls is missing, by its arguments
    assert g.reason == f"expected call get_machine_param {json.dumps(TEMP.arguments, ensure_ascii=False)} not made"


def test_a_duplicate_call_is_extra() -> None:
    made = call("get_leave_balance", employee_id="E100", kind="annual")
    g = grade([BALANCE], [made, made])
    assert (g.outcome, g.missing, g.extra) == ("wrong_call", [], [1])
    assert "extra call get_leave_balance" in g.reason


def test_an_expected_call_not_made_while_a_duplicate_was_is_missing_not_a_wrong_function() -> None:
    # two temperature calls for temperature + speed: the second is extra and speed is missing (a duplicate
    # of an expected function is not paired as "the wrong function")
    made = call("get_machine_param", machine_id="IM-280", param="temperature")
    g = grade([TEMP, SPEED], [made, made])
    assert (g.outcome, g.missing, g.extra) == ("wrong_call", [1], [1])


def test_no_call_expected_a_call_made_the_other_way() -> None:
    assert grade([], [call("get_leave_balance", employee_id="E1")], no_call=True).outcome == "unexpected_call"
    assert grade([], [], no_call=True).outcome == "no_call_right"
    assert grade([BALANCE], []).outcome == "missed_call"


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ('{"employee_id": "E100"', "not JSON"),  # cut off
        ("not json", "not JSON"),
        ('["E100"]', "a JSON array, not an object"),
        ('"{\\"employee_id\\": \\"E100\\"}"', "a JSON string, not an object"),  # encoded twice
    ],
)
def test_arguments_that_are_no_json_object_are_unparsable(raw: str, why: str) -> None:
    g = grade([BALANCE], [("get_leave_balance", raw)])
    assert (g.outcome, g.parsed) == ("unparsable", False)
    assert f"call 1 (get_leave_balance): the arguments are {why}" in g.reason
    # unparsable wins over the question's expectation: a no_call question is not "unexpected_call" here
    assert grade([], [("get_leave_balance", raw)], no_call=True).outcome == "unparsable"


def test_a_call_the_stream_could_not_read_whole_is_unparsable_even_with_good_arguments() -> None:
    # the client kept what it could of a malformed tool_calls stream and named the problem; the arguments
    # it has happen to be right, but the server's output was broken, so the response is unparsable
    good = json.dumps({"employee_id": "E100", "kind": "annual"})
    g = grade_calls(TOOLS, [BALANCE], False, [("get_leave_balance", good)], ["a fragment had no index"])
    assert (g.outcome, g.parsed) == ("unparsable", False)
    assert g.reason == "call 1 (get_leave_balance): a fragment had no index"
    # no problem named: the same call is right
    assert grade_calls(TOOLS, [BALANCE], False, [("get_leave_balance", good)], [None]).outcome == "right"


def test_empty_arguments_are_an_empty_object() -> None:
    # servers stream "" for a call with no arguments; get_leave_balance then misses its employee_id
    g = grade([BALANCE], [("get_leave_balance", "")])
    assert g.parsed and sorted((e.kind, e.path) for e in g.arg_errors) == [
        ("missing", "employee_id"),
        ("missing", "kind"),
    ]


def test_a_nested_object_argument_is_compared_inside() -> None:
    want = ExpectedCall(name="create_work_order", arguments={"machine": {"line": "L2", "station": "三"}, "hours": 2})
    assert (
        grade([want], [call("create_work_order", machine={"line": "l2", "station": 3}, hours=2.0)]).outcome == "right"
    )
    g = grade([want], [call("create_work_order", machine={"line": "L2", "station": 4}, hours=2)])
    assert [(e.kind, e.path) for e in g.arg_errors] == [("wrong_value", "machine.station")]


def test_a_question_that_grades_no_calls_is_refused() -> None:
    with pytest.raises(ValueError, match="grades no calls"):
        grade([], [])


def test_figures_name_their_denominators() -> None:
    right = grade([BALANCE], [call("get_leave_balance", employee_id="E100", kind="annual")])
    wrong = grade([BALANCE], [call("get_leave_balance", employee_id="E100", kind="sick", year=1)])
    missed = grade([BALANCE], [])
    broken = grade([BALANCE], [("get_leave_balance", "not json")])
    quiet = grade([], [], no_call=True)
    eager = grade([], [call("get_leave_balance", employee_id="E1")], no_call=True)
    f = call_figures([right, wrong, missed, broken, quiet, eager])
    # 4 responses to expect_call questions (right, wrong, missed, unparsable), 2 to no_call ones
    assert (f.responses, f.expect_call_responses, f.no_call_responses) == (6, 4, 2)
    assert (f.call_accuracy, f.wrong_call_rate, f.missed_call_rate) == (1 / 4, 1 / 4, 1 / 4)
    assert f.unexpected_call_rate == 1 / 2
    # made no call: missed (wrong not to) and quiet (right not to): precision 1/2
    assert f.no_call_precision == 1 / 2
    assert f.unparsable_share == 1 / 6
    # the wrong call has one wrong value (kind) and one invented argument (year)
    assert f.arg_errors == {"missing": 0, "wrong_value": 1, "wrong_type": 0, "invented": 1}


def test_a_rate_with_no_denominator_is_not_measured() -> None:
    f = call_figures([grade([], [], no_call=True)])
    assert (f.call_accuracy, f.no_call_precision, f.unexpected_call_rate) == (None, 1.0, 0.0)


# ---------------------------------------------------------------- result_for: the scripted reply to a call

R_E100 = ToolResult(name="get_leave_balance", arguments={"employee_id": "E100"}, content={"days": 3})
R_ANY = ToolResult(name="get_leave_balance", content={"days": 9})
R_TEMP = ToolResult(name="get_machine_param", arguments={"param": {"any_of": ["temperature", "温度"]}}, content="80C")


def test_result_for_is_the_first_whose_name_and_named_arguments_match() -> None:
    # E100 (any width and case) matches R_E100's one argument; another id falls through to R_ANY
    assert result_for(call("get_leave_balance", employee_id="ｅ100", kind="sick"), [R_E100, R_ANY], TOOLS) is R_E100
    assert result_for(call("get_leave_balance", employee_id="E200"), [R_E100, R_ANY], TOOLS) is R_ANY
    assert result_for(call("get_leave_balance", employee_id="E200"), [R_E100], TOOLS) is None
    # order decides: the question's own come first in tool_results_for
    assert result_for(call("get_leave_balance", employee_id="E100"), [R_ANY, R_E100], TOOLS) is R_ANY
    # the matcher grammar applies: any_of
    assert result_for(call("get_machine_param", machine_id="M1", param="温度"), [R_TEMP], TOOLS) is R_TEMP
    assert result_for(call("get_machine_param", machine_id="M1", param="speed"), [R_TEMP], TOOLS) is None


def test_result_for_ignores_errors_in_arguments_the_result_does_not_name() -> None:
    # kind outside its enum is the call grade's business; the reply names employee_id only
    assert result_for(call("get_leave_balance", employee_id="E100", kind="vacation"), [R_E100], TOOLS) is R_E100
    # another function, or arguments that are no JSON object: no reply
    assert result_for(call("get_machine_param", machine_id="M1", param="x"), [R_E100, R_ANY], TOOLS) is None
    assert result_for(("get_leave_balance", "{bad"), [R_ANY], TOOLS) is None


def test_a_call_written_in_the_text_is_graded_like_any_and_counted_apart() -> None:
    made = [call("get_leave_balance", employee_id="E100", kind="annual")]
    in_text = grade_calls(TOOLS, [BALANCE], False, made, [None], [True])
    protocol = grade_calls(TOOLS, [BALANCE], False, made, [None], [False])
    # the same call, right either way; only how it was made differs
    assert (in_text.outcome, in_text.in_text) == ("right", 1) and (protocol.outcome, protocol.in_text) == ("right", 0)
    two = grade_calls(TOOLS, [BALANCE], False, made * 2, [None, None], [True, True])  # a duplicate: wrong, 2 in text
    silent = grade([BALANCE], [])
    f = call_figures([in_text, protocol, two, silent])
    # calls made: 1 + 1 + 2 + 0 = 4, of which 1 + 2 = 3 were read from the text
    assert f.text_call_share == 3 / 4
    assert call_figures([silent]).text_call_share is None  # no call made: nothing to share out


def test_a_call_repeated_after_its_reply_makes_a_right_first_call_wrong() -> None:
    first = call("get_leave_balance", employee_id="E100", kind="annual")
    right = grade([BALANCE], [first])
    made = ToolCallMade(name=first[0], arguments=first[1])
    # the same call again after the reply, its keys in another order and spaced otherwise: the same call
    again = ToolCallMade(name="get_leave_balance", arguments='{"kind":"annual","employee_id":"E100"}')
    looped = with_later_rounds(right, [ToolStep(calls=[made], replies=["3"]), ToolStep(calls=[again], replies=["3"])])
    assert looped.outcome == "wrong_call" and not looped.right
    assert looped.reason.startswith("repeated get_leave_balance with the same arguments in round 2")
    # another call after the reply (a lookup, then an action), or the same function for another employee:
    # what the model may well do next; the final text decides
    other = ToolCallMade(name="get_leave_balance", arguments='{"employee_id": "E200", "kind": "annual"}')
    for later in (ToolCallMade(name="get_machine_param", arguments='{"machine_id": "IM-280"}'), other):
        steps = [ToolStep(calls=[made], replies=["3"]), ToolStep(calls=[later], replies=["x"])]
        assert with_later_rounds(right, steps) == right
    # one round only, or a grade already wrong: as it was
    assert with_later_rounds(right, [ToolStep(calls=[made], replies=["3"])]) == right
    missed = grade([BALANCE], [])
    assert with_later_rounds(missed, [ToolStep(calls=[made]), ToolStep(calls=[made])]) == missed
