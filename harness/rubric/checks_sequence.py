"""The ``sequence`` check: named steps, each with synonyms, stated in a required order.

A procedure such as lock-out/tag-out is right only in its order: "先断电，再停机" names
every step and is still wrong. The answer is read as a stream of step mentions (each
synonym found as :func:`harness.rubric.checks_text.find_phrase` finds it: normalised,
whole numbers, from a word start, not denied; an English phrasal verb also with its object
between and its verb inflected: "shut the press down", "locked it out" for ``shut down``,
``lock out``); the committed order is the longest run of steps that the stream holds in
the required order (a longest increasing subsequence by step index), so an introduction
that names a later step ("LOTO（上锁挂牌）程序：停机、断电…") or a summary that repeats one does not break it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import Field, field_validator

from harness.rubric.registry import Args, Outcome, check
from harness.rubric.text import REACH, SENTENCE_END, Term, check_terms, negated_at, nfkc, normalize, normalize_with_map

Step = Term
"""A step's name, or a list of its synonyms (any one counts)."""

_ORDER_ADVERB = re.compile(r"(?:先|再|就|才|立即|立刻|马上|直接|首先|然后|随后|接着|去|来|把|将)$")
"""Words between a negation and a step that keep the negation: 不要先断电, 别直接断电, 不要把电断了."""
_BEFORE_ZH = re.compile(r"\s*(?:之前|以前|前)")
_BEFORE_ZH_LATER = re.compile(r"[^，,。；;！!？?\n]{1,8}?(?:之前|以前)(?=\s*[，,])")
"""在测试刹车系统之前，…: the step and its object before 之前."""
_BEFORE_EN = re.compile(r"(?i)\b(?:before|prior to)\s+(?:you\s+|we\s+)?$")
_AFTER_EN = re.compile(r"(?i)\b(?:after|once)\s+(?:you\s+|we\s+|the\s+)?$")
_CLAUSE_GAP = re.compile(r"[\s,，;；:：]*")
_CLAUSE_END = re.compile(r"[,，;；。.!！?？\n]")
_DASHES = str.maketrans({"—": ",", "–": ","})
"""A dash ends a clause for negation ("not A — B" does not deny B)."""


PARTICLES = ("up", "down", "off", "out", "on", "in", "back", "away", "over", "aside", "apart")
"""The last word of an English phrasal verb (shut down, lock out, turn off)."""
SPLIT_REACH = 3
"""Words that may stand between a phrasal verb and its particle: "shut the press down", "turn the main power off"."""
_NOT_OBJECT = r"(?:and|or|then|but|before|after|to|so|while|until|once|if|not)\b"
"""Words that end the object: "shut the valve and then power down" does not state "shut down"."""
_INFLECTION = r"(?:s|es|ed|d|ing|[bdgklmnprt](?:ed|ing))?"


def _phrasal(name: str, case_sensitive: bool) -> re.Pattern[str] | None:
    """A pattern for an English phrasal verb step, its object between (shut the press down) and the
    verb inflected (shutting down, locked it out); None for any other name."""
    words = name.split()
    if len(words) < 2 or not name.isascii() or words[-1].casefold() not in PARTICLES:
        return None
    verb = r"\s+".join(re.escape(w) for w in words[:-1])
    between = rf"(?:\s+(?!{_NOT_OBJECT})[\w'-]+){{0,{SPLIT_REACH}}}?"
    return re.compile(rf"\b{verb}{_INFLECTION}{between}\s+{re.escape(words[-1])}\b", 0 if case_sensitive else re.I)


class SequenceArgs(Args):
    steps: list[Step] = Field(min_length=2)
    """The steps in their required order; a step may be a list of synonyms."""
    case_sensitive: bool = False
    negation: bool = True
    """A denied mention (不要先断电, do not cut power first) is not a step."""

    @field_validator("steps")
    @classmethod
    def _non_empty(cls, steps: list[Step]) -> list[Step]:
        return check_terms(steps, "a step")


@dataclass(frozen=True)
class Mention:
    key: float
    """Where the step stands in the order the answer states (its position, or later: see :func:`_key`)."""
    step: int


def _denied(src: str, start: int) -> bool:
    """Denied right before, or with an order adverb between (不要先断电, 别直接断电)."""
    if negated_at(src, start):
        return True
    m = _ORDER_ADVERB.search(src, max(0, start - 4), start)
    return m is not None and negated_at(src, m.start())


_OPENER = re.compile(
    r"(?i)\b(?:(before|prior\s+to)|(after|once))\b(?!\s*(?:that|this|which|then|these|those|it|so|doing\s+so)\b)"
)
_LIST_ITEM = re.compile(r"(?i)\s*(?:and\s+|or\s+)?(?:the\s+)?[\w'-]+(?:\s+[\w'-]+){0,2}\s*")
"""An earlier item of a list inside a before/after clause ("after checking tyres, forks, chains …")."""
_LIST_LEAD = re.compile(r"(?i)\s*(?:(?:the\s+)?[\w'-]+(?:\s+[\w'-]+){0,2}\s+)?(?:(?:and|or)\s+)?(?:the\s+)?")
"""What may stand between a list's last comma and the mention: "chains and ", "the "."""
_LAST_BEFORE = re.compile(
    r"(?i)\s*(?:\b(?:finally|lastly|last\s+of\s+all|at\s+the\s+(?:very\s+)?end|in\s+the\s+end)\b|最后|最终|末了)"
)
_LAST_AFTER = re.compile(r"(?i)\s*(?:\w+\s+){0,4}?(?:at\s+the\s+(?:very\s+)?end|last)\b")


def _opener(src: str, start: int) -> re.Match[str] | None:
    """The before/after word whose clause holds the mention at ``start``: the clause runs from it to the
    mention; an after-clause may hold a list cut by commas ("after checking tyres, forks and chains").
    Reads the sentence, REACH characters back at most."""
    lo = _sentence_start(src, start)
    found = None
    for m in _OPENER.finditer(src, lo, start):
        found = m
    if found is None:
        return None
    parts = re.split(r"[,，、]", src[found.end() : start])
    if re.search(r"[;；:：]", src[found.end() : start]):
        return None
    if len(parts) == 1:
        return found
    if found.group(1):
        return None  # "Before you isolate power, shut down": the before-clause ends at its comma
    last = parts[-1]
    joined = bool(re.search(r"(?i)\b(?:and|or)\s+(?:the\s+)?$", last)) or not last.strip(" the")
    if joined and _LIST_LEAD.fullmatch(last) and all(_LIST_ITEM.fullmatch(p) for p in parts[1:-1]):
        return found
    return None


def _key(src: str, start: int, end: int) -> float:
    """The position a mention takes in the stated order.

    "在断电之前，先停机" / "Before you test the brakes, inspect the tyres": a step in a *before*
    clause that opens its sentence or clause comes after the clause that follows it; "Lock out after
    you isolate power", "Sign at the end, after checking tyres, forks and chains": a step in an
    *after* clause that does not open its sentence comes before the rest of it; a step marked
    last ("finally", "at the end", 最后) comes after every other. All read a bounded stretch.
    """
    tie = start / (len(src) + 1)
    c_mark = _CLAUSE_END.search(src[max(0, start - REACH) : start][::-1])
    c_start = start - c_mark.start() if c_mark else max(0, start - REACH)
    c_stop = _CLAUSE_END.search(src, end, end + REACH)
    s_start = _sentence_start(src, start)
    marker = _LAST_BEFORE.match(src, s_start) if src[s_start:c_start].strip() else None
    if (
        marker
        or _LAST_BEFORE.search(src, c_start, start)
        or _LAST_AFTER.match(src[end : c_stop.start() if c_stop else end + REACH])
    ):
        return len(src) + 1 + tie
    before_zh = _BEFORE_ZH.match(src, end) or _BEFORE_ZH_LATER.match(src, end)
    opener = _opener(src, start)
    before_en = opener if opener and opener.group(1) and _opens_clause(src, opener.start()) else None
    if before_zh or before_en:
        if before_zh:
            own_end = before_zh.end()
        else:  # "Before you test the brakes, inspect the tyres": past the before-clause first
            mark = _CLAUSE_END.search(src, end, end + REACH)
            own_end = mark.end() if mark else end
        gap = _CLAUSE_GAP.match(src, own_end)
        stop = _CLAUSE_END.search(src, gap.end() if gap else end, (gap.end() if gap else end) + REACH)
        return (stop.start() if stop else min(len(src), end + REACH)) + tie
    if opener and opener.group(2) and not _opens_sentence(src, opener.start()):
        return _sentence_start(src, opener.start()) - 1 + tie
    return float(start)


def _sentence_start(src: str, i: int) -> int:
    """Where the sentence holding ``src[i]`` starts, REACH characters back at most."""
    lo = max(0, i - REACH)
    ends = [m.end() for m in SENTENCE_END.finditer(src, lo, i)]
    return ends[-1] if ends else lo


def _opens_sentence(src: str, i: int) -> bool:
    head = src[max(0, i - 3) : i].rstrip()
    return not head or head[-1] in "。.!！?？\n"


def _opens_clause(src: str, i: int) -> bool:
    return not src[max(0, i - 3) : i].strip() or src[max(0, i - 3) : i].rstrip()[-1:] in ",，;；:：。.!！?？\n"


def mentions(answer: str, args: SequenceArgs) -> list[Mention]:
    """Every mention of a step, in the order the answer states them (linear in the answer)."""
    src = nfkc(answer).translate(_DASHES)
    hay, index = normalize_with_map(answer, args.case_sensitive)
    out: list[Mention] = []
    for step, names in enumerate(args.steps):
        for name in [names] if isinstance(names, str) else names:
            needle = normalize(name, args.case_sensitive)
            pos = hay.find(needle)
            while pos != -1:
                start, end = index[pos], index[pos + len(needle) - 1] + 1
                if _whole(src, start, end) and not (args.negation and _denied(src, start)):
                    out.append(Mention(_key(src, start, end), step))
                pos = hay.find(needle, pos + 1)
            pattern = _phrasal(name, args.case_sensitive)
            for m in pattern.finditer(src) if pattern else ():
                if not (args.negation and _denied(src, m.start())):
                    out.append(Mention(_key(src, m.start(), m.end()), step))
    return sorted(out, key=lambda m: m.key)


def _whole(src: str, start: int, end: int) -> bool:
    """Not inside a number or starting inside a Latin word (验电 in 验电笔 is fine)."""
    before = src[start - 1] if start > 0 else ""
    after = src[end] if end < len(src) else ""
    if src[start].isascii() and src[start].isalnum() and before.isascii() and before.isalnum():
        return False
    return not (src[end - 1].isdigit() and after.isdigit())


def longest_in_order(stream: list[int], n_steps: int) -> list[int]:
    """The longest chain of steps that ``stream`` holds in increasing order (each step once).

    O(len(stream) × n_steps); ``best[j]`` is the longest chain ending with step j.
    """
    best: list[list[int]] = [[] for _ in range(n_steps)]
    for j in stream:
        before = max((best[i] for i in range(j)), key=len, default=[])
        if len(before) + 1 > len(best[j]):
            best[j] = [*before, j]
    return max(best, key=len)


def _name(step: Step) -> str:
    return step if isinstance(step, str) else step[0]


@check("sequence", SequenceArgs)
def sequence(answer: str, args: SequenceArgs) -> Outcome:
    """Every step appears, in the given order; partial credit = the share of steps in the
    longest in-order chain the answer states.

    ``steps: [[停机, 关机], [断电, 切断电源], [上锁, 挂牌上锁, LOTO], [验电, 确认无电]]``:
    "先停机，再断电，然后挂牌上锁，最后验电" passes; "先断电，再停机，上锁，验电" scores 3/4.
    """
    stream = [m.step for m in mentions(answer, args)]
    found = set(stream)
    missing = [_name(s) for i, s in enumerate(args.steps) if i not in found]
    chain = longest_in_order(stream, len(args.steps))
    share = len(chain) / len(args.steps)
    if len(chain) == len(args.steps):
        return Outcome(1.0, True, "all steps in order: " + " → ".join(_name(s) for s in args.steps))
    if missing:
        return Outcome(share, False, "missing step: " + ", ".join(missing))
    # the steps the chain leaves out are stated, but out of order
    order = list(dict.fromkeys(stream))
    return Outcome(share, False, "out of order: " + " → ".join(_name(args.steps[i]) for i in order))
