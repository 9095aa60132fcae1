"""Text normalisation and negation cues for Chinese and English answers (pure).

``normalize`` folds what should not change a match: full-width and half-width
forms (NFKC turns ＡＢ１２ into AB12 and ℃ into °C), case, white space and
punctuation. Negation is detected by cue words right before a match, so
"不可以" does not count as "可以" and "not 5 days" not as "5 days"; a cue that
negates a bound ("must not exceed 2 hours", like "不得超过2小时") leaves the
number stated.
"""

from __future__ import annotations

import functools
import re
import unicodedata

_SPACE = re.compile(r"\s+")

SENTENCE_END = re.compile(r"[。！？；!?;]+[」』”’\"')）\]]*|\.(?=\s|$)|\n")
"""A sentence ends after 。！？；!?; (with the closing quotes and brackets that follow), at a
newline, or at an English full stop before white space or the end. "1.5" is not an end."""


def sentences(text: str) -> list[str]:
    """``text`` cut after each sentence end; the pieces keep their end marks and concatenate back to ``text``.

    White space after an English full stop starts the next piece; a piece may hold no word
    (a lone newline, a list number such as "1."), which each caller filters in its own way.
    """
    out, start = [], 0
    for m in SENTENCE_END.finditer(text):
        out.append(text[start : m.end()])
        start = m.end()
    out.append(text[start:])
    return [piece for piece in out if piece]


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"))
"""Zero-width spaces and joiners, word joiner, BOM, soft hyphen: invisible, so never part of a match."""


@functools.lru_cache(maxsize=64)
def nfkc(text: str) -> str:
    """NFKC without invisible characters: 年假为5\u200b天 reads as 年假为5天."""
    return unicodedata.normalize("NFKC", text.translate(_INVISIBLE))


def is_punct(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P") or ch in "~`^|"


def _numeric_mark(text: str, i: int) -> bool:
    """A decimal point or time colon between digits (1.5, 10:30) is kept; a thousands comma is not."""
    return text[i] in ".:" and 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit()


def normalize(text: str, case_sensitive: bool = False) -> str:
    """NFKC, case-fold, drop white space and punctuation (keeping 1.5 and 10:30 intact)."""
    return _normalize_with_map(text, case_sensitive)[0]


@functools.lru_cache(maxsize=16)
def normalize_with_map(text: str, case_sensitive: bool = False) -> tuple[str, list[int]]:
    """Like :func:`normalize`, and for each output character its index in ``nfkc(text)``.

    Cached: every phrase of every check is looked for in the same answer (read-only result)."""
    return _normalize_with_map(text, case_sensitive)


def _normalize_with_map(text: str, case_sensitive: bool) -> tuple[str, list[int]]:
    src = nfkc(text)
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(src):
        if ch.isspace() or (is_punct(ch) and not _numeric_mark(src, i)):
            continue
        folded = ch if case_sensitive else ch.casefold()
        out.append(folded)
        index.extend([i] * len(folded))
    return "".join(out), index  # cached: treat as read-only


# Cues that, right before a phrase, deny it. Chinese cues attach directly
# ("不可以"); English cues are whole words within the three words before.
ZH_NEGATION = (
    "并不是", "并非", "而非", "而不是", "不是", "不应是", "不应该是", "不等于", "不为",
    "不得", "不要", "不能", "不可以", "不可", "不允许", "不准", "不许", "不应该", "不应", "不该",
    "不予", "无法", "不再", "不需要", "不需", "不用", "不必", "不会",
    "禁止", "严禁", "切勿", "请勿", "没有", "没", "未", "无", "非", "不", "别", "勿",
)  # fmt: skip
EN_NEGATION = {"not", "no", "non", "never", "cannot", "can't", "don't", "doesn't", "isn't", "aren't",
               "won't", "shouldn't", "mustn't", "without", "nor", "neither"}  # fmt: skip
EN_NEGATION_PHRASES = ("instead of", "rather than")
# "not exceed 5", "never above 180", "no more than 5": the cue denies crossing a bound that is
# still stated
EN_BOUND = {"exceed", "exceeds", "exceeding", "surpass", "over", "above", "below", "under", "beyond",
            "within", "before", "after", "until", "than", "least", "most"}  # fmt: skip
_WORD = re.compile(r"[a-z']+")


def _en_cue(word: str) -> bool:
    return word in EN_NEGATION or word.endswith("n't")


# "Do not set it to 250 °C", "不要设成二百五十度": a denied instruction to use a figure reaches it
ZH_SET_VERBS = ("设置为", "设置成", "设定为", "设定成", "设为", "设成", "设到", "设置", "设定", "设", "调到",
                "调成", "调为", "调至", "调", "改为", "改成", "定为", "写成", "写为", "填写", "填", "使用", "采用",
                "用", "选择", "选")  # fmt: skip
ZH_BOUND = ("超过", "超出", "高于", "低于", "少于", "多于", "大于", "小于", "以上", "以下", "不足", "超")
EN_SET_VERBS = {"set", "use", "choose", "select", "enter", "put", "adjust", "change", "pick", "type",
                "apply",
                "configure", "write", "fill", "go"}  # fmt: skip
# "can't miss the refund deadline", "不要忘记": a cue before a verb that itself denies affirms what follows
EN_DENYING_VERBS = {"miss", "forget", "lose", "skip", "ignore", "neglect", "fail", "avoid", "deny", "refuse",
                    "overlook", "omit", "only", "just", "merely", "simply"}  # fmt: skip
ZH_DOUBLE = ("并不是", "不是", "并非", "没有", "不得", "不能", "不", "非", "未必")
"""A cue right after one of these is a double negation: 并不是不可以 = 可以, 不得不 = must."""
REACH = 80
"""Characters before a match that can hold its negation: reading no further keeps every check linear."""
_CLAUSE = re.compile(r"[,.;:!?、，。；：！？\n]")


def negated_at(text: str, i: int) -> bool:
    """:func:`negated_before` for a match at ``text[i]``, reading only the last :data:`REACH` characters."""
    return negated_before(text[max(0, i - REACH) : i])


def _zh_negated(tail: str) -> bool:
    for cue in ZH_NEGATION:
        if tail.endswith(cue):
            return not _double(tail[: -len(cue)])
        # allow one filler character between cue and match: 不是约5天, 未作规定
        if len(tail) > len(cue) and tail[:-1].endswith(cue) and tail[-1] in "约作再太为是能":
            return not _double(tail[: -len(cue) - 1])
    clause = _CLAUSE.split(tail)[-1]
    for cue in ZH_NEGATION:
        at = clause.rfind(cue)
        gap = clause[at + len(cue) :] if at >= 0 else ""
        # 不要设成 / 千万不要把温度设成 250: the verb of setting stands right before the figure
        plain = "的" not in gap and not any(b in gap for b in ZH_BOUND)
        if at >= 0 and 0 < len(gap) <= 8 and gap.endswith(ZH_SET_VERBS) and plain:
            return not _double(clause[:at])
    return False


def _double(before_cue: str) -> bool:
    return before_cue.endswith(ZH_DOUBLE)


def _en_negated(tail: str) -> bool:
    clause = re.split(r"[,.;:!?]", tail[-60:])[-1]  # "No, refunds..." is not a negation
    words = _WORD.findall(clause)[-8:]
    cues = [i for i, w in enumerate(words) if _en_cue(w)]
    if not cues:
        return False
    after = words[cues[-1] + 1 :]
    if any(w in EN_BOUND for w in after) or any(w in EN_DENYING_VERBS for w in after[:2]):
        return False
    if len(after) <= 2:  # "not 5", "not a refund", "not get a refund"
        return True
    return len(after) <= 5 and after[0] in EN_SET_VERBS  # "do not set it to 250"


@functools.lru_cache(maxsize=8192)
def negated_before(prefix: str) -> bool:
    """True when ``prefix`` (the text just before a match) ends with a negation cue, or denies
    an instruction to use what follows ("不要设成", "do not set it to"); a double negation
    (并不是不, can't miss) and "not only" are not denials."""
    tail = nfkc(prefix[-REACH:]).casefold().rstrip()
    if _zh_negated(_SPACE.sub("", tail)) or _en_negated(tail):
        return True
    return any(tail.endswith(p) for p in EN_NEGATION_PHRASES)


def cjk_ratio(text: str) -> tuple[int, int]:
    """(CJK characters, Latin letters) in ``text``."""
    cjk = latin = 0
    for ch in nfkc(text):
        if "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf":
            cjk += 1
        elif ch.isascii() and ch.isalpha():
            latin += 1
    return cjk, latin
