"""cn2an's own cases (MIT licence, see data/peer/NOTICE.md) as a regression test of the numeral reader.

Each valued case must give exactly cn2an's values, in order. A dict value carries a unit
(``{"v": 8, "unit": "%"}``) or another reading that names the same quantity (``alt``). The
cases cn2an rejects as malformed have no right value: the reader must not fail on them, and
the ones without a numeral must give nothing. Left out, with the reason in ``LEFT_OUT``.
"""

from __future__ import annotations

import json

import pytest

from harness.rubric.numbers import find_numbers
from tests.support.files import DATA

CASES = json.loads((DATA / "peer" / "cn2an_cases.json").read_text(encoding="utf-8"))
VALUED = [c for c in CASES if c["expected"] is not None]
REJECTED = [c for c in CASES if c["expected"] is None]

LEFT_OUT: dict[str, str] = {}
"""Valued cases whose meaning does not fit the ``number`` check (none today)."""

NO_NUMERAL = {"", "元整", "圆", "负"}
"""Rejected inputs that hold no numeral at all: nothing may be read from them."""


def _matches(found: list, expected: list) -> bool:
    if len(found) != len(expected):
        return False
    for f, e in zip(found, expected, strict=True):
        if isinstance(e, dict):
            values = [e["v"], *e.get("alt", [])]
            if not any(f.value == pytest.approx(v, rel=1e-9, abs=1e-18) for v in values):
                return False
            if "unit" in e and f.unit_hint != e["unit"]:
                return False
        elif f.value != pytest.approx(e, rel=1e-9, abs=1e-18):
            return False
    return True


@pytest.mark.parametrize("case", VALUED, ids=[c["id"] for c in VALUED])
def test_cn2an_valued_case(case: dict) -> None:
    if case["id"] in LEFT_OUT:
        pytest.skip(LEFT_OUT[case["id"]])
    found = find_numbers(case["input"])
    shown = [(f.value, f.unit_hint) for f in found]
    assert _matches(found, case["expected"]), f"{case['input']!r}: read {shown}, cn2an gives {case['expected']}"


@pytest.mark.parametrize("case", REJECTED, ids=[c["id"] for c in REJECTED])
def test_cn2an_rejected_case_does_not_fail(case: dict) -> None:
    found = find_numbers(case["input"])
    if case["input"] in NO_NUMERAL:
        assert found == []


def test_every_valued_case_is_read_right() -> None:
    """The count the issue tracks: 166 valued cases, all right (142 before this change)."""
    right = sum(_matches(find_numbers(c["input"]), c["expected"]) for c in VALUED)
    assert len(VALUED) == 166
    assert right == len(VALUED) - len(LEFT_OUT)
