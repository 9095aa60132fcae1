"""One run of numeral characters -> its numbers (pure): Chinese, Arabic and the two mixed.

A run is what :mod:`harness.rubric.numbers` cuts out of an answer: Arabic numbers,
Chinese digits, 十/百/千/万/亿 and 点 between digits, with nothing else between them.
:func:`parse_run` reads it the way a careful reader does:

- place values: 一千零十 = 1010, 十万 = 100000, 三万亿 = 3e12, 一亿五千万零六千三百五十五;
- a digit right after 百/千/万/亿 counts in the next lower place: 一百五 = 150, 一万五 = 15000,
  1万5 = 15000, but a number of several digits is written out: 1万600 = 10600, 四千230 = 4230;
- Arabic numbers and decimals with 万/亿/千: 1.5万, 1万2千, 一点二万 = 12000, 100万三千;
- digit strings: 二〇二四 = 2024, 幺八九 = 189, 零零三 = 3, 一七二零点一 = 1720.1;
- approximate pairs are ranges, never concatenations: 两三 = 2–3, 三五 = 3–5, 三四十 = 30–40,
  十五六 = 15–16, 一千五六百 = 1500–1600;
- a run that holds two numbers is split where the second begins: 十一十二 = 11 and 12.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

ZH_DIGITS = {
    "零": 0, "〇": 0, "一": 1, "壹": 1, "幺": 1, "二": 2, "贰": 2, "两": 2, "三": 3, "叁": 3,
    "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8, "九": 9, "玖": 9,
}  # fmt: skip
ZH_SMALL = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
ZH_BIG = {"万": 10_000, "亿": 100_000_000}
ZH_TENS = {"廿": 2, "卅": 3}
"""廿 = 二十, 卅 = 三十."""
VARIANTS = str.maketrans("兩萬億點貳參陸負", "两万亿点贰叁陆负")
"""Traditional forms of numeral characters -> the simplified ones (one character each, so indexes hold)."""
ZH_CHARS = "".join(ZH_DIGITS) + "".join(ZH_SMALL) + "".join(ZH_BIG) + "".join(ZH_TENS)

_ARABIC = re.compile(r"(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?")


@dataclass(frozen=True)
class Tok:
    kind: str  # "digit" (a Chinese digit or an Arabic number), "small", "big", "point"
    value: float
    start: int
    end: int
    ndigits: int = 1
    """Digits written (Arabic), so 1万5 (a digit in the next place) differs from 1万600."""
    zh: bool = False
    decimal: bool = False


@dataclass(frozen=True)
class Piece:
    value: float
    start: int
    end: int
    high: float | None = None
    """The upper end when the run is an approximate pair (两三天 -> 2..3)."""


def tokenize(run: str) -> list[Tok]:
    out: list[Tok] = []
    i = 0
    while i < len(run):
        ch = run[i]
        m = _ARABIC.match(run, i) if ch.isdigit() else None
        if m:
            digits = m.group(0).replace(",", "")
            whole = digits.partition(".")[0]
            out.append(Tok("digit", float(digits), i, m.end(), len(whole), decimal="." in digits))
            i = m.end()
            continue
        if ch in ZH_DIGITS:
            out.append(Tok("digit", ZH_DIGITS[ch], i, i + 1, zh=True))
        elif ch in ZH_TENS:
            out.append(Tok("digit", ZH_TENS[ch], i, i, zh=True))
            out.append(Tok("small", 10, i, i + 1))
        elif ch in ZH_SMALL:
            out.append(Tok("small", ZH_SMALL[ch], i, i + 1))
        elif ch in ZH_BIG:
            out.append(Tok("big", ZH_BIG[ch], i, i + 1))
        elif ch == "点":
            out.append(Tok("point", 0, i, i + 1))
        i += 1
    return out


def _clean(value: float) -> float:
    """Without the binary noise of scaling: 1.2 * 10000 is 12000, not 12000.000000000002."""
    if not math.isfinite(value):
        return value
    nearest = round(value)
    if nearest and abs(value - nearest) < 1e-9 * abs(value):
        return float(nearest)
    return float(f"{value:.15g}")


def _is_zh_digit(t: Tok) -> bool:
    return t.kind == "digit" and t.zh


def _digit_string(toks: list[Tok], k: int) -> tuple[float, int] | None:
    """二〇二四, 一七二零点一三四, 零零三: two or more Chinese digits in a row from ``k``."""
    j = k
    while j < len(toks) and _is_zh_digit(toks[j]):
        j += 1
    if j - k < 2:
        return None
    value = float("".join(str(int(t.value)) for t in toks[k:j]))
    if j + 1 < len(toks) and toks[j].kind == "point" and _is_zh_digit(toks[j + 1]):
        f = j + 1
        while f < len(toks) and _is_zh_digit(toks[f]):
            f += 1
        value += float("0." + "".join(str(int(t.value)) for t in toks[j + 1 : f]))
        j = f
    return value, j


def _fraction(toks: list[Tok], i: int) -> tuple[float, int] | None:
    """The digits after 点 (Chinese or one Arabic number) as a fraction, and where they end."""
    if i < len(toks) and toks[i].kind == "digit" and not toks[i].zh and not toks[i].decimal:
        return float("0." + str(int(toks[i].value)).zfill(toks[i].ndigits)), i + 1
    f = i
    while f < len(toks) and _is_zh_digit(toks[f]):
        f += 1
    if f == i:
        return None
    return float("0." + "".join(str(int(t.value)) for t in toks[i:f])), f


def _place_value(toks: list[Tok], k: int) -> tuple[float, int]:
    """Read a numeral with place units from ``k``; stop where a second number would begin.

    Returns the value and the index after the last token used (at least ``k + 1``).
    """
    done = wan = section = 0.0  # above 亿 (finished), the 万 part, below 万
    number: Tok | None = None
    last_unit = 0  # the unit right before the current digit (一百五: 百)
    small_seen = big_seen = float("inf")
    i = k
    while i < len(toks):
        t = toks[i]
        if t.kind == "digit":
            if number is not None:
                break
            if t.zh and t.value == 0:
                last_unit = 0  # 一千零十: the 零 keeps 十 in its own place
                i += 1
                continue
            number = t
        elif t.kind == "small":
            if t.value >= small_seen or (number is not None and number.decimal):
                break
            section += (number.value if number else 1) * t.value
            number, last_unit, small_seen = None, int(t.value), t.value
        elif t.kind == "big":
            if t.value == 10_000 and big_seen <= 10_000:
                break
            if t.value == 10_000:
                wan += (section + (number.value if number else 0)) * 10_000
            else:
                done = (done + wan + section + (number.value if number else 0)) * 100_000_000
                wan = 0.0
            section, number, last_unit, small_seen, big_seen = 0.0, None, int(t.value), float("inf"), t.value
        else:  # 点: a decimal fraction, perhaps scaled by 万/亿 (一点二万); the numeral ends there
            frac = _fraction(toks, i + 1)
            if frac is None or i == k or (number is not None and not number.zh):
                break  # 3点30 is a time of day, not 3.30
            value = done + wan + section + (number.value if number else 0) + frac[0]
            i = frac[1]
            if i < len(toks) and toks[i].kind == "big":
                value, i = value * toks[i].value, i + 1
            return _clean(value), i
        i += 1
    tail = 0.0
    if number is not None:
        single = number.ndigits == 1 and not number.decimal
        tail = number.value * (last_unit // 10 if single and last_unit >= 100 else 1)
    return _clean(done + wan + section + tail), max(i, k + 1)


def _is_pair(toks: list[Tok], p: int) -> bool:
    """Tokens ``p`` and ``p + 1`` are an approximate pair (两三, 三四, 一两), not a digit string."""
    if p + 1 >= len(toks) or not (_is_zh_digit(toks[p]) and _is_zh_digit(toks[p + 1])):
        return False
    a, b = toks[p].value, toks[p + 1].value
    after = toks[p + 2] if p + 2 < len(toks) else None
    near = b == a + 1 or (a, b) == (3, 5)  # 三五天: three to five days
    return a >= 1 and near and (after is None or after.kind in ("small", "big"))


def _pair(toks: list[Tok], k: int, p: int) -> tuple[Piece, int]:
    """The numeral from ``k`` with the pair at ``p`` read once with each digit: 三四十 -> 30..40."""
    low, low_end = _place_value(toks[: p + 1] + toks[p + 2 :], k)
    high, _ = _place_value(toks[:p] + toks[p + 1 :], k)
    end = low_end + 1  # the dropped digit is inside the numeral
    return Piece(low, toks[k].start, toks[end - 1].end, high), end


def parse_run(run: str) -> list[Piece]:
    """Every number in ``run`` (a string of numeral characters), with offsets into it."""
    toks = tokenize(run)
    out: list[Piece] = []
    k = 0
    while k < len(toks):
        if toks[k].kind == "point":  # a stray 点
            k += 1
            continue
        if _is_pair(toks, k):
            piece, k = _pair(toks, k, k)
            out.append(piece)
            continue
        ds = _digit_string(toks, k)
        value, j = ds if ds is not None else _place_value(toks, k)
        if ds is None and j - 1 > k and toks[j - 2].kind in ("small", "big") and _is_pair(toks, j - 1):
            piece, k = _pair(toks, k, j - 1)  # 十五六, 一千五六百
            out.append(piece)
            continue
        out.append(Piece(value, toks[k].start, toks[j - 1].end))
        k = j
    return out
