"""Few-shot without leaks: the fallback to other questions never shows one that answers the question asked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.inputs.plan import load_plan
from harness.inputs.prompts import few_shot_examples
from harness.inputs.questions import load_question_set
from harness.inputs.shots import ShotSource, choose_shots, leak, shot_source
from harness.records import CheckSpec, FewShotExample, Question, QuestionSet
from harness.validation import InputError


def _q(qid: str, question: str, reference: str | None, *checks: dict[str, Any], category: str = "注塑") -> Question:
    specs = [CheckSpec(type=c["type"], args={k: v for k, v in c.items() if k != "type"}) for c in checks]
    return Question(id=qid, category=category, question=question, reference=reference, checks=specs)


# The issue's case: the set has no few_shot examples; q-hold asks the holding pressure after
# the screw retracts, whose right answer is 0 MPa. q-vent's reference states "0 MPa" (pressure
# released to 0 MPa before opening the mould): shown as an example it gives q-hold's answer away.
HOLD = _q("q-hold", "螺杆退回后保压压力应为多少？", "0 MPa。", {"type": "number", "value": 0, "unit": "MPa"})
VENT = _q("q-vent", "开模前要做什么？", "先泄压到0 MPa，再开模。", {"type": "contains_all", "values": ["泄压"]})
INJECT = _q(
    "q-inject", "ABS注射压力是多少？", "注射压力80 MPa，保压60 MPa。", {"type": "number", "value": 80, "unit": "MPa"}
)
MOULD = _q("q-mould", "ABS模具温度是多少？", "60 ℃ ± 5 ℃。", {"type": "number", "value": 60, "unit": "℃"})
SET = QuestionSet(id="sop", title="t", language="zh", questions=[HOLD, VENT, INJECT, MOULD])


def test_the_issues_0_mpa_reference_is_never_an_example_for_the_0_mpa_question() -> None:
    # Same category, set order: q-vent, q-inject, q-mould. q-vent states 0 MPa: skipped.
    # q-inject states 80 and 60 MPa, q-mould 60 ℃: neither is 0 MPa, both are kept.
    choice = choose_shots(SET, HOLD, 2)
    assert [e.question for e in choice.examples] == [INJECT.question, MOULD.question]
    assert choice.origin == "other_questions"
    assert [qid for qid, _ in choice.skipped] == ["q-vent"]
    assert "0 MPa" in choice.skipped[0][1]
    # the prompt builder uses the same choice: what is sent never holds the leak
    assert VENT.reference not in [e.answer for e in few_shot_examples(SET, HOLD, 3)]


def test_a_reference_that_states_several_figures_still_leaks_the_one_asked() -> None:
    # Read whole, "注射压力80 MPa，保压60 MPa" commits to two pressures; clause by clause it states
    # 80 MPa outright, so q-inject's own reference would leak a question that checks 80 MPa.
    asks_80 = _q("x", "注射压力？", None, {"type": "number", "value": 80, "unit": "MPa"})
    assert leak(INJECT.reference or "", asks_80) is not None
    asks_60 = _q("y", "保压压力？", None, {"type": "number", "value": 60, "unit": "MPa"})
    assert leak(INJECT.reference or "", asks_60) is not None  # 保压60 MPa
    asks_70 = _q("z", "？", None, {"type": "number", "value": 70, "unit": "MPa"})
    assert leak(INJECT.reference or "", asks_70) is None  # neither 80 nor 60 is 70


def test_the_number_checks_own_reading_catches_a_chinese_numeral_and_another_spelling() -> None:
    # The number check reads 五 as 5 and "days" as 天, so the guard does too: these state 5天.
    five_days = _q("a", "入职3年有几天年假？", None, {"type": "number", "value": 5, "unit": "天"})
    assert leak("年假为五天。", five_days) is not None
    assert leak("5 days of leave.", five_days) is not None
    assert leak("保压压力为零兆帕", HOLD) is not None  # 零 = 0, 兆帕 = MPa
    # 15天 is not 5天, 3天 is another figure, and 0 ℃ is not a pressure
    assert leak("满10年15天。", five_days) is None
    assert leak("婚假3天。", five_days) is None
    assert leak("模温不低于0 ℃。", HOLD) is None


def test_a_contains_any_phrase_leaks_with_the_checks_normalisation() -> None:
    # contains_any looks for 未规定 or 没有规定; the rubric reads "并未规定" as 未规定 and
    # "没有 规定" with its white space ignored: both give the answer away. "有规定" does not.
    undefined = _q("u", "加班餐补是多少？", None, {"type": "contains_any", "values": ["未规定", "没有规定"]})
    assert leak("制度里并未规定。", undefined) is not None
    assert leak("手册中没有 规定。", undefined) is not None
    assert leak("手册有规定，每餐30元。", undefined) is None


def test_an_abstains_or_choice_check_does_not_skip_examples() -> None:
    # Declining is a behaviour any example may show; an option letter of another question says
    # nothing of this one's. Neither makes an example a leak.
    declines = _q("d", "？", None, {"type": "abstains"})
    assert leak("资料中没有提到，我不知道。", declines) is None
    picks_b = _q("c", "选哪项？\nA. 1\nB. 2", None, {"type": "choice", "answer": "B"})
    assert leak("答案是B。", picks_b) is None


def test_set_examples_are_used_as_written_and_say_so() -> None:
    given = SET.model_copy(update={"few_shot": [FewShotExample(question="示例？", answer="泄压到0 MPa。")]})
    choice = choose_shots(given, HOLD, 3)
    # the author's own examples are theirs to write: shown as written, not guarded, origin named
    assert choice.examples == (FewShotExample(question="示例？", answer="泄压到0 MPa。"),)
    assert choice.origin == "set_examples" and choice.skipped == ()


def test_every_other_reference_leaking_leaves_no_example() -> None:
    # Both other references state 0 MPa: nothing is left to show, and the choice says so.
    a = _q("a", "泄压到多少？", "0 MPa。")
    b = _q("b", "残余压力？", "应为0MPa。", category="其他")
    qs = QuestionSet(id="s", title="t", language="zh", questions=[HOLD, a, b])
    choice = choose_shots(qs, HOLD, 3)
    assert choice.examples == () and choice.origin == "none"
    assert [qid for qid, _ in choice.skipped] == ["a", "b"]


SET_YAML = """\
id: sop
title: 注塑作业
language: zh
questions:
  - id: q-hold
    category: 注塑
    question: 螺杆退回后保压压力应为多少？
    reference: 0 MPa。
    checks: [{type: number, value: 0, unit: MPa}]
  - id: q-vent
    category: 注塑
    question: 开模前要做什么？
    reference: 先泄压到0 MPa，再开模。
    checks: [{type: contains_all, values: [泄压]}]
  - id: q-inject
    category: 注塑
    question: ABS注射压力是多少？
    reference: 注射压力80 MPa。
    checks: [{type: number, value: 80, unit: MPa}]
"""


def _plan_with(tmp_path: Path, set_text: str, variants: list[Any]) -> Path:
    (tmp_path / "sop.yaml").write_text(set_text, encoding="utf-8")
    plan = {"name": "p", "candidates": [{"name": "a", "model": "org/m"}], "question_sets": ["sop.yaml"],
            "variants": variants}  # fmt: skip
    (tmp_path / "plan.yaml").write_text(yaml.safe_dump(plan, allow_unicode=True), encoding="utf-8")
    return tmp_path / "plan.yaml"


def test_validate_warns_at_the_sets_questions_line_when_few_shot_falls_back(tmp_path: Path) -> None:
    lp = load_plan(_plan_with(tmp_path, SET_YAML, ["zero_shot", {"name": "fs", "kind": "few_shot", "shots": 2}]))
    found = [w for w in lp.warnings if w.field == "few_shot"]
    assert len(found) == 1
    w = found[0]
    # `questions:` is line 4 of the set, where few_shot: would go before it
    assert w.file.endswith("sop.yaml") and w.line == 4 and w.severity == "warning"
    # q-hold: q-vent states 0 MPa (skipped), q-inject does not: 1 skipped, 1 example of 2 (short).
    # q-vent: neither other text holds 泄压 (保压 is not 泄压); q-inject: neither states 80 MPa. So 1 and 1.
    assert "'fs'" in w.message and "1 left out" in w.message and "1 of 3 questions get fewer than 2" in w.message
    assert shot_source(lp.sets[0].qs, 2) == ShotSource("other_questions", skipped=1, short=1)


def test_validate_says_nothing_with_set_examples_or_without_a_few_shot_variant(tmp_path: Path) -> None:
    shots = "few_shot:\n  - {question: 示例？, answer: 示例答案。}\n"
    with_examples = SET_YAML.replace("questions:\n", shots + "questions:\n")
    lp = load_plan(_plan_with(tmp_path, with_examples, [{"name": "fs", "kind": "few_shot"}]))
    assert not [w for w in lp.warnings if w.field == "few_shot"]
    assert shot_source(lp.sets[0].qs, 3).origin == "set_examples"
    lp = load_plan(_plan_with(tmp_path, SET_YAML, ["zero_shot", "with_context"]))
    assert not [w for w in lp.warnings if w.field == "few_shot"]


def test_a_few_shot_example_without_an_answer_is_refused_at_its_line(tmp_path: Path) -> None:
    # id, title, language on lines 1-3, few_shot: on 4, its first item on line 5
    bad = SET_YAML.replace("questions:\n", "few_shot:\n  - {question: 示例？}\nquestions:\n")
    (tmp_path / "sop.yaml").write_text(bad, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_question_set(tmp_path / "sop.yaml", "sop.yaml")
    assert [str(p) for p in err.value.problems] == ["sop.yaml:5: few_shot[0].answer: required key is missing"]
