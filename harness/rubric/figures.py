"""The figures of a text read with their units, for the ``number`` check (:mod:`harness.rubric.checks_number`).

:func:`read_figures` turns the numbers :func:`harness.rubric.numbers.find_numbers` found into
:class:`Fig` records in the check's unit: the unit written after a figure, a sign or code before
it, a rate's period around it or fixed by the question, a table header's unit, the unit the
question asks in for a bare figure; compound durations summed (1小时30分钟, "an hour and a
quarter", 1h15).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial

from pydantic import Field, field_validator, model_validator

from harness.rubric.commit import ALTERNATIVE, alternative_gap, revisions
from harness.rubric.known_units import KNOWN_RE, Unit, known_spelling, sign_before, target_of
from harness.rubric.layout import Layout
from harness.rubric.numbers import Found
from harness.rubric.registry import Args
from harness.rubric.spoken import TIME, intervals, spoken_durations
from harness.rubric.text import nfkc
from harness.rubric.units import magnitude, rate_around, spellings_of, unit_after, unit_before

_DENOMINATOR = re.compile(r"\s*(?:/|\bper\s+|\ban?\s+|每)\s*([a-z]+|[\u4e00-\u9fff])", re.IGNORECASE)
"""/year, per month, a day, 每天: a rate's denominator after the unit; figures of different rates
are different quantities ($24.99/month or $249/year is not a hedge)."""
_UNITLESS_KEY = re.compile(r"\s*个?\s*(%|‰|°\w?|[a-z]+|[\u4e00-\u9fff])", re.IGNORECASE)
_LIST_MARKER = re.compile(r"[.、)）:：][ \t]*[^\s]")
"""1. / 2、/ 3) before more words on the line: a list number ("5." alone is an answer)."""
_WORD_AFTER = re.compile(r"\s*([A-Za-z-]+)\s+")
_ZH_MODIFIER = re.compile(
    r"\s*[个名位]?\s*(?:(?:连续|失败|错误|无效|有效|额外|完整|整整?|足足?)的?|[\u4e00-\u9fff]{1,5}?的)"
)
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


def spellings(args: NumberArgs) -> dict[str, float]:
    """Every spelling -> factor, casefolded, longest first: a rate X/Y also as X每Y, X per Y, X一Y
    (CJK) or X a Y (Latin); 块 wherever 元 is declared (一百块 is 100 元). Read-only (cached)."""
    return spellings_of(args.unit or "", tuple(args.units.items()))


@dataclass(frozen=True)
class Fig:
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


def read_figures(text: str, found: list[Found], args: NumberArgs, asked: float | None, layout: Layout) -> list[Fig]:
    """Every figure of ``text`` (numbers ``found``) whose unit fits the check, in order; compound
    durations summed."""
    spells = spellings(args) if args.unit is not None else {}
    target = target_of(args.unit, tuple(args.units.items())) if args.unit is not None else None
    raw: list[tuple[Found, Unit | None]] = []
    marks = [end for _, end in revisions(text)] if args.unit is not None else []
    starts_at: dict[int, int] = {}
    timed = target is not None and target.name in TIME
    spoken = spoken_durations(text, spells, target) if target is not None and timed else []
    if target is not None and timed and layout.interval_asked:
        spoken = sorted(spoken + intervals(text, spells, target))
    if spoken:
        found = [f for f in found if not any(a <= f.head < b for a, b, _ in spoken)]
    found = _between(text, found)
    for k, f in enumerate(found):
        if f.kind != "quantity" and (args.unit is not None or layout.amount_asked or _date_piece(found, k)):
            continue  # a date, a clock time, an ordinal, an identifier states no amount of a unit
        if args.unit is None:
            if f.head and text[f.head - 1] in "$¥€£":
                starts_at[f.head] = f.head - 1
            raw.append((f, Unit(1.0, 0)))
            continue
        before = text[max(0, f.head - 24) : f.head]
        periods = layout.periods
        unit = unit_after(text[f.unit_pos : f.unit_pos + 24], before, spells, f.unit_hint, target, periods)
        if unit is None:
            unit = _past_modifiers(
                text,
                f.unit_pos,
                layout.qualifiers,
                partial(unit_after, before=before, spellings=spells, hint=None, target=target, periods=periods),
            )
        prefix = unit_before(text[max(0, f.head - 8) : f.head], spells) or sign_before(before, target)
        after = text[f.end : f.end + 16]
        around = rate_around(before, after, spells, periods) if unit is None or unit.bare else None
        if around is not None:
            unit = around[0]
            starts_at[f.head] = f.head - around[1]
        elif prefix is not None and (unit is None or unit.bare):
            unit = Unit(prefix[0])
            starts_at[f.head] = f.head - prefix[1]
        elif unit is not None and unit.bare and raw and (minutes := _minutes_after_hours(text, f, raw[-1])):
            unit = minutes  # 1h15: 15 minutes
        elif (unit is None or unit.bare) and raw and _revises(marks, f.head) and _no_unit_after(text, f.end):
            last = next((u for _, u in reversed(raw) if u is not None and not u.bare), None)
            unit = Unit(last.factor, offset=last.offset) if last else unit  # "5 days... sorry, I meant 10": 10 days
        raw.append((f, unit))
    shared: dict[int, int] = {}
    # "5 or 10 days", "5或10天": the first takes the unit of the second; "5 days or maybe 10": the
    # second takes the unit of the first
    for i in range(len(raw) - 2, -1, -1):
        (f, unit), (g, next_unit) = raw[i], raw[i + 1]
        if (unit is None or unit.bare) and next_unit and ALTERNATIVE.fullmatch(text, f.end, g.head):
            raw[i] = (replace(f, unit_at=g.unit_pos), replace(next_unit, taken=0))
            shared[f.head] = g.unit_pos + next_unit.taken  # its rate too: "600 or 1,000 requests per minute"
    for i in range(1, len(raw)):
        (f, unit), (g, next_unit) = raw[i - 1], raw[i]
        alone = (next_unit is None or next_unit.bare) and _alone(text, g.end)
        if unit and not unit.bare and unit.taken and alone and alternative_gap(text, f.unit_pos + unit.taken, g.head):
            raw[i] = (g, replace(unit, taken=0))
    figs: list[Fig] = []
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
        den = _DENOMINATOR.match(text, shared.get(f.head, end))
        key = den.group(1).casefold() if den and not unit.bare else ""
        den = None if f.head in shared else den
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
        figs.append(Fig(low, high, f.head, end, key, unit.bare, factor, start))
    for a, b, (value, factor, offset) in spoken:
        figs.append(Fig(value * factor + offset, value * factor + offset, a, b, "", False, factor, a))
    if args.unit is None:  # "5 or 10 days": the 5 is a number of days too
        for i in range(len(figs) - 2, -1, -1):
            if ALTERNATIVE.fullmatch(text, figs[i].end, figs[i + 1].head):
                figs[i] = replace(figs[i], key=figs[i + 1].key)
    return _merge(text, sorted(figs, key=lambda g: g.head))


def _merge(text: str, figs: list[Fig]) -> list[Fig]:
    """1小时30分钟, 1h30min, 2天3小时: adjacent figures of falling units add up (one figure)."""
    out: list[Fig] = []
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
    if (
        not text[line_start : f.head].strip(" \t#*->")
        and _LIST_MARKER.match(text, f.end)
        and _in_list(text, f, line_start)
    ):
        return None  # "1. 年假……": a list number
    label = re.search(r"\b([A-Za-z]+)\s*$", text[max(0, f.head - 16) : f.head])
    if label and question_labels and label.group(1).casefold() in question_labels:
        return None  # "Line 4" to "...on Line 3?": a label like the question's, no amount
    own = magnitude(text, f.end)  # 六十万 to 多少万元: the 万 is written, not to be applied twice
    if asked is not None:
        return asked / own if own > 1 and own == layout.magnitude else asked
    if own > 1 and layout.money is not None:
        return layout.money  # "5万" to an amount question of a money check
    return None if args.require_unit else 1.0


_NOT_QUALIFIER = re.compile(
    r"(?:a|an|the|of|per|each|every|for|to|in|on|at|by|from|with|and|or|but|than|then|plus|minus|not|no|only"
    r"|is|are|was|were|be|this|that|these|those|calendar|business|working|weekday|weekend|natural|times?"
    r"|during|including|excluding|regarding|concerning|according|pending|totall?ing|being|nothing|something)"
)
"""Words that join or change a quantity rather than qualify it ("4 pallets per person", "5
calendar days" is no count of working days)."""


_ADJECTIVE = re.compile(r"..(?:ed|al|ive|ful|ous|ic|ent|ant|ary|ior|ible|able|ing)$|-(?:time|level|grade)$")
"""The shape of an adjective or participle: authorised, trained, senior, qualified, full-time, running, operating
(not a verb or a number word: "Station 4 needs two people" is no 4 people)."""
_NOUN_MODIFIERS = frozenset({"machine", "engine", "flight", "service", "clock", "duty", "operation", "run", "runtime"})
"""Nouns that say which hours or cycles are counted without changing the unit: "500 machine hours", "every 3000
service hours" (a maintenance interval in hours is in such hours)."""


def _qualifies(word: str, words: frozenset[str]) -> bool:
    """A word that may stand between a figure and its unit: the question's own or a modifier
    (``words``), or an adjective that is no unit ("2 authorised staff", "3 trained officers")."""
    if word in words or word in _NOUN_MODIFIERS:
        return True
    shaped = _ADJECTIVE.search(word) is not None
    return shaped and not _NOT_QUALIFIER.fullmatch(word) and known_spelling(word) is None


_NUMERAL = re.compile(r"[\d〇一二两三四五六七八九十]")


def _in_list(text: str, f: Found, line_start: int) -> bool:
    """A number with a list mark at the start of a line is a list number when other lines follow
    or precede it, or its line goes on with a figure of its own ("1. 年假为5天"); alone on one line
    with words and no figure ("30. Quarantine it.") it is the answer."""
    line_end = text.find("\n", f.end, f.end + 400)
    return line_start > 0 or line_end >= 0 or _NUMERAL.search(text, f.end, f.end + 200) is not None


def _past_modifiers(text: str, pos: int, words: frozenset[str], read: Callable[[str], Unit | None]) -> Unit | None:
    """The unit (``read`` from the text after a position) after up to three qualifying words from
    ``pos`` ("5 failed login attempts", "3个连续夜班"); None when none follows them."""
    end = pos
    for _ in range(3):
        m = _WORD_AFTER.match(text, end)
        if m and _qualifies(m.group(1).casefold().strip("-"), words):
            end = m.end()
        elif (z := _ZH_MODIFIER.match(text, end)) is not None and z.end() > end and not KNOWN_RE.match(text, end):
            end = z.end()
        else:
            return None
        unit = read(text[end : end + 24])
        if unit is not None and not unit.bare:
            return replace(unit, taken=unit.taken + end - pos)
    return None


_BETWEEN = re.compile(r"(?i)(?:\bbetween|介于|在)\s*$")
_AND = re.compile(r"(?i)\s*(?:and|和|与|跟|至|到)\s*")


def _between(text: str, found: list[Found]) -> list[Found]:
    """ "between 3 and 5 attempts", "介于3和5次之间": a range, like 3到5次 (the first end takes the unit
    of the second)."""
    out = list(found)
    for i in range(len(out) - 1):
        f, g = out[i], out[i + 1]
        if f.range or g.range or f.kind != "quantity" or g.kind != "quantity":
            continue
        if _AND.fullmatch(text, f.end, g.head) and _BETWEEN.search(text[max(0, f.head - 10) : f.head]):
            if text[f.head - 1 : f.head] == "在" and "之间" not in text[g.end : g.end + 8]:
                continue  # 在3和5之间 is a range, 在3和5天 need not be
            span = (min(f.value, g.value), max(f.value, g.value))
            out[i] = replace(f, range=span, unit_at=g.unit_pos)
            out[i + 1] = replace(g, range=span, lead=f.head)
    return out


def _minutes_after_hours(text: str, f: Found, last: tuple[Found, Unit | None]) -> Unit | None:
    """1h15, 2小时15: a bare figure under 60 right after hours is minutes."""
    g, unit = last
    if unit is None or unit.bare or f.value >= 60 or not unit.taken:
        return None
    written = text[g.unit_pos : g.unit_pos + unit.taken].strip().casefold()
    if written not in ("h", "hr", "hrs", "hour", "hours", "小时") or g.unit_pos + unit.taken != f.head:
        return None
    return Unit(unit.factor / 60, offset=0.0)


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
