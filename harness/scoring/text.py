"""Text normalisation and negation cues for Chinese and English answers (pure).

``normalize`` folds what should not change a match: full-width and half-width
forms (NFKC turns ＡＢ１２ into AB12 and ℃ into °C), case, white space and
punctuation. Negation is detected by cue words right before a match, so
"不可以" does not count as "可以" and "not 5 days" not as "5 days"; a cue that
negates a bound ("must not exceed 2 hours", like "不得超过2小时") leaves the
number stated.
"""

from __future__ import annotations

import re
import unicodedata

_SPACE = re.compile(r"\s+")


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def is_punct(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P") or ch in "~`^|"


def _numeric_mark(text: str, i: int) -> bool:
    """A decimal point or time colon between digits (1.5, 10:30) is kept; a thousands comma is not."""
    return text[i] in ".:" and 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit()


def normalize(text: str, case_sensitive: bool = False) -> str:
    """NFKC, case-fold, drop white space and punctuation (keeping 1.5 and 10:30 intact)."""
    return normalize_with_map(text, case_sensitive)[0]


def normalize_with_map(text: str, case_sensitive: bool = False) -> tuple[str, list[int]]:
    """Like :func:`normalize`, and for each output character its index in ``nfkc(text)``."""
    src = nfkc(text)
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(src):
        if ch.isspace() or (is_punct(ch) and not _numeric_mark(src, i)):
            continue
        folded = ch if case_sensitive else ch.casefold()
        out.append(folded)
        index.extend([i] * len(folded))
    return "".join(out), index


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


def negated_before(prefix: str) -> bool:
    """True when ``prefix`` (the text just before a match) ends with a negation cue."""
    tail = nfkc(prefix).casefold().rstrip()
    tail_nospace = _SPACE.sub("", tail)
    for cue in ZH_NEGATION:
        if tail_nospace.endswith(cue):
            return True
        # allow one filler character between cue and match: 不是约5天, 未作规定
        if len(tail_nospace) > len(cue) and tail_nospace[:-1].endswith(cue) and tail_nospace[-1] in "约作再太为是能":
            return True
    clause = re.split(r"[,.;:!?]", tail[-60:])[-1]  # "No, refunds..." is not a negation
    words = _WORD.findall(clause)[-3:]  # "not 5", "not a refund", "not get a refund"
    cues = [i for i, w in enumerate(words) if _en_cue(w)]
    if cues and not any(w in EN_BOUND for w in words[cues[-1] + 1 :]):
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
