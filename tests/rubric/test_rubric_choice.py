"""The pieces of ``choice`` and ``sequence`` that the data-driven cases do not show directly."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from harness.rubric.checks_format import ChoiceArgs
from harness.rubric.checks_sequence import longest_in_order
from harness.rubric.choice import _lcs, choice_index, commitment, paraphrased, question_options


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


def test_inline_option_lists_end_before_the_next_sentence() -> None:
    q = "必须启动8D？甲：客户批量投诉 乙：内部一次轻微划伤 丙：供应商送货晚到 丁：员工请假。请回答甲、乙、丙、丁之一。"
    assert question_options(q) == ("客户批量投诉", "内部一次轻微划伤", "供应商送货晚到", "员工请假")
    q = "First step? A) Issue a refund B) Ask for photos C) Close the ticket. Answer with the letter."
    assert question_options(q) == ("Issue a refund", "Ask for photos", "Close the ticket")
    assert question_options("Which? a) refund b) replace c) close") == ("refund", "replace", "close")
    assert question_options("倍数？A. 1.5倍 B. 2倍") == ("1.5倍", "2倍")


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


def test_lcs_is_the_longest_common_subsequence() -> None:
    assert _lcs(list("abcd"), list("xaybzd")) == 3
    assert _lcs(list("abc"), list("cba")) == 1
    assert _lcs(list("aab"), list("ab")) == 2
    assert _lcs(list("abc"), []) == 0


def test_a_paraphrase_says_how_much_of_the_option_it_holds() -> None:
    options = ("对准火焰顶部→拔销→压把", "压把→拔销→对准", "拔保险销→对准火焰根部→压下压把", "对准火焰根部→压把→拔销")
    assert paraphrased("先拔保险销，再对准火焰根部，最后压下压把。", options, 4) == (3, "14/14")
    assert paraphrased("灭火器要定期检查。", options, 4) == (0, "")


def test_a_long_answer_is_read_in_one_pass_per_option() -> None:
    options = ("Issue a refund", "Ask for the order number and photos", "Close the ticket", "Escalate to legal")
    answer = "We value every customer and the order matters. " * 2_000 + "First ask for the order number and photos."
    got = commitment(answer, 4, "First? A) " + " B) ".join(options[:2]) + " C) " + " D) ".join(options[2:]))
    assert got.picks == {2}


@pytest.mark.parametrize(
    ("answer", "picks"),
    [
        ("A and C — no, just A.", {1}),
        ("AC，不对，只选A", {1}),
        ("B, actually B and D", {2, 4}),
        ("A、C……哦不，只有A", {1}),
        ("A and C. Sorry, A only.", {1}),
        ("A and C - no, A alone.", {1}),
        ("答案AC，不对，仅A", {1}),
        ("A, C. Actually, just C.", {3}),
        ("A and C — no, just A and B.", {1, 2}),
        ("选AC。更正：只选A。", {1}),
    ],
)
def test_a_correction_of_a_multi_select_replaces_the_whole_list(answer: str, picks: set[int]) -> None:
    got = commitment(answer, 4)
    assert set(got.picks) == picks and not got.hedged
