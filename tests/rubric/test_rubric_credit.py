"""Issue 18: only checks that recognise right content earn credit; YAML and format surprises;
scoring stays linear on a runaway answer."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness import rubric
from harness.inputs.questions import load_question_set
from harness.validation import InputError
from tests.rubric.test_rubric import spec
from tests.support.files import REPO

NUMBER = {"type": "number", "value": 5, "unit": "天", "weight": 2}
CONTAINS = {"type": "contains_any", "values": ["年假"]}
FORBID = {"type": "not_contains", "values": ["10天"]}
OFF_TOPIC = [
    "Ping yu, a traditional Chinese medicine doctor, lived in the mountains and treated villagers.",
    "今天天气很好，我们去公园散步吧。",
    "I like turtles.",
]


def _score(checks: list[dict], answer: str) -> float:
    score, _ = rubric.score_answer([spec(c) for c in checks], answer)
    assert score is not None
    return score


def test_worked_example_of_docs() -> None:
    """docs/question-sets.md: content = weighted mean of content checks; loss = failed constraint
    weight over all weight; score = content x (1 - loss)."""
    checks = [NUMBER, CONTAINS, FORBID]
    assert _score(checks, "年假5天，不是10天。") == pytest.approx(1.0)  # 10天 is denied, so not said
    assert _score(checks, "年假5天，满10年的员工为10天。") == pytest.approx(0.75)  # content 1, loss 1/4 (10天 is said)
    assert _score(checks, "年假5天或10天。") == pytest.approx(0.25)  # a hedge: number fails, (0·2 + 1)/3 x 0.75
    assert _score(checks, "年假10天。") == pytest.approx(0.25)  # content (0·2 + 1)/3 = 1/3, x 0.75
    assert _score(checks, "") == 0.0  # not_contains passes, earns nothing
    assert _score(checks, OFF_TOPIC[0]) == 0.0


def test_constraints_alone_earn_nothing() -> None:
    for answer in ["", *OFF_TOPIC]:
        assert _score([FORBID, {"type": "max_chars", "max": 200}, {"type": "language", "expected": "en"}], answer) == 0
        assert _score([{"type": "any_of", "checks": [NUMBER, FORBID]}], answer) == 0
        assert _score([{"type": "all_of", "checks": [CONTAINS, FORBID]}], answer) == 0


def test_a_constraint_still_takes_credit_away_and_critical_zeroes() -> None:
    assert _score([CONTAINS, {"type": "max_chars", "max": 3}], "年假是五天整") == pytest.approx(0.5)
    assert _score([CONTAINS, {**FORBID, "critical": True}], "年假10天") == 0.0


def _sample_questions() -> list:
    out = []
    for path in sorted((REPO / "question_sets").glob("*.yaml")):
        qs, _ = load_question_set(path)
        out += [(qs.id, q) for q in qs.questions if q.checks]
    return out


@pytest.mark.parametrize("answer", ["", " ", *OFF_TOPIC])
def test_empty_and_off_topic_answers_score_zero_on_every_sample_question(answer: str) -> None:
    scored = {f"{set_id}/{q.id}": rubric.score_answer(q.checks, answer)[0] for set_id, q in _sample_questions()}
    assert len(scored) >= 83
    assert {k: v for k, v in scored.items() if v} == {}


def test_every_sample_reference_still_scores_full_marks() -> None:
    for set_id, q in _sample_questions():
        if q.reference:
            assert rubric.score_answer(q.checks, q.reference)[0] == pytest.approx(1.0), f"{set_id}/{q.id}"


SET = """\
id: s
title: T
language: zh
questions:
  - id: q1
    category: c
    question: 几天？
    reference: 5天
    checks:
{checks}
"""


def _load(tmp_path: Path, checks: str) -> list[str]:
    f = tmp_path / "s.yaml"
    f.write_text(SET.format(checks=checks), encoding="utf-8")
    _, warnings = load_question_set(f, display="s.yaml")
    return [str(w) for w in warnings]


def test_validate_warns_when_an_empty_answer_scores(tmp_path: Path) -> None:
    warned = _load(
        tmp_path, "      - {type: regex, pattern: '^(?!.*10天)'}\n      - {type: number, value: 5, unit: 天}"
    )
    assert len(warned) == 1 and "s.yaml:9: questions[0].checks: warning: an empty answer scores 0.50" in warned[0]


def test_validate_warns_when_no_check_can_earn(tmp_path: Path) -> None:
    warned = _load(tmp_path, "      - {type: not_contains, values: [10天]}")
    assert len(warned) == 1 and "no check recognises right content" in warned[0]
    assert (
        _load(tmp_path, "      - {type: number, value: 5, unit: 天}\n      - {type: not_contains, values: [10天]}")
        == []
    )


@pytest.mark.parametrize(
    ("written", "value"),
    [("010", 10), ("015", 15), ("0o15", 13), ("0x1F", 31), ("1_000", 1000), ("2.50", 2.5)],
)
def test_numbers_in_a_set_read_as_written(tmp_path: Path, written: str, value: float) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(SET.format(checks=f"      - {{type: number, value: {written}}}"), encoding="utf-8")
    qs, _ = load_question_set(f)
    assert qs.questions[0].checks[0].args["value"] == value


def test_a_time_of_day_is_not_a_base_60_number(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(SET.format(checks="      - type: number\n        value: 17:30"), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_question_set(f, display="s.yaml")
    assert any(str(p).startswith("s.yaml:11: questions[0].checks[0].value") for p in info.value.problems)


def test_yes_and_no_stay_words(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(SET.format(checks="      - {type: contains_any, values: [no, yes, on]}"), encoding="utf-8")
    qs, _ = load_question_set(f)
    assert qs.questions[0].checks[0].args["values"] == ["no", "yes", "on"]


def test_a_schema_format_that_cannot_be_checked_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(SET.format(checks="      - {type: json, schema: {type: string, format: uri}}"), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_question_set(f, display="s.yaml")
    assert "format uri cannot be checked here" in str(info.value.problems[0])


LONG = 80_000


@pytest.mark.parametrize(
    "answer",
    [
        ("年假为5天，不可以短接安全门，保压3到5秒，温度220±5℃。答案是B。" * 3000)[:LONG],
        ("Do not set it to 250 C; refunds take five days, answer B. " * 2000)[:LONG],
        "一" * LONG,
        "1" * LONG,
        "不" * LONG,
    ],
    ids=["zh", "en", "yi", "digits", "bu"],
)
def test_a_runaway_answer_is_scored_in_linear_time(answer: str) -> None:
    """Each check on 80,000 characters: well under a second on these machines (the quadratic
    reading took 19-27 s); 3 s of CPU for all of them leaves room for a slow host."""
    checks = [
        {"type": "not_contains", "values": ["短接", "5天", "refund", "250"]},
        {"type": "contains_all", "values": ["年假", "7天", "B"]},
        {"type": "number", "value": 7, "unit": "天"},
        {"type": "regex", "pattern": "7\\s*天"},
        {"type": "choice", "answer": "C"},
        {"type": "abstains"},
        {"type": "max_sentences", "max": 3},
        {"type": "faithful"},
    ]
    start = time.process_time()
    for c in checks:
        rubric.run_check(spec(c), answer)
    assert time.process_time() - start < 3.0


def test_sample_sets_hold_120_questions_in_4_domains_with_declines() -> None:
    sets = {}
    for path in sorted((REPO / "question_sets").glob("*.yaml")):
        qs, _ = load_question_set(path)
        sets[qs.id] = qs
    assert sum(len(qs.questions) for qs in sets.values()) >= 120
    domains = {"hr_policy_zh", "production_line_zh", "customer_support_en", "quality_inspection_zh"}
    assert domains <= set(sets)
    qi = sets["quality_inspection_zh"]
    assert len(qi.documents) == 1 and sum(any(c.type == "abstains" for c in q.checks) for q in qi.questions) >= 3


QI_ANSWERS = [
    ("qi-rate-001", "目标是千分之三。", 1.0),
    ("qi-rate-001", "不超过3‰。", 1.0),
    ("qi-rate-001", "不超过3%。", 0.0),  # ten times the target
    ("qi-rate-004", "不满足，千分之二超过了千分之一。", 1.0),
    ("qi-cal-001", "每半年一次。", 1.0),
    ("qi-cal-001", "每年一次。", 0.0),
    ("qi-rec-002", "保存一年半。", 1.0),
    ("qi-rec-002", "保存一年。", 0.0),
    ("qi-rec-001", "半个小时内。", 1.0),
    ("qi-dim-004", "30cm，每面看三五秒。", 1.0),
    ("qi-dim-004", "30cm，每面看三十五秒。", 0.5),  # 35 s is outside 3-5 s
    ("qi-dim-001", "120±0.2毫米。", 1.0),
    ("qi-dim-001", "一百二十毫米，上下浮动零点二。", 0.5),  # no ± written and no 119.8
    ("qi-env-001", "温度23±2℃。", 1.0),
    ("qi-env-005", "两天。", 1.0),  # 2 x 24 h
    ("qi-nc-004", "由质量经理批准。", 0.0),
    ("qi-nc-006", "不能，要质量总监批准。", 1.0),
    ("qi-nc-006", "可以，质量经理就能批。", 0.0),
    ("qi-oos-002", "运费由供应商承担。", 0.0),
    ("qi-oos-002", "规程中没有规定运费由谁承担。", 1.0),
]


@pytest.mark.parametrize(("qid", "answer", "expected"), QI_ANSWERS, ids=[f"{q}:{a}" for q, a, _ in QI_ANSWERS])
def test_quality_set_grades_answers_in_the_forms_it_was_written_for(qid: str, answer: str, expected: float) -> None:
    qs, _ = load_question_set(REPO / "question_sets" / "quality_inspection_zh.yaml")
    q = next(q for q in qs.questions if q.id == qid)
    assert rubric.score_answer(q.checks, answer)[0] == pytest.approx(expected)


DEMO_ANSWERS = [
    # (set, question, answer, old score under the plain weighted mean, right score)
    ("customer_support_en", "warranty-001", "20 months after delivery, it's still under warranty.", 1 / 3, 0.0),
    ("customer_support_en", "warranty-001", "The repair is still under warranty.", 1 / 3, 0.0),
    ("customer_support_en", "warranty-001", "Yes, the hub has a 24-month warranty.", 1.0, 1.0),
    ("hr_policy_zh", "oos-001", "Ping yu, a traditional Chinese medicine doctor, lived in the mountains.", 1 / 3, 0.0),
    ("hr_policy_zh", "oos-001", "", 1 / 3, 0.0),
    ("hr_policy_zh", "oos-001", "制度没有规定婚假。", 1.0, 1.0),
]


@pytest.mark.parametrize(("set_id", "qid", "answer", "old", "right"), DEMO_ANSWERS)
def test_demo_answers_that_earned_free_credit(set_id: str, qid: str, answer: str, old: float, right: float) -> None:
    """Answers seen in the demo: a wrong or missing warranty figure, an off-topic or empty reply to
    the marriage-leave question earned 1/3 from not_contains alone (0.5 / 1.5); now 0."""
    qs, _ = load_question_set(REPO / "question_sets" / f"{set_id}.yaml")
    q = next(q for q in qs.questions if q.id == qid)
    score, results = rubric.score_answer(q.checks, answer)
    plain = sum(r.score * r.weight for r in results) / sum(r.weight for r in results)
    assert plain == pytest.approx(old)
    assert score == pytest.approx(right)
