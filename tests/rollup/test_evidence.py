"""No recommendation without evidence (issue 28), and judge replies read only on the plan's scale.

A candidate is eligible only when it answered enough of the plan (``constraints.min_answered_share``,
default every answer); the card, the models table, summary.json and the console name the missing
answers' errors. Every path by which a recommendation could rest on nothing ends in "No recommendation"
with one line per candidate. The judge's grade is read only on the plan's scale, and the Chinese ways of
stating it are read (tests/data/malformed/judge_replies.json).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

from harness.cli import main
from harness.records import Candidate, Constraints, Generation, Question, QuestionSet, Weights
from harness.report.charts import quality_vs_throughput
from harness.rollup.decision import NO_CHOICE, DecisionRule, recommend, violations
from harness.rollup.evidence import answer_errors, evidence_columns, missing_evidence
from harness.rollup.frames import answers_frame, model_summary, question_frame, views
from harness.scoring.judge.parse import parse_score
from harness.store import read_records
from tests.support.fake_server import ANSWER, Reply, chunk, fake_server, run_plan, sse_bytes
from tests.support.files import DATA

NOT_SERVED = "HTTP 404: The model `hr-lora` does not exist."
"""What the client stores for ``404 {"message": "The model `hr-lora` does not exist."}``."""
BODY_404 = json.dumps({"message": "The model `hr-lora` does not exist."}).encode()


def _row(**cells: object) -> dict[str, object]:
    return {"candidate": "m", "rubric_mean": 0.8, "pass_at_1": 0.8, **cells}


# ---------------------------------------------------------------- the evidence rule


def test_three_missing_of_24_make_a_candidate_ineligible_and_name_the_errors_most_common_first() -> None:
    # 24 owed = 21 answered + 2 failed 404 + 1 timed out; 21/24 = 0.875 < 1.0 (the default)
    row = _row(answers=21, failed=3, missing=0, answered_share=21 / 24,
               answer_errors=[[NOT_SERVED, 2], ["timed out after 60 s", 1]])  # fmt: skip
    assert violations(row, Constraints(), k=1) == [
        f"3 of 24 answers missing: {NOT_SERVED} (2); timed out after 60 s (1)"
    ]
    # a plan that asks for 80 % takes 87.5 %; one that asks for 90 % does not, and says so
    assert violations(row, Constraints(min_answered_share=0.8), k=1) == []
    assert missing_evidence(row, 0.9) == (
        f"3 of 24 answers missing (at least 90% must be answered): {NOT_SERVED} (2); timed out after 60 s (1)"
    )


def test_one_error_is_named_once_and_answers_never_asked_count_too() -> None:
    # 10 owed: 7 answered, 2 failed with one error, 1 never asked (an interrupted run): 3 missing
    row = _row(answers=7, failed=2, missing=1, answered_share=0.7, answer_errors=[[NOT_SERVED, 2]])
    assert missing_evidence(row, 1.0) == f"3 of 10 answers missing: {NOT_SERVED}; 1 never asked"


def test_the_share_asked_for_is_never_rounded_up_to_every_answer() -> None:
    # 200 owed, 198 answered: 0.99 < 0.995, so out; "at least 100%" (0.995 rounded) would wrongly ask for all 200
    row = _row(answers=198, failed=2, missing=0, answered_share=198 / 200, answer_errors=[[NOT_SERVED, 2]])
    assert missing_evidence(row, 0.995) == f"2 of 200 answers missing (at least 99.5% must be answered): {NOT_SERVED}"
    assert missing_evidence(row, 0.99) is None  # 198/200 = 0.99 exactly: enough


@pytest.mark.parametrize(
    ("share", "said"),
    [
        (0.995, "at least 99.5% of the plan's answers must come back without an error."),
        (0.0, "at least one answer must come back without an error."),  # 0: nothing at all is still no evidence
    ],
)
def test_the_card_states_the_share_the_plan_asks_for(tmp_path: Path, share: float, said: str) -> None:
    with fake_server(lambda n: Reply([(0.0, BODY_404)], status=404, content_type="application/json")) as srv:
        plan = run_plan(tmp_path, srv.base_url, constraints={"min_answered_share": share})
        main(["run", str(plan), "--run-dir", str(tmp_path / "run"), "--report-dir", str(tmp_path / "rep"), "--quiet"])
    html = (tmp_path / "rep" / "index.html").read_text("utf-8")
    card = html[html.index('<section id="decision"') : html.index("</section>", html.index('<section id="decision"'))]
    assert said in " ".join(card.split())


def test_a_candidate_that_answered_nothing_is_out_even_when_the_plan_asks_for_no_share() -> None:
    # every answer failed: scored 0 each, so rubric_mean is 0.0, not missing; it is still no evidence
    row = _row(answers=0, failed=4, missing=0, answered_share=0.0, rubric_mean=0.0, pass_at_1=0.0,
               answer_errors=[[NOT_SERVED, 4]])  # fmt: skip
    expected = [f"4 of 4 answers missing: {NOT_SERVED}"]  # nothing else to weigh: no "not one acceptable"
    assert violations(row, Constraints(), k=1) == expected
    assert violations(row, Constraints(min_answered_share=0.0), k=1) == expected


def test_answers_without_scores_are_no_evidence_of_quality() -> None:
    row = _row(answers=4, failed=0, missing=0, answered_share=1.0, rubric_mean=float("nan"))
    assert violations(row, Constraints(), k=1) == ["no scored answers"]


def test_a_hand_made_row_with_no_plan_to_measure_against_is_not_checked() -> None:
    assert missing_evidence(_row(), 1.0) is None


def test_answer_errors_keep_the_first_line_and_count_each_text() -> None:
    frame = pd.DataFrame({"candidate": ["a", "a", "a", "a", "b"], "ok": [False, True, False, False, False],
                          "error": ["timeout", None, f"{NOT_SERVED}\nbody follows", NOT_SERVED, "x"]})  # fmt: skip
    assert answer_errors(frame, "a") == [[NOT_SERVED, 2], ["timeout", 1]]


def test_no_eligible_candidate_gives_one_line_per_candidate() -> None:
    models = pd.DataFrame({
        "candidate": ["a", "b"], "answers": [0, 4], "failed": [4, 0], "missing": [0, 0],
        "answered_share": [0.0, 1.0], "answer_errors": [[[NOT_SERVED, 4]], []],
        "rubric_mean": [0.0, 0.2], "pass_at_1": [0.0, 0.5], "e2e_p95_ms": [None, 5000.0],
    })  # fmt: skip
    questions = pd.DataFrame({"candidate": ["a", "b"], "set_id": "s", "question_id": "q", "category": "c",
                              "score": [0.0, 0.2], "weight": 1.0})  # fmt: skip
    r = recommend(models, questions, DecisionRule(Weights(), Constraints(max_p95_latency_ms=100), k=1))
    assert r.recommended is None
    assert r.reason.splitlines() == [
        NO_CHOICE,
        f"a: 4 of 4 answers missing: {NOT_SERVED}",
        "b: p95 latency 5,000 ms > 100 ms",
    ]


def test_a_run_whose_answers_all_failed_recommends_nothing() -> None:
    """tests/data/malformed/generations_all_404.jsonl: 2 questions x 2 samples, every one a 404."""
    gens = read_records(DATA / "malformed" / "generations_all_404.jsonl", Generation)
    qs = QuestionSet(id="s", title="t", language="en",
                     questions=[Question(id=q, category="c", question="?") for q in ("q1", "q2")])  # fmt: skip
    answers = answers_frame(*views(gens, []), {"s": qs})  # not scored: the failures alone must decide
    models = model_summary(answers, [], [Candidate(name="hr-lora", model="hr-lora")], resamples=50)
    models["missing"] = 4 - models.answers - models.failed
    models = evidence_columns(models, answers, expected=4)  # 2 questions x 2 samples owed
    assert models.answered_share.tolist() == [0.0]
    r = recommend(models, question_frame(answers), DecisionRule(Weights(), Constraints(), k=2, resamples=50))
    assert r.recommended is None
    assert r.reason.splitlines() == [NO_CHOICE, f"hr-lora: 4 of 4 answers missing: {NOT_SERVED}"]


# ---------------------------------------------------------------- through harness run and harness report


def _read(path: Path) -> dict:
    return json.loads(path.read_text("utf-8"))


def test_a_plan_whose_only_candidate_is_not_served_exits_1_with_no_recommendation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with fake_server(lambda n: Reply([(0.0, BODY_404)], status=404, content_type="application/json")) as srv:
        plan = run_plan(tmp_path, srv.base_url)  # one question x 2 samples, retries 0
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            code = main(["run", str(plan), "--run-dir", str(tmp_path / "run"),
                         "--report-dir", str(tmp_path / "rep"), "--quiet"])  # fmt: skip
    assert code == 1
    assert not [w for w in caught if "xlims" in str(w.message)]  # every throughput is 0: no matplotlib warning
    err = capsys.readouterr().err
    assert f"{NO_CHOICE}\n  other: 2 of 2 answers missing: {NOT_SERVED}\n" in err
    summary = _read(tmp_path / "rep" / "summary.json")
    rec = summary["recommendation"]
    assert rec["recommended"] is None
    assert rec["reason"] == f"{NO_CHOICE}\nother: 2 of 2 answers missing: {NOT_SERVED}"
    assert rec["constraints"]["min_answered_share"] == 1.0
    (model,) = summary["models"]
    assert (model["eligible"], model["answers"], model["failed"], model["answered_share"]) == (False, 0, 2, 0.0)
    assert model["answer_errors"] == [[NOT_SERVED, 2]]
    html = (tmp_path / "rep" / "index.html").read_text("utf-8")
    card = html[html.index('<section id="decision"') : html.index("</section>", html.index('<section id="decision"'))]
    assert '<h2 id="recommended">No recommendation</h2>' in card
    assert "<li>other: 2 of 2 answers missing: HTTP 404: The model `hr-lora` does not exist.</li>" in card
    assert "every answer of the plan must come back without an error." in card  # the default share, 1.0
    table = html[html.index('id="models-table"') :]
    assert "no: 2 of 2 answers missing: HTTP 404: The model `hr-lora` does not exist." in table

    # harness report on the same run says it again on screen, and exits 0: the report was written
    assert main(["report", str(tmp_path / "run"), "--out", str(tmp_path / "again")]) == 0
    assert f"{NO_CHOICE}\n  other: 2 of 2 answers missing: {NOT_SERVED}\n" in capsys.readouterr().err


def test_a_served_candidate_is_recommended_beside_one_that_is_not(tmp_path: Path) -> None:
    ok = sse_bytes(chunk(ANSWER, "stop"), "[DONE]")
    with (
        fake_server(lambda n: Reply([(0.0, ok)])) as good,
        fake_server(lambda n: Reply([(0.0, BODY_404)], status=404, content_type="application/json")) as bad,
    ):
        endpoint = {"name": "other", "model": "other", "api": "chat", "endpoint": {"base_url": good.base_url}}
        lost = {**endpoint, "name": "hr-lora", "endpoint": {"base_url": bad.base_url}}
        plan = run_plan(tmp_path, good.base_url, candidates=[endpoint, lost])
        code = main(["run", str(plan), "--run-dir", str(tmp_path / "run"),
                     "--report-dir", str(tmp_path / "rep"), "--quiet"])  # fmt: skip
    assert code == 1  # requests failed
    rec = _read(tmp_path / "rep" / "summary.json")["recommendation"]
    assert rec["recommended"] == "other"
    assert f"Not eligible: hr-lora (2 of 2 answers missing: {NOT_SERVED})." in rec["reason"]


# ---------------------------------------------------------------- the chart when every rate is 0


def test_quality_against_throughput_draws_a_unit_axis_when_every_rate_is_0() -> None:
    models = pd.DataFrame({"candidate": ["a", "b"], "rubric_mean": [0.0, 0.0], "rubric_ci_low": [None, None],
                           "rubric_ci_high": [None, None], "out_tok_per_s": [0.0, 0.0]})  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the UserWarning "identical low and high xlims" fails the test
        uri = quality_vs_throughput(models)
    assert uri is not None and uri.startswith("data:image/png;base64,")


# ---------------------------------------------------------------- judge replies


JUDGE_REPLIES = json.loads((DATA / "malformed" / "judge_replies.json").read_text("utf-8"))


@pytest.mark.parametrize("case", JUDGE_REPLIES, ids=[c["why"] for c in JUDGE_REPLIES])
def test_judge_replies(case: dict) -> None:
    expected = None if case["expected"] is None else float(case["expected"])
    assert parse_score(case["reply"], case["scale"]) == expected


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("[[10/100]]", None),  # issue 28: read as 10 before; never a grade from another scale
        ("最终评分：8分", 8.0),
        ("综合评分：8/10", 8.0),
        ("[[8分]]", 8.0),
        ("评分为8分", 8.0),
        ("【8】", 8.0),
        ("最终评分：8分\n最终评分：6分", None),  # two different final grades
    ],
)
def test_the_issues_judge_replies_on_a_1_to_10_scale(reply: str, expected: float | None) -> None:
    assert parse_score(reply, 10) == expected
