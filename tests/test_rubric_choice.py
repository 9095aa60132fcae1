"""The pieces of ``choice`` and ``sequence`` that the data-driven cases do not show directly."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from harness.rubric.checks_format import ChoiceArgs
from harness.rubric.checks_sequence import longest_in_order
from harness.rubric.choice import choice_index, commitment, question_options


def test_labels_name_the_same_option() -> None:
    assert choice_index("A") == choice_index("①") == choice_index("甲") == 1
    assert choice_index("丁") == choice_index("d") == 4


@pytest.mark.parametrize(
    "question",
    [
        "年假几天？A. 3天 B. 5天 C. 10天 D. 15天",
        "年假几天？\nA、3天\nB、5天\nC、10天\nD、15天",
        "年假几天？（A）3天（B）5天（C）10天（D）15天",
        "年假几天？\nA) 3天\nB) 5天\nC) 10天\nD) 15天",
        "年假几天？\n甲、3天\n乙、5天\n丙、10天\n丁、15天",
        "年假几天？Ａ．3天　Ｂ．5天　Ｃ．10天　Ｄ．15天",
    ],
)
def test_question_options_in_every_layout(question: str) -> None:
    assert question_options(question) == ("3天", "5天", "10天", "15天")


def test_a_question_without_a_list_has_no_options() -> None:
    assert question_options("ISO 9001 的 A. 类审核多久一次？") == ()
    assert question_options("年假几天？") == ()


def test_answer_keys() -> None:
    assert ChoiceArgs(answer="AC").right == {1, 3}
    assert ChoiceArgs(answer="A, C").right == {1, 3}
    assert ChoiceArgs(answers=["甲", "丙"]).right == {1, 3}
    assert ChoiceArgs(answer="乙").right == {2}
    for bad in ({}, {"answer": "A", "answers": ["A"]}, {"answers": ["AC"]}, {"answer": "E"}, {"answer": "X"}):
        with pytest.raises(ValidationError):
            ChoiceArgs.model_validate(bad)


def test_the_last_correction_wins_and_says_so() -> None:
    got = commitment("选A。不对，选B。哦不，是D", 4)
    assert got.picks == {4} and "哦不" in got.how


def test_a_long_answer_full_of_cues_stays_bounded() -> None:
    got = commitment("其实A也有道理，" * 10_000 + "答案是B。", 4)
    assert got.picks == {2}


def test_longest_in_order_chain() -> None:
    assert longest_in_order([2, 0, 1, 2, 3], 4) == [0, 1, 2, 3]
    assert len(longest_in_order([3, 2, 1, 0], 4)) == 1  # any one step
    assert longest_in_order([], 4) == []
