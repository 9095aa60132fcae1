"""The ``number`` check: a value (or range) with its unit, in any numeral style.

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

A number right after a negation cue ("不是5天", "not 5 days"), or one the answer tells you
not to use ("千万不要设成二百五十度", "do not set it to 250 °C"), does not count.

A range or a tolerance writes its unit once: in 3到5秒 / 3-5 s / 220±5℃ the first number
takes the unit after the second. With ``value``, either end of a range counts (保压3到5秒 states
3 s); with ``between``, the whole range must lie inside (两三天 is in [1, 3] but not in [3, 5]).
A currency sign or code declared among the spellings may stand before the number
(``units: {¥: 1}`` reads ¥1,200.50); per mille converts to per cent (5‰ = 千分之五 = 0.5 %).
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from harness.rubric.numbers import Found, find_numbers
from harness.rubric.registry import Args, Outcome, check
from harness.rubric.text import negated_at, nfkc

_LEAD = " \t-个"  # "5 天", "30-day", "两个小时": skipped between a number and its unit
_IMPLIED = {("‰", "%"): 0.1, ("%", "‰"): 10.0}
"""(written, declared) -> factor: 5‰ is 0.5 %, 千分之五 (0.5 %) is 5‰."""


class NumberArgs(Args):
    value: float | None = None
    between: tuple[float, float] | None = None
    """Inclusive range, instead of ``value``."""
    unit: str | None = None
    units: dict[str, float] = Field(default_factory=dict)
    """Other unit spellings -> factor that converts them into ``unit`` (mm: 0.1 for unit cm)."""
    require_unit: bool = True
    """With ``unit``: a bare number without a unit does not count."""
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


def _unit_factor(after: str, args: NumberArgs, hint: str | None) -> tuple[float, int] | None:
    """Factor into ``args.unit`` for the unit after a number, and how many characters of
    ``after`` the unit takes; None when it does not fit."""
    if args.unit is None:
        return 1.0, 0
    spellings = {args.unit: 1.0, **args.units}
    after = nfkc(after)
    for head in (after.lstrip(), after.lstrip(_LEAD)):  # a unit may itself start with 个
        skipped = len(after) - len(head)
        head = (hint or "") + head.casefold()
        for spelling in sorted(spellings, key=len, reverse=True):
            sp = nfkc(spelling).casefold()
            if head.startswith(sp) and _word_ends(head, len(sp)):
                return spellings[spelling], skipped + len(sp) - len(hint or "")
    head = (hint or "") + after.lstrip()
    for (written, declared), f in _IMPLIED.items():
        if head.startswith(written) and declared in spellings:
            return f * spellings[declared], len(after) - len(after.lstrip()) + len(written) - len(hint or "")
    low = after.lstrip(_LEAD)
    if not args.require_unit and not hint and not (low[:1].isalpha() or low[:1] in ("%", "°")):
        return 1.0, 0  # a bare number (also at the very end of the answer)
    return None


def _unit_before(before: str, args: NumberArgs) -> float | None:
    """Factor of a declared spelling written right before the number with no letter or digit
    in it (¥, $, €: ¥1,200.50), or an upper-case code (USD 249); None when there is none."""
    if args.unit is None:
        return None
    before = nfkc(before).rstrip()
    spellings = {args.unit: 1.0, **args.units}
    for spelling in sorted(spellings, key=len, reverse=True):
        sp = nfkc(spelling)
        symbol = not any(ch.isalnum() for ch in sp) or (sp.isascii() and sp.isalpha() and sp.isupper())
        ahead = before[: -len(sp)][-1:]
        if symbol and before.endswith(sp) and not (ahead.isascii() and ahead.isalpha()):
            return spellings[spelling]
    return None


def _word_ends(text: str, i: int) -> bool:
    """A Latin unit must end at a word boundary (m is not mm), allowing a plural s."""
    if i == 0 or not text[i - 1].isascii() or not text[i - 1].isalpha():
        return True
    rest = text[i:]
    if rest[:1] == "s":
        rest = rest[1:]
    return not (rest[:1].isascii() and rest[:1].isalpha())


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


@check("number", NumberArgs)
def number(answer: str, args: NumberArgs) -> Outcome:
    """A number within tolerance of ``value`` (or in ``between``), followed by ``unit`` when given.

    Reads 五天, 一百二十, 两, １８０, 2,000, 1.5万; converts declared units.
    """
    text = nfkc(answer)
    low, high = _target(args)
    seen: list[str] = []
    negated: list[str] = []
    found: Found
    for found in find_numbers(answer):
        unit = _unit_factor(text[found.unit_pos : found.unit_pos + 16], args, found.unit_hint)
        prefix = _unit_before(text[max(0, found.head - 8) : found.head], args)
        if prefix is not None and (unit is None or unit[1] == 0):
            unit = (prefix, 0)
        shown = f"{found.value:g}"
        seen.append(shown)
        if unit is None:
            continue
        factor, taken = unit
        ends = (found.value,) if found.range is None or args.between is None else found.range
        if all(low <= v * factor <= high for v in ends):
            if negated_at(text, found.head):
                negated.append(shown)
                continue
            said = text[found.head : max(found.end, found.unit_pos + taken)]
            return Outcome(1.0, True, f"found {said!r} = {found.value * factor:g}{args.unit or ''}")
    why = f"expected {_describe(args)}; saw {', '.join(seen[:6]) or 'no numbers'}"
    if negated:
        why += f" (negated: {', '.join(negated)})"
    return Outcome(0.0, False, why)
