"""Scoring answers whose calls are graded (harness.scoring.stage): the call's verdict on the Score, and how it
combines with the text's checks into the score and the answer's acceptability (docs/tools.md, "How a call
enters the grade")."""

from __future__ import annotations

import asyncio

from harness.records import CallGrade, Generation, Sampling, Score, ToolCallMade
from harness.rubric.tool_calls import grade_calls
from harness.run.generate import WorkItem, answer
from harness.scoring.stage import score_records
from tests.support.tool_set import FakeClient, call, hr_set, result

QS = hr_set()
RIGHT_CALL = call("get_leave_balance", '{"employee_id": "E2051", "leave_type": "病假"}')
LEAVE_E1024 = '{"employee_id": "E1024", "leave_type": "年假"}'


def gen(qid: str, text: str = "", calls: list[ToolCallMade] | None = None, error: str | None = None) -> Generation:
    return Generation(key=f"m/hr/{qid}/0", candidate="m", set_id="hr", question_id=qid, sample=0, api="chat",
                      seed=0, text=text, tool_calls=calls or [], error=error)  # fmt: skip


def score(g: Generation) -> Score:
    (s,) = score_records([g], {"hr": QS})
    return s


def test_a_right_call_alone_is_a_right_answer() -> None:
    # "call" has no checks: the call decides alone, 1.0 and acceptable.
    s = score(gen("call", calls=[RIGHT_CALL]))
    assert s.calls is not None and s.calls.outcome == "right"
    assert (s.score, s.essentials_passed) == (1.0, True)


def test_a_wrong_argument_makes_the_answer_wrong_and_names_the_argument() -> None:
    s = score(gen("call", calls=[call("get_leave_balance", '{"employee_id": "E2051", "leave_type": "年假"}')]))
    assert s.calls is not None and s.calls.outcome == "wrong_call"
    (error,) = s.calls.pairs[0].errors
    assert (error.kind, error.path) == ("wrong_value", "leave_type")
    assert (s.score, s.essentials_passed) == (0.0, False)


def test_no_call_question_answered_directly_is_right_and_with_a_call_wrong() -> None:
    # "direct" is no_call with one number check (0.5 天): the text passes it both times.
    direct = score(gen("direct", text="年假最少可以按0.5天请。"))
    assert direct.calls is not None and direct.calls.outcome == "no_call_right"
    assert (direct.score, direct.essentials_passed) == (1.0, True)
    called = score(gen("direct", text="年假最少可以按0.5天请。", calls=[RIGHT_CALL]))
    assert called.calls is not None and called.calls.outcome == "unexpected_call"
    assert (called.score, called.essentials_passed) == (0.0, False)
    assert called.checks[0].passed  # the text's check still ran and passed: the call alone made it wrong


def run_two_step(final_text: str) -> Generation:
    q = next(q for q in QS.questions if q.id == "two_step")
    client = FakeClient(result("", [call("get_leave_balance", LEAVE_E1024)]), result(final_text))
    return asyncio.run(answer(client, "chat", WorkItem("m/hr/two_step/0", "m", QS, q, 0, 0), Sampling()))


def test_a_two_step_answer_is_scored_on_its_final_text() -> None:
    # The tool said remaining_days 3; the check wants 3 天 in the final answer.
    right = score(run_two_step("还剩3天"))
    assert right.calls is not None and right.calls.outcome == "right"
    assert (right.score, right.essentials_passed) == (1.0, True)
    # The same right call, a final answer with the wrong figure: the text's check fails, not acceptable.
    wrong = score(run_two_step("还剩5天"))
    assert wrong.calls is not None and wrong.calls.outcome == "right"
    assert (wrong.score, wrong.essentials_passed) == (0.0, False)


def test_a_failed_answer_has_no_call_verdict_and_scores_0() -> None:
    s = score(gen("call", error="HTTP 500"))
    assert s.calls is None and (s.score, s.essentials_passed) == (0.0, False)


def test_a_question_without_calls_graded_has_no_verdict() -> None:
    qs = hr_set(questions=[{"id": "free", "category": "c", "question": "随便聊聊", "checks": [
        {"type": "contains_any", "args": {"values": ["好"]}}]}])  # fmt: skip
    g = gen("free", text="好的", calls=[RIGHT_CALL])
    (s,) = score_records([g], {"hr": qs})
    assert s.calls is None and s.essentials_passed is True


def test_the_stored_grade_reads_back_field_for_field() -> None:
    grade = grade_calls(QS.tools, QS.questions[0].expect_call, False, [("get_leave_balance", '{"employee_id": 1}')])
    stored = CallGrade.model_validate_json(grade.model_dump_json())  # as scores.jsonl holds it
    assert stored.model_dump() == grade.model_dump()
