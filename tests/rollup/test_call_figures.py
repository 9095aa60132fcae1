"""Tool-call figures per candidate (harness.rollup.calls) over a hand-built set of graded answers, and a run
without tool questions left exactly as it was."""

from __future__ import annotations

import pandas as pd
import pytest

from harness.records import Generation, ToolCallMade
from harness.rollup.calls import with_call_columns
from harness.rollup.frames import ANSWER_COLUMNS, answers_frame, views
from harness.scoring.stage import score_records
from tests.support.tool_set import call, hr_set, plain_set

QS = hr_set()
SICK = '{"employee_id": "E2051", "leave_type": "病假"}'
ANNUAL_2051 = '{"employee_id": "E2051", "leave_type": "年假"}'  # the wrong leave_type for question "call"
E1024 = '{"employee_id": "E1024", "leave_type": "年假"}'


def gen(cand: str, qid: str, sample: int, calls: list[ToolCallMade], ms: float | None = None,
        error: str | None = None) -> Generation:  # fmt: skip
    return Generation(key=f"{cand}/hr/{qid}/{sample}", candidate=cand, set_id="hr", question_id=qid, sample=sample,
                      api="chat", seed=sample, text="还剩3天" if qid == "two_step" else "可以按0.5天请",
                      tool_calls=calls, tool_call_ms=ms, error=error)  # fmt: skip


def leave(args: str) -> list[ToolCallMade]:
    return [call("get_leave_balance", args)]


GENS = [
    # candidate a: call right (100 ms) / wrong leave_type (300 ms); two_step right twice (200, 400 ms);
    # direct answered without a call once, with a call once (50 ms).
    gen("a", "call", 0, leave(SICK), 100.0), gen("a", "call", 1, leave(ANNUAL_2051), 300.0),
    gen("a", "two_step", 0, leave(E1024), 200.0), gen("a", "two_step", 1, leave(E1024), 400.0),
    gen("a", "direct", 0, []), gen("a", "direct", 1, leave(SICK), 50.0),
    # candidate b: call missed / unparsable (80 ms); two_step missed twice; direct right twice; one more answer
    # that failed (not a graded response).
    gen("b", "call", 0, []), gen("b", "call", 1, leave("{bad"), 80.0),
    gen("b", "two_step", 0, []), gen("b", "two_step", 1, []),
    gen("b", "direct", 0, []), gen("b", "direct", 1, []),
    gen("b", "call", 2, [], error="HTTP 500"),
]  # fmt: skip


def figures() -> pd.DataFrame:
    answers = answers_frame(*views(GENS, score_records(GENS, {"hr": QS})), {"hr": QS})
    return with_call_columns(pd.DataFrame({"candidate": ["a", "b"]}), answers, k=2).set_index("candidate")


def test_call_figures_of_a_hand_built_set() -> None:
    m = figures()
    a, b = m.loc["a"], m.loc["b"]
    # a: 6 graded answers, 4 to expect_call questions (right, wrong, right, right) and 2 to the no_call one.
    assert a.call_responses == 6
    assert a.call_accuracy == pytest.approx(3 / 4) and a.wrong_call_rate == pytest.approx(1 / 4)
    assert a.missed_call_rate == 0 and a.unexpected_call_rate == pytest.approx(1 / 2)
    assert a.no_call_precision == 1.0  # no_call_right 1 / (no_call_right 1 + missed 0)
    assert a.unparsable_share == 0 and a.arg_wrong_value == 1 and a.arg_missing == 0
    # latency over the 5 answers that made a call: 50, 100, 200, 300, 400 -> p50 200;
    # p90 at rank 0.9 x 4 = 3.6: 300 + 0.6 x (400 - 300) = 360.
    assert a.tool_call_p50_ms == pytest.approx(200.0) and a.tool_call_p90_ms == pytest.approx(360.0)
    # pass^2 per question expecting a call, C(c, 2) / C(2, 2): call c=1 -> 0, two_step c=2 -> 1; mean 1/2
    # (direct, a no_call question, is left out)
    assert a.call_pass_hat_k == pytest.approx(1 / 2) and a.call_pass_hat_k_questions == 2
    # b: 6 graded (the failed answer is not one); expect_call: missed, unparsable, missed, missed.
    assert b.call_responses == 6
    assert b.call_accuracy == 0 and b.missed_call_rate == pytest.approx(3 / 4) and b.wrong_call_rate == 0
    assert b.unparsable_share == pytest.approx(1 / 6)
    assert b.no_call_precision == pytest.approx(2 / 5)  # no_call_right 2 / (2 + missed 3)
    assert b.unexpected_call_rate == 0
    assert b.tool_call_p50_ms == 80.0 and b.tool_call_p90_ms == 80.0  # the one call made
    # call: samples 0 and 1 graded (sample 2 failed), c=0 -> 0; two_step 0: mean 0. Its two right answers to
    # direct (not calling) earn no call stability: b never made a call right
    assert b.call_pass_hat_k == 0.0 and b.call_pass_hat_k_questions == 2


def test_a_run_without_tool_questions_keeps_its_frames() -> None:
    qs = plain_set()
    g = Generation(key="a/plain/q/0", candidate="a", set_id="plain", question_id="q", sample=0, api="chat", seed=0,
                   text="15天")  # fmt: skip
    answers = answers_frame(*views([g], score_records([g], {"plain": qs})), {"plain": qs})
    assert list(answers.columns) == ANSWER_COLUMNS
    models = pd.DataFrame({"candidate": ["a"], "rubric_mean": [0.5]})
    assert with_call_columns(models, answers, k=1) is models
