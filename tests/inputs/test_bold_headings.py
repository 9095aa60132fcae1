"""Headings written in bold type (issue 32): company Word files often mark a heading by a bold paragraph
with no Heading style. Such a short, wholly bold paragraph that does not end like a sentence is a heading,
one level below the last real heading; bold words in a sentence, bold table cells, a bold warning that ends
in "." or "。" and a bold line over 60 characters are not.
"""

from __future__ import annotations

from pathlib import Path

from harness.inputs.documents.convert import read_document
from harness.inputs.documents.office import html_to_markdown
from harness.inputs.retrieval import chunk_document
from tests.support import documents as d


def test_bold_paragraphs_of_a_word_file_without_heading_styles_become_the_passages_headings(tmp_path: Path) -> None:
    markdown = read_document(d.make_bold_docx(tmp_path / "hb.docx"), tmp_path / "cache").markdown
    passages = chunk_document(markdown, "hb.docx")
    # two bold headings, no real one before them: level 2, so two sections, each its own passage
    assert [p.heading for p in passages] == ["1 Annual leave", "2 Overtime"]
    first, second = passages[0].text, passages[1].text
    assert "**1 Annual leave**" not in markdown and "## 1 Annual leave" in markdown.splitlines()
    # none of the other bold text is a heading: it stays in the first section's body
    assert first.startswith("Leave depends on **years** of service.")
    assert "| **Years** | **Days** |\n| --- | --- |\n| 1 to 5 years | 10 |" in first
    assert f"**{d.BOLD_WARNING}**" in first and f"**{d.BOLD_LONG}**" in first
    assert second == "Overtime is paid at 1.5 times."


def test_a_bold_heading_sits_one_level_below_the_last_real_heading_in_html() -> None:
    html = ("<h1>Handbook</h1><h2>Leave</h2><p><strong>Annual leave</strong></p><p>10 days a year.</p>"
            "<h2>Overtime</h2><p> <b>Weekdays</b> </p><p>1.5 times the wage.</p>"
            "<p><strong>注意：未休年假不予折现。</strong></p><ul><li><strong>Holidays</strong></li></ul>")  # fmt: skip
    markdown = html_to_markdown(html)
    lines = markdown.splitlines()
    assert "### Annual leave" in lines and "### Weekdays" in lines
    # the single h1 is the document's title, left out of the paths; the bold ones sit under their h2
    assert [p.heading for p in chunk_document(markdown, "hb.html")] == ["Leave > Annual leave", "Overtime > Weekdays"]
    # a bold warning ending in "。" and a bold list item stay text
    assert "**注意：未休年假不予折现。**" in lines and not any(x.startswith("#") and "Holidays" in x for x in lines)
