"""Word, HTML and Excel files to Markdown: headings as ``#`` lines, tables as pipe tables.

- .docx: mammoth (BSD-2-Clause) turns the Word styles into HTML (Heading 1 -> ``<h1>``, tables ->
  ``<table>``), then the HTML path below. mammoth reads the body in order, so a table stays where
  the text puts it.
- .html: BeautifulSoup drops what is not text (``<script>``, ``<style>``, ``<head>``), then markdownify
  (MIT) writes ATX headings and pipe tables; a table without ``<th>`` takes its first row as header.
- Bold headings (both paths): company files often mark a heading by bold type alone, with no Heading
  style (``<p><strong>1 Annual leave</strong></p>`` from mammoth). A short paragraph that is wholly bold
  and does not end like a sentence becomes a heading one level below the last real one (``##`` when
  there is none), so it starts a passage and names it (:func:`_bold_headings`).
- .xlsx: openpyxl (MIT), with the values Excel last computed: one ``##`` section per sheet, its used rows
  as one pipe table, the first non-empty row as header.
- Merged cells (a Word or HTML ``colspan``/``rowspan``, an Excel merged range): the value is repeated into
  every cell the merge covers, so each row keeps its label and each column its header.

Pure functions of the file's bytes; :class:`DocumentError` says in one sentence what is wrong.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from typing import Any


class DocumentError(ValueError):
    """A document that cannot be converted: the message is one sentence with the fix, without the path
    (the caller names the file).

    ``in_folder``: the sentence for a file of a plan's knowledge-base folder, where the fix differs (a folder
    has no ``documents`` list to name a converted file in); the message itself when not given.
    """

    def __init__(self, message: str, in_folder: str | None = None) -> None:
        super().__init__(message)
        self.in_folder = message if in_folder is None else in_folder


_DROP_TAGS = ("script", "style", "head", "noscript", "template", "svg")
_MAX_SPAN = 1000
"""The widest or tallest merge spread: HTML caps ``colspan`` at 1000 and ``rowspan`` at 65534; a bigger
value in a hand-written page would only pad the table with copies."""


def cell_text(value: object) -> str:
    """A table cell as one line of Markdown: whitespace runs (newlines too) become one space, ``|`` is escaped."""
    return re.sub(r"\s+", " ", str(value)).strip().replace("|", "\\|")


def pipe_table(rows: Sequence[Sequence[str]]) -> str:
    """A Markdown pipe table, the first row as header; short rows are padded with empty cells.

    ``[["材料", "参数"], ["ABS", "模具温度"]]`` -> ``| 材料 | 参数 |\\n| --- | --- |\\n| ABS | 模具温度 |``.
    """
    width = max(len(r) for r in rows)
    lines = [[cell_text(c) for c in r] + [""] * (width - len(r)) for r in rows]
    out = ["| " + " | ".join(lines[0]) + " |", "|" + " --- |" * width]
    out += ["| " + " | ".join(r) + " |" for r in lines[1:]]
    return "\n".join(out)


def html_to_markdown(html: str) -> str:
    """An HTML page's text as Markdown (see the module docstring); blank-line runs squeezed to one."""
    from bs4 import BeautifulSoup
    from markdownify import MarkdownConverter

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for cell in soup.find_all(("td", "th")):  # a "|" in a cell would split it: escape it
        for text in cell.find_all(string=lambda t: "|" in t):
            text.replace_with(text.replace("|", "\\|"))
    for table in soup.find_all("table"):
        _spread_merged(table)
    _bold_headings(soup)
    body = soup.body or soup
    converter = MarkdownConverter(heading_style="ATX", table_infer_header=True, escape_asterisks=False,
                                  escape_underscores=False, bullets="-")  # fmt: skip
    markdown = str(converter.convert_soup(body))
    return re.sub(r"\n{3,}", "\n\n", markdown).strip() + "\n"


_HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_BOLD_HEADING_MAX_CHARS = 60
"""The longest wholly bold paragraph read as a heading: a heading is a title, a longer bold line is a rule."""
_SENTENCE_END = tuple("。．.：:！!？?；;，,、")
"""How a bold line that is a sentence (a warning, a rule) ends; a heading ends without punctuation."""
_NOT_HEADING_INSIDE = ("td", "th", "li", "table", "blockquote")


def _bold_heading_text(p: Any) -> str | None:
    """The text of paragraph ``p`` when it reads as a bold heading, else None: every piece of it bold
    (``<strong>``/``<b>``, whitespace aside), at most 60 characters with a letter in it, not ending in
    sentence punctuation (``。.：:`` ...), and not in a table cell, a list item or a quote."""
    from bs4 import NavigableString, Tag

    if p.find_parent(_NOT_HEADING_INSIDE) is not None:
        return None
    pieces = [c for c in p.children if not (isinstance(c, NavigableString) and not c.strip())]
    if not pieces or not all(isinstance(c, Tag) and c.name in ("strong", "b") for c in pieces):
        return None
    text = re.sub(r"\s+", " ", p.get_text(" ")).strip()
    if len(text) > _BOLD_HEADING_MAX_CHARS or text.endswith(_SENTENCE_END) or not any(c.isalpha() for c in text):
        return None
    return text


def _bold_headings(soup: Any) -> None:
    """Turn each bold-heading paragraph (:func:`_bold_heading_text`) into a heading, in place: one level
    below the last real heading before it (``<h2>`` after an ``<h1>`` title), ``<h2>`` when none is."""
    last_level: int | None = None
    for tag in soup.find_all(("p", *_HEADING_TAGS)):
        if tag.name != "p":
            last_level = int(tag.name[1])
        elif (text := _bold_heading_text(tag)) is not None:
            tag.name = f"h{min(last_level + 1, 6) if last_level else 2}"
            tag.string = text


def _span(cell: Any, attr: str) -> int:
    """A cell's ``colspan`` / ``rowspan`` as a count of at least 1 (a missing or bad value: 1)."""
    try:
        return max(1, min(int(str(cell.get(attr, 1))), _MAX_SPAN))
    except ValueError:
        return 1


def _spread_merged(table: Any) -> None:
    """Repeat each merged cell's text into every cell it covers, in place: a header over two columns
    heads both, a row label over three rows labels each; ``colspan``/``rowspan`` are then removed.

    A pipe table has no merged cells: kept merged, the covered cells would come out empty and a row
    would lose its label or its column its header (mammoth writes Word's merges as these attributes).
    """
    pending: dict[int, tuple[int, str, str]] = {}  # column -> (rows still covered, tag name, text)
    for tr in [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]:
        _place(tr, _row_cells(tr.find_all(("td", "th"), recursive=False), pending))


def _row_cells(cells: list[Any], pending: dict[int, tuple[int, str, str]]) -> list[tuple[str, Any, str]]:
    """One row's cells in column order: ``("old", cell, text)`` for its own, ``("new", tag name, text)`` for a
    copy of a merged cell's text (from a ``colspan`` of its own, or a ``rowspan`` above: ``pending``, which
    this row's ``rowspan`` cells extend)."""
    out: list[tuple[str, Any, str]] = []
    col = 0

    def covered(upto: int) -> int:
        """Fill columns ``col``..``upto``-1 from the rows above (a gap a short row leaves: an empty cell)."""
        at = col
        while at < upto:
            left, name, text = pending.pop(at, (1, "td", ""))
            out.append(("new", name, text))
            if left > 1:
                pending[at] = (left - 1, name, text)
            at += 1
        return at

    for cell in cells:
        while col in pending:
            col = covered(col + 1)
        wide, tall = _span(cell, "colspan"), _span(cell, "rowspan")
        text = cell.get_text(" ", strip=True)
        out.append(("old", cell, text))
        out += [("new", cell.name, text)] * (wide - 1)
        if tall > 1:
            pending.update({at: (tall - 1, cell.name, text) for at in range(col, col + wide)})
        cell.attrs.pop("colspan", None)
        cell.attrs.pop("rowspan", None)
        col += wide
    covered(max(pending, default=-1) + 1)
    return out


def _place(tr: Any, out: list[tuple[str, Any, str]]) -> None:
    """Rebuild row ``tr`` from ``out``: its own cells (``"old"``) in order, and new cells of a merged text."""
    from bs4 import BeautifulSoup

    maker = BeautifulSoup("", "html.parser")
    for kind, cell, _ in out:
        if kind == "old":
            cell.extract()
    for kind, cell, text in out:
        if kind == "old":
            tr.append(cell)
        else:
            new = maker.new_tag(cell)
            new.string = text
            tr.append(new)


def html_bytes_to_markdown(raw: bytes) -> str:
    """An .html file: UTF-8 (with or without BOM) or the charset the page declares, else DocumentError."""
    from bs4 import UnicodeDammit

    text = UnicodeDammit(raw, ["utf-8"], is_html=True).unicode_markup
    if text is None:
        raise DocumentError("cannot tell this HTML file's text encoding; re-save it as UTF-8")
    return html_to_markdown(text)


def docx_to_markdown(raw: bytes) -> str:
    """A .docx file's text as Markdown (through mammoth's HTML); DocumentError for a file that is no .docx."""
    import zipfile

    import mammoth

    if raw[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise DocumentError("an encrypted or old-format (.doc) Word file; remove the password or save it as .docx")
    try:
        result = mammoth.convert_to_html(io.BytesIO(raw))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentError(f"damaged .docx file ({_why(exc)}); open it in Word and save it again") from None
    return html_to_markdown(result.value)


def _why(exc: Exception) -> str:
    import zipfile

    return "its zip container is cut off or broken" if isinstance(exc, zipfile.BadZipFile) else "a part is missing"


def _value(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime) and v.time() == time(0):
        return v.date().isoformat()
    if isinstance(v, date | time):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _used_rows(rows: Iterable[Sequence[object]]) -> list[list[str]]:
    """The sheet's rows as text, empty rows dropped, trailing empty columns cut."""
    table = [[_value(v) for v in r] for r in rows]
    table = [r for r in table if any(c.strip() for c in r)]
    width = max((max(i + 1 for i, c in enumerate(r) if c.strip()) for r in table), default=0)
    return [r[:width] for r in table]


def _unmerged(ws: Any) -> list[list[object]]:
    """A sheet's values from A1, each merged range's value (Excel keeps it in the range's top-left cell)
    repeated into every cell the range covers: a header over two columns heads both, a row label over
    three rows labels each."""
    rows = [list(r) for r in ws.iter_rows(min_row=1, min_col=1, values_only=True)]
    for merged in ws.merged_cells.ranges:
        value = ws.cell(merged.min_row, merged.min_col).value
        for r in range(merged.min_row - 1, min(merged.max_row, len(rows))):
            for c in range(merged.min_col - 1, min(merged.max_col, len(rows[r]))):
                rows[r][c] = value
    return rows


def xlsx_to_markdown(raw: bytes) -> str:
    """An .xlsx workbook as Markdown: ``## <sheet>`` and its pipe table per sheet with content."""
    import zipfile

    import openpyxl

    if raw[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise DocumentError("an encrypted or old-format (.xls) Excel file; remove the password or save it as .xlsx")
    try:  # not read-only: a read-only sheet does not say which cells are merged
        wb = openpyxl.load_workbook(io.BytesIO(raw), data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise DocumentError(f"damaged .xlsx file ({_why(exc)}); open it in Excel and save it again") from None
    parts = []
    try:
        for ws in wb.worksheets:
            rows = _used_rows(_unmerged(ws))
            if rows:
                parts.append(f"## {ws.title}\n\n{pipe_table(rows)}\n")
    finally:
        wb.close()
    return "\n".join(parts)
