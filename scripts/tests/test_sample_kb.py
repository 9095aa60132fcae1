"""The sample knowledge base of `make demo-kb` (scripts/make_sample_kb.py, question_sets/kb/).

Expected rows are read off the text the generator holds (its LEAVE_ROWS, OVERTIME_ROWS, PARAM_ROWS and the
wiki table), not off what a converter printed: the point is that each row of each table still reads as one
line under its own header after conversion, so a model given the passage can take the ABS mould row and not
the barrel row above it.
"""

from __future__ import annotations

from pathlib import Path

import make_sample_kb as kb
import pytest
import yaml

from harness.cli import main
from harness.inputs.documents.convert import read_document
from harness.inputs.retrieval import Bm25Index, Passage, chunk_document, load_documents, squash
from tests.support.documents import table_at

REPO = Path(__file__).resolve().parents[2]
SET = REPO / "question_sets" / "kb" / "sample_kb_zh.yaml"
COMMITTED = REPO / "question_sets" / "kb" / "docs"


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("kb")
    kb.make_all(out)
    return out


def test_the_committed_documents_hold_what_the_generator_writes(made: Path, tmp_path: Path) -> None:
    # The files a user of `make demo-kb` gets say what the script's text says: editing the text and forgetting to
    # regenerate fails here. Compared as converted Markdown, not as bytes, since zlib and reportlab versions may
    # pack the same content differently (on one environment the bytes are equal too: the script fixes the dates).
    for name in (kb.HANDBOOK, kb.PROCEDURE, kb.WIKI):
        fresh = read_document(made / name, tmp_path / "fresh").markdown
        committed = read_document(COMMITTED / name, tmp_path / "committed").markdown
        assert fresh == committed, f"run scripts/make_sample_kb.py: {name}"


def test_the_handbook_tables_keep_each_row_under_its_header(made: Path, tmp_path: Path) -> None:
    lines = read_document(made / kb.HANDBOOK, tmp_path / "cache").markdown.splitlines()
    # two tables, header first, one line per row, in the order written; each under its own section heading
    assert table_at(lines, "| 工龄 | 年假天数 |") == [
        "| 工龄 | 年假天数 |", "| --- | --- |",
        "| 满1年不满10年 | 5天 |", "| 满10年不满20年 | 10天 |", "| 满20年及以上 | 15天 |",
    ]  # fmt: skip
    assert table_at(lines, "| 加班类型 | 工资倍数 | 能否以调休代替 |") == [
        "| 加班类型 | 工资倍数 | 能否以调休代替 |", "| --- | --- | --- |",
        "| 工作日延长工作时间 | 150% | 不能 |", "| 休息日加班 | 200% | 能，优先安排同等时长调休 |",
        "| 法定节假日加班 | 300% | 不能 |",
    ]  # fmt: skip
    assert lines.index("## 2 年假") < lines.index("| 工龄 | 年假天数 |") < lines.index("## 3 加班")
    assert lines.index("## 3 加班") < lines.index("| 加班类型 | 工资倍数 | 能否以调休代替 |")


def test_the_procedure_parameter_table_keeps_each_row_under_its_header(made: Path, tmp_path: Path) -> None:
    lines = read_document(made / kb.PROCEDURE, tmp_path / "cache").markdown.splitlines()
    assert table_at(lines, "| 材料 | 参数 | 设定值 |") == [
        "| 材料 | 参数 | 设定值 |", "| --- | --- | --- |",
        "| ABS | 料筒温度 | 230 ℃ ± 10 ℃ |", "| ABS | 模具温度 | 60 ℃ ± 5 ℃ |", "| ABS | 注射压力 | 80 MPa ± 10 MPa |",
        "| PP | 料筒温度 | 210 ℃ ± 10 ℃ |", "| PP | 模具温度 | 40 ℃ ± 5 ℃ |", "| PP | 注射压力 | 60 MPa ± 10 MPa |",
    ]  # fmt: skip
    # the 15 pt sections are headings; the table is in section 3, the shutdown rule in section 4
    assert lines.index("## 3 工艺参数") < lines.index("| 材料 | 参数 | 设定值 |") < lines.index("## 4 停机")


def test_the_sample_set_validates_without_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(SET)]) == 0
    out = capsys.readouterr().out
    assert "warning" not in out, out


def passages() -> list[Passage]:
    spec = yaml.safe_load(SET.read_text(encoding="utf-8"))
    docs = load_documents([SET.parent / p for p in spec["documents"]])
    return [p for name, text in docs.items() for p in chunk_document(text, name, max_chars=300)]


def test_each_table_question_retrieves_its_row_in_the_top_three() -> None:
    # The source of each table question is its row (e.g. 'ABS | 模具温度 | 60 ℃ ± 5 ℃'). Reasoned by hand: each
    # table is one passage (all fit in 300 characters), and the question shares its rarest terms with it alone:
    # ABS/PP with 模具温度, 料筒温度 or 注射压力 occur together only in the parameter table (料筒温度 also in the
    # shutdown rule, which has no ABS/PP); 年假 and 工龄-like terms only in section 2; 法定节假日/休息日 with 加班
    # only in the overtime table; 液压油温 in the wiki table and its "异常处理" paragraph. So with the whole set
    # indexed together (as a run does), the row's passage is among the first three for each of the seven.
    spec = yaml.safe_load(SET.read_text(encoding="utf-8"))
    index = Bm25Index(passages())
    table_questions = [q for q in spec["questions"] if "|" in q.get("source", "")]
    assert len(table_questions) == 7
    for q in table_questions:
        got = [f"({p.heading}) {p.text}" for p, _ in index.search(q["question"], 3)]
        assert any(squash(q["source"]) in squash(g) for g in got), (q["id"], got)


def test_the_unanswerable_questions_have_no_row_to_find() -> None:
    # 'PC' and '婚假' are in no document: the set's decline questions are truly outside the material
    text = "".join(p.text for p in passages())
    assert "PC" not in text and "婚假" not in text
