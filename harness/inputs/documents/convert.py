"""A document file -> its Markdown: the one entry point of the ``documents:`` files.

.md and .txt are read as UTF-8 text, as they always were; .docx, .pdf, .html/.htm and .xlsx are
converted (``office``, ``pdf``) once and kept in the cache (``cache``) under their bytes' sha256.
Any other suffix, or a file that cannot be read, is a :class:`DocumentError` whose message is one
sentence with the fix and without the path: ``harness validate`` puts it on the set's line, the
run's loader after the file's path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from harness.inputs.documents.cache import cache_key, cached, default_cache_dir, store
from harness.inputs.documents.office import DocumentError, docx_to_markdown, html_bytes_to_markdown, xlsx_to_markdown
from harness.inputs.documents.pdf import pdf_to_markdown

CONVERSION_VERSION = "1"
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

    DocumentError for an unknown suffix, text that is not UTF-8, and any file its converter refuses.
    """
    suffix = suffix.lower()
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
