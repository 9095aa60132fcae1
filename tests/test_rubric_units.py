"""Known units (harness/rubric/units.py): which spellings reach pint, and how they convert."""

from __future__ import annotations

import subprocess
import sys

import pytest

from harness.rubric.units import Known, convert, known_after, known_spelling, target_of


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
