"""Which of the values an answer names it commits to (pure): the shared reading of a careful grader.

A check first finds every *mention* of a value of the asked kind (a figure with a fitting
unit, an option letter...), then asks :func:`commit` which of them are the answer's claim:

- a mention the answer **retracts** is not a claim: the mentions of the sentence before a
  revision ("5天，更正：应为10天", "Answer: 5 days... sorry, I meant 10", "是5天？不对，应该是10天",
  "5天还是10天？我倾向10天") give way to the mention after it;
- a question the answer asks itself between alternatives ("5天还是10天？") is deliberation when
  a mention follows it;
- a mention that **echoes the question** (a figure the question states) is context when the
  answer has a mention of its own; when the answer has none, its echoes are its claim;
- mentions joined as **alternatives** ("5天或10天", "either 5 or 10 days", "$249/year, or
  $153.98/year") or listed one after another with nothing but separators between them
  ("41天 42天 43天 … 12天": a shotgun list of three or more) are a *hedge*: the answer offered
  several values for one quantity. "分别 / 依次 / respectively" before a list makes it a list of
  different things, not a hedge.

Mentions of different ``key`` (another unit, another rate: "$24.99/month or $249/year") are
different quantities and never hedge each other. Figures in conditions about other cases
("满10年的是10天；您满3年，是5天") and intermediate figures of a computation are left out by the
caller or simply not joined as alternatives.

Every pass over the answer is linear: marks are found with one regex scan each, and each
mention looks back at most :data:`REACH` characters.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

REACH = 200
"""Characters before a revision that it can retract; keeps every look-back bounded."""

REVISION = re.compile(
    r"(?i)更正|改正|纠正|订正|修正|改选|重新考虑|重新计算|重新核算|再想想|再算一下|说错了|写错了|算错了|我错了|搞错了"
    r"|(?<![对是有])不对(?![称劲等])|我倾向|倾向于|更倾向|我选择?|最终答案|最终结论|准确地说|确切地说|准确来说"
    r"|\bcorrection\b|\bsorry,?\s+(?:i\s+meant|it'?s|that'?s|it\s+is|the\s+answer)|\bi\s+meant\b|\bi\s+mean,"
    r"|\bactually,|\bactually\s+(?:it|that|the\s+answer)\b|\bwait,|\bno,?\s+wait\b|\bon\s+second\s+thought"
    r"|\breconsider\w*|\bi\s+was\s+wrong\b|\bmy\s+mistake\b|\bscratch\s+that\b|\blet\s+me\s+correct\b"
    r"|\bto\s+correct\s+myself\b|\bi\s+change\s+my\s+answer\b|\bi'?d\s+go\s+with\b|\bi\s+lean\s+towards?\b"
    r"|\bleaning\s+towards?\b|\bfinal\s+answer\b|\bor\s+rather\b|\brather,|更准确地说|确切说"
)
"""Words after which the answer revises what it said just before (a correction, a change of mind,
a final pick after deliberating). 不对 in 对不对 / 是不对的 / 不对称 is not one."""

ASIDE = (
    r"(?:(?:i\s+think|i\s+guess|i\s+believe|i\s+suppose|i'?d\s+say|i'?m\s+not\s+sure|if\s+i\s+recall|not\s+sure"
    r"|我觉得|我认为|我想|我猜|我估计|好像|似乎|我?(?:不太确定|不确定|记不清了?))\s*[吧呢啊]?\s*[,，、]\s*)?"
)
"""A short comment between two alternatives ("-18 degrees, I think, maybe -15", "5天吧，我觉得，也可能7天")."""
ALTERNATIVE = re.compile(
    r"\s*[吧呢啊吗]?\s*[,，、]?\s*" + ASIDE + r"(?:或者说|或者|或是|或|还是|抑或|要么|也可能是|也可能|也许是|也许"
    r"|可能是|可能"
    r"|or\s+(?:maybe|perhaps|possibly)|or|maybe|perhaps|possibly|/)\s*(?:是|为|maybe|perhaps|possibly)?\s*",
    re.IGNORECASE,
)
"""What joins two values offered as alternatives for one quantity: 5天或10天, 5 or 10 days, $249, or $153.98."""

_LIST_GAP = re.compile(r"[\s,，、;；|…·.*\-–—]*(?:和|及|与|and|or|或)?[\s,，、;；|…·.*\-–—]*")
"""What may stand between the items of a bare list of figures (41天 42天 43天 … 12天)."""
LIST_GAP_CHARS = 12
SHOTGUN = 3
"""This many different values listed one after another for one quantity are a shotgun list."""
_CONDITION_AFTER = re.compile(
    r"\s*[(（]?\s*(?:if|unless|when|where|for|with|provided|如果|若|如|假如|倘若|经|在|对于|针对|遇|除非|当)",
    re.IGNORECASE,
)
"""A condition right after a value ("30 days, or 45 if the customer agrees"): it names another case."""
_NOUN_ALTERNATIVE = re.compile(r"[\u4e00-\u9fff]{1,2}?" + ALTERNATIVE.pattern, re.IGNORECASE)
"""最多30个号吧，也可能是40个: a short noun after the unit, then the alternative."""
FORMER = re.compile(
    r"(?i)以前|之前|原来|原先|过去|曾经|早先|往年|旧(?:规定|标准|制度|政策|版)?|老(?:规定|标准|政策)"
    r"|\bused\s+to\b|\bpreviously\b|\bformerly\b|\boriginally\b|\bin\s+the\s+past\b|\bthe\s+old\b"
    r"|\bwas\s+once\b|\bbefore\s+(?:the\s+\w+|\d{4})\b|\buntil\s+(?:recently|\d{4})\b"
)
"""Words before a value that make it a former one: 以前每天80元, "it used to be 3 attempts"."""
CHANGE = re.compile(
    r"(?i)现在|目前|如今|现行|现已|(?:已经?|现)?(?:改成|改为|改到|调到|调整为|调整到|调为|调成|上调[到至为]?|下调[到至为]?"
    r"|提高到|提高至|降到|降至|降低到|降低至|延长到|延长至|延长为|缩短到|缩短至|缩短为|增加到|增加至|减少到|减少至|变成|变为)"
    r"|\bnow\b|\bcurrently\b|\bthese\s+days\b|\bas\s+of\b|\bsince\s+(?:the\s+)?(?:\d{4}|last|this)\b"
    r"|\b(?:changed|raised|increased|lowered|reduced|extended|shortened|cut|updated|bumped(?:\s+up)?|went\s+(?:up|down))\s+to\b"
)
"""Words before a value that make it the current one, replacing a value before it (原来是30天，
现在改成14天了; "was 3, since 2023 it's 5")."""
_MODAL = re.compile(r"(?i)(?:可以?|能|允许|申请|\bcan\b|\bcould\b|\bmay\b|\bmight\b|-?able\b)\W*\w*\W*$")
"""A change that is only possible ("admins can raise it to 10", "可延长至60天") replaces nothing."""
POSSIBLE = re.compile(
    r"(?i)(?:upgrad|extend|expand|rais|increas)(?:e|a)ble\s+to\s*$"
    r"|可(?:以)?(?:延长|提高|增加|升级|扩展|扩充|放宽|申请)(?:到|至)?\s*$"
)
"""Right before a value: a possibility, not the value that holds ("upgradable to 32 GB")."""
_CONDITION_BEFORE = re.compile(r"(?i)满|如果|若|假如|一旦|[后时]\s*$|\b(?:if|when|once|after|unless|for)\b")
_RESPECTIVELY = re.compile(r"(?i)分别|依次|各自|逐年|respectively|in\s+turn|each")
_SENTENCE_END = re.compile(r"[。！？；!?;\n]|\.(?=\s|$)")
_CLAUSE = re.compile(r"[,，;；。!?！？\n]|\.(?=\s|$)")
_QUESTION_END = re.compile(r"[？?]")
_ALT_WORD = re.compile(r"(?i)还是|或者|或是|[或]|\bor\b|\beither\b")


@dataclass(frozen=True)
class Mention:
    """One value of the asked kind as the answer writes it: ``text[start:end]``."""

    start: int
    end: int
    value: Hashable
    """The value in the check's terms (a float in the check's unit, an option index): equal values agree."""
    key: Hashable = None
    """What the value is a value of (a unit, a rate's denominator): only equal keys can hedge."""
    label: str = ""
    """How the value reads in an explanation: 5天, $249/year."""
    echo: bool = False
    """The question itself states this value."""


@dataclass
class Commitment:
    """The outcome of :func:`commit`: the claims, the hedges among them, and what was set aside."""

    claims: list[Mention] = field(default_factory=list)
    hedges: list[list[Mention]] = field(default_factory=list)
    """Groups of claims offered as alternatives (or a shotgun list) for one quantity."""
    retracted: list[Mention] = field(default_factory=list)
    echoes: list[Mention] = field(default_factory=list)


def _sentence_start(text: str, i: int) -> int:
    """Start of the sentence that holds ``text[i]``, looking back at most :data:`REACH` characters."""
    lo = max(0, i - REACH)
    ends = [m.end() for m in _SENTENCE_END.finditer(text, lo, i)]
    return ends[-1] if ends else lo


def revisions(text: str) -> list[tuple[int, int]]:
    """Spans of the revision marks in ``text`` (see :data:`REVISION`), in order."""
    return [m.span() for m in REVISION.finditer(text)]


def _retracted(text: str, mentions: Sequence[Mention]) -> set[int]:
    """Indexes of mentions that a later revision or a resolved self-question sets aside."""
    out: set[int] = set()
    starts = [m.start for m in mentions]
    changes = [m.span() for m in CHANGE.finditer(text) if _holds(text, m.start())]
    for lo_mark, hi_mark in sorted(revisions(text) + changes):
        after = bisect.bisect_left(starts, hi_mark)
        before = bisect.bisect_left(starts, lo_mark)
        if after >= len(mentions) or before == 0:
            continue  # nothing revised, or nothing to revise it with
        last = mentions[before - 1]
        if lo_mark - last.end > REACH:
            continue
        first = bisect.bisect_left(starts, _sentence_start(text, last.start))
        reach = bisect.bisect_left(starts, lo_mark - REACH)
        out.update(_corrected(text, mentions, range(reach, before), range(first, before), mentions[after], lo_mark))
    # "5天还是10天？是10天": a question between alternatives, answered after it
    for i, m in enumerate(mentions):
        end = _QUESTION_END.search(text, m.end, m.end + REACH)
        if end is None or _SENTENCE_END.search(text, m.end, end.start()):
            continue
        later = bisect.bisect_left(starts, end.end())
        sentence = text[_sentence_start(text, m.start) : end.end()]
        if later < len(mentions) and _ALT_WORD.search(sentence):
            out.add(i)
    return out


_FUNCTION_ZH = re.compile(
    r"[^\u4e00-\u9fff]|[的了是为在就能可以应该要不会吧呢啊或者还和与及也都再才约大概左右后前内上下]"
)
"""Function characters left out of a clause's subject (their pairs would match any clause)."""
_STOP_EN = frozenset(
    re.findall(
        r"\S+",
        "the and for with that this then than after before within during should would could must will "
        "correction actually sorry meant mean wait rather answer about around hours hour days day minutes "
        "weeks months years not don't",
    )
)


def _subject(text: str, lo: int, hi: int) -> set[str]:
    """Content words of ``text[lo:hi]`` (its clause, figures left out): CJK pairs and English stems."""
    piece = text[lo:hi].casefold()
    zh = [w for w in _FUNCTION_ZH.split(piece) if len(w) >= 2]
    en = {w[:4] for w in re.findall(r"[a-z][a-z']{2,}", piece) if w not in _STOP_EN}
    return {w[k : k + 2] for w in zh for k in range(len(w) - 1)} | en


def _clause_of(text: str, start: int, end: int) -> tuple[int, int]:
    """The clause around ``text[start:end]``, at most 40 characters either side."""
    lo = max(0, start - 40)
    cuts = [m.end() for m in _CLAUSE.finditer(text, lo, start)]
    stop = _CLAUSE.search(text, end, end + 40)
    return (cuts[-1] if cuts else lo), (stop.start() if stop else min(len(text), end + 40))


def _corrected(
    text: str, mentions: Sequence[Mention], near: range, before: range, new: Mention, mark: int
) -> list[int]:
    """Which mentions a revision at ``mark`` corrects with ``new``: those ``near`` it (within
    :data:`REACH`) whose clause shares a content word with the revision's ("拔牙后半小时就能进食，
    24小时内不要刷牙。更正：应为2小时后进食" corrects the 进食 figure only); else those of the
    sentence ``before`` it of ``new``'s key; else that whole sentence."""
    if len(near) <= 1:
        return list(before)
    lo, hi = _clause_of(text, new.start, new.end)
    said = _subject(text, min(lo, mark), new.start) | _subject(text, new.end, hi)
    shared = []
    for i in near:
        a, b = _clause_of(text, mentions[i].start, mentions[i].end)
        if said & (_subject(text, a, mentions[i].start) | _subject(text, mentions[i].end, b)):
            shared.append(i)
    if shared:
        return shared
    same = [i for i in before if mentions[i].key == new.key]
    return same or list(before)


def _alternatives(text: str, a: Mention, b: Mention) -> bool:
    """``b`` is offered as another value for what ``a`` is ("5天或10天"), not a named other case."""
    if a.key != b.key or not alternative_gap(text, a.end, b.start):
        return False
    return _CONDITION_AFTER.match(text, b.end) is None


def alternative_gap(text: str, end: int, start: int) -> bool:
    """``text[end:start]`` joins two values as alternatives (或, or, 也可能是; after a short noun:
    30个号吧，也可能是40个)."""
    return bool(ALTERNATIVE.fullmatch(text, end, start) or _NOUN_ALTERNATIVE.fullmatch(text, end, start))


def _holds(text: str, cue: int) -> bool:
    """A change cue at ``cue`` states what holds now: no modal or condition before it in its clause
    ("admins can raise it to 10", "满10年后增加到10天" name a possible or later case)."""
    lead = _CLAUSE.split(text[max(0, cue - 16) : cue])[-1]
    return not (_MODAL.search(lead) or _CONDITION_BEFORE.search(lead))


def _other_case(text: str, m: Mention) -> bool:
    """A value for another case: a condition right after it ("10 for service accounts"), a
    possibility right before it ("upgradable to 32 GB"), or a change that is only possible or
    conditional ("admins can raise it to 10", "满10年后增加到10天")."""
    lead = text[max(0, m.start - 24) : m.start]
    change = None
    for change in CHANGE.finditer(lead):  # noqa: B007 - the last one
        pass
    start = m.start - len(lead)
    later = change is not None and not lead[change.end() :].strip(" 是为") and not _holds(text, start + change.start())
    return bool(_CONDITION_AFTER.match(text, m.end) or POSSIBLE.search(lead) or later)


def _former(text: str, mentions: Sequence[Mention]) -> set[int]:
    """Indexes of mentions a former-value word stands before in their clause (以前每天80元)."""
    out = set()
    for i, m in enumerate(mentions):
        lead = _CLAUSE.split(text[max(0, m.start - 16) : m.start])[-1]
        if FORMER.search(lead):
            out.add(i)
    return out


def _groups(text: str, claims: list[Mention]) -> list[list[Mention]]:
    """Runs of claims joined as alternatives, and shotgun lists, that offer different values."""
    out: list[list[Mention]] = []
    i = 0
    while i < len(claims):
        j = i
        while j + 1 < len(claims) and _alternatives(text, claims[j], claims[j + 1]):
            j += 1
        if j > i and len({m.value for m in claims[i : j + 1]}) > 1:
            out.append(claims[i : j + 1])
            i = j + 1
            continue
        j = i
        while (
            j + 1 < len(claims)
            and claims[j].key == claims[j + 1].key
            and claims[j + 1].start - claims[j].end <= LIST_GAP_CHARS
            and _LIST_GAP.fullmatch(text, claims[j].end, claims[j + 1].start)
        ):
            j += 1
        run = claims[i : j + 1]
        lead = text[_sentence_start(text, run[0].start) : run[0].start]
        tail = text[run[-1].end : run[-1].end + 20]
        if len({m.value for m in run}) >= SHOTGUN and not _RESPECTIVELY.search(lead + tail):
            out.append(run)
        i = j + 1
    return out


def commit(text: str, mentions: Sequence[Mention]) -> Commitment:
    """What the answer commits to among ``mentions`` (in order of ``start``, read in ``text``).

    Example: "5天，更正：应为10天" with mentions 5 and 10 -> claims [10], retracted [5];
    "5天或10天" -> claims [5, 10], hedges [[5, 10]].
    """
    mentions = sorted(mentions, key=lambda m: m.start)
    gone = _retracted(text, mentions)
    former = _former(text, mentions) - gone
    other = {i for i, m in enumerate(mentions) if i not in gone and _other_case(text, m)}
    for group in (former, other):  # set aside only where another value of the same kind holds
        keys = {m.key for i, m in enumerate(mentions) if i not in gone | former | other}
        gone |= {i for i in group if mentions[i].key in keys}
    kept = [m for i, m in enumerate(mentions) if i not in gone]
    own = [m for m in kept if not m.echo]
    claims = own if own else kept
    # a shotgun list may hold a figure of the question too ("1天、3天、5天、7天都有可能")
    hedges = [g for g in _groups(text, kept) if any(not m.echo for m in g)] if own else _groups(text, kept)
    return Commitment(
        claims=claims,
        hedges=hedges,
        retracted=[m for i, m in enumerate(mentions) if i in gone],
        echoes=[m for m in kept if m.echo] if own else [],
    )
