"""``harness review plan`` and the review document the report embeds (no browser: tests/report/test_review_page.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.records import HumanGrade, answer_sha256
from harness.report.load import answer_contexts, load_report_data
from harness.report.render import render_html
from harness.report.review_data import (
    PAGE_DEFAULT_N,
    embedded_review,
    pack_review,
    page_review,
    report_queue,
    review_payload,
)
from harness.rollup.review_queue import REASONS
from harness.rundir import RunDir
from harness_bench.synthetic_run import write_synthetic_run

MODELS, QUESTIONS, SAMPLES = 3, 12, 2
ANSWERS = MODELS * QUESTIONS * SAMPLES  # 72


def _came_back(run: Path) -> int:
    """Answers the queue can hold: those whose request did not fail (the synthetic run fails a few)."""
    return int(load_report_data(run).answers.ok.sum())


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = write_synthetic_run(tmp_path_factory.mktemp("plan") / "run", MODELS, QUESTIONS, SAMPLES, seed=2,
                              with_perf=False)  # fmt: skip
    data = load_report_data(run)
    # 12 answers graded: 10 by one person, 2 of them (and 2 more) by another -> 12 distinct answers
    rows = data.answers.iloc[:12]
    grades = [HumanGrade(key=r.key, text_sha256=answer_sha256(r.text), reviewer="ana", acceptable=True)
              for r in rows.iloc[:10].itertuples()]  # fmt: skip
    grades += [HumanGrade(key=r.key, text_sha256=answer_sha256(r.text), reviewer="bo", acceptable=False)
               for r in rows.iloc[8:12].itertuples()]  # fmt: skip
    RunDir(run).write_reviews(grades)
    return run


def test_plan_prints_the_queue_and_how_much_is_reviewed(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["review", "plan", str(run), "--n", "10"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"synthetic-3x12x2: 12 of {ANSWERS} answers reviewed; the first 10 to grade (seed 2)")
    assert len(out) == 11
    first = out[1].split()
    assert first[0] == "1" and first[1].count("/") == 3  # position, key (candidate/set/question/sample)
    assert any(reason in out[1] for reason in REASONS)


def test_plan_json_is_the_queue_with_reviewed_ones_last(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["review", "plan", str(run), "--n", str(ANSWERS), "--json", "--seed", "4"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["run"], doc["seed"], doc["answers"], doc["reviewed"]) == ("synthetic-3x12x2", 4, ANSWERS, 12)
    items = doc["items"]
    came_back = _came_back(run)
    assert came_back < ANSWERS  # the synthetic run has failed requests: they are never queued
    assert [i["position"] for i in items] == list(range(1, came_back + 1))
    assert len({i["key"] for i in items}) == came_back  # every answer that came back, once
    # the 12 graded answers come last: rows 8 and 9 by both (2), rows 0-7 by ana and 10-11 by bo (1 each)
    assert all(i["reviewed_by"] == 0 for i in items[:-12]) and all(i["reviewed_by"] > 0 for i in items[-12:])
    assert sorted(i["reviewed_by"] for i in items[-12:]) == [1] * 10 + [2] * 2
    assert all(set(i["reasons"]) <= set(REASONS) and i["reasons"] for i in items)

    assert main(["review", "plan", str(run), "--n", "3", "--json", "--overlap", "2"]) == 0
    first = json.loads(capsys.readouterr().out)["items"]
    assert [i["reviewed_by"] > 0 for i in first] == [True, True, False]


def test_plan_refuses_bad_input_in_one_line(run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["review", "plan", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a run directory" in err
    assert main(["review", "plan", str(run), "--n", "0"]) == 2
    assert "--n must be at least 1" in capsys.readouterr().err


def test_the_page_document_ties_each_answer_to_its_text(run: Path) -> None:
    data = load_report_data(run)
    doc = page_review(data, lambda keys: answer_contexts(run, keys))
    assert len(doc["items"]) == _came_back(run) and doc["n"] == PAGE_DEFAULT_N  # the answers, the first 60 offered
    assert (doc["answers"], doc["reviewed"], doc["reviewers"]) == (ANSWERS, 12, ["ana", "bo"])
    text = data.answers.set_index("key").text
    for item in doc["items"]:
        assert item["sha"] == answer_sha256(text[item["key"]])
        q = doc["qs"][item["qi"]]
        assert item["key"].split("/")[1:3] == [q["set"], q["id"]]
        assert item["col"] == item["key"].split("/")[0]  # one variant: the column is the candidate
    assert set(doc["sets"]) == set(data.sets) and all(s["context"] for s in doc["sets"].values())


def test_answer_contexts_reads_only_the_asked_keys(run: Path) -> None:
    data = load_report_data(run)
    keys = list(data.answers.key[:3])
    got = answer_contexts(run, {keys[0], keys[1], "not/a/key/0"})
    assert got == {keys[0]: None, keys[1]: None}  # the synthetic run gave no passages


def test_a_cut_off_answer_is_tied_to_the_empty_text(run: Path) -> None:
    data = load_report_data(run)
    key = data.answers.key.iloc[0]
    data.answers = data.answers.assign(cut_off=data.answers.key == key)  # its text stays: the page must drop it
    doc = review_payload(data, report_queue(data, ANSWERS), {key: "passage <b>"})
    item = next(i for i in doc["items"] if i["key"] == key)
    assert (item["t"], item["sha"], item["cut"], item["cx"]) == ("", answer_sha256(""), True, "passage <b>")


def test_the_packed_document_cannot_close_its_element() -> None:
    payload: dict[str, Any] = {"t": "</script><!-- <b> & \u2028 答"}
    text = pack_review(payload)
    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")  # base64 only
    page = f'<script type="application/gzip" id="review-data">{text}</script>'
    assert embedded_review(page) == payload


def test_render_embeds_the_review_document(run: Path) -> None:
    data = load_report_data(run)
    page = render_html(data)
    doc = embedded_review(page)
    assert [i["key"] for i in doc["items"]] == [i.key for i in report_queue(data, ANSWERS).items]
    assert 'id="rv-open"' in page and "Review answers" in page
    with pytest.raises(ValueError, match="no review document"):
        embedded_review("<html></html>")
