"""Where each ``few_shot`` variant's examples came from, for the report's prompt-strategy section (pure).

A gain from few-shot prompting means little when the examples were other questions' references; the
report says so per (variant, set), with how many examples were left out because they would have given
a question's answer away (:func:`harness.inputs.shots.shot_source`, the choice the run made).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from harness.inputs.shots import shot_source
from harness.records import QuestionSet, Variant

_ORIGIN = {
    "set_examples": "the set's own few_shot: examples",
    "other_questions": "other questions' references (the set has no few_shot: examples)",
    "none": "none: the set has no few_shot: examples and every other question's reference gave an answer away",
}


def shot_notes(variants: Sequence[Variant], sets: Mapping[str, QuestionSet]) -> list[dict[str, str]]:
    """``[{variant, set, text}]``, one per ``few_shot`` variant and set, e.g. ``fs`` on ``sop``:
    "other questions' references (the set has no few_shot: examples); 1 left out as giving an answer away"."""
    out = []
    for v in variants:
        if v.kind != "few_shot":
            continue
        for qs in sets.values():
            src = shot_source(qs, v.shots)
            text = _ORIGIN[src.origin]
            if src.skipped:
                text += f"; {src.skipped} left out as giving a question's answer away"
            out.append({"variant": v.name, "set": qs.id, "text": text})
    return out
