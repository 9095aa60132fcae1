"""Passages for the ``with_context`` variant: chunk a set's documents, rank them with BM25, check hits.

Everything here is pure except :func:`load_documents` (reads files, converting Word, PDF, Excel and
HTML ones to Markdown through ``harness.inputs.documents``) and the one-time jieba
dictionary load behind :func:`tokenize`. Chunking keeps whole sentences and the Markdown heading
path, because a model answering from policy text needs the rule and the section it belongs to;
ranking is lexical BM25 (``bm25s``) over jieba words, which needs no model, no GPU and no server,
and ranks the same way on every run.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

import numpy as np

from harness.inputs.documents.convert import read_document
from harness.inputs.documents.office import DocumentError
from harness.inputs.wording import wording
from harness.rubric.text import sentences


@dataclass(frozen=True)
class Passage:
    id: str
    """``<doc stem>#<n>``, n counting from 1 in document order: stable while the document is. In a plan's
    knowledge-base folder, ``<relative path>#<n>`` (``hr/policy.docx#2``), so that two files with one stem in
    two subfolders, or ``policy.md`` beside ``policy.pdf``, never share an id."""
    doc: str
    """The document's file name; in a plan's knowledge-base folder, its path relative to the folder (``/``)."""
    heading: str | None
    """Markdown heading path, e.g. ``加班 > 法定节假日``; None before the first heading or in plain text."""
    text: str
    """The passage body, as written (whitespace inside kept, ends stripped)."""
    page: int | None = None
    """The page it starts on, counting from 1, for a PDF; None for other documents."""


# ---------------------------------------------------------------- chunking

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_PAGE = re.compile(r"^<!-- page (\d+) -->$")
"""The mark a converted PDF opens each page with (``documents.pdf.PAGE_MARK``)."""


@dataclass(frozen=True)
class _Section:
    heading: str | None
    page: int | None
    body: str


def _sections(text: str, paged: bool = False) -> list[_Section]:
    """Heading path, page and body per Markdown section; ``#`` lines inside code fences are not headings.

    With ``paged`` (a converted PDF), a page mark also ends a section, so each passage has one page.
    """
    path: list[tuple[int, str]] = []
    sections: list[_Section] = []
    body: list[str] = []
    in_fence = False
    page: int | None = None

    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    title_levels = 1 if _single_title(lines) else 0

    def close() -> None:
        sections.append(_Section(" > ".join(t for lv, t in path if lv > title_levels) or None, page, "\n".join(body)))
        body.clear()

    for line in lines:
        if _FENCE.match(line):
            in_fence = not in_fence
        if paged and not in_fence and (mark := _PAGE.match(line.strip())):
            close()
            page = int(mark.group(1))
            continue
        m = None if in_fence else _HEADING.match(line)
        if m is None:
            body.append(line)
            continue
        close()
        level = len(m.group(1))
        path = [(lv, t) for lv, t in path if lv < level] + [(level, m.group(2).strip())]
    close()
    return sections


def _single_title(lines: list[str]) -> bool:
    """A document with exactly one level-1 heading: that heading is its title, not a topic.

    Left in every passage's heading path, a title such as "员工年假、加班与差旅报销制度" would
    add its words to every passage and blur the ranking (加班 would match all of them).
    """
    in_fence, titles = False, 0
    for line in lines:
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and (m := _HEADING.match(line)) and len(m.group(1)) == 1:
            titles += 1
    return titles == 1


def _split_long(sentence: str, max_chars: int) -> list[str]:
    """Hard-split one over-long sentence; prefer a space in the window's second half (English)."""
    pieces = []
    while len(sentence) > max_chars:
        cut = sentence.rfind(" ", max_chars // 2, max_chars)
        cut = cut + 1 if cut > 0 else max_chars
        pieces.append(sentence[:cut])
        sentence = sentence[cut:]
    return [*pieces, sentence] if sentence else pieces


def _sentences(paragraph: str, max_chars: int) -> list[str]:
    """The paragraph's sentences with their own trailing punctuation and whitespace (they concatenate back)."""
    return [p for s in sentences(paragraph) if s.strip() for p in _split_long(s, max_chars)]


def _render(units: list[tuple[int, str]]) -> str:
    """Sentences of one paragraph concatenate as written; paragraphs are joined by a blank line."""
    parts: list[str] = []
    for i, (para, sentence) in enumerate(units):
        if i and para != units[i - 1][0]:
            parts.append("\n\n")
        parts.append(sentence)
    return "".join(parts).strip()


_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_TABLE_RULE = re.compile(r"^\s*\|(\s*:?-{3,}:?\s*\|)+\s*$")


def _table_pieces(paragraph: str, max_chars: int) -> list[str] | None:
    """A Markdown pipe table cut between rows, each part under the table's header; None for no table.

    A row is never cut and never leaves its header: a part holds the header, its rule line and as
    many rows as fit in ``max_chars`` (one at least, so a single long row can make a longer part).
    So "ABS | 模具温度 | 60 ℃ ± 5 ℃" always reads under "材料 | 参数 | 设定值".
    """
    lines = paragraph.split("\n")
    if len(lines) < 3 or not _TABLE_RULE.match(lines[1]) or not all(_TABLE_ROW.match(x) for x in lines):
        return None
    head = "\n".join(lines[:2])
    parts: list[list[str]] = []
    for row in lines[2:]:
        if parts and len(head) + sum(len(r) + 1 for r in parts[-1]) + len(row) + 1 <= max_chars:
            parts[-1].append(row)
        else:
            parts.append([row])
    return [head + "\n" + "\n".join(rows) for rows in parts]


def _pack(body: str, max_chars: int, overlap_sentences: int) -> list[str]:
    """Pack a section's paragraphs, then sentences, into passages of at most ``max_chars``.

    Short paragraphs share a passage (one-line policy clauses alone are too small to be useful
    context), but a paragraph that fits in a passage is never split across two: it starts a new
    passage instead. Only a paragraph longer than ``max_chars`` is split: a Markdown table between
    rows, its header repeated atop each part (:func:`_table_pieces`), any other at sentence ends.
    """
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
    passages: list[str] = []
    buf: list[tuple[int, str]] = []

    def fits(units: list[tuple[int, str]]) -> bool:
        return len(_render(units)) <= max_chars

    def flush(next_units: list[tuple[int, str]]) -> None:
        nonlocal buf
        passages.append(_render(buf))
        # Repeat the last sentences, fewer than the whole passage so each passage adds something new,
        # and only as many as leave room for what comes next.
        carry = buf[len(buf) - min(overlap_sentences, len(buf) - 1) :] if overlap_sentences else []
        while carry and not fits(carry + next_units):
            carry = carry[1:]
        buf = list(carry)

    n = 0  # paragraph number of each unit: units of one paragraph join without a blank line
    for paragraph in paragraphs:
        # A paragraph that fits is one unit (moved whole to the next passage); a longer table, runs of rows
        # under its header (each its own paragraph); any other longer one, its sentences.
        if len(paragraph) <= max_chars:
            pieces = [(n, paragraph)]
        elif (rows := _table_pieces(paragraph, max_chars)) is not None:
            pieces = [(n + j, rows_text) for j, rows_text in enumerate(rows)]
        else:
            pieces = [(n, s) for s in _sentences(paragraph, max_chars)]
        n = pieces[-1][0] + 1
        for unit_n, piece in pieces:
            unit = [(unit_n, piece)]
            if buf and not fits(buf + unit):
                flush(unit)
            buf += unit
    if buf:
        passages.append(_render(buf))
    return [p for p in passages if p]


def chunk_document(
    text: str, doc: str, max_chars: int = 300, overlap_sentences: int = 0, id_stem: str | None = None
) -> list[Passage]:
    """Split a Markdown or plain-text document into passages of at most ``max_chars`` characters.

    Sections end at headings (a passage never spans two, and carries its heading path) and, in a
    converted PDF (``doc`` ends in .pdf), at page marks (the passage carries its page); within a
    section, see :func:`_pack`. A sentence is cut only when it alone exceeds ``max_chars``.
    ``overlap_sentences`` repeats that many trailing sentences of a passage at the start of the
    next one in the same section, for answers that straddle a boundary (a short paragraph counts
    as one sentence there, since it is kept whole). ``id_stem``: what each passage id has before ``#``
    (default: the stem of ``doc``).
    """
    if max_chars < 1 or overlap_sentences < 0:
        raise ValueError(f"max_chars must be >= 1 and overlap_sentences >= 0, got {max_chars}, {overlap_sentences}")
    stem = PurePath(doc).stem if id_stem is None else id_stem
    paged = PurePath(doc).suffix.lower() == ".pdf"
    bodies = [
        (s.heading, s.page, p) for s in _sections(text, paged) for p in _pack(s.body, max_chars, overlap_sentences)
    ]
    return [Passage(f"{stem}#{n}", doc, heading, body, page) for n, (heading, page, body) in enumerate(bodies, start=1)]


def read_markdown(path: Path, cache_dir: Path | None, not_found: str, in_folder: bool = False) -> str:
    """``path`` as Markdown, through the conversion cache (``cache_dir`` or the default). ValueError, one line
    naming the file, for a file missing (``not_found`` says what to do), unreadable, or refused by its converter
    (in a knowledge-base folder, with the fix that fits a folder: ``DocumentError.in_folder``)."""
    try:
        return read_document(path, cache_dir).markdown
    except FileNotFoundError:
        raise ValueError(f"{path}: {not_found}") from None
    except OSError as e:
        raise ValueError(f"{path}: cannot read document ({e.strerror})") from None
    except DocumentError as e:
        raise ValueError(f"{path}: {e.in_folder if in_folder else e}") from None


def load_documents(paths: Sequence[Path], cache_dir: Path | None = None) -> dict[str, str]:
    """File name -> Markdown text, in the given order: .md/.txt as written (UTF-8 with or without BOM),
    .docx/.pdf/.html/.xlsx converted (``documents.convert.read_document``, cached in ``cache_dir`` or the
    default cache folder).

    Keys are file names because passage ids are built from them: two files with one name would
    give clashing ids, so that is an error too. ValueError, one line naming the file, for a file that
    is missing, unreadable or refused by its converter.
    """
    docs: dict[str, str] = {}
    for path in paths:
        text = read_markdown(path, cache_dir, "document not found; fix the path in the question set's `documents`")
        if path.name in docs:
            raise ValueError(f"{path}: another document is also named {path.name!r}; rename one")
        docs[path.name] = text
    return docs


# ---------------------------------------------------------------- tokenizing

# Function words and question words: they match anything or nothing, so they only add noise.
_STOPWORD_TEXT = """
的 了 是 在 和 与 及 或 等 对 把 被 也 都 就 而 之 其 这 那 个 有 吗 呢 吧 啊 呀 我 你 他 她 它 我们 你们 他们
请问 什么 怎么 怎样 如何 多少 哪些 哪个 是否
a an the of to in on at for and or is are was were be been by with as it its this that these those
from do does did how what when which who why can could should would will i you we my our your me please
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
# Outside CJK runs: decimals whole ("1.5"), else runs of letters/digits; punctuation and "_" dropped.
_WORD = re.compile(r"\d+(?:\.\d+)+|[^\W_]+")
_jieba: Any = None
_jieba_lock = threading.Lock()


def _segmenter() -> Any:
    """A private jieba Tokenizer, built once (~1 s dictionary load), so others' ``jieba.add_word`` can't change it."""
    global _jieba
    with _jieba_lock:
        if _jieba is None:
            with warnings.catch_warnings():  # jieba 0.42 imports the deprecated pkg_resources
                warnings.simplefilter("ignore")
                import jieba
            jieba.setLogLevel(logging.WARNING)  # else "Building prefix dict..." on stderr at first use
            _jieba = jieba.Tokenizer()
            _jieba.initialize()
        return _jieba


def tokenize(text: str) -> list[str]:
    """BM25 terms: jieba words for Chinese, lower-cased words and numbers otherwise, stopwords dropped.

    NFKC first, so full-width "１．５倍" and "1.5倍" give the same terms. Numbers stay ("40", "1.5",
    "3"): policy questions turn on them. ``lcut_for_search`` rather than ``lcut``: it also emits the
    dictionary words inside a long word ("加班费" -> 加班, 班费, 加班费; "基本工资" -> 基本, 工资,
    基本工资), so a question that says 加班 still matches a passage that says 加班费. Queries and
    passages go through the same function, so the extra terms are symmetric.
    """
    text = unicodedata.normalize("NFKC", text).lower()
    terms: list[str] = []
    pos = 0
    for m in _CJK_RUN.finditer(text):
        terms += _WORD.findall(text[pos : m.start()])
        terms += _segmenter().lcut_for_search(m.group())
        pos = m.end()
    terms += _WORD.findall(text[pos:])
    return [t for t in terms if t.strip() and t not in _STOPWORDS]


# ---------------------------------------------------------------- ranking


class Bm25Index:
    """BM25 (Lucene variant, k1=1.5, b=0.75; ``bm25s`` defaults) over passages' heading path and text.

    The heading is indexed with the body because policy text often names its topic only in the
    heading ("## 病假" over "需提供医院证明…").
    """

    def __init__(self, passages: Sequence[Passage]) -> None:
        self.passages = tuple(passages)
        corpus = [tokenize(f"{p.heading or ''}\n{p.text}") for p in self.passages]
        import bm25s  # imported here: it pulls in numba (~0.3 s), which `harness validate` does not need

        self._bm25: bm25s.BM25 | None = None
        if any(corpus):  # bm25s cannot index a corpus without a single term
            self._bm25 = bm25s.BM25()
            self._bm25.index(corpus, show_progress=False)

    def search(self, query: str, k: int) -> list[tuple[Passage, float]]:
        """The ``k`` best passages sharing a term with ``query``, best first; equal scores in passage order.

        Passages sharing no term score 0 and are left out, so a query with no known term returns
        ``[]`` rather than ``k`` arbitrary passages.
        """
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        if self._bm25 is None or k == 0:
            return []
        known = [t for t in tokenize(query) if t in self._bm25.vocab_dict]
        if not known:
            return []
        scores = np.asarray(self._bm25.get_scores(known), dtype=np.float64)
        order = np.argsort(-scores, kind="stable")[:k]  # stable: ties keep passage order
        return [(self.passages[i], float(scores[i])) for i in order if scores[i] > 0]


# ---------------------------------------------------------------- checking and rendering


def squash(s: str) -> str:
    return "".join(unicodedata.normalize("NFKC", s).casefold().split())


def render_context(passages: Sequence[Passage], language: str) -> str:
    """Numbered passages under a label in the set's language (Chinese or, for any other, English).

    ``[n] (heading path) text`` per passage; "" when there are none, so a caller can tell. A passage whose
    text opens with a table (a first line starting with ``|``) has it on the line after its heading,
    ``[n] (heading path)\n| 设备 | 保养项目 |``, so the heading is not read as a cell of the table's header.
    """
    if not passages:
        return ""
    lines = [wording(language).retrieved_label]
    for n, p in enumerate(passages, start=1):
        if not p.heading:
            lines.append(f"[{n}] {p.text}")
        else:
            after = "\n" if p.text.startswith("|") else " "
            lines.append(f"[{n}] ({p.heading}){after}{p.text}")
    return "\n".join(lines)


def context_passages(context: str, count: int) -> list[str]:
    """The ``count`` passages of a context :func:`render_context` wrote, best first, each as rendered
    (``[n] (heading path) text``, so a ``source`` naming a heading is found in its passage).

    Each passage starts at the first ``\\n[n] `` after the previous one's mark: a passage whose own text
    holds such a line ends early there, and the rest counts with the next. Fewer marks than ``count``
    (a context cut or edited since): the passages found, the last holding the rest.
    """
    marks: list[int] = []
    pos = 0
    for n in range(1, count + 1):
        at = context.find(f"\n[{n}] ", pos)
        if at < 0:
            break
        marks.append(at + 1)
        pos = at + 1
    return [context[a:b].strip() for a, b in zip(marks, [*marks[1:], len(context)], strict=True)]


def source_rank(context: str | None, count: int, source: str) -> int | None:
    """The rank (1 = best) of the first passage of ``context`` that holds ``source`` (whitespace, width and
    case aside, as :func:`squash` compares); None when none does, or ``source`` is blank (an empty string
    is in every text)."""
    wanted = squash(source)
    if not context or not wanted:
        return None
    return next((n for n, p in enumerate(context_passages(context, count), 1) if wanted in squash(p)), None)
