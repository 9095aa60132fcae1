"""Argument comparison by the tool's schema (harness/rubric/tool_args.py): hand-reasoned cases."""

from __future__ import annotations

from typing import Any

import pytest

from harness.rubric.tool_args import grade_arguments
from harness.rubric.tool_expect import expected_problems

LEAVE = {
    "type": "object",
    "properties": {
        "employee_id": {"type": "string"},
        "days": {"type": "number"},
        "count": {"type": "integer"},
        "kind": {"type": "string", "enum": ["annual", "sick"]},
        "start": {"type": "string", "format": "date"},
        "at": {"type": "string", "format": "date-time"},
        "note": {"type": "string"},
        "urgent": {"type": "boolean", "default": False},
        "amount": {"type": "string"},
    },
    "required": ["employee_id"],
}


def kinds(expected: dict[str, Any], got: dict[str, Any], schema: dict[str, Any] = LEAVE) -> list[tuple[str, str]]:
    return [(e.kind, e.path) for e in grade_arguments(expected, got, schema)]


def test_equal_arguments_have_no_error() -> None:
    assert kinds({"employee_id": "E100", "days": 3}, {"employee_id": "E100", "days": 3}) == []


def test_a_string_is_compared_after_width_case_and_space() -> None:
    # "Ｅ１００" is E100 in full-width digits and letters; NFKC and case-folding make them one string
    assert kinds({"employee_id": "e100"}, {"employee_id": " Ｅ１００ "}) == []
    # punctuation is kept (BFCL drops it): A-1 is another id than A1
    assert kinds({"employee_id": "A-1"}, {"employee_id": "A1"}) == [("wrong_value", "employee_id")]


def test_a_number_parameter_takes_a_number_and_a_chinese_numeral_expected_value() -> None:
    # the author may write the expected 3 as "三" for a number parameter: read by the number reader
    assert kinds({"employee_id": "E1", "days": "三"}, {"employee_id": "E1", "days": 3}) == []
    assert kinds({"employee_id": "E1", "days": 3}, {"employee_id": "E1", "days": 3.0}) == []
    # 1.5万 is 15000
    assert kinds({"employee_id": "E1", "days": "1.5万"}, {"employee_id": "E1", "days": 15000}) == []
    assert kinds({"employee_id": "E1", "days": 3}, {"employee_id": "E1", "days": 4}) == [("wrong_value", "days")]


def test_a_numeric_string_for_a_number_parameter_is_the_wrong_type() -> None:
    # "3" would fail the schema's validation: the API receiving the call refuses it
    assert kinds({"employee_id": "E1", "days": 3}, {"employee_id": "E1", "days": "3"}) == [("wrong_type", "days")]
    # 3.5 is a number, not an integer; true is a boolean, no number
    assert kinds({"employee_id": "E1", "count": 3}, {"employee_id": "E1", "count": 3.5}) == [("wrong_type", "count")]
    assert kinds({"employee_id": "E1", "days": 1}, {"employee_id": "E1", "days": True}) == [("wrong_type", "days")]


def test_a_number_expected_in_a_string_parameter_is_read_from_the_string() -> None:
    # the parameter is a string; the expected 3 is the string's one figure: 三天 and 3天 pass, 5天 fails
    assert kinds({"employee_id": "E1", "note": 3}, {"employee_id": "E1", "note": "三天"}) == []
    assert kinds({"employee_id": "E1", "note": 3}, {"employee_id": "E1", "note": "5天"}) == [("wrong_value", "note")]
    # a string expected value is text: "3" is not the text "三"
    assert kinds({"employee_id": "E1", "note": "3"}, {"employee_id": "E1", "note": "三"}) == [("wrong_value", "note")]


def test_a_number_with_unit_and_tolerance() -> None:
    spec = {"number": 1200, "unit": "元", "tolerance": 0.01}  # 1 % of 1200: 1188 to 1212
    assert kinds({"employee_id": "E1", "days": spec}, {"employee_id": "E1", "days": 1210}) == []
    assert kinds({"employee_id": "E1", "days": spec}, {"employee_id": "E1", "days": 1213}) == [("wrong_value", "days")]
    # in a string parameter the unit is read: 1,200元 and 一千二百元 are 1200 元
    assert kinds({"employee_id": "E1", "amount": spec}, {"employee_id": "E1", "amount": "1,200元"}) == []
    assert kinds({"employee_id": "E1", "amount": spec}, {"employee_id": "E1", "amount": "一千二百元"}) == []
    # 72 hours are 3 days; 3 hours are not
    days = {"number": 3, "unit": "天"}
    assert kinds({"employee_id": "E1", "amount": days}, {"employee_id": "E1", "amount": "72小时"}) == []
    assert kinds({"employee_id": "E1", "amount": days}, {"employee_id": "E1", "amount": "3小时"}) == [
        ("wrong_value", "amount")
    ]
    # abs_tolerance: 3 ± 0.5 holds 3.5, not 3.6
    near = {"number": 3, "abs_tolerance": 0.5}
    assert kinds({"employee_id": "E1", "days": near}, {"employee_id": "E1", "days": 3.5}) == []
    assert kinds({"employee_id": "E1", "days": near}, {"employee_id": "E1", "days": 3.6}) == [("wrong_value", "days")]


def test_an_enum_takes_the_exact_member() -> None:
    assert kinds({"employee_id": "E1", "kind": "annual"}, {"employee_id": "E1", "kind": "annual"}) == []
    # "Annual" is not a member: an enum is compared exactly
    assert kinds({"employee_id": "E1", "kind": "annual"}, {"employee_id": "E1", "kind": "Annual"}) == [
        ("wrong_value", "kind")
    ]
    # a member, but not the expected one
    assert kinds({"employee_id": "E1", "kind": "annual"}, {"employee_id": "E1", "kind": "sick"}) == [
        ("wrong_value", "kind")
    ]


def test_a_date_expected_in_any_written_form_is_passed_as_the_api_takes_it() -> None:
    # the set's author may write the expected date as people do; the model must pass it as the schema's
    # format asks (ISO 8601), as an API validating the call would
    assert kinds({"employee_id": "E1", "start": "2026年3月5日"}, {"employee_id": "E1", "start": "2026-03-05"}) == []
    assert kinds({"employee_id": "E1", "start": "2026-03-05"}, {"employee_id": "E1", "start": "2026-03-06"}) == [
        ("wrong_value", "start")
    ]
    # the right day in another written form: the API would refuse it
    assert kinds({"employee_id": "E1", "start": "2026-03-05"}, {"employee_id": "E1", "start": "2026年3月5日"}) == [
        ("wrong_value", "start")
    ]
    assert kinds({"employee_id": "E1", "start": "2026-03-05"}, {"employee_id": "E1", "start": "March 5, 2026"}) == [
        ("wrong_value", "start")
    ]
    # no such day: 2026-11-31 is in the form, but the API's parser refuses it
    assert kinds({"employee_id": "E1", "start": {"present": True}}, {"employee_id": "E1", "start": "2026-11-31"}) == [
        ("wrong_value", "start")
    ]
    # a date-time: 下午2点半 is 14:30 when the author writes it; the model passes 14:30 in ISO form
    at = {"employee_id": "E1", "at": "2026年3月5日下午2点半"}
    assert kinds(at, {"employee_id": "E1", "at": "2026-03-05T14:30:00"}) == []
    assert kinds(at, {"employee_id": "E1", "at": "2026-03-05T09:00:00"}) == [("wrong_value", "at")]
    assert kinds(at, {"employee_id": "E1", "at": "2026年3月5日下午2点半"}) == [("wrong_value", "at")]


def test_a_date_yaml_read_unquoted_and_a_date_only_expectation() -> None:
    import datetime as dt

    # a date object (a set loaded by another YAML reader than the harness's, which keeps dates as text):
    # compared as the date it is
    assert (
        kinds({"employee_id": "E1", "start": dt.date(2026, 3, 5)}, {"employee_id": "E1", "start": "2026-03-05"}) == []
    )
    assert problems({"employee_id": "E1", "start": dt.date(2026, 3, 5)}) == []
    # a date-time expected as a date alone leaves the time free; one with a time needs that time
    assert kinds({"employee_id": "E1", "at": "2026-03-05"}, {"employee_id": "E1", "at": "2026-03-05T09:00"}) == []
    assert kinds({"employee_id": "E1", "at": "2026-03-05T09:00"}, {"employee_id": "E1", "at": "2026-03-05"}) == [
        ("wrong_value", "at")
    ]


def test_any_of_accepts_each_alternative_and_nothing_else() -> None:
    spec = {"any_of": ["E100", "E-100"]}
    assert kinds({"employee_id": spec}, {"employee_id": "e-100"}) == []
    assert kinds({"employee_id": spec}, {"employee_id": "E101"}) == [("wrong_value", "employee_id")]


def test_an_undeclared_argument_is_invented_and_a_required_one_missing() -> None:
    assert kinds({"employee_id": "E1"}, {"employee_id": "E1", "reason": "x"}) == [("invented", "reason")]
    assert kinds({}, {"days": 3}) == [("missing", "employee_id")]
    # an argument the expectation gives must be passed, required or not
    assert kinds({"employee_id": "E1", "days": 3}, {"employee_id": "E1"}) == [("missing", "days")]


def test_an_optional_argument_left_out_is_allowed() -> None:
    # note is optional and not expected: passed or not, no error
    assert kinds({"employee_id": "E1"}, {"employee_id": "E1"}) == []
    assert kinds({"employee_id": "E1"}, {"employee_id": "E1", "note": "anything"}) == []
    # any value the schema allows: a number for the string note, or a kind outside the enum, would make the
    # API refuse the call, expected or not
    assert kinds({"employee_id": "E1"}, {"employee_id": "E1", "note": 5}) == [("wrong_type", "note")]
    assert kinds({"employee_id": "E1"}, {"employee_id": "E1", "kind": "paid"}) == [("wrong_value", "kind")]
    # urgent is expected false; leaving it out passes the schema's default, false
    assert kinds({"employee_id": "E1", "urgent": False}, {"employee_id": "E1"}) == []
    assert kinds({"employee_id": "E1", "urgent": True}, {"employee_id": "E1"}) == [("missing", "urgent")]


ORDER = {
    "type": "object",
    "properties": {
        "machine": {
            "type": "object",
            "properties": {"line": {"type": "string"}, "speed_rpm": {"type": "integer"}},
            "required": ["line"],
        },
        "items": {"type": "array", "items": {"type": "object", "properties": {"qty": {"type": "integer"}}}},
    },
}


def test_a_nested_object_and_array_are_compared_by_their_sub_schema() -> None:
    want = {"machine": {"line": "L2", "speed_rpm": "一千二百"}, "items": [{"qty": 2}, {"qty": 5}]}
    assert kinds(want, {"machine": {"line": "l2", "speed_rpm": 1200}, "items": [{"qty": 2}, {"qty": 5}]}, ORDER) == []
    # the errors name the argument inside: machine.speed_rpm, items[1].qty, machine.colour (invented)
    got = {"machine": {"line": "L2", "speed_rpm": "1200", "colour": "red"}, "items": [{"qty": 2}, {"qty": 6}]}
    assert sorted(kinds(want, got, ORDER)) == [
        ("invented", "machine.colour"),
        ("wrong_type", "machine.speed_rpm"),
        ("wrong_value", "items[1].qty"),
    ]
    # one item too few: the array as a whole is the wrong value
    assert kinds(want, {"machine": {"line": "L2", "speed_rpm": 1200}, "items": [{"qty": 2}]}, ORDER) == [
        ("wrong_value", "items")
    ]


def problems(args: dict[str, Any], schema: dict[str, Any] = LEAVE) -> list[tuple[tuple[str | int, ...], str]]:
    return [(p.at, p.severity) for p in expected_problems(args, schema)]


def test_expected_arguments_that_fit_the_schema_have_no_problem() -> None:
    ok = {"employee_id": {"any_of": ["E1", "E-1"]}, "days": "三", "kind": "sick", "start": "2026年3月5日",
          "amount": {"number": 1200, "unit": "元", "tolerance": 0.01}, "note": 3}  # fmt: skip
    assert problems(ok) == []


@pytest.mark.parametrize(
    ("args", "at"),
    [
        ({"employee_id": "E1", "reason": "x"}, ("reason",)),  # not declared
        ({"employee_id": "E1", "days": "几天"}, ("days",)),  # reads as no number
        ({"employee_id": "E1", "count": 2.5}, ("count",)),  # not an integer
        ({"employee_id": "E1", "kind": "vacation"}, ("kind",)),  # not an enum member
        ({"employee_id": "E1", "start": "soon"}, ("start",)),  # reads as no date
        ({"employee_id": "E1", "urgent": "yes"}, ("urgent",)),  # a string for a boolean
        ({"employee_id": "E1", "days": {"any_of": []}}, ("days", "any_of")),  # no alternative
        ({"employee_id": "E1", "days": {"any_of": [3, "x"]}}, ("days", "any_of", 1)),  # one does not fit
        ({"employee_id": "E1", "days": {"number": 3, "tolerance": -1}}, ("days", "tolerance")),
        ({"employee_id": "E1", "urgent": {"number": 1}}, ("urgent",)),  # a number matcher on a boolean
        ({"employee_id": "E1", "days": {"numbr": 3}}, ("days",)),  # a misspelt matcher is an object
    ],
)
def test_expected_arguments_that_do_not_fit_are_errors_at_the_argument(args: dict[str, Any], at: tuple) -> None:
    assert problems(args) == [(at, "error")]


def test_a_required_argument_left_out_of_an_expected_call_is_a_warning() -> None:
    # employee_id is required: left out, any value passes, which the author may not mean
    assert problems({"days": 3}) == [((), "warning")]
    # a scripted tool result matches on the arguments it names only: no warning
    assert expected_problems({"days": 3}, LEAVE, call=False) == []


def test_a_free_form_nested_object_takes_any_key_and_a_closed_one_none() -> None:
    schema = {
        "type": "object",
        "properties": {
            "tags": {"type": "object"},  # no properties declared: a free-form mapping
            "spec": {"type": "object", "properties": {"a": {"type": "string"}}},  # declared: closed
            "extra": {"type": "object", "additionalProperties": False},  # explicitly closed
        },
    }
    # the arguments are not expected: any value their schemas allow
    assert kinds({}, {"tags": {"colour": "red"}}, schema) == []
    assert kinds({}, {"spec": {"a": "x", "b": "y"}}, schema) == [("invented", "spec.b")]
    assert kinds({}, {"extra": {"k": 1}}, schema) == [("invented", "extra.k")]
    # the arguments object itself with no properties takes no argument
    assert kinds({}, {"k": 1}, {"type": "object"}) == [("invented", "k")]


# ---------------------------------------------------------------- optional, present, absent, equals


def test_optional_any_of_may_be_left_out_but_if_passed_must_match() -> None:
    spec = {"employee_id": "E100", "kind": {"any_of": ["annual"], "optional": True}}
    assert kinds(spec, {"employee_id": "E100"}) == []
    assert kinds(spec, {"employee_id": "E100", "kind": "annual"}) == []
    assert kinds(spec, {"employee_id": "E100", "kind": "sick"}) == [("wrong_value", "kind")]
    # without optional, leaving it out is missing
    assert kinds({"employee_id": "E100", "kind": {"any_of": ["annual"]}}, {"employee_id": "E100"}) == [
        ("missing", "kind")
    ]


def test_optional_wins_over_the_schemas_required_as_in_bfcl() -> None:
    # employee_id is required by LEAVE; an answer that lets it be left out decides (BFCL's "" rule)
    assert kinds({"employee_id": {"any_of": ["E100"], "optional": True}}, {}) == []


def test_an_optional_number_matcher() -> None:
    spec = {"employee_id": "E1", "days": {"number": 3, "optional": True}}
    assert kinds(spec, {"employee_id": "E1"}) == []
    assert kinds(spec, {"employee_id": "E1", "days": 4}) == [("wrong_value", "days")]


def test_present_must_be_passed_with_any_value_its_schema_allows() -> None:
    spec = {"employee_id": "E1", "note": {"present": True}}
    assert kinds(spec, {"employee_id": "E1", "note": "随便写点什么"}) == []
    assert kinds(spec, {"employee_id": "E1"}) == [("missing", "note")]
    assert kinds(spec, {"employee_id": "E1", "note": 3}) == [("wrong_type", "note")]  # still the schema's type
    assert kinds({"employee_id": "E1", "kind": {"present": True}}, {"employee_id": "E1", "kind": "vacation"}) == [
        ("wrong_value", "kind")  # and its enum
    ]


def test_absent_must_not_be_passed() -> None:
    spec = {"employee_id": "E1", "note": {"absent": True}}
    assert kinds(spec, {"employee_id": "E1"}) == []
    assert kinds(spec, {"employee_id": "E1", "note": "x"}) == [("invented", "note")]


def test_equals_escapes_a_literal_whose_keys_look_like_a_matcher() -> None:
    free = {"type": "object", "properties": {"opts": {"type": "object"}}}  # a free-form mapping
    # {number: 5} alone is a number matcher, which a mapping never passes ...
    assert kinds({"opts": {"number": 5}}, {"opts": {"number": 5}}, free) == [("wrong_value", "opts")]
    # ... under equals it is the literal mapping, compared key by key, at any depth
    assert kinds({"opts": {"equals": {"number": 5}}}, {"opts": {"number": 5}}, free) == []
    assert kinds({"opts": {"equals": {"number": 5}}}, {"opts": {"number": 6}}, free) == [("wrong_value", "opts.number")]
    deep = {"opts": {"equals": {"a": {"any_of": [1]}}}}
    assert kinds(deep, {"opts": {"a": {"any_of": [1]}}}, free) == []
    assert kinds(deep, {"opts": {"a": 1}}, free) != []  # the inner any_of is a literal too


def test_the_validator_knows_each_form_and_refuses_unknown_keys() -> None:
    ok = {"employee_id": {"equals": "E1"}, "note": {"present": True}, "days": {"number": 3, "optional": True},
          "kind": {"any_of": ["annual"], "optional": True}, "start": {"absent": True}}  # fmt: skip
    assert expected_problems(ok, LEAVE) == []
    bad = {"employee_id": {"any_of": ["E1"], "optinal": True}, "note": {"present": True, "absent": True}}
    found = [(p.at, p.message.split(" (")[0]) for p in expected_problems(bad, LEAVE)]
    assert found == [
        (("employee_id", "optinal"), "unknown key optinal in the any_of matcher"),
        (("note", "absent"), "present cannot be combined with absent: one matcher per value"),
    ]


def test_absent_on_a_required_argument_is_a_warning() -> None:
    # employee_id is required by LEAVE: a right call would have to leave out what the API demands
    (p,) = expected_problems({"employee_id": {"absent": True}}, LEAVE)
    assert (p.at, p.severity) == (("employee_id",), "warning") and "required by the schema" in p.message


def test_a_value_outside_the_schemas_bounds_is_a_wrong_value_as_the_api_would_refuse_it() -> None:
    erp = {
        "type": "object",
        "properties": {
            "part_no": {"type": "string", "pattern": "^[A-Z]{3}-\\d{4}$"},
            "quantity": {"type": "integer", "minimum": 1, "maximum": 500},
        },
        "required": ["part_no", "quantity"],
    }
    # the expected part number in lower case would match after case-folding, but the API's pattern refuses
    # the lower-case form: the call fails, so the argument is wrong
    assert kinds({"part_no": "BRG-6204", "quantity": 10}, {"part_no": "brg-6204", "quantity": 10}, erp) == [
        ("wrong_value", "part_no")
    ]
    assert kinds({"part_no": "BRG-6204", "quantity": 10}, {"part_no": "BRG-6204", "quantity": 10}, erp) == []
    # an argument the expectation leaves free is still bounded: 0 is under the minimum of 1
    assert kinds({"part_no": "BRG-6204"}, {"part_no": "BRG-6204", "quantity": 0}, erp) == [("wrong_value", "quantity")]
    (why,) = grade_arguments({"part_no": "BRG-6204"}, {"part_no": "BRG-6204", "quantity": 501}, erp)
    assert why.why == "the schema refuses it: 501 is greater than the maximum of 500"
