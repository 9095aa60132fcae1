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

from harness.rubric.declines import decline
from harness.rubric.disowning import a_not_a, asked_about, attributed_at, echoed, possibility_at, superseded_at
from harness.rubric.numbers import ZH_BIG, ZH_DIGITS, ZH_SMALL
from harness.rubric.registry import Args, Evidence, Outcome, check
from harness.rubric.text import Term, check_terms, negated_after, negated_at, nfkc, normalize, normalize_with_map
from harness.rubric.yesno import REFUSAL_VALUES, meaning, opens_with_no


def _synonyms(term: Term) -> list[str]:
    return [term] if isinstance(term, str) else term


def _question(evidence: Evidence | None) -> str:
    return evidence.question if evidence is not None else ""


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
        return check_terms(values, "a value")


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


def disowned(src: str, start: int, end: int, question: str = "") -> bool:
    """Whether the answer mentions ``src[start:end]`` without claiming it: denied before or after
    it ("不是5天", "5天是错误的"), marked as former ("原来是5天"), given as the asker's words
    ("您说的5天是旧规定"), the 不 of an A-not-A question (能不能), a possibility the question
    did not ask for ("16 GB, upgradable to 32 GB": 32 GB is not the spec), or asked about: an
    alternative of a question the answer poses and settles ("3个月还是6个月？应该是6个月"), or inside
    an undecided "whether" clause ("Whether X is allowed is for the manager to decide")."""
    return (
        negated_at(src, start)
        or negated_after(src, end, question)
        or superseded_at(src, start, end)
        or attributed_at(src, start, end)
        or a_not_a(src, start)
        or possibility_at(src, start, question)
        or asked_about(src, start, end)
    )


def find_phrase(
    answer: str, phrase: str, case_sensitive: bool = False, negation: bool = True, question: str = ""
) -> bool:
    """Whether ``phrase`` occurs in ``answer`` (normalised, as a whole number and from a word
    start) as the answer's claim: not :func:`disowned` when ``negation``, and not only inside
    words copied from ``question`` (:func:`harness.rubric.text.echoed`) when one is given."""
    hay, index = normalize_with_map(answer, case_sensitive)
    needle = normalize(phrase, case_sensitive)
    src = nfkc(answer)
    pos = hay.find(needle)
    while pos != -1:
        start, end = index[pos], index[pos + len(needle) - 1] + 1
        if (
            _whole(src, start, end)
            and not (negation and disowned(src, start, end, question))
            and not echoed(src, start, end, question)
        ):
            return True
        pos = hay.find(needle, pos + 1)
    return False


_ZH_DENIAL_PREFIX = (
    "不予以", "不予", "不支持", "不接受", "不可以", "不允许", "不可", "不能", "不会", "不得", "不被", "不再",
    "不需要", "不需", "不用", "不必", "无需", "无须",
    "无法", "没有", "并非", "不是", "禁止", "严禁", "没", "未", "非", "不", "无",
)  # fmt: skip
_EN_DENIAL_PREFIX = re.compile(
    r"^(?:non-?|not\s+|no\s+|never\s+|cannot\s+|can't\s+|can\s+not\s+|won't\s+|will\s+not\s+|isn't\s+"
    r"|is\s+not\s+|aren't\s+|are\s+not\s+|don't\s+|doesn't\s+)(?:be\s+)?(?=\w)"
)
_A_NOT_A_BEFORE = re.compile(r"(.{1,2})[不没]\1$")


def denial_core(phrase: str) -> str | None:
    """What a denying value denies: 无法退款 -> 退款, 不予受理 -> 受理, not refundable / non-refundable ->
    refundable, no refund -> refund; None for a value that denies nothing or whose core is a single
    character (不能 -> 能 is too short to find alone)."""
    text = nfkc(phrase).strip()
    m = _EN_DENIAL_PREFIX.match(text.casefold())
    if m:
        core = text[m.end() :].strip()
        return core if len(normalize(core)) >= 3 else None
    for cue in _ZH_DENIAL_PREFIX:
        if text.startswith(cue):
            core = text[len(cue) :]
            return core if len(normalize(core)) >= 2 else None
    return None


def find_denied(answer: str, core: str, case_sensitive: bool = False, question: str = "") -> bool:
    """Whether the answer denies ``core`` (:func:`denial`)."""
    return denial(answer, core, case_sensitive, question) is not None


def denial(answer: str, core: str, case_sensitive: bool = False, question: str = "") -> str | None:
    """The words with which the answer denies ``core``, or None: a cue before it (not copied from
    ``question``) ("我们从不退款", "We never refund") or a denial after it ("退款这种情况是不行的",
    "Refundable? Unfortunately not.", "Refunds after 10 days are never granted"). The 不 of an
    A-not-A question (能不能退款) asks."""
    hay, index = normalize_with_map(answer, case_sensitive)
    needle = normalize(core, case_sensitive)
    src = nfkc(answer)
    pos = hay.find(needle)
    while pos != -1:
        start, end = index[pos], index[pos + len(needle) - 1] + 1
        own = _whole(src, start, end) and not _A_NOT_A_BEFORE.search(src[max(0, start - 5) : start])
        if own and not attributed_at(src, start, end):
            if negated_after(src, end, question):
                return _quote(src, start, min(len(src), end + 24))
            if negated_at(src, start) and not _echo(src, start, end, question):
                return _quote(src, max(0, start - 8), end)
        pos = hay.find(needle, pos + 1)
    return None


def _quote(src: str, a: int, b: int) -> str:
    """``src[a:b]`` cut to the clause of the match: the answer's own words for an explanation."""
    text = src[a:b]
    parts = re.split(r"[,.;:!?，。；：！？\n]", text)
    if len(parts) > 1:  # keep the part that holds the most of the match
        text = max(parts, key=len)
    return text.strip()


def _echo(src: str, start: int, end: int, question: str) -> bool:
    """Whether ``src[start:end]``, or it with the denial before it, is copied from the question: "refundable
    or non-refundable?" restating "Is the deposit refundable or non-refundable?" (12 characters back).
    A denial after a copied question answers it ("A refund at this point? I'm afraid not."), so only
    a denial before is read this way."""
    if not question:
        return False
    if echoed(src, start, end, question):
        return True
    left = re.split(r"[,.;:!?，。；：！？\n]", src[max(0, start - 12) : start])[-1]
    return bool(normalize(left)) and normalize(left + src[start:end]) in normalize(question)


def _claims(answer: str, phrase: str, args: ValuesArgs, question: str) -> str | None:
    """How ``phrase`` is claimed, or None: as written (""), or, for a denying value, by denying its core
    (a careful grader reads "退款这种情况是不行的" as 无法退款, "Refundable? Unfortunately not." as not
    refundable, and a bare "No." to "Is the deposit refundable?" likewise), or by meaning
    (:func:`harness.rubric.yesno.meaning`: a refusal by any other refusal or a bare no, a requirement
    by a ban on doing without, the question's own predicate by a bare yes). Any way but as written
    is an explanation that quotes the answer: "'No' (a refusal, counts for: not allowed)"."""
    refusal = args.negation and normalize(phrase) in REFUSAL_VALUES
    # a refusal is read by meaning only: "No problem" holds no, "我不能确定" is a decline, "不得超过" a bound
    if not refusal and find_phrase(answer, phrase, args.case_sensitive, args.negation, question):
        return ""
    if not args.negation:
        return None
    how = meaning(answer, phrase, question)
    if how is not None:
        return "" if refusal and _as_written(how, phrase) else how
    core = denial_core(phrase)
    if core is None:
        return None
    if question and normalize(core) in normalize(question) and opens_with_no(answer, question):
        head = nfkc(answer[:40]).strip()
        return f"{re.split(r'[,.;:!?，。；：！？—–]', head)[0].strip()!r} (a no to the question, counts for: {phrase})"
    words = denial(answer, core, args.case_sensitive, question)
    if words is None:
        return None
    return f"{words!r} (a denial of {core}, counts for: {phrase})"


def _as_written(how: str, phrase: str) -> bool:
    """Whether the refusal quoted in ``how`` is ``phrase`` itself ("'不能' … counts for: 不能")."""
    quoted = how.split(" (", 1)[0].strip("'\"")
    return normalize(quoted) == normalize(phrase)


def _found(answer: str, args: ValuesArgs, question: str = "") -> list[str | None]:
    """Per value: how the answer claims it ("" as written, an explanation otherwise), or None."""
    out: list[str | None] = []
    for term in args.values:
        hows = [_claims(answer, s, args, question) for s in _synonyms(term)]
        written = [h for h in hows if h == ""]
        out.append("" if written else next((h for h in hows if h is not None), None))
    return out


def _shown(term: Term, how: str) -> str:
    return how or _label(term)


@check("contains_all", ValuesArgs, uses_evidence=True)
def contains_all(answer: str, args: ValuesArgs, evidence: Evidence | None = None) -> Outcome:
    """Every value appears; partial credit is the fraction found.

    ``values: [[年假, 带薪休假], 5天]`` needs 年假 or 带薪休假, and 5天. A value found only in words
    copied from the question earns nothing.
    """
    found = [f is not None for f in _found(answer, args, _question(evidence))]
    missing = [_label(v) for v, f in zip(args.values, found, strict=True) if not f]
    if not missing:
        return Outcome(1.0, True, "all present")
    return Outcome(sum(found) / len(found), False, "missing: " + ", ".join(missing))


@check("contains_any", ValuesArgs, uses_evidence=True)
def contains_any(answer: str, args: ValuesArgs, evidence: Evidence | None = None) -> Outcome:
    """At least one value appears. ``values: [未规定, 没有规定]``. A value found only in words copied
    from the question ("能不能" holds 不能) earns nothing."""
    hits = [
        (v, f) for v, f in zip(args.values, _found(answer, args, _question(evidence)), strict=True) if f is not None
    ]
    if hits:
        term, how = hits[0]
        return Outcome(1.0, True, f"found {how}" if how else "found: " + _label(term))
    return Outcome(0.0, False, "none of: " + ", ".join(_label(v) for v in args.values))


@check("not_contains", ValuesArgs, constraint=True)
def not_contains(answer: str, args: ValuesArgs) -> Outcome:
    """No value is claimed (a wrong figure, a dangerous instruction). ``values: [短接]``.

    A value the answer denies, marks as former ("原来是5天，现调整为10天") or gives as the asker's
    words ("您说的5天是旧规定") is mentioned, not claimed, and passes.
    """
    hits = [_shown(v, f) for v, f in zip(args.values, _found(answer, args), strict=True) if f is not None]
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


class AbstainArgs(Args):
    phrases: list[str] = Field(default_factory=list)
    """Further phrases that count as declining, beside the built-in list (e.g. 请咨询人力资源部)."""


def abstention(answer: str, extra: list[str], question: str = "") -> str | None:
    """The words the answer declines with, read by meaning (:func:`harness.rubric.declines.decline`)."""
    return decline(answer, extra, question)


@check("abstains", AbstainArgs, uses_evidence=True)
def abstains(answer: str, args: AbstainArgs, evidence: Evidence | None = None) -> Outcome:
    """The answer says it does not know, or that the material does not cover the question.

    For questions the material cannot answer: a made-up figure fails. Read by meaning: "这个我不太
    清楚" declines; "不清楚的可以咨询HR" (advice), "制度并非没有规定" (double negation) and "婚假3天。
    具体哪天开始我不知道" (a figure for what was asked) do not.
    """
    phrase = abstention(answer, args.phrases, _question(evidence))
    if phrase:
        return Outcome(1.0, True, f"declines: {phrase}")
    return Outcome(0.0, False, "answers instead of saying the material does not cover it")


@check("answers", AbstainArgs, uses_evidence=True, constraint=True)
def answers(answer: str, args: AbstainArgs, evidence: Evidence | None = None) -> Outcome:
    """The inverse of ``abstains``: the answer must not refuse or say it does not know."""
    if not answer.strip():
        return Outcome(0.0, False, "empty answer")
    phrase = abstention(answer, args.phrases, _question(evidence))
    if phrase:
        return Outcome(0.0, False, f"declines: {phrase}")
    return Outcome(1.0, True, "gives an answer")
