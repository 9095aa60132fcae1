"""Label Studio exchange: a review queue out as tasks, Label Studio's JSON export back as review files.

tests/data/labelstudio_export.json is written by hand after Label Studio's export format
(https://labelstud.io/guide/task_format; ``completed_by`` as the export serializer writes it,
``{"id", "email", "first_name", "last_name"}``, or as a bare user id): two annotators, one cancelled
annotation, one task nobody annotated. Its keys and hashes are those of tests/support/review_run.py.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.cli import main
from harness.review.labelstudio import LABEL_CONFIG, read_export
from harness.rundir import RunDir
from tests.support.files import DATA
from tests.support.review_run import SHA, make_review_run

EXPORT = DATA / "labelstudio_export.json"
SHOWN = {"question", "context", "reference", "answer"}


@pytest.fixture
def run(tmp_path: Path) -> Path:
    run = make_review_run(tmp_path)
    assert main(["score", str(run)]) == 0  # the review queue orders answers by their rubric verdicts
    return run


def test_the_labeling_config_shows_the_answer_and_asks_acceptable_grade_and_note() -> None:
    root = ET.fromstring(LABEL_CONFIG)
    assert {t.get("value", "")[1:] for t in root.iter("Text")} == SHOWN  # value="$question" ...
    (choices,) = root.iter("Choices")
    assert (choices.get("name"), choices.get("required")) == ("acceptable", "true")
    assert [c.get("value") for c in choices.iter("Choice")] == ["yes", "no"]
    (rating,) = root.iter("Rating")
    assert (rating.get("name"), rating.get("maxRating"), rating.get("required")) == ("grade", "10", "false")
    assert [t.get("name") for t in root.iter("TextArea")] == ["note"]


def test_the_export_is_the_unreviewed_answers_of_the_decision_variant_in_queue_order(
    run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ls"
    assert main(["review", "export-labelstudio", str(run), str(out)]) == 0
    tasks = json.loads((out / "tasks.json").read_text("utf-8"))
    keys = [t["data"]["key"] for t in tasks]
    # every answer of the decision variant, less alpha/s1/q2/0 (ann graded it), beta/s1/q3/0 (failed: no
    # answer to read) and the few_shot answer; in the order `harness review plan` gives
    assert sorted(keys) == ["alpha/s1/q1/0", "alpha/s1/q3/0", "beta/s1/q1/0", "beta/s1/q2/0"]
    assert f"{out / 'tasks.json'}: 4 tasks" in capsys.readouterr().out
    assert main(["review", "plan", str(run), "--json"]) == 0
    planned = [i["key"] for i in json.loads(capsys.readouterr().out)["items"]]
    assert keys == [k for k in planned if k in keys] and planned[-1] == "alpha/s1/q2/0"
    tasks = sorted(tasks, key=lambda t: str(t["data"]["key"]))
    assert tasks[1]["data"] == {
        "question": "About how many is 6 x 7?", "reference": "", "context": "Six times seven is 42.",
        "answer": "Roughly forty.", "key": "alpha/s1/q3/0", "sha256": SHA["Roughly forty."], "run": "rv",
    }  # fmt: skip
    assert (tasks[3]["data"]["answer"], tasks[3]["data"]["sha256"]) == ("", SHA[""])  # cut off while thinking
    for t in tasks:  # blind: what the interface shows names no candidate or variant
        assert not any(re.search(r"alpha|beta|zero_shot|few_shot", t["data"][f]) for f in SHOWN)
    assert (out / "labeling_config.xml").read_text("utf-8") == LABEL_CONFIG
    assert main(["review", "export-labelstudio", str(run), str(out), "--n", "2"]) == 0
    assert len(json.loads((out / "tasks.json").read_text("utf-8"))) == 2


def test_the_hand_written_export_becomes_one_review_file_per_annotator(tmp_path: Path) -> None:
    run_name, people, problems = read_export("x.json", EXPORT.read_bytes())
    assert (run_name, problems) == ("rv", [])
    assert [p.reviewer for p in people] == ["ann@example.com", "labelstudio-user-7"]
    ann, user7 = people
    assert ann.grades == [
        {"key": "alpha/s1/q1/0", "sha256": SHA["Paris"], "acceptable": True, "grade": 9, "note": "Correct and short.",
         "at": "2026-12-07T09:01:00.000000Z"},
        {"key": "beta/s1/q1/0", "sha256": SHA["Lyon"], "acceptable": False, "grade": 2,
         "note": "Lyon is not the capital.\nIt is Paris.", "at": "2026-12-07T09:02:00.000000Z"},
    ]  # fmt: skip
    # user 7: a grade without rating, the cancelled annotation 503 left out, task 103 had none
    assert [(g["key"], g["acceptable"], g["grade"]) for g in user7.grades] == [
        ("alpha/s1/q1/0", True, None), ("beta/s1/q1/0", False, 1),
    ]  # fmt: skip


def test_import_then_add_stores_both_annotators(run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "reviews"
    assert main(["review", "import-labelstudio", str(EXPORT), str(out)]) == 0
    paths = capsys.readouterr().out.split()
    assert paths == [str(out / "review-ann_example.com.json"), str(out / "review-labelstudio-user-7.json")]
    assert main(["review", "add", str(run), *paths]) == 0
    grades = {(g.reviewer, g.key): (g.acceptable, g.grade, g.source, g.blind) for g in RunDir(run).read_reviews()}
    assert grades == {
        ("ann", "alpha/s1/q2/0"): (True, 8, "ann-earlier.json", True),
        ("ann@example.com", "alpha/s1/q1/0"): (True, 9, "review-ann_example.com.json", True),
        ("ann@example.com", "beta/s1/q1/0"): (False, 2, "review-ann_example.com.json", True),
        ("labelstudio-user-7", "alpha/s1/q1/0"): (True, None, "review-labelstudio-user-7.json", True),
        ("labelstudio-user-7", "beta/s1/q1/0"): (False, 1, "review-labelstudio-user-7.json", True),
    }


def test_round_trip_export_annotate_import_add(run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["review", "export-labelstudio", str(run), str(tmp_path / "ls"), "--n", "3"]) == 0
    tasks = json.loads((tmp_path / "ls" / "tasks.json").read_text("utf-8"))
    for i, task in enumerate(tasks):  # what Label Studio adds: ids and one person's annotation per task
        task["id"] = 200 + i
        verdict = "yes" if task["data"]["answer"] == task["data"]["reference"] else "no"
        result = [
            {"from_name": "acceptable", "to_name": "answer", "type": "choices", "value": {"choices": [verdict]}},
            {"from_name": "grade", "to_name": "answer", "type": "rating", "value": {"rating": 3 + i}},
        ]
        task["annotations"] = [{"id": 900 + i, "completed_by": {"id": 1, "email": "dee@example.com"},
                                "result": result, "was_cancelled": False}]  # fmt: skip
    capsys.readouterr()
    export = tmp_path / "project-4-at-2026-12-07.json"
    export.write_text(json.dumps(tasks), "utf-8")
    assert main(["review", "import-labelstudio", str(export), str(tmp_path / "in")]) == 0
    (path,) = capsys.readouterr().out.split()
    assert main(["review", "add", str(run), path]) == 0
    dee = [(g.key, g.acceptable, g.grade) for g in RunDir(run).read_reviews() if g.reviewer == "dee@example.com"]
    # the first 3 of the queue, graded 3, 4, 5 in turn: only "Paris" (alpha/s1/q1/0) is its question's reference
    first3 = [t["data"]["key"] for t in tasks]
    acceptable = {"alpha/s1/q1/0": True, "alpha/s1/q3/0": False, "beta/s1/q1/0": False, "beta/s1/q2/0": False}
    assert sorted(dee) == sorted((k, acceptable[k], 3 + i) for i, k in enumerate(first3))


def test_an_export_with_an_unusable_annotation_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks = json.loads(EXPORT.read_text("utf-8"))
    tasks[1]["annotations"][1]["result"] = tasks[1]["annotations"][1]["result"][1:]  # user 7's choice removed
    bad = tmp_path / "export.json"
    bad.write_text(json.dumps(tasks), "utf-8")
    assert main(["review", "import-labelstudio", str(bad), str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{bad}: task 102 (key beta/s1/q1/0): annotation 505: no 'acceptable' choice; "
        "was the project made with labeling_config.xml?",
        f"{bad}: refused, no review file written",
    ]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"data": {}}', "not a Label Studio JSON export (a list of tasks with data); export as JSON"),
        (b"[{\"data\": ", "1: not valid JSON (Expecting value)"),
        (b'[{"data": {"text": "x"}, "annotations": []}]',
         "task 0: no key and sha256 in its data: not a task of `harness review export-labelstudio`"),
    ],
)  # fmt: skip
def test_a_file_that_is_not_our_export_is_one_line(
    content: bytes, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "export.json"
    path.write_bytes(content)
    assert main(["review", "import-labelstudio", str(path), str(tmp_path / "out")]) == 2
    first = capsys.readouterr().err.splitlines()[0]
    assert first in (f"{path}: {message}", f"{path}:{message}")
