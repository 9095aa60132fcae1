"""PDF files to Markdown with pdfplumber (MIT, on pdfminer.six): text lines, ruled tables, headings, pages.

- Tables: ``page.find_tables()`` with its default strategy, the ruling lines drawn on the page, so a
  ruled table comes out cell by cell and each row stays one row (pdfminer's plain text interleaves
  the cells of a row; see docs/knowledge-base.md). A table becomes a pipe table, its first row the header.
- Text: the lines outside the tables, in reading order from the top of the page.
- Headings: a line set larger than the body text (the size most characters have, over the whole
  file) is a heading; the largest size is ``#``, the next ``##``, and so on. A PDF has no styles,
  so size is the one sign of a heading it always keeps.
- Pages: ``<!-- page N -->`` opens each page, so a passage can say where it came from. A table that
  runs on to the next page without its header row gets the header back there.

A PDF without a single character (a scan: page images; or blank pages) or with a password is a
:class:`DocumentError`.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass
from typing import Any

from harness.inputs.documents.office import DocumentError, pipe_table

_OCR = "scanned PDF: no text layer; OCR it first (e.g. `ocrmypdf in.pdf out.pdf`) and "
SCANNED = _OCR + "list the result in `documents`"
"""A PDF of page images without a character: a set's ``documents`` entry names the OCR'd file."""
SCANNED_IN_FOLDER = _OCR + "put the converted file in the folder in its place"
"""The same, for a file of a plan's knowledge-base folder: no list names it, the folder does."""
BLANK = "the PDF has no text: its pages hold neither text nor images; check that it is the right file"
"""A PDF with neither characters nor images: nothing to OCR, most likely the wrong or a broken export."""
PAGE_MARK = "<!-- page {n} -->"
_HEADING_RATIO = 1.15
"""A line at least this many times the body size is a heading (10.5 pt body: 12 pt and up)."""
_PARAGRAPH_GAP = 0.8
"""A gap above a line of more than this many times its size starts a new paragraph."""


@dataclass(frozen=True)
class _Block:
    top: float
    bottom: float
    size: float
    text: str
    rows: tuple[tuple[str, ...], ...] | None = None
    """A table's cells, header row first; None for a line of text."""

    @property
    def table(self) -> bool:
        return self.rows is not None


def _open(raw: bytes) -> Any:
    import pdfplumber

    if not raw.lstrip()[:5] == b"%PDF-":
        raise DocumentError("not a PDF file (it does not start with %PDF-); export it from its program as PDF again")
    try:
        pdf = pdfplumber.open(io.BytesIO(raw))
        _ = pdf.pages  # parses the page tree: a damaged file fails here
    except Exception as exc:  # pdfminer raises many kinds, some wrapped by pdfplumber
        raise _refusal(exc) from None
    return pdf


def _refusal(exc: BaseException) -> DocumentError:
    """One sentence for what pdfminer/pdfplumber raised while opening or reading a file."""
    seen: BaseException | None = exc
    names: list[str] = []
    while seen is not None and len(names) < 10:  # pdfplumber wraps pdfminer's error: read the whole chain
        names.append(f"{type(seen).__name__} {seen}")
        seen = seen.__cause__ or seen.__context__
    said = " ".join(names).lower()
    if "password" in said or "encrypt" in said:
        return DocumentError("encrypted PDF: it needs a password to open; save a copy without one")
    return DocumentError("damaged PDF: it cannot be parsed; open it and save or print it to PDF again")


def _page_blocks(page: Any) -> list[_Block]:
    """A page's text lines outside its tables, and its tables, top to bottom."""
    tables = page.find_tables()
    boxes = [t.bbox for t in tables]

    def outside(obj: dict[str, Any]) -> bool:
        if obj.get("object_type") != "char":
            return True
        x, y = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
        return not any(x0 <= x <= x1 and top <= y <= bottom for x0, top, x1, bottom in boxes)

    blocks = []
    for line in page.filter(outside).extract_text_lines(return_chars=True):
        size = max(round(c["size"] * 2) / 2 for c in line["chars"])
        blocks.append(_Block(line["top"], line["bottom"], size, line["text"].strip()))
    for t in tables:
        rows = tuple(tuple(c or "" for c in r) for r in t.extract() if any((c or "").strip() for c in r))
        if rows:
            blocks.append(_Block(t.bbox[1], t.bbox[3], 0.0, "", rows))
    return sorted(blocks, key=lambda b: b.top)


def _carry_headers(pages: list[list[_Block]]) -> list[list[_Block]]:
    """A table that runs on from the page before gets that table's header back.

    When a page opens with a table as wide as the one that closed the page before, and its first row
    is not that table's header, it is the same table continued without its header (a repeated header
    row is left alone): its rows then read under the header they belong to.
    """
    out: list[list[_Block]] = []
    for blocks in pages:
        before = out[-1][-1] if out and out[-1] else None
        first = blocks[0] if blocks else None
        if before is not None and before.rows and first is not None and first.rows:
            header = before.rows[0]
            if len(first.rows[0]) == len(header) and first.rows[0] != header:
                blocks = [_Block(first.top, first.bottom, 0.0, "", (header, *first.rows)), *blocks[1:]]
        out.append(blocks)
    return out


def _levels(blocks: list[list[_Block]]) -> dict[float, int]:
    """Heading level per size larger than the body's (the size most characters have; largest -> 1)."""
    weights: Counter[float] = Counter()
    for page in blocks:
        for b in page:
            if not b.table:
                weights[b.size] += len(b.text)
    body = weights.most_common(1)[0][0] if weights else 0.0
    bigger = sorted((s for s in weights if s >= body * _HEADING_RATIO), reverse=True)
    return {s: min(i + 1, 6) for i, s in enumerate(bigger)}


def pdf_to_markdown(raw: bytes) -> str:
    """A PDF's text as Markdown (module docstring); DocumentError when it is encrypted, damaged, scanned (page
    images, no characters) or blank (neither)."""
    pdf = _open(raw)
    read: list[list[_Block]] = []
    chars = images = 0
    try:
        for page in pdf.pages:
            try:
                read.append(_page_blocks(page))
                chars += len(page.chars)
                images += len(page.images)
            except Exception as exc:  # a damaged content stream shows only when its page is read
                raise _refusal(exc) from None
            finally:
                page.close()  # frees the page's parsed objects: a long manual is read page by page
    finally:
        pdf.close()
    pages = _carry_headers(read)
    if chars == 0:
        raise DocumentError(SCANNED, SCANNED_IN_FOLDER) if images else DocumentError(BLANK)
    levels = _levels(pages)
    out: list[str] = []
    for n, blocks in enumerate(pages, start=1):
        out.append(PAGE_MARK.format(n=n) + "\n")
        prev: _Block | None = None
        for b in blocks:
            if b.rows is not None:
                out.append(f"\n{pipe_table(b.rows)}\n\n")
            elif b.size in levels:
                out.append(f"\n{'#' * levels[b.size]} {b.text}\n\n")
            else:
                new_paragraph = prev is None or prev.table or prev.size in levels
                if prev is not None and b.top - prev.bottom > _PARAGRAPH_GAP * b.size:
                    new_paragraph = True
                out.append(("\n" if new_paragraph and out[-1][-2:] != "\n\n" else "") + b.text + "\n")
            prev = b
        out.append("\n")
    text = "".join(out)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip() + "\n"
