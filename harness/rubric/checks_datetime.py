"""The ``datetime`` check: a calendar date, a clock time, or both, however the answer writes them.

Example::

    - type: datetime
      value: 2024-03-05          # a date (YAML reads it as one; quoting is fine too)
    - type: datetime
      value: "14:30"             # a time: quote it
    - type: datetime
      value: "2024-03-05 14:30"  # both: the time within a few characters of the date

Dates and times are read by :mod:`harness.rubric.datetimes`: 2024年3月5日, 2024/3/5, 3/5/2024
(month first unless the first part is over 12), March 5, 2024, 5 March 2024, 二〇二四年三月五日;
下午两点半, 14点30分, 2:30 pm, 14:30. A date written without its year (3月5日, March 5th) matches
the month and day of the value unless ``require_year: true``: a grader reads the year from the
question. A time without 上午/下午 or am/pm and written the 12-hour way (两点半, 2:30) may mean
either half of the day; 凌晨两点半, 2:30 am and 02:30 fix it, so they fail ``14:30``.

Two different dates (or times) offered as alternatives (3月5日或3月6日, March 5 or March 6) fail:
the answer commits to neither. After a correction (更正, 应为, I meant, sorry) the later one counts.
A date or time the answer denies (不是3月5日) does not count.
"""

from __future__ import annotations

import datetime as dt
import re

from pydantic import field_validator, model_validator

from harness.rubric.datetimes import When, find_when
from harness.rubric.numbers import scan_text
from harness.rubric.registry import Args, Outcome, check
from harness.rubric.text import negated_at, nfkc

_VALUE = re.compile(
    r"(?:(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2}))?[T ]?(?:(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?)?"
)
_HEDGE = re.compile(r"(?i)\s{0,2}[,、]?\s{0,2}(?:或者|或是|还是|抑或|或|要么|也可能是|也可能|or|either|maybe|/)\s{0,2}")
_CORRECTION = re.compile(r"(?i)更正|纠正|改正|不对|说错|应为|应该是|应是|I meant|correction|sorry|actually")
_NEAR = 24
"""Characters that may stand between the date and the time of one moment (2024年3月5日（周二）下午两点半)."""


class DateTimeArgs(Args):
    value: str
    """``YYYY-MM-DD``, ``HH:MM`` (or ``HH:MM:SS``), or both (``YYYY-MM-DD HH:MM``)."""
    require_year: bool = False
    """A date written without its year (3月5日) does not count."""

    @field_validator("value", mode="before")
    @classmethod
    def _from_yaml(cls, v: object) -> object:
        if isinstance(v, dt.datetime):
            return v.strftime("%Y-%m-%d %H:%M:%S" if v.second else "%Y-%m-%d %H:%M")
        if isinstance(v, dt.date):
            return v.isoformat()
        if isinstance(v, int | float):
            raise ValueError(f"write the value as text, e.g. value: '14:30' (got the number {v!r})")
        return v

    @model_validator(mode="after")
    def _parses(self) -> DateTimeArgs:
        m = _VALUE.fullmatch(self.value.strip())
        if m is None or not (m.group("y") or m.group("h")):
            raise ValueError(f"value {self.value!r} is not YYYY-MM-DD, HH:MM or 'YYYY-MM-DD HH:MM'")
        try:
            if m.group("y"):
                dt.date(int(m.group("y")), int(m.group("m")), int(m.group("d")))
            if m.group("h"):
                dt.time(int(m.group("h")), int(m.group("mi")), int(m.group("s") or 0))
        except ValueError as exc:
            raise ValueError(f"value {self.value!r}: {exc}") from None
        return self

    def date(self) -> tuple[int, int, int] | None:
        m = _VALUE.fullmatch(self.value.strip())
        assert m is not None
        return (int(m.group("y")), int(m.group("m")), int(m.group("d"))) if m.group("y") else None

    def time(self) -> tuple[int, int, int | None] | None:
        m = _VALUE.fullmatch(self.value.strip())
        assert m is not None
        if not m.group("h"):
            return None
        return int(m.group("h")), int(m.group("mi")), int(m.group("s")) if m.group("s") else None


def _date_fits(w: When, want: tuple[int, int, int], require_year: bool) -> bool:
    if w.kind != "date" or w.month is None or w.day is None:
        return False
    if w.year is None and require_year:
        return False
    return (w.year is None or w.year == want[0]) and (w.month, w.day) == want[1:]


def _time_fits(w: When, want: tuple[int, int, int | None]) -> bool:
    if w.kind != "time" or w.minute is None:
        return False
    seconds_ok = want[2] is None or (w.second or 0) == want[2]
    return want[0] in w.hours() and w.minute == want[1] and seconds_ok


def _same(a: When, b: When) -> bool:
    return all(getattr(a, f) == getattr(b, f) for f in ("year", "month", "day", "weekday", "minute")) and (
        a.hours() == b.hours()
    )


def _committed(text: str, whens: list[When], kind: str) -> tuple[list[When], list[tuple[When, When]]]:
    """The dates (or times) the answer stands by, and the pairs it hedges between.

    A date followed, after a correction cue, by a different one is dropped; a date joined to a
    different one by 或 / or is a hedge; a denied date (不是3月5日) is dropped."""
    same_kind = [w for w in whens if w.kind == kind]
    kept, hedges = [], []
    for i, w in enumerate(same_kind):
        nxt = same_kind[i + 1] if i + 1 < len(same_kind) else None
        gap = text[w.end : nxt.start] if nxt is not None else ""
        if nxt is not None and not _same(w, nxt) and len(gap) <= 40 and _CORRECTION.search(gap):
            continue
        if nxt is not None and not _same(w, nxt) and _HEDGE.fullmatch(gap):
            hedges.append((w, nxt))
        if not negated_at(text, w.start):
            kept.append(w)
    return kept, hedges


def _show(text: str, w: When) -> str:
    return text[w.start : w.end].strip()


@check("datetime", DateTimeArgs)
def datetime_check(answer: str, args: DateTimeArgs) -> Outcome:
    """A calendar date, a clock time, or both equal to ``value``, in any common writing.

    ``2024-03-05`` matches 2024年3月5日, 2024/3/5, March 5, 2024, 5 March 2024, 二〇二四年三月五日;
    ``14:30`` matches 下午两点半, 14点30分, 2:30 pm, 14:30. Hedged alternatives fail.
    """
    text = nfkc(answer)
    whens = find_when(scan_text(answer))
    want_date, want_time = args.date(), args.time()
    dates, date_hedges = _committed(text, whens, "date")
    times, time_hedges = _committed(text, whens, "time")
    hedged = [
        (a, b) for a, b in date_hedges + time_hedges
        if (want_date and (_date_fits(a, want_date, False) or _date_fits(b, want_date, False)))
        or (want_time and (_time_fits(a, want_time) or _time_fits(b, want_time)))
    ]  # fmt: skip
    if hedged:
        a, b = hedged[0]
        return Outcome(0.0, False, f"hedged: {_show(text, a)}, {_show(text, b)}")
    good_dates = [w for w in dates if want_date and _date_fits(w, want_date, args.require_year)]
    good_times = [w for w in times if want_time and _time_fits(w, want_time)]
    if want_date and want_time:
        # a weekday may stand between the date and the time: 2024年3月5日（周二）下午两点半
        order = {(w.start, w.kind): i for i, w in enumerate(w for w in whens if w.weekday is None)}
        for d in good_dates:
            for t in good_times:
                first, second = (d, t) if d.start <= t.start else (t, d)
                adjacent = order[(second.start, second.kind)] == order[(first.start, first.kind)] + 1
                if adjacent and second.start - first.end <= _NEAR and "\n" not in text[first.end : second.start]:
                    said = text[first.start : second.end]
                    return Outcome(1.0, True, f"found {said!r} = {args.value}")
    elif good_dates or good_times:
        w = (good_dates or good_times)[0]
        return Outcome(1.0, True, f"found {_show(text, w)!r} = {args.value}")
    seen = [_show(text, w) for w in dates + times]
    return Outcome(0.0, False, f"expected {args.value}; saw {', '.join(seen[:6]) or 'no date or time'}")
