"""Strict verdict parsing (pure): a reply yields one verdict or none; nothing is guessed.

Accepted: the bracketed form the prompts ask for (``[[7]]``, ``[[A]]``), or a
labelled line (``Rating: 7``, ``评分：7``, ``Verdict: A``, ``结论：B``). A reply
that states two different verdicts, or a number outside the scale, is unparsed.

Before parsing, the judge's own thinking (``<think>…</think>``, when it is a reasoning
model served without a parser) is removed: a verdict it weighed while thinking is not
its verdict. Near-misses of the forms above are read too: markdown emphasis
(``**Rating:** 8``, ``Rating: **8**``), a closing full stop (``Rating: 8.``, ``评分：8分。``)
and invisible format characters (a zero-width space inside ``[[8]]``).
"""

from __future__ import annotations

import re
import unicodedata

from harness.thinking import split_thinking

_SCORE_BRACKET = re.compile(r"\[\[\s*(\d+(?:\.\d+)?)\s*(?:/\s*\d+)?\s*\]\]")
_SCORE_LINE = re.compile(
    r"^\s*(?:rating|score|评分|得分|分数)\s*[:：]\s*(\d+(?:\.\d+)?)\s*(?:/\s*\d+|分)?\s*[.。!！]?\s*$", re.I | re.M
)
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
    """The single grade in 1..scale, or None when absent, ambiguous or out of range."""
    text = _clean(reply)
    found = {float(m) for m in _SCORE_BRACKET.findall(text)}
    if not found:
        found = {float(m) for m in _SCORE_LINE.findall(text)}
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
