"""The prompt-strategy section says where each few-shot variant's examples came from."""

from __future__ import annotations

from harness.records import CheckSpec, FewShotExample, Question, QuestionSet, Variant
from harness.report.render import _env
from harness.report.shots import shot_notes


def _q(qid: str, question: str, reference: str, value: float) -> Question:
    check = CheckSpec(type="number", args={"value": value, "unit": "MPa"})
    return Question(id=qid, category="注塑", question=question, reference=reference, checks=[check])


# hold checks 0 MPa and vent's reference states 0 MPa: for hold, vent is left out (1). vent checks 5 MPa:
# neither hold's "0 MPa" nor inject's "80 MPa" is 5 MPa. inject checks 80 MPa: neither other text states
# it. So one example is left out over the set.
SOP = QuestionSet(id="sop", title="t", language="zh", questions=[
    _q("hold", "螺杆退回后保压压力？", "0 MPa。", 0),
    _q("vent", "开模前泄压到多少以下？", "先泄压到0 MPa，再开模；报警值5 MPa。", 5),
    _q("inject", "注射压力？", "80 MPa。", 80),
])  # fmt: skip
HR = QuestionSet(id="hr", title="t", language="zh", few_shot=[FewShotExample(question="示例？", answer="示例。")],
                 questions=[Question(id="a", category="c", question="?", reference="1天。")])  # fmt: skip
VARIANTS = [Variant(name="zero_shot", kind="zero_shot"), Variant(name="fs", kind="few_shot", shots=2)]


def test_each_few_shot_variant_and_set_gets_its_origin_and_the_leaks_left_out() -> None:
    notes = shot_notes(VARIANTS, {"sop": SOP, "hr": HR})
    assert notes == [
        {"variant": "fs", "set": "sop", "text": "other questions' references (the set has no few_shot: examples); "
         "1 left out as giving a question's answer away"},
        {"variant": "fs", "set": "hr", "text": "the set's own few_shot: examples"},
    ]  # fmt: skip
    assert shot_notes([VARIANTS[0]], {"sop": SOP}) == []  # no few_shot variant: nothing to say


def test_the_strategy_section_shows_the_note_escaped() -> None:
    notes = shot_notes(VARIANTS, {"sop": SOP})
    notes[0]["set"] = "<b>sop</b>"  # a set id is the author's text: escaped like the rest
    row = {"gain": None, "faithful": None, "context_hit": None}
    html = _env().get_template("strategy.html.j2").render(strategy=[row], strategy_top={}, shot_notes=notes)
    assert (
        '<p class="muted shots" data-variant="fs" data-set="&lt;b&gt;sop&lt;/b&gt;">'
        "Few-shot examples of <code>fs</code> on &lt;b&gt;sop&lt;/b&gt;: other questions&#39; references "
        "(the set has no few_shot: examples); 1 left out as "
        "giving a question&#39;s answer away.</p>"
    ) in html
