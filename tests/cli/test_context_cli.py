"""``harness context``: the passages each question gets and the prompt exactly as a run sends it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.cli import main
from harness.inputs.plan import load_plan
from harness.inputs.preview import context_preview
from harness.inputs.prompts import build_request
from harness.run.generate import plan_work
from tests.support.documents import make_pdf

SET = """\
id: sop
title: 注塑
language: zh
documents: [procedure.pdf]
questions:
  - id: mould
    category: 参数
    question: ABS的模具温度设定值是多少？
    reference: 60 ℃ ± 5 ℃。
    source: 模具温度
    checks: [{type: number, value: 60, unit: ℃}]
  - id: pump
    category: 参数
    question: ABS的模具要设定什么？
    reference: 资料未提及。
    source: 关闭液压泵
    checks: [{type: abstains}]
  - id: hold
    category: 停机
    question: 螺杆退回后保压压力应为多少？
    reference: 0 MPa。
    checks: [{type: number, value: 0, unit: MPa}]
  - id: vent
    category: 停机
    question: 开模前要做什么？
    reference: 先泄压到0 MPa，再开模。
    checks: [{type: contains_all, values: [泄压]}]
"""


@pytest.fixture
def set_file(tmp_path: Path) -> Path:
    make_pdf(tmp_path / "procedure.pdf")  # tests/support/documents.py: section 3's parameter table, page 1
    (tmp_path / "sop.yaml").write_text(SET, encoding="utf-8")
    return tmp_path / "sop.yaml"


def test_with_context_shows_each_passage_with_file_heading_page_text_and_the_source(
    set_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["context", str(set_file), "--question", "mould", "--variant", "with_context"]) == 0
    out = capsys.readouterr().out
    # the PDF's table sits under "3 工艺参数" on page 1; its passage is the one that holds 模具温度, and the
    # question's words (ABS, 模具温度, 设定) are all in it, so BM25 ranks it first
    assert "== sop/mould · variant with_context (with_context, top_k 3, chunk_chars 300)" in out
    first = out.split("[1] ", 1)[1].split("\n", 1)[0]
    assert first.endswith(" · procedure.pdf · 3 工艺参数 · page 1")
    pid = first.split(" · ")[0]
    assert f"source '模具温度' is among them ({pid})" in out
    # the row keeps its cells together (and its header above): the right row is readable as given
    assert "| 材料 | 参数 | 设定值 |" in out and "| ABS | 模具温度 | 60 ℃ ± 5 ℃ |" in out
    # the prompt as sent: the passages rendered into the one user turn, then the question
    assert "[user]" in out and "问题：ABS的模具温度设定值是多少？" in out and "[assistant]" not in out


def test_a_source_no_passage_holds_is_said_to_be_missed(
    set_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 关闭液压泵 is in section 4 (停机); the question's words (ABS, 模具, 设定) are only in section 3's table,
    # so with top_k 1 the one passage given is the table's, and the source is missed
    plan = _plan(tmp_path)
    assert main(["context", str(set_file), "--question", "pump", "--plan", str(plan), "--variant", "ctx"]) == 0
    out = capsys.readouterr().out
    assert "== sop/pump · variant ctx (with_context, top_k 1, chunk_chars 300)" in out
    assert "passages: 1; source '关闭液压泵' is NOT among them" in out and " · 3 工艺参数 · page 1" in out


def test_few_shot_shows_where_its_examples_came_from_and_the_leak_left_out(
    set_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["context", str(set_file), "--question", "hold", "--variant", "few_shot"]) == 0
    out = capsys.readouterr().out
    # no few_shot: in the set, so other questions' references; vent's "0 MPa" answers hold's number check
    assert "from other questions' references" in out
    assert "left out (gives the answer away): vent: number: found '0 MPa' = 0 MPa" in out
    assert "先泄压到0 MPa" not in out
    # the two others (mould, pump: 参数, after the same-category vent; neither states 0 MPa) are shown
    assert out.count("[assistant]") == 2 and "60 ℃ ± 5 ℃。" in out


def _plan(folder: Path) -> Path:
    plan = {"name": "p", "candidates": [{"name": "a", "model": "org/m"}], "question_sets": ["sop.yaml"],
            "sampling": {"seed": 11}, "variants": ["zero_shot", {"name": "ctx", "kind": "with_context", "top_k": 1},
                                                   {"name": "fs", "kind": "few_shot", "shots": 1}]}  # fmt: skip
    (folder / "plan.yaml").write_text(yaml.safe_dump(plan, allow_unicode=True), encoding="utf-8")
    return folder / "plan.yaml"


def test_the_preview_is_the_request_a_run_sends(set_file: Path, tmp_path: Path) -> None:
    lp = load_plan(_plan(tmp_path))
    qs = lp.sets[0].qs
    shown = context_preview(set_file, qs, lp.plan.variants, list(qs.questions), "chat", lp.plan.sampling)
    sent = {(w.variant, w.q.id): build_request("chat", w.qs, w.q, lp.plan.sampling, w.seed, w.framing)
            for w in plan_work(lp) if w.sample == 0}  # fmt: skip
    assert len(shown) == 3 * 4
    for item in shown:
        assert item.request == sent[(item.variant.name, item.q.id)], (item.variant.name, item.q.id)


def test_a_bad_question_or_variant_is_one_line_naming_the_choices(
    set_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["context", str(set_file), "--question", "mold"]) == 2
    assert capsys.readouterr().err.strip() == "error: no question 'mold' in set sop; its ids: mould, pump, hold, vent"
    assert main(["context", str(set_file), "--plan", str(_plan(tmp_path)), "--variant", "with_context"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: no variant 'with_context' in ") and err.endswith("its variants: zero_shot, ctx, fs")
