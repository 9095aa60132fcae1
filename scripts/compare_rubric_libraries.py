"""Measure the harness's number reader against jionlp, quantulum3 and pint (issue 26 §5).

Runs in a separate virtual environment so the project's own stays untouched::

    python3 -m venv /work/libs-venv
    /work/libs-venv/bin/pip install jionlp pint "quantulum3[classifier]" scikit-learn==1.8.0 pydantic jsonschema pyyaml
    PYTHONPATH=. /work/libs-venv/bin/python scripts/compare_rubric_libraries.py [--json out.json] [--no-speed]

Cases: ``tests/data/quantity_readings.yaml`` (each reading reasoned by hand, see its header) and
cn2an's peer suite ``tests/data/peer/cn2an_cases.json``. Each reader is judged per case:

- ``right``: it gives the stated quantity (or range) in the asked unit and none of the ``wrong`` readings;
- ``wrong``: it gives one of the ``wrong`` readings (a compound's part, a date's day read as days...);
- ``missed``: neither;
- ``n/a``: the library has no reader for that kind of quantity or language.

The harness is judged through its ``number`` check (a check passes = the reader gave that reading
with a unit an author would declare); the libraries through the quantities they return, converted
with pint into the asked unit. "reader+pint" is a prototype of the adoption path the issue names:
the harness's numeral reader, a whitelist of unit names of our own mapped to pint units, pint for
conversion and dimensions, and adjacent parts of one dimension summed (1小时30分钟).

Every network connection is refused while measuring, and counted: a library that needs the network
at run time shows it in ``connect_attempts``.
"""

# ruff: noqa: E501  (the unit tables are one spelling list per line)
from __future__ import annotations

import argparse
import json
import logging
import re
import signal
import socket
import sys
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
CASES = REPO / "tests" / "data" / "quantity_readings.yaml"
PEER = REPO / "tests" / "data" / "peer" / "cn2an_cases.json"

# --- offline guard ------------------------------------------------------------------------------
CONNECT_ATTEMPTS: list[str] = []


def _refuse(*args: Any, **kwargs: Any) -> Any:
    CONNECT_ATTEMPTS.append(repr(args[1:] or kwargs)[:80])
    raise OSError("network refused by compare_rubric_libraries.py")


socket.socket.connect = _refuse  # type: ignore[method-assign]
socket.create_connection = _refuse  # type: ignore[assignment]

Reading = float | tuple[float, float]


@dataclass(frozen=True)
class Unit:
    dim: str
    pint: str
    """The unit as pint writes it (custom dimensions for money and people: see ``_registry``)."""
    zh: str | None
    """The ``unit`` a question-set author writes in the harness's ``number`` check."""
    spellings: dict[str, float] = field(default_factory=dict)
    """The ``units`` an author declares (spelling -> factor into ``zh``)."""


_MIN = {"分": 1, "min": 1, "mins": 1, "minute": 1, "minutes": 1}
_HOUR = {"小时": 1, "钟头": 1, "h": 1, "hr": 1, "hrs": 1, "hour": 1, "hours": 1}
_SEC = {"秒": 1, "s": 1, "sec": 1, "second": 1, "seconds": 1}
_DAY = {"天": 1, "日": 1, "工作日": 1, "day": 1, "days": 1, "business days": 1, "working days": 1}
_WEEK = {"周": 1, "星期": 1, "week": 1, "weeks": 1}
_MONTH = {"个月": 1, "月": 1, "month": 1, "months": 1}
_YEAR = {"年": 1, "year": 1, "years": 1}


def _scaled(table: Mapping[str, float], factor: float) -> dict[str, float]:
    return {k: v * factor for k, v in table.items()}


UNITS: dict[str, Unit] = {
    "min": Unit("time", "minute", "分钟", {**_MIN, **_scaled(_HOUR, 60), **_scaled(_SEC, 1 / 60)}),
    "s": Unit("time", "second", "秒", {**_SEC, "分钟": 60, **_scaled(_MIN, 60)}),
    "h": Unit("time", "hour", "小时", {**_HOUR, "分钟": 1 / 60, **_scaled(_MIN, 1 / 60), **_scaled(_DAY, 24)}),
    "day": Unit("time", "day", "天", {**_DAY, **_scaled(_WEEK, 7), **_scaled(_HOUR, 1 / 24)}),
    "month": Unit("time", "month", "个月", {**_MONTH, **_scaled(_YEAR, 12)}),
    "year": Unit("time", "year", "年", {**_YEAR, **_scaled(_MONTH, 1 / 12)}),
    "cny": Unit("money", "CNY", "元", {"块": 1, "块钱": 1, "¥": 1, "RMB": 1, "CNY": 1, "yuan": 1, "万元": 1e4, "角": 0.1, "毛": 0.1}),
    "usd": Unit("money", "USD", "USD", {"$": 1, "US$": 1, "dollar": 1, "dollars": 1}),
    "cny/day": Unit("rate", "CNY/day", "元/天", {"元/日": 1, "元每天": 1, "元一天": 1, "yuan/day": 1, "yuan per day": 1, "yuan a day": 1}),
    "cny/month": Unit("rate", "CNY/month", "元/月", {"元每月": 1, "元/个月": 1, "元一个月": 1}),
    "cny/h": Unit("rate", "CNY/hour", "元/小时", {"元/时": 1, "元每小时": 1, "元一小时": 1, "元/h": 1}),
    "cny/kg": Unit("rate", "CNY/kg", "元/千克", {"元/kg": 1, "元/公斤": 1, "元每千克": 1, "元每公斤": 1, "元/斤": 2}),
    "day/year": Unit("rate", "day/year", "天/年", {"天每年": 1, "天/每年": 1}),
    "usd/year": Unit("rate", "USD/year", "/year", {"per year": 1, "a year": 1, "/yr": 1, "annually": 1, "/month": 12, "per month": 12, "a month": 12}),
    "usd/month": Unit("rate", "USD/month", "/month", {"per month": 1, "a month": 1, "/mo": 1, "monthly": 1}),
    "usd/h": Unit("rate", "USD/hour", "/hour", {"per hour": 1, "an hour": 1, "/h": 1, "/hr": 1}),
    "pct": Unit("ratio", "percent", "%", {"percent": 1, "per cent": 1}),
    "degC": Unit("temperature", "degC", "℃", {"°C": 1, "度": 1, "摄氏度": 1, "degrees Celsius": 1, "degree Celsius": 1, "degrees": 1}),
    "count": Unit("count", "dimensionless", None),
    "person": Unit("count", "person", "人", {"名": 1, "people": 1, "persons": 1}),
    "kg": Unit("mass", "kg", "千克", {"kg": 1, "公斤": 1, "克": 1e-3, "g": 1e-3, "斤": 0.5, "lb": 0.45359237, "lbs": 0.45359237, "pounds": 0.45359237}),
    "m": Unit("length", "m", "米", {"m": 1, "公里": 1e3, "km": 1e3, "厘米": 0.01, "cm": 0.01, "ft": 0.3048, "feet": 0.3048, "in": 0.0254, "inches": 0.0254}),
    "MPa": Unit("pressure", "MPa", "MPa", {"bar": 0.1, "kPa": 1e-3, "兆帕": 1}),
    "mL": Unit("volume", "mL", "mL", {"ml": 1, "毫升": 1, "L": 1e3, "l": 1e3, "升": 1e3, "liter": 1e3, "liters": 1e3, "litre": 1e3, "litres": 1e3}),
    "km/h": Unit("speed", "km/hour", "km/h", {"公里/小时": 1, "公里每小时": 1, "kph": 1, "mph": 1.609344}),
    "N·m": Unit("torque", "N*m", "N·m", {"N.m": 1, "Nm": 1, "牛·米": 1, "牛米": 1}),
}  # fmt: skip


@dataclass(frozen=True)
class Case:
    id: str
    kind: str
    lang: str
    text: str
    unit: str
    value: float | tuple[float, float] | None
    wrong: tuple[float, ...] = ()
    when: str | None = None
    bare: bool = False
    tol: float = 1e-4


def load_cases(path: Path = CASES) -> list[Case]:
    out = []
    for raw in yaml.safe_load(path.read_text(encoding="utf-8")):
        v = raw.get("value")
        out.append(
            Case(
                raw["id"], raw["kind"], raw["lang"], raw["text"], raw["unit"],
                tuple(v) if isinstance(v, list) else v, tuple(raw.get("wrong", ())),
                raw.get("when"), bool(raw.get("bare")), float(raw.get("tol", 1e-4)),
            )
        )  # fmt: skip
    return out


def _close(a: float, b: float, tol: float) -> bool:
    return abs(a - b) <= max(tol * abs(b), 1e-6)


def judge(case: Case, readings: list[Reading] | None) -> str:
    """right / wrong / missed / n/a for one reader's readings of one case (see the module doc)."""
    if readings is None:
        return "n/a"
    ends = [e for r in readings for e in (r if isinstance(r, tuple) else (r,))]
    if any(_close(e, w, case.tol) for e in ends for w in case.wrong):
        return "wrong"
    if case.value is None:
        return "wrong" if readings else "right"  # the text states no quantity of this kind
    if isinstance(case.value, tuple):
        lo, hi = case.value
        found = any(
            isinstance(r, tuple) and _close(r[0], lo, case.tol) and _close(r[1], hi, case.tol) for r in readings
        )
    else:
        found = any(not isinstance(r, tuple) and _close(r, case.value, case.tol) for r in readings)
    return "right" if found else "missed"


# --- the harness: its `number` check, as an author would write it ------------------------------


def harness_judge(case: Case) -> str:
    """The ``number`` check with the spellings of ``UNITS``: it must pass on the stated value (or
    ``between`` the stated range) and fail on every ``wrong`` reading."""
    from harness.rubric.checks_number import NumberArgs, number

    u = UNITS[case.unit]
    base: dict[str, Any] = {"unit": u.zh, "units": u.spellings} if u.zh else {}
    tol_pct = case.tol * 100

    def passes(**target: Any) -> bool:
        return number(case.text, NumberArgs(**target, **base)).passed

    if any(passes(value=w, tolerance_pct=tol_pct) for w in case.wrong):
        return "wrong"
    if case.value is None:  # the text states no quantity of this kind: no figure may pass
        return "wrong" if passes(between=(-1e18, 1e18)) else "right"
    if isinstance(case.value, tuple):
        ok = passes(between=case.value)
    else:
        ok = passes(value=case.value, tolerance_pct=tol_pct)
    return "right" if ok else "missed"


# --- pint: one registry with money, people and Chinese unit names --------------------------------

_ureg: Any = None

ALIASES: dict[str, str] = {
    # Chinese unit names: a whitelist of our own, each mapped to a pint expression
    "个小时": "hour", "小时": "hour", "钟头": "hour", "分钟": "minute", "分": "minute", "秒钟": "second", "秒": "second",
    "个工作日": "day", "工作日": "day", "天": "day", "日": "day", "周": "week", "星期": "week", "个月": "month", "月": "month",
    "年": "year", "万元": "10000 * CNY", "元": "CNY", "块钱": "CNY", "块": "CNY", "角": "0.1 * CNY", "毛": "0.1 * CNY",
    "千克": "kg", "公斤": "kg", "克": "g", "斤": "0.5 * kg", "公里": "km", "厘米": "cm", "米": "m", "毫升": "mL", "升": "L",
    "摄氏度": "degC", "度": "degC", "°C": "degC", "°F": "degF", "人": "person", "名": "person", "%": "percent",
    "‰": "permille", "兆帕": "MPa", "牛·米": "N*m", "N·m": "N*m",
    # English spellings the reader accepts (pint alone reads "5S" as 5 siemens and "5 pm" as 5 picometres)
    "hours": "hour", "hour": "hour", "hrs": "hour", "hr": "hour", "h": "hour", "minutes": "minute", "minute": "minute",
    "mins": "minute", "min": "minute", "seconds": "second", "second": "second", "sec": "second", "s": "second",
    "business days": "day", "working days": "day", "days": "day", "day": "day", "weeks": "week", "week": "week",
    "months": "month", "month": "month", "years": "year", "year": "year", "dollars": "USD", "dollar": "USD",
    "USD": "USD", "yuan": "CNY", "kg": "kg", "g": "g", "lbs": "lb", "lb": "lb", "pounds": "lb", "km": "km", "m": "m",
    "cm": "cm", "ft": "ft", "in": "inch", "mL": "mL", "ml": "mL", "L": "L", "mph": "mph", "bar": "bar", "MPa": "MPa",
    "kPa": "kPa", "percent": "percent", "per cent": "percent", "degrees Celsius": "degC", "degrees": "degC",
}  # fmt: skip
_PER = {"天": "day", "日": "day", "月": "month", "年": "year", "小时": "hour", "千克": "kg", "公斤": "kg",
        "人": None, "次": None}  # fmt: skip
_PER_AFTER = re.compile(
    r"\s*(?:/|per\s+|an?\s+|每)\s*(day|month|year|hour|yr|mo|h|天|日|月|年|小时|kg|千克|公斤)\b", re.I
)


def ureg() -> Any:
    global _ureg
    if _ureg is None:
        import pint

        r: Any = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
        r.define("CNY = [currency_cny]")
        r.define("USD = [currency_usd]")
        r.define("person = [person]")
        _ureg = r
    return _ureg


def to_unit(value: float, pint_expr: str, case_unit: str) -> float | None:
    """``value`` ``pint_expr`` in the case's unit; None when the dimensions differ."""
    import pint

    r = ureg()
    try:
        q = (
            r.Quantity(value, r.parse_units(pint_expr))
            if "*" not in pint_expr
            else value * r.parse_expression(pint_expr)
        )
        return float(q.to(UNITS[case_unit].pint).magnitude)
    except (pint.DimensionalityError, pint.UndefinedUnitError, ValueError):
        return None


_ALIAS_RE = re.compile("|".join(re.escape(a) for a in sorted(ALIASES, key=len, reverse=True)))


def reader_pint(case: Case) -> list[Reading]:
    """Prototype: harness numerals + our unit whitelist + pint conversion + compounds summed."""
    from harness.rubric.numbers import find_numbers
    from harness.rubric.text import nfkc

    text = nfkc(case.text)
    parts: list[tuple[int, int, Reading, str, float]] = []  # start, end, value, pint unit, base magnitude
    for f in find_numbers(case.text):
        pos = f.unit_pos
        after = text[pos : pos + 24]
        lead = len(after) - len(after.lstrip(" \t个"))
        m = _ALIAS_RE.match(after, lead)
        before = text[max(0, f.head - 4) : f.head]
        expr = None
        if f.unit_hint:  # 百分之五 is 5 with the unit %
            expr, end = ALIASES[f.unit_hint], f.end
        elif m and (not m.group(0).isascii() or not after[m.end() : m.end() + 1].isalpha()):
            expr, end = ALIASES[m.group(0)], pos + m.end()
        elif before.rstrip().endswith(("$", "US$", "USD")):
            expr, end = "USD", f.end
        elif before.rstrip().endswith(("¥", "￥", "RMB")):
            expr, end = "CNY", f.end
        if expr is None:
            if case.unit == "count":
                parts.append((f.start, f.end, f.value, "dimensionless", f.value))
            continue
        per = _PER_AFTER.match(text, end)
        if per:
            denom = {"yr": "year", "mo": "month", "h": "hour"}.get(per.group(1).lower(), per.group(1))
            expr, end = f"({expr}) / {ALIASES.get(denom, _PER.get(denom) or denom)}", per.end()
        else:
            m_per = re.search(r"每(天|日|月|年|小时|千克|公斤)\D{0,3}$", text[max(0, f.head - 8) : f.head])
            if m_per and _PER.get(m_per.group(1)):
                expr = f"({expr}) / {_PER[m_per.group(1)]}"
        value = f.range if f.range is not None and f.value == f.range[1] else f.value
        if f.range is not None and f.value == f.range[0]:
            continue  # the range is recorded once, at its high end
        ends = value if isinstance(value, tuple) else (value,)
        conv = [to_unit(e, expr, case.unit) for e in ends]
        if any(c is None for c in conv):
            continue
        base = to_unit(1.0, expr, case.unit) or 0.0
        reading: Reading = (conv[0], conv[1]) if len(conv) == 2 else conv[0]  # type: ignore[assignment]
        parts.append((f.head, end, reading, expr, base))
    return _sum_compounds(text, parts)


def _sum_compounds(text: str, parts: list[tuple[int, int, Reading, str, float]]) -> list[Reading]:
    """1小时30分钟, 1 h 30 min, 两年零三个月: adjacent parts of one dimension, each in a smaller unit."""
    out: list[Reading] = []
    i = 0
    while i < len(parts):
        _start, end, value, _, base = parts[i]
        j = i + 1
        while (
            not isinstance(value, tuple)
            and j < len(parts)
            and not isinstance(parts[j][2], tuple)
            and re.fullmatch(r"\s*(?:零|and|,)?\s*", text[end : parts[j][0]])
            and 0 < parts[j][4] < base
        ):
            value, end, base = value + parts[j][2], parts[j][1], parts[j][4]  # type: ignore[operator]
            j += 1
        out.append(value)
        i = j
    return out


# --- jionlp ---------------------------------------------------------------------------------------

TIME_BASE = time.mktime((2024, 1, 1, 10, 0, 0, 0, 1, -1))
"""jionlp reads relative times against a base: a fixed one keeps the results repeatable."""
_JIO_TIME_S = {"year": 365 * 86400, "month": 30 * 86400, "day": 86400, "workday": 86400, "week": 7 * 86400,
               "hour": 3600, "minute": 60, "second": 1}  # fmt: skip
_JIO_CURRENCY = {"元": "CNY", "人民币": "CNY", "美元": "USD"}


def jio_extract(case: Case) -> tuple[list[Reading] | None, list[str]]:
    """Durations (``time_delta``) and money from jionlp's extractors; the time points as well."""
    import jionlp as jio

    dim = UNITS[case.unit].dim
    points: list[str] = []
    readings: list[Reading] = []
    if dim == "time" or case.when:
        for e in jio.ner.extract_time(case.text, time_base=TIME_BASE, with_parsing=True):
            d = e["detail"]
            if d["type"] == "time_delta":
                spans = d["time"] if isinstance(d["time"], list) else [d["time"]]
                secs = [sum(_JIO_TIME_S.get(k, 0) * float(v) for k, v in s.items()) for s in spans]
                conv = [to_unit(s, "second", case.unit) for s in secs]
                if all(c is not None for c in conv):
                    readings.append((conv[0], conv[1]) if len(conv) == 2 else conv[0])  # type: ignore[arg-type]
            elif d["type"] in ("time_point", "time_span"):
                points += [t for t in d["time"] if isinstance(t, str)]
    if dim == "money":
        for e in jio.ner.extract_money(case.text, with_parsing=True):
            d = e["detail"]
            cur = _JIO_CURRENCY.get(d.get("case", ""))
            if cur is None:
                continue
            nums = d["num"] if isinstance(d["num"], list) else [d["num"]]
            conv = [to_unit(float(n), cur, case.unit) for n in nums]
            if all(c is not None for c in conv):
                readings.append((conv[0], conv[1]) if len(conv) == 2 else conv[0])  # type: ignore[arg-type]
    in_scope = case.lang == "zh" and dim in ("time", "money")
    return (readings if in_scope else None), points


def when_matches(when: str, points: list[str]) -> bool:
    """``YYYY-MM-DD``, ``MM-DD`` or ``HH:MM`` against jionlp's ``YYYY-MM-DD HH:MM:SS`` points."""
    for p in points:
        if (len(when) == 10 and p[:10] == when) or (len(when) == 5 and "-" in when and p[5:10] == when):
            return True
        if ":" in when and p[11:16] == when:
            return True
    return False


# --- quantulum3 -----------------------------------------------------------------------------------

_QU_PINT = {
    "hour": "hour", "minute": "minute", "second": "second", "day": "day", "week": "week", "month": "month",
    "year": "year", "degree Celsius": "degC", "degree fahrenheit": "degF", "degree Fahrenheit": "degF",
    "percentage": "percent", "dollar": "USD", "united states dollar": "USD", "dollar per year": "USD/year",
    "dollar per month": "USD/month", "dollar per hour": "USD/hour", "chinese yuan per day": "CNY/day",
    "chinese yuan": "CNY", "yuan": "CNY", "kilogram": "kg", "gram": "g", "pound-mass": "lb", "pound": "lb",
    "metre": "m", "kilometre": "km", "centimetre": "cm", "foot": "ft", "inch": "inch", "litre": "L",
    "millilitre": "mL", "mile per hour": "mph", "bar": "bar", "megapascal": "MPa", "newton metre": "N*m",
    "dimensionless": "dimensionless", "per mille": "permille", "permille": "permille",
}  # fmt: skip
UNKNOWN_QU_UNITS: Counter[str] = Counter()


def qu_readings(case: Case) -> list[Reading] | None:
    from quantulum3 import parser

    if case.lang != "en":
        return None
    out: list[Reading] = []
    for q in parser.parse(case.text):
        expr = _QU_PINT.get(q.unit.name)
        if expr is None:
            UNKNOWN_QU_UNITS[q.unit.name] += 1
            continue
        if q.uncertainty and "±" not in q.surface:
            ends: tuple[Any, ...] = (q.value - q.uncertainty, q.value + q.uncertainty)  # 3-5 s is 4 ± 1
        else:
            ends = (q.value,)
        conv = [to_unit(e, expr, case.unit) for e in ends]
        if all(c is not None for c in conv):
            out.append((conv[0], conv[1]) if len(conv) == 2 else conv[0])  # type: ignore[arg-type]
    return out


# --- the peer suite (cn2an) -----------------------------------------------------------------------


def peer_figures() -> dict[str, Any]:
    """Harness (as tests/rubric/test_rubric_numbers_peer.py scores it) and jionlp's parse_money (its Chinese numeral
    reader: a value alone reads as an amount in 元) on cn2an's valued cases."""
    import jionlp as jio

    from harness.rubric.numbers import find_numbers

    cases = [c for c in json.loads(PEER.read_text(encoding="utf-8")) if c["expected"] is not None]

    def value(e: Any) -> list[float]:
        return [e["v"], *e.get("alt", [])] if isinstance(e, dict) else [e]

    def ok(found: list[float], expected: list[Any]) -> bool:
        return len(found) == len(expected) and all(
            any(_close(f, v, 1e-9) or f == v for v in value(e)) for f, e in zip(found, expected, strict=True)
        )

    h_right = sum(ok([f.value for f in find_numbers(c["input"])], c["expected"]) for c in cases)
    single = [c for c in cases if len(c["expected"]) == 1]
    j_right, j_fail = 0, Counter[str]()
    for c in single:
        try:
            d = jio.parse_money(c["input"])
            nums = d["num"] if isinstance(d["num"], list) else [d["num"]]
            j_right += len(nums) == 1 and ok([float(nums[0])], c["expected"])
        except Exception as exc:
            j_fail[type(exc).__name__] += 1
    return {"valued": len(cases), "harness_right": h_right, "single_valued": len(single),
            "harness_right_single": sum(ok([f.value for f in find_numbers(c["input"])], c["expected"]) for c in single),
            "jionlp_parse_money_right_single": j_right, "jionlp_errors": dict(j_fail)}  # fmt: skip


# --- speed ----------------------------------------------------------------------------------------


class _Timeout(Exception):
    pass


def _alarm(_sig: int, _frame: Any) -> None:
    raise _Timeout


def long_answer(cases: list[Case], lang: str, chars: int) -> str:
    texts = [c.text for c in cases if c.lang == lang]
    out, i = [], 0
    total = 0
    while total < chars:
        t = texts[i % len(texts)] + ("。" if lang == "zh" else " ")
        out.append(t)
        total += len(t)
        i += 1
    return "".join(out)[:chars]


def _read_each(fn: Callable[[str], Any], texts: list[str]) -> list[Any]:
    return [fn(t) for t in texts]


def _read_long(fn: Callable[[str], Any], cases: list[Case], lang: str, chars: int) -> Any:
    return fn(long_answer(cases, lang, chars))


def timed(fn: Callable[[], Any], limit_s: int = 120) -> float | None:
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(limit_s)
    try:
        t = time.perf_counter()
        fn()
        return time.perf_counter() - t
    except _Timeout:
        return None
    finally:
        signal.alarm(0)


def speed(cases: list[Case]) -> dict[str, Any]:
    import jionlp as jio
    from quantulum3 import parser

    from harness.rubric.checks_number import NumberArgs, number
    from harness.rubric.numbers import find_numbers

    zh_args = NumberArgs(value=90, unit="分钟", units=UNITS["min"].spellings)
    readers: dict[str, tuple[str, Callable[[str], Any]]] = {
        "harness find_numbers": ("zh", find_numbers),
        "harness number check": ("zh", lambda t: number(t, zh_args)),
        "harness find_numbers (en)": ("en", find_numbers),
        "reader+pint": ("zh", lambda t: reader_pint(Case("x", "x", "zh", t, "min", None))),
        "jionlp extract_time": ("zh", lambda t: jio.ner.extract_time(t, time_base=TIME_BASE)),
        "jionlp extract_money": ("zh", lambda t: jio.ner.extract_money(t)),
        "quantulum3 parse": ("en", parser.parse),
    }
    out: dict[str, Any] = {}
    for name, (lang, fn) in readers.items():
        texts = [c.text for c in cases if c.lang == lang]
        per_case = timed(partial(_read_each, fn, texts))
        row: dict[str, Any] = {"cases_per_s": round(len(texts) / per_case, 1) if per_case else None}
        for chars in (10_000, 20_000, 40_000, 80_000):
            s = timed(partial(_read_long, fn, cases, lang, chars))
            row[f"s_at_{chars // 1000}k"] = None if s is None else round(s, 3)
            if s is None or s > 60:
                break  # over the limit: the longer answers would be slower still
        out[name] = row
    return out


# --- main -----------------------------------------------------------------------------------------


def measure(cases: list[Case]) -> dict[str, Any]:
    verdicts: dict[str, dict[str, str]] = defaultdict(dict)
    whens: dict[str, dict[str, bool]] = defaultdict(dict)
    for c in cases:
        verdicts["harness"][c.id] = harness_judge(c)
        verdicts["reader+pint"][c.id] = judge(c, reader_pint(c))
        j, points = jio_extract(c)
        verdicts["jionlp"][c.id] = judge(c, j)
        verdicts["quantulum3"][c.id] = judge(c, qu_readings(c))
        if c.when and c.lang == "zh":
            whens["jionlp"][c.id] = when_matches(c.when, points)
    return {"verdicts": verdicts, "when": whens}


def table(cases: list[Case], verdicts: dict[str, dict[str, str]]) -> str:
    kinds = list(dict.fromkeys(c.kind for c in cases))
    names = list(verdicts)
    head = "| kind | cases | " + " | ".join(names) + " |"
    lines = [head, "|" + "---|" * (len(names) + 2)]

    def cell(ids: list[str], name: str) -> str:
        n = Counter(verdicts[name][i] for i in ids)
        scored = n["right"] + n["wrong"] + n["missed"]
        if not scored:
            return "n/a"
        return f"{n['right']}/{scored} ({n['wrong']} wrong, {n['missed']} missed)"

    for k in kinds:
        ids = [c.id for c in cases if c.kind == k]
        lines.append(f"| {k} | {len(ids)} | " + " | ".join(cell(ids, n) for n in names) + " |")
    all_ids = [c.id for c in cases]
    lines.append(f"| **all** | {len(all_ids)} | " + " | ".join(cell(all_ids, n) for n in names) + " |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, help="write every verdict and figure here")
    ap.add_argument("--no-speed", action="store_true", help="skip the timing runs")
    ap.add_argument("--show", default="", help="print each case's verdicts for these kinds (comma-separated)")
    a = ap.parse_args()
    warnings.filterwarnings("ignore")
    logging.disable(logging.CRITICAL)  # jionlp logs a traceback for every string it cannot parse

    t = time.perf_counter()
    import jionlp  # noqa: F401

    import_s = {"jionlp": time.perf_counter() - t}
    t = time.perf_counter()
    import quantulum3.parser  # noqa: F401

    import_s["quantulum3"] = time.perf_counter() - t
    t = time.perf_counter()
    ureg()
    import_s["pint (registry)"] = time.perf_counter() - t

    cases = load_cases()
    result = measure(cases)
    verdicts = result["verdicts"]
    print(f"{len(cases)} cases; imports (s): " + ", ".join(f"{k} {v:.2f}" for k, v in import_s.items()))
    print(table(cases, verdicts))
    wn = result["when"]["jionlp"]
    print(f"\njionlp reads the stated date/clock time in {sum(wn.values())}/{len(wn)} cases; misses: "
          + ", ".join(i for i, ok in wn.items() if not ok))  # fmt: skip
    shown = set(a.show.split(",")) if a.show else set()
    for c in cases:
        if c.kind in shown or "all" in shown:
            print(f"{c.id:10} {c.text!r:42} " + "  ".join(f"{n}={verdicts[n][c.id]}" for n in verdicts))
    peer = peer_figures()
    print("\ncn2an peer suite:", json.dumps(peer, ensure_ascii=False))
    print("quantulum3 units with no mapping:", dict(UNKNOWN_QU_UNITS))
    sp = None if a.no_speed else speed(cases)
    if sp:
        print("\nspeed:")
        for k, v in sp.items():
            print(f"  {k}: {v}")
    print("\nnetwork connections attempted:", len(CONNECT_ATTEMPTS), CONNECT_ATTEMPTS[:3])
    if a.json:
        a.json.write_text(json.dumps({"import_s": import_s, **result, "peer": peer, "speed": sp,
                                      "connect_attempts": CONNECT_ATTEMPTS}, ensure_ascii=False, indent=1))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
