"""``harness review add``: a review file is checked against the run and refused whole on any problem.

The corpus tests/data/malformed/review_*.json has one kind of damage per file; each is added to the
fixed run of tests/support/review_run.py (its keys and hashes are worked out there). The first problem line
is listed here in full, so a message that loses its place (file, grades[i], key) or its meaning fails.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness import store
from harness.cli import main
from harness.records import HumanGrade
from harness.review.intake import add_reviews, merge
from harness.review.reviewfile import parse_review_file
from harness.rundir import RunDir
from tests.support.files import DATA
from tests.support.review_run import ANN_GRADE, SHA, make_review_run

CORPUS = DATA / "malformed"
Q1 = "grades[0] (key alpha/s1/q1/0)"
FIRST_PROBLEM = {  # file -> its first problem line after "<path>"
    "review_wrong_format.json": ': format: "label-studio" is not "harness-review"',
    "review_wrong_version.json": ": version: 2 is not 1; export it again from this harness's report",
    "review_empty_reviewer.json": ": reviewer: missing or empty; give the reviewer's name",
    "review_no_reviewer.json": ": reviewer: missing or empty; give the reviewer's name",
    "review_unknown_key.json": ": grades[1] (key gamma/s1/q1/0): not an answer of this run",
    "review_text_changed.json": f": {Q1}: the answer's text has changed since it was graded (its sha256 is not "
    "the run's answer's now); grade the answer again",
    # the reviewer hashed the text with its thinking; the answer of a cut-off thought is "" (Generation.answer)
    "review_thinking_hashed.json": ": grades[0] (key beta/s1/q2/0): the answer's text has changed since it was "
    "graded (its sha256 is not the run's answer's now); grade the answer again",
    "review_grade_eleven.json": f": {Q1}: grade: 11 is off the scale (an integer 1..10, or null)",
    "review_grade_zero.json": f": {Q1}: grade: 0 is off the scale (an integer 1..10, or null)",
    "review_grade_fraction.json": f": {Q1}: grade: 7.5 is off the scale (an integer 1..10, or null)",
    "review_grade_bool.json": f": {Q1}: grade: true is off the scale (an integer 1..10, or null)",
    "review_grade_text.json": f': {Q1}: grade: "7" is off the scale (an integer 1..10, or null)',
    "review_acceptable_text.json": f': {Q1}: acceptable: "yes" is not true or false',
    "review_acceptable_missing.json": f": {Q1}: acceptable: null is not true or false",
    "review_sha_not_hex.json": f": {Q1}: sha256: missing or not 64 lowercase hex digits",
    "review_conflict_in_file.json": ": grades[2] (key alpha/s1/q1/0): graded again by bob with another verdict "
    "(not acceptable, grade 3) than grades[0] (acceptable, grade 7)",
    # ann's stored grade (tests/support/review_run.py): acceptable, grade 8
    "review_conflict_with_stored.json": ": grades[0] (key alpha/s1/q2/0): ann graded this answer before with "
    "another verdict (acceptable, grade 8, from ann-earlier.json) than now (not acceptable, grade 2)",
    "review_wrong_run.json": ": run: the file grades run 'other-plan', not this run ('rv')",
    "review_grades_not_list.json": ": grades: must be a list of grades",
    "review_top_level_list.json": ": a review file is a JSON object, not list",
    "review_blind_text.json": ': blind: "yes" is not true or false',
    "review_truncated.json": ":3: not valid JSON (Expecting value)",  # the file ends after line 2's "["
    "review_empty.json": ":1: not valid JSON (Expecting value)",
    # "café" in Latin-1: é is byte 0xE9 at offset 0x110 + 15 = 287 (xxd), followed by '"', not a continuation
    "review_not_utf8.json": ": not UTF-8 text (invalid continuation byte at byte 287)",
}


@pytest.fixture
def run(tmp_path: Path) -> Path:
    return make_review_run(tmp_path)


def good_file(path: Path, reviewer: str = "bob", **grade: object) -> Path:
    """A valid review file grading alpha/s1/q1/0 ("Paris") and beta/s1/q1/0 ("Lyon")."""
    first = {"key": "alpha/s1/q1/0", "sha256": SHA["Paris"], "acceptable": True, "grade": 9, "note": "",
             "at": "2026-12-06T10:00:00Z", **grade}  # fmt: skip
    second = {"key": "beta/s1/q1/0", "sha256": SHA["Lyon"], "acceptable": False, "note": "wrong city"}
    doc = {"format": "harness-review", "version": 1, "run": "rv", "reviewer": reviewer, "blind": True,
           "exported_at": "2026-12-06T10:05:00Z", "grades": [first, second]}  # fmt: skip
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_the_corpus_has_a_file_per_refusal_and_each_is_listed() -> None:
    assert sorted(p.name for p in CORPUS.glob("review_*.json")) == sorted(FIRST_PROBLEM)


@pytest.mark.parametrize("name", sorted(FIRST_PROBLEM))
def test_each_bad_review_file_is_refused_whole_with_one_line_per_problem(
    name: str, run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = RunDir(run).reviews.read_bytes()
    path = CORPUS / name
    assert main(["review", "add", str(run), str(path)]) == 2
    out = capsys.readouterr()
    lines = out.err.strip().splitlines()
    assert "Traceback" not in out.out + out.err
    assert all(line.startswith(f"{path}:") for line in lines), lines
    assert lines[0] == f"{path}{FIRST_PROBLEM[name]}"
    assert lines[-1] == f"{path}: refused, nothing of it added"
    assert "0 new grades; the run holds 1 grade by 1 reviewer\n" in out.out
    assert RunDir(run).reviews.read_bytes() == before


def test_a_good_file_is_stored_as_human_grades(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = good_file(run.parent / "bob.json")
    assert main(["review", "add", str(run), str(path)]) == 0
    assert f"{path}: 2 new grades by bob (0 already in the run)" in capsys.readouterr().out
    grades = RunDir(run).read_reviews()
    # sorted by reviewer, then key: ann's earlier one first, then bob's two
    assert [(g.reviewer, g.key) for g in grades] == [
        ("ann", "alpha/s1/q2/0"), ("bob", "alpha/s1/q1/0"), ("bob", "beta/s1/q1/0"),
    ]  # fmt: skip
    assert grades[0] == ANN_GRADE
    assert grades[1] == HumanGrade(key="alpha/s1/q1/0", text_sha256=SHA["Paris"], reviewer="bob",
                                   acceptable=True, grade=9, graded_at="2026-12-06T10:00:00Z", blind=True,
                                   source="bob.json")  # fmt: skip
    assert (grades[2].acceptable, grades[2].grade, grades[2].note, grades[2].graded_at) == (
        False,
        None,
        "wrong city",
        None,
    )


def test_adding_the_same_file_twice_changes_nothing(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = good_file(run.parent / "bob.json")
    assert main(["review", "add", str(run), str(path)]) == 0
    first = RunDir(run).reviews.read_bytes()
    capsys.readouterr()
    assert main(["review", "add", str(run), str(path)]) == 0
    out = capsys.readouterr().out
    assert f"{path}: 0 new grades by bob (2 already in the run)" in out and "\n0 new grades;" in "\n" + out
    assert RunDir(run).reviews.read_bytes() == first


def test_an_identical_repeat_inside_a_file_is_one_grade(run: Path) -> None:
    path = run.parent / "twice.json"
    doc = json.loads(good_file(path).read_text("utf-8"))
    doc["grades"].append(dict(doc["grades"][0], at="2026-12-06T11:00:00Z"))  # same verdict, later time
    path.write_text(json.dumps(doc), "utf-8")
    result = add_reviews(run, [path])
    assert (result.files[0].new, result.files[0].unchanged, result.refused) == (2, 1, [])
    assert len(result.grades) == 3  # ann's 1 + bob's 2


def test_two_reviewers_in_one_call_are_both_stored(run: Path) -> None:
    bob, cid = good_file(run.parent / "bob.json"), good_file(run.parent / "cid.json", reviewer="cid", grade=4)
    result = add_reviews(run, [bob, cid])
    assert [(o.reviewer, o.new) for o in result.files] == [("bob", 2), ("cid", 2)] and result.written
    grades = {(g.reviewer, g.key): g.grade for g in RunDir(run).read_reviews()}
    assert grades == {("ann", "alpha/s1/q2/0"): 8, ("bob", "alpha/s1/q1/0"): 9, ("bob", "beta/s1/q1/0"): None,
                      ("cid", "alpha/s1/q1/0"): 4, ("cid", "beta/s1/q1/0"): None}  # fmt: skip


def test_a_refused_file_is_not_added_but_the_good_one_of_the_same_call_is(
    run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = good_file(run.parent / "bob.json"), CORPUS / "review_grade_eleven.json"
    assert main(["review", "add", str(run), str(bad), str(good)]) == 2
    out = capsys.readouterr()
    assert f"{bad}: refused, nothing of it added" in out.err and f"{good}: 2 new grades by bob" in out.out
    assert sorted(g.source for g in RunDir(run).read_reviews()) == ["ann-earlier.json", "bob.json", "bob.json"]


def test_a_second_file_of_one_call_that_contradicts_the_first_is_refused(run: Path) -> None:
    first = good_file(run.parent / "bob-1.json")
    second = good_file(run.parent / "bob-2.json", grade=3)  # bob now gives alpha/s1/q1/0 a 3, not a 9
    result = add_reviews(run, [first, second])
    assert [o.refused for o in result.files] == [False, True]
    assert result.files[1].problems == [
        f"{second}: grades[0] (key alpha/s1/q1/0): bob graded this answer before with another verdict "
        "(acceptable, grade 9, from bob-1.json) than now (acceptable, grade 3)"
    ]


def test_every_problem_of_every_file_is_printed(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = CORPUS / "review_unknown_key.json", CORPUS / "review_grade_text.json"
    assert main(["review", "add", str(run), str(a), str(b)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"{a}: grades[1] (key gamma/s1/q1/0): not an answer of this run",
        f"{a}: refused, nothing of it added",
        f"{b}{FIRST_PROBLEM['review_grade_text.json']}",
        f"{b}: refused, nothing of it added",
    ]


def test_a_crash_while_writing_leaves_the_old_reviews_whole(run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = RunDir(run).reviews.read_bytes()

    def crash(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store.os, "replace", crash)
    with pytest.raises(OSError):
        add_reviews(run, [good_file(run.parent / "bob.json")])
    assert RunDir(run).reviews.read_bytes() == before
    assert [p.name for p in run.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def test_a_missing_file_and_a_missing_run_are_one_line_each(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = run.parent / "nope.json"
    assert main(["review", "add", str(run), str(missing)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{missing}: cannot read (No such file or directory)",
        f"{missing}: refused, nothing of it added",
    ]
    assert main(["review", "add", str(run.parent / "no-run"), str(good_file(run.parent / "bob.json"))]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("error: ") and str(run.parent / "no-run") in line


def test_merge_is_pure_and_sorted() -> None:
    rf = parse_review_file("f.json", (CORPUS / "review_unknown_key.json").read_bytes())
    answers = {"alpha/s1/q1/0": SHA["Paris"]}
    outcomes, grades = merge([(Path("f.json"), rf)], answers, "rv", [ANN_GRADE])
    assert outcomes[0].refused and grades == [ANN_GRADE]
    answers["gamma/s1/q1/0"] = SHA["Paris"]  # with that key in the run, the file is good
    outcomes, grades = merge([(Path("f.json"), rf)], answers, "rv", [ANN_GRADE])
    assert [o.new for o in outcomes] == [2]
    assert [(g.reviewer, g.key) for g in grades] == [("ann", "alpha/s1/q2/0"), ("bob", "alpha/s1/q1/0"),
                                                     ("bob", "gamma/s1/q1/0")]  # fmt: skip
