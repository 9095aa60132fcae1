"""Unit resolution for the ``number`` check: which declared spelling a figure is written in.

A check declares ``unit`` and ``units`` (spelling -> factor into ``unit``); :func:`spellings_of`
expands them (rates as 元/天, 元每天, 元一天, "$ per day"; 块 wherever 元). From those this module
reads the unit written after a figure (:func:`unit_after`), a sign before it (:func:`unit_before`:
¥1,200.50, USD 249), a rate's period around it (:func:`rate_around`: 每天200元, $50 per day), the
unit a question asks in (:func:`asked_factor`: 年假有几天？), and the units a text's layout gives a
bare figure (:func:`harness.rubric.layout.read_layout`: a markdown table header, a "(GBP):" label).
"""

from __future__ import annotations

import functools
import re

from harness.rubric.known_units import CURRENCIES, KNOWN_RE, LEAD, Known, Unit, known_after, known_spelling
from harness.rubric.text import nfkc

_IMPLIED = {("‰", "%"): 0.1, ("%", "‰"): 10.0}
"""(written, declared) -> factor: 5‰ is 0.5 %, 千分之五 (0.5 %) is 5‰."""
_NOT_A_UNIT = ("左右", "上下", "以内", "之内", "以上", "以下", "前后")
"""Words after a bare figure that qualify it and are no unit (人均两百左右)."""
_NOT_A_UNIT_EN = re.compile(
    r"(?:in\s+a\s+row|straight|consecutive(?:ly)?|running(?!\s+[a-z])|at\s+(?:most|least|a\s+time|the\s+most)|max(?:imum)?"
    r"|tops|or\s+(?:so|more|fewer|less|under|over|above|below|older|younger)|in\s+total|total|altogether)(?![a-z])",
    re.IGNORECASE,
)
"""English words after a bare figure that qualify it and are no unit ("no more than 3 in a row", "3 running"; in
"3000 running hours" running says which hours)."""
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
    for head in (after.lstrip(), after.lstrip(LEAD)):  # a unit may itself start with 个
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
    low = after.lstrip(LEAD)
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
    elif (m := KNOWN_RE.match(head)) and _same_known(m.group(), num):
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
        if m := re.search(rf"(?:几|多少)\s*([万亿])\s*{s}", q):
            return f * _MAGNITUDE[m.group(1)]  # 多少万元 with 元 declared: a bare 60 is 600000 元
    if _AGE.search(q):
        return next((f for sp, f in spellings.items() if sp in _YEARS_OLD or _is_year(sp)), None)
    if "多少钱" in q or "how much" in q or (_MONEY_TOPIC.search(q) and _ASKS.search(q)):
        return money_factor(spellings)
    return None


_MAGNITUDE = {"万": 1e4, "亿": 1e8}
"""A numeral's magnitude written as its last character (5万, 六十万, 3亿)."""
_AGE = re.compile(r"\bage\b|\bhow\s+old\b|年龄|年纪|几岁|多少岁|多大(?=可以|才|能|就)")
"""A question that asks an age: a bare figure ("18+", "16。") is in years."""
_YEARS_OLD = ("岁", "周岁", "虚岁", "years old", "year old")


def _is_year(spelling: str) -> bool:
    known = known_spelling(spelling)
    return known is not None and known.name == "year"


def magnitude(text: str, end: int) -> float:
    """The magnitude a numeral ending at ``end`` writes as its last character (万 of 六十万), else 1."""
    return _MAGNITUDE.get(text[end - 1 : end], 1.0) if end else 1.0


def asked_magnitude(question: str) -> float:
    """The magnitude the question asks in (多少万元 -> 10000), else 1."""
    m = re.search(r"(?:几|多少)\s*([万亿])", nfkc(question))
    return _MAGNITUDE[m.group(1)] if m else 1.0


def money_factor(spellings: dict[str, float]) -> float | None:
    """The factor of the check's money spelling (元, USD, 元/天), None when the check is no money."""
    return next((f for sp, f in spellings.items() if _money(sp)), None)


_MONEY_TOPIC = re.compile(
    r"钱|费|价|报销|补贴|补助|津贴|工资|薪|金额|预算|额度|限额|罚款|押金|奖金|allowance|reimburs|fee|price|cost|budget"
    r"|salary|wage|\bpay\b|charge|\bfine\b|deposit|per\s+diem|bonus|spend"
)
"""A question about money: asked with no unit ("每晚报销上限多少？"), a bare figure is in its currency."""
_ASKS = re.compile(r"多少|几|\bwhat\b|\bhow\s+(?:much|high|large|big)\b")


def _money(spelling: str) -> bool:
    """A spelling of money, or a rate of money (元/天, USD/day)."""
    num = rate[0] if (rate := _rate(spelling)) else spelling
    known = known_spelling(num)
    return num in _MONEY or (known is not None and known.name in CURRENCIES)


_AMOUNT = re.compile(r"几|多少|多久|多长|多大|多高|多重|多远|\bhow\s+(?:many|much|long|often|far|big|high)\b", re.I)
_WHICH = re.compile(
    r"第几|哪|什么(?:编号|型号|标准|版本|条)|\bwhich\b|\bwhat\s+(?:number|model|standard|version|article|step)\b", re.I
)


def asks_amount(question: str) -> bool:
    """Whether ``question`` asks how many / how much (年假有几天？, how many steps?) rather than which one
    (第几条？, which standard?, 哪个型号？)."""
    return bool(_AMOUNT.search(question)) and not _WHICH.search(question)


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
        "consecutive", "successive", "straight", "back-to-back", "failed", "unsuccessful", "wrong", "incorrect",
        "invalid", "bad", "additional", "extra", "more", "further", "full", "whole", "entire", "total", "separate",
        "individual", "allowed", "permitted"
    ]
)  # fmt: skip
_STOP = frozenset(
    [
        "how", "many", "much", "the", "and", "for", "with", "from", "that", "this", "what", "which", "who", "whom",
        "when", "where", "why", "are", "was", "were", "can", "could", "does", "did", "has", "have", "had", "will",
        "would", "should", "may", "might", "must", "per", "into", "onto", "than", "then", "there", "their", "they",
        "them"
    ]
)  # fmt: skip
