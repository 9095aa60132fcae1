"""Durations written in words, for the ``number`` check: "an hour", "three-quarters of an hour",
"every half hour", 一刻钟, and (when the question asks how often) a period with no numeral
("每年检测一次", "once a year", annually: one year).

Each reading is ``(start, end, (value, factor, offset))``: the value in the unit named, and the
factor and offset that take it into the check's unit (:func:`harness.rubric.units.unit_after`).
"""

from __future__ import annotations

import re

from harness.rubric.known_units import Known
from harness.rubric.units import unit_after
from harness.rubric.zh_numerals import ZH_DIGITS

TIME = ("millisecond", "second", "minute", "hour", "day", "week", "month", "year")
"""The pint names of the units of time: only a check in one of them reads durations in words."""

Spoken = tuple[int, int, tuple[float, float, float]]

_SPOKEN = re.compile(
    r"(?i)\b(?:(?P<one>an?|one)\s+(?P<u1>hour|minute|day|week|month|year)\s+and\s+a\s+(?P<part>quarter|half)"
    r"|(?P<q>a|one|two|three|[123])[\s-]+quarters?\s+of\s+an?\s+(?P<u2>hour|day|year)"
    r"|(?P<art>an?|one)\s+(?P<u3>hour|minute|day|week|month|year)(?![a-z]))"
)
_SPOKEN_LEAD = re.compile(
    r"(?i)(?:^|[(（:：,，;；—–-]|\b(?:is|are|was|be|takes?|took|lasts?|runs?|about|around|roughly|approximately"
    r"|nearly|exactly|just|over|under|within|for|in|after|only|full|whole|it's|every|each))$"
)
_QUARTERS = {"a": 1, "one": 1, "1": 1, "two": 2, "2": 2, "three": 3, "3": 3}
_FRACTION = re.compile(
    r"(?i)(?<![\w-])(?:(?:an?|one)\s+)?(?P<frac>half|quarter)[\s-](?:of\s+)?(?:an?\s+)?"
    r"(?P<unit>hour|day|week|month|year|minute)(?![a-z])"
    r"|(?P<zq>[一两二三123])\s*刻钟"
)
"""A fraction of one unit with no numeral: "half hour", "a quarter-hour", "half a day"; 一刻钟 /
三刻钟 (a quarter / three quarters of an hour). "two and a half hours" is read elsewhere (the
plural keeps it out here)."""


def spoken_durations(text: str, spells: dict[str, float], target: Known) -> list[Spoken]:
    """Durations written in words: "an hour" (1), "an hour and a quarter" (1.25), "three quarters
    of an hour" / "three-quarters of an hour" (0.75), "every half hour" (0.5), 一刻钟 (0.25 hour).
    "a day" after a figure or a unit is a rate's period ("50 dollars a day"), not a duration."""
    out = []
    for m in _SPOKEN.finditer(text):
        lead = text[max(0, m.start() - 16) : m.start()].rstrip()
        if not _SPOKEN_LEAD.search(lead) or re.search(r"(?i)(?:\d|half|once|twice|times?)\s*$", lead):
            continue
        value = 1.0 + (0.25 if m.group("part") == "quarter" else 0.5 if m.group("part") else 0.0)
        if m.group("q"):
            value = _QUARTERS[m.group("q").casefold()] / 4
        out += _in_unit(m, value, m.group("u1") or m.group("u2") or m.group("u3"), spells, target)
    for m in _FRACTION.finditer(text):
        if m.group("zq"):
            quarters = int(m.group("zq")) if m.group("zq").isdigit() else ZH_DIGITS[m.group("zq")]
            out += _in_unit(m, quarters / 4, "hour", spells, target)
        elif not re.search(r"(?i)(?:\d|\band)\s*$", text[max(0, m.start() - 8) : m.start()]):
            out += _in_unit(m, 0.5 if m.group("frac").casefold() == "half" else 0.25, m.group("unit"), spells, target)
    return _first_of_overlaps(out)


def _in_unit(m: re.Match[str], value: float, name: str, spells: dict[str, float], target: Known) -> list[Spoken]:
    unit = unit_after(" " + name, "", spells, None, target)
    return [] if unit is None or unit.bare else [(m.start(), m.end(), (value, unit.factor, unit.offset))]


def _first_of_overlaps(spans: list[Spoken]) -> list[Spoken]:
    out: list[Spoken] = []
    for s in sorted(spans):
        if not out or s[0] >= out[-1][1]:
            out.append(s)
    return out


_INTERVAL_ASKED = re.compile(
    r"(?i)每隔|多久[^，。？?]{0,6}一次|多长时间[^，。？?]{0,6}一次|(?:多少|几)[^，。？?]{0,6}一次|频率|周期"
    r"|\bhow\s+(?:often|frequently)\b|\bevery\s+how\s+many\b|\binterval\b|\bfrequency\b"
)


def asks_interval(question: str) -> bool:
    """Whether ``question`` asks how often something recurs (每隔多少个月检测一次？, how often ...?)."""
    return bool(_INTERVAL_ASKED.search(question))


_PERIOD_ZH = {"年": "year", "季度": "month", "月": "month", "周": "week", "星期": "week", "天": "day", "日": "day"}
_PERIOD_ZH["小时"] = "hour"
_MONTHS = {"季度": 3, "quarter": 3, "quarterly": 3}
_ADVERB = {"annually": "year", "yearly": "year", "quarterly": "month", "monthly": "month", "weekly": "week"}
_ADVERB |= {"daily": "day", "hourly": "hour"}
_COUNT = {"once": 1, "twice": 2, "thrice": 3, "two": 2, "three": 3, "four": 4}
_EVERY = re.compile(
    r"(?i)每(?:隔)?个?(?P<zu>年|季度|月|周|星期|天|日|小时)(?![\d〇一二两三四五六七八九十]+\s*[号日月天个周年小])"
    r"|\b(?:(?P<cnt>once|twice|thrice|(?:two|three|four|\d{1,2})\s+times)\s+(?:a|an|per|every|each)|every|each)"
    r"\s+(?P<other>other\s+)?(?P<eu>year|quarter|month|week|day|hour)\b"
    r"|\b(?P<adv>annually|yearly|quarterly|monthly|weekly|daily|hourly)\b"
)
"""A recurring period with no numeral: 每年, 每季度, every year, once a month, twice a year, annually."""
_ZH_COUNT = re.compile(r"[^，。,;；\n]{0,8}?(?P<n>[一两二三四五六七八九]|\d{1,2})\s*次")


def intervals(text: str, spells: dict[str, float], target: Known) -> list[Spoken]:
    """Recurring periods with no numeral, read as the interval between two occurrences: 每年检测一次
    and "once a year" are one year, 每年两次 and "twice a year" half a year, "every other day" two
    days. Only for a question that asks how often (:func:`asks_interval`): elsewhere 每年 is a
    rate's period (每年7天 is 7 days a year)."""
    out: list[Spoken] = []
    for m in _EVERY.finditer(text):
        word = m.group("zu") or (m.group("eu") or m.group("adv")).casefold()
        name = _PERIOD_ZH.get(word) or _ADVERB.get(word) or ("month" if word == "quarter" else word)
        periods = float(_MONTHS.get(word, 1)) * (2 if m.group("other") else 1)
        count = 1
        if m.group("cnt"):
            first = m.group("cnt").split()[0].casefold()
            count = int(first) if first.isdigit() else _COUNT[first]
        elif m.group("zu") and (c := _ZH_COUNT.match(text, m.end())) is not None:
            n = c.group("n")
            count = int(n) if n.isdigit() else ZH_DIGITS.get(n, 1)
        out += _in_unit(m, periods / max(count, 1), name, spells, target)
    return out
