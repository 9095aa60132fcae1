"""The report's Retrieval section: shown only for runs that retrieve, each figure with its counts, misses escaped."""

from __future__ import annotations

from dataclasses import replace

import pytest

from harness.report.load import ReportData, load_report_data
from harness.report.render import render_html, summary_json
from harness.rollup.retrieval import Missed, RetrievalFigures
from harness_bench.synthetic_run import write_synthetic_run


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> ReportData:
    return load_report_data(write_synthetic_run(tmp_path_factory.mktemp("plain") / "run", 2, 8, 1, seed=1))


def test_a_run_without_retrieval_has_no_section_and_no_key(plain: ReportData) -> None:
    assert plain.retrieval == []
    page = render_html(plain)
    assert 'id="retrieval"' not in page and 'href="#retrieval"' not in page
    assert "retrieval" not in summary_json(plain)


def test_the_section_shows_each_figure_with_its_counts_and_the_misses_escaped(plain: ReportData) -> None:
    figures = RetrievalFigures(
        variant="with_context", set_id="sop", top_k=2, questions=9, hits=7, recall_at_k=7 / 9,
        mrr=5.5 / 9, reciprocal_ranks=5.5, no_source=1,
        missed=(Missed("q<3>", "<b>注射压力</b>", ("sop#5<script>alert(1)</script>", "sop#1")),
                Missed("q4", "停机", ())),
    )  # fmt: skip
    page = render_html(replace(plain, retrieval=[figures]))
    assert 'href="#retrieval"' in page
    section = page[page.index('<section id="retrieval">') : page.index("</section>", page.index('id="retrieval"'))]
    assert '78% <span class="muted">(7/9 questions)</span>' in section  # 7/9 = 0.777… shown as 78%
    assert '0.78 <span class="muted">(7/9 sources)</span>' in section
    assert "0.61" in section and "Σ 1/rank 5.50 over 9" in section  # 5.5/9 = 0.611…
    assert "(1 name no source)" in section and "2 of 9 questions missed their source" in section
    assert "<script>" not in section and "&lt;script&gt;alert(1)&lt;/script&gt;" in section
    assert "&lt;b&gt;注射压力&lt;/b&gt;" in section and "q&lt;3&gt;" in section
    assert "no passage shares a term with the question" in section  # q4: nothing retrieved
    data = summary_json(replace(plain, retrieval=[figures]))
    assert data["retrieval"][0]["hits"] == 7 and data["retrieval"][0]["hit_rate"] == pytest.approx(7 / 9)


def test_an_mrr_the_scores_cannot_give_says_so(plain: ReportData) -> None:
    figures = RetrievalFigures(variant="ctx", set_id="sop", top_k=3, questions=2, hits=2, recall_at_k=1.0, mrr=None)
    page = render_html(replace(plain, retrieval=[figures]))
    assert "the scores predate ranks: harness score RUN_DIR" in page
