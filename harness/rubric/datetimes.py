"""Dates and clock times in answers (pure): where they are and what they say.

Read from the text :func:`harness.rubric.numbers.find_numbers` scans (NFKC, one character per
character of ``nfkc(answer)``, markup blanked), so every position is a position in the answer.

Dates (:class:`When` with ``kind="date"``):

- Chinese: ``2024年3月5日``, ``二〇二四年三月五日``, ``3月5号``, ``24年3月5日`` (a two-digit
  year needs the day), ``2024年3月`` and ``3月份`` / ``3月初`` / ``3月底`` (a month), ``2024年`` (a
  four-digit year), ``每月15日`` / ``本月5号`` (a day of the month), ``每年3月``; ``星期三`` / ``周三`` (a
  weekday, not ``每周三次``);
- numeric: ``2024-03-05``, ``2024/3/5``, ``2024.3.5``; ``3/5/2024`` month first (US) unless the
  first part is over 12 (``15/3/2024`` is 15 March), ``05.03.2024`` likewise;
- English: ``March 5, 2024``, ``Mar. 5th``, ``5 March 2024``, ``the 5th of March``, ``March 2024``
  (month names capitalised, as written in prose).

``3月`` alone is not a date: ``试用期3月`` may be three months (``3个月`` always is). A month is a
date after a year, before a day, after ``每年``, or before ``份``/``初``/``中旬``/``底``/``末``.

Clock times (``kind="time"``): ``14:30``, ``8:05:30``, ``2:30 pm``, ``2 p.m.``, ``9 o'clock``,
``half past two``, ``8点05分``, ``14时30分``, ``8点半``, ``三点一刻``, ``三点整`` / ``三点钟``,
``下午两点`` (a time of day word before the hour), and a bare ``8点`` before ``前``/``后``/``起``/
``开始``/``上班``/``打卡``/``到``… (``以下三点`` is three points, not three o'clock). ``三点五``
stays 3.5 and ``一点五分`` 1.5 分 (one Chinese digit after 点 is a decimal). After 比/比例/ratio,
``10:30`` is a ratio (two quantities), not a time. ``14.30`` is a time where a cue says so
(``At 14.30 sharp``, ``14.30 Uhr``, ``会议14.30开始``, ``下午2.30``), else a decimal (``14.30元``).

Two joined by 或/到/or/to share what the second leaves out: ``3月5日到8日`` (the month),
``下午两点半或者三点`` (下午), ``2:30 or 3 pm`` (pm); the 三点 there is a time because it follows one.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, replace

from harness.rubric.zh_numerals import ZH_DIGITS, parse_run

_ZD = "零〇一二三四五六七八九两"
_N = rf"[\d{_ZD}十廿卅]"
"""One character of a date or time part (Arabic or Chinese)."""
_NB = rf"(?<![\d{_ZD}十百千万亿廿卅.])"
"""A part starts where no numeral character stands before it."""
_SP = r"\s{0,2}"

_ZH_DATE = re.compile(
    rf"(?=[\d{_ZD}十廿卅每本当次下上这星礼周])(?:{_NB}(?:(?P<y>\d{{4}}|[{_ZD}]{{4}}|\d{{2}}|[{_ZD}]{{2}}){_SP}年{_SP}|(?P<every_y>每年){_SP})?"
    rf"(?P<m>{_N}{{1,3}}){_SP}月(?!个)(?:{_SP}(?P<d>{_N}{{1,4}}){_SP}[日号]|(?P<part>份|初|中旬|上旬|下旬|底|末))?"
    rf"|{_NB}(?P<yo>\d{{4}}|[{_ZD}]{{4}}){_SP}年(?!{_SP}[\d{_ZD}十])"
    rf"|(?P<every_m>[每本当次下上这]个?月){_SP}(?P<dm>{_N}{{1,4}}){_SP}[日号]"
    rf"|(?:星期|礼拜|周)(?P<wd>[一二三四五六日天1-7])(?![次个天日小时分钟趟回遍轮]))"
)
# each pattern opens with a look-ahead of its first characters: re then skips other positions fast
_MONTHS = {
    m: i + 1 for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])
}
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?"
    r"|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\b\.?"
)
"""A month name as prose writes it, capitalised (lower-case may and march are words)."""
_ORD = r"(?:st|nd|rd|th)?\b"
_EN_DATES = (
    re.compile(
        rf"(?=[JFMASOND])\b(?P<mn>{_MONTH})\s{{1,2}}(?:the\s)?(?P<d>[0-3]?\d){_ORD}(?:,?\s{{1,2}}(?P<y>\d{{4}})(?!\d))?"
    ),
    re.compile(
        rf"(?=[t\d])\b(?:the\s)?(?P<d>[0-3]?\d){_ORD}\s{{1,2}}(?:of\s)?(?P<mn>{_MONTH})(?:,?\s{{1,2}}(?P<y>\d{{4}})(?!\d))?"
    ),
    re.compile(rf"(?=[JFMASOND])\b(?P<mn>{_MONTH})\s{{1,2}}(?P<y>\d{{4}})(?!\d)"),
)
_NUM_DATE = re.compile(
    r"(?=\d)(?:(?<![\d.:/-])(?P<y>\d{4})(?P<s>[-/.])(?P<m>\d{1,2})(?P=s)(?P<d>\d{1,2})(?![\d:]|\.\d)"
    r"|(?<![\d.:/-])(?P<a>\d{1,2})(?P<s2>[-/.])(?P<b>\d{1,2})(?P=s2)(?P<y2>\d{4}|(?<=/)\d{2})(?![\d:]|\.\d))"
)

_AM = {"上午": "am", "早上": "am", "早晨": "am", "清晨": "am", "凌晨": "am", "中午": "noon", "下午": "pm",
       "傍晚": "pm", "晚上": "pm", "夜里": "pm", "夜间": "pm", "晚间": "pm", "午夜": "am"}  # fmt: skip
_AM_WORDS = "|".join(sorted(_AM, key=len, reverse=True))
_ZH_TIME = re.compile(
    rf"(?=[上早清凌中下傍晚夜午\d{_ZD}十廿卅])(?:(?P<ap>{_AM_WORDS}){_SP})?{_NB}(?P<h>{_N}{{1,3}}){_SP}(?:(?P<dian>点)(?P<zhong>钟)?|(?<!小)时(?![间候期段长效限薪数]))"
    rf"(?:{_SP}(?:(?P<half>半)|(?P<q>[一三])刻|(?P<mi>{_N}{{1,3}})(?P<fen>{_SP}分(?![之钟]))?|(?P<zheng>整)))?"
)
_BARE_HOUR_AFTER = re.compile(
    r"\s{0,2}(?:前|后|以前|之前|以后|之后|左右|起|开始|上班|下班|打卡|截止|准时|开门|关门|营业|出发|集合|开会|结束|到|至|[-~–])"
)
_BARE_HOUR_BEFORE = re.compile(r"(?:到|至|[-~–])\s{0,2}$")
"""8点到17点: the end of a span of hours."""
_JOIN = r"(?:或者|或是|或|还是|抑或|要么|到|至|[-~–—]|\bor\b|\bto\b|\bthrough\b|\buntil\b|\btill\b)"
_JOINED = re.compile(rf"(?i)\s{{0,2}}[,、]?\s{{0,2}}{_JOIN}\s{{0,2}}")
"""What joins two dates or times offered as alternatives or as the ends of a span (两点半或者三点, 3月5日到8日)."""
_DAY_AFTER = re.compile(rf"(?i)\s{{0,2}}{_JOIN}\s{{0,2}}(?P<d>[0-3]?\d|[{_ZD}十廿卅]{{1,3}})\s{{0,2}}[日号]")
_EN_DAY_AFTER = re.compile(
    rf"(?i)\s{{0,2}}{_JOIN}\s{{0,2}}(?:the\s)?(?P<d>[0-3]?\d)(?:st|nd|rd|th)?\b(?!\s{{0,2}}(?:[:.%]\d|[ap]\.?m\b|o['’]clock|days?|hours?|weeks?|months?|years?))"
)
"""3月5日到8日, March 5 to 8, March 5 or 6: the second day takes the month (and year) of the first."""
_COLON_TIME = re.compile(
    rf"(?=[上早清凌中下傍晚夜午\d])(?:(?P<ap>{_AM_WORDS}){_SP})?(?<![\d:.])(?P<h>\d{{1,2}}):(?P<mi>\d{{2}})(?::(?P<s>\d{{2}}))?(?![\d:])"
    r"(?:\s{0,2}(?P<en>[AaPp]\.?\s?[Mm]\.?)(?![A-Za-z]))?"
)
_DOT_TIME = re.compile(r"(?=\d)(?<![\d.:/])(?<![A-Za-z]-)(?P<h>[01]?\d|2[0-3])\.(?P<mi>[0-5]\d)(?!\d|\.\d)")
"""14.30: a clock time only where a cue says so (:data:`_DOT_AFTER`)."""
_DOT_AFTER = re.compile(
    r"(?i)\s{0,2}(?:sharp\b|uhr\b|h\b|hrs\b|hours\b|o['’]clock|[ap]\.?m\.?(?![a-z])|整|准时|开始|开会|上班|下班|出发|集合|"
    r"打卡|截止|以前|之前|以后|之后|前|后|起)"
)
_DOT_SPAN_AFTER = re.compile(r"\s{0,2}(?:[-~–—]|到|至|或者?|还是|\bor\b|\bto\b|\buntil\b)\s{0,2}\d{1,2}[.:]\d\d(?!\d)")
"""What makes 14.30 a time when it follows: At 14.30 sharp, 14.30 Uhr, 会议14.30开始. Before it,
下午 (下午2.30) makes it a time when no unit follows; at/于, or a span (9.30-17.30), do so
where a time word (:data:`_TIME_WORD`) stands before it (not "at 3.25 mm", "14.30元", "12.50-13.75 mm")."""
_DOT_SPAN_BEFORE = re.compile(r"(?i)\d[.:]\d\d\s{0,2}(?:[-~–—]|到|至|或者?|还是|\bor\b|\bto\b|\buntil\b)\s{0,2}$")
"""9.30-17.30, 9.30到11.45: the second of a span or choice of times is a time as well."""
_DOT_WEAK_BEFORE = re.compile(
    r"(?i)(?:\b(?:at|by|from|until|till|before|after|around|um|ab|bis|gegen)|于|在|从|为|是)\s{0,2}$"
)
_TIME_WORD = re.compile(
    r"(?i)\b(?:time|clock|meeting|starts?|begins?|opens?|closes?|shift|handover|schedule[ds]?|arrive|departs?|"
    r"deadline|appointment|call|session|training|class)\b|时间|时刻|几点|会议|开会|开始|上班|下班|集合|出发|截止|"
    r"交接|培训|召开|举行|到达|营业|开门|关门"
)
"""at 14.30 is a time only where a time word stands within 30 characters before it (not "sold at 12.50")."""
_UNIT_AFTER = re.compile(r"\s{0,2}(?:[A-Za-z%‰°$€¥£]|[元块角毛分厘毫米克斤吨升度倍个件台次天年月周岁秒万亿千百])")
_EN_HOURS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
_EN_HOUR = "|".join(sorted(_EN_HOURS, key=len, reverse=True))
_EN_TIME = re.compile(
    rf"(?i)(?=[\dotfsenhq])(?:(?<![\d:.])\b(?P<h>\d{{1,2}}|{_EN_HOUR})\s{{0,2}}(?P<en>[ap]\.?\s?m\.?(?![a-z])|o['’]clock"
    r"|in\s+the\s+(?:morning|afternoon|evening)\b|at\s+night\b|tonight\b)"
    rf"|\b(?P<past>half|quarter)\s(?P<rel>past|to)\s(?P<h2>\d{{1,2}}|{_EN_HOUR})\b)"
)
_RATIO_BEFORE = re.compile(r"(?i)(?:比|比例|配比|之比|ratio|ratio of|比率)\s{0,3}(?:为|是|of|:)?\s{0,3}$")


@dataclass(frozen=True)
class When:
    """A date or a clock time as written: the parts it states (None where it leaves one out)."""

    kind: str
    """``date`` or ``time``."""
    start: int
    end: int
    year: int | None = None
    month: int | None = None
    day: int | None = None
    weekday: int | None = None
    hour: int | None = None
    minute: int | None = None
    second: int | None = None
    meridiem: str | None = None
    """``am``, ``pm`` or ``noon`` when the answer says which half of the day (下午, p.m.)."""
    twelve: bool = False
    """The hour is written the 12-hour way with nothing fixing the half of the day (两点半, 2:30)."""

    def hours(self) -> set[int]:
        """The hours of the day (0–23) this time may mean: 下午两点 is 14, 两点 2 or 14, 14:00 only 14."""
        h = self.hour
        if h is None:
            return set()
        if self.meridiem == "pm" or (self.meridiem == "noon" and h < 11):
            return {h + 12 if h < 12 else 12}
        if self.meridiem == "am":
            return {0 if h == 12 else h}
        if self.meridiem == "noon" or not self.twelve:
            return {h % 24}
        return {h % 12, h % 12 + 12}


def _int(text: str | None) -> int | None:
    """An Arabic or Chinese date part (05, 十二, 廿二, 二〇二四); None when it is not one whole number."""
    if not text:
        return None
    if text.isdigit():
        return int(text)
    if len(text) > 1 and all(ch in ZH_DIGITS for ch in text) and "十" not in text:
        return int("".join(str(ZH_DIGITS[ch]) for ch in text))  # 二〇二四
    pieces = parse_run(text)
    if len(pieces) != 1 or pieces[0].high is not None or pieces[0].value != int(pieces[0].value):
        return None
    return int(pieces[0].value)


def _year(text: str | None) -> int | None:
    y = _int(text)
    if y is not None and text is not None and len(text) == 2:
        y += 2000
    return y


def _valid(month: int | None, day: int | None) -> bool:
    return (month is None or 1 <= month <= 12) and (day is None or 1 <= day <= 31)


def _zh_dates(text: str) -> list[When]:
    out = []
    for m in _ZH_DATE.finditer(text):
        if m.group("wd"):
            wd = m.group("wd")
            out.append(When("date", m.start(), m.end(), weekday=7 if wd in "日天" else _int(wd)))
            continue
        if m.group("yo"):
            year = _year(m.group("yo"))
            if year is not None and 1000 <= year <= 2999:  # 2024年 is a year; 5000年 a span of years
                out.append(When("date", m.start(), m.end(), year=year))
            continue
        if m.group("every_m"):
            d = _int(m.group("dm"))
            if _valid(None, d):
                out.append(When("date", m.start("dm"), m.end(), day=d))
            continue
        y_text, month, day = m.group("y"), _int(m.group("m")), _int(m.group("d"))
        if not _valid(month, day) or month is None:
            continue
        year = _year(y_text)
        if y_text and ((len(y_text) == 2 and day is None) or not 1000 <= (year or 0) <= 2999):
            continue  # 24年3月 without the day: read as years and months
        if not (y_text or day or m.group("every_y") or m.group("part")):
            continue  # 3月 alone may be three months
        start = m.start("y") if y_text else m.start("m")
        out.append(When("date", start, m.end(), year=year, month=month, day=day))
    return out


def _numeric_dates(text: str) -> list[When]:
    out = []
    for m in _NUM_DATE.finditer(text):
        if m.group("y"):
            y, mo, d = int(m.group("y")), int(m.group("m")), int(m.group("d"))
        else:
            a, b, y = int(m.group("a")), int(m.group("b")), _year(m.group("y2")) or 0
            mo, d = (b, a) if a > 12 else (a, b)
        if _valid(mo, d) and 1000 <= y <= 2999:
            out.append(When("date", m.start(), m.end(), year=y, month=mo, day=d))
    return out


def _english_dates(text: str) -> list[When]:
    out = []
    for pattern in _EN_DATES:
        for m in pattern.finditer(text):
            groups = m.groupdict()
            day = int(groups["d"]) if groups.get("d") else None
            month = _MONTHS[m.group("mn")[:3].casefold()]
            if _valid(month, day):
                out.append(When("date", m.start(), m.end(), year=_int(groups.get("y")), month=month, day=day))
    return out


def _zh_times(text: str) -> list[When]:
    out: list[When] = []
    for m in _ZH_TIME.finditer(text):
        h, mi_text, ap = _int(m.group("h")), m.group("mi"), m.group("ap")
        arabic = m.group("h").isdigit()
        if h is None or h > 24:
            continue
        minute: int | None = 0
        if m.group("half"):
            minute = 30
        elif m.group("q"):
            minute = 15 if m.group("q") == "一" else 45
        elif mi_text:
            decimal = not arabic and m.group("dian") and len(mi_text) == 1 and not m.group("ap")
            minute = None if decimal else _int(mi_text)  # 三点五 is 3.5, 一点五分 1.5 分
            if minute is None or minute > 59:
                continue
        elif not (
            ap
            or m.group("zheng")
            or m.group("zhong")
            or _BARE_HOUR_AFTER.match(text, m.end())
            or 13 <= h <= 24
            or _BARE_HOUR_BEFORE.search(text, max(0, m.start() - 3), m.start())
            or (out and out[-1].end >= m.start() - 8 and _JOINED.fullmatch(text, out[-1].end, m.start("h")))
        ):
            continue  # 以下三点 (three points), 3点 with nothing that makes it a time
        start = m.start("ap") if ap else m.start("h")
        twelve = ap is None and 1 <= h <= 12
        out.append(When("time", start, m.end(), hour=h, minute=minute, meridiem=_AM.get(ap or ""), twelve=twelve))
    return out


def _en_meridiem(en: str | None) -> str | None:
    if not en or en[0] in "oO":
        return None
    if en[:2].casefold() in ("in", "at", "to"):  # in the morning, at night, tonight
        return "am" if en.casefold().endswith("morning") else "pm"
    return "am" if en[0] in "aA" else "pm"


_AT_HOUR = re.compile(
    rf"(?i)\b(?:at|by)\s(?P<h>\d{{1,2}}|{_EN_HOUR})\b(?![:.,]?\d|\s{{0,2}}(?!(?:on|in|at|and|or|to|sharp)\b)[a-z%])"
)
"""at 6 / by six: an hour only next to a date (June 14 at 6, by 6 on June 14); alone it stays a number."""
_NEAR_DATE = 16


def _bare_hours(text: str, dates: list[When]) -> list[When]:
    """Times from "at 6" / "by six" within :data:`_NEAR_DATE` characters of a date: the hour of
    the 12-hour clock with the half of the day open (6 or 18), as "6点" is."""
    out = []
    starts = [d.start for d in dates]
    for m in _AT_HOUR.finditer(text):
        h = _en_hour(m.group("h"))
        k = bisect.bisect_left(starts, m.start())
        before = k > 0 and dates[k - 1].end <= m.start() <= dates[k - 1].end + _NEAR_DATE
        after = k < len(dates) and m.end() <= dates[k].start <= m.end() + _NEAR_DATE
        near = before or after
        if near and 1 <= h <= 12:
            out.append(When("time", m.start("h"), m.end(), hour=h, minute=0, twelve=True))
    return out


def _colon_times(text: str) -> list[When]:
    out = []
    for m in _COLON_TIME.finditer(text):
        h, mi = int(m.group("h")), int(m.group("mi"))
        if h > 24 or mi > 59 or _RATIO_BEFORE.search(text[max(0, m.start("h") - 12) : m.start("h")]):
            continue
        ap = m.group("ap")
        meridiem = _en_meridiem(m.group("en")) or _AM.get(ap or "")
        twelve = meridiem is None and 1 <= h <= 12 and not m.group("h").startswith("0")
        sec = int(m.group("s")) if m.group("s") else None
        start = m.start("ap") if ap else m.start("h")
        out.append(When("time", start, m.end(), hour=h, minute=mi, second=sec, meridiem=meridiem, twelve=twelve))
    return out


def _dot_times(text: str) -> list[When]:
    """14.30 as a clock time: followed by a time word (sharp, Uhr, 开始), or after at/下午/于 with
    no unit after it; 14.30元 and 3.25 mm stay decimals."""
    out: list[When] = []
    for m in _DOT_TIME.finditer(text):
        before = text[max(0, m.start() - 12) : m.start()]
        ap = re.search(rf"(?:{_AM_WORDS})\s{{0,2}}$", before)
        weak = (
            _DOT_WEAK_BEFORE.search(before) or _DOT_SPAN_BEFORE.search(before) or _DOT_SPAN_AFTER.match(text, m.end())
        )
        unit_at = _DOT_SPAN_AFTER.match(text, m.end())
        if unit_at and _UNIT_AFTER.match(text, unit_at.end()):
            continue  # 12.50-13.75 mm
        span = _DOT_SPAN_BEFORE.search(before)
        # the second of 下午2.30或3.00: the first (its last four characters end where the span starts) is a time
        after_time = span is not None and bool(out) and out[-1].end == m.start() - len(before) + span.start() + 4
        near = _TIME_WORD.search(text[max(0, m.start() - 30) : m.end() + 24])
        cue_before = ap or after_time or (weak and near)
        if not (_DOT_AFTER.match(text, m.end()) or (cue_before and not _UNIT_AFTER.match(text, m.end()))):
            continue
        en = re.match(r"\s{0,2}([AaPp])\.?\s?[Mm]\b", text[m.end() : m.end() + 6])
        meridiem = _en_meridiem(en.group(1)) if en else _AM.get(ap.group(0).strip() if ap else "")
        h, mi = int(m.group("h")), int(m.group("mi"))
        twelve = meridiem is None and 1 <= h <= 12 and not m.group("h").startswith("0")
        out.append(When("time", m.start(), m.end(), hour=h, minute=mi, meridiem=meridiem, twelve=twelve))
    return out


def _en_hour(word: str) -> int:
    return int(word) if word.isdigit() else _EN_HOURS.index(word.casefold()) + 1


def _english_times(text: str) -> list[When]:
    out = []
    for m in _EN_TIME.finditer(text):
        if m.group("h"):
            h = _en_hour(m.group("h"))
            meridiem = _en_meridiem(m.group("en"))
            if 1 <= h <= 12:
                out.append(When("time", m.start(), m.end(), hour=h, minute=0, meridiem=meridiem, twelve=not meridiem))
            continue
        past, h = m.group("past").casefold(), _en_hour(m.group("h2"))
        by = 30 if past == "half" else 15  # "five to ten" is a range of numbers, not 9:55
        if not 1 <= h <= 12:
            continue
        if m.group("rel").casefold() == "to":
            h, by = (h - 1) or 12, 60 - by
        out.append(When("time", m.start(), m.end(), hour=h, minute=by, twelve=True))
    return out


def find_when(text: str) -> list[When]:
    """Every date and clock time in ``text`` (as :func:`harness.rubric.numbers.scan_text` gives it),
    in order; where two readings overlap, the one that starts first (then the longer) stands."""
    found = [
        *_numeric_dates(text), *_zh_dates(text), *_english_dates(text),
        *_colon_times(text), *_dot_times(text), *_zh_times(text), *_english_times(text),
    ]  # fmt: skip
    dates = sorted((w for w in found if w.kind == "date"), key=lambda w: w.start)
    found += _bare_hours(text, dates)
    found.sort(key=lambda w: (w.start, -w.end))
    out: list[When] = []
    for w in found:
        if out and w.start < out[-1].end:
            continue
        out.append(w)
    return _shared(text, out)


def _shared(text: str, whens: list[When]) -> list[When]:
    """What the second of two joined dates or times takes from the first (and the reverse):
    3月5日到8日 (the month), 下午两点半或者三点 (下午: both pm), 2:30 or 3 pm (both pm)."""
    out: list[When] = []
    for i, w in enumerate(whens):
        nxt = whens[i + 1] if i + 1 < len(whens) else None
        if out and out[-1].kind == w.kind == "time" and _JOINED.fullmatch(text, out[-1].end, w.start):
            a = out[-1]
            if w.meridiem is None and w.twelve and a.meridiem:
                w = replace(w, meridiem=a.meridiem, twelve=False)
            elif a.meridiem is None and a.twelve and w.meridiem and w.hour is not None and (a.hour or 0) <= w.hour:
                out[-1] = replace(a, meridiem=w.meridiem, twelve=False)
        out.append(w)
        if w.kind == "date" and w.month is not None and w.day is not None:
            pattern = _EN_DAY_AFTER if text[w.start : w.start + 1].isalpha() else _DAY_AFTER
            m = pattern.match(text, w.end)
            day = _int(m.group("d")) if m else None
            if m and day and _valid(w.month, day) and (nxt is None or nxt.start >= m.end()) and day != w.day:
                out.append(When("date", m.start("d"), m.end(), year=w.year, month=w.month, day=day))
    return out
