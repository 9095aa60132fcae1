"""A plan's knowledge-base folder: one document store several question sets retrieve from.

A company keeps one folder of documents and writes several sets (HR, safety, equipment) against it; the
plan names it once (``knowledge_base:``, :class:`harness.records.KnowledgeBase`). Here the folder is listed
(every supported file in it or under it, hidden ones aside, sorted by relative path), checked file by file
(the refusals of ``harness.inputs.documents``, one line per file), read, and cut into passages whose ids
carry the file's relative path, so ``hr/policy.md`` and ``safety/policy.md`` never share an id.

Listing and reading touch the disk; :func:`folder_passages` is pure. The folder is indexed once per chunk
size and shared by every set that uses it (:func:`harness.inputs.variants.framings`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from harness.inputs.documents.convert import ACCEPTED, SUPPORTED_SUFFIXES, read_document
from harness.inputs.documents.office import DocumentError
from harness.inputs.retrieval import Passage, chunk_document, read_markdown
from harness.store import sha256_file


@dataclass(frozen=True)
class FolderListing:
    """What a knowledge-base folder holds, each file as its path relative to the folder (``/``-separated)."""

    folder: Path
    """The folder, absolute and resolved."""
    documents: tuple[str, ...]
    """The supported files, sorted: the documents, in the order their passages are numbered and ranked."""
    unsupported: tuple[str, ...]
    """Files of other formats (``.pptx``, ``.doc``, ...): not read; ``harness validate`` lists them."""
    outside: tuple[str, ...]
    """Links that lead out of the folder: refused, as a set's documents outside its folder are."""
    copies: tuple[tuple[str, str], ...] = ()
    """``(copy, document)``: supported files with the same bytes as a document listed before them (``HB.DOCX``
    beside ``hb.docx``): read once, as that document, so retrieval does not give the same passage twice."""


@dataclass(frozen=True)
class PlanKnowledgeBase:
    """A plan's knowledge base as loaded: the folder, its documents, and the sets that retrieve from it."""

    folder: Path
    """Absolute and resolved."""
    documents: tuple[str, ...]
    """Relative paths of its documents, sorted (:attr:`FolderListing.documents`)."""
    set_ids: frozenset[str]
    """The plan's sets that retrieve from it (:meth:`harness.records.KnowledgeBase.uses`)."""


def _hidden(name: str) -> bool:
    return name.startswith(".")


def list_folder(folder: Path) -> FolderListing:
    """Every file in ``folder`` or under it, recursively, sorted by relative path; hidden files and folders
    (a name starting with ``.``) are skipped, and links to folders are not followed.

    FileNotFoundError when ``folder`` does not exist, NotADirectoryError when it is a file.
    """
    root = folder.resolve()
    if not root.exists():
        raise FileNotFoundError(str(folder))
    if not root.is_dir():
        raise NotADirectoryError(str(folder))
    docs, other, outside = [], [], []
    for here, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not _hidden(d)]
        for name in files:
            if _hidden(name):
                continue
            path = Path(here) / name
            rel = path.relative_to(root).as_posix()
            if not path.resolve().is_relative_to(root):
                outside.append(rel)
            elif path.suffix.lower() in SUPPORTED_SUFFIXES:
                docs.append(rel)
            else:
                other.append(rel)
    kept: list[str] = []
    copies: list[tuple[str, str]] = []
    first: dict[str, str] = {}  # sha256 -> the first document with those bytes
    same_size = _sizes_shared(root, docs)  # only these can be copies: the rest are never read here
    for rel in sorted(docs):
        digest = _sha256(root / rel) if rel in same_size else None
        if digest is not None and digest in first:
            copies.append((rel, first[digest]))
            continue
        if digest is not None:
            first[digest] = rel
        kept.append(rel)
    return FolderListing(root, tuple(kept), tuple(sorted(other)), tuple(sorted(outside)), tuple(copies))


def _sizes_shared(root: Path, docs: list[str]) -> set[str]:
    """The documents whose size in bytes another document shares (a file that cannot be stat'ed is left out)."""
    by_size: dict[int, list[str]] = {}
    for rel in docs:
        try:
            by_size.setdefault((root / rel).stat().st_size, []).append(rel)
        except OSError:
            continue
    return {rel for same in by_size.values() if len(same) > 1 for rel in same}


def _sha256(path: Path) -> str | None:
    """The file's sha256, None when it cannot be read (its refusal comes when it is converted)."""
    try:
        return sha256_file(path)
    except OSError:
        return None


def folder_problems(listing: FolderListing, shown: str) -> tuple[list[str], list[str], dict[str, str]]:
    """``(errors, warnings, texts)`` for a listed folder: one error per file that cannot be read or links out,
    one if no document is left; one warning listing the files of other formats; and the documents' Markdown
    (relative path -> text) that could be read. ``shown``: the folder as the plan writes it."""
    errors, warnings, texts = [], [], {}
    for rel in listing.outside:
        errors.append(f"{shown}/{rel} links outside the knowledge-base folder; copy the file into it")
    for rel in listing.documents:
        try:
            texts[rel] = read_document(listing.folder / rel).markdown
        except OSError as exc:
            errors.append(f"cannot read {shown}/{rel} ({exc.strerror})")
        except DocumentError as exc:
            errors.append(f"{shown}/{rel}: {exc.in_folder}")
    if not listing.documents:
        errors.append(f"knowledge-base folder {shown} holds no document ({ACCEPTED}); put the documents in it")
    if listing.copies:
        n = len(listing.copies)
        some = _first_ten([f"{c} (= {d})" for c, d in listing.copies])
        warnings.append(f"{n} file{'s' if n > 1 else ''} of {shown} {'are copies' if n > 1 else 'is a copy'} of "
                        f"another document, read once: {some}")  # fmt: skip
    if listing.unsupported:
        n = len(listing.unsupported)
        some = _first_ten(list(listing.unsupported))
        warnings.append(f"{n} file{'s' if n > 1 else ''} of {shown} will not be read (documents may be {ACCEPTED}; "
                        f"save them as one of these to use them): {some}")  # fmt: skip
    return errors, warnings, texts


def _first_ten(names: list[str]) -> str:
    """``a, b, c`` for up to ten names, then ``and N more``."""
    return ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")


def load_folder(kb: PlanKnowledgeBase, cache_dir: Path | None = None) -> dict[str, str]:
    """Relative path -> Markdown of every document, in order, through the conversion cache (``cache_dir`` or
    the default). ValueError, one line naming the file, for a file gone, unreadable or refused."""
    out: dict[str, str] = {}
    for rel in kb.documents:
        gone = "knowledge-base document not found (removed since the plan was read?)"
        out[rel] = read_markdown(kb.folder / rel, cache_dir, gone, in_folder=True)
    return out


def folder_passages(texts: dict[str, str], chunk_chars: int) -> list[Passage]:
    """Every document's passages, in order, each id ``<relative path>#<n>`` (pure)."""
    return [p for rel, text in texts.items() for p in chunk_document(text, rel, max_chars=chunk_chars, id_stem=rel)]
