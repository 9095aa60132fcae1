"""Known units (harness/rubric/units.py): which spellings reach pint, and how they convert."""

from __future__ import annotations

import subprocess
import sys

import pytest

from harness.rubric.known_units import Known, convert, known_after, known_spelling, target_of


@pytest.mark.parametrize(
    ("written", "target", "value", "expected"),
    [
        ("分钟", "小时", 90, 1.5),
        ("h", "分钟", 1.5, 90),
        ("weeks", "天", 3, 21),
        ("星期", "days", 3, 21),
        ("斤", "公斤", 5, 2.5),
        ("g", "kg", 2500, 2.5),
        ("mm", "厘米", 25, 2.5),
        ("kPa", "MPa", 300, 0.3),
        ("bar", "MPa", 3, 0.3),
        ("°F", "℃", 68, 20),
        ("℃", "°F", 100, 212),
        ("年", "个月", 1, 12),
        ("万元", "元", 0.5, 5000),
        ("角", "元", 5, 0.5),
    ],
)
def test_converts_within_a_dimension(written: str, target: str, value: float, expected: float) -> None:
    w, t = known_spelling(written), target_of(target, ())
    assert w is not None and t is not None
    conv = convert(w, t)
    assert conv is not None
    assert value * conv[0] + conv[1] == pytest.approx(expected)


@pytest.mark.parametrize(
    ("written", "target"),
    [
        ("kg", "天"),  # another dimension
        ("小时", "元"),
        ("个月", "天"),  # a month is no fixed number of days
        ("年", "days"),
        ("美元", "元"),  # money is never converted across currencies
        ("$", "元"),
        ("EUR", "USD"),
    ],
)
def test_refuses_across_dimensions(written: str, target: str) -> None:
    w, t = known_spelling(written), target_of(target, ())
    assert w is not None and t is not None
    assert convert(w, t) is None


@pytest.mark.parametrize("spelling", ["S", "D", "pm", "am", "工作日", "business days", "次", "倍", "人", "K"])
def test_what_pint_would_misread_is_no_known_unit(spelling: str) -> None:
    assert known_spelling(spelling) is None


def test_target_through_a_declared_spelling() -> None:
    """``unit: 工时, units: {小时: 1}``: the check is in hours; ``unit: 次`` has no known unit."""
    assert target_of("工时", (("小时", 1.0),)) == Known("hour", 1.0)
    assert target_of("次", ()) is None


@pytest.mark.parametrize(
    ("after", "taken", "factor"),
    [
        ("分钟。", 2, 1 / 60),
        (" hours to go", 6, 1.0),
        ("个小时", 3, 1.0),
        (" MINIMUM", None, None),  # a word that starts like a unit
        ("S管理", None, None),
        (" in a row", None, None),
    ],
)
def test_known_after_reads_the_written_unit(after: str, taken: int | None, factor: float | None) -> None:
    unit = known_after(after, Known("hour"))
    if taken is None:
        assert unit is None
    else:
        assert unit is not None and unit.taken == taken and unit.factor == pytest.approx(factor)


def test_import_does_not_build_the_registry() -> None:
    """pint is imported on the first conversion, not by ``import harness.rubric``."""
    code = "import sys, harness.rubric; print('pint' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("question", "unit", "expected"),
    [
        ("差旅补贴每天多少钱？", "元/天", {"天"}),
        ("What is the meal allowance per day?", "USD/day", {"day"}),
        ("What's the daily meal allowance?", "USD/day", {"day"}),
        ("餐补每日多少？", "元/天", {"天"}),  # 日 is 天
        ("陪护床每晚收费多少？", "元/天", set()),  # another period
        ("补贴多少钱？", "元/天", set()),
    ],
)
def test_question_periods(question: str, unit: str, expected: set[str]) -> None:
    from harness.rubric.units import question_periods, spellings_of

    assert question_periods(question, spellings_of(unit, ())) == expected


@pytest.mark.parametrize(
    ("after", "periods", "taken"),
    [
        ("元。", frozenset({"天"}), 1),  # the question fixes per day
        ("元。", frozenset(), None),
        ("元/日", frozenset(), 3),
        ("元/月", frozenset({"天"}), None),  # another period
        (" dollars a day", frozenset(), 14),
    ],
)
def test_rate_read_after_a_figure(after: str, periods: frozenset[str], taken: int | None) -> None:
    from harness.rubric.units import spellings_of, unit_after

    spells = spellings_of("元/天", ()) if "元" in after else spellings_of("USD/day", ())
    unit = unit_after(after, "", spells, None, None, periods)
    assert (unit.taken if unit is not None and not unit.bare else None) == taken


@pytest.mark.parametrize(
    ("question", "factor"),
    [
        ("一线城市每晚报销上限多少？", 1.0),  # money asked without a unit
        ("How much is the deposit?", 1.0),
        ("What is the fee cap?", 1.0),
        ("每晚住几个人？", None),  # not about money
    ],
)
def test_money_asked_without_a_unit(question: str, factor: float | None) -> None:
    from harness.rubric.units import asked_factor, spellings_of

    assert asked_factor(question, spellings_of("元", ())) == factor


def test_qualifiers_never_hold_a_known_unit() -> None:
    from harness.rubric.units import qualifiers

    words = qualifiers("How many failed login attempts lock an account within 30 minutes?", {"attempt": 1.0})
    assert {"failed", "login", "consecutive"} <= words
    assert "minutes" not in words


def test_degrees_read_as_the_checks_temperature_scale() -> None:
    """A temperature check reads "degrees" / "degrees C" / "deg F" as a temperature; an angle never."""
    celsius = Known("degC")
    assert known_after(" degrees C.", celsius) is not None
    assert known_after(" degrees below zero", celsius) is not None
    fahrenheit = known_after(" deg F", celsius)
    assert fahrenheit is not None and abs(23 * fahrenheit.factor + fahrenheit.offset - (-5)) < 1e-6
    assert known_after(" degrees", Known("meter")) is None


def test_recurring_period_is_an_interval_only_when_asked_how_often() -> None:
    from harness.rubric.spoken import asks_interval, intervals

    assert asks_interval("Ⅱ级生物安全柜要每隔多少个月检测一次？")
    assert asks_interval("How often must extinguishers be serviced?")
    assert not asks_interval("年假有几天？")
    spells = {"个月": 1.0, "月": 1.0}
    [(_, _, (value, factor, _))] = intervals("每年检测两次。", spells, Known("month"))
    assert value * factor == pytest.approx(6)
