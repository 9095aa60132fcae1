"""Documents as companies keep them (issue 32): Word, PDF, Excel and HTML files converted to Markdown,
tables kept as tables, chunked by structure, cached by content hash, and bad files refused in one line.

The files are generated here (tests/support/documents.py) from the text that module holds, so every
expected row below is read off that text: the procedure's parameter table has the header
材料 | 参数 | 设定值 and the rows ABS 料筒温度 230 ℃ ± 10 ℃, ABS 模具温度 60 ℃ ± 5 ℃, ... The failure this
guards against is the one a user met: a PDF whose table came out one cell per line, so the mould
temperature was read from the barrel row.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.cli import main
from harness.inputs.documents.cache import default_cache_dir
from harness.inputs.documents.convert import convert_bytes, read_document
from harness.inputs.documents.office import DocumentError, pipe_table
from harness.inputs.retrieval import Bm25Index, chunk_document, load_documents
from tests.support import documents as d
from tests.support.documents import table_at
from tests.support.fake_server import ANSWER, Reply, fake_server, run_plan
from tests.support.files import DATA

HEADER = "| 材料 | 参数 | 设定值 |"
RULE = "| --- | --- | --- |"
BARREL = "| ABS | 料筒温度 | 230 ℃ ± 10 ℃ |"
MOULD = "| ABS | 模具温度 | 60 ℃ ± 5 ℃ |"
TABLE = [HEADER, RULE, BARREL, MOULD, "| ABS | 注射压力 | 80 MPa ± 10 MPa |", "| PP | 料筒温度 | 210 ℃ ± 10 ℃ |",
         "| PP | 模具温度 | 40 ℃ ± 5 ℃ |"]  # fmt: skip


def lines_of(markdown: str) -> list[str]:
    return markdown.splitlines()


# ---------------------------------------------------------------- conversion: rows under their header


def test_a_pdf_parameter_table_keeps_each_row_whole_under_its_header(tmp_path: Path) -> None:
    md = read_document(d.make_pdf(tmp_path / "注塑安全规程.pdf"), tmp_path / "cache").markdown
    lines = lines_of(md)
    # the mould row is one line, right after the barrel row, and no line holds 模具温度 with 230
    assert table_at(lines, HEADER) == TABLE
    assert not [x for x in lines if "模具温度" in x and "230" in x]
    # headings by size: the 20 pt title is #, the 15 pt sections ##; the table sits in section 3
    assert lines[lines.index("# 注塑安全规程") :].index("## 3 工艺参数") < lines.index(HEADER) - lines.index(
        "# 注塑安全规程"
    )
    assert "## 4 停机" in lines and lines[0] == "<!-- page 1 -->"


def test_a_word_table_keeps_its_header_and_its_headings(tmp_path: Path) -> None:
    md = read_document(d.make_docx(tmp_path / "员工手册.docx"), tmp_path / "cache").markdown
    lines = lines_of(md)
    assert lines[0] == "# 员工手册" and "## 2 年假" in lines and "## 3 加班" in lines
    # the first Word row (工龄 | 年假天数) is the header, not an empty header over it
    assert table_at(lines, "| 工龄 | 年假天数 |") == ["| 工龄 | 年假天数 |", "| --- | --- |", "| 满1年不满10年 | 5天 |",
                                                   "| 满10年不满20年 | 10天 |", "| 满20年 | 15天 |"]  # fmt: skip
    assert lines.index("## 2 年假") < lines.index("| 工龄 | 年假天数 |") < lines.index("## 3 加班")


def test_a_workbook_sheet_is_a_section_with_its_table(tmp_path: Path) -> None:
    md = read_document(d.make_xlsx(tmp_path / "参数.xlsx"), tmp_path / "cache").markdown
    lines = lines_of(md)
    assert lines[0] == "## 参数表" and table_at(lines, HEADER) == TABLE


MERGED_TABLE = [
    # 设定值 spans the value and tolerance columns: it heads both; ABS spans two rows: it labels both
    "| 材料 | 参数 | 设定值 | 设定值 |", "| --- | --- | --- | --- |", "| ABS | 料筒温度 | 230 ℃ | ± 10 ℃ |",
    "| ABS | 模具温度 | 60 ℃ | ± 5 ℃ |", "| PP | 模具温度 | 40 ℃ | ± 5 ℃ |",
]  # fmt: skip


MAKE_MERGED = [(d.make_merged_docx, ".docx"), (d.make_merged_xlsx, ".xlsx"), (d.make_merged_html, ".html")]


@pytest.mark.parametrize(("make", "suffix"), MAKE_MERGED, ids=["docx", "xlsx", "html"])
def test_a_merged_cell_is_repeated_into_every_cell_it_covers(
    make: Callable[[Path], Path], suffix: str, tmp_path: Path
) -> None:
    md = read_document(make(tmp_path / f"merged{suffix}"), tmp_path / "cache").markdown
    assert table_at(lines_of(md), MERGED_TABLE[0]) == MERGED_TABLE


def test_an_html_page_keeps_headings_and_table_and_drops_script_and_style(tmp_path: Path) -> None:
    md = read_document(d.make_html(tmp_path / "wiki.html"), tmp_path / "cache").markdown
    lines = lines_of(md)
    assert lines[0] == "# 注塑安全规程" and "## 3 工艺参数" in lines and table_at(lines, HEADER) == TABLE
    assert "alert" not in md and "color" not in md and "wiki" not in md  # <script>, <style>, <title>


def test_a_pipe_inside_a_cell_is_escaped_so_the_row_keeps_its_cells() -> None:
    html = b"<table><tr><th>a</th><th>b</th></tr><tr><td>x|y</td><td>z</td></tr></table>"
    assert convert_bytes(html, ".html").markdown.splitlines() == ["| a | b |", "| --- | --- |", "| x\\|y | z |"]
    assert pipe_table([["a"], ["p\nq", "r"]]) == "| a |  |\n| --- | --- |\n| p q | r |"  # padded, one line per row


# ---------------------------------------------------------------- chunks follow the structure


def test_a_pdf_passage_carries_its_file_heading_path_and_page_and_answers_the_table_question(tmp_path: Path) -> None:
    docs = load_documents([d.make_pdf(tmp_path / "注塑安全规程.pdf")], tmp_path / "cache")
    passages = chunk_document(docs["注塑安全规程.pdf"], "注塑安全规程.pdf", max_chars=300)
    (best, _), *_ = Bm25Index(passages).search("ABS 的模具温度是多少？", 3)
    # the single title is the document's name, left out of the path (as for Markdown documents)
    assert (best.doc, best.heading, best.page) == ("注塑安全规程.pdf", "3 工艺参数", 1)
    body = best.text.splitlines()
    assert MOULD in body and body.index(HEADER) < body.index(MOULD)


def test_a_long_table_is_cut_between_rows_with_its_header_atop_every_part() -> None:
    md = "## 3 工艺参数\n\n" + "\n".join(TABLE) + "\n"
    # the table is 7 lines of about 19-33 characters, ~180 in all: it cannot fit in 100
    passages = chunk_document(md, "p.md", max_chars=100)
    assert len(passages) > 1
    rows = []
    for p in passages:
        body = p.text.splitlines()
        assert body[:2] == [HEADER, RULE] and p.heading == "3 工艺参数"
        rows += body[2:]
    assert rows == TABLE[2:]  # every row once, whole, in order


def test_a_table_that_runs_on_to_the_next_page_gets_its_header_there(tmp_path: Path) -> None:
    # 60 rows of ~18 pt do not fit on one A4 page after the title and two sections
    docs = load_documents([d.make_pdf(tmp_path / "long.pdf", rows=d.ROWS * 12)], tmp_path / "cache")
    passages = chunk_document(docs["long.pdf"], "long.pdf", max_chars=300)
    tables = [p for p in passages if "| ABS |" in p.text or "| PP |" in p.text]
    assert {p.page for p in tables} == {1, 2}
    for p in tables:  # the header and its rule, then rows only (a passage may open with the sentence before)
        body = p.text.splitlines()
        start = body.index(HEADER)
        assert body[start + 1] == RULE and all(x.startswith(("| ABS |", "| PP |")) for x in body[start + 2 :])
    assert sum(p.text.count(MOULD) for p in tables) == 12  # each of the 12 mould rows once
    assert [p.page for p in passages if p.heading == "4 停机"] == [2]


def test_markdown_without_tables_or_page_marks_chunks_as_before() -> None:
    md = "# 制度\n\n## 年假\n\n<!-- page 3 -->\n\n员工年假5天。\n"
    (p,) = chunk_document(md, "policy.md")
    # a page mark means nothing in a Markdown file: it stays text, and the passage has no page
    assert (p.heading, p.page, p.text) == ("年假", None, "<!-- page 3 -->\n\n员工年假5天。")


# ---------------------------------------------------------------- the cache


def test_the_conversion_is_cached_by_content_and_redone_when_a_byte_changes(tmp_path: Path) -> None:
    page, cache = d.make_html(tmp_path / "wiki.html"), tmp_path / "cache"
    first, second = read_document(page, cache), read_document(page, cache)
    assert (first.from_cache, second.from_cache) == (False, True)
    assert second.markdown == first.markdown and len(list(cache.glob("*.md"))) == 1
    page.write_bytes(page.read_bytes().replace("60 ℃".encode(), "65 ℃".encode()))
    third = read_document(page, cache)
    assert not third.from_cache and "| ABS | 模具温度 | 65 ℃ ± 5 ℃ |" in third.markdown
    assert len(list(cache.glob("*.md"))) == 2 and third.sha256 != first.sha256


def test_the_cache_folder_follows_harness_cache_dir_then_xdg_cache_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HARNESS_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "harness" / "documents"
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine" / "documents"


def test_text_documents_are_read_as_written_and_never_cached(tmp_path: Path) -> None:
    f = tmp_path / "p.md"
    f.write_bytes("\ufeff# 年假\n\n5天\n".encode())
    got = read_document(f, tmp_path / "cache")
    assert got.markdown == "# 年假\n\n5天\n" and not got.from_cache and not (tmp_path / "cache").exists()


# ---------------------------------------------------------------- refusals: one line naming the file

MALFORMED = DATA / "malformed" / "documents"
REFUSALS = {
    "blank.pdf": "the PDF has no text: its pages hold neither text nor images; check that it is the right file",
    "encrypted.docx": "an encrypted or old-format (.doc) Word file; remove the password or save it as .docx",
    "encrypted.pdf": "encrypted PDF: it needs a password to open; save a copy without one",
    "gbk.txt": "not UTF-8 text (bad byte at offset 0); re-save it as UTF-8, or give the original file if it is a "
    "Word, PDF, Excel or HTML document: documents may be .docx, .pdf, .html, .xlsx, .md or .txt",
    "scanned.pdf": "scanned PDF: no text layer; OCR it first (e.g. `ocrmypdf in.pdf out.pdf`) and list the result "
    "in `documents`",
    "slides.pptx": ".pptx files cannot be read; documents may be .docx, .pdf, .html, .xlsx, .md or .txt: save it as "
    "one of them",
    "truncated.docx": "damaged .docx file (its zip container is cut off or broken); open it in Word and save it again",
    "truncated.pdf": "damaged PDF: it cannot be parsed; open it and save or print it to PDF again",
    "truncated.xlsx": "damaged .xlsx file (its zip container is cut off or broken); open it in Excel and save it again",
    # the suffix names another format than the content holds: what it holds and the suffix to give it (issue 32)
    "notes.docx": "not a Word file: it holds plain text; rename it to .txt",
    "workbook.docx": "not a Word file: it holds an Excel workbook; rename it to .xlsx",
    "procedure.txt": "not a text file: it holds a PDF; rename it to .pdf",
}


def test_every_malformed_document_is_listed() -> None:
    assert sorted(p.name for p in MALFORMED.iterdir()) == sorted(REFUSALS)


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_a_bad_document_is_refused_in_one_line_naming_it(name: str, tmp_path: Path) -> None:
    with pytest.raises(DocumentError) as caught:
        read_document(MALFORMED / name, tmp_path / "cache")
    assert str(caught.value) == REFUSALS[name]
    with pytest.raises(ValueError) as loaded:  # how the run's loader says it
        load_documents([MALFORMED / name], tmp_path / "cache")
    assert str(loaded.value) == f"{MALFORMED / name}: {REFUSALS[name]}" and "\n" not in str(loaded.value)
    assert not list((tmp_path / "cache").glob("*.md"))  # a refusal is not cached


def test_a_set_of_word_and_pdf_documents_validates_and_its_sources_are_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "docs").mkdir()
    d.make_pdf(tmp_path / "docs" / "注塑安全规程.pdf")
    d.make_docx(tmp_path / "docs" / "员工手册.docx")
    body = ("id: s\ntitle: T\nlanguage: zh\ndocuments: [docs/注塑安全规程.pdf, docs/员工手册.docx]\nquestions:\n"
            "  - {id: q1, category: c, question: ABS 模具温度？, source: 模具温度}\n"
            "  - {id: q2, category: c, question: 工龄10年年假几天？, source: 满10年不满20年}\n")  # fmt: skip
    (tmp_path / "set.yaml").write_text(body, encoding="utf-8")
    assert main(["validate", str(tmp_path / "set.yaml")]) == 0, capsys.readouterr().out
    # validate converted both once; the run's loader then reads them from the cache
    assert len(list((tmp_path / "cache" / "documents").glob("*.md"))) == 2


def test_a_run_refuses_a_scanned_pdf_before_anything_is_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "scan.pdf").write_bytes((MALFORMED / "scanned.pdf").read_bytes())
    with fake_server(lambda n: Reply([(0.0, ANSWER)])) as srv:
        plan = run_plan(tmp_path, srv.base_url)
        body = (tmp_path / "set.yaml").read_text(encoding="utf-8")
        (tmp_path / "set.yaml").write_text(body.replace("questions:", "documents: [docs/scan.pdf]\nquestions:", 1),
                                           encoding="utf-8")  # fmt: skip
        assert main(["run", str(plan), "--run-dir", str(tmp_path / "run"), "--no-report", "--quiet"]) == 2
    out = capsys.readouterr()
    (line,) = [x for x in (out.out + out.err).splitlines() if "scan.pdf" in x]
    assert line.endswith("document docs/scan.pdf: " + REFUSALS["scanned.pdf"]) and "Traceback" not in out.out + out.err
    assert srv.requests == [] and not (tmp_path / "run").exists()
