r"""Numbers in answers (pure): Arabic, full-width, Chinese and English numerals, with what follows.

Understood (the run of numeral characters itself is read by :mod:`harness.rubric.zh_numerals`):

- ``5``, ``５``, ``2,000``, ``1.5``, ``1.5万`` (15000), ``3千元``, ``1万2千`` (12000), ``五``,
  ``一百二十``, ``一千零十``, ``十万``, ``三万亿`` (3e12), ``二〇二四``, financial numerals (``伍佰``),
  traditional forms (``兩萬``, ``負十``, ``一萬五千``), ``廿二`` (22), ``幺八九`` (189);
- signs: ``-3`` / ``−3`` / ``负3`` / ``零下3`` / ``负百分之五`` (-5 %), not ``IM-280`` or ``正负5`` (±5);
- fractions and shares: ``百分之五`` (5 with unit %), ``千分之五`` (0.5 %), ``5‰``, ``二分之一`` (0.5);
- halves: ``一个半小时`` (1.5), ``半小时`` / ``半个月`` / ``半天`` (0.5 before the unit);
- approximate pairs are ranges: ``两三天`` is 2–3 days (never 23), ``三四十`` 30–40;
- ranges and tolerances with the unit written once: ``3到5秒``, ``3-5 s``, ``220±5℃`` (the
  first number takes the unit written after the second: :attr:`Found.unit_at`);
- money in 元角分: ``壹拾壹元壹角壹分`` (11.11);
- English number words: ``five business days``, ``twenty-four hours``, ``half an hour``.

What a figure is (:attr:`Found.kind`; the value is read all the same): a ``date`` (2024年3月5日,
2024-03-05, March 5, 2024), a clock ``time`` (8点05分, 2:30 pm), an ``ordinal`` (第5个, 5th, No. 5),
an ``id`` (ISO 9001, X200, IM-280, 5S, phone numbers), else a ``quantity``; dates and times are
found by :mod:`harness.rubric.datetimes`. Markdown and LaTeX around a figure are read through
(**5**天, $\boxed{60}$ 元: :func:`scan_text`); ``–5`` (en dash) is negative; the pieces of
1小时30分钟 share :attr:`Found.compound`; ``an hour and a half`` is 1.5 (hour).

Not numbers: words made of numeral characters (十分重要, 陆续, 大陆, 收拾, 万一, 千万不要, 一些,
统一, 两岸, 半岛); a full-width comma is a clause mark, not a thousands separator
(``270，280`` is two numbers); ``千`` before 克/米/瓦/帕... is the unit prefix (``3千克`` is 3 kg).
Each number comes with its position, so a check can read the unit after it and the words before it.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_right
from dataclasses import dataclass, replace

from harness.rubric.datetimes import When, find_when
from harness.rubric.text import nfkc
from harness.rubric.zh_numerals import VARIANTS, ZH_BIG, ZH_CHARS, ZH_DIGITS, ZH_SMALL, parse_run

__all__ = ["KINDS", "ZH_BIG", "ZH_DIGITS", "ZH_SMALL", "Found", "find_numbers", "prepare", "scan_text"]

# 千克 (kg), 千米 (km), 千瓦 (kW), 千帕 (kPa): the 千 belongs to the unit, not the number
_KILO_UNITS = "克米瓦帕伏焦卡"
_ZH_DIGIT_CHARS = "".join(ZH_DIGITS)
_CJK = "\u4e00-\u9fff"

# one way to match each character, and possessive: a run of 80,000 digits is read in linear time
_RUN = rf"[\d{ZH_CHARS}](?:[\d{ZH_CHARS}]|(?<=\d)[,.](?=\d)|点(?=[\d{_ZH_DIGIT_CHARS}]))*+"
MAX_RUN_CHARS = 40
"""A longer string of numeral characters (a runaway 一一一...) states no quantity; it is not read."""
_POINT_WORDS = "重要地特优缺观焦亮热节盲终起景站网据论卖看早晚有一"
"""重点, 要点, 地点, 缺点...: 点 ends a word there; elsewhere 点五毫米 is 0.5 mm (间隙点五毫米)."""
_BARE_POINT = rf"(?<![{ZH_CHARS}\d{_POINT_WORDS}])点[{_ZH_DIGIT_CHARS}]+(?![{ZH_CHARS}个项条种家位名次])"
_MINUS = r"(?<![A-Za-z\d.+/])(?<!\d\s)[-−–]|(?<!正)负|零下"  # −3 (U+2212), –3 (en dash), 负3; not IM-280, 3 - 5, 3–5
_HALF_AFTER_UNIT = re.compile(r"个?(?:年|天|周|斤|岁|小时|钟头|星期|公斤)半(?![价数径岛导成自途场夜个年月天日])")
"""一年半, 两天半, 一个小时半: x.5 of the unit between (not 三天半价)."""
_HALF_UNITS = "个|小时|钟头|天|日|年|月|周|星期|斤|公斤|千克|分钟|秒|杯|米|公里|升|吨|圈"
_TOKEN = re.compile(
    rf"(?=[-−–负零点半\d{ZH_CHARS}])(?:(?P<fneg>{_MINUS})?(?P<den>[百千万]|{_RUN})分之(?P<ineg>负)?(?P<num>{_RUN})"
    rf"|(?P<neg>{_MINUS})?(?<![\d.])(?P<run>{_RUN})"
    rf"|(?<![{ZH_CHARS}个])(?P<half>半)(?=(?:{_HALF_UNITS}))"
    rf"|(?P<point>{_BARE_POINT}))"
)
_SHARE = {"百": (1.0, "%"), "千": (0.1, "%"), "万": (0.01, "%")}
"""X分之Y with X = 百/千/万: Y percent, Y per mille (0.1 %), Y per ten thousand (0.01 %)."""

_NOT_NUMERALS = re.compile(
    rf"(?<![{ZH_CHARS}\d])(?:十分(?![钟之])(?=[{_CJK}])|十足|万一|万万|一一(?![{ZH_CHARS}点])(?=[{_CJK}]))"
    r"|陆续|大陆|陆地|登陆|着陆|陆军|内陆|水陆|海陆|陆路|陆运|陆上|收拾|拾起|拾取|拾到|拾金|两岸|半岛|半导体"
    r"|一些|一下|一般|一定|一旦|一起|一直|一致|一样|一切|一律|一共|一同|一并|一再|一边|一面|一点(?![\d零〇一二三四五六七八九])"
    r"|统一|唯一|同一|逐一|单一|(?<!分)之一|如一|划一|专一"
    r"|乱七八糟|七上八下|三番五次|一五一十|一模一样|一心一意|十全十美|四面八方|三心二意|独一无二|万无一失"
    r"|千方百计|千辛万苦|一清二楚|五花八门|九死一生|一举两得|三言两语|半途而废|一干二净|接二连三"
)
"""Words made of numeral characters that are not numbers (十分钟 and 五十分 are)."""

_EN_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen"
_EN_SMALL = {w: i for i, w in enumerate([*_EN_ONES.split(), "seventeen", "eighteen", "nineteen"])}
_EN_TENS = {
    w: 10 * (i + 2)
    for i, w in enumerate(["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"])
}
_EN_SCALE = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_EN_WORD = "|".join(sorted([*_EN_SMALL, *_EN_TENS, *_EN_SCALE], key=len, reverse=True))
_EN_NUMBER = re.compile(
    rf"(?i)(?=[zotfsenhmb])\b(?P<words>(?:{_EN_WORD})(?:(?:\s+and\s+|[\s-]+)(?:{_EN_WORD}))*)\b(?P<andhalf>\s+and\s+a\s+half\b)?"
    r"|\b(?P<half>half)\s+an?\s+(?=[a-z])"
)
_EN_PRONOUN_BEFORE = re.compile(r"(?i)\b(?:the|no|any|each|every|some|this|that|which|another)\s+$")
""""the one you bought", "no one": the word one is a pronoun there."""


@dataclass(frozen=True)
class Found:
    value: float
    start: int
    """Index of the number in ``nfkc(answer)``."""
    end: int
    unit_hint: str | None = None
    """A unit implied by the wording (``百分之五`` -> ``%``)."""
    unit_at: int | None = None
    """Where the number's unit is written when not right after it: in 3到5秒 the 3 takes 秒."""
    range: tuple[float, float] | None = None
    """The range this number is an end of (两三天, 3到5秒)."""
    lead: int | None = None
    """Start of the whole expression (the 3 of 3到5秒, the ** of **5**天): a negation is read before it."""
    kind: str = "quantity"
    """What the figure is (:data:`KINDS`): only a ``quantity`` states an amount; the 3 and 5 of
    2024年3月5日 are a ``date``, the 5 of 8点05分 a ``time``, the 5 of 第5个工作日 an ``ordinal``,
    the 9001 of ISO 9001 an ``id``."""
    compound: int | None = None
    """The ``start`` of the first piece when this number is one piece of a compound quantity, the
    same on every piece: 1小时30分钟, 1h30min, 1 hour 30 minutes, 1年3个月 (a larger unit of time,
    then a smaller one); None for a number that stands alone."""

    @property
    def unit_pos(self) -> int:
        return self.end if self.unit_at is None else self.unit_at

    @property
    def head(self) -> int:
        return self.start if self.lead is None else self.lead


KINDS = ("quantity", "date", "time", "ordinal", "id")
"""The kinds of :attr:`Found.kind`; a check that compares amounts reads ``quantity`` only."""


def prepare(answer: str) -> str:
    """The answer as numbers are read from it; one character for each of ``nfkc(answer)``."""
    # "，" -> "、" keeps every index (both stay one character under NFKC) but not the comma
    return nfkc(answer.replace("，", "、")).translate(VARIANTS)


def _masked(text: str) -> str:
    return _NOT_NUMERALS.sub(lambda m: "□" * len(m.group(0)), text)


def _zh_value(run: str) -> float | None:
    pieces = parse_run(run)
    return pieces[0].value if len(pieces) == 1 and pieces[0].high is None else None


def _share(m: re.Match[str]) -> Found | None:
    den, num = m.group("den"), _zh_value(m.group("num"))
    if num is None:
        return None
    if m.group("ineg"):
        num = -num
    if m.group("fneg"):
        num = -num
    start, end = m.span()
    if den in _SHARE:
        factor, hint = _SHARE[den]
        return Found(num * factor, start, end, hint)
    whole = _zh_value(den)
    return Found(num / whole, start, end) if whole else None


def _runs(text: str, m: re.Match[str]) -> list[Found]:
    run, start = m.group("run"), m.start("run")
    end = start + len(run)
    if run[-1] in "千仟" and text[end : end + 1] and text[end] in _KILO_UNITS and len(run) > 1:
        run, end = run[:-1], end - 1
    if run[0] in "百佰千仟万亿" or len(run) > MAX_RUN_CHARS:
        return []  # 千万 (be sure to), 百分比: words; a numeral starts with a digit or 十
    sign = -1.0 if m.group("neg") else 1.0
    lead = m.start()
    out: list[Found] = []
    for i, p in enumerate(parse_run(run)):
        s = sign if i == 0 else 1.0
        a, b = start + p.start, start + p.end
        if p.high is None:
            out.append(_half(text, Found(s * p.value, lead if i == 0 else a, b)))
        else:
            rng = (s * p.value, s * p.high)
            out += [Found(s * p.value, a, b, range=rng, lead=lead), Found(s * p.high, a, b, range=rng, lead=lead)]
    return out


def _half(text: str, f: Found) -> Found:
    """一个半小时 / 2个半月: the number is x.5 and the unit follows 个半; 一年半 / 两天半 / 一个小时半:
    x.5 of the unit between (the unit stays right after the number)."""
    if text.startswith("个半", f.end):
        return replace(f, value=f.value + 0.5, end=f.end + 2)
    if _HALF_AFTER_UNIT.match(text, f.end):
        return replace(f, value=f.value + 0.5)
    return f


def _english(text: str) -> list[Found]:
    out = []
    for m in _EN_NUMBER.finditer(text):
        if m.group("half"):
            out.append(Found(0.5, m.start(), m.end()))
            continue
        words = re.split(r"(?:\s+and\s+|[\s-]+)", m.group("words").casefold())
        if words == ["one"] and (_EN_PRONOUN_BEFORE.search(text[max(0, m.start() - 12) : m.start()])
                                 or re.match(r"\s+(?:of|another|by)\b", text[m.end() :])):  # fmt: skip
            continue
        total = current = 0.0
        for w in words:
            if w in _EN_SMALL or w in _EN_TENS:
                current += _EN_SMALL.get(w, 0) + _EN_TENS.get(w, 0)
            elif w == "hundred":
                current = (current or 1) * 100
            else:
                total, current = total + (current or 1) * _EN_SCALE[w], 0.0
        value = total + current + (0.5 if m.group("andhalf") else 0)
        out.append(Found(value, m.start(), m.end()))
    return out


_RANGE_SEP = re.compile(r"\s*(?:到|至|~|-|–|—|to|through)\s*", re.IGNORECASE)
_PLUS_MINUS = re.compile(r"\s*(?:±|\+/-|\+-|正负)\s*")
_MONEY = re.compile(r"[元圆块]")


def _link(text: str, found: list[Found]) -> list[Found]:
    """3到5秒, 3-5 s: the first takes the unit written after the second, and both are a range;
    220±5℃: the 220 takes the ℃. Money in 元角分 is one amount."""
    out = list(found)
    for i in range(len(out) - 1):
        a, b = out[i], out[i + 1]
        between = text[a.end : b.start]
        if a.kind != "quantity" or b.kind != "quantity":
            continue  # 2024-03-05 is no range from 3 to 5
        if a.range is None and b.range is None and _RANGE_SEP.fullmatch(between) and a.value < b.value:
            rng = (a.value, b.value)
            out[i] = replace(a, unit_at=b.unit_pos, range=rng)
            out[i + 1] = replace(b, range=rng, lead=a.head)
        elif _PLUS_MINUS.fullmatch(between) and a.range is None:
            out[i] = replace(a, unit_at=b.unit_pos)
    return _money(text, out)


def _money(text: str, found: list[Found]) -> list[Found]:
    """壹拾壹元壹角壹分 = 11.11 元 (the 元 stays after the amount)."""
    out: list[Found] = []
    i = 0
    while i < len(found):
        f = found[i]
        if _MONEY.fullmatch(text[f.end : f.end + 1] or "x") and i + 1 < len(found):
            jiao = found[i + 1]
            if jiao.start == f.end + 1 and text[jiao.end : jiao.end + 1] in ("角", "毛"):
                value, i = f.value + jiao.value / 10, i + 2
                if i < len(found) and found[i].start == jiao.end + 1 and text[found[i].end : found[i].end + 1] == "分":
                    value, i = value + found[i].value / 100, i + 1
                out.append(replace(f, value=round(value, 2)))
                continue
        out.append(f)
        i += 1
    return out


BLANK = "\u2002"
"""What markup becomes in :func:`scan_text` (an en space: white space to every pattern, and told
apart from the answer's own spaces, which NFKC has made plain)."""
_MARKUP = re.compile(
    r"(?=[*_`<\\$}])(?:\*{1,3}|_{2,3}|`{1,3}|</?(?:b|strong|em|i|u|code|mark|span)(?:\s[^<>\n]{0,40})?>"
    r"|\\(?:boxed|text|textbf|textit|textrm|mathrm|mathbf|mathit|mbox|fbox|underline|emph|operatorname|bm)\s{0,2}\{"
    r"|\\[()\[\],;:! ]|\\(?=[%$])|\}"
    r"|\$\$)"
)
r"""Markdown and LaTeX around a figure: **5**, `5`, <b>5</b>, $$5$$, \boxed{60}, \text{天}, \(5\), 5\%."""
_MATH = re.compile(r"(?=\$)(?<![\\$\w])\$(?=[^\s$])([^$\n]{0,80}?)(?<=[^\s$\\])\$(?![\d$])")
"""$5$: a ``$`` is math only the way pandoc reads it, an opening one with no space after it, a
closing one with no space before it and no digit after it; so $249/year or $153.98 and 售价5$
stay money."""
_STANDARD = (
    r"(?<![A-Za-z\d])(?:ISO|IEC|GB/T|GB/Z|GB|JB/T|HG/T|QC/T|DL/T|NB/T|IATF|ASTM|ANSI|DIN|EN|JIS|IEEE|RFC|SAE|NFPA"
    r"|UL|BS|API|AQ|GBZ|JJG|JJF|TSG|YY)\s{0,2}\d[\d.:/]{0,12}(?:[-–—]\d{2,4})?"
)
_NOT_ID_PREFIX = "USD|RMB|CNY|EUR|GBP|HKD|JPY|AUD|CAD|SGD|CHF|KRW|NT|US|Rs|pH|x|Cpk|CPK|Ppk|PPK|Ra|Rz|HRC|HRB|HRA|HB|HV"
"""Before these the digits are still an amount: a currency code (USD249), a measured value
(pH7, Cpk1.33, Ra0.8, HRC45) or a multiplier (x2)."""
_ID = re.compile(
    rf"(?=[A-Za-z\d#(+电手热拨致号编序型工单批订账卡邮学代{ZH_CHARS}])(?:{_STANDARD}"
    rf"|(?<![A-Za-z\d])(?!(?:{_NOT_ID_PREFIX})-?\d)(?:[A-Z][A-Za-z]{{0,5}}|[a-z]{{1,2}}|ver|rev)[-.]?\d[\dA-Za-z.-]{{0,20}}"
    r"|(?<![A-Za-z\d.])[1-9][SDGC](?![A-Za-z\d])|(?<![A-Za-z\d.])\d[A-Z]\d[A-Z](?![A-Za-z])"
    r"|(?<![\d.])(?:\+?\d{1,3}[\s-])?\d{2,4}[\s-]\d{3,4}[\s-]\d{4}(?:[\s-]\d{4})?(?![\d.])"
    r"|(?<![\d.])0\d{2,3}-\d{7,8}(?![\d.])|\(\d{2,4}\)\s?\d{3,4}[\s-]?\d{4}(?![\d.])"
    r"|(?<![\d.])1[3-9]\d{9}(?![\d.])"
    r"|(?:拨打|致电)\s{0,2}\+?\d{3}[\d-]{0,20}|(?:电话|手机|热线|号码|编号|序号|型号|工号|单号|批号|订单号|账号|卡号|邮编|学号|代码)[:：是为]?\s{0,2}[\dA-Za-z-]{1,24}(?:\s\d{3,4}){0,3}"
    rf"|#\s?\d{{1,8}}|\d{{1,6}}\s?#|(?<![\d{ZH_CHARS}月])[\d{ZH_CHARS}]{{1,6}}号(?!码))"
)
"""Identifiers: standards (ISO 9001, GB/T 19001-2016), a letter before the digits (X200, IM-280,
PA66, v2.3; not :data:`_NOT_ID_PREFIX`), 5S / 8D / 5W1H, phone numbers, numbers after
编号/型号/电话, #3 and 3#, 3号楼 (a day 号 after 月 is a date)."""
_ORDINAL = re.compile(
    rf"(?=[第\dNn№AaSsCcRrIiPpQqOoVvFf])(?:第\s{{0,2}}[\d{ZH_CHARS}]{{1,12}}|\b\d{{1,6}}(?:st|nd|rd|th)\b|(?:[Nn]o\.|№)\s{{0,2}}\d{{1,8}}"
    r"|(?i:\b(?:article|art\.|section|sec\.|clause|chapter|step|item|rule|phase|stage|page|room|question"
    r"|option|version|ver\.|rev\.|figure|fig\.)\s{1,2}\d{1,6}\b))"
)
"""Ordinals and labels: 第5个工作日, 第三条, 5th, No. 5, Article 5, Step 3."""

_DURATION_UNITS = (
    ("年", "years?", "yrs?"), ("个月", "月", "months?"), ("周", "个星期", "星期", "weeks?", "wks?"),
    ("天", "日", "days?"), ("小时", "个小时", "钟头", "个钟头", "hours?", "hrs?", "h"),
    ("分钟", "分", "minutes?", "mins?", "m"), ("秒钟", "秒", "seconds?", "secs?", "s"),
)  # fmt: skip
_DURATION = re.compile(
    "|".join(rf"(?P<u{rank}>{'|'.join(spellings)})" for rank, spellings in enumerate(_DURATION_UNITS)).join(
        (r"\s?(?:", r")(?![A-Za-z])\s{0,2}(?:and\s{1,2}|又|零)?\s{0,2}")
    )
)
"""A unit of time right after a number, and what may join it to the next piece (1小时30分钟)."""
_EN_AND_HALF = re.compile(r"(?i)\s?[a-z]{2,12}\s{1,2}and\s{1,2}a\s{1,2}half\b")
"""two hours and a half: 2.5 of the unit between."""
_EN_A_AND_HALF = re.compile(
    r"(?i)\b(?P<a>an?)\s{1,2}(?P<unit>hour|day|week|month|year|minute|second|mile|kilometer|kilo|pound|cup)"
    r"\s{1,2}and\s{1,2}a\s{1,2}half\b"
)
"""an hour and a half, a day and a half: 1.5 of the unit."""


@functools.lru_cache(maxsize=16)
def scan_text(answer: str) -> str:
    """:func:`prepare` with markup blanked (:data:`BLANK`); one character for each of ``nfkc(answer)``."""
    text = _MATH.sub(lambda m: BLANK + m.group(1) + BLANK, prepare(answer))
    return _MARKUP.sub(lambda m: BLANK * len(m.group(0)), text)


def _spans(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(text)]


def _kind_at(i: int, labelled: list[tuple[str, list[tuple[int, int]]]]) -> str:
    for kind, spans in labelled:
        k = bisect_right(spans, (i, 1 << 62)) - 1
        if k >= 0 and spans[k][0] <= i < spans[k][1]:
            return kind
    return "quantity"


def _through_markup(text: str, f: Found) -> Found:
    """**5**天, $\\boxed{60}$ 元: the unit is read after the markup, the negation before it."""
    j = k = f.unit_pos
    while k < len(text) and k - j < 40 and text[k] in (BLANK, " ", "\t"):
        k += 1
    if BLANK in text[j:k]:
        f = replace(f, unit_at=k)
    i = k = f.head
    while k > 0 and i - k < 40 and text[k - 1] in (BLANK, " ", "\t"):
        k -= 1
    if BLANK in text[k:i]:
        f = replace(f, lead=k + len(text[k:i]) - len(text[k:i].lstrip(" \t")))
    return f


def _compounds(text: str, found: list[Found]) -> list[Found]:
    """Mark the pieces of 1小时30分钟 / 1h30min / 1 hour 30 minutes / 1年3个月 (units of time, larger first)."""
    out = list(found)
    for i in range(len(out) - 1):
        a, b = out[i], out[i + 1]
        if a.kind != "quantity" or b.kind != "quantity" or a.range or b.range:
            continue
        ma, mb = _DURATION.match(text, a.unit_pos), _DURATION.match(text, b.unit_pos)
        if ma is None or mb is None or ma.end() != b.head:
            continue
        if ma.lastgroup and mb.lastgroup and int(ma.lastgroup[1:]) < int(mb.lastgroup[1:]):
            first = a.compound if a.compound is not None else a.start
            out[i], out[i + 1] = replace(a, compound=first), replace(b, compound=first)
    return out


def _english_halves(text: str, found: list[Found]) -> list[Found]:
    """two hours and a half (2.5), an hour and a half (1.5, read at the "an")."""
    out = [replace(f, value=f.value + 0.5) if _EN_AND_HALF.match(text, f.end) else f for f in found]
    for m in _EN_A_AND_HALF.finditer(text):
        out.append(Found(1.5, m.start("a"), m.end("a"), unit_at=m.start("unit")))
    return out


_SIGN_WORD_BEFORE = re.compile(r"(?i)\b(?:minus|negative|below\s{1,2}zero\s{1,2}by)\s{1,2}$")
"""minus 0.05 mm, negative five, below zero by 5: a sign written as a word."""
_BELOW_ZERO_AFTER = re.compile(
    r"(?i)\s{0,2}(?:°\s?[CF]|degrees?(?:\s{1,2}(?:Celsius|centigrade|Fahrenheit|C|F))?|度)?\s{1,2}below\s{1,2}(?:zero|freezing)\b"
)
"""5 degrees below zero, 5 °C below freezing: -5 (the unit stays right after the number)."""


def _sign_words(text: str, found: list[Found]) -> list[Found]:
    """Negate a figure whose sign is a word: minus 0.05 mm, 5 degrees below zero (read 24 characters around)."""
    out = []
    for f in found:
        if f.value == 0 and re.search(r"(?i)\bbelow\s{1,2}$", text[max(0, f.start - 8) : f.start]):
            continue  # the zero of "below zero" is the reference point, not a figure
        if f.value > 0 and f.range is None:
            before = _SIGN_WORD_BEFORE.search(text, max(0, f.start - 24), f.start)
            if before is not None:
                f = replace(f, value=-f.value, lead=before.start())
            elif _BELOW_ZERO_AFTER.match(text, f.end):
                f = replace(f, value=-f.value)
        out.append(f)
    return out


def _dates_split(text: str, whens: list[When]) -> str:
    """2024.3.5 is three numbers, not 2024.3 and 5: the dots of a date become slashes."""
    chars = list(text)
    for w in whens:
        if w.kind == "date":
            for i in range(w.start, w.end):
                if chars[i] == ".":
                    chars[i] = "/"
    return "".join(chars)


def find_numbers(answer: str) -> list[Found]:
    """Every number in the answer, in order, positioned in ``nfkc(answer)``, each with its
    :attr:`~Found.kind` (dates, clock times, ordinals and identifiers are read, and marked)."""
    return list(_find_numbers(answer))


@functools.lru_cache(maxsize=64)
def _find_numbers(answer: str) -> tuple[Found, ...]:
    """Cached: every ``number`` check of a rubric (and ``faithful``) reads the same answer."""
    text = scan_text(answer)
    whens = find_when(text)
    text = _dates_split(text, whens)
    masked = _masked(text)
    out: list[Found] = []
    for m in _TOKEN.finditer(masked):
        if m.group("den") is not None:
            share = _share(m)
            if share is not None:
                out.append(share)
        elif m.group("half"):
            out.append(Found(0.5, m.start(), m.end()))
        elif m.group("point"):
            out.append(Found(float("0." + "".join(str(ZH_DIGITS[c]) for c in m.group("point")[1:])), *m.span()))
        else:
            out += _runs(masked, m)
    out = _sign_words(masked, _english_halves(masked, out + _english(masked)))
    out.sort(key=lambda f: (f.start, f.value))
    labelled = [
        ("date", [(w.start, w.end) for w in whens if w.kind == "date"]),
        ("time", [(w.start, w.end) for w in whens if w.kind == "time"]),
        ("id", _spans(_ID, text)),
        ("ordinal", _spans(_ORDINAL, text)),
    ]
    marked = BLANK in masked
    for i, f in enumerate(out):
        kind = _kind_at(f.start, labelled)
        f = f if kind == "quantity" else replace(f, kind=kind)
        out[i] = _through_markup(masked, f) if marked else f
    return tuple(_compounds(masked, _link(masked, out)))
