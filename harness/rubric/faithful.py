"""The ``faithful`` check: an answer given retrieved passages keeps to the passage its question names.

Reported beside the rubric score (``Score.faithfulness``), not in it. The rule and why:
docs/knowledge-base.md, "Faithfulness".
"""

from __future__ import annotations

import re

from harness.rubric.checks_number import claimed
from harness.rubric.checks_text import AbstainArgs, abstention
from harness.rubric.figures import Fig, NumberArgs
from harness.rubric.known_units import KNOWN_RE, LEAD, known_spelling
from harness.rubric.numbers import Found, find_numbers
from harness.rubric.registry import Evidence, Outcome, check
from harness.rubric.text import nfkc

_LIST_MARK = re.compile(r"(?m)^\s*(?:(?:\d{1,2}|[一二三四五六七八九十])[.)、．](?!\d)\s*)+")
"""List numbers at the start of a line ("1. ", "二、", "1. 1. ") are no figures; "1.5倍" at the start is one."""
_NO_FIGURE = re.compile(
    r"[\[【]\s*\d{1,2}(?:\s*[,，、\-–]\s*\d{1,2})*\s*[\]】]"  # a citation of the passages given: [1], 【2】, [1, 3]
    r"|(?:参考资料|资料|段落|片段)\s*#?\s*\d{1,2}(?![\d.])"  # 资料3
    r"|(?i:\b(?:passage|reference|source|material|document)s?\s*#?\s*\d{1,2}\b(?!\.\d))"  # reference 2
    r"|(?i:\b(?:the\s+)?(?:1st|2nd|3rd|[4-9]th|first|second|third)\s+(?:reference|passage|source|document))"
    r"|第\s*[一二三四五六七八九十\d]{1,2}\s*(?:条|段|篇|份|个)?\s*(?:参考)?(?:资料|段落|片段)"  # 第一条资料
    r"|(?:(?<=^)|(?<=[\n。；;：:]))\s*第[一二三四五六七八九十]{1,2}(?=\s*[，,、:：])"  # "第一，": an enumerator
    r"|\d+(?:\.\d+){2,}",  # 3.2.1 (a section, a version), 1.1.1.1 (a degenerate answer): no quantity
    re.MULTILINE,
)
"""What names a passage or a place in a list, not a quantity: citations of the passages given ("根据资料 [1]",
"the 1st reference material", "资料3"), clause-opening enumerators ("第一，"), and dotted chains of three or more
numbers. Seen on the demo: each read as a figure "1" that no passage states."""
_PASSAGE_LINE = re.compile(r"(?m)^\[\d+\] (?:\(([^)\n]*)\)[ \n])?")
"""A rendered passage's mark ("[2] ") and heading path ("(3 工艺参数 > 3.2 温度) "): ``render_context``'s layout."""
_SECTION_NUMBER = re.compile(
    r"^\s*(?:\d+(?:\.\d+)*\.?|[一二三四五六七八九十]+、|第[一二三四五六七八九十百\d]+[章节条部分])\s*"
)
"""The number a heading opens with ("3.2 温度", "四、装配", "第三章 安全"): it places the section, it states nothing."""
_UNIT_WORD = re.compile(r"[%‰℃]|°[CF]?|[A-Za-z][A-Za-z·/]*|[\u4e00-\u9fff]")
"""The word a figure is written with when it is no known unit: a sign, a Latin word, one Chinese character."""


@check("faithful", AbstainArgs, uses_evidence=True, constraint=True)
def faithful(answer: str, args: AbstainArgs, evidence: Evidence | None = None) -> Outcome:
    """The answer keeps to the passage the question names (``with_context``), on the figures it asks about.

    When the material lacks the answer (no passage given holds the question's ``source``, or the question
    names none and its rubric asks for a decline: ``Evidence.expects_decline``) the answer must decline.
    Otherwise, when the question names a source and asks for figures (``number`` checks):

    - the figures the answer gives for an asked quantity (as its ``number`` check reads them: in its unit,
      echoes of the question aside) must include the one asked, which the source passage gives: an answer
      that gives that quantity only other figures scores 0, though each may occur in the passage
      ("230 ℃ ± 10 ℃", the barrel row, for the mould temperature asked, 60 ℃ ± 5 ℃);
    - then each figure must be supported, and the score is the share that is: a figure for an asked
      quantity by the passages holding the source, the question or the reference; any other figure (a
      side remark) by any passage given, the question or the reference. A figure that repeats one of
      the question's ("H-210" or "M4" said again) is no claim drawn from the material: not counted.

    A question with a source but no ``number`` check: each figure by the passages holding the source, the
    question or the reference. A question with no source: each figure by any passage given, the question
    or the reference. Not applicable (weight 0) when no material was given. docs/knowledge-base.md,
    "Faithfulness".
    """
    if evidence is None or not evidence.context:
        return Outcome(1.0, True, "not applicable: no material was given", applicable=False)
    if evidence.holds_answer is False or (evidence.holds_answer is None and evidence.expects_decline):
        phrase = abstention(answer, args.phrases, evidence.question)
        if phrase:
            why = f"the material lacks the answer and the answer declines: {phrase}"
            return Outcome(1.0, True, why, constraint=False)
        return Outcome(0.0, False, "the material lacks the answer, but the answer does not say so", constraint=False)
    cleaned = _plain(answer)
    if evidence.cut_off:
        cleaned = _without_cut_figure(cleaned, evidence.context)
    stated = find_numbers(cleaned)
    asked = [a for a in evidence.asked if isinstance(a, NumberArgs)] if evidence.source_text is not None else []
    readings = [(a, *claimed(cleaned, a, evidence)) for a in asked]
    # a figure the number check reads as the answer's claim for an asked quantity is never an echo: it has
    # set the question's given figures aside itself, in the asked unit ("是的，3个月" confirms, not echoes)
    claims = [g for _, right, other in readings for g in (*right, *other)]
    said = nfkc(cleaned)
    question = _Figures(evidence.question)
    # the question's own figures repeated ("H-210", "M4", "满4年") are not claims drawn from the material;
    # "400 t" for a question about the P-400 is (an id is no quantity), and so is "40 ℃" after "40 分钟"
    own = [f for f in stated if not question.holds(said, f) or any(g.head <= f.start < g.end for g in claims)]
    where = "the source passage" if evidence.source_text is not None else "the material"
    if not own:
        return Outcome(1.0, True, f"states no figure beyond the question's that {where} could contradict")
    in_source = _Figures(evidence.support, material=True)
    if not readings:
        unsupported = [f for f in own if not in_source.holds(said, f)]
        return _share(own, unsupported, where)
    answering = [g for _, right, _ in readings for g in right]
    answering_at = {g.head for g in answering}
    for asked_args, right, other in readings:
        if asked_args.unit is None:  # without a unit every figure reads as one for it: which one answers is unknown
            continue
        other = [g for g in other if g.head not in answering_at]  # right for another asked quantity
        if other and not right:
            shown = ", ".join(dict.fromkeys(_fig_label(g, asked_args) for g in other))
            return Outcome(0.0, False, f"gives {shown} for what is asked, not {_asked_label(asked_args)}")
    anywhere = _Figures(evidence.given, material=True)
    rows = _source_rows(evidence.source_text, evidence.source or "")
    # another figure the answer gives in an asked unit, in a clause naming no other row of the source's table
    # ("60 ℃ ± 5 ℃，允许偏差为 10 ℃"): said of the asked row, so the row must give it, not merely its table
    of_row = [
        g
        for asked_args, right, other in readings
        if asked_args.unit is not None and right and rows is not None
        for g in other
        if g.head not in answering_at and not _names_another_row(said, g.head, rows[1])
    ]
    in_row = _Figures(rows[0]) if rows is not None else None

    def answers(f: Found) -> bool:
        return any(g.head <= f.start < g.end for g in answering)

    def support(f: Found) -> _Figures:
        if in_row is not None and any(g.head <= f.start < g.end for g in of_row):
            return in_row
        return in_source if answers(f) else anywhere

    unsupported = [f for f in own if not support(f).holds(said, f)]
    if any(support(f) is in_row for f in unsupported):
        where = "the source's table row"  # said of the asked row, which does not give it
    elif unsupported and not any(answers(f) for f in unsupported):
        where = "the material"  # only side figures lack support, and they may come from any passage given
    return _share(own, unsupported, where)


_Unit = tuple[str, bool] | None
"""The unit a figure is written in, and whether it is a known unit (吨 and t both ``("metric_ton", True)``)."""


def _unit(text: str, f: Found) -> _Unit:
    """The unit ``f`` is written with in ``text`` (NFKC): a known unit by name, else the word after it (a sign,
    a Latin word, one Chinese character); None when it stands bare or names a thing (the 400 of P-400)."""
    if f.kind == "id":
        return None
    if f.unit_hint:
        known = known_spelling(f.unit_hint)
        return (known.name, True) if known else (f.unit_hint, False)
    head = text[f.unit_pos :].lstrip(LEAD)
    match = KNOWN_RE.match(head) or _UNIT_WORD.match(head)
    if match is None:
        return None
    known = known_spelling(match.group())
    return (known.name, True) if known else (match.group().casefold(), False)


class _Figures:
    """The figures a text states, to tell whether an answer's figure is one of them.

    Two figures are the same when their values are, both or neither name a thing (an ``id``: the 400 of P-400,
    the 4 of M4), and, where both are written in known units, the units are the same: "400 t" is not the
    P-400's 400, "20%" not the 20 of "20 天", "45 days" the 45 of "45天". A unit the harness does not know
    (件, N·m) is not compared, so a figure is not refused for a spelling. With ``material``, a rendered
    passage's marks ("[3]"), its headings' section numbers ("3.2 温度", "四、") and list numbers are no figures.
    """

    def __init__(self, text: str, material: bool = False) -> None:
        if material:
            text = _plain(_PASSAGE_LINE.sub(_heading_words, text))
        plain = nfkc(text)
        self._figs = [(round(f.value, 6), f.kind == "id", _unit(plain, f)) for f in find_numbers(text)]

    def holds(self, answer: str, f: Found) -> bool:
        """``f``, a figure of ``answer`` (NFKC), is one of this text's."""
        value, named, unit = round(f.value, 6), f.kind == "id", _unit(answer, f)
        return any(v == value and n == named and _same_unit(unit, u) for v, n, u in self._figs)


def _without_cut_figure(text: str, material: str) -> str:
    """An answer cut at the token limit, without the figure it ends on (nothing but punctuation after it) when
    that figure is the start of a longer one of the material: "The Pro plan costs $24.9" is "$24.99" cut short,
    "含水率≤0." is "≤0.2%", not claims of 24.90 and 0. A figure the material does not begin ("答：10" where it
    says 12) is the answer's claim, cut or not."""
    plain = nfkc(text)
    found = find_numbers(text)
    if not found or re.search(r"\w", plain[found[-1].end :]):
        return text
    last = found[-1]
    written = plain[last.start : last.end]
    stated = nfkc(material)
    if not any(
        len(w := stated[f.start : f.end]) > len(written) and w.startswith(written) for f in find_numbers(material)
    ):
        return text
    return plain[: last.start if last.lead is None else min(last.start, last.lead)]


def _plain(text: str) -> str:
    """``text`` without what only looks like a figure (:data:`_LIST_MARK`, :data:`_NO_FIGURE`): each such span
    becomes one space, so figures either side stay apart."""
    return _NO_FIGURE.sub(" ", _LIST_MARK.sub("", text))


_CLAUSE = re.compile(r"[，,；;。\n]|\.(?=\s|$)")


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


def _squash(text: str) -> str:
    return "".join(nfkc(text).casefold().split())


def _source_rows(source_text: str | None, source: str) -> tuple[str, set[str]] | None:
    """The Markdown table rows of the source passages that hold the question's ``source`` (joined), and the
    label cells (no digit) of the tables' other rows, squashed; None when the source is no table row's."""
    if not source_text or not _squash(source):
        return None
    lines = [line for line in source_text.splitlines() if line.strip().startswith("|")]
    rule = [bool(re.fullmatch(r"[\s|:\-]+", line)) for line in lines]
    body = [line for k, line in enumerate(lines) if not rule[k] and not (k + 1 < len(lines) and rule[k + 1])]
    mine = [line for line in body if _squash(source) in _squash(line)]
    if not mine:
        return None
    own = {_squash(c) for line in mine for c in _cells(line)}
    others = {_squash(c) for line in body if line not in mine for c in _cells(line) if c and not re.search(r"\d", c)}
    return "\n".join(mine), others - own - {""}


def _names_another_row(answer: str, head: int, labels: set[str]) -> bool:
    """The clause a figure stands in names a label of another row of the source's table (料筒温度, PP): the
    figure is a side remark about that row, not a claim about the asked one."""
    start = max((m.end() for m in _CLAUSE.finditer(answer, 0, head)), default=0)
    clause = _squash(answer[start:head])
    return any(label in clause for label in labels)


def _same_unit(a: _Unit, b: _Unit) -> bool:
    return a is None or b is None or a == b or not (a[1] and b[1])


def _heading_words(m: re.Match[str]) -> str:
    """A passage line's mark dropped, its heading path kept without the parts' section numbers."""
    parts = (m.group(1) or "").split(" > ")
    return " ".join(_SECTION_NUMBER.sub("", part) for part in parts if part) + ("\n" if m.group(1) else "")


def _share(stated: list[Found], unsupported: list[Found], where: str) -> Outcome:
    if not unsupported:
        said = "the 1 figure appears" if len(stated) == 1 else f"all {len(stated)} figures appear"
        return Outcome(1.0, True, f"{said} in {where}")
    shown = ", ".join(f"{f.value:g}" for f in unsupported[:5])
    return Outcome(1 - len(unsupported) / len(stated), False, f"figures not in {where}: {shown}")


def _fig_label(g: Fig, args: NumberArgs) -> str:
    value = f"{g.low:g}" if g.low == g.high else f"{g.low:g}-{g.high:g}"
    return f"{value} {args.unit}" if args.unit else value


def _asked_label(args: NumberArgs) -> str:
    value = f"{args.between[0]:g}-{args.between[1]:g}" if args.between is not None else f"{args.value:g}"
    return f"{value} {args.unit}" if args.unit else value
