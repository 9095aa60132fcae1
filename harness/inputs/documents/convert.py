"""A document file -> its Markdown: the one entry point of the ``documents:`` files.

.md and .txt are read as UTF-8 text, as they always were; .docx, .pdf, .html/.htm and .xlsx are
converted (``office``, ``pdf``) once and kept in the cache (``cache``) under their bytes' sha256.
Any other suffix, or a file that cannot be read, is a :class:`DocumentError` whose message is one
sentence with the fix and without the path: ``harness validate`` puts it on the set's line, the
run's loader after the file's path.

The format is chosen by the suffix; a file whose content plainly is another supported format (a text
file renamed to .docx, a PDF saved as .txt) is refused with what it holds and the suffix to give it
(:func:`sniff`), rather than as a damaged file of the format its name claims.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from harness.inputs.documents.cache import cache_key, cached, default_cache_dir, store
from harness.inputs.documents.office import DocumentError, docx_to_markdown, html_bytes_to_markdown, xlsx_to_markdown
from harness.inputs.documents.pdf import pdf_to_markdown

CONVERSION_VERSION = "3"
"""Raise when the Markdown a converter writes changes: every cached conversion is then redone."""

TEXT_SUFFIXES = (".md", ".markdown", ".txt")
_CONVERTERS: dict[str, tuple[str, Callable[[bytes], str]]] = {
    ".docx": ("mammoth", docx_to_markdown),
    ".pdf": ("pdfplumber", pdf_to_markdown),
    ".html": ("markdownify", html_bytes_to_markdown),
    ".htm": ("markdownify", html_bytes_to_markdown),
    ".xlsx": ("openpyxl", xlsx_to_markdown),
}
SUPPORTED_SUFFIXES = frozenset((*TEXT_SUFFIXES, *_CONVERTERS))
"""The suffixes read as documents (lower case): .md, .markdown, .txt, .docx, .pdf, .html, .htm, .xlsx."""
ACCEPTED = ".docx, .pdf, .html, .xlsx, .md or .txt"
"""The formats a ``documents:`` entry may have, as the errors name them."""

_FORMATS = {
    "docx": ("a Word file", ".docx"),
    "xlsx": ("an Excel workbook", ".xlsx"),
    "pdf": ("a PDF", ".pdf"),
    "html": ("an HTML page", ".html"),
    "text": ("plain text", ".txt"),
}
"""What :func:`sniff` may find: how an error names it, and the suffix that reads it."""
_SUFFIX_FORMAT = {".docx": "docx", ".xlsx": "xlsx", ".pdf": "pdf", ".html": "html", ".htm": "html",
                  ".md": "text", ".markdown": "text", ".txt": "text"}  # fmt: skip
_HTML_START = (b"<!doctype html", b"<html")


def sniff(raw: bytes) -> str | None:
    """The supported format ``raw`` plainly holds, read from its content alone: ``"pdf"`` (starts with
    ``%PDF-``), ``"docx"`` / ``"xlsx"`` (a zip with ``[Content_Types].xml`` and ``word/document.xml`` /
    ``xl/workbook.xml``: the Office Open XML layout, ECMA-376 part 2), ``"html"`` (starts with
    ``<!DOCTYPE html`` or ``<html``), ``"text"`` (UTF-8 without NUL bytes); None when it is none of these
    plainly (a damaged zip, an old binary Office file, other binary data).
    """
    head = raw[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"%PDF-"):
        return "pdf"
    if raw.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as z:
                names = set(z.namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return None
        if "[Content_Types].xml" in names:
            if "word/document.xml" in names:
                return "docx"
            if "xl/workbook.xml" in names:
                return "xlsx"
        return None
    if head.lower().startswith(_HTML_START):
        return "html"
    if b"\x00" in raw:
        return None
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "text"


def _misnamed(raw: bytes, suffix: str) -> DocumentError | None:
    """The refusal of a file whose content is plainly another supported format than its ``suffix`` says;
    None when it is that format or nothing plain. An HTML page named .txt or .md, or text named .html, is
    left alone: each reader takes the other's text."""
    claimed, found = _SUFFIX_FORMAT.get(suffix), sniff(raw)
    if claimed is None or found is None or found == claimed or {claimed, found} == {"text", "html"}:
        return None
    said = "a text file" if claimed == "text" else _FORMATS[claimed][0]
    holds, fix = _FORMATS[found]
    return DocumentError(f"not {said}: it holds {holds}; rename it to {fix}")


@dataclass(frozen=True)
class Converted:
    """One document as the retrieval reads it."""

    markdown: str
    """The text: the file itself for .md/.txt, else its Markdown conversion."""
    sha256: str
    """The cache key: sha256 of the converter's name and version and the file's bytes ("" for .md/.txt)."""
    from_cache: bool
    """True when the Markdown came from the cache rather than a conversion."""


def _library_version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


def convert_bytes(raw: bytes, suffix: str, cache_dir: Path | None = None) -> Converted:
    """``raw`` (a file's bytes with the name's ``suffix``) as Markdown; cached unless ``cache_dir`` is None.

    DocumentError for an unknown suffix, a file whose content is another supported format than its suffix
    says (:func:`sniff`), text that is not UTF-8, and any file its converter refuses.
    """
    suffix = suffix.lower()
    if (refusal := _misnamed(raw, suffix)) is not None:
        raise refusal
    if suffix in TEXT_SUFFIXES:
        try:
            return Converted(raw.decode("utf-8-sig"), "", False)
        except UnicodeDecodeError as e:
            raise DocumentError(f"not UTF-8 text (bad byte at offset {e.start}); re-save it as UTF-8, or give "
                                f"the original file if it is a Word, PDF, Excel or HTML document: documents may be "
                                f"{ACCEPTED}") from None  # fmt: skip
    if suffix not in _CONVERTERS:
        said = f"{suffix} files" if suffix else "files without a suffix"
        raise DocumentError(f"{said} cannot be read; documents may be {ACCEPTED}: save it as one of them")
    dist, convert = _CONVERTERS[suffix]
    key = cache_key(raw, f"{suffix}/{CONVERSION_VERSION}/{dist}-{_library_version(dist)}")
    if cache_dir is not None and (hit := cached(cache_dir, key)) is not None:
        return Converted(hit, key, True)
    markdown = convert(raw)
    if not markdown.strip():
        raise DocumentError("no text found in it; check that it is the right file")
    if cache_dir is not None:
        store(cache_dir, key, markdown)
    return Converted(markdown, key, False)


def read_document(path: Path, cache_dir: Path | None = None) -> Converted:
    """The file at ``path`` as Markdown, through the cache (``cache.default_cache_dir()`` unless given).

    OSError when the file cannot be read; DocumentError as :func:`convert_bytes`.
    """
    raw = path.read_bytes()
    return convert_bytes(raw, path.suffix, default_cache_dir() if cache_dir is None else cache_dir)
