"""Units pint knows, for the ``number`` check: which written spellings name one, and conversion.

Only the spellings listed here reach pint, as the pint names they map to (pint's own parser
reads "5S" as siemens, "8 D" as debye and "5 pm" as picometres). :func:`known_after` reads a
known unit right after a number and converts it into the check's unit (90分钟 for 1.5 小时,
68°F for 20 ℃); :func:`sign_before` a currency sign before it. A temperature check also takes
"degrees", "degrees C" and 度 as its own unit (5 degrees below zero).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from harness.rubric.text import nfkc

LEAD = " \t-个"  # "5 天", "30-day", "两个小时": skipped between a number and its unit


@dataclass(frozen=True)
class Unit:
    factor: float
    taken: int = 0
    """Characters after the number that the unit takes."""
    bare: bool = False
    """No unit is written: the figure stands alone (5。, 人均两百)."""
    offset: float = 0.0
    """Added after the factor: 50 °F is 50 × 5/9 − 160/9 ℃."""


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
CURRENCIES = ("CNY", "USD", "EUR", "GBP", "JPY")


@dataclass(frozen=True)
class Known:
    """A unit pint knows: ``1 spelling = scale × name`` (name in pint's registry)."""

    name: str
    scale: float = 1.0


def _known(entry: str | tuple[str, float]) -> Known:
    return Known(entry) if isinstance(entry, str) else Known(*entry)


KNOWN_RE = re.compile(
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


_TEMPERATURES = ("degC", "degF", "kelvin")
_DEGREES = re.compile(
    r"(?i)(?:degrees?|degs?\.?)(?:\s{0,2}(?P<scale>celsius|centigrade|fahrenheit|kelvin|C|F|K)(?![A-Za-z]))?"
)
"""5 degrees, minus 5 degrees C, 23 deg F: when the check asks a temperature, "degrees" with no
scale is the check's own scale (an angle check never reads it so)."""


def known_after(after: str, target: Known | None) -> Unit | None:
    """A known unit written right after a number (``after``), converted into ``target``; None when
    none is written or it is of another dimension."""
    if target is None:
        return None
    head = after.lstrip(LEAD)
    if target.name in _TEMPERATURES and (d := _DEGREES.match(head)):
        scale = (d.group("scale") or "").casefold()[:1]
        scaled = target if not scale else Known("degF" if scale == "f" else "kelvin" if scale == "k" else "degC")
        conv = convert(scaled, target)
        return Unit(conv[0], len(after) - len(head) + d.end(), offset=conv[1]) if conv else None
    m = KNOWN_RE.match(head)
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
