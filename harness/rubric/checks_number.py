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
computation ("600×1.2=720元": 720 is the claim). A hedge fails: "5天或10天", "either 5 or 10
days", a range when one value is asked (5到10天 fails ``value: 5``; it passes ``value: 7,
tolerance: 3``, which holds both ends), a shotgun list ("41天 42天 43天 … 12天"). A tolerance
(220±5℃) is the centre 220 and the tolerance 5, not two values offered.

A figure is read with its unit: after it (a range writes it once: 3到5秒), a currency sign
before it (``units: {¥: 1}`` reads ¥1,200.50), a rate's 每 before it (每天200元 is 200 元/天),
a markdown table header ("| 天数（天） |" gives a bare 5 below it the unit 天), or, for a bare
figure ("5", "五", "人均两百"), the unit the question asks in ("年假有几天？", "人均多少元？",
"how many days"). Compound durations add up: 1小时30分钟, 1h30min and "an hour and a half" are
90 min with ``units: {小时: 60}`` (and never 30 or 60). Per mille converts to per cent.
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass, replace

from pydantic import Field, field_validator, model_validator

from harness.rubric.commit import ALTERNATIVE, Mention, commit, revisions
from harness.rubric.numbers import Found, find_numbers
from harness.rubric.registry import Args, Evidence, Outcome, check
from harness.rubric.text import negated_at, nfkc
from harness.rubric.units import (
    Layout,
    Unit,
    asked_factor,
    qualifiers,
    rate_around,
    read_layout,
    sign_before,
    spellings_of,
    target_of,
    unit_after,
    unit_before,
)

_DENOMINATOR = re.compile(r"\s*(?:/|\bper\s+|\ban?\s+|每)\s*([a-z]+|[\u4e00-\u9fff])", re.IGNORECASE)
"""/year, per month, a day, 每天: a rate's denominator after the unit; figures of different rates
are different quantities ($24.99/month or $249/year is not a hedge)."""
_UNITLESS_KEY = re.compile(r"\s*个?\s*(%|‰|°\w?|[a-z]+|[\u4e00-\u9fff])", re.IGNORECASE)
_OPERAND_AFTER = re.compile(r"\s*(?:[×÷+]|(?<!\*)\*(?!\*)|[xX](?=\s*\d)|乘以|除以|加上|减去)")
_OPERAND_BEFORE = re.compile(r"(?:[×÷+]|(?<!\*)\*|(?<=[\d\s])[xX]|乘以|除以|加上|减去)\s*$")
_LIST_MARKER = re.compile(r"[.、)）:：][ \t]*[^\s]")
"""1. / 2、/ 3) before more words on the line: a list number ("5." alone is an answer)."""
_WORD_AFTER = re.compile(r"\s*([A-Za-z-]+)\s+")
_AGO = re.compile(r"\s+ago\b", re.IGNORECASE)
"""3 months ago: a point in time, not an amount of the asked quantity."""
_CLAUSE_SPLIT = re.compile(r"[,.;:!?、，。；：！？\n]")
_FUNCTION_WORD = re.compile(
    r"\s*(?:(?:to|for|if|as|at|in|or|and|just|is|would|should|then|instead|maybe|then)\b|[吧就才了呢啊更])", re.I
)
_COMPOUND_GAP = re.compile(r"\s?(?:零|又|and)?\s?", re.IGNORECASE)


class NumberArgs(Args):
    value: float | None = None
    between: tuple[float, float] | None = None
    """Inclusive range, instead of ``value``."""
    unit: str | None = None
    units: dict[str, float] = Field(default_factory=dict)
    """Other unit spellings -> factor that converts them into ``unit`` (mm: 0.1 for unit cm)."""
    require_unit: bool = True
    """With ``unit``: a bare number without a unit does not count (unless the question asks in the unit)."""
    tolerance: float = Field(default=0.0, ge=0)
    tolerance_pct: float | None = Field(default=None, ge=0)

    @field_validator("units", mode="before")
    @classmethod
    def _units_is_a_mapping(cls, v: object) -> object:
        if isinstance(v, str | int | float):
            raise ValueError(f"units maps other spellings to factors, e.g. {{mm: 0.1}}; did you mean unit: {v!r}?")
        return v

    @model_validator(mode="after")
    def _one_target(self) -> NumberArgs:
        if (self.value is None) == (self.between is None):
            raise ValueError("give exactly one of value or between")
        if self.between and self.between[0] > self.between[1]:
            raise ValueError("between must be [low, high] with low <= high")
        if self.units and not self.unit:
            raise ValueError("units needs unit (the unit the factors convert into)")
        if self.unit is not None and any(not nfkc(u).strip() for u in (self.unit, *self.units)):
            raise ValueError("a unit spelling must not be empty")
        if any(f <= 0 for f in self.units.values()):
            raise ValueError("unit factors must be positive")
        return self


def _spellings(args: NumberArgs) -> dict[str, float]:
    """Every spelling -> factor, casefolded, longest first: a rate X/Y also as X每Y, X per Y, X一Y
    (CJK) or X a Y (Latin); 块 wherever 元 is declared (一百块 is 100 元). Read-only (cached)."""
    return spellings_of(args.unit or "", tuple(args.units.items()))


@dataclass(frozen=True)
class _Fig:
    """A figure read with its unit: ``low``/``high`` in the check's unit (equal unless a range)."""

    low: float
    high: float
    head: int
    """Where the number starts (a negation or an operator is read before it)."""
    end: int
    """End of the figure with its unit (and a rate's denominator)."""
    key: str
    bare: bool
    factor: float = 1.0
    """The factor of the unit written (小时: 60): a compound duration adds falling units."""
    start: int = -1
    """Where the figure starts with a currency sign before it ($249); ``head`` when none."""


def _figures(text: str, found: list[Found], args: NumberArgs, asked: float | None, layout: Layout) -> list[_Fig]:
    """Every figure of ``text`` (numbers ``found``) whose unit fits the check, in order; compound
    durations summed."""
    spellings = _spellings(args) if args.unit is not None else {}
    target = target_of(args.unit, tuple(args.units.items())) if args.unit is not None else None
    raw: list[tuple[Found, Unit | None]] = []
    marks = [end for _, end in revisions(text)] if args.unit is not None else []
    starts_at: dict[int, int] = {}
    for k, f in enumerate(found):
        if f.kind != "quantity" and (args.unit is not None or _date_piece(found, k)):
            continue  # a date, a clock time, an ordinal, an identifier states no amount of a unit
        if args.unit is None:
            if f.head and text[f.head - 1] in "$¥€£":
                starts_at[f.head] = f.head - 1
            raw.append((f, Unit(1.0, 0)))
            continue
        before = text[max(0, f.head - 24) : f.head]
        unit = unit_after(text[f.unit_pos : f.unit_pos + 24], before, spellings, f.unit_hint, target)
        word = _WORD_AFTER.match(text, f.unit_pos) if unit is None and layout.qualifiers else None
        if word and word.group(1).casefold() in layout.qualifiers:
            unit = unit_after(text[word.end() : word.end() + 24], before, spellings, None, target)
            unit = replace(unit, taken=unit.taken + word.end() - f.unit_pos) if unit and not unit.bare else None
        prefix = unit_before(text[max(0, f.head - 8) : f.head], spellings) or sign_before(before, target)
        around = rate_around(before, text[f.end : f.end + 16], spellings) if unit is None or unit.bare else None
        if around is not None:
            unit = around[0]
            starts_at[f.head] = f.head - around[1]
        elif prefix is not None and (unit is None or unit.bare):
            unit = Unit(prefix[0])
            starts_at[f.head] = f.head - prefix[1]
        elif (unit is None or unit.bare) and raw and _revises(marks, f.head) and _no_unit_after(text, f.end):
            last = next((u for _, u in reversed(raw) if u is not None and not u.bare), None)
            unit = Unit(last.factor, offset=last.offset) if last else unit  # "5 days... sorry, I meant 10": 10 days
        raw.append((f, unit))
    # "5 or 10 days", "5或10天": the first takes the unit of the second; "5 days or maybe 10": the
    # second takes the unit of the first
    for i in range(len(raw) - 2, -1, -1):
        (f, unit), (g, next_unit) = raw[i], raw[i + 1]
        if (unit is None or unit.bare) and next_unit and ALTERNATIVE.fullmatch(text, f.end, g.head):
            raw[i] = (replace(f, unit_at=g.unit_pos), replace(next_unit, taken=0))
    for i in range(1, len(raw)):
        (f, unit), (g, next_unit) = raw[i - 1], raw[i]
        alone = (next_unit is None or next_unit.bare) and _alone(text, g.end)
        if (
            unit
            and not unit.bare
            and unit.taken
            and alone
            and ALTERNATIVE.fullmatch(text, f.unit_pos + unit.taken, g.head)
        ):
            raw[i] = (g, replace(unit, taken=0))
    figs: list[_Fig] = []
    for f, unit in raw:
        if unit is None:
            continue
        end = f.unit_pos + unit.taken if unit.taken else f.end
        factor = unit.factor
        if unit.bare and args.unit is not None:
            factor_or_none = _bare_factor(text, f, args, asked, layout, layout.labels)
            if factor_or_none is None:
                continue
            factor = factor_or_none
        value = f.value
        den = _DENOMINATOR.match(text, end)
        key = den.group(1).casefold() if den and not unit.bare else ""
        if args.unit is None:
            word = _UNITLESS_KEY.match(text, f.end)
            key = text[f.head - 1 : f.head] if f.head and text[f.head - 1] in "$¥€£" else ""
            key += (word.group(1).casefold().rstrip("s") if word else "") + "/" + (den.group(1) if den else "")
        end = den.end() if den and not unit.bare else end
        low, high = f.range if f.range else (value, value)
        if figs and f.range and figs[-1].head == f.head:
            continue  # the second end of the same range (两三天, 3到5秒)
        start = starts_at.get(f.head, f.head)
        low, high = low * factor + unit.offset, high * factor + unit.offset
        figs.append(_Fig(low, high, f.head, end, key, unit.bare, factor, start))
    if args.unit is None:  # "5 or 10 days": the 5 is a number of days too
        for i in range(len(figs) - 2, -1, -1):
            if ALTERNATIVE.fullmatch(text, figs[i].end, figs[i + 1].head):
                figs[i] = replace(figs[i], key=figs[i + 1].key)
    return _merge(text, sorted(figs, key=lambda g: g.head))


def _merge(text: str, figs: list[_Fig]) -> list[_Fig]:
    """1小时30分钟, 1h30min, 2天3小时: adjacent figures of falling units add up (one figure)."""
    out: list[_Fig] = []
    for g in figs:
        last = out[-1] if out else None
        if (
            last is not None
            and not last.bare
            and not g.bare
            and last.factor > g.factor
            and last.low == last.high
            and g.low == g.high
            and _COMPOUND_GAP.fullmatch(text, last.end, g.head)
            and last.low > 0
        ):
            out[-1] = replace(last, low=last.low + g.low, high=last.high + g.high, end=g.end)
            continue
        out.append(g)
    return out


def _bare_factor(
    text: str, f: Found, args: NumberArgs, asked: float | None, layout: Layout, question_labels: frozenset[str]
) -> float | None:
    """The unit a bare figure takes: its table column's or label's, the one the question asks
    in, or (``require_unit: false``) the check's own; None when it has none or is a list marker."""
    if (factor := layout.factor(f.head, f.end)) is not None:
        return factor
    line_start = text.rfind("\n", max(0, f.head - 8), f.head) + 1
    if not text[line_start : f.head].strip(" \t#*->") and _LIST_MARKER.match(text, f.end):
        return None  # "1. 年假……": a list number
    label = re.search(r"\b([A-Za-z]+)\s*$", text[max(0, f.head - 16) : f.head])
    if label and question_labels and label.group(1).casefold() in question_labels:
        return None  # "Line 4" to "...on Line 3?": a label like the question's, no amount
    if asked is not None:
        return asked
    return None if args.require_unit else 1.0


def _alone(text: str, end: int) -> bool:
    """Nothing that could be a unit follows a figure at ``end`` ("or maybe 10." / "或10？")."""
    nxt = text[end : end + 1]
    return not nxt or not (nxt.isalnum() or nxt in "%‰°个")


def _date_piece(found: list[Found], k: int) -> bool:
    """A piece of a date or clock time written with others (the 5 of March 5, 2024; of 8点05分).
    Without a unit any number counts, a lone year (二〇二四年) and 第5条 too, but not these."""
    f = found[k]
    if f.kind not in ("date", "time"):
        return False
    near = [g for g in found[max(0, k - 1) : k + 2] if g is not f]
    return any(g.kind == f.kind and (abs(g.start - f.end) <= 3 or abs(f.start - g.end) <= 3) for g in near)


def _no_unit_after(text: str, end: int) -> bool:
    """What follows a figure is no unit: nothing, a mark, or a function word ("30 to be safe")."""
    return _alone(text, end) or bool(_FUNCTION_WORD.match(text, end))


def _revises(marks: list[int], head: int) -> bool:
    """A revision mark (its end in ``marks``) stands right before ``head`` ("sorry, I meant 10", "更正：应为10")."""
    k = bisect.bisect_right(marks, head) - 1
    return k >= 0 and marks[k] >= head - 8


def _target(args: NumberArgs) -> tuple[float, float]:
    if args.between is not None:
        return args.between
    assert args.value is not None
    tol = args.tolerance
    if args.tolerance_pct is not None:
        tol = max(tol, abs(args.value) * args.tolerance_pct / 100)
    return args.value - tol - 1e-9, args.value + tol + 1e-9


def _describe(args: NumberArgs) -> str:
    unit = args.unit or ""
    if args.between is not None:
        return f"{args.between[0]:g}–{args.between[1]:g}{unit}"
    low, high = _target(args)
    tol = (high - low) / 2 - 1e-9
    return f"{args.value:g}{unit}" + (f" ±{tol:g}" if tol > 1e-9 else "")


def _label(low: float, high: float, unit: str | None) -> str:
    u = unit or ""
    sep = " " if u[:1].isascii() and u[:1].isalpha() else ""
    return f"{low:g}{sep}{u}" if low == high else f"{low:g}–{high:g}{sep}{u}"


def _echoes(question: str, args: NumberArgs) -> frozenset[tuple[str, float, float]]:
    """(key, low, high) of the figures the question states as given ("已经过去45天了，期限是多少天？");
    a figure it asks about ("试用期是3个月吗？") is no echo: restating it confirms it. Cached."""
    return _echoes_of(question, args.unit, tuple(args.units.items()), args.require_unit)


@functools.lru_cache(maxsize=1024)
def _echoes_of(
    question: str, unit: str | None, units: tuple[tuple[str, float], ...], require_unit: bool
) -> frozenset[tuple[str, float, float]]:
    args = NumberArgs(value=0, unit=unit, units=dict(units), require_unit=require_unit)
    figs = _figures(question, find_numbers(question), args, None, Layout())
    given = [g for g in figs if (end := _CLAUSE_SPLIT.search(question, g.end)) is None or end.group() not in "?？"]
    return frozenset((g.key, round(g.low, 9), round(g.high, 9)) for g in given)


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


def _operand(text: str, g: _Fig) -> bool:
    """A figure a computation works on (600 and 1.2 of 600×1.2=720元); its result is the claim."""
    return bool(_OPERAND_AFTER.match(text, g.end) or _OPERAND_BEFORE.search(text[max(0, g.head - 6) : g.head]))


def _listed(figs: list[_Fig] | list[Mention], unit: str | None) -> str:
    labels = [_label(g.low, g.high, unit) if isinstance(g, _Fig) else g.label for g in figs]
    return ", ".join(dict.fromkeys(labels))


@check("number", NumberArgs, uses_evidence=True)
def number(answer: str, args: NumberArgs, evidence: Evidence | None = None) -> Outcome:
    """The value the answer commits to is within tolerance of ``value`` (or in ``between``),
    with ``unit`` (or a declared spelling) when given; a hedge (5天或10天) fails.

    Reads 五天, 一百二十, 两, １８０, 2,000, 1.5万; converts declared units, then known units of the
    same dimension (90分钟 for 1.5 小时, 68°F for 20 ℃; :mod:`harness.rubric.units`); 1小时30分钟 = 90 min.
    """
    text = nfkc(answer)
    question = nfkc(evidence.question) if evidence is not None else ""
    spellings = _spellings(args) if args.unit is not None else {}
    asked = asked_factor(question, spellings) if question and spellings else None
    found = find_numbers(answer)
    layout = read_layout(text, spellings) if spellings else Layout()
    layout.labels = frozenset(w.casefold() for w in re.findall(r"\b([A-Za-z]+)\s*\d", question))
    layout.qualifiers = qualifiers(question, spellings)
    others = layout.other_rows(question)
    figs = _figures(text, found, args, asked, layout)
    echoes = _echoes(question, args) if question else frozenset()
    low, high = _target(args)
    negated = [g for g in figs if negated_at(text, g.head)]
    denied = {id(g) for g in negated}
    operands = [g for g in figs if id(g) not in denied and _operand(text, g)]
    elsewhere = [g for g in figs if any(a <= g.head < b for a, b in others) or _AGO.match(text, g.end)]
    aside = denied | {id(g) for g in operands} | {id(g) for g in elsewhere}
    byhead: dict[int, _Fig] = {}
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

    def fits(m: Mention) -> bool:
        g = byhead[m.start]
        return low <= g.low and g.high <= high

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
    seen = [f"{f.value:g}" for f in found[:6]]
    why = f"expected {_describe(args)}; saw {', '.join(seen) or 'no numbers'}"
    for name, items in (("negated", negated), ("retracted", said.retracted), ("echoes the question", said.echoes),
                        ("worked on", operands), ("other rows", elsewhere)):  # fmt: skip
        if items:
            why += f" ({name}: {_listed(items, args.unit)})"
    return Outcome(0.0, False, why)
