"""Unit resolution for the ``number`` check: which declared spelling a figure is written in.

A check declares ``unit`` and ``units`` (spelling -> factor into ``unit``); :func:`spellings_of`
expands them (rates as 元/天, 元每天, 元一天, "$ per day"; 块 wherever 元). From those this module
reads the unit written after a figure (:func:`unit_after`), a sign before it (:func:`unit_before`:
¥1,200.50, USD 249), a rate's period around it (:func:`rate_around`: 每天200元, $50 per day), the
unit a question asks in (:func:`asked_factor`: 年假有几天？), and the units a text's layout gives a
bare figure (:func:`read_layout`: a markdown table header, a "(GBP):" label).
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass, field
from typing import Any

from harness.rubric.text import nfkc

_LEAD = " \t-个"  # "5 天", "30-day", "两个小时": skipped between a number and its unit
_IMPLIED = {("‰", "%"): 0.1, ("%", "‰"): 10.0}
"""(written, declared) -> factor: 5‰ is 0.5 %, 千分之五 (0.5 %) is 5‰."""
_NOT_A_UNIT = ("左右", "上下", "以内", "之内", "以上", "以下", "前后")
"""Words after a bare figure that qualify it and are no unit (人均两百左右)."""
_NOT_A_UNIT_EN = re.compile(
    r"(?:in\s+a\s+row|straight|consecutive(?:ly)?|running|at\s+(?:most|least|a\s+time|the\s+most)|max(?:imum)?"
    r"|tops|or\s+(?:so|more|fewer|less|under|over|above|below)|in\s+total|total|altogether)(?![a-z])",
    re.IGNORECASE,
)
"""English words after a bare figure that qualify it and are no unit ("no more than 3 in a row")."""
_PERIODS = (
    ("天", "日", "day", "daily", "per diem"),
    ("晚", "夜", "宿", "night", "nightly"),
    ("周", "星期", "礼拜", "week", "weekly"),
    ("月", "month", "monthly"),
    ("年", "year", "yearly", "annually", "per annum"),
    ("小时", "hour", "hourly"),
    ("人", "person", "head", "per capita"),
)
"""Ways to write one period of a rate: a noun (after 每 / per / a: 每晚, a night) or an adverb
(daily, nightly, per diem). A rate declared per 天 is also written per 日, per day or daily."""
_ADVERB = re.compile(r"ly$|^per ")
_RATE = re.compile(r"(.+?)\s*(?:/|每|(?<=[\u4e00-\u9fff])一|\s+per\s+|\s+an?\s+)\s*(.+)")
"""A rate's spelling: 元/天, 元每天, 元一天, $ per day, dollars a day -> (元, 天), ($, day)."""
_BEFORE_RATE = ("每", "一", "per", "each", "every")
"""每天200元, 一天100块, each day you get $50: the rate's period before the number."""
_AFTER_RATE = r"\s*(?:/\s*|per\s+|an?\s+|each\s+|every\s+|每|一)"
_MONEY = ("元", "块", "¥", "$", "usd", "rmb", "cny", "人民币", "美元", "dollar", "€", "eur")


@functools.lru_cache(maxsize=256)
def spellings_of(unit: str, units: tuple[tuple[str, float], ...]) -> dict[str, float]:
    out: dict[str, float] = {}
    for spelling, f in {unit: 1.0, **dict(units)}.items():
        sp = nfkc(spelling).casefold()
        for variant in (sp, sp.replace("元", "块")):
            out.setdefault(variant, f)
            if rate := _rate(variant):
                num, den = rate
                seps = ("/", "每", "一") if _cjk(den) else ("/", " per ", " a ", " an ")
                for sep in seps:
                    out.setdefault(f"{num}{sep}{den}", f)
    return dict(sorted(out.items(), key=lambda kv: len(kv[0]), reverse=True))


def _cjk(s: str) -> bool:
    return "\u4e00" <= s[:1] <= "\u9fff"


def _rate(spelling: str) -> tuple[str, str] | None:
    """(amount unit, period) of a rate spelling, None when it is no rate."""
    m = _RATE.fullmatch(spelling)
    return (m.group(1), m.group(2)) if m else None


def rate_around(
    before: str, after: str, spellings: dict[str, float], periods: frozenset[str] = frozenset()
) -> tuple[Unit, int] | None:
    """A rate whose amount unit is a sign or code before the number ($50 per day, USD 50 daily,
    each day you get $50, or "$50." when the question fixes the period: ``periods``): the unit and
    how many characters before the number the sign starts."""
    gap = len(before) - len(before.rstrip())
    stripped, clause = before.rstrip(), _clause(before)
    for sp, f in spellings.items():
        rate = _rate(sp)
        if rate is None:
            continue
        num, den = rate
        if not any(ch.isalnum() for ch in num) and stripped.endswith(num):
            sign = len(num)
        elif (code := re.search(r"(US\$|[$¥€£]|\b[A-Z]{3})$", stripped)) and _same_known(code.group(1), num):
            sign = len(code.group(1))
        else:
            continue
        if (taken := _period_after(after, den)) is not None:
            return Unit(f, taken), gap + sign
        if _period_before(clause, den) or (den in periods and _no_period(clause, after)):
            return Unit(f), gap + sign
    return None


def _forms(den: str) -> tuple[str, ...]:
    d = den.casefold()
    return next((g for g in _PERIODS if d in g or d.rstrip("s") in g), (d,))


def _period_after(after: str, den: str) -> int | None:
    """Characters of ``after`` that write the period ``den`` (/天, per day, a night, 每晚, daily)."""
    for form in _forms(den):
        lead = r"\s*" if _ADVERB.search(form) else _AFTER_RATE
        m = re.match(rf"{lead}{re.escape(form)}s?(?![a-z])", after, re.IGNORECASE)
        if m:
            return m.end()
    return None


def _period_before(clause: str, den: str) -> bool:
    return any(f"{s}{form}" in clause for s in _BEFORE_RATE for form in _forms(den))


def _no_period(clause: str, after: str) -> bool:
    """Neither the clause before a figure nor the text after it writes a period (每月, a month,
    per meal)."""
    if _ANY_PER.match(after):
        return False
    return not any(_period_after(after, g[0]) is not None or _period_before(clause, g[0]) for g in _PERIODS)


_ANY_PER = re.compile(r"\s*(?:/\s*|per\s+|an?\s+|each\s+|every\s+|每|一)[a-z\u4e00-\u9fff]", re.IGNORECASE)


def _same_known(written: str, spelling: str) -> bool:
    """Two spellings of one known unit (dollars and USD, $ and usd)."""
    a, b = known_spelling(written), known_spelling(spelling)
    return a is not None and a == b


def question_periods(question: str, spellings: dict[str, float]) -> frozenset[str]:
    """Periods of the check's rates that the question fixes (差旅补贴每天多少钱？, "per day",
    daily): a figure written with the amount unit alone ("100元。") is then that rate."""
    q = nfkc(question).casefold().replace(" ", "")
    out = set()
    for sp in spellings:
        rate = _rate(sp)
        if (rate and any(f in q for f in _forms(rate[1]) if _ADVERB.search(f) or not f.isascii())) or (
            rate and _period_before(q, rate[1])
        ):
            out.add(rate[1])
    return frozenset(out)


def _clause(before: str) -> str:
    """The clause a number stands in, up to it, casefolded without spaces: 每天补贴 of 每天补贴200元."""
    return re.split(r"[,.;:!?、，。；：！？\n]", before.casefold())[-1].replace(" ", "")


@dataclass(frozen=True)
class Unit:
    factor: float
    taken: int = 0
    """Characters after the number that the unit takes."""
    bare: bool = False
    """No unit is written: the figure stands alone (5。, 人均两百)."""
    offset: float = 0.0
    """Added after the factor: 50 °F is 50 × 5/9 − 160/9 ℃."""


def _word_ends(text: str, i: int) -> bool:
    """A Latin unit must end at a word boundary (m is not mm), allowing a plural s."""
    if i == 0 or not text[i - 1].isascii() or not text[i - 1].isalpha():
        return True
    rest = text[i:]
    if rest[:1] == "s":
        rest = rest[1:]
    return not (rest[:1].isascii() and rest[:1].isalpha())


def unit_after(
    after: str,
    before: str,
    spellings: dict[str, float],
    hint: str | None,
    target: Known | None = None,
    periods: frozenset[str] = frozenset(),
) -> Unit | None:
    """The unit written after a number (``after`` is the text right after it); a rate's 每Y may
    stand before it (``before``: 每天200元), its period after the amount unit in other words
    ("50 dollars a day", "100元/日") or, with the amount unit alone, in the question (``periods``);
    else a known unit converted into ``target`` (:func:`known_after`). None when another unit is written."""
    for head in (after.lstrip(), after.lstrip(_LEAD)):  # a unit may itself start with 个
        skipped = len(after) - len(head)
        head = (hint or "") + head.casefold()
        for sp, f in spellings.items():
            if head.startswith(sp) and _word_ends(head, len(sp)):
                plural = int(sp[-1:].isascii() and sp[-1:].isalpha() and head[len(sp) : len(sp) + 1] == "s")
                return Unit(f, skipped + len(sp) + plural - len(hint or ""))
            if (rate := _rate(sp)) and (taken := _rate_after(head, before, rate, periods)) is not None:
                return Unit(f, skipped + taken - len(hint or ""))
    head = (hint or "") + after.lstrip()
    for (written, declared), f in _IMPLIED.items():
        if head.startswith(written) and declared in spellings:
            return Unit(f * spellings[declared], len(after) - len(after.lstrip()) + len(written) - len(hint or ""))
    if not hint and (known := known_after(after, target)) is not None:
        return known
    low = after.lstrip(_LEAD)
    if not hint and (not (low[:1].isalpha() or low[:1] in ("%", "°")) or low.startswith(_NOT_A_UNIT)):
        return Unit(1.0, 0, bare=True)
    if not hint and _NOT_A_UNIT_EN.match(low):
        return Unit(1.0, 0, bare=True)
    for rate in filter(None, map(_rate, spellings)):  # "50 per diem": the period, no amount unit
        if (taken := _period_after(after, rate[1])) is not None and not hint:
            return Unit(1.0, taken, bare=True)
    return None


def _rate_after(head: str, before: str, rate: tuple[str, str], periods: frozenset[str]) -> int | None:
    """Characters of ``head`` (casefolded text after a number) that write the rate ``rate``'s amount
    unit and, when written there, its period; None when the rate is not what is written."""
    num, den = rate
    if head.startswith(num) and _word_ends(head, len(num)):
        taken = len(num)
    elif (m := _KNOWN_RE.match(head)) and _same_known(m.group(), num):
        taken = m.end()  # dollars for USD
    else:
        return None
    clause = _clause(before)
    if (more := _period_after(head[taken:], den)) is not None:
        return taken + more
    if _period_before(clause, den) or (den in periods and _no_period(clause, head[taken:])):
        return taken
    return None


def unit_before(before: str, spellings: dict[str, float]) -> tuple[float, int] | None:
    """Factor of a declared spelling written right before the number with no letter or digit
    in it (¥, $, €: ¥1,200.50), or an upper-case code (USD 249), and how many characters before
    the number it starts; None when there is none."""
    gap = len(before) - len(before.rstrip())
    before = before.rstrip()
    for sp, f in spellings.items():
        symbol = not any(ch.isalnum() for ch in sp) or (sp.isascii() and sp.isalpha())
        ahead = before[: -len(sp)][-1:]
        if symbol and before.casefold().endswith(sp) and not (ahead.isascii() and ahead.isalpha()):
            if sp.isalpha() and not before[-len(sp) :].isupper():
                continue  # a code is written in capitals: "USD 249", not "used 249"
            return f, gap + len(sp)
    return None


def asked_factor(question: str, spellings: dict[str, float]) -> float | None:
    """The factor of the unit the question asks in (年假有几天？ / 人均多少元？ / how many days / 多少钱),
    when it is a declared spelling; a bare figure in the answer then takes it."""
    q = nfkc(question).casefold()
    for sp, f in spellings.items():
        s = re.escape(sp)
        asked = (
            rf"(?:几|多少|多长|多久|多大|多高|多重|多远)\s*个?\s*{s}",
            rf"how\s+many\s+(?:[a-z-]+\s+){{0,3}}{s}s?(?![a-z])",
            rf"\b(?:in|number\s+of)\s+{s}s?(?![a-z])",
            rf"[(（]\s*{s}\s*[)）]|单位\s*[:：]\s*{s}",
        )
        if any(re.search(p, q) for p in asked):
            return f
    if "多少钱" in q or "how much" in q or (_MONEY_TOPIC.search(q) and _ASKS.search(q)):
        return next((f for sp, f in spellings.items() if _money(sp)), None)
    return None


_MONEY_TOPIC = re.compile(
    r"钱|费|价|报销|补贴|补助|津贴|工资|薪|金额|预算|额度|罚款|押金|奖金|allowance|reimburs|fee|price|cost|budget"
    r"|salary|wage|\bpay\b|charge|\bfine\b|deposit|per\s+diem|bonus|spend"
)
"""A question about money: asked with no unit ("每晚报销上限多少？"), a bare figure is in its currency."""
_ASKS = re.compile(r"多少|几|\bwhat\b|\bhow\s+(?:much|high|large|big)\b")


def _money(spelling: str) -> bool:
    """A spelling of money, or a rate of money (元/天, USD/day)."""
    num = rate[0] if (rate := _rate(spelling)) else spelling
    known = known_spelling(num)
    return num in _MONEY or (known is not None and known.name in _CURRENCIES)


_AMOUNT = re.compile(r"几|多少|多久|多长|多大|多高|多重|多远|\bhow\s+(?:many|much|long|often|far|big|high)\b", re.I)
_WHICH = re.compile(
    r"第几|哪|什么(?:编号|型号|标准|版本|条)|\bwhich\b|\bwhat\s+(?:number|model|standard|version|article|step)\b", re.I
)


def asks_amount(question: str) -> bool:
    """Whether ``question`` asks how many / how much (年假有几天？, how many steps?) rather than which one
    (第几条？, which standard?, 哪个型号？)."""
    return bool(_AMOUNT.search(question)) and not _WHICH.search(question)


@dataclass
class Layout:
    """Where a bare figure takes a unit written elsewhere: table cells under a header that names
    it ("| 天数（天） |", "| Hotel limit (GBP/night) |", "| Days |") and text after a label that
    does ("Hotel limit (GBP): London 180"); and each table row's label (its first cell)."""

    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    factors: list[float] = field(default_factory=list)
    rows: list[tuple[int, int, str]] = field(default_factory=list)
    labels: frozenset[str] = frozenset()
    """Words the question writes right before a figure (Line 3, Room 5): before a bare figure of
    the answer they make it a label, not an amount."""
    qualifiers: frozenset[str] = frozenset()
    """Words the question writes before a unit ("overtime hours"): between a figure and its unit
    they do not make it another unit ("5 overtime hours" is 5 hours)."""
    periods: frozenset[str] = frozenset()
    """Periods of the check's rates the question fixes (:func:`question_periods`)."""
    amount_asked: bool = False
    """The question asks an amount (几/多少/how many...), not which one (第几/哪/which): then even a
    check without a unit takes no date, clock time, ordinal or identifier as the answer (5S is no
    5 steps, ISO 9001 no 9001 of anything)."""

    def factor(self, head: int, end: int) -> float | None:
        k = bisect.bisect_right(self.starts, head) - 1
        return self.factors[k] if k >= 0 and end <= self.ends[k] else None

    def other_rows(self, question: str) -> list[tuple[int, int]]:
        """Rows about another case: when the question names some rows' labels (London), the rest."""
        q = question.casefold()
        named = [len(label) >= 2 and label in q for _, _, label in self.rows]
        return [(a, b) for (a, b, _), n in zip(self.rows, named, strict=True) if not n] if any(named) else []


def read_layout(text: str, spellings: dict[str, float]) -> Layout:
    regions: list[tuple[int, int, float]] = []
    out = Layout()
    for sp, f in spellings.items():
        label = rf"[(（]\s*(?:单位\s*[:：]\s*)?{re.escape(sp)}(?:\s*/[^)）\n]{{0,16}})?\s*[)）]\s*[:：]"
        for m in re.finditer(label, text, re.IGNORECASE):
            stop = re.compile(r"[。；;\n]|\.(?=\s|$)").search(text, m.end())
            regions.append((m.end(), stop.start() if stop else len(text), f))
    if "|" in text:
        columns: dict[int, float] = {}
        previous: list[tuple[int, int]] = []
        pos = 0
        for line in text.splitlines(keepends=True):
            row = line.strip().startswith("|")
            spans = [(pos + m.start(1), pos + m.end(1)) for m in re.finditer(r"\|([^|\n]*)(?=\|)", line)] if row else []
            if row and re.fullmatch(r"\s*\|?[\s:|-]*-{2,}[\s:|-]*\n?", line) and previous:
                heads = [_header_unit(text[a:b], spellings) for a, b in previous]
                columns = {i: unit for i, unit in enumerate(heads) if unit is not None}
            elif row and previous:
                regions += [(a, b, columns[i]) for i, (a, b) in enumerate(spans) if i in columns]
                label = text[spans[0][0] : spans[0][1]].strip(" *").casefold() if spans else ""
                out.rows.append((pos, pos + len(line), label))
            elif not row:
                columns = {}
            previous = spans
            pos += len(line)
    for a, b, f in sorted(regions):
        out.starts.append(a)
        out.ends.append(b)
        out.factors.append(f)
    return out


def _header_unit(cell: str, spellings: dict[str, float]) -> float | None:
    c = cell.strip().strip("*").strip().casefold()
    for sp, f in spellings.items():
        s = re.escape(sp)
        if re.search(rf"[(（\[]\s*{s}\s*(?:/[^)）\]]*)?[)）\]]|单位\s*[:：]\s*{s}|/\s*{s}$|^{s}s?$|^{s}数$", c):
            return f
    return None


def qualifiers(question: str, spellings: dict[str, float]) -> frozenset[str]:
    """Words that may stand between a figure and its unit without making it another unit: the
    question's own words ("5 failed attempts" to "how many failed login attempts") and words that
    qualify a count ("three consecutive night shifts"); never a known unit (12 hours is no count
    of shifts)."""
    words = set(re.findall(r"[a-z][a-z-]{2,}", question.casefold())) | _MODIFIERS
    words -= _STOP | set(spellings)
    return frozenset(w for w in words if known_spelling(w) is None)


_MODIFIERS = frozenset(
    [
        "consecutive",
        "successive",
        "straight",
        "back-to-back",
        "failed",
        "unsuccessful",
        "wrong",
        "incorrect",
        "invalid",
        "bad",
        "additional",
        "extra",
        "more",
        "further",
        "full",
        "whole",
        "entire",
        "total",
        "separate",
        "individual",
        "allowed",
        "permitted",
    ]
)
_STOP = frozenset(
    [
        "how",
        "many",
        "much",
        "the",
        "and",
        "for",
        "with",
        "from",
        "that",
        "this",
        "what",
        "which",
        "who",
        "whom",
        "when",
        "where",
        "why",
        "are",
        "was",
        "were",
        "can",
        "could",
        "does",
        "did",
        "has",
        "have",
        "had",
        "will",
        "would",
        "should",
        "may",
        "might",
        "must",
        "per",
        "into",
        "onto",
        "than",
        "then",
        "there",
        "their",
        "they",
        "them",
    ]
)


# --- known units: converted by pint between units of one dimension -------------------------------
# Only these spellings reach pint, as the pint names they map to: pint's own parser reads "5S" as
# siemens, "8 D" as debye and "5 pm" as picometres. (pint name, scale): 1 spelling = scale × name.
# Calendar units (month, year) and working days are not fixed amounts of days: not in one table.
_KNOWN_ZH: dict[str, str | tuple[str, float]] = {
    "毫秒": "millisecond", "秒钟": "second", "秒": "second", "分钟": "minute", "分": "minute", "小时": "hour",
    "钟头": "hour", "天": "day", "日": "day", "周": "week", "星期": "week", "礼拜": "week", "个月": "month",
    "月": "month", "年": "year", "毫克": "milligram", "克": "gram", "千克": "kilogram", "公斤": "kilogram",
    "斤": ("kilogram", 0.5), "市斤": ("kilogram", 0.5), "吨": "metric_ton", "微米": "micrometer",
    "毫米": "millimeter", "厘米": "centimeter", "米": "meter", "千米": "kilometer", "公里": "kilometer",
    "英寸": "inch", "英尺": "foot", "英里": "mile", "平方米": "meter**2", "亩": ("meter**2", 2000 / 3),
    "公顷": "hectare", "毫升": "milliliter", "升": "liter", "摄氏度": "degC", "度": "degC", "华氏度": "degF",
    "帕": "pascal", "千帕": "kilopascal", "兆帕": "megapascal", "瓦": "watt", "千瓦": "kilowatt",
    "千瓦时": "kilowatt_hour", "公里/小时": "kilometer/hour", "公里每小时": "kilometer/hour",
    "元": "CNY", "块钱": "CNY", "块": "CNY", "人民币": "CNY", "角": ("CNY", 0.1), "毛": ("CNY", 0.1),
    "千元": ("CNY", 1e3), "万元": ("CNY", 1e4), "万块": ("CNY", 1e4), "亿元": ("CNY", 1e8),
    "美元": "USD", "美金": "USD", "美分": ("USD", 0.01), "欧元": "EUR", "英镑": "GBP", "日元": "JPY",
}  # fmt: skip
_KNOWN_WORDS: dict[str, str | tuple[str, float]] = {
    "millisecond": "millisecond", "second": "second", "sec": "second", "minute": "minute", "min": "minute",
    "hour": "hour", "hr": "hour", "day": "day", "week": "week", "wk": "week", "fortnight": "fortnight",
    "month": "month", "year": "year", "yr": "year", "gram": "gram", "kilogram": "kilogram", "kilo": "kilogram",
    "tonne": "metric_ton", "pound": "pound", "lb": "pound", "ounce": "ounce", "millimeter": "millimeter",
    "millimetre": "millimeter", "centimeter": "centimeter", "centimetre": "centimeter", "meter": "meter",
    "metre": "meter", "kilometer": "kilometer", "kilometre": "kilometer", "inch": "inch", "inches": "inch",
    "foot": "foot", "feet": "foot", "mile": "mile", "hectare": "hectare", "liter": "liter", "litre": "liter",
    "milliliter": "milliliter", "millilitre": "milliliter", "celsius": "degC", "degrees celsius": "degC",
    "degree celsius": "degC", "fahrenheit": "degF", "degrees fahrenheit": "degF", "kelvin": "kelvin",
    "pascal": "pascal", "bar": "bar", "psi": "psi", "watt": "watt", "kilowatt": "kilowatt", "kwh": "kilowatt_hour",
    "mph": "mile/hour", "kph": "kilometer/hour", "percent": "percent", "per cent": "percent",
    "yuan": "CNY", "rmb": "CNY", "cny": "CNY", "dollar": "USD", "usd": "USD", "cent": ("USD", 0.01),
    "euro": "EUR", "eur": "EUR", "gbp": "GBP", "yen": "JPY", "jpy": "JPY",
}  # fmt: skip
"""English words, any case, with a plural s."""
_KNOWN_SYMBOLS: dict[str, str | tuple[str, float]] = {
    "ms": "millisecond", "s": "second", "h": "hour", "mg": "milligram", "g": "gram", "kg": "kilogram",
    "t": "metric_ton", "μm": "micrometer", "mm": "millimeter", "cm": "centimeter", "m": "meter",
    "km": "kilometer", "ft": "foot", "m2": "meter**2", "mL": "milliliter", "ml": "milliliter", "L": "liter",
    "°C": "degC", "°F": "degF", "Pa": "pascal", "kPa": "kilopascal", "MPa": "megapascal", "W": "watt",
    "kW": "kilowatt", "kWh": "kilowatt_hour", "km/h": "kilometer/hour", "m/s": "meter/second",
    "%": "percent", "‰": "permille",
}  # fmt: skip
"""Symbols, as written (S is siemens, not s; no plural)."""
_SIGNS = {"US$": "USD", "$": "USD", "¥": "CNY", "€": "EUR", "£": "GBP"}
"""Currency signs before a figure. Money is a dimension per currency: never converted across."""
_CALENDAR = ("month", "year")
_CURRENCIES = ("CNY", "USD", "EUR", "GBP", "JPY")


@dataclass(frozen=True)
class Known:
    """A unit pint knows: ``1 spelling = scale × name`` (name in pint's registry)."""

    name: str
    scale: float = 1.0


def _known(entry: str | tuple[str, float]) -> Known:
    return Known(entry) if isinstance(entry, str) else Known(*entry)


_KNOWN_RE = re.compile(
    "|".join(
        [re.escape(s) for s in sorted(_KNOWN_ZH, key=len, reverse=True)]
        + [rf"(?i:{re.escape(w)}s?)(?![A-Za-z])" for w in sorted(_KNOWN_WORDS, key=len, reverse=True)]
        + [rf"{re.escape(s)}(?![A-Za-z])" for s in sorted(_KNOWN_SYMBOLS, key=len, reverse=True)]
        + [r"in(?=\s*(?:$|[^\sA-Za-z]|(?:tall|long|wide|high|deep|thick)\b))"]  # 5 ft 10 in; not "5 in a row"
    )
)


def known_spelling(spelling: str) -> Known | None:
    """The known unit a whole spelling names (小时, hours, kPa, ¥), None when it is no known unit."""
    sp = nfkc(spelling).strip()
    low = sp.casefold()
    if sp == "in":
        return Known("inch")
    entry = _KNOWN_ZH.get(sp) or _KNOWN_SYMBOLS.get(sp) or _SIGNS.get(sp) or _KNOWN_WORDS.get(low)
    entry = entry or (_KNOWN_WORDS.get(low[:-1]) if low.endswith("s") else None)
    return _known(entry) if entry else None


@functools.lru_cache(maxsize=256)
def target_of(unit: str, units: tuple[tuple[str, float], ...]) -> Known | None:
    """The check's ``unit`` as a known unit: itself, or through a declared spelling that is one
    (``unit: 工时, units: {小时: 1}`` is hours); None when pint cannot know it (次, 倍, 人)."""
    if (own := known_spelling(unit)) is not None:
        return own
    for spelling, f in units:
        if (k := known_spelling(spelling)) is not None:
            return Known(k.name, k.scale / f)
    return None


@functools.lru_cache(maxsize=1)
def _registry() -> Any:
    import pint  # imported on first use: `import harness.rubric` stays fast

    reg: Any = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
    for code in ("CNY", "USD", "EUR", "GBP", "JPY"):
        reg.define(f"{code} = [currency_{code.lower()}]")
    return reg


@functools.lru_cache(maxsize=1024)
def convert(written: Known, target: Known) -> tuple[float, float] | None:
    """(factor, offset): ``x`` of ``written`` is ``x * factor + offset`` of ``target``; None when
    the two differ in dimension, or only one is a calendar unit (a month is no fixed number of days)."""
    import pint

    if (written.name in _CALENDAR) != (target.name in _CALENDAR):
        return None
    reg = _registry()
    try:
        zero = reg.Quantity(0.0, written.name).to(target.name).magnitude
        one = reg.Quantity(written.scale, written.name).to(target.name).magnitude
    except pint.DimensionalityError:
        return None
    return (float(one) - float(zero)) / target.scale, float(zero) / target.scale


def known_after(after: str, target: Known | None) -> Unit | None:
    """A known unit written right after a number (``after``), converted into ``target``; None when
    none is written or it is of another dimension."""
    if target is None:
        return None
    head = after.lstrip(_LEAD)
    m = _KNOWN_RE.match(head)
    written = known_spelling(m.group()) if m else None
    conv = convert(written, target) if written and m else None
    return Unit(conv[0], len(after) - len(head) + m.end(), offset=conv[1]) if conv and m else None


def sign_before(before: str, target: Known | None) -> tuple[float, int] | None:
    """A currency sign right before a number (¥, $, €, £) when the check is in that currency."""
    stripped = before.rstrip()
    for sign, code in _SIGNS.items() if target else ():
        if stripped.endswith(sign) and target is not None and target.name == code:
            return 1.0 / target.scale, len(before) - len(stripped) + len(sign)
    return None
