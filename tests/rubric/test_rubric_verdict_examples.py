"""Every example of issue 26 ("grade what the answer commits to"), in one place, with its verdict.

Each case is a question as a set author writes it (question text, checks), an answer, and whether a
careful grader who knows what the question is for accepts it. The verdict is reasoned from the
issue's text, never copied from the harness's output: the rubric must reach it through
``score_answer`` + ``verdict`` with the question given as evidence, exactly as the scoring stage
does. Many more cases of each kind live in ``data/rubric_cases.yaml`` and the two graded books.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness import rubric
from harness.inputs.questions import load_question_set
from harness.records import CheckSpec
from harness.rubric.registry import Evidence


def spec(check: dict[str, Any]) -> CheckSpec:
    args = dict(check)
    top = {k: args.pop(k) for k in ("type", "weight", "critical", "optional") if k in args}
    if isinstance(args.get("checks"), list):
        args["checks"] = [spec(c).model_dump() for c in args["checks"]]
    return CheckSpec.model_validate({**top, "args": args})


def accepted(question: str, checks: list[dict[str, Any]], answer: str) -> bool:
    """The scoring stage's verdict on ``answer`` (every essential check passes; else score >= 0.5)."""
    score, results = rubric.score_answer([spec(c) for c in checks], answer, Evidence(None, None, question, ""))
    verdict = rubric.verdict(results)
    return verdict if verdict is not None else (score or 0) >= 0.5


DAYS_5 = {"type": "number", "value": 5, "unit": "天"}
LEAVE_Q = "入职满3年的员工每年有几天带薪年假？"
PRO_Q = "Pro 年付每年省多少？"
MC_Q = "员工发现安全门开关失灵，应该怎么做？A. 继续生产 B. 短接开关 C. 停机并报修 D. 自行拆修"
PA66 = [{"type": "regex", "pattern": r"80\s*(℃|°C|度)"}, {"type": "number", "value": 4, "unit": "小时"}]
MINUTES = {"type": "number", "unit": "分钟", "units": {"小时": 60, "h": 60, "min": 1, "hour": 60, "hours": 60}}

# fmt: off
CASES: list[tuple[str, str, list[dict[str, Any]], str, bool]] = [
    # §1 acceptable means every essential part is right
    ("half-answer", "PA66 干燥温度和时间？", PA66, "…要干燥80℃，含水率≤0.2%。", False),
    ("both parts", "PA66 干燥温度和时间？", PA66, "80℃下干燥4小时。", True),
    ("saving never stated", PRO_Q, [{"type": "number", "value": 249, "unit": "$"},
                                    {"type": "number", "value": 50.88, "tolerance": 0.01}],
     "$24.99/month or $249/year…", False),
    # §2 the committed value
    ("hedge zh", LEAVE_Q, [DAYS_5], "5天或10天", False),
    ("hedge en", "How many days of annual leave after 3 years?", [{"type": "number", "value": 5, "unit": "days"}],
     "either 5 or 10 days", False),
    ("range for one value", LEAVE_Q, [DAYS_5], "5到10天", False),
    ("corrected to 10", LEAVE_Q, [{"type": "number", "value": 10, "unit": "天"}], "5天，更正：应为10天", True),
    ("corrected away from 5", LEAVE_Q, [DAYS_5], "5天，更正：应为10天", False),
    ("choice corrected to C", MC_Q, [{"type": "choice", "answer": "C"}], "选A。不对，应该选C", True),
    ("choice sorry I meant C", MC_Q, [{"type": "choice", "answer": "C"}], "Answer: A… sorry, I meant C", True),
    ("choice leaning to D", MC_Q, [{"type": "choice", "answer": "D"}], "选C还是D？我倾向D", True),
    ("choice not the first of C or D", MC_Q, [{"type": "choice", "answer": "C"}], "选C还是D？我倾向D", False),
    ("contradictory price", "How much is Pro per year?", [{"type": "number", "value": 249, "unit": "$"}],
     "$249/year, or $153.98/year", False),
    ("shotgun", "事假最多可以请几天？", [{"type": "number", "value": 12, "unit": "天"}],
     "41天 42天 43天 44天 45天 46天 12天", False),
    ("condition is not a hedge", LEAVE_Q, [DAYS_5], "满10年的是10天；您满3年，是5天", True),
    ("old figure in passing", "现在年假是几天？", [{"type": "number", "value": 10, "unit": "天"},
                                          {"type": "not_contains", "values": ["5天"]}],
     "原来的规定是5天，2024年起调整为10天", True),
    ("question words earn nothing", "试用期员工能不能请年假？", [{"type": "contains_any", "values": ["不能"]}],
     "能不能请年假要看公司规定。", False),
    ("own refusal counts", "试用期员工能不能请年假？", [{"type": "contains_any", "values": ["不能"]}],
     "试用期员工不能请年假。", True),
    ("denied after: 3个月不对", "试用期是3个月吗？", [{"type": "contains_any", "values": ["3个月"]}],
     "您说的3个月不对，试用期是6个月。", False),
    ("denied after: 不予受理", "退款申请会受理吗？", [{"type": "not_contains", "values": ["受理"]},
                                           {"type": "contains_any", "values": ["不予", "不会"]}],
     "退款申请不予受理。", True),
    ("denied after: not possible", "Can I get a refund?", [{"type": "contains_any", "values": ["refund"]}],
     "Refunds are not possible.", False),
    # §3 not quantities
    ("date is no 3 months", "试用期多长？", [{"type": "number", "value": 3, "unit": "个月"}],
     "试用期从2024年3月5日开始", False),
    ("date is no 5 days", "请假要提前几天？", [DAYS_5], "试用期从2024年3月5日开始", False),
    ("clock is no grace", "迟到宽限几分钟？", [{"type": "number", "value": 5, "unit": "分钟"}], "8点05分前打卡", False),
    ("ordinal is no count", "几个工作日内完成培训？", [{"type": "number", "value": 5, "unit": "个工作日"}],
     "第5个工作日进行培训", False),
    # an identifier is no answer to "how many": with a unit, and without one where the question asks a quantity
    *[
        (f"identifier {ident}", question, [{"type": "number", "value": value, **unit}], f"按{ident}执行", False)
        for ident, value in [("5S", 5), ("8D", 8), ("ISO 9001", 9001), ("GB/T 19001-2016", 2016),
                             ("第三条", 3), ("X200", 200)]
        for question, unit in [("这项工作要分几步？", {"unit": "步"}), ("这项工作要分几步？", {})]
    ],
    # compound durations
    ("1小时30分钟 is 90", "要多久？", [{**MINUTES, "value": 90}], "1小时30分钟", True),
    ("1小时30分钟 is no 30", "要多久？", [{**MINUTES, "value": 30}], "1小时30分钟", False),
    ("1小时30分钟 is no 60", "要多久？", [{**MINUTES, "value": 60}], "1小时30分钟", False),
    ("1h30min is 90", "How long?", [{**MINUTES, "value": 90}], "1h30min", True),
    ("an hour and a half is 90", "How long?", [{**MINUTES, "value": 90}], "an hour and a half", True),
    ("一天半 is 36 h", "要多久？", [{"type": "number", "value": 36, "unit": "小时", "units": {"天": 24}}],
     "一天半", True),
    # other forms
    ("每天200元", "出差补贴每天多少？", [{"type": "number", "value": 200, "unit": "元/天"}], "每天200元", True),
    ("table header unit", "经理每晚住宿标准多少元？", [{"type": "number", "value": 500, "unit": "元"}],
     "| 职级 | 住宿标准（元/晚） |\n|---|---|\n| 经理 | 500 |", True),
    ("bold figure", LEAVE_Q, [DAYS_5], "年假为**5**天", True),
    ("latex figure", LEAVE_Q, [DAYS_5], "$5$ 天", True),
    ("boxed figure", "报销上限多少元？", [{"type": "number", "value": 60, "unit": "元"}], r"$\boxed{60}$ 元", True),
    ("en dash sign", "冷库温度多少？", [{"type": "number", "value": -5, "unit": "℃"}], "–5 °C", True),
    ("bare 5", "年假有几天？", [DAYS_5], "5", True),
    ("bare 五", "年假有几天？", [DAYS_5], "五", True),
    ("人均两百", "团建人均多少元？", [{"type": "number", "value": 200, "unit": "元"}], "人均两百", True),
    # new checks
    ("date check", "体检哪天？", [{"type": "datetime", "value": "2024-03-05"}], "2024年3月5日", True),
    ("time check", "培训几点开始？", [{"type": "datetime", "value": "14:30"}], "下午两点半", True),
    ("lock-out/tag-out in order", "检修前怎么做？",
     [{"type": "sequence", "steps": [["停机"], ["断电", "切断电源"], ["上锁", "挂牌上锁"], ["验电"]]}],
     "先停机，再切断电源，然后挂牌上锁，最后验电。", True),
    ("lock-out/tag-out out of order", "检修前怎么做？",
     [{"type": "sequence", "steps": [["停机"], ["断电", "切断电源"], ["上锁", "挂牌上锁"], ["验电"]]}],
     "先验电，再上锁，然后断电，最后停机。", False),
    ("multi-select AC", "哪些是个人防护用品？A. 安全帽 B. 灭火器 C. 防护手套 D. 配电箱",
     [{"type": "choice", "answer": "AC"}], "AC", True),
    ("multi-select A和C", "哪些是个人防护用品？A. 安全帽 B. 灭火器 C. 防护手套 D. 配电箱",
     [{"type": "choice", "answer": "AC"}], "A和C", True),
    ("甲乙丙丁", "必须启动8D的是？甲、客户批量投诉 乙、轻微划伤 丙、送货晚到 丁、员工请假",
     [{"type": "choice", "answer": "甲"}], "选甲", True),
    ("option by its text", "年假几天？A. 3天 B. 5天 C. 10天 D. 15天", [{"type": "choice", "answer": "B"}],
     "年假是5天。", True),
    # §4 declines by meaning
    *[(f"declines: {a}", "婚假有几天？", [{"type": "abstains"}], a, True)
      for a in ["这个我不太清楚", "资料里没写", "I have no idea", "文中未给出具体天数"]],
    *[(f"does not decline: {a}", "婚假有几天？", [{"type": "abstains"}], a, False)
      for a in ["不清楚的可以咨询HR", "制度并非没有规定", "If you're not sure, ask HR"]],
    ("不知道 about something else is an answer", "婚假有几天？", [{"type": "answers"}, DAYS_5],
     "婚假5天。具体哪天开始算我不知道，请问HR。", True),
]
# fmt: on


@pytest.mark.parametrize("name,question,checks,answer,expected", CASES, ids=[c[0] for c in CASES])
def test_issue_example(name: str, question: str, checks: list[dict[str, Any]], answer: str, expected: bool) -> None:
    assert accepted(question, checks, answer) is expected


def test_a_hedge_is_reported_as_one() -> None:
    result = rubric.run_check(spec(DAYS_5), "5天或10天", Evidence(None, None, LEAVE_Q, ""))
    assert not result.passed and result.explanation.startswith("hedged:") and "5" in result.explanation


def test_validate_warns_when_a_rubric_value_is_in_the_question(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "id: s\ntitle: t\nlanguage: zh\nquestions:\n  - id: q1\n    category: c\n"
        "    question: 试用期员工能不能请年假？\n    checks:\n      - type: contains_any\n        values: [不能]\n",
        encoding="utf-8",
    )
    _, warnings = load_question_set(path)
    assert any("'不能' appears in the question" in w.message for w in warnings)
