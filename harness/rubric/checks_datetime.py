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
the answer commits to neither; so do a span (3月5日到3月8日, 9:00-17:00) and a window (between
March 5 and March 8), unless ``start_of_span`` (a span that opens with the value passes) or
``until`` (the span is what is asked) says otherwise. After a correction (更正, 应为, I meant,
sorry) the later one counts. A date or time the answer denies (不是3月5日) does not count.
"""

from __future__ import annotations

import datetime as dt
import itertools
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
_SPAN = re.compile(r"(?i)\s{0,2}(?:从|from)?\s{0,2}(?:到|至|~|～|-|–|—|to|through|thru|until|till)\s{0,2}")
_BETWEEN_JOIN = re.compile(r"(?i)\s{0,2}(?:and|和|与|跟|及)\s{0,2}")
_BETWEEN_BEFORE = re.compile(r"(?i)(?:\bbetween|介于)\s{0,2}$")
_BETWEEN_AFTER = re.compile(
    r"\s{0,2}(?:之间|中间|期间|以内|之内|内|范围内)|\s{0,2}[，,]?\s{0,2}(?:任选|任意|任何|随便|都可以|都行|均可)"
)
"""A window the answer leaves open: between A and B, A到B之间, A到B任选一天."""
_ASIDE = re.compile(r"[（(][^（()）]{0,12}[）)]")
"""A bracketed aside between two dates (3月6日（周三）或3月7日): not part of what joins them."""
_CORRECTION = re.compile(r"(?i)更正|纠正|改正|不对|说错|应为|应该是|应是|I meant|correction|sorry|actually")
_NEAR = 24
"""Characters that may stand between the date and the time of one moment (2024年3月5日（周二）下午两点半)."""


def _parse(value: str) -> re.Match[str] | None:
    m = _VALUE.fullmatch(value.strip())
    return m if m is not None and (m.group("y") or m.group("h")) else None


def _date_of(m: re.Match[str]) -> tuple[int, int, int] | None:
    return (int(m.group("y")), int(m.group("m")), int(m.group("d"))) if m.group("y") else None


def _time_of(m: re.Match[str]) -> tuple[int, int, int | None] | None:
    if not m.group("h"):
        return None
    return int(m.group("h")), int(m.group("mi")), int(m.group("s")) if m.group("s") else None


def _yaml_value(v: object) -> object:
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S" if v.second else "%Y-%m-%d %H:%M")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, int | float):
        raise ValueError(f"write the value as text, e.g. value: '14:30' (got the number {v!r})")
    return v


class DateTimeArgs(Args):
    value: str
    """``YYYY-MM-DD``, ``HH:MM`` (or ``HH:MM:SS``), or both (``YYYY-MM-DD HH:MM``)."""
    require_year: bool = False
    """A date written without its year (3月5日) does not count."""
    until: str | None = None
    """The end of a span the question asks for, written like ``value`` (its start): ``value: '09:00',
    until: '17:00'`` asks for the opening hours 9:00–17:00. Without it one moment is asked, and a
    span (3月5日到3月8日, 9:00-17:00) fails as a hedge."""
    start_of_span: bool = False
    """``value`` is when something starts (几点开始?): a span that opens with it (14:30-16:00) passes.
    A window left open (between 2:30 and 3 pm, 两点到三点之间) still fails."""

    @field_validator("value", "until", mode="before")
    @classmethod
    def _from_yaml(cls, v: object) -> object:
        return _yaml_value(v)

    @model_validator(mode="after")
    def _parses(self) -> DateTimeArgs:
        for name, text in (("value", self.value), ("until", self.until)):
            if text is None:
                continue
            m = _parse(text)
            if m is None:
                raise ValueError(f"{name} {text!r} is not YYYY-MM-DD, HH:MM or 'YYYY-MM-DD HH:MM'")
            try:
                if m.group("y"):
                    dt.date(int(m.group("y")), int(m.group("m")), int(m.group("d")))
                if m.group("h"):
                    dt.time(int(m.group("h")), int(m.group("mi")), int(m.group("s") or 0))
            except ValueError as exc:
                raise ValueError(f"{name} {text!r}: {exc}") from None
        if self.until is not None:
            a, b = _parse(self.value), _parse(self.until)
            assert a is not None and b is not None
            if bool(a.group("y")) != bool(b.group("y")) or bool(a.group("h")) != bool(b.group("h")):
                raise ValueError(f"until {self.until!r} must be written like value {self.value!r} (date, time or both)")
        return self

    def date(self) -> tuple[int, int, int] | None:
        m = _parse(self.value)
        assert m is not None
        return _date_of(m)

    def time(self) -> tuple[int, int, int | None] | None:
        m = _parse(self.value)
        assert m is not None
        return _time_of(m)

    def end(self) -> tuple[tuple[int, int, int] | None, tuple[int, int, int | None] | None]:
        """The date and time of ``until`` (None, None without it)."""
        m = _parse(self.until) if self.until else None
        return (_date_of(m), _time_of(m)) if m else (None, None)


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


def _committed(text: str, whens: list[When], kind: str) -> tuple[list[When], list[tuple[When, When, str]]]:
    """The dates (or times) the answer stands by, and the pairs it leaves open: ``hedge`` (3月5日或
    3月6日, 两点半或者三点), ``span`` (3月5日到3月8日, 9:00-17:00) or ``window`` (between March 5
    and March 8, 3月5日到8日之间任选一天).

    A date followed, after a correction cue, by a different one is dropped; a denied date
    (不是3月5日) is dropped. Weekdays pair with weekdays, full dates with full dates, so
    3月6日（周三）或3月7日 is a hedge."""
    same_kind = [w for w in whens if w.kind == kind]
    kept, pairs = [], []
    for i, w in enumerate(same_kind):
        nxt = same_kind[i + 1] if i + 1 < len(same_kind) else None
        gap = text[w.end : nxt.start] if nxt is not None else ""
        if nxt is not None and not _same(w, nxt) and len(gap) <= 40 and _CORRECTION.search(gap):
            continue
        if not negated_at(text, w.start):
            kept.append(w)
    for group in ([w for w in same_kind if w.weekday is None], [w for w in same_kind if w.weekday is not None]):
        for a, b in itertools.pairwise(group):
            gap = _ASIDE.sub("", text[a.end : b.start]) if b.start - a.end <= 40 else "\n"
            how = _joined(text, a, b, gap)
            if how and not _same(a, b):
                pairs.append((a, b, how))
    return kept, pairs


def _joined(text: str, a: When, b: When, gap: str) -> str:
    """How ``gap`` joins the dates (or times) ``a`` and ``b``: hedge, span, window or "" (not joined)."""
    open_window = _BETWEEN_AFTER.match(text, b.end)
    if _HEDGE.fullmatch(gap):
        return "hedge"
    if _SPAN.fullmatch(gap):
        return "window" if open_window or _BETWEEN_BEFORE.search(text, max(0, a.start - 10), a.start) else "span"
    if _BETWEEN_JOIN.fullmatch(gap) and (open_window or _BETWEEN_BEFORE.search(text, max(0, a.start - 10), a.start)):
        return "window"
    return ""


def _weekday_fits(w: When, want: tuple[int, int, int]) -> bool:
    """A weekday alone (周三) names the asked date's weekday: enough to make 周三或周四 a hedge."""
    return w.weekday is not None and w.weekday == dt.date(*want).isoweekday()


def _span_check(text: str, args: DateTimeArgs, pairs: list[tuple[When, When, str]], seen: list[When]) -> Outcome:
    """``value`` … ``until``: a span (or window) from the one to the other."""
    (start_date, start_time), (end_date, end_time) = (args.date(), args.time()), args.end()

    def fits(w: When, d: tuple[int, int, int] | None, t: tuple[int, int, int | None] | None) -> bool:
        return bool((t and _time_fits(w, t)) or (not t and d and _date_fits(w, d, args.require_year)))

    for a, b, how in pairs:
        if how != "hedge" and fits(a, start_date, start_time) and fits(b, end_date, end_time):
            return Outcome(1.0, True, f"found {text[a.start : b.end]!r} = {args.value} – {args.until}")
    shown = ", ".join(_show(text, w) for w in seen[:6]) or "no date or time"
    return Outcome(0.0, False, f"expected the span {args.value} – {args.until}; saw {shown}")


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
    dates, date_pairs = _committed(text, whens, "date")
    times, time_pairs = _committed(text, whens, "time")
    pairs = date_pairs + time_pairs
    if args.until is not None:
        return _span_check(text, args, pairs, dates + times)

    def fits(w: When) -> bool:
        return bool(
            (want_date and (_date_fits(w, want_date, False) or _weekday_fits(w, want_date)))
            or (want_time and _time_fits(w, want_time))
        )

    for a, b, how in pairs:
        if not (fits(a) or fits(b)) or (how == "span" and args.start_of_span and fits(a)):
            continue
        if how == "hedge":
            return Outcome(0.0, False, f"hedged: {_show(text, a)}, {_show(text, b)}")
        said = text[a.start : b.end]
        return Outcome(0.0, False, f"hedged: a {how} {said!r} where one {a.kind} is asked")
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
