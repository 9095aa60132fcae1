"""The decision report in a real headless Chromium: it renders, filters work, hostile answers stay text.

The run is synthetic (harness_bench/synthetic_run.py: no model server needed) with chosen answers
that try to run script, break out of the page's JSON block, or close the table. Expected
counts for the filters are computed here from the roll-up in Python, independently of the
page's JavaScript.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from harness.report import browser
from harness.report.drilldown import page_drilldown
from harness.report.load import ReportData, load_report_data
from harness.report.render import build_report
from harness.rollup.stability import FLIPS
from harness_bench.synthetic_run import write_synthetic_run

pytestmark = pytest.mark.browser

MODELS, QUESTIONS, SAMPLES = 3, 60, 2
PAYLOADS = [
    (0, "<script>document.body.setAttribute('data-pwned','1')</script>"),
    (1, "<img src=x onerror=\"document.title='PWNED'\">"),
    (2, '</table></td></tr><b id="broken">outside the table</b>'),
    (0, "</script><script>document.body.setAttribute('data-pwned','2')</script><!--"),
]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ReportData]:
    if browser.find_chromium() is None:
        pytest.fail("headless Chromium not found: run `make setup` (or HARNESS_SKIP_BROWSER=1 to skip)")
    base = tmp_path_factory.mktemp("browser-report")
    probe = write_synthetic_run(base / "probe", MODELS, QUESTIONS, SAMPLES, seed=11, with_perf=False)
    # Question ids in the order the drill-down shows them, so the payloads land on its first page.
    lines = (probe / "generations.jsonl").read_text(encoding="utf-8").splitlines()
    ids = list(dict.fromkeys(json.loads(line)["question_id"] for line in lines))
    overrides = {(model, ids[i // 2]): text for i, (model, text) in enumerate(PAYLOADS)}
    run = write_synthetic_run(base / "run", MODELS, QUESTIONS, SAMPLES, seed=11, answer_texts=overrides)
    index = build_report(run, base / "out")
    return index, load_report_data(run)


def _rows(dom: str) -> list[str]:
    return re.findall(r'<tr class="question" data-question="([^"]+)"', dom)


def _count(dom: str) -> tuple[int, int]:
    m = re.search(r'id="drill-count"[^>]*>(\d+) of (\d+) questions match<', dom)
    assert m, "the drill-down did not draw its count"
    return int(m.group(1)), int(m.group(2))


def test_page_renders_the_decision_and_every_section(report: tuple[Path, ReportData]) -> None:
    index, data = report
    dom = browser.dump_dom(index)
    rec = data.recommendation.recommended
    assert rec and f'<span id="recommended">{rec}</span>' in dom
    assert 'id="reason"' in dom and "is recommended" in dom
    for section in ("models-table", "pareto-chart", "stability-table", "stability-chart", "heatmap", "cost-table",
                    "drill-table", "manifest"):  # fmt: skip
        assert f'id="{section}"' in dom, section
    assert re.search(r'id="pareto-chart"[^>]*src="data:image/png;base64,', dom)
    assert len(re.findall(r'<tr data-candidate="[^"]+" class="[^"]*">', dom.split('id="models-table"')[1])) >= MODELS
    assert _count(dom) == (QUESTIONS, QUESTIONS)
    assert len(_rows(dom)) == 25  # the first page only
    assert 'id="p-label"> page 1 of 3 <' in dom


def test_hostile_answers_show_as_text_and_execute_nothing(report: tuple[Path, ReportData]) -> None:
    index, _ = report
    dom = browser.dump_dom(index)
    # The page's own script ran (it drew the table), so "nothing else ran" means something.
    assert len(_rows(dom)) > 0
    assert 'data-pwned="' not in dom
    assert "<title>PWNED</title>" not in dom
    assert '<b id="broken">' not in dom  # the escaped text reads &lt;b id="broken"&gt;
    assert "&lt;script&gt;document.body.setAttribute('data-pwned','1')&lt;/script&gt;" in dom
    assert "&lt;img src=x onerror=\"document.title='PWNED'\"&gt;" in dom
    assert '&lt;/table&gt;&lt;/td&gt;&lt;/tr&gt;&lt;b id="broken"&gt;outside the table&lt;/b&gt;' in dom
    assert "&lt;/script&gt;&lt;script&gt;document.body.setAttribute('data-pwned','2')" in dom
    # Each hostile answer sits inside its own answer cell, in a row of the drill-down table.
    table = dom.split('id="drill-table"')[1].split("</table>")[0]
    assert table.count("outside the table") == SAMPLES


def test_filters_in_the_fragment_match_the_rollup(report: tuple[Path, ReportData]) -> None:
    index, data = report
    threshold = data.plan.rubric_pass_threshold
    names = data.names

    only = names[1]
    dom = browser.dump_dom(index, fragment=f"model={only}")
    head = dom.split('id="drill-head"')[1].split("</thead>")[0]
    assert re.findall(r"<th>([^<]+)</th>", head) == ["question", only]

    a = data.answers
    # an answer is not acceptable when an essential check failed (the rubric's verdict), or, without a
    # verdict, when it scores under the threshold
    verdict = [v if v is not None else s >= threshold for v, s in zip(a.essentials, a.score, strict=True)]
    failed = a[(~a.ok) | ~pd.Series(verdict, index=a.index, dtype=bool)]
    assert (~pd.Series(verdict, dtype=bool)).sum() > (a.score < threshold).sum(), "some half-answers score >= 0.5"
    expected_failed = failed[["set_id", "question_id"]].drop_duplicates().shape[0]
    assert _count(browser.dump_dom(index, fragment="failed=1")) == (expected_failed, QUESTIONS)

    flips = data.stability[data.stability.status == FLIPS][["set_id", "question_id"]].drop_duplicates()
    assert _count(browser.dump_dom(index, fragment="unstable=1"))[0] == len(flips)

    category = sorted(data.questions.category.unique())[0]
    in_category = data.questions[data.questions.category == category][["set_id", "question_id"]].drop_duplicates()
    dom = browser.dump_dom(index, fragment=f"category={category}&page=2")
    assert _count(dom)[0] == len(in_category)
    assert set(re.findall(r'data-category="([^"]+)"', dom.split('id="drill-body"')[1])) <= {category}


def test_last_page_and_screenshot(report: tuple[Path, ReportData], tmp_path: Path) -> None:
    index, _ = report
    dom = browser.dump_dom(index, fragment="page=3")
    assert len(_rows(dom)) == QUESTIONS - 50
    assert 'id="p-label"> page 3 of 3 <' in dom
    png = browser.screenshot(index, tmp_path / "report.png", width_px=1400, height_px=3000)
    assert browser.png_size(png) == (1400, 3000)
    assert png.stat().st_size > 50_000  # a drawn page, not a blank one


def test_the_packed_drilldown_unpacks_and_shows_answers_escaped(report: tuple[Path, ReportData]) -> None:
    index, data = report
    page = index.read_text(encoding="utf-8")
    # The answers travel gzip-compressed in base64, not in the clear: the browser unpacks them itself.
    a = data.answers
    chinese = a[(a.candidate == data.names[1]) & a.ok & a.text.str.contains(r"[\u4e00-\u9fff]")]
    assert not chinese.empty, "the synthetic run's zh set should give Chinese answers"
    plain = chinese.iloc[0]
    hostile = PAYLOADS[0][1]
    assert plain.text not in page and hostile not in page
    assert plain.text in {x["t"] for q in page_drilldown(page)["questions"] for cell in q["answers"] for x in cell}

    dom = browser.dump_dom(index, fragment=f"set={plain.set_id}&search={plain.question_id}")
    assert _count(dom)[0] >= 1 and plain.question_id in _rows(dom)
    body = dom.split('id="drill-body"')[1].split("</tbody>")[0]
    assert html.escape(plain.text, quote=False) in body  # the Chinese answer, drawn as text
    dom = browser.dump_dom(index)
    body = dom.split('id="drill-body"')[1].split("</tbody>")[0]
    assert html.escape(hostile, quote=False) in body and "data-pwned" not in dom.split("<body")[1].split(">")[0]


def test_an_answer_with_partial_credit_shows_as_not_acceptable(report: tuple[Path, ReportData]) -> None:
    """A half-answer (score >= the threshold, an essential check failed) is drawn as not acceptable."""
    index, data = report
    a = data.answers
    half = a[a.ok & (a.score >= data.plan.rubric_pass_threshold) & (a.essentials == False)]  # noqa: E712
    assert not half.empty, "the synthetic run should hold half-answers"
    row = half.iloc[0]
    dom = browser.dump_dom(index, fragment=f"set={row.set_id}&search={row.question_id}&model={row.candidate}")
    body = dom.split('id="drill-body"')[1].split("</tbody>")[0]
    assert f"score {row.score:.2f} · not acceptable" in body
