"""Text checks: containment with synonyms and negation, regex, abstention.

Matching ignores case, full-/half-width forms, white space and punctuation.
A match must not cut a number ("5天" is not found in "15天" or "0.5天",
"五天" not in "十五天") nor start inside a Latin word ("day" is not found in
"today"; "refund" is found in "refunds"). With ``negation: true`` (the
default) an occurrence right after a negation cue does not count: "不可以" is
not "可以", "no refund" is not "refund"; so a forbidden phrase in
``not_contains`` that the answer explicitly denies ("严禁短接") does not fail it.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from harness.rubric.numbers import ZH_BIG, ZH_DIGITS, ZH_SMALL, find_numbers
from harness.rubric.registry import Args, Evidence, Outcome, check
from harness.rubric.text import negated_at, nfkc, normalize, normalize_with_map

Term = str | list[str]
"""A phrase, or a list of synonyms any of which counts."""


def _synonyms(term: Term) -> list[str]:
    return [term] if isinstance(term, str) else term


def _label(term: Term) -> str:
    return term if isinstance(term, str) else "/".join(term)


class ValuesArgs(Args):
    values: list[Term] = Field(min_length=1)
    """Phrases to look for; an item may be a list of synonyms."""
    case_sensitive: bool = False
    negation: bool = True
    """Ignore occurrences right after a negation cue (不/没有/not/no ...)."""

    @field_validator("values")
    @classmethod
    def _non_empty(cls, values: list[Term]) -> list[Term]:
        for v in values:
            if isinstance(v, list) and not v:
                raise ValueError("a synonym list must not be empty")
            if any(not normalize(s) for s in _synonyms(v)):
                raise ValueError("values must not be empty or punctuation only")
        return values


_ZH_NUMERAL = set(ZH_DIGITS) | set(ZH_SMALL) | set(ZH_BIG)


def _kind(ch: str) -> str:
    if "0" <= ch <= "9":
        return "digit"
    if ch in _ZH_NUMERAL:
        return "zh"
    return "latin" if ch.isascii() and ch.isalpha() else ""


def _whole(src: str, start: int, end: int) -> bool:
    """Whether ``src[start:end]`` does not cut a number and does not start inside a Latin word.

    A value that starts with 千/万/亿 is a unit (千克, 万元) and may follow a numeral (三千克, 五万元).
    """
    first = "" if src[start] in "千仟万亿" else _kind(src[start])
    last = _kind(src[end - 1])
    before = _kind(src[start - 1]) if start > 0 else ""
    after = _kind(src[end]) if end < len(src) else ""
    if first and first == before:
        return False
    if first == "digit" and start > 1 and src[start - 1] == "." and src[start - 2].isdigit():
        return False  # 5天 in 0.5天
    if last in ("digit", "zh") and last == after:
        return False
    # 1.5 in 1.55, 5 in 5,000
    return not (last == "digit" and src[end : end + 1] in (".", ",") and src[end + 1 : end + 2].isdigit())


def find_phrase(answer: str, phrase: str, case_sensitive: bool = False, negation: bool = True) -> bool:
    """Whether ``phrase`` occurs in ``answer`` (normalised, as a whole number and from a word
    start), not denied when ``negation``."""
    hay, index = normalize_with_map(answer, case_sensitive)
    needle = normalize(phrase, case_sensitive)
    src = nfkc(answer)
    pos = hay.find(needle)
    while pos != -1:
        start, end = index[pos], index[pos + len(needle) - 1] + 1
        if _whole(src, start, end) and (not negation or not negated_at(src, start)):
            return True
        pos = hay.find(needle, pos + 1)
    return False


def _found(answer: str, args: ValuesArgs) -> list[bool]:
    return [
        any(find_phrase(answer, s, args.case_sensitive, args.negation) for s in _synonyms(term)) for term in args.values
    ]


@check("contains_all", ValuesArgs)
def contains_all(answer: str, args: ValuesArgs) -> Outcome:
    """Every value appears; partial credit is the fraction found.

    ``values: [[年假, 带薪休假], 5天]`` needs 年假 or 带薪休假, and 5天.
    """
    found = _found(answer, args)
    missing = [_label(v) for v, f in zip(args.values, found, strict=True) if not f]
    if not missing:
        return Outcome(1.0, True, "all present")
    return Outcome(sum(found) / len(found), False, "missing: " + ", ".join(missing))


@check("contains_any", ValuesArgs)
def contains_any(answer: str, args: ValuesArgs) -> Outcome:
    """At least one value appears. ``values: [未规定, 没有规定]``."""
    hits = [_label(v) for v, f in zip(args.values, _found(answer, args), strict=True) if f]
    if hits:
        return Outcome(1.0, True, "found: " + hits[0])
    return Outcome(0.0, False, "none of: " + ", ".join(_label(v) for v in args.values))


@check("not_contains", ValuesArgs, constraint=True)
def not_contains(answer: str, args: ValuesArgs) -> Outcome:
    """No value appears (a wrong figure, a dangerous instruction). ``values: [短接]``."""
    hits = [_label(v) for v, f in zip(args.values, _found(answer, args), strict=True) if f]
    if hits:
        return Outcome(0.0, False, "forbidden: " + ", ".join(hits))
    return Outcome(1.0, True, "none present")


def nfkc_pattern(pattern: str) -> str:
    """The pattern with its literal characters NFKC-normalised like the answer: ℃ -> °C,
    ，-> , and （ -> a literal (, so a pattern written with either form matches both."""
    out: list[str] = []
    chars = iter(pattern)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            out.append(ch + nfkc(nxt))
        elif nfkc(ch) != ch:
            out.append(re.escape(nfkc(ch)))
        else:
            out.append(ch)
    return "".join(out)


class RegexArgs(Args):
    pattern: str = Field(min_length=1)
    ignore_case: bool = False

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        try:
            re.compile(nfkc_pattern(pattern), re.ASCII)
        except re.error as exc:
            raise ValueError(f"pattern does not compile: {exc}") from None
        return pattern


@check("regex", RegexArgs)
def regex(answer: str, args: RegexArgs) -> Outcome:
    """The pattern is found (``re.search``) in the NFKC-normalised answer (℃ reads as °C).

    The pattern is normalised the same way, and ``\\b``, ``\\w``, ``\\d`` are ASCII-only,
    so ``\\b5\\s*天`` finds 5天 in 您有5天 (a Chinese character is not a word character).
    ``pattern: "\\\\b14 days?\\\\b"``
    """
    flags = re.ASCII | (re.IGNORECASE if args.ignore_case else 0)
    m = re.search(nfkc_pattern(args.pattern), nfkc(answer), flags)
    if m:
        return Outcome(1.0, True, f"matched {m.group(0)[:40]!r}")
    return Outcome(0.0, False, f"no match for /{args.pattern}/")


# Phrases that say "I do not know" or "the material does not say". Not here: a referral
# alone (请咨询HR, please contact support), which often closes a real answer, and "not
# covered" / "does not cover", which in "not covered by the warranty" is an answer.
ABSTAIN_PHRASES = (
    # zh: does not know / the policy does not say
    "不知道", "不清楚", "不确定", "无法确定", "无法判断", "无法回答", "无法得知", "无从得知",
    "未规定", "没有规定", "未作规定", "未做规定", "没有明确规定", "未明确", "没有明确", "未提及", "没有提及",
    "未涉及", "没有涉及", "未说明", "没有说明", "未提到", "没有提到", "资料中没有", "资料未", "制度中没有",
    "没有相关", "无相关", "找不到相关", "没有找到相关",
    # en
    "i don't know", "i do not know", "not sure", "cannot determine", "can't determine",
    "unable to determine", "not specified", "does not specify", "doesn't specify", "not mentioned",
    "does not mention", "doesn't mention", "not covered in", "isn't covered in", "no information",
    "not stated", "does not state", "doesn't state", "not provided in", "does not say", "doesn't say",
    "cannot answer", "can't answer", "unable to answer", "unclear", "not addressed",
)  # fmt: skip


class AbstainArgs(Args):
    phrases: list[str] = Field(default_factory=list)
    """Further phrases that count as declining, beside the built-in list (e.g. 请咨询人力资源部)."""


def abstention(answer: str, extra: list[str]) -> str | None:
    """The first abstention phrase in the answer, if any."""
    for phrase in (*extra, *ABSTAIN_PHRASES):
        if find_phrase(answer, phrase, negation=False):
            return phrase
    return None


@check("abstains", AbstainArgs)
def abstains(answer: str, args: AbstainArgs) -> Outcome:
    """The answer says it does not know, or that the policy does not cover the question.

    For questions the material cannot answer: a made-up figure fails.
    """
    phrase = abstention(answer, args.phrases)
    if phrase:
        return Outcome(1.0, True, f"declines: {phrase}")
    return Outcome(0.0, False, "answers instead of saying the material does not cover it")


@check("answers", AbstainArgs, constraint=True)
def answers(answer: str, args: AbstainArgs) -> Outcome:
    """The inverse of ``abstains``: the answer must not refuse or say it does not know."""
    if not answer.strip():
        return Outcome(0.0, False, "empty answer")
    phrase = abstention(answer, args.phrases)
    if phrase:
        return Outcome(0.0, False, f"declines: {phrase}")
    return Outcome(1.0, True, "gives an answer")


_LIST_MARK = re.compile(r"(?m)^\s*(?:\d{1,2}|[一二三四五六七八九十])[.)、．]\s*")
"""A list number at the start of a line ("1. ", "二、") is not a figure."""


@check("faithful", AbstainArgs, uses_evidence=True, constraint=True)
def faithful(answer: str, args: AbstainArgs, evidence: Evidence | None = None) -> Outcome:
    """The answer keeps to the material it was given (``with_context``).

    When the material lacks the answer (the question's ``source`` is not in it) the
    answer must decline; otherwise every number in the answer must appear in the
    material. Not applicable (weight 0) when no material was given.
    """
    if evidence is None or not evidence.context:
        return Outcome(1.0, True, "not applicable: no material was given", applicable=False)
    if evidence.holds_answer is False:
        phrase = abstention(answer, args.phrases)
        if phrase:
            why = f"the material lacks the answer and the answer declines: {phrase}"
            return Outcome(1.0, True, why, constraint=False)
        return Outcome(0.0, False, "the material lacks the answer, but the answer does not say so", constraint=False)
    given = {round(f.value, 6) for f in find_numbers(evidence.given)}
    stated = find_numbers(_LIST_MARK.sub("", answer))
    if not stated:
        return Outcome(1.0, True, "states no figure the material could contradict")
    unsupported = [f for f in stated if round(f.value, 6) not in given]
    if not unsupported:
        return Outcome(1.0, True, f"all {len(stated)} figures appear in the material")
    shown = ", ".join(f"{f.value:g}" for f in unsupported[:5])
    return Outcome(1 - len(unsupported) / len(stated), False, f"figures not in the material: {shown}")
