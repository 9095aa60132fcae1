"""Strict verdict parsing (pure): a reply yields one verdict or none; nothing is guessed.

Accepted: the bracketed form the prompts ask for (``[[7]]``, ``[[A]]``), or a
labelled line (``Rating: 7``, ``评分：7``, ``Verdict: A``, ``结论：B``). A reply
that states two different verdicts, a number outside the scale, or a grade on another
scale (``[[10/100]]`` on 1-10) is unparsed.

Before parsing, the judge's own thinking (``<think>…</think>``, when it is a reasoning
model served without a parser) is removed: a verdict it weighed while thinking is not
its verdict. Near-misses of the forms above are read too: markdown emphasis
(``**Rating:** 8``, ``Rating: **8**``), a closing full stop (``Rating: 8.``, ``评分：8分。``)
and invisible format characters (a zero-width space inside ``[[8]]``); the Chinese ways of
stating a grade: a qualified label (``最终评分：8分``, ``综合评分：8/10``), ``为`` for the colon
(``评分为8分``), the unit inside the brackets (``[[8分]]``), a ``【8】`` line, full-width digits
and colons (NFKC makes them ASCII).
"""

from __future__ import annotations

import re
import unicodedata

from harness.thinking import split_thinking

_NUMBER = r"(\d+(?:\.\d+)?)\s*(?:/\s*(\d+)|\s+out\s+of\s+(\d+))?\s*分?"
"""A grade, then its scale when the reply states one (``8/10``, ``8 out of 10``) and the unit ``分``."""
_SCORE_BRACKET = re.compile(r"\[\[\s*" + _NUMBER + r"\s*\]\]", re.I)
_SCORE_LABEL = (
    r"(?:(?:final|overall)\s+)?(?:rating|score|grade)"
    r"|(?:最终|综合|总体|整体|最后)?(?:评分|得分|分数|打分)|总分"
)
_SCORE_LINE = re.compile(
    r"^\s*(?:" + _SCORE_LABEL + r")\s*(?::|(?:为|是)\s*:?)\s*(?:\[\[|【)?\s*" + _NUMBER
    + r"\s*(?:\]\]|】)?\s*[.。!！]?\s*$", re.I | re.M
)  # fmt: skip
_SCORE_CORNER = re.compile(r"^\s*【\s*" + _NUMBER + r"\s*】\s*[.。!！]?\s*$", re.I | re.M)
"""``【8】`` on a line of its own: inside prose, 【1】 is a citation mark, not a grade."""
_PAIR_BRACKET = re.compile(r"\[\[\s*([ABC])\s*\]\]")
_PAIR_LINE = re.compile(r"^\s*(?:verdict|结论|判断)\s*[:：]\s*\[?\[?\s*([ABC])\s*\]?\]?\s*[.。!！]?\s*$", re.I | re.M)
_EMPHASIS = re.compile(r"\*+|(?<!\w)__|__(?!\w)")
PAIR_VERDICT = {"A": "A", "B": "B", "C": "tie"}


def _clean(reply: str) -> str:
    """The verdict part of a reply: the judge's thinking removed, NFKC, format characters and emphasis gone."""
    text = unicodedata.normalize("NFKC", split_thinking(reply).answer)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return _EMPHASIS.sub("", text)


def parse_score(reply: str, scale: int) -> float | None:
    """The single grade in 1..scale, or None when absent, ambiguous, out of range or on another scale.

    Every verdict form is read (brackets, labelled lines, a bracket ``【8】`` line); the same grade
    stated twice is one grade, two different grades are none. A grade that names its scale counts
    only on the plan's: ``[[8/10]]`` is 8 on a 1-10 scale, ``[[10/100]]`` is unparsed there, never 10
    (nor 1: a grade is not converted between scales).
    """
    text = _clean(reply)
    matches = [m for rx in (_SCORE_BRACKET, _SCORE_LINE, _SCORE_CORNER) for m in rx.findall(text)]
    if any(of and int(of) != scale for _, *scales in matches for of in scales):
        return None
    found = {float(value) for value, *_ in matches}
    if len(found) != 1:
        return None
    value = found.pop()
    return value if 1 <= value <= scale else None


def parse_pair(reply: str) -> str | None:
    """``A``, ``B`` or ``tie`` (positions as shown), or None when absent or ambiguous."""
    text = _clean(reply)
    found = set(_PAIR_BRACKET.findall(text)) or set(_PAIR_LINE.findall(text))
    if len(found) != 1:
        return None
    return PAIR_VERDICT[found.pop()]
