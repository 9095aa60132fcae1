"""The number reader on what is not a quantity, on markup, signs and compound durations (issue 26 §3).

Each expected value is what a careful reader takes from the text: a date, a clock time, an
ordinal or an identifier states no amount (its figures carry a :attr:`Found.kind` other than
``quantity``); markup around a figure changes nothing; a dash before a figure is a sign unless
it joins two figures; the pieces of 1小时30分钟 are one quantity.
"""

from __future__ import annotations

import pytest

from harness import rubric
from harness.records import CheckSpec
from harness.rubric.datetimes import find_when
from harness.rubric.numbers import KINDS, Found, find_numbers, scan_text
from harness.rubric.text import negated_at, nfkc


def quantities(answer: str) -> list[float]:
    return [f.value for f in find_numbers(answer) if f.kind == "quantity"]


def unit_after(answer: str, f: Found) -> str:
    return nfkc(answer)[f.unit_pos :].lstrip()


# ---- not quantities: every figure of these answers is a date, a time, an ordinal or an id ----

DATES = [
    "试用期从2024年3月5日开始", "2024-03-05", "3/5/2024", "March 5, 2024", "5 March", "3月5号",
    "二〇二四年三月五日",
    # variants not in the issue
    "合同于2025/12/31到期", "Deadline: Dec. 31st, 2025", "the 1st of April", "每月15日发放工资",
    "05.03.2024", "2024年12月底前提交", "周三下午开会", "from 2024-01-01 to 2024-03-31", "截止到3月20号",
    "2024.3.5起执行", "自2023年起", "二〇二三年十二月", "每年3月调薪", "3月份", "本月5号前提交", "次月10日发放",
    "上个月5号", "2024年度",
]  # fmt: skip
TIMES = [
    "8点05分前打卡", "8:05", "8点半", "下午两点", "2:30 pm", "14时30分",
    # variants
    "上午九点整到岗", "at 9 am", "9:00-17:30", "晚上8点以后", "half past two", "三点一刻", "17点下班",
    "8点到17点", "会议10:30开始", "3点30", "12:00 noon", "5 o'clock", "八点零五分",
]  # fmt: skip
ORDINALS = [
    "第5个工作日", "第三", "5th", "No. 5", "第5条",
    # variants
    "第二天", "the 3rd business day", "Article 12", "Step 2", "第十二条", "No.3", "on the 21st floor", "第1季度",
]  # fmt: skip
IDENTIFIERS = [
    "5S", "8D", "ISO 9001", "GB/T 19001-2016", "第三条", "X200", "Ⅱ级", "IM-280", "v2.3", "13800138000",
    "400-820-8820",
    # variants
    "ISO 14001:2015", "PA66", "Q235钢", "SUS304", "5W1H", "IATF 16949", "3号楼", "型号A-200", "RS485接口",
    "电话 138 0013 8000", "#3机台", "V2.10.1", "COVID-19", "GB 50016—2014", "按5S管理", "用8D报告",
    "+86 138 0013 8000", "(021) 6234 5678", "拨打95588", "call 1-800-555-0199", "热线：400 820 8820",
]  # fmt: skip


@pytest.mark.parametrize("answer", DATES + TIMES + ORDINALS + IDENTIFIERS)
def test_not_a_quantity(answer: str) -> None:
    assert quantities(answer) == [], [(f.value, f.kind) for f in find_numbers(answer)]


@pytest.mark.parametrize(
    ("answer", "kinds"),
    [
        ("试用期从2024年3月5日开始", [(2024, "date"), (3, "date"), (5, "date")]),
        ("8点05分前打卡", [(8, "time"), (5, "time")]),
        ("第5个工作日", [(5, "ordinal")]),
        ("ISO 9001", [(9001, "id")]),
        ("2024.3.5", [(2024, "date"), (3, "date"), (5, "date")]),  # three figures, not 2024.3 and 5
        ("2024-03-05", [(2024, "date"), (3, "date"), (5, "date")]),  # and no range from 3 to 5
    ],
)
def test_figures_keep_their_values_and_say_their_kind(answer: str, kinds: list[tuple[float, str]]) -> None:
    found = find_numbers(answer)
    assert [(f.value, f.kind) for f in found] == kinds
    assert all(f.range is None for f in found) and {f.kind for f in found} <= set(KINDS)


# ---- real quantities stay quantities ----


@pytest.mark.parametrize(
    ("answer", "values"),
    [
        ("试用期3个月", [3]),
        ("试用期3月", [3]),  # 3月 with no year before it and no day after it: three months
        ("5日内答复", [5]),  # 5日内 is five days
        ("工作满10年", [10]),
        ("每周三次", [3]),  # 周三 before 次 is three times a week, not Wednesday
        ("注意以下3点", [3]),  # three points, not three o'clock
        ("以下三点建议", [3]),
        ("比例10:30", [10, 30]),  # after 比例 a colon is a ratio
        ("配比 1:2", [1, 2]),
        ("USD249 per year", [249]),  # a currency code is not a model prefix
        ("pH7", [7]),
        ("220V", [220]),
        ("每天200元", [200]),
        ("within 5 business days", [5]),
        ("three to five days", [3, 5]),  # not "five to" a time
        ("hold for 3 to 5 s", [3, 5]),
        ("三点五", [3.5]),
        ("2,000元", [2000]),
        ("第5条规定年假5天", [5]),  # the ordinal is left out, the 5 days stay
        ("ISO 9001要求保存记录3年", [3]),
        ("8点05分前打卡，迟到超过5分钟扣款", [5]),
        ("x2倍", [2]),
        ("拨打3次", [3]),
        ("3 - 5 s", [3, 5]),
        ("CPK1.33", [1.33]),  # a measured value after its symbol, not a model number
        ("Ra0.8", [0.8]),
        ("HRC45", [45]),
        ("M4螺丝扭矩1.2 N·m", [1.2]),  # M4 is the screw size
    ],
)
def test_quantity_stays(answer: str, values: list[float]) -> None:
    assert quantities(answer) == values


# ---- markup around a figure reads as the figure ----


@pytest.mark.parametrize(
    ("answer", "value", "unit"),
    [
        ("年假为**5**天", 5, "天"),
        ("$5$ 天", 5, "天"),
        ("$\\boxed{60}$ 元", 60, "元"),
        ("`5` 天", 5, "天"),
        ("5 **天**", 5, "天"),
        # variants
        ("年假为__5__天", 5, "天"),
        ("年假为<b>5</b>天", 5, "天"),
        ("\\(5\\) 天", 5, "天"),
        ("$$60$$元", 60, "元"),
        ("$5\\%$", 5, "%"),
        ("**五**天", 5, "天"),
        ("$60\\text{ 元}$", 60, "元"),
        ("The answer is **14 days**.", 14, "days"),
        ("***3*** hours", 3, "hours"),
    ],
)
def test_markup_around_a_figure(answer: str, value: float, unit: str) -> None:
    (found,) = [f for f in find_numbers(answer) if f.kind == "quantity"]
    assert found.value == value
    assert unit_after(answer, found).startswith(unit)


def test_markup_keeps_the_negation_before_it() -> None:
    text = "年假不是**5**天，而是10天"
    five = find_numbers(text)[0]
    assert five.value == 5 and negated_at(nfkc(text), five.head)


@pytest.mark.parametrize("text", ["售价5$", "costs $5 and $10", "a $5 fee, then $6"])
def test_a_lone_dollar_sign_stays(text: str) -> None:
    t = nfkc(text)
    for f in find_numbers(text):
        assert "$" in (t[f.head - 1 : f.head] + t[f.unit_pos : f.unit_pos + 1])


def test_a_dollar_sign_is_money_unless_it_opens_math() -> None:
    text = "$24.99/month or $249/year"
    found = find_numbers(text)
    assert [f.value for f in found] == [24.99, 249]
    assert all(nfkc(text)[f.head - 1] == "$" for f in found)  # the $ is still the currency before each


# ---- a dash before a figure is a sign, between two figures a range ----


@pytest.mark.parametrize(
    ("answer", "values", "ranged"),
    [
        ("–5 °C", [-5], False),  # en dash
        ("−5℃", [-5], False),  # minus sign
        ("温度 -5℃", [-5], False),
        ("3–5 ℃", [3, 5], True),
        ("IM-280", [], False),  # a model number: neither negative nor a quantity
        # variants
        ("最低温度–10℃", [-10], False),
        ("冷库温度为−18 °C", [-18], False),
        ("温差 3 – 5 ℃", [3, 5], True),
        ("-10~-5℃", [-10, -5], True),
        ("offset −0.5 mm", [-0.5], False),
        ("Store at –20 °C", [-20], False),
    ],
)
def test_signs_and_ranges(answer: str, values: list[float], ranged: bool) -> None:
    found = [f for f in find_numbers(answer) if f.kind == "quantity"]
    assert [f.value for f in found] == values
    assert all((f.range is not None) == ranged for f in found)


# ---- compound durations: one quantity in pieces, or one figure with a half ----


@pytest.mark.parametrize(
    ("answer", "pieces"),
    [
        ("1小时30分钟", [(1, "小时"), (30, "分钟")]),
        ("1h30min", [(1, "h"), (30, "min")]),
        ("1 hour 30 minutes", [(1, "hour"), (30, "minutes")]),
        # variants
        ("1 hour and 30 minutes", [(1, "hour"), (30, "minutes")]),
        ("1年3个月", [(1, "年"), (3, "个月")]),
        ("两天3小时", [(2, "天"), (3, "小时")]),
        ("1分30秒", [(1, "分"), (30, "秒")]),
        ("2 hrs 15 mins", [(2, "hrs"), (15, "mins")]),
        ("耗时一小时二十分钟", [(1, "小时"), (20, "分钟")]),
    ],
)
def test_compound_pieces(answer: str, pieces: list[tuple[float, str]]) -> None:
    found = [f for f in find_numbers(answer) if f.kind == "quantity"]
    assert [(f.value, unit_after(answer, f)[: len(u)]) for f, (_, u) in zip(found, pieces, strict=True)] == pieces
    assert len({f.compound for f in found}) == 1 and found[0].compound == found[0].start


@pytest.mark.parametrize(
    "answer",
    ["1小时或30分钟", "30分钟1小时", "3天5天", "8点05分", "1小时，30分钟后复查", "5天10天"],
)
def test_not_compound(answer: str) -> None:
    assert all(f.compound is None for f in find_numbers(answer))


@pytest.mark.parametrize(
    ("answer", "value", "unit"),
    [
        ("an hour and a half", 1.5, "hour"),
        ("一天半", 1.5, "天"),
        ("两个半小时", 2.5, "小时"),
        # variants
        ("two hours and a half", 2.5, "hours"),
        ("a day and a half", 1.5, "day"),
        ("one and a half hours", 1.5, "hours"),
        ("一个小时半", 1.5, "个小时"),
        ("三年半", 3.5, "年"),
    ],
)
def test_halves(answer: str, value: float, unit: str) -> None:
    (found,) = find_numbers(answer)
    assert found.value == value and unit_after(answer, found).startswith(unit)


def test_half_price_is_no_half_day() -> None:
    assert quantities("三天半价") == [3]


# ---- the number check skips what is not a quantity (needs checks_number to read Found.kind) ----


def _number(answer: str, **args: object) -> bool:
    return rubric.run_check(CheckSpec(type="number", args=args), answer).passed


_SKIPS_KINDS = not _number("2024年3月5日", value=5, unit="日")
"""Whether the number check on this branch leaves out dates, times, ordinals and identifiers."""


@pytest.mark.xfail(not _SKIPS_KINDS, reason="checks_number does not yet skip Found.kind != quantity", strict=True)
@pytest.mark.parametrize(
    ("answer", "args"),
    [
        ("试用期从2024年3月5日开始", {"value": 3, "unit": "个月", "units": {"月": 1}}),
        ("试用期从2024年3月5日开始", {"value": 5, "unit": "天", "units": {"日": 1}}),
        ("8点05分前打卡", {"value": 5, "unit": "分钟", "units": {"分": 1}}),
        ("第5个工作日", {"value": 5, "unit": "个工作日"}),
        ("March 5, 2024", {"value": 5}),
        ("按5S管理", {"value": 5, "unit": "S"}),
    ],
)
def test_number_check_ignores_non_quantities(answer: str, args: dict) -> None:
    assert not _number(answer, **args)


@pytest.mark.parametrize(
    ("answer", "args"),
    [
        ("年假为**5**天", {"value": 5, "unit": "天"}),
        ("$\\boxed{60}$ 元", {"value": 60, "unit": "元"}),
        ("–5 °C", {"value": -5, "unit": "℃", "units": {"°C": 1}}),
        ("an hour and a half", {"value": 90, "unit": "分钟", "units": {"hour": 60}}),
        ("试用期3个月", {"value": 3, "unit": "个月"}),
        ("5日内答复", {"value": 5, "unit": "日"}),
    ],
)
def test_number_check_reads_these(answer: str, args: dict) -> None:
    assert _number(answer, **args)


def test_reader_is_linear() -> None:
    """Dates, times, ids and markup add bounded look-arounds only: 80,000 characters read in a few seconds."""
    import time

    unit = "2024年3月5日 8点05分 **5**天 $5$ 1小时30分钟 下午两点半 March 5, 2024 X200 第5条 –5℃ "
    text = (unit * (80_000 // len(unit) + 1))[:80_000]
    t = time.perf_counter()
    found = find_numbers(text)
    assert time.perf_counter() - t < 10 and len(found) > 10_000


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (870, "write the value as text"),  # YAML 1.1 reads 14:30 as 870
        ("2024-02-30", "day is out of range"),
        ("25:00", "hour must be in 0..23"),
        ("next Tuesday", "is not YYYY-MM-DD"),
    ],
)
def test_datetime_value_must_be_a_date_or_a_time(value: object, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        rubric.parse_args(CheckSpec(type="datetime", args={"value": value}))


# ---- issue 26, reader2: clock times with a dot, signs written as words, spans and choices of times ----

DOT_TIMES = [
    ("At 14.30 sharp.", 14, 30), ("14.30 Uhr", 14, 30), ("会议14.30开始", 14, 30),
    ("The meeting is at 9.45.", 9, 45), ("会议定于14.30召开", 14, 30), ("下午2.30到会议室", 2, 30),
    ("营业时间9.30-17.30", 9, 30), ("Doors open at 8.15 am", 8, 15),
]  # fmt: skip


@pytest.mark.parametrize(("answer", "hour", "minute"), DOT_TIMES)
def test_a_dot_between_hours_and_minutes_is_a_clock_time_where_the_context_is_a_time(
    answer: str, hour: int, minute: int
) -> None:
    whens = find_when(scan_text(answer))
    assert (whens[0].hour, whens[0].minute) == (hour, minute)
    assert not quantities(answer)


@pytest.mark.parametrize(
    ("answer", "value"),
    [
        ("14.30 元", 14.3), ("3.25 mm", 3.25), ("measured at 3.25 mm", 3.25), ("sold at 12.50.", 12.5),
        ("尺寸在3.25之间", 3.25), ("价格为14.30", 14.3), ("公差12.50-13.75 mm", 12.5),
    ],
)  # fmt: skip
def test_a_decimal_with_no_time_cue_stays_a_quantity(answer: str, value: float) -> None:
    assert quantities(answer)[0] == pytest.approx(value)


@pytest.mark.parametrize(
    ("answer", "value"),
    [
        ("Lower limit: minus 0.05 mm.", -0.05), ("minus five degrees", -5), ("negative 3 mm", -3),
        ("5 degrees below zero", -5), ("5 °C below freezing", -5), ("below zero by 5 degrees", -5),
        ("负零点零五毫米", -0.05), ("零下5度", -5), ("零下五度", -5), ("下限：-0.05 mm", -0.05),
    ],
)  # fmt: skip
def test_a_sign_written_as_a_word(answer: str, value: float) -> None:
    assert quantities(answer) == [pytest.approx(value)]  # the "zero" of below zero is no figure


def test_minus_reaches_the_negation_before_it() -> None:
    f = find_numbers("The offset is not minus 0.05 mm")[0]
    assert f.value == pytest.approx(-0.05) and negated_at(nfkc("The offset is not minus 0.05 mm"), f.head)


def test_markup_then_a_space_before_the_unit() -> None:
    f = find_numbers("年假：**5** 天")[0]
    assert f.value == 5 and unit_after("年假：**5** 天", f).startswith("天")


@pytest.mark.parametrize(
    ("answer", "second"),
    [
        ("下午两点半或者三点", (15, 0)),  # the second takes 下午 from the first
        ("2:30 or 3 pm", (15, 0)),
        ("下午3点或4点", (16, 0)),
        ("8点到17点", (17, 0)),
        ("上午9点到11点半", (11, 30)),
    ],
)
def test_the_second_of_two_joined_times_is_a_time_and_shares_the_half_of_the_day(
    answer: str, second: tuple[int, int]
) -> None:
    whens = [w for w in find_when(scan_text(answer)) if w.kind == "time"]
    assert len(whens) == 2
    assert second[0] in whens[1].hours() and whens[1].minute == second[1]
    assert len(whens[1].hours()) == 1


def test_2_30_or_3_pm_puts_both_in_the_afternoon() -> None:
    first = find_when(scan_text("2:30 or 3 pm"))[0]
    assert first.hours() == {14}


@pytest.mark.parametrize(
    ("answer", "days"),
    [("3月5日到8日", (5, 8)), ("3月5日或者6日", (5, 6)), ("March 5 to 8", (5, 8)), ("March 5-8, 2024", (5, 8)),
     ("3月5日至十日", (5, 10))],
)  # fmt: skip
def test_a_day_after_a_date_takes_its_month(answer: str, days: tuple[int, int]) -> None:
    whens = find_when(scan_text(answer))
    assert [(w.month, w.day) for w in whens] == [(3, days[0]), (3, days[1])]


def test_two_bare_points_are_not_times() -> None:
    assert not find_when(scan_text("注意以下两点或三点"))
    assert quantities("March 5 to 8 days") == [8]  # 8 days is a duration, not the 8th
