"""Mentioned, not claimed (pure): a phrase the answer names without stating it as its own answer.

Beside a negation (:mod:`harness.rubric.text`), a careful grader passes over a phrase the answer
marks as a former value ("原来是5天", "The $35 fee was the old rule"), gives as the asker's words or
hearsay ("您说的5天", "the 14 days you may have heard of"), offers as a possibility the question did
not ask for ("16 GB, upgradable to 32 GB"), asks about (能不能, an alternative it settles: "3个月还是6个月？
应该是6个月", a "whether" clause: "Whether a pharmacist may refuse is for the manager to decide"), or
copies from the question. Every reading looks at a bounded stretch around the match.
"""

from __future__ import annotations

import functools
import re

from harness.rubric.text import (
    CLAUSE,
    CLAUSE_END_AHEAD,
    SPACE,
    ZH_AFTER_GAP,
    ZH_POINTER_AFTER_COMMA,
    after_window,
    is_punct,
    nfkc,
    normalize,
    past_relative,
)

_ZH_FORMER = re.compile(
    r"(?:原来|原先|原本|原有|原规定|(?<![依仍照])旧版?|以往|过去(?!$)|曾经|此前|先前|早先|从前|老规定|之前的|以前的|"
    r"(?:改革|调整|修订|修改|变更)前|(?:年|月|日|号)(?:以前|之前)|^(?:以前|之前))"
)
_ZH_CURRENT = re.compile(
    r"现在|目前|现行|如今|现已|当前|今年|起|之后|以后|改为|改成|调整为|调整到|变为|变成|提高到|降为|增加到|延长到|缩短为|上调|下调|新规"
)
_ZH_CHANGED_FROM = re.compile(r"^(?:由|从)$")
_ZH_CHANGE_VERB = re.compile(r"(?:调整|改|变|提高|提升|降低|降|增加|减少|延长|缩短|上调|下调|增|减)(?:为|成|到|至)")
_ZH_FORMER_AFTER = re.compile(
    r"(?:的?[\u4e00-\u9fff]{1,4}?)?"
    + ZH_AFTER_GAP
    + r"(?:(?:是|为|属于|乃)(?:旧|原来|以前|过去|之前|老)的?(?:规定|标准|政策|做法|版本|说法|制度|要求)?"
    r"|(?:旧|原来的|以前的|过去的|之前的|老)(?:规定|标准|政策|做法|版本|说法|制度|要求)"
    r"|(?:已经|已|早已|早就)(?:被)?(?:废止|作废|失效|取消|过时|调整|修改|修订|更新|改了|变了|不再适用|不适用)"
    r"|是老黄历)"
)
_EN_FORMER = re.compile(
    r"\b(?:previously|formerly|originally|former|old|outdated|used\s+to(?:\s+be)?|before\s+\d{4}|"
    r"(?:changed|reduced|raised|increased|extended|cut|lowered|went|moved|rose|fell|dropped)\s+from)\b"
)
_EN_CURRENT = re.compile(r"\b(?:now|currently|today|new|since|as\s+of|changed\s+to)\b")
_EN_FORMER_AFTER = re.compile(
    r"\s*\b(?:(?!(?:is|was|were|are|has|have|used|no|and|or|but|which|that|now|since)\b)[a-z][\w-]*\s+){0,2}(?:(?:is|was|were|are)\s+(?:the\s+|an?\s+)?(?:old|older|previous"
    r"|former|outdated|earlier|superseded)|used\s+to|"
    r"(?:has|have|was|were)\s+(?:been\s+)?(?:changed|replaced|superseded|withdrawn|abolished|updated|revised)|"
    r"no\s+longer)\b"
)


def _clause_before(text: str, start: int, reach: int = 40) -> str:
    return CLAUSE.split(nfkc(text[max(0, start - reach) : start]).casefold())[-1]


def superseded_at(text: str, start: int, end: int) -> bool:
    """True when the answer marks the match ``text[start:end]`` as a former value, not the current
    one: a marker before it in its clause with no "now" between ("原来的规定是5天", "以前是5天",
    "previously 5 days", "it used to be 5 days"), a change away from it ("由5天调整为10天", "from 5
    to 10 days"), or a marker after it ("5天是旧规定", "5天已废止", "5 days was the old rule").

    Bounded: 40 characters before and 60 after ("The $35 fee was the old rule": a noun may stand between).
    """
    before = _clause_before(text, start)
    zh = SPACE.sub("", before)
    after = after_window(text, end, 60)  # room for a noun phrase before the marker: "$35 overdraft fee has been …"
    zh_after = SPACE.sub("", after)
    at = [m.end() for m in _ZH_FORMER.finditer(zh)]
    if at and not _ZH_CURRENT.search(zh[at[-1] :]):
        return True
    if _ZH_CHANGED_FROM.search(zh[-1:]) and _ZH_CHANGE_VERB.match(zh_after):
        return True
    if _ZH_FORMER_AFTER.match(ZH_POINTER_AFTER_COMMA.sub("", zh_after)):
        return True
    words = before.split()[-6:]
    tail = " ".join(words)
    en = list(_EN_FORMER.finditer(tail))
    if en and not _EN_CURRENT.search(tail[en[-1].end() :]):
        return True
    if _EN_FORMER_AFTER.match(after):
        return True
    rel = past_relative(text, end)
    return rel is not None and bool(_EN_FORMER_AFTER.match(after_window(text, rel[0])))


_EN_POSSIBLE = (
    r"(?:upgradable|upgradeable|expandable|extendable|extensible|configurable|optional(?:ly)?"
    r"|(?:can|could|may|might)\s+(?:also\s+|optionally\s+)?be\s+(?:upgraded|expanded|extended|increased|raised|boosted"
    r"|configured|bumped|topped\s+up)|with\s+(?:an\s+)?option\s+(?:of|for)"
    r"|(?:supports?|supporting)(?=\s+(?:up\s+to|a\s+maximum\s+of|max)))"
    r"(?:\s+(?:to|with|for))?(?:\s+(?:up\s+to|a\s+maximum\s+of|max(?:imum)?))?\s*$"
)
_ZH_POSSIBLE = (
    r"(?:(?:最多|最高|最大)?(?:可|可以|能|能够|支持)(?:再)?(?:选配|扩展|扩充|扩容|升级|增加|提升|加装|加到|扩|升|调高|提高)"
    r"|支持(?:最多|最高|最大)|可选配?|选配)(?:到|至|为|成)?(?:最多|最高|最大)?$"
)
_POSSIBLE = re.compile(_EN_POSSIBLE + "|" + _ZH_POSSIBLE)
_ASKS_POSSIBLE = re.compile(
    r"upgrad|expand|extend|maximum|\bmax\b|at\s+most|up\s+to|support|option|扩展|扩充|扩容|升级|最多|最大|最高|支持|选配|可选"
)


def possibility_at(text: str, start: int, question: str = "") -> bool:
    """True when the figure at ``text[start]`` is what the thing *can* become, not what it is: a
    possibility marker stands right before it ("16 GB of memory, upgradable to 32 GB on request",
    "can be extended to 64 GB", "supports up to 64 GB", "内存16GB，最多可扩展到32GB", "可升级到32GB",
    "可选配32GB"), and ``question`` does not itself ask for the possibility (upgrade, maximum, 扩展,
    最多 …: then the possibility is the answer). Reads 40 characters back, in the figure's clause."""
    if question and _ASKS_POSSIBLE.search(nfkc(question).casefold()):
        return False
    before = CLAUSE.split(nfkc(text[max(0, start - 40) : start]).casefold())[-1]
    return bool(_POSSIBLE.search(before.rstrip()) or _POSSIBLE.search(SPACE.sub("", before)))


_ZH_ASKER = re.compile(
    r"(?:您|你|你们)(?:刚才|之前|所)?(?:说|提到|提|听说|问|以为|认为|理解|看到|听到|记得|查到)"
    r"|(?:网上|网传|外面|坊间|大家|别人|有人|有些人|很多人|不少人|同事们?)(?:常|都|经常|一直|普遍|所)?(?:说|传|流传|提到|讲|以为|认为)的"
)
"""The asker's words (您说的5天), or hearsay (网上流传的90天, 大家常说的14天): reported, not claimed."""
_EN_ASKER_BEFORE = re.compile(
    r"\b(?:you|you've|you're)\s+(?:\w+\s+)?(?:mentioned|said|heard|asked|read|saw|think|thought|were\s+told|quoted|cited)\b"
)
_EN_ASKER_AFTER = re.compile(
    r"^\w*\s*(?:that\s+|which\s+)?(?:you|you've)\s+(?:\w+\s+)?(?:mentioned|said|heard|asked|read|saw|were\s+told|quoted|cited)\b"
)
_AFFIRMED = re.compile(
    r"(?:是)?(?:对的|没错|正确|准确|属实|是真的|对)"
    + CLAUSE_END_AHEAD
    + r"|\s*\b(?:is|are|was|were)\s+(?:still\s+)?(?:right|correct|accurate|true|current|valid)\b"
)


_ASKED_WHETHER = re.compile(
    r"(?:您|你|你们)(?:刚才|之前)?(?:问|想知道|咨询)(?:的是|的)?(?:是否|是不是|能否|可否|能不能|可不可以|有没有|要不要|需不需要)"
    r"|\b(?:you|you've)\s+(?:\w+\s+)?(?:asked|asking|wondered|wondering|want\s+to\s+know|wanted\s+to\s+know)"
    r"\s+(?:me\s+|us\s+)?(?:whether|if)\b|\byour\s+question\s+(?:is|was)\s+(?:whether|if)\b"
)
"""A reported question ("You asked whether the deposit is refundable or non-refundable"): every
option it names is the asker's, however long the clause (read 80 characters back)."""


def attributed_at(text: str, start: int, end: int) -> bool:
    """True when the answer gives the match as the asker's words, not its own claim, and does not
    confirm it: "您说的5天是旧规定", "the 5 days you mentioned", "You asked whether the deposit is
    refundable or non-refundable: it is refundable"; not "您说的5天没错"."""
    before = _clause_before(text, start)
    after = after_window(text, end)
    asker = bool(_ZH_ASKER.search(SPACE.sub("", before)) or _EN_ASKER_BEFORE.search(before))
    asker = asker or bool(_EN_ASKER_AFTER.match(after))
    long_before = _clause_before(text, start, 80)
    asker = asker or bool(_ASKED_WHETHER.search(long_before) or _ASKED_WHETHER.search(SPACE.sub("", long_before)))
    rel = past_relative(text, end)
    asker = asker or (rel is not None and rel[1])
    if not asker:
        return False
    rest = SPACE.sub("", after)
    rest = re.sub(r"^(?:这个说法|的说法|这个数字|这一说法|的)?", "", rest)
    if rel is not None and _AFFIRMED.match(after_window(text, rel[0])):
        return False
    return not (_AFFIRMED.match(rest) or _AFFIRMED.match(after))


def a_not_a(text: str, start: int) -> bool:
    """True when ``text[start]`` is the 不/没 of an A-not-A question (能不能, 可不可以, 有没有, 需不需要):
    it asks, it denies nothing."""
    src = nfkc(text)
    if start >= len(src) or src[start] not in "不没":
        return False
    return any(start >= k and src[start - k : start] == src[start + 1 : start + 1 + k] for k in (1, 2))


def echoed(text: str, start: int, end: int, question: str) -> bool:
    """True when the match ``text[start:end]`` lies inside words copied from the question.

    A copy reaches past the match on both sides (the match with the character on each side, in
    the same clause, occurs in the question: "能不能请年假" copied from "试用期能不能请年假？"
    holds 不能 only as an echo), or on one side in a clause the answer asks as a question
    ("…，合格吗？" restating "安装孔实测3.25 mm，合格吗？"). A match at a clause edge in a
    statement is the answer's own ("不能。", "PA66需要干燥，…" to "PA66需要干燥吗？").
    """
    if not question:
        return False
    src = nfkc(text)
    q = _question_norm(question)
    left = _neighbour(src, start - 1, -1)
    right = _neighbour(src, end, 1)
    value = src[start:end]
    if left is not None and right is not None and _echo_run(left + value + right, q):
        return True
    if not _asks(src, end):
        return False
    return (left is not None and _echo_run(left + value, q)) or (right is not None and _echo_run(value + right, q))


def _neighbour(src: str, i: int, step: int) -> str | None:
    """The first character from ``src[i]`` on (stepping by ``step``) that is not white space; None at
    a clause mark or the end."""
    while 0 <= i < len(src) and src[i].isspace():
        i += step
    if not 0 <= i < len(src) or is_punct(src[i]):
        return None
    return src[i]


def _echo_run(run: str, question_norm: str) -> bool:
    norm = normalize(run)
    return len(norm) >= 3 and norm in question_norm


def _asks(src: str, end: int) -> bool:
    """Whether the clause holding ``src[end - 1]`` ends in a question mark (read 40 characters on)."""
    m = CLAUSE.search(src, end, end + 40)
    return m is not None and m.group(0) in "?？"


@functools.lru_cache(maxsize=64)
def _question_norm(question: str) -> str:
    return normalize(question)


_ALTERNATIVE = re.compile(r"还是|或是|或者|\bor\b")
_QUESTION_END = re.compile(r"[。！!？?；;\n]|\.(?=\s|$)")
_WHETHER_EN = re.compile(r"\bwhether\b")
_WHETHER_EN_AFTER = re.compile(
    r"(?:know|sure|certain|clear|decide[sd]?|depends?\s+on|up\s+to|ask(?:ed|s)?|question\s+(?:of|is)|unclear)\s*$"
)
_WHETHER_ZH = re.compile(r"是否|能否|可否|是不是|能不能|可不可以|要不要|需不需要|有没有")
_UNDECIDED_ZH = re.compile(r"决定|取决于|要看|而定|待定|不确定|不清楚|不好说|说不准|不知道|商量|判断")
_UNDECIDED_ZH_BEFORE = re.compile(r"(?:不知道|不确定|不清楚|取决于|要看|看|决定|判断|商量)$")


def asked_about(text: str, start: int, end: int) -> bool:
    """True when the answer asks about the match ``text[start:end]`` rather than stating it.

    - One alternative of a question the answer poses ("带教期3个月还是6个月？应该是6个月。", "3 or 6
      months? It's 6."): the sentence holding it ends in a question mark and offers alternatives
      (还是, 或者, or); what the answer then settles on is its claim.
    - Inside an indirect "whether" question that is the subject or object of an undecided predicate
      ("Whether a pharmacist is allowed to refuse is for the store manager to decide", "I'm not sure
      whether refunds are allowed", "药剂师是否可以拒绝，由店长决定"); "Confirm whether the pin is
      in" is an instruction, not an undecided question, and is not read this way.

    Reads 80 characters before the match and 60 after it.
    """
    src = nfkc(text)
    stop = _QUESTION_END.search(src, end, end + 60)
    if stop is not None and stop.group(0) in "?？":
        back = src[max(0, start - 80) : start]
        marks = list(_QUESTION_END.finditer(back))
        sentence = back[marks[-1].end() :] if marks else back
        if _ALTERNATIVE.search((sentence + src[end : stop.start()]).casefold()):
            return True
    clause = _clause_before(src, start, 80)
    at = clause.rfind("whether")
    opens = at >= 0 and not clause[:at].strip()
    if at >= 0 and _WHETHER_EN.match(clause, at) and (opens or _WHETHER_EN_AFTER.search(clause[:at])):
        return True
    squeezed = SPACE.sub("", clause)
    zh = None
    for zh in _WHETHER_ZH.finditer(squeezed):  # noqa: B007  (the last one)
        pass
    if zh is None:
        return False
    if _UNDECIDED_ZH_BEFORE.search(squeezed[: zh.start()]):
        return True
    return bool(_UNDECIDED_ZH.search(SPACE.sub("", after_window(src, end, 30))))
