"""The ``number`` check: the value (or range) the answer commits to, with its unit, in any numeral style.

Example::

    - type: number
      value: 180
      unit: ℃
      units: {摄氏度: 1, 度: 1}      # other spellings, with the factor into ``unit``
      tolerance: 5                  # or tolerance_pct: 3

    - type: number
      between: [0.5, 0.8]
      unit: MPa
      units: {bar: 0.1, kPa: 0.001}

Each figure whose unit fits is a *mention* (:class:`harness.rubric.commit.Mention`); the check
passes when the answer commits to a value that fits and offers no other value for it. Not
claims: a figure the answer denies ("不是5天", "do not set it to 250 °C"), retracts ("5天，更正：
应为10天"), or echoes from the question when it states one of its own, and the operands of a
computation ("600×1.2=720元": 720 is the claim), a former value ("原来是30天，现在改成14天"),
and a value for another case ("16 GB, upgradable to 32 GB"). A hedge fails: "5天或10天", "either 5 or 10
days", a range when one value is asked (5到10天 fails ``value: 5``; it passes ``value: 7,
tolerance: 3``, which holds both ends), a shotgun list ("41天 42天 43天 … 12天"). A tolerance
(220±5℃) is the centre 220 and the tolerance 5, not two values offered. For ``between``, a one-sided bound
("-18℃以下") states only one end of the range asked, and passes only with a bound of the other side.

A figure is read with its unit: after it (a range writes it once: 3到5秒), a currency sign
before it (``units: {¥: 1}`` reads ¥1,200.50), a rate's 每 before it (每天200元 is 200 元/天),
a markdown table header ("| 天数（天） |" gives a bare 5 below it the unit 天), or, for a bare
figure ("5", "五", "人均两百"), the unit the question asks in ("年假有几天？", "人均多少元？",
"how many days"), the one unit the question writes its own figures in ("off for 40 minutes" then
"30."), years for an age ("18+"), and money for "5万" / "六十万" to an amount question (the 万 is
not applied twice to "多少万元"). Compound durations add up: 1小时30分钟, 1h30min and "an hour and a half" are
90 min with ``units: {小时: 60}`` (and never 30 or 60); so do durations in words ("three-quarters of
an hour", "every half hour", 一刻钟: :mod:`harness.rubric.spoken`). Per mille converts to per cent.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from harness.rubric.commit import Commitment, Mention, commit
from harness.rubric.figures import Fig, NumberArgs, read_figures, spellings
from harness.rubric.layout import Layout, read_layout
from harness.rubric.numbers import Found, find_numbers
from harness.rubric.registry import Evidence, Outcome, check
from harness.rubric.spoken import asks_interval
from harness.rubric.text import negated_at, nfkc
from harness.rubric.units import (
    asked_factor,
    asked_magnitude,
    asks_amount,
    money_factor,
    qualifiers,
    question_periods,
    spellings_of,
)

__all__ = ["NumberArgs", "claimed", "number"]

_CLAUSE_SPLIT = re.compile(r"[,.;:!?、，。；：！？\n]")

_AGO = re.compile(r"\s+ago\b", re.IGNORECASE)
"""3 months ago: a point in time, not an amount of the asked quantity."""

_OPERAND_BEFORE = re.compile(r"(?:[×÷+]|(?<!\*)\*|(?<=[\d\s])[xX]|乘以|除以|加上|减去)\s*$")

_OPERAND_AFTER = re.compile(r"\s*(?:[×÷]|\+(?=\s*[\d(])|(?<!\*)\*(?!\*)|[xX](?=\s*\d)|乘以|除以|加上|减去)")


def _target(args: NumberArgs) -> tuple[float, float]:
    if args.between is not None:
        return args.between
    assert args.value is not None
    tol = args.tolerance
    if args.tolerance_pct is not None:
        tol = max(tol, abs(args.value) * args.tolerance_pct / 100)
    return args.value - tol - 1e-9, args.value + tol + 1e-9


def _describe(args: NumberArgs) -> str:
    if args.between is not None:
        return _label(args.between[0], args.between[1], args.unit)
    low, high = _target(args)
    tol = (high - low) / 2 - 1e-9
    value = args.value if args.value is not None else (low + high) / 2
    return _label(value, value, args.unit) + (f" ±{tol:g}" if tol > 1e-9 else "")


def _label(low: float, high: float, unit: str | None) -> str:
    """How a value reads in an explanation: a space before a unit that starts with a Latin letter
    (1000 kg, 30 minutes), none before others (5天, 80℃, 50%)."""
    u = unit or ""
    sep = " " if u[:1].isascii() and u[:1].isalpha() else ""
    return f"{low:g}{sep}{u}" if low == high else f"{low:g}–{high:g}{sep}{u}"


def _echoes(question: str, args: NumberArgs) -> frozenset[tuple[str, float, float]]:
    """(key, low, high) of the figures the question states as given ("已经过去45天了，期限是多少天？");
    a figure it asks about ("试用期是3个月吗？") is no echo: restating it confirms it."""
    figs = _question_figs(question, args.unit, tuple(args.units.items()), args.require_unit)
    given = [g for g in figs if (end := _CLAUSE_SPLIT.search(question, g.end)) is None or end.group() not in "?？"]
    return frozenset((g.key, round(g.low, 9), round(g.high, 9)) for g in given)


def _question_unit(question: str, args: NumberArgs) -> float | None:
    """The factor of the one declared unit the question writes its figures in ("off for 40
    minutes. What's the maximum allowed?"): a bare figure of the answer ("30.") takes it; None
    when the question writes none, or figures in several units."""
    figs = _question_figs(question, args.unit, tuple(args.units.items()), args.require_unit)
    factors = {g.factor for g in figs if not g.bare}
    return factors.pop() if len(factors) == 1 else None


@functools.lru_cache(maxsize=1024)
def _asked(
    question: str, unit: str | None, units: tuple[tuple[str, float], ...], require_unit: bool
) -> tuple[float | None, tuple[tuple[str, Any], ...]]:
    """What the question says about the asked figure, read once per (question, check) and cached: the
    factor of the unit it asks in, and the :class:`Layout` fields that come from the question alone
    (labels, qualifiers, periods, whether it asks an amount or an interval, its magnitude, money)."""
    spells = spellings_of(unit or "", units) if unit is not None else {}
    asked = asked_factor(question, spells) if question and spells else None
    facts: dict[str, Any] = {
        "labels": frozenset(w.casefold() for w in re.findall(r"\b([A-Za-z]+)\s*\d", question)),
        "qualifiers": qualifiers(question, spells),
        "periods": question_periods(question, spells) if question else frozenset(),
        "amount_asked": asks_amount(question),
        "interval_asked": asks_interval(question),
    }
    if question and spells:
        facts["magnitude"] = asked_magnitude(question)
        facts["money"] = money_factor(spells) if facts["amount_asked"] or facts["magnitude"] > 1 else None
        if asked is None:
            args = NumberArgs(value=0, unit=unit, units=dict(units), require_unit=require_unit)
            asked = _question_unit(question, args)
    return asked, tuple(facts.items())


@functools.lru_cache(maxsize=1024)
def _question_figs(
    question: str, unit: str | None, units: tuple[tuple[str, float], ...], require_unit: bool
) -> tuple[Fig, ...]:
    """The question's own figures read in the check's unit. Cached."""
    args = NumberArgs(value=0, unit=unit, units=dict(units), require_unit=require_unit)
    return tuple(read_figures(question, find_numbers(question), args, None, Layout()))


_COPULA = re.compile(r"(?:是|为|等于|达到|is|are|was|were|be|equals|=)\s*(?:约|大约|about|around)?\s*$", re.IGNORECASE)


def _own_claim(text: str, head: int, question: str) -> bool:
    """A figure the question states that the answer predicates of a subject the question does not
    ("上限是3.25 mm" to "实测3.25 mm，合格吗？"): the answer's own claim, not an echo."""
    lead = _CLAUSE_SPLIT.split(text[max(0, head - 12) : head])[-1]
    cue = _COPULA.search(lead)
    if cue is None:
        return False
    said = re.sub(r"\s+", " ", lead[max(0, cue.start() - 4) :].strip()).casefold()
    return said not in question.casefold()


def _operand(text: str, g: Fig) -> bool:
    """A figure a computation works on (600 and 1.2 of 600×1.2=720元); its result is the claim."""
    return bool(_OPERAND_AFTER.match(text, g.end) or _OPERAND_BEFORE.search(text[max(0, g.head - 6) : g.head]))


_UPPER = re.compile(
    r"\s*(?:及|或)?(?:以下|以内|之内)|\s*(?:or|and)\s+(?:less|lower|below|under|fewer|colder)\b", re.IGNORECASE
)
_LOWER = re.compile(
    r"\s*(?:及|或)?以上|\+(?!\s*[\d(])|\s*(?:or|and)\s+(?:more|higher|above|over|warmer|older)\b", re.IGNORECASE
)
_UPPER_BEFORE = re.compile(
    r"(?:不超过|不高于|不大于|最多|最高|至多|(?<!不)低于|≤|<|\bat\s+most|\bup\s+to|\bbelow|\bunder|\bno\s+(?:more|higher)\s+than"
    r"|\bmax(?:imum)?)\s*(?:是|为|of)?\s*$",
    re.IGNORECASE,
)
_LOWER_BEFORE = re.compile(
    r"(?:不低于|不少于|不小于|至少|最少|最低|(?<!不)高于|≥|>|\bat\s+least|\babove|\bover|\bno\s+(?:less|lower)\s+than"
    r"|\bmin(?:imum)?)\s*(?:是|为|of)?\s*$",
    re.IGNORECASE,
)


_SPAN_OF_DENIED = re.compile(
    r"(?i)\b(?!(?:not|no|never|don'?t|doesn'?t|didn'?t|won'?t|isn'?t|aren'?t)\b)[a-z]+\s+(?:(?:your|the|their|his|her|it|them|teeth|\w+ing)\s+){0,2}"
    r"(?:for|within|during|over|inside\s+of)\s+(?:(?:the\s+)?(?:first|next|at\s+least|about|around|roughly|approximately|up\s+to)\s+)?$"
)
"""A duration after a denied verb ("don't brush for 24 hours", "no brushing within 24 hours"): the
negation denies the action, the span is stated. "not for 24 hours" (the cue right before the
preposition) still denies the figure."""


def _stated_span(text: str, g: Fig) -> bool:
    """The figure is the span of a denied action, not the denied thing (see :data:`_SPAN_OF_DENIED`)."""
    return _SPAN_OF_DENIED.search(text, max(0, g.head - 48), g.head) is not None


def _side(text: str, g: Fig) -> int:
    """-1 when the figure is an upper bound only (-18℃以下, at most 5), 1 a lower bound only
    (至少3天, 5 or more), 0 when it is a value or a range."""
    if g.low != g.high:
        return 0
    before = text[max(0, g.start - 12) : g.start]
    if _UPPER.match(text, g.end) or _UPPER_BEFORE.search(before):
        return -1
    if _LOWER.match(text, g.end) or _LOWER_BEFORE.search(before):
        return 1
    return 0


def _listed(figs: list[Fig] | list[Mention], unit: str | None) -> str:
    labels = [_label(g.low, g.high, unit) if isinstance(g, Fig) else g.label for g in figs]
    return ", ".join(dict.fromkeys(labels))


@dataclass(frozen=True)
class _Reading:
    """An answer's figures as one ``number`` check reads them (its unit, the question's echoes)."""

    text: str
    found: list[Found]
    negated: list[Fig]
    operands: list[Fig]
    elsewhere: list[Fig]
    byhead: dict[int, Fig]
    said: Commitment


def _read(answer: str, args: NumberArgs, evidence: Evidence | None) -> _Reading:
    """The figures of ``answer`` in the check's unit, sorted into claims, hedges, echoes and figures aside."""
    text = nfkc(answer)
    question = nfkc(evidence.question) if evidence is not None else ""
    spells = spellings(args) if args.unit is not None else {}
    found = find_numbers(answer)
    layout = read_layout(text, spells) if spells else Layout()
    asked, facts = _asked(question, args.unit, tuple(args.units.items()), args.require_unit)
    for name, value in facts:
        setattr(layout, name, value)
    others = layout.other_rows(question)
    figs = read_figures(text, found, args, asked, layout)
    echoes = _echoes(question, args) if question else frozenset()
    negated = [g for g in figs if negated_at(text, g.head) and not _stated_span(text, g)]
    denied = {id(g) for g in negated}
    operands = [g for g in figs if id(g) not in denied and _operand(text, g)]
    elsewhere = [g for g in figs if any(a <= g.head < b for a, b in others) or _AGO.match(text, g.end)]
    aside = denied | {id(g) for g in operands} | {id(g) for g in elsewhere}
    byhead: dict[int, Fig] = {}
    mentions: list[Mention] = []
    for g in figs:
        if id(g) in aside:
            continue
        value = (round(g.low, 9), round(g.high, 9))
        byhead[g.start if g.start >= 0 else g.head] = g
        mentions.append(
            Mention(
                g.start if g.start >= 0 else g.head,
                g.end,
                value,
                g.key,
                _label(g.low, g.high, args.unit),
                (g.key, *value) in echoes and not _own_claim(text, g.head, question),
            )
        )
    said = commit(text, mentions)
    return _Reading(text, found, negated, operands, elsewhere, byhead, said)


def claimed(answer: str, args: NumberArgs, evidence: Evidence | None = None) -> tuple[list[Fig], list[Fig]]:
    """The figures ``answer`` gives for the quantity a ``number`` check asks about, as the check reads them (in
    its unit; echoes of the question, denied, retracted and worked-on figures and other rows' figures aside),
    split into those within the accepted values and the others. ``faithful`` reads it: a figure for the
    asked quantity that is not the source passage's is not faithful, though it may occur elsewhere in it."""
    r = _read(answer, args, evidence)
    low, high = _target(args)
    given = [r.byhead[m.start] for m in r.said.claims]  # a hedge's values are claims too
    inside = [g for g in given if low <= g.low and g.high <= high]
    return inside, [g for g in given if not (low <= g.low and g.high <= high)]


@check("number", NumberArgs, uses_evidence=True)
def number(answer: str, args: NumberArgs, evidence: Evidence | None = None) -> Outcome:
    """The value the answer commits to is within tolerance of ``value`` (or in ``between``),
    with ``unit`` (or a declared spelling) when given; a hedge (5天或10天) fails.

    Reads 五天, 一百二十, 两, １８０, 2,000, 1.5万; converts declared units, then known units of the
    same dimension (90分钟 for 1.5 小时, 68°F for 20 ℃; :mod:`harness.rubric.units`); 1小时30分钟 = 90 min.
    """
    r = _read(answer, args, evidence)
    text, found, negated, operands, elsewhere, byhead, said = (
        r.text,
        r.found,
        r.negated,
        r.operands,
        r.elsewhere,
        r.byhead,
        r.said,
    )
    low, high = _target(args)

    def inside(m: Mention) -> bool:
        g = byhead[m.start]
        return low <= g.low and g.high <= high

    # a range is asked: a one-sided bound (-18℃以下) states it only with a bound of the other side
    sides = {m.start: _side(text, byhead[m.start]) for m in said.claims} if args.between is not None else {}
    bounds = {sides[m.start] for m in said.claims if sides.get(m.start) and inside(m)}

    def fits(m: Mention) -> bool:
        return inside(m) and (not sides.get(m.start) or -sides[m.start] in bounds)

    def touches(m: Mention) -> bool:
        g = byhead[m.start]
        return low <= g.low <= high or low <= g.high <= high

    for group in said.hedges:
        if any(fits(m) for m in group) and not all(fits(m) for m in group):
            return Outcome(0.0, False, f"hedged: {_listed(group, args.unit)} (expected {_describe(args)})")
    for m in said.claims:
        if args.between is None and touches(m) and not fits(m):
            g = byhead[m.start]
            ends = f"{_label(g.low, g.low, args.unit)}, {_label(g.high, g.high, args.unit)}"
            return Outcome(0.0, False, f"hedged: {ends} (a range where one value is asked; expected {_describe(args)})")
    for m in said.claims:
        if fits(m):
            g = byhead[m.start]
            return Outcome(1.0, True, f"found {text[g.head : g.end]!r} = {_label(g.low, g.high, args.unit)}")
    seen = [f"{f.value:g}" for f in found if f.kind != "id"][:6]  # P-400, M4: names, not values
    why = f"expected {_describe(args)}; saw {', '.join(seen) or 'no numbers'}"
    if one_sided := [m for m in said.claims if inside(m) and not fits(m)]:
        why += f" (one bound only: {_listed(one_sided, args.unit)})"
    for name, items in (("negated", negated), ("retracted", said.retracted), ("echoes the question", said.echoes),
                        ("worked on", operands), ("other rows", elsewhere)):  # fmt: skip
        if items:
            why += f" ({name}: {_listed(items, args.unit)})"
    return Outcome(0.0, False, why)
