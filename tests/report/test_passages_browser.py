"""The drill-down shows each answer's given passages, folded and escaped, in a real headless Chromium.

A small synthetic run (harness_bench/synthetic_run.py) is given retrieved passages by hand: both
models' answers to the first question got the same two passages, one of which holds markup that
would run script if the page wrote it as HTML; the scores say the question's source was among them
for one model and not for the other (as if its retrieval had differed in what it counted), and give
each answer a faithfulness score with its reason. The run has one sample per question, so the page
must not call any question stable (issue 32: what trial users met).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.report import browser
from harness.report.drilldown import page_drilldown
from harness.report.render import build_report
from harness_bench.synthetic_run import write_synthetic_run

pytestmark = pytest.mark.browser

HOSTILE = "<script>document.body.setAttribute('data-pwned','1')</script><img src=x onerror=\"document.title='PWNED'\">"
LONG_CELL = "every 3000 hours or 12 months, whichever comes first, logged in the maintenance book by the shift lead"
TABLE_PASSAGE = (
    "保养周期如下：\n| 设备 | 项目 | 周期 |\n| --- | :--- | ---: |\n| 注塑机 P-450 | 液压油更换 | " + LONG_CELL + " |\n"
    '| <b id="cell-markup">x</b> | a \\| b | 500 h |\n备注：以实际为准'
)
PASSAGES = [
    {"id": "注塑安全规程#2", "doc": "注塑安全规程.pdf", "heading": "3 工艺参数", "page": 2,
     "text": "| 材料 | 参数 | 设定值 |\n| ABS | 模具温度 | 60 ℃ ± 5 ℃ |"},
    {"id": "wiki#1", "doc": "wiki.md", "heading": None, "page": None, "text": "点检记录 " + HOSTILE},
    {"id": "handbook#6", "doc": "handbook.docx", "heading": "3 保养", "page": None, "text": TABLE_PASSAGE},
]  # fmt: skip
"""Three passages: a run of "|" lines without a "| --- |" rule (no table: stays text), markup, and a real
Markdown table between two lines of prose (the trial's handbook#6, whose rows wrapped mid-cell)."""


FAITHFUL = {
    True: {"type": "faithful", "weight": 1.0, "score": 1.0, "passed": True, "constraint": True,
           "explanation": "states no figure beyond the question's that the source passage could contradict"},
    False: {"type": "faithful", "weight": 1.0, "score": 0.0, "passed": False, "constraint": True,
            "explanation": "gives 230 ℃ ± 10 ℃ for what is asked, not 60 ℃ ± 5 ℃ <b id=\"faith-markup\">"},
}  # fmt: skip
"""The faithfulness each model's answer to the first question gets: its reason as the ``faithful`` check writes
it, the second one's with markup that must stay text."""


def _edit_jsonl(path: Path, edit: object) -> None:
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    path.write_text("".join(json.dumps(edit(r), ensure_ascii=False) + "\n" for r in lines), encoding="utf-8")  # type: ignore[operator]


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    if browser.find_chromium() is None:
        pytest.fail("headless Chromium not found: run `make setup` (or HARNESS_SKIP_BROWSER=1 to skip)")
    base = tmp_path_factory.mktemp("passages-report")
    run = write_synthetic_run(base / "run", 2, 4, 1, seed=3, sets=1, with_perf=False)
    first = json.loads((run / "generations.jsonl").read_text(encoding="utf-8").splitlines()[0])["question_id"]

    def give(r: dict) -> dict:  # type: ignore[type-arg]
        if r["question_id"] == first:
            r["context_ids"] = [p["id"] for p in PASSAGES]
            r["context"] = "参考资料：\n" + "\n".join(p["text"] for p in PASSAGES)
            r["passages"] = PASSAGES
        return r

    hits = {}

    def hit(r: dict) -> dict:  # type: ignore[type-arg]
        if r["question_id"] == first:
            r["context_hit"] = r["candidate"].startswith("m00")  # the first model's: among them; the other's: not
            r["context_rank"] = 3 if r["context_hit"] else None  # the table passage, third given, holds the source
            hits[r["candidate"]] = r["context_hit"]
            r["faithfulness"] = FAITHFUL[r["context_hit"]]
        return r

    _edit_jsonl(run / "generations.jsonl", give)
    _edit_jsonl(run / "scores.jsonl", hit)
    assert sorted(hits.values()) == [False, True]
    index = build_report(run, base / "out")
    return index, first


def test_each_answer_shows_its_passages_folded_with_file_heading_page_and_the_source(page: tuple[Path, str]) -> None:
    index, _ = page
    dom = browser.dump_dom(index)
    folds = re.findall(r"<details class=\"passages\"( open)?>(.*?)</details>", dom, flags=re.S)
    # two answers (one per model) were given passages: two folds, both closed
    assert len(folds) == 2 and all(opened == "" for opened, _ in folds)
    summaries = sorted(re.search(r"<summary>(.*?)</summary>", body).group(1) for _, body in folds)  # type: ignore[union-attr]
    assert summaries == ["passages given (3) · source among them", "passages given (3) · source not among them"]
    body = folds[0][1]
    # the PDF passage: id, file, heading path, page; the Markdown one: no heading, no page
    assert "[1] 注塑安全规程#2 · 注塑安全规程.pdf · 3 工艺参数 · page 2" in body
    assert "[2] wiki#1 · wiki.md<" in body
    assert "| ABS | 模具温度 | 60 ℃ ± 5 ℃ |" in body


def test_markup_in_a_passage_stays_text_and_runs_nothing(page: tuple[Path, str]) -> None:
    index, _ = page
    dom = browser.dump_dom(index)
    assert "data-pwned" not in dom.split("<body", 1)[1].split(">", 1)[0]  # the script never ran
    assert "<title>PWNED</title>" not in dom  # nor the onerror handler
    assert "&lt;script&gt;document.body.setAttribute" in dom and "&lt;img src=x onerror=" in dom


def test_a_passage_two_answers_got_is_packed_once(page: tuple[Path, str]) -> None:
    index, first = page
    doc = page_drilldown(index.read_text(encoding="utf-8"))
    q = next(x for x in doc["questions"] if x["id"] == first)
    # two passages, given to two answers: two entries in px, each answer points at both, best first
    assert [p[0] for p in q["px"]] == ["注塑安全规程#2", "wiki#1", "handbook#6"]
    assert [a["p"] for cell in q["answers"] for a in cell] == [[0, 1, 2], [0, 1, 2]]
    others = [x for x in doc["questions"] if x["id"] != first]
    assert others and all("px" not in x for x in others)  # a question given no passages carries none


def test_the_faithfulness_score_shows_its_reason_escaped(page: tuple[Path, str]) -> None:
    index, _ = page
    dom = browser.dump_dom(index)
    shown = sorted(re.findall(r'<div class="muted faithful">(.*?)</div>', dom))
    # one line per answer given passages: the score to 2 places, then the check's reason, markup as text
    assert shown == [
        'faithfulness 0.00: gives 230 ℃ ± 10 ℃ for what is asked, not 60 ℃ ± 5 ℃ &lt;b id="faith-markup"&gt;',
        "faithfulness 1.00: states no figure beyond the question's that the source passage could contradict",
    ]
    assert 'id="faith-markup"' not in dom.replace('&lt;b id="faith-markup"&gt;', "")


PROBE = """<script>setTimeout(function () {
  var p = document.querySelector("details.passages pre.passage-text"), s = p && getComputedStyle(p);
  document.body.setAttribute("data-probe", s ? s.fontFamily + " / " + s.whiteSpace : "none");
}, 2000);</script>"""
"""Added to a copy of the page: once the drill-down is drawn, writes the computed font and wrapping of the
first passage's text onto <body>, where the dumped DOM shows it."""


def test_a_passage_is_shown_in_a_monospace_pre_wrapped_block_so_table_rows_line_up(
    page: tuple[Path, str], tmp_path: Path
) -> None:
    index, _ = page
    dom = browser.dump_dom(index)
    # the whole passage, its two Markdown table rows on their own lines, in a <pre> block (still text)
    assert '<pre class="passage-text">| 材料 | 参数 | 设定值 |\n| ABS | 模具温度 | 60 ℃ ± 5 ℃ |</pre>' in dom
    probe = tmp_path / "probe.html"
    probe.write_text(index.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    found = re.search(r'<body[^>]*data-probe="([^"]*)"', browser.dump_dom(probe, virtual_time_budget_ms=6000))
    assert found, "the probe did not run"
    font, wrap = found.group(1).split(" / ")
    assert font.rstrip().endswith("monospace") and wrap == "pre-wrap"


def test_one_sample_per_question_is_never_called_stable(page: tuple[Path, str]) -> None:
    index, _ = page
    dom = browser.dump_dom(index)
    drill = dom.split('id="drill-body"', 1)[1]
    # 4 questions x 2 models, one sample each: said once above the table, not in each of the 8 cells, and no
    # cell carries a stability badge
    legend = re.findall(r'<p id="drill-legend" class="muted">(.*?)</p>', dom)
    assert legend == ["One sample per question: stability not measured; each answer says whether it is acceptable."]
    cells = drill.split("</tbody>", 1)[0]
    assert "stability not measured" not in cells and 'class="muted one-sample"' not in cells
    assert not re.search(r"stable (right|wrong) \d/1|flips \d/1", drill)
    # the stability table: flip rate, spread, stable right, stable wrong, same text: not measured, no chart
    table = dom.split('id="stability-table"', 1)[1].split("</table>", 1)[0]
    assert table.count('class="num muted not-measured"') == 2 * 5
    assert 'id="stability-chart"' not in dom and "One sample per question: stability not measured" in dom


def _cells(row_html: str) -> list[str]:
    return re.findall(r"<t[hd]>(.*?)</t[hd]>", row_html)


def test_a_markdown_table_in_a_passage_is_an_html_table_between_its_prose_lines(page: tuple[Path, str]) -> None:
    index, _ = page
    dom = browser.dump_dom(index)
    body = re.findall(r'<div class="passage-body">(.*?)</div></div>', dom, flags=re.S)
    # each of the two answers shows the table passage: prose line, table, prose line, in that order
    shown = [b for b in body if "保养周期如下" in b]
    assert len(shown) == 2
    parts = re.findall(
        r'<pre class="passage-text">(.*?)</pre>|<table class="passage-table">(.*?)</table>', shown[0], re.S
    )
    assert [bool(table) for _, table in parts] == [False, True, False]
    assert (parts[0][0], parts[2][0]) == ("保养周期如下：", "备注：以实际为准")
    rows = re.findall(r"<tr>(.*?)</tr>", parts[1][1])
    # header from the first line, the rule dropped, then the two rows; "\|" is a "|" inside a cell, and the
    # cell's markup stays text
    assert _cells(rows[0]) == ["设备", "项目", "周期"] and "<th>" in rows[0]
    assert [_cells(r) for r in rows[1:]] == [
        ["注塑机 P-450", "液压油更换", LONG_CELL],
        ['&lt;b id="cell-markup"&gt;x&lt;/b&gt;', "a | b", "500 h"],
    ]
    assert 'id="cell-markup"' not in dom.replace('&lt;b id="cell-markup"&gt;', "")
    # "|" lines without the rule are no table: the first passage stays one preformatted block
    assert '<pre class="passage-text">| 材料 | 参数 | 设定值 |\n| ABS | 模具温度 | 60 ℃ ± 5 ℃ |</pre>' in dom


TABLE_PROBE = """<script>setTimeout(function () {
  document.querySelectorAll("details.passages").forEach(function (d) { d.open = true; });
  var w = document.querySelector(".passage-table-wrap"), rows = w ? w.querySelectorAll("tr") : [];
  var heights = Array.prototype.map.call(rows, function (r) { return r.getBoundingClientRect().height; });
  document.body.setAttribute("data-probe", w ? [getComputedStyle(w).overflowX, w.scrollWidth > w.clientWidth,
    Math.max.apply(null, heights) < 1.5 * Math.min.apply(null, heights)].join(" / ") : "none");
}, 2000);</script>"""
"""Opens the passages once drawn, then writes onto <body>: the table's box scrolls sideways, its table is wider
than the box (the long cell did not wrap to fit), and no row is two lines high (no cell wrapped; a row of
Chinese text may be a little higher than a row of Latin text)."""


def test_a_passage_table_scrolls_sideways_rather_than_wrap_its_cells(page: tuple[Path, str], tmp_path: Path) -> None:
    index, _ = page
    probe = tmp_path / "probe.html"
    probe.write_text(index.read_text(encoding="utf-8").replace("</body>", TABLE_PROBE + "</body>"), encoding="utf-8")
    found = re.search(r'<body[^>]*data-probe="([^"]*)"', browser.dump_dom(probe, virtual_time_budget_ms=6000))
    assert found, "the probe did not run"
    assert found.group(1) == "auto / true / true"


def test_the_passage_holding_the_source_is_marked(page: tuple[Path, str]) -> None:
    index, _ = page
    dom = browser.dump_dom(index)
    folds = re.findall(r"<details class=\"passages\">(.*?)</details>", dom, flags=re.S)
    found = next(f for f in folds if "source among them" in f)
    missed = next(f for f in folds if "source not among them" in f)
    # the answer that found the source (rank 3): the third passage, handbook#6, and only it, is marked
    marked = re.findall(r'<div class="passage holds-source"><div class="muted">(.*?)<span', found)
    assert marked == ["[3] handbook#6 · handbook.docx · 3 保养"]
    assert found.count('<span class="source-mark">holds the source</span>') == 1
    # the answer whose passages missed it: no mark
    assert "holds-source" not in missed and "holds the source" not in missed
