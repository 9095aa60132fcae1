"""BFCL's simple, multiple and parallel files read as question sets (harness/inputs/bfcl.py).

The fixtures are real BFCL lines (tests/data/bfcl/README.md names the commit); every expected value below is
read by hand from those lines and BFCL's rules: ``""`` among an argument's acceptable values means it may be
left out, a declared parameter the answer does not name must not be passed, dots in names become ``_``.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from harness.cli import main
from harness.inputs.bfcl import MUST_NOT_PASS, read_bfcl, tool_name
from harness.inputs.bfcl_yaml import set_yaml
from harness.inputs.questions import load_question_set
from harness.records import ExpectedCall
from harness.validation import InputError
from tests.support.files import DATA

BFCL = DATA / "bfcl"


def _read(category: str):  # type: ignore[no-untyped-def]
    return read_bfcl(BFCL / f"BFCL_v4_{category}.json", BFCL / "possible_answer" / f"BFCL_v4_{category}.json")


def _q(imported, qid: str):  # type: ignore[no-untyped-def]
    return next(q for q in imported.question_set.questions if q.id == qid)


def test_simple_reads_each_line_as_one_expected_call() -> None:
    got = _read("simple_python")
    qs = got.question_set
    assert (qs.id, qs.language) == ("bfcl_v4_simple_python", "en")
    assert [q.id for q in qs.questions] == ["simple_python_0", "simple_python_1", "simple_python_13",
                                            "simple_python_17", "simple_python_89"]  # fmt: skip
    assert {q.category for q in qs.questions} == {"simple_python"}
    # simple_python_0: base [10], height [5], unit ["units", ""]: unit may be left out, else "units".
    q0 = _q(got, "simple_python_0")
    assert q0.question == "Find the area of a triangle with a base of 10 units and height of 5 units."
    assert q0.expect_call == [ExpectedCall(name="calculate_triangle_area", arguments={
        "base": 10, "height": 5, "unit": {"any_of": ["units"], "optional": True}})]  # fmt: skip
    # BFCL's "dict" is JSON Schema's "object"; the rest of the schema is kept as written.
    assert q0.tools[0].function.parameters == {
        "type": "object",
        "properties": {
            "base": {"type": "integer", "description": "The base of the triangle."},
            "height": {"type": "integer", "description": "The height of the triangle."},
            "unit": {"type": "string", "description": "The unit of measure (defaults to 'units' if not specified)"},
        },
        "required": ["base", "height"],
    }
    # simple_python_1: "math.factorial" has a dot, which OpenAI names refuse: math_factorial, and the map back.
    q1 = _q(got, "simple_python_1")
    assert q1.tools[0].name == "math_factorial" and q1.expect_call[0].name == "math_factorial"
    assert q1.tools[0].function.description == "Calculate the factorial of a given number."  # unchanged
    assert got.renamed == {"math.factorial": "math_factorial"}
    assert q1.reference == "math_factorial(number=5)"
    # simple_python_13: three spellings of the function; one acceptable list [1.0, 3.0] (a literal, not
    # alternatives); the array's "float" items are "number"s.
    q13 = _q(got, "simple_python_13")
    assert q13.expect_call[0].arguments == {
        "function": {"any_of": ["x**2", "lambda x: x**2", "y=x**2"]},
        "interval": [1.0, 3.0],
        "method": {"any_of": ["trapezoidal"], "optional": True},
    }
    assert q13.tools[0].function.parameters["properties"]["interval"]["items"] == {"type": "number"}
    # simple_python_17: "formatted" is required by the schema, yet the answer [true, ""] lets it be left out:
    # the answer decides, as BFCL's checker does.
    assert _q(got, "simple_python_17").expect_call[0].arguments["formatted"] == {"any_of": [True], "optional": True}
    # simple_python_89: conditions [{"department": ["Science"], "school": ["Bluebird High School", "Bluebird HS"]}]
    # is one dict of acceptable lists: two literal objects.
    assert _q(got, "simple_python_89").expect_call[0].arguments["conditions"] == {"any_of": [
        {"department": "Science", "school": "Bluebird High School"},
        {"department": "Science", "school": "Bluebird HS"},
    ]}  # fmt: skip


def test_multiple_offers_every_function_and_expects_one_call() -> None:
    got = _read("multiple")
    q2 = _q(got, "multiple_2")  # "What is the capital of Brazil?" with largest_city, capital, population offered
    assert [t.name for t in q2.tools] == ["country_info_largest_city", "country_info_capital",
                                          "country_info_population"]  # fmt: skip
    assert q2.expect_call == [ExpectedCall(name="country_info_capital", arguments={"country": "Brazil"})]
    # multiple_8: budget [{"min": [300000], "max": [400000]}]: one literal object; location has four spellings.
    args8 = _q(got, "multiple_8").expect_call[0].arguments
    assert args8["budget"] == {"min": 300000, "max": 400000}
    assert args8["location"] == {"any_of": ["SD", "San Diego", "San Diego, CA", "CA"]}
    assert _q(got, "multiple_8").expect_call[0].name == "realestate_find_properties"
    # multiple_0's three flags are each ["", true].
    args0 = _q(got, "multiple_0").expect_call[0].arguments
    assert [args0[k] for k in ("get_area", "get_perimeter", "get_angles")] == [{"any_of": [True], "optional": True}] * 3
    assert {q.category for q in got.question_set.questions} == {"multiple"}


def test_parallel_calls_become_several_expected_calls() -> None:
    q = _q(_read("parallel"), "parallel_0")  # Taylor Swift 20 minutes and Maroon 5 15 minutes
    assert q.expect_call == [
        ExpectedCall(name="spotify_play", arguments={"artist": "Taylor Swift", "duration": 20}),
        ExpectedCall(name="spotify_play", arguments={"artist": "Maroon 5", "duration": 15}),
    ]


def test_irrelevance_reads_as_no_call() -> None:
    qs = read_bfcl(BFCL / "BFCL_v4_irrelevance.json", None, no_call=True).question_set
    assert [(q.id, q.no_call, q.expect_call) for q in qs.questions] == [("irrelevance_0", True, []),
                                                                       ("irrelevance_1", True, [])]  # fmt: skip
    assert qs.questions[1].tools[0].name == "math_sum"


@pytest.mark.parametrize("category", ["simple_python", "multiple", "parallel"])
def test_every_expected_value_fits_the_schema_sent(category: str) -> None:
    """Each literal (and each alternative) validates against its property's JSON Schema, every declared
    parameter is named (BFCL: one the answer leaves out must not be passed), and no other is."""
    for q in _read(category).question_set.questions:
        tools = {t.name: t.function.parameters for t in q.tools}
        for call in q.expect_call:
            props = tools[call.name]["properties"]
            assert set(call.arguments) == set(props), q.id
            for name, want in call.arguments.items():
                if want == {"absent": True}:
                    continue  # a parameter the answer does not name: no value to check
                matcher = isinstance(want, dict) and set(want) <= {"any_of", "optional"} and "any_of" in want
                for value in want["any_of"] if matcher else [want]:
                    jsonschema.validate(value, props[name])


def test_a_declared_parameter_the_answer_leaves_out_must_not_be_passed(tmp_path: Path) -> None:
    # simple_python_1 with a second parameter the ground truth does not name: BFCL's unexpected_param.
    line = json.loads((BFCL / "BFCL_v4_simple_python.json").read_text().splitlines()[1])
    line["function"][0]["parameters"]["properties"]["verbose"] = {"type": "boolean", "description": "Log steps."}
    data = tmp_path / "d.json"
    data.write_text(json.dumps(line) + "\n")
    got = read_bfcl(data, BFCL / "possible_answer" / "BFCL_v4_simple_python.json")
    assert got.question_set.questions[0].expect_call[0].arguments == {"number": 5, "verbose": MUST_NOT_PASS}
    assert MUST_NOT_PASS == {"absent": True}
    assert got.question_set.questions[0].reference == "math_factorial(number=5)"


def test_import_bfcl_writes_a_set_that_loads_back_equal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sets" / "bfcl_multiple.yaml"
    data, answers = BFCL / "BFCL_v4_multiple.json", BFCL / "possible_answer" / "BFCL_v4_multiple.json"
    assert main(["import-bfcl", str(data), str(answers), "--out", str(out), "--id", "bfcl_multiple"]) == 0
    said = capsys.readouterr().out
    assert "question set bfcl_multiple with 4 questions" in said
    # multiple_0..8 offer 10 dotted names between them (2 + 3 + 3 + 2), all renamed.
    assert "10 function names renamed" in said
    loaded, _ = load_question_set(out)
    expected = read_bfcl(data, answers, set_id="bfcl_multiple").question_set
    assert loaded == expected
    text = out.read_text(encoding="utf-8")
    assert "#   realestate.find_properties -> realestate_find_properties" in text
    # A second import to the same file is refused without --force.
    assert main(["import-bfcl", str(data), str(answers), "--out", str(out)]) == 2
    assert "exists" in capsys.readouterr().err


def test_strings_that_look_like_numbers_stay_strings(tmp_path: Path) -> None:
    # A string enum value "1e5" or "0o7" is a number to a YAML 1.2 reader unless quoted.
    line = json.loads((BFCL / "BFCL_v4_multiple.json").read_text().splitlines()[2])  # multiple_2: country
    answer = {"id": "multiple_2", "ground_truth": [{"country_info.capital": {"country": ["1e5", "0o7", "true"]}}]}
    data, answers = tmp_path / "d.json", tmp_path / "a.json"
    data.write_text(json.dumps(line) + "\n")
    answers.write_text(json.dumps(answer) + "\n")
    imported = read_bfcl(data, answers)
    out = tmp_path / "s.yaml"
    out.write_text(set_yaml(imported, [data, answers]), encoding="utf-8")
    loaded, _ = load_question_set(out, warnings=False)
    assert loaded.questions[0].expect_call[0].arguments["country"] == {"any_of": ["1e5", "0o7", "true"]}


# ------------------------------------------------------------------ malformed input: file, line and id named


def _write(tmp_path: Path, data_lines: list[str], answer_lines: list[str]) -> tuple[Path, Path]:
    data, answers = tmp_path / "data.json", tmp_path / "answers.json"
    data.write_text("\n".join(data_lines) + "\n")
    answers.write_text("\n".join(answer_lines) + "\n")
    return data, answers


def _problems(data: Path, answers: Path) -> list[str]:
    with pytest.raises(InputError) as exc:
        read_bfcl(data, answers)
    return [str(p) for p in exc.value.problems]


def _real(category: str, n: int) -> tuple[str, str]:
    return ((BFCL / f"BFCL_v4_{category}.json").read_text().splitlines()[n],
            (BFCL / "possible_answer" / f"BFCL_v4_{category}.json").read_text().splitlines()[n])  # fmt: skip


def test_a_question_without_an_answer_names_the_file_line_and_id(tmp_path: Path) -> None:
    (d0, a0), (d1, _) = _real("simple_python", 0), _real("simple_python", 1)
    data, answers = _write(tmp_path, [d0, d1], [a0])
    assert _problems(data, answers) == [f"{data}:2: simple_python_1: no answer with this id in {answers}"]


def test_an_unknown_type_names_the_file_line_id_and_type(tmp_path: Path) -> None:
    d, a = _real("simple_python", 1)
    d = d.replace('"type": "integer"', '"type": "HashMap"')
    data, answers = _write(tmp_path, [d], [a])
    (problem,) = _problems(data, answers)
    assert problem.startswith(f"{data}:1: simple_python_1: function math.factorial parameters.number: ")
    assert "unknown type 'HashMap'" in problem


def test_other_malformed_lines_are_each_named(tmp_path: Path) -> None:
    (d0, a0), (d1, a1), (d2, a2) = (_real("simple_python", k) for k in range(3))
    multi_turn = json.loads(d1)
    multi_turn["question"].append([{"role": "user", "content": "and 6?"}])
    wrong_call = json.loads(a2)
    wrong_call["ground_truth"] = [{"math.sqrt": {"number": [5]}}]
    data, answers = _write(tmp_path, [d0, "{not json", json.dumps(multi_turn), d2], [a0, a1, json.dumps(wrong_call)])
    got = _problems(data, answers)
    assert got[0].startswith(f"{data}:2: (line): not a JSON object")
    assert got[1].startswith(f"{data}:3: simple_python_1: only single-turn questions are read")
    assert got[2] == (f"{answers}:3: simple_python_13: ground_truth[0] calls 'math.sqrt', "
                      "which the question does not offer")  # fmt: skip
    assert len(got) == 3


def test_two_names_that_collide_after_renaming_are_refused(tmp_path: Path) -> None:
    d, a = _real("simple_python", 1)
    line = json.loads(d)
    twin = json.loads(json.dumps(line["function"][0]))
    twin["name"] = "math_factorial"  # "math.factorial" would become this too
    line["function"].append(twin)
    data, answers = _write(tmp_path, [json.dumps(line)], [a])
    (problem,) = _problems(data, answers)
    assert "two functions would both be named 'math_factorial'" in problem and ":1: simple_python_1:" in problem


def test_an_argument_the_function_does_not_declare_is_refused(tmp_path: Path) -> None:
    d, a = _real("simple_python", 1)
    answer = json.loads(a)
    answer["ground_truth"][0]["math.factorial"]["precision"] = [2]
    data, answers = _write(tmp_path, [d], [json.dumps(answer)])
    assert _problems(data, answers) == [
        f"{answers}:1: simple_python_1: ground_truth[0] math.factorial: argument 'precision' is not declared "
        "by the function"
    ]


def test_skip_bad_leaves_the_bad_lines_out_and_says_which(tmp_path: Path) -> None:
    # BFCL's own files hold a few bad answers (two in BFCL_v4_parallel_multiple): --skip-bad reads the rest.
    (d0, a0), (d1, a1) = _real("simple_python", 0), _real("simple_python", 1)
    answer = json.loads(a1)
    answer["ground_truth"][0]["math.factorial"]["precision"] = [2]
    data, answers = _write(tmp_path, [d0, d1], [a0, json.dumps(answer)])
    got = read_bfcl(data, answers, skip_bad=True)
    assert [q.id for q in got.question_set.questions] == ["simple_python_0"]
    assert [(p.line, p.field, p.severity) for p in got.skipped] == [(2, "simple_python_1", "warning")]
    assert got.renamed == {}  # math.factorial belonged to the line left out
    out = tmp_path / "s.yaml"
    assert main(["import-bfcl", str(data), str(answers), "--out", str(out)]) == 2 and not out.exists()
    assert main(["import-bfcl", str(data), str(answers), "--out", str(out), "--skip-bad"]) == 0 and out.exists()


def test_java_lines_and_a_missing_answer_file_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d, a = _real("simple_python", 1)
    data, answers = _write(tmp_path, [d.replace("simple_python_1", "simple_java_1")],
                           [a.replace("simple_python_1", "simple_java_1")])  # fmt: skip
    assert _problems(data, answers) == [
        f"{data}:1: simple_java_1: Java and JavaScript categories are not read (values are source code)"
    ]
    # Without the answer file a set would hold no expected call: only an irrelevance file, said so, reads so.
    assert main(["import-bfcl", str(data), "--out", str(tmp_path / "x.yaml")]) == 2
    assert "--no-call" in capsys.readouterr().err


# ---------------------------------------------------------------- BFCL's own answers through our grader

CATEGORIES = {"simple_python": 5, "multiple": 4, "parallel": 2}
"""The fixture lines per category (tests/data/bfcl/README.md)."""


@pytest.mark.parametrize("category", list(CATEGORIES))
def test_bfcl_answers_grade_right_and_each_perturbation_wrong(category: str) -> None:
    """The call a model makes from BFCL's first acceptable value of each argument (``""`` skipped) grades
    ``right``; one change to the first call grades ``wrong_call`` with its error: another value of the same
    type (``wrong_value``), a required argument dropped (``missing``), an undeclared one added (``invented``).
    scripts/bfcl_crosscheck.py runs the same over BFCL's whole files (docs/tools.md, "Compared with BFCL")."""
    from bfcl_crosscheck import check_files

    name = f"BFCL_v4_{category}.json"
    found = check_files(BFCL / name, BFCL / "possible_answer" / name)
    assert [f"{c.qid} {c.check}: {c.grade.reason}" for c in found if not c.ok] == []
    # Each fixture line has a scalar argument to change, a required argument its answer does not let be left
    # out, and no additionalProperties: one right case and three perturbations a line.
    kinds = [c.want_kind for c in found]
    n = CATEGORIES[category]
    assert (kinds.count(None), kinds.count("wrong_value"), kinds.count("missing"), kinds.count("invented")) == (
        n, n, n, n,
    )  # fmt: skip


def test_bfcl_first_values_are_what_a_model_passes() -> None:
    from bfcl_crosscheck import answer_calls

    # simple_python_89: employee.fetch_data(company_name=["ABC Ltd."], employee_id=[345],
    # data_field=[["Personal Info", "Job History", "Payroll", "Attendance Record"], ""]) by hand from the line.
    line = json.loads((BFCL / "BFCL_v4_simple_python.json").read_text().splitlines()[4])
    truth = json.loads((BFCL / "possible_answer" / "BFCL_v4_simple_python.json").read_text().splitlines()[4])
    ((name, args),) = answer_calls(truth["ground_truth"], line["function"])
    assert name == tool_name(next(iter(truth["ground_truth"][0])))
    assert all(v != "" for v in args.values())  # "" means "leave it out", never a value to pass


# simple_python_307 of BFCL at the fixtures' commit, copied unchanged: its answer accepts `true` for the
# string `venue` besides leaving it out ("").
LINE_307 = (BFCL / "simple_python_307.txt").read_text(encoding="utf-8").splitlines()


def test_an_acceptable_value_that_does_not_fit_the_schema_is_dropped_with_a_warning(tmp_path: Path) -> None:
    data, answers = tmp_path / "d.json", tmp_path / "a.json"
    data.write_text(LINE_307[0] + "\n", encoding="utf-8")
    answers.write_text(LINE_307[1] + "\n", encoding="utf-8")
    got = read_bfcl(data, answers)
    args = got.question_set.questions[0].expect_call[0].arguments
    # venue: ["", true]: true fails {type: string}, and "" lets it be left out: only leaving it out is left.
    assert args["venue"] == {"absent": True}
    assert [(p.file, p.line, p.severity) for p in got.dropped] == [(str(answers), 1, "warning")]
    assert "venue: acceptable value true dropped" in got.dropped[0].message
    # The written set validates without a warning.
    out = tmp_path / "s.yaml"
    out.write_text(set_yaml(got, [data, answers]), encoding="utf-8")
    assert load_question_set(out)[1] == []


def test_an_argument_with_no_acceptable_value_that_fits_is_an_error_at_the_answer_line(tmp_path: Path) -> None:
    data, answers = tmp_path / "d.json", tmp_path / "a.json"
    data.write_text(LINE_307[0] + "\n", encoding="utf-8")
    # the same answer with the date's acceptable values replaced by `true`: no string to pass
    answers.write_text(LINE_307[1].replace('"date": ["2021-01-28", "01/28/2021", "Jan.28,2021"]', '"date": [true]'))
    with pytest.raises(InputError) as exc:
        read_bfcl(data, answers)
    (problem,) = exc.value.problems
    assert (problem.file, problem.line) == (str(answers), 1)
    assert "date: no acceptable value fits the parameter's schema" in problem.message


def test_a_dict_value_whose_keys_look_like_a_matcher_is_written_as_equals() -> None:
    from harness.inputs.bfcl import expected_argument

    # a free-form dict parameter (no properties) whose answer is {"number": [5]}: the literal {number: 5},
    # which the grammar would read as a number matcher; written {equals: {number: 5}}.
    assert expected_argument([{"number": [5]}], {"type": "object"}, "f.opts") == {"equals": {"number": 5}}
