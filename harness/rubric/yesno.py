"""Yes and no by meaning (pure): what a careful grader reads as the answer to a yes/no question.

An answer takes a position on "Can I install personal software?" or "Is MFA mandatory for remote
access?" in many wordings. Three kinds are read here:

- a **bare yes or no** that opens the answer ("No.", "不行。", "Yes, it is.") answers the question:
  it affirms the question's own predicate (``mandatory``) or denies it;
- **one refusal for another**: "not permitted", "prohibited", 禁止, 不行 and 不能 all say "you may
  not", so a value that is a bare refusal is claimed by any of them;
- **a requirement said as a ban on doing without**: "Remote access without MFA is not permitted",
  "You cannot log in remotely without MFA", "没有MFA就不能远程登录" all say MFA is required.

Every reading scans the answer once with one regex and looks at most a sentence around a match.
"""

from __future__ import annotations

import re

from harness.rubric.disowning import a_not_a, attributed_at, echoed
from harness.rubric.text import asked_case, negated_at, nfkc, normalize

_ZH_REFUSAL = r"不能|不可以|不可|不行|不允许|不准|不许|禁止|严禁|不得"
_EN_REFUSAL = (
    r"\bnot\s+(?:be\s+)?(?:allowed|permitted|possible)\b|\bprohibited\b|\bforbidden\b|\bdisallowed\b|\bmay\s+not\b"
    r"|\bmust\s+not\b|\bcannot\b|\bcan\s+not\b|\bcan't\b"
    r"|\b(?:do|does|did|will|would)\s+not\s+(?:allow|permit)\b|\b(?:don't|doesn't|didn't|won't|wouldn't)\s+(?:allow|permit)\b"
)
_REFUSAL = re.compile(_ZH_REFUSAL + "|" + _EN_REFUSAL)
REFUSAL_VALUES = frozenset(
    normalize(v)
    for v in (
        "不能", "不可以", "不可", "不行", "不允许", "不准", "不许", "禁止", "严禁", "不得", "no", "not allowed",
        "not permitted", "prohibited", "forbidden", "disallowed", "may not", "must not", "cannot", "can't",
        "can not", "not possible",
    )
)  # fmt: skip
"""Values that are a bare "you may not": any refusal of :data:`_REFUSAL`, or a bare no, claims them."""
REQUIREMENT_VALUES = frozenset(
    normalize(v)
    for v in ("mandatory", "required", "compulsory", "obligatory", "must", "必须", "必需", "强制", "一定要", "务必")
)
"""Values that say "it is required": a ban on doing without it claims them."""

# "不得超过3天", "must not exceed 2 hours": a bound, not a refusal of what was asked
_BOUND_AFTER = re.compile(
    r"\s*(?:超过|超出|高于|低于|少于|多于|大于|小于|exceed|be\s+(?:more|less|longer|shorter)|go\s+(?:over|above|below)"
    r"|more\s+than|less\s+than)"
)
_SPEAKER_BEFORE = re.compile(r"(?:我|\bi)\s*$")  # "我不能确定", "I cannot say": the speaker's, a decline
_BARE_NO = re.compile(
    r"^[\W_]*(no|nope|no\s+way|absolutely\s+not|certainly\s+not|definitely\s+not|of\s+course\s+not|not\s+at\s+all"
    r"|不|否|不行|不能|不可以|不可能|当然不(?:行|可以|能)?)(?:的|了|呀|啊)*\s*(?:[,.;:!?，。；：！？—–]|$)"
)
_BARE_YES = re.compile(
    r"^[\W_]*(yes|yep|yeah|correct|that's\s+right|absolutely|certainly|indeed|是的|是|对|对的|没错)"
    r"(?:的|了|呀|啊)*\s*(?:[,.;:!?，。；：！？—–]|$)"
)
_EN_YES_NO_QUESTION = re.compile(
    r"^\W*(?:is|are|was|were|do|does|did|can|could|may|might|must|should|shall|will|would|has|have|had)\b"
)
_ZH_YES_NO_QUESTION = re.compile(r"吗[？?]?\s*$|是否|能否|可否|(.{1,2})[不没]\1")
_A_NOT_A = re.compile(r"(.{1,2})[不没]\1")
_QUESTION_NEGATED = re.compile(r"\b(?:not|never|no)\b|n't|[不没无非禁勿别]")
_EN_WITHOUT = re.compile(
    r"\bwithout\b[^.!?;\n]{1,60}?(?:" + _EN_REFUSAL + r"|\bwon't\s+be\b|\bwill\s+not\s+be\b|\bis\s+(?:refused|rejected|"
    r"denied|blocked)\b)"
    r"|(?:\bcannot|\bcan\s+not|\bcan't|\bnot\s+(?:be\s+)?(?:allowed|permitted)|\bmay\s+not|\bmust\s+not)"
    r"[^.!?;\n]{1,50}?\bwithout\b"
)
_ZH_WITHOUT = re.compile(
    r"(?:没有|未|不|无)(?:开启|启用|开通|使用|用|通过|完成|带|戴|经过|做|绑定|验证)?[^。！？；\n，,]{1,12}?"
    r"(?:就|则|的话|时|前|的)?[，,]?(?:一律|均|都)?(?:不能|不得|不允许|不可以|不行|禁止|无法|不予)"
)


def yes_no_question(question: str) -> bool:
    """Whether ``question`` asks yes or no, without a negation of its own ("Isn't it …?" makes a bare
    "No" ambiguous): "Can I install …?", "MFA是强制的吗？", "能不能请年假？"."""
    q = nfkc(question).strip().casefold()
    if not q:
        return False
    if not (_EN_YES_NO_QUESTION.search(q) or _ZH_YES_NO_QUESTION.search(q)):
        return False
    return not _QUESTION_NEGATED.search(_A_NOT_A.sub("", q))


def opens_with_no(answer: str, question: str) -> bool:
    """Whether the answer opens with a bare no ("No.", "No, …", "不行。", "不。") to a yes/no question.
    Without a question a bare no is read as a no."""
    head = nfkc(answer[:40]).casefold().lstrip()
    return bool(_BARE_NO.match(head)) and (not question or yes_no_question(question))


def opens_with_yes(answer: str, question: str) -> bool:
    """Whether the answer opens with a bare yes ("Yes.", "是的，…") to a yes/no question (one is needed)."""
    head = nfkc(answer[:40]).casefold().lstrip()
    return bool(question) and bool(_BARE_YES.match(head)) and yes_no_question(question)


_NOT_IN_CASE = re.compile(
    r"(?:^|[?？]\s*)[\W_]*not\s+(?:under|for|in|on|with|via|during|through|within|at|by)\s+([^,.;:!?\n]{1,60})"
)
"""A sentence opening "Not under …" after a question: "Lithium batteries by air? Not under the standard
programme." It refuses when it names the case the question asks about (:func:`asked_case`)."""


_CLOSING_NO = re.compile(
    r"(?:\bso|\btherefore|\bthus|\bhence|\bwhich\s+means|所以|因此|因而|故而|那么|那就|也就是说)"
    r"(?:\s*[,，:：]\s*|\s+)?(?:the\s+answer\s+is\s+|答案是|是)?"
    r"(?:no|nope|not|不行|不可以|不能|不可|不允许|不是|否|没有)(?:的|了|呀|啊)*"
    r"(?=\s*(?:[.!;。！；…]|$))"
)
"""A closing refusal that answers the question after its reason: "Only up to the second level, so no.",
"…, therefore not.", "只到二级，所以不行。". It must end its sentence: "so no one is exempt" goes on."""


def refuses(answer: str, question: str = "") -> bool:
    """Whether the answer refuses (:func:`refusal`)."""
    return refusal(answer, question) is not None


def refusal(answer: str, question: str = "") -> str | None:
    """The words the answer refuses with, or None: a bare no that opens it; "Not under/for <the asked
    case>" opening it or answering a question it restates; a closing "so no" / 所以不行 to a yes/no
    question; or a refusal it states ("not permitted", "prohibited", "does not allow", 禁止, 不行) that
    is not denied, a bound ("不得超过3天"), the speaker's ("I cannot say", a decline), an A-not-A
    question (能不能) or copied from the question."""
    if opens_with_no(answer, question):
        return _bare_words(answer)
    asks = not question or yes_no_question(question)
    if question and asks:
        for case in _NOT_IN_CASE.finditer(nfkc(answer[:400]).casefold()):
            if asked_case(case.group(1), question):
                return nfkc(answer[:400])[case.start() : case.end()].lstrip("?？ ").strip()
    src = nfkc(answer)
    low = src.casefold()
    if asks:
        for m in _CLOSING_NO.finditer(low):
            if not echoed(src, m.start(), m.end(), question):
                return src[m.start() : m.end()]
    for m in _REFUSAL.finditer(low):
        start, end = m.start(), m.end()
        if (
            _BOUND_AFTER.match(low, end)
            or _SPEAKER_BEFORE.search(low[max(0, start - 4) : start])
            or negated_at(src, start)
            or a_not_a(src, start)
            or attributed_at(src, start, end)
            or echoed(src, start, end, question)
        ):
            continue
        return src[start:end]
    return None


def _bare_words(answer: str) -> str:
    """The opening bare yes or no as written ("No", "不行")."""
    head = nfkc(answer[:40]).lstrip()
    m = _BARE_NO.match(head.casefold()) or _BARE_YES.match(head.casefold())
    return head[m.start(1) : m.end(1)] if m and len(head) == len(head.casefold()) else head[:12].rstrip()


def requires(answer: str, question: str = "") -> bool:
    """Whether the answer says something is required (:func:`requirement`)."""
    return requirement(answer, question) is not None


def requirement(answer: str, question: str = "") -> str | None:
    """The words with which the answer says something is required by banning doing without it: "Remote access
    without MFA is not permitted", "You cannot log in remotely without MFA", "没有MFA就不能远程登录",
    "未开启MFA的，一律不允许远程访问". The ban must not be copied from the question."""
    src = nfkc(answer)
    for pattern in (_EN_WITHOUT, _ZH_WITHOUT):
        for m in pattern.finditer(src.casefold()):
            if not echoed(src, m.start(), m.end(), question):
                return src[m.start() : m.end()]
    return None


def claims_by_meaning(answer: str, value: str, question: str = "") -> bool:
    """Whether the answer takes the position ``value`` states in other words (:func:`meaning`)."""
    return meaning(answer, value, question) is not None


def meaning(answer: str, value: str, question: str = "") -> str | None:
    """How the answer takes the position ``value`` states, in other words, as an explanation that quotes
    it ("'No' (a refusal, counts for: not allowed)"), or None: a refusal value by any refusal or a bare
    no; a requirement value by a ban on doing without; a value the yes/no question itself holds
    ("mandatory" in "Is MFA mandatory?") by a bare yes."""
    norm = normalize(value)
    if norm in REFUSAL_VALUES:
        words = refusal(answer, question)
        if words is not None:
            return f"{words!r} (a refusal, counts for: {value})"
    if norm in REQUIREMENT_VALUES:
        words = requirement(answer, question)
        if words is not None:
            return f"{words!r} (a ban on doing without, counts for: {value})"
    asked = normalize(_A_NOT_A.sub(r"\1", nfkc(question)))  # 能不能 asks 能, it does not say 不能
    if norm and norm in asked and opens_with_yes(answer, question):
        return f"{_bare_words(answer)!r} (a yes to the question, counts for: {value})"
    return None
