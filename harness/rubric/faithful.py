"""The ``faithful`` check: an answer given retrieved passages keeps to the passage its question names.

Reported beside the rubric score (``Score.faithfulness``), not in it. The rule and why:
docs/knowledge-base.md, "Faithfulness".
"""

from __future__ import annotations

import re

from harness.rubric.checks_number import claimed
from harness.rubric.checks_text import AbstainArgs, abstention
from harness.rubric.figures import Fig, NumberArgs
from harness.rubric.numbers import Found, find_numbers
from harness.rubric.registry import Evidence, Outcome, check

_LIST_MARK = re.compile(r"(?m)^\s*(?:\d{1,2}|[一二三四五六七八九十])[.)、．]\s*")
"""A list number at the start of a line ("1. ", "二、") is not a figure."""


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
    cleaned = _LIST_MARK.sub("", answer)
    stated = find_numbers(cleaned)
    echoes = {round(f.value, 6) for f in find_numbers(evidence.question)}
    # the question's own figures repeated ("H-210", "M4", "满4年") are not claims drawn from the material
    own = [f for f in stated if round(f.value, 6) not in echoes]
    where = "the source passage" if evidence.source_text is not None else "the material"
    if not own:
        return Outcome(1.0, True, f"states no figure beyond the question's that {where} could contradict")
    in_source = {round(f.value, 6) for f in find_numbers(evidence.support)}
    if evidence.source_text is None or not evidence.asked:
        unsupported = [f for f in own if round(f.value, 6) not in in_source]
        return _share(own, unsupported, where)
    readings = [(a, *claimed(cleaned, a, evidence)) for a in evidence.asked if isinstance(a, NumberArgs)]
    answering = [g for _, right, _ in readings for g in right]
    answering_at = {g.head for g in answering}
    for asked, right, other in readings:
        if asked.unit is None:  # without a unit every figure reads as one for it: which one answers is unknown
            continue
        # a figure right for another asked quantity, or repeating the question, is not this one's answer
        other = [g for g in other if g.head not in answering_at and not _echoes_question(g, stated, echoes)]
        if other and not right:
            shown = ", ".join(dict.fromkeys(_fig_label(g, asked) for g in other))
            return Outcome(0.0, False, f"gives {shown} for what is asked, not {_asked_label(asked)}")
    anywhere = {round(f.value, 6) for f in find_numbers(evidence.given)}

    def answers(f: Found) -> bool:
        return any(g.head <= f.start < g.end for g in answering)

    unsupported = [f for f in own if round(f.value, 6) not in (in_source if answers(f) else anywhere)]
    if unsupported and not any(answers(f) for f in unsupported):
        where = "the material"  # only side figures lack support, and they may come from any passage given
    return _share(own, unsupported, where)


def _share(stated: list[Found], unsupported: list[Found], where: str) -> Outcome:
    if not unsupported:
        return Outcome(1.0, True, f"all {len(stated)} figures appear in {where}")
    shown = ", ".join(f"{f.value:g}" for f in unsupported[:5])
    return Outcome(1 - len(unsupported) / len(stated), False, f"figures not in {where}: {shown}")


def _echoes_question(g: Fig, stated: list[Found], echoes: set[float]) -> bool:
    """The figure repeats one of the question's ("delivered 20 days ago" for a question that says so)."""
    return any(g.head <= f.start < g.end and round(f.value, 6) in echoes for f in stated)


def _fig_label(g: Fig, args: NumberArgs) -> str:
    value = f"{g.low:g}" if g.low == g.high else f"{g.low:g}-{g.high:g}"
    return f"{value} {args.unit}" if args.unit else value


def _asked_label(args: NumberArgs) -> str:
    value = f"{args.between[0]:g}-{args.between[1]:g}" if args.between is not None else f"{args.value:g}"
    return f"{value} {args.unit}" if args.unit else value
