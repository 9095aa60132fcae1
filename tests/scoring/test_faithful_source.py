"""``faithful`` on the passage the question names and the figures it asks about (issue 32).

The issue's case: a PDF procedure whose parameter table has the ABS barrel row (230 ℃ ± 10 ℃) above the
ABS mould row (60 ℃ ± 5 ℃). Asked the mould temperature, a model answered "230℃ ±10℃": every figure of
it occurs in the material, so the old rule called it faithful. The table is converted from a real PDF
(tests/support/documents.py), cut into passages and retrieved as a run does it, once with the whole
table in one passage and once with each row in its own passage.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.inputs.retrieval import Bm25Index, Passage, chunk_document, load_documents, render_context
from harness.records import CheckResult, CheckSpec, Generation, Question
from harness.scoring.stage import score_generation
from tests.support.documents import make_pdf

MOULD = Question(
    id="abs-mould", category="工艺参数", question="ABS的模具温度应设定为多少？", reference="60 ℃ ± 5 ℃",
    source="模具温度", checks=[CheckSpec(type="number", args={"value": 60, "unit": "℃"})],
)  # fmt: skip


def _given(passages: list[Passage], top_k: int) -> tuple[str, list[str]]:
    """The context a ``with_context`` variant gives for the mould question, and its passage ids."""
    found = [p for p, _ in Bm25Index(passages).search(MOULD.question, top_k)]
    return render_context(found, "zh"), [p.id for p in found]


def _generation(answer: str, context: str, ids: list[str], q: Question, finish: str = "stop") -> Generation:
    return Generation(key="k", candidate="m", set_id="sop", question_id=q.id, sample=0, seed=0, api="chat",
                      variant="with_context", text=answer, context=context, context_ids=ids,
                      finish_reason=finish)  # fmt: skip


def _faithful(answer: str, context: str, ids: list[str], q: Question = MOULD, finish: str = "stop") -> CheckResult:
    score = score_generation(_generation(answer, context, ids, q, finish), q)
    assert score.faithfulness is not None
    return score.faithfulness


@pytest.fixture(scope="module")
def procedure(tmp_path_factory: pytest.TempPathFactory) -> str:
    pdf = make_pdf(tmp_path_factory.mktemp("sop") / "注塑安全规程.pdf")
    return load_documents([pdf], cache_dir=pdf.parent / "cache")["注塑安全规程.pdf"]


def test_the_barrel_row_for_the_mould_temperature_is_not_faithful_in_one_passage(procedure: str) -> None:
    passages = chunk_document(procedure, "注塑安全规程.pdf", max_chars=300)
    context, ids = _given(passages, 2)
    # the whole table is one passage, with both rows: what the old rule read as support for 230 and 10
    (table,) = [p for p in passages if "模具温度" in p.text]
    assert "230 ℃ ± 10 ℃" in table.text and "60 ℃ ± 5 ℃" in table.text and table.id in ids
    wrong = _faithful("230℃ ±10℃", context, ids)
    # the number check reads 230 ℃ (and 10 ℃) as the answer's figure for the mould temperature; 60 ℃ is asked
    assert (wrong.passed, wrong.score) == (False, 0.0)
    assert "230 ℃" in wrong.explanation and "60 ℃" in wrong.explanation
    right = _faithful("ABS模具温度设定为60℃ ± 5℃。", context, ids)
    assert (right.passed, right.score) == (True, 1.0)  # 60 is asked and in the passage; 5 is in it too
    # a side remark with the barrel row beside the right figure is still faithful: each is in the passage
    both = _faithful("模具温度60℃±5℃；料筒温度230℃±10℃。", context, ids)
    assert (both.passed, both.score) == (True, 1.0)
    # the barrel row's tolerance said of the mould temperature (a regex checks the ±5, so the rubric passes it):
    # its clause names no other row, so the asked rows (模具温度: ABS 60 ± 5, PP 40 ± 5) must give 10: 2 of 3
    slipped = _faithful("ABS 料的模具温度应设定为 60 ℃ ± 5 ℃，允许偏差为 10 ℃。", context, ids)
    assert (slipped.passed, round(slipped.score, 2)) == (False, 0.67)
    assert slipped.explanation == "figures not in the source's table row: 10"


def test_the_barrel_row_for_the_mould_temperature_is_not_faithful_in_another_passage(procedure: str) -> None:
    # 60 characters hold the header, its rule and one row: each row is its own passage under the header
    passages = chunk_document(procedure, "注塑安全规程.pdf", max_chars=60)
    context, ids = _given(passages, 5)
    mould = next(p for p in passages if "| 模具温度 | 60 ℃ ± 5 ℃ |" in p.text and "| ABS |" in p.text)
    barrel = next(p for p in passages if "| 料筒温度 | 230 ℃ ± 10 ℃ |" in p.text)
    assert mould.id != barrel.id and "230" not in mould.text
    assert {mould.id, barrel.id} <= set(ids)  # both given: 230 is in the material, not in the source passage
    wrong = _faithful("230℃ ±10℃", context, ids)
    assert (wrong.passed, wrong.score) == (False, 0.0)
    right = _faithful("60℃ ± 5℃", context, ids)
    assert (right.passed, right.score) == (True, 1.0)
    # an invented tolerance beside the right figure: 60 supported, 7 in no passage given: 1 of 2 unsupported
    invented = _faithful("60℃ ± 7℃", context, ids)
    assert (invented.passed, invented.score) == (False, 0.5)


def test_without_number_checks_every_figure_must_be_in_the_source_passage() -> None:
    q = MOULD.model_copy(update={"checks": [CheckSpec(type="contains_any", args={"values": ["60"]})]})
    head = "| 材料 | 参数 | 设定值 |\n| --- | --- | --- |\n"
    context = render_context([
        Passage("sop#2", "sop.pdf", "3 工艺参数", head + "| ABS | 料筒温度 | 230 ℃ ± 10 ℃ |"),
        Passage("sop#3", "sop.pdf", "3 工艺参数", head + "| ABS | 模具温度 | 60 ℃ ± 5 ℃ |"),
    ], "zh")  # fmt: skip
    # 230 and 10 occur only in sop#2, which does not hold the source 模具温度: 0 of 2 supported
    wrong = _faithful("230℃ ±10℃", context, ["sop#2", "sop#3"], q)
    assert (wrong.passed, wrong.score) == (False, 0.0) and "source passage" in wrong.explanation
    # with no source named, any passage given supports a figure (the rule before issue 32)
    unnamed = q.model_copy(update={"source": None})
    assert _faithful("230℃ ±10℃", context, ["sop#2", "sop#3"], unnamed).passed


def test_a_figure_echoed_from_the_question_is_not_an_answer_for_the_quantity_asked() -> None:
    q = Question(
        id="refund", category="refunds", question="I bought a hub for $129 and it was delivered 20 days ago. "
        "How many days do I have to return it?", reference="30 days from delivery.", source="within 30 days",
        checks=[CheckSpec(type="number", args={"value": 30, "unit": "days"})],
    )  # fmt: skip
    context = render_context([Passage("r#1", "r.md", "Returns", "Hardware can be returned within 30 days.")], "en")
    # "20 days" repeats the question: neither the answer for what is asked nor unsupported (the question says it)
    echo = _faithful("It was delivered 20 days ago, so let me check the policy.", context, ["r#1"], q)
    assert (echo.passed, echo.score) == (True, 1.0)
    wrong = _faithful("You have 14 days.", context, ["r#1"], q)
    assert (wrong.passed, wrong.score) == (False, 0.0)


def test_a_number_check_without_a_unit_does_not_claim_every_figure() -> None:
    q = Question(
        id="billing", category="billing", question="What does Pro cost per year, and what do I save against paying "
        "monthly?", reference="$249/year; 12 x $24.99 = $299.88, so $50.88.", source="$249/year",
        checks=[CheckSpec(type="number", args={"value": 249}),
                CheckSpec(type="number", args={"value": 50.88, "tolerance": 0.01})],
    )  # fmt: skip
    context = render_context([Passage("b#1", "b.md", "Pro", "Pro costs $24.99/month or $249/year.")], "en")
    # 24.99 and 249 are in the passage; the savings are not stated: no figure reads as a wrong savings figure
    partial = _faithful("Pro costs $24.99/month or $249/year.", context, ["b#1"], q)
    assert (partial.passed, partial.score) == (True, 1.0)


def test_a_missed_source_still_asks_for_a_decline(tmp_path: Path) -> None:
    context = render_context([Passage("sop#1", "sop.pdf", "1 适用范围", "本规程适用于本厂全部注塑机。")], "zh")
    assert not _faithful("60℃", context, ["sop#1"]).passed  # the source 模具温度 is in no passage given
    assert _faithful("资料中没有提到模具温度。", context, ["sop#1"]).passed


def test_the_questions_own_figures_said_again_are_not_counted_among_the_answers_claims() -> None:
    # seen on the demo (asm-001): "M4" and "H-210" repeated from the question made an invented figure look
    # half supported; a careful grader reads only what the answer adds
    q = Question(
        id="asm-001", category="装配", question="M4自攻螺丝的锁付扭矩是多少？公差多少？", reference="1.8 N·m，±0.1 N·m",
        source="M4自攻螺丝扭矩1.8 N·m", checks=[CheckSpec(type="contains_any", args={"values": ["1.8"]})],
    )  # fmt: skip
    context = render_context(
        [Passage("a#1", "a.md", "四、装配", "M4自攻螺丝扭矩1.8 N·m（±0.1 N·m），M3机牙螺丝扭矩0.9 N·m。")], "zh"
    )
    # figures: the 4 of M4 (the question's screw size, said again: no claim), the bare 4 (a torque of 4: a claim
    # no passage supports; the passage's M4 is a size, its "[1]" a mark, "四、" a section number) and 17 (invented):
    # 0 of 2 supported
    invented = _faithful("M4自攻螺丝的锁付扭矩是4。17%的公差多少？", context, ["a#1"], q)
    assert (invented.passed, invented.score) == (False, 0.0) and "17" in invented.explanation
    # 4 (echo) aside, 1.8 and 0.1 are in the source passage: 2 of 2
    right = _faithful("M4自攻螺丝的锁付扭矩是1.8 N·m，公差±0.1 N·m。", context, ["a#1"], q)
    assert (right.passed, right.score) == (True, 1.0) and "2 figures" in right.explanation
    # only the question's figure said again: nothing the material could contradict
    echo = _faithful("M4自攻螺丝的扭矩请查看资料。", context, ["a#1"], q)
    assert (echo.passed, echo.score) == (True, 1.0) and "beyond the question's" in echo.explanation


def test_a_question_the_material_cannot_answer_must_be_declined_even_without_a_source() -> None:
    # seen on make demo-kb: asked the PC barrel temperature (not in the procedure), Qwen gave the ABS barrel
    # row; every figure occurs in a passage, but the question is there to be declined (an abstains check)
    q = Question(
        id="pc", category="工艺参数", question="PC的料筒温度应设定为多少？", reference="资料中没有PC的参数，无法回答。",
        checks=[CheckSpec(type="abstains")],
    )  # fmt: skip
    head = "| 材料 | 参数 | 设定值 |\n| --- | --- | --- |\n"
    context = render_context(
        [Passage("sop#2", "sop.pdf", "3 工艺参数", head + "| ABS | 料筒温度 | 230 ℃ ± 10 ℃ |")], "zh"
    )
    wrong = _faithful("230 ℃ ± 10 ℃", context, ["sop#2"], q)
    assert (wrong.passed, wrong.score) == (False, 0.0) and "does not say so" in wrong.explanation
    declined = _faithful("资料中没有PC的料筒温度，无法回答。", context, ["sop#2"], q)
    assert (declined.passed, declined.score) == (True, 1.0)
    # an optional abstains check does not make the question one to decline: figures judged as before
    lenient = q.model_copy(update={"checks": [CheckSpec(type="abstains", optional=True)]})
    assert _faithful("230 ℃ ± 10 ℃", context, ["sop#2"], lenient).passed


PRESSES = Question(
    id="p400", category="设备参数", question="P-400 的最大锁模力是多少吨？", reference="350 t",
    source="| P-400 | 350 t |",
    checks=[CheckSpec(type="number", args={"value": 350, "unit": "t", "units": {"吨": 1}})],
)  # fmt: skip
PRESS_TABLE = (
    "| 型号 | 最大锁模力 | 开模行程 |\n| --- | --- | --- |\n| P-400 | 350 t | 400 mm |\n| P-600 | 520 t | 550 mm |"
)


def test_a_figure_equal_to_a_model_number_of_the_question_is_still_a_claim() -> None:
    # a press named P-400 has a clamp force of 350 t; "400 t" is the name read as the answer: wrong, and not
    # the question's figure said again, since the question states no quantity of 400 (the old rule dropped
    # every answer figure equal to any number of the question, and called "400 t" faithful: 1.00)
    context = render_context([Passage("presses#1", "presses.docx", "设备参数", PRESS_TABLE)], "zh")
    for answer in ("400 t", "P-400 的最大锁模力为 400 吨。"):
        wrong = _faithful(answer, context, ["presses#1"], PRESSES)
        assert (wrong.passed, wrong.score) == (False, 0.0), answer
        assert "400 t" in wrong.explanation and "350 t" in wrong.explanation
    right = _faithful("P-400 的最大锁模力为 350 吨。", context, ["presses#1"], PRESSES)
    assert (right.passed, right.score) == (True, 1.0)  # P-400 said again is no claim; 350 is the row's
    # the row's stroke of 400 mm is a claim of its own (a length, not the press's name), and the row gives it
    both = _faithful("P-400：350 t，开模行程 400 mm。", context, ["presses#1"], PRESSES)
    assert (both.passed, both.score) == (True, 1.0) and "all 2 figures" in both.explanation
    # the number check names what the answer claims, not the press's name
    rubric = score_generation(_generation("400 t", context, ["presses#1"], PRESSES), PRESSES).checks[0]
    assert rubric.explanation.startswith("expected 350 t; saw 400") and "400, 400" not in rubric.explanation


def test_a_question_figure_said_again_in_its_own_unit_is_an_echo_and_in_another_unit_a_claim() -> None:
    q = Question(
        id="late", category="采购", question="供应商延迟交货已经 20 天了，合同约定的违约金比例是多少？",
        reference="每延迟一天 0.5%", source="违约金", checks=[CheckSpec(type="contains_any", args={"values": ["0.5"]})],
    )  # fmt: skip
    context = render_context([Passage("c#1", "c.md", "3 违约责任", "违约金：每延迟一天按货款的 0.5% 计。")], "zh")
    # "20 天" repeats what the question states: not counted; 0.5 % is the passage's: 1 of 1
    echo = _faithful("已经延迟 20 天，违约金为每天 0.5%。", context, ["c#1"], q)
    assert (echo.passed, echo.score) == (True, 1.0) and "the 1 figure appears in" in echo.explanation
    # "20%" is no repetition of 20 days: a rate the passage does not give: 0.5 supported, 20 not: 1 of 2
    other_unit = _faithful("违约金比例为 20%，即每天 0.5%。", context, ["c#1"], q)
    assert (other_unit.passed, other_unit.score) == (False, 0.5) and "20" in other_unit.explanation


def test_passage_marks_and_section_numbers_support_no_figure() -> None:
    # three passages are given as [1] [2] [3] under numbered headings; the answer's "3 天" and "2 次" are
    # in no passage's text, so nothing supports them (the old rule found 3 and 2 in the marks)
    q = Question(id="leave", category="人事", question="婚假有几天？", reference="婚假 10 天", source="婚假")
    passages = [
        Passage("hb#1", "hb.docx", "2 假期 > 2.1 婚假", "婚假 10 天，需提前一周申请。"),
        Passage("hb#2", "hb.docx", "2 假期 > 2.3 丧假", "直系亲属丧假 5 天。"),
        Passage("hb#3", "hb.docx", "三、加班", "加班需主管审批。"),
    ]
    context = render_context(passages, "zh")
    made_up = _faithful("婚假 3 天，可分 2 次休。", context, ["hb#1", "hb#2", "hb#3"], q)
    assert (made_up.passed, made_up.score) == (False, 0.0)
    right = _faithful("婚假 10 天，需提前一周申请。", context, ["hb#1", "hb#2", "hb#3"], q)
    assert (right.passed, right.score) == (True, 1.0)


OVERTIME = Question(
    id="ot", category="人事", question="工作日延长工作时间的加班工资按多少倍计算？", reference="1.5 倍",
    source="工作日延长工作时间 | 150%",
)  # fmt: skip
OVERTIME_TABLE = (
    "| 加班类型 | 工资倍数 |\n| --- | --- |\n| 工作日延长工作时间 | 150% |\n| 休息日加班 | 200% |"
    "\n\n即工作日 1.5 倍、休息日 2 倍。"
)


def test_citations_enumerators_and_section_numbers_are_no_figures() -> None:
    # seen on the demo: "根据资料 [1]" and "第一，" each read as a figure 1 that no passage states (before this,
    # the passage mark "[1]" happened to "support" it); a careful grader reads them as pointers, not claims
    context = render_context([Passage("hb#3", "hb.docx", "3 加班", OVERTIME_TABLE)], "zh")
    for answer in (
        "根据资料 [1]，工作日加班按 1.5 倍计算。",
        "Referencing the 1st reference material: 1.5 倍。",
        "见 3.2.1 节：工作日 1.5 倍。",
    ):
        cited = _faithful(answer, context, ["hb#3"], OVERTIME)
        assert (cited.passed, cited.score) == (True, 1.0) and "the 1 figure appears in" in cited.explanation, answer
    listed = _faithful("第一，工作日加班按1.5倍；第二，休息日按2倍。", context, ["hb#3"], OVERTIME)
    assert (listed.passed, listed.score) == (True, 1.0) and "all 2 figures" in listed.explanation
    # a citation does not hide an invented figure beside it: 1.5 supported, 1.8 not: 1 of 2
    invented = _faithful("根据资料【1】，工作日 1.5 倍，夜间 1.8 倍。", context, ["hb#3"], OVERTIME)
    assert (invented.passed, invented.score) == (False, 0.5) and "1.8" in invented.explanation


def test_an_answer_that_opens_with_a_decimal_keeps_it_whole() -> None:
    # "1.8 N·m" at the start of a line was read as the list number "1." and the figure 8, unsupported
    q = Question(
        id="asm", category="装配", question="M4自攻螺丝的锁付扭矩是多少？", reference="1.8 N·m", source="M4自攻螺丝扭矩"
    )
    context = render_context([Passage("a#1", "a.md", "四、装配", "M4自攻螺丝扭矩1.8 N·m（±0.1 N·m）。")], "zh")
    right = _faithful("1.8 N·m，公差±0.1 N·m。", context, ["a#1"], q)
    assert (right.passed, right.score) == (True, 1.0) and "all 2 figures" in right.explanation
    listed = _faithful("1. 扭矩 1.8 N·m\n2. 公差 ±0.1 N·m", context, ["a#1"], q)  # the list numbers 1 and 2 aside
    assert (listed.passed, listed.score) == (True, 1.0) and "all 2 figures" in listed.explanation


def test_a_figure_cut_by_the_token_limit_is_not_held_against_the_answer() -> None:
    q = Question(id="price", category="billing", question="How much is the Pro plan?", reference="$24.99/month",
                 source="Pro costs $24.99/month")  # fmt: skip
    context = render_context([Passage("p#2", "p.md", "Pricing", "Pro costs $24.99/month or $249/year.")], "en")
    # cut at max_tokens while copying $24.99: the 24.9 is unfinished, nothing else is claimed
    cut = _faithful("The Pro plan costs $24.9", context, ["p#2"], q, finish="length")
    assert (cut.passed, cut.score) == (True, 1.0)
    # the same text from an answer that ended by itself claims $24.90, which the passage does not give
    said = _faithful("The Pro plan costs $24.9", context, ["p#2"], q)
    assert (said.passed, said.score) == (False, 0.0) and "24.9" in said.explanation
    # a cut figure the material begins no figure with is a claim all the same: $30 is no start of 24.99 or 249
    other = _faithful("It costs $249/year, or $30", context, ["p#2"], q, finish="length")
    assert (other.passed, other.score) == (False, 0.5) and "30" in other.explanation


def test_another_rows_figure_said_of_the_asked_row_is_not_faithful_in_english() -> None:
    # a trial user's set: the ABS mould row is 60 °C ± 5 °C, the barrel row above it 230 °C ± 10 °C
    q = Question(
        id="abs-mould", category="process",
        question="What mould temperature is set for ABS, and how much deviation is allowed?",
        reference="60 °C ± 5 °C", source="ABS | Mould temperature | 60 °C ± 5 °C",
        checks=[CheckSpec(type="number", args={"value": 60, "unit": "°C"})],
    )  # fmt: skip
    table = (
        "| Material | Parameter | Setting |\n| --- | --- | --- |\n| ABS | Barrel temperature | 230 °C ± 10 °C |"
        "\n| ABS | Mould temperature | 60 °C ± 5 °C |\n| PC | Mould temperature | 90 °C ± 5 °C |"
    )
    context = render_context([Passage("sop#3", "sop.pdf", "3 Process parameters", table)], "en")
    slipped = _faithful("60 °C ± 5 °C, and with a tolerance of 10 °C", context, ["sop#3"], q)
    assert (slipped.passed, round(slipped.score, 2)) == (False, 0.67) and "10" in slipped.explanation
    # naming the row it comes from makes it a side remark, true of that row
    aside = _faithful("60 °C ± 5 °C; the barrel temperature is 230 °C ± 10 °C.", context, ["sop#3"], q)
    assert (aside.passed, aside.score) == (True, 1.0)
    # the PC row's figure said of ABS, beside the right one: 90 is not the ABS mould row's
    other_row = _faithful("60 °C ± 5 °C, up to 90 °C", context, ["sop#3"], q)
    assert (other_row.passed, round(other_row.score, 2)) == (False, 0.67)


def test_a_section_number_on_the_heading_line_above_a_table_supports_no_figure() -> None:
    # a passage that opens with a table has its heading on a line of its own ("[1] (3 Preventive maintenance)"
    # then the table); the heading's section number "3" is still no figure of the material, so "every 3 months"
    # is unsupported: the table says 500 h
    q = Question(id="oil", category="maintenance", question="How often is the oil of press P-450 changed?",
                 reference="every 500 h", source="Oil change")  # fmt: skip
    table = "| Equipment | Task | Interval |\n| --- | --- | --- |\n| P-450 | Oil change | 500 h |"
    context = render_context([Passage("pm#1", "pm.pdf", "3 Preventive maintenance", table)], "en")
    made_up = _faithful("Every 3 months.", context, ["pm#1"], q)
    assert (made_up.passed, made_up.score) == (False, 0.0) and "3" in made_up.explanation
    right = _faithful("Every 500 h.", context, ["pm#1"], q)
    assert (right.passed, right.score) == (True, 1.0)
