"""The review queue (harness/rollup/review_queue.py) on hand-built answer frames.

Each frame is small enough to work out by hand which answers a person should grade first.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from harness.rollup.review_queue import (
    COVERAGE,
    DISAGREE,
    NEAR_LINE,
    SEPARATES,
    JudgeGrades,
    order_key,
    review_queue,
    reviewed_counts,
)

T = 0.5  # the plan's rubric_pass_threshold
PASS_ALL = (("contains", True, True, ""), ("number", True, True, ""))
FAIL_ONE = (("contains", True, True, ""), ("number", False, True, "no 5"))
FAIL_TWO = (("contains", False, True, "no word"), ("number", False, True, "no 5"))
OPTIONAL_MISS = (("contains", True, True, ""), ("length", False, False, "too long"))


def row(cand: str, set_id: str, qid: str, sample: int = 0, *, score: float | None = 1.0, ok: bool = True,
        checks: tuple[Any, ...] = PASS_ALL, essentials: bool | None = None) -> dict[str, Any]:  # fmt: skip
    """One answer; ``acceptable`` is the rubric's verdict: every essential check passed."""
    if essentials is None and score is not None and checks:
        essentials = all(passed for _, passed, critical, _ in checks if critical)
    acceptable = bool(essentials) if essentials is not None else (score is not None and score >= T)
    return {
        "key": f"{cand}/{set_id}/{qid}/{sample}", "candidate": cand, "variant": "plain", "set_id": set_id,
        "question_id": qid, "sample": sample, "ok": ok, "score": score if ok else 0.0,
        "essentials": essentials if ok else False, "acceptable": acceptable and ok, "checks": checks if ok else (),
    }  # fmt: skip


def frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows)


def keys(q: Any) -> list[str]:
    return [i.key for i in q.items]


def test_disagreement_comes_first_then_the_line_then_coverage() -> None:
    answers = frame([
        row("a", "s", "q1"),  # right and the judge agrees (8 >= 6): coverage
        row("a", "s", "q2"),  # right, but the judge fails it (3 < 6): disagree
        row("a", "s", "q3", score=0.5, checks=FAIL_ONE),  # one essential check failed: near the line
        row("a", "s", "q4", score=0.0, checks=FAIL_TWO),  # two essentials failed, judge agrees (2): coverage
    ])  # fmt: skip
    judge = JudgeGrades({"a/s/q1/0": 8, "a/s/q2/0": 3, "a/s/q3/0": 2, "a/s/q4/0": 2}, pass_score=6, scale=10)
    q = review_queue(answers, judge=judge, top_two=(None, None), threshold=T, reviewed={}, n=10, seed=1)
    assert keys(q)[:2] == ["a/s/q2/0", "a/s/q3/0"]
    assert [i.reasons for i in q.items[:2]] == [(DISAGREE,), (NEAR_LINE,)]
    assert {i.key for i in q.items[2:]} == {"a/s/q1/0", "a/s/q4/0"}
    assert all(i.reasons == (COVERAGE,) for i in q.items[2:])
    assert (q.answers, q.reviewed) == (4, 0)


def test_near_the_line_rules() -> None:
    answers = frame([
        row("a", "s", "partial", score=0.75, checks=OPTIONAL_MISS),  # acceptable, an optional check failed
        row("a", "s", "one-essential", score=0.5, checks=FAIL_ONE),  # not acceptable by one essential check
        row("a", "s", "two-essential", score=0.0, checks=FAIL_TWO),  # not acceptable by two: not near
        row("a", "s", "clean"),  # every check passed, score 1: not near
        row("a", "s", "judge-near"),  # clean for the rubric; judge 7 passes (agrees), 1 point from 6: near
        row("a", "s", "judge-far"),  # judge 10: 4 points from 6, not near
        row("a", "s", "failed", ok=False),  # a failed request: nothing to read, never queued
    ])  # fmt: skip
    judge = JudgeGrades({"a/s/judge-near/0": 7, "a/s/judge-far/0": 10}, pass_score=6, scale=10)
    q = review_queue(answers, judge=judge, top_two=(None, None), threshold=T, reviewed={}, n=10, seed=3)
    near = {i.question_id for i in q.items if NEAR_LINE in i.reasons}
    assert near == {"partial", "one-essential", "judge-near"}
    assert "failed" not in [i.question_id for i in q.items] and (len(q.items), q.answers) == (6, 7)
    # nearest first: one-essential scores 0.5 = the threshold (gap 0); judge-near is 1/9 of the scale away;
    # partial scores 0.75 (gap 0.25)
    assert [i.question_id for i in q.items[:3]] == ["one-essential", "judge-near", "partial"]


def test_a_rubric_without_essential_checks_is_near_when_its_score_is() -> None:
    optional = (("length", False, False, ""),)
    answers = frame([
        row("a", "s", "at-0.55", score=0.55, checks=optional, essentials=None),  # |0.55 - 0.5| <= 0.1: near
        row("a", "s", "at-0.2", score=0.2, checks=optional, essentials=None),  # 0.3 away: coverage
    ])  # fmt: skip
    answers["essentials"] = None  # no verdict: the score against the threshold decides
    answers["acceptable"] = answers.score >= T
    q = review_queue(answers, judge=None, top_two=(None, None), threshold=T, reviewed={}, n=5, seed=0)
    assert [(i.question_id, i.reasons) for i in q.items] == [("at-0.55", (NEAR_LINE,)), ("at-0.2", (COVERAGE,))]


def test_answers_to_questions_that_separate_the_top_two() -> None:
    rows = []
    # q1: a scores 1.0, b 0.0 -> difference 1.0; q2: a 1.0, b 0.9 (optional miss) -> 0.1 < 0.2, not separating;
    # q3: a 0.0, b 0.7 (two samples 1.0 and 0.4) -> 0.7; c is third and never separates.
    rows += [row("a", "s", "q1"), row("b", "s", "q1", score=0.0, checks=FAIL_TWO)]
    rows += [row("a", "s", "q2"), row("b", "s", "q2", score=0.9, checks=PASS_ALL)]
    rows += [row("a", "s", "q3", score=0.0, checks=FAIL_TWO), row("b", "s", "q3", 0),
             row("b", "s", "q3", 1, score=0.4, checks=FAIL_TWO)]  # fmt: skip
    rows += [row("c", "s", "q1", score=0.0, checks=FAIL_TWO)]
    q = review_queue(frame(rows), judge=None, top_two=("a", "b"), threshold=T, reviewed={}, n=20, seed=5)
    separating = {i.key for i in q.items if SEPARATES in i.reasons}
    assert separating == {"a/s/q1/0", "b/s/q1/0", "a/s/q3/0", "b/s/q3/0", "b/s/q3/1"}
    # within a's stratum (no other reason applies to a's q1 or q3) the larger difference comes first: q1 (1.0), q3 (0.7)
    a_items = [i.question_id for i in q.items if i.candidate == "a"]
    assert a_items[:2] == ["q1", "q3"]


def test_strata_take_turns() -> None:
    # 6 disagreements in a's stratum, 1 plain answer each in b's and c's: a round-robin puts b and c in the
    # first round, so the first 3 hold all three strata even though a's answers all rank higher.
    judge_scores = {}
    rows = []
    for i in range(6):
        rows.append(row("a", "s", f"q{i}"))
        judge_scores[f"a/s/q{i}/0"] = 1  # rubric accepts, judge fails: disagree
    rows += [row("b", "s", "q0"), row("c", "s", "q0")]
    judge = JudgeGrades(judge_scores, pass_score=6, scale=10)
    q = review_queue(frame(rows), judge=judge, top_two=(None, None), threshold=T, reviewed={}, n=3, seed=2)
    assert len(q.items) == 3
    assert {i.candidate for i in q.items} == {"a", "b", "c"}
    assert q.items[0].candidate == "a" and q.items[0].reasons == (DISAGREE,)  # the round in priority order


def test_sets_are_strata_too() -> None:
    rows = [row("a", "s1", f"q{i}", score=0.5, checks=FAIL_ONE) for i in range(5)] + [row("a", "s2", "q0")]
    q = review_queue(frame(rows), judge=None, top_two=(None, None), threshold=T, reviewed={}, n=2, seed=0)
    assert {i.set_id for i in q.items} == {"s1", "s2"}


def test_reviewed_answers_go_last_unless_overlap_asks_for_them() -> None:
    rows = [row("a", "s", f"q{i}", score=0.5, checks=FAIL_ONE) for i in range(4)]  # all near the line
    rows += [row("a", "s", f"plain{i}") for i in range(2)]  # coverage
    reviewed = reviewed_counts(["a/s/q0/0", "a/s/q1/0", "a/s/q1/0"])  # q1 by two people
    assert reviewed == {"a/s/q0/0": 1, "a/s/q1/0": 2}
    q = review_queue(frame(rows), judge=None, top_two=(None, None), threshold=T, reviewed=reviewed, n=6, seed=4)
    # ungraded first (the two other near-the-line, then coverage), graded last although near the line
    assert {i.question_id for i in q.items[:2]} == {"q2", "q3"}
    assert {i.question_id for i in q.items[2:4]} == {"plain0", "plain1"}
    assert {i.question_id for i in q.items[4:]} == {"q0", "q1"}
    assert {i.key: i.reviewed_by for i in q.items[4:]} == {"a/s/q0/0": 1, "a/s/q1/0": 2}
    assert (q.answers, q.reviewed) == (6, 2)

    one = review_queue(frame(rows), judge=None, top_two=(None, None), threshold=T, reviewed=reviewed, n=6, seed=4,
                       overlap=1)  # fmt: skip
    assert one.items[0].reviewed_by > 0  # one already-graded answer first, for a second opinion
    assert sum(i.reviewed_by > 0 for i in one.items[1:3]) == 0


def test_deterministic_for_a_seed_and_independent_of_row_order() -> None:
    rows = [row(c, s, f"q{i}") for c in "abc" for s in ("s1", "s2") for i in range(5)]  # all coverage: ties
    answers = frame(rows)
    first = keys(review_queue(answers, judge=None, top_two=(None, None), threshold=T, reviewed={}, n=12, seed=9))
    shuffled = answers.sample(frac=1.0, random_state=1)
    again = keys(review_queue(shuffled, judge=None, top_two=(None, None), threshold=T, reviewed={}, n=12, seed=9))
    other = keys(review_queue(answers, judge=None, top_two=(None, None), threshold=T, reviewed={}, n=12, seed=10))
    assert first == again
    assert first != other  # 30 tied answers: another seed draws another order
    # 6 strata x 5 answers: the first 12 are two rounds, two answers from each stratum
    strata = pd.Series([k.rsplit("/", 2)[0] for k in first]).value_counts()
    assert set(strata) == {2} and len(strata) == 6


def test_order_key_depends_on_the_seed_only() -> None:
    s = pd.Series(["x", "y"])
    assert list(order_key(s, 1)) == list(order_key(s, 1))
    assert list(order_key(s, 1)) != list(order_key(s, 2))


def test_n_cuts_and_bad_arguments() -> None:
    answers = frame([row("a", "s", f"q{i}") for i in range(5)])
    assert (
        len(review_queue(answers, judge=None, top_two=(None, None), threshold=T, reviewed={}, n=2, seed=0).items) == 2
    )
    assert review_queue(answers.iloc[:0], judge=None, top_two=(None, None), threshold=T, reviewed={}, n=2,
                        seed=0).items == []  # fmt: skip
    with pytest.raises(ValueError, match="must not be negative"):
        review_queue(answers, judge=None, top_two=(None, None), threshold=T, reviewed={}, n=-1, seed=0)
