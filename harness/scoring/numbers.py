"""Numbers in answers (pure): Arabic, full-width and Chinese numerals, with what follows.

Understood: ``5``, ``５``, ``2,000``, ``-3`` / ``−3`` / ``负3`` / ``零下3``, ``1.5``,
``1.5万`` (15000), ``3千元`` (3000), ``五``, ``十五``, ``一百二十``, ``两千``,
``一百零五``, ``一百五`` and ``一万五`` (150, 15000), ``三点五``, ``二〇二四`` (2024),
financial numerals (``伍佰``), ``百分之五`` (5 with unit %), ``一个半小时`` (1.5).
A full-width comma is a clause mark, not a thousands separator: ``270，280`` is
two numbers. ``千`` before 克/米/瓦/帕... is the unit prefix (``3千克`` is 3 kg).
Each number comes with its position, so a check can read the unit after it and
the words before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.scoring.text import nfkc

ZH_DIGITS = {
    "零": 0, "〇": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "三": 3, "叁": 3, "四": 4, "肆": 4,
    "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8, "九": 9, "玖": 9,
}  # fmt: skip
ZH_SMALL = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
ZH_BIG = {"万": 10_000, "亿": 100_000_000}
_ZH_CHARS = "".join(ZH_DIGITS) + "".join(ZH_SMALL) + "".join(ZH_BIG)

# 千克 (kg), 千米 (km), 千瓦 (kW), 千帕 (kPa): the 千 belongs to the unit, not the number
_KILO_UNITS = "克米瓦帕伏焦卡"

_ARABIC = r"(?<![\d.])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\d])"
_ZH = rf"[{_ZH_CHARS}]+(?:点[{''.join(ZH_DIGITS)}]+)?"
_MINUS = r"(?P<neg>(?<![A-Za-z\d.])[-−]|(?<!正)负|零下)?"  # −3 (U+2212), 负3; not IM-280 or 正负5 (±5)
_TOKEN = re.compile(
    rf"百分之(?P<pct>{_ARABIC}|{_ZH})"
    rf"|{_MINUS}(?:(?P<ar>{_ARABIC})(?P<mult>千(?![{_KILO_UNITS}{_ZH_CHARS}])|[万亿](?![{_ZH_CHARS}]))?|(?P<zh>{_ZH}))"
)

# "一" inside ordinary words is not a number: 一些, 一下, 统一, 唯一, 第一...
_YI_WORD_AFTER = set("些下般定旦起直致样切律共同并再边面点样起")
_YI_WORD_BEFORE = set("统唯同万逐单之如划专")


@dataclass(frozen=True)
class Found:
    value: float
    start: int
    """Index of the number in ``nfkc(answer)``."""
    end: int
    unit_hint: str | None = None
    """A unit implied by the wording (``百分之五`` -> ``%``)."""


def parse_zh(text: str) -> float | None:
    """Value of a Chinese numeral such as 一百二十 or 三点五; None if malformed."""
    whole, _, frac = text.partition("点")
    if whole and all(ch in ZH_DIGITS for ch in whole) and len(whole) > 1:
        value = float("".join(str(ZH_DIGITS[ch]) for ch in whole))  # 二〇二四
    else:
        total = section = 0
        number: int | None = None
        last_unit = 0  # the unit character right before the current digit, if any (一百五 = 150)
        for ch in whole:
            if ch in ZH_DIGITS:
                last_unit = last_unit if number is None and ZH_DIGITS[ch] else 0
                number = ZH_DIGITS[ch]
            elif ch in ZH_SMALL:
                section += (1 if number is None else number) * ZH_SMALL[ch]
                number, last_unit = None, ZH_SMALL[ch]
            elif ch in ZH_BIG:
                total += (section + (number or 0)) * ZH_BIG[ch]
                section, number, last_unit = 0, None, ZH_BIG[ch]
            else:
                return None
        # a trailing digit right after 百/千/万/亿 counts in the next lower place: 一百五, 两千五, 一万五
        tail = (number or 0) * (last_unit // 10 if last_unit >= 100 else 1)
        value = float(total + section + tail)
        if not whole:
            value = 0.0
    if frac:
        value += float("0." + "".join(str(ZH_DIGITS[ch]) for ch in frac))
    return value


def find_numbers(answer: str) -> list[Found]:
    """Every number in the answer, in order, positioned in ``nfkc(answer)``."""
    # "，" -> "、" keeps every index (both stay one character under NFKC) but not the comma
    text = nfkc(answer.replace("，", "、"))
    out: list[Found] = []
    for m in _TOKEN.finditer(text):
        start, end = m.span()
        if m.group("pct"):
            pct = m.group("pct")
            value = parse_zh(pct) if pct[0] in _ZH_CHARS else float(pct.replace(",", ""))
            if value is not None:
                out.append(Found(value, start, end, "%"))
            continue
        sign = -1.0 if m.group("neg") else 1.0
        if m.group("ar"):
            value = float(m.group("ar").replace(",", ""))
            if m.group("mult"):
                value *= {**ZH_SMALL, **ZH_BIG}[m.group("mult")]
            out.append(_half(text, Found(sign * value, start, end)))
            continue
        token = m.group("zh")
        if token[-1] == "千" and end < len(text) and text[end] in _KILO_UNITS:
            token, end = token[:-1], end - 1
            if not token:
                continue
        if token == "一" and (
            (end < len(text) and text[end] in _YI_WORD_AFTER) or (start > 0 and text[start - 1] in _YI_WORD_BEFORE)
        ):
            continue
        if token[0] in "百佰千仟万亿" or (len(token) > 1 and all(ch in ZH_SMALL or ch in ZH_BIG for ch in token)):
            continue  # 万一 (in case), 千万 (be sure to), 百分比: words; a numeral starts with a digit or 十
        value = parse_zh(token)
        if value is None:
            continue
        out.append(_half(text, Found(sign * value, start, end)))
    return out


def _half(text: str, f: Found) -> Found:
    """一个半小时 / 2个半月: the number is x.5 and the unit follows 个半."""
    if text.startswith("个半", f.end):
        return Found(f.value + 0.5, f.start, f.end + 2, f.unit_hint)
    return f
