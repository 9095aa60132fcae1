"""The conversion cache: a converted document's Markdown, stored under the sha256 of its bytes.

A file is converted again only when its bytes change (or the converter does: the key includes
the conversion's version and the library's). The folder is ``$HARNESS_CACHE_DIR/documents``, else
``$XDG_CACHE_HOME/harness/documents``, else ``~/.cache/harness/documents``: beside the other tools'
caches on the machine (``~/.cache/huggingface``, ``~/.cache/vllm``), outside the checkout and the
set's folder, which may be read-only. A cache that cannot be written is skipped, never an error.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from harness.store import atomic_write_text


def default_cache_dir() -> Path:
    """Where converted documents are kept (see the module docstring for the order of the variables)."""
    if root := os.environ.get("HARNESS_CACHE_DIR"):
        return Path(root) / "documents"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "harness" / "documents"


def cache_key(raw: bytes, converter: str) -> str:
    """sha256 hex of ``converter`` (e.g. ``pdf/1/pdfplumber-0.11.11``), a NUL and the file's bytes."""
    return hashlib.sha256(converter.encode() + b"\0" + raw).hexdigest()


def cached(folder: Path, key: str) -> str | None:
    """The Markdown stored under ``key``, or None (absent or unreadable)."""
    try:
        return (folder / f"{key}.md").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def store(folder: Path, key: str, markdown: str) -> None:
    """Keep ``markdown`` under ``key`` (atomically); an unwritable folder is skipped silently."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(folder / f"{key}.md", markdown)
    except OSError:
        pass
