"""What an answer commits to (harness/rubric/commit.py): former values, other cases, hedges."""

from __future__ import annotations

import re

import pytest

from harness.rubric.commit import Mention, alternative_gap, commit


def mentions(text: str, unit: str, echoes: tuple[float, ...] = ()) -> list[Mention]:
    """Every "<number><unit>" of ``text`` as a mention of its value."""
    out = []
    for m in re.finditer(rf"(-?\d+)\s*{unit}", text):
        value = float(m.group(1))
        out.append(Mention(m.start(), m.end(), value, unit, f"{m.group(1)}{unit}", value in echoes))
    return out


def claims(text: str, unit: str, echoes: tuple[float, ...] = ()) -> list[float]:
    return [float(str(m.value)) for m in commit(text, mentions(text, unit, echoes)).claims]


@pytest.mark.parametrize(
    ("text", "unit", "expected"),
    [
        ("原来是30天，现在改成14天了。", "天", [14]),
        ("以前是80元，现在调到100元了。", "元", [100]),
        ("之前规定30天；目前是14天。", "天", [14]),
        ("It used to be 3 attempts; since 2023 it's 5 attempts.", "attempts", [5]),
        ("Previously 30 days, now 14 days.", "days", [14]),
        ("The limit was raised to 14 days.", "days", [14]),
        ("旧标准30天。", "天", [30]),  # a former value alone is still what the answer says
        ("您有5天年假，满10年后增加到10天。", "天", [5]),  # a later case, not a change of the current value
        ("30天，可延长至60天。", "天", [30]),  # a possibility
        ("16 GB standard, upgradable to 32 GB.", "GB", [16]),
        ("5 attempts; admins can raise it to 10 attempts for service accounts.", "attempts", [5]),
        ("30 days for most items, 14 days for electronics.", "days", [30, 14]),  # both conditional: both kept
    ],
)
def test_former_and_other_cases_are_set_aside(text: str, unit: str, expected: list[float]) -> None:
    assert claims(text, unit) == expected


@pytest.mark.parametrize(
    ("text", "unit", "echoes", "hedged"),
    [
        ("1天、3天、5天、7天都有可能。", "天", (3.0,), True),  # the question's 3 is one of the candidates
        ("已经3天了，最多能放7天，还剩4天。", "天", (3.0,), False),
        ("最多30个号吧，也可能是40个。", "个", (), True),
        ("5天年假，也可能10天。", "天", (), True),
        ("年假5天，病假10天。", "天", (), False),
    ],
)
def test_hedges(text: str, unit: str, echoes: tuple[float, ...], hedged: bool) -> None:
    assert bool(commit(text, mentions(text, unit, echoes)).hedges) is hedged


def test_alternative_gap_allows_a_short_noun_only() -> None:
    text = "30个号吧，也可能是40个"
    assert alternative_gap(text, 3, text.index("40"))
    text = "30个，专家号是20个"
    assert not alternative_gap(text, 3, text.index("20"))


def test_explanation_spaces_a_latin_unit() -> None:
    """Explanations read "expected 1000 kg", "expected 30 minutes"; 5天, 80℃, 50% keep no space."""
    from harness.records import CheckSpec
    from harness.rubric.registry import run_check

    def why(value: float, unit: str) -> str:
        spec = CheckSpec.model_validate({"type": "number", "args": {"value": value, "unit": unit}})
        return run_check(spec, "no figure here").explanation

    assert why(1000, "kg").startswith("expected 1000 kg;")
    assert why(30, "minutes").startswith("expected 30 minutes;")
    assert why(3, "high").startswith("expected 3 high;")
    assert why(5, "天").startswith("expected 5天;")
    assert why(80, "℃").startswith("expected 80℃;")
    assert why(50, "%").startswith("expected 50%;")
