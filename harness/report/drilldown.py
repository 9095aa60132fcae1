"""The per-question drill-down as data: one JSON document, gzip-compressed inside the page.

Writing every answer of 20 models x 2,000 questions x 5 samples as HTML would make
a page no browser opens quickly; instead the answers travel as JSON inside the page
and a small script draws one page of questions at a time, with filters. The JSON is
gzip-compressed and base64-encoded (:func:`pack`); the page unpacks it with the
browser's own ``DecompressionStream("gzip")``, so the file stays one self-contained
page that opens offline and no library is needed. Base64 text cannot close its
``<script>`` element, whatever the answers say, and the script writes model output
with ``textContent`` only.

The document is built one question at a time (:func:`drilldown_questions`) and
streamed into the compressor, so the answers never exist as one big string.
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import pandas as pd

from harness.records import Judgment, Question, QuestionSet
from harness.report.calls import expected_entry
from harness.rollup.frames import RANK_COLUMN

GZIP_WBITS = 31
"""zlib's window bits for a gzip stream (header and CRC), what ``DecompressionStream("gzip")`` reads."""
GZIP_LEVEL = 3
"""A fast level (zlib's fast strategy): the 64 MB document of 200,000 synthetic answers packs in
~0.3 s to 2.9 MB of base64, against ~0.9 s and 1.8 MB at gzip's default 6."""

_ANSWER_FIELDS = ["candidate", "set_id", "question_id", "key", "sample", "text", "ok", "error", "score", "context_ids",
                  "context_hit", "faithful", "faithful_why", "reasoning", "reasoning_tokens", "cut_off",
                  "checks"]  # fmt: skip
_PACKED = re.compile(r'<script type="application/gzip" id="drill-data"[^>]*>([A-Za-z0-9+/=]*)</script>')


def _dumps(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _num(value: Any) -> float | None:
    return None if pd.isna(value) else round(float(value), 4)


def _flag(value: Any) -> bool | None:
    return None if pd.isna(value) else bool(value)


def _str(value: Any) -> str | None:
    """Text from a frame cell: pandas keeps a missing string as NaN."""
    return None if pd.isna(value) else str(value)


def _rank(value: Any) -> int | None:
    """A passage rank from a frame cell: pandas keeps a column of ranks with gaps as floats with NaN."""
    return None if value is None or pd.isna(value) else int(value)


def _thinking(reasoning: Any, tokens: Any, cut_off: bool) -> dict[str, Any]:
    """The answer's thinking for the drill-down (folded under the answer), only when it has some."""
    if pd.isna(reasoning) and not cut_off:
        return {}
    return {"r": [_str(reasoning) or "", None if pd.isna(tokens) else int(tokens), bool(cut_off)]}


def _entry_columns(cols: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """Each field of an answer entry for every row of the answers frame (``cols``: its columns as lists):
    ``s, t, ok, e, sc, ck, cx, r`` as :func:`drilldown_questions` describes them, ``r`` None without thinking.
    Converted a column at a time, which at 200,000 answers is much faster than a row at a time."""
    cx = [
        [list(ids), _flag(hit), _num(faithful), _str(why), _rank(rank)] if isinstance(ids, list) else None
        for ids, hit, faithful, why, rank in zip(
            cols["context_ids"],
            cols["context_hit"],
            cols["faithful"],
            cols["faithful_why"],
            cols["context_rank"],
            strict=True,
        )
    ]
    r = [
        _thinking(text, tokens, bool(cut)).get("r")
        for text, tokens, cut in zip(cols["reasoning"], cols["reasoning_tokens"], cols["cut_off"], strict=True)
    ]
    return {
        "s": [int(x) for x in cols["sample"]],
        "t": [None if x is None or x != x else str(x) for x in cols["text"]],
        "ok": [bool(x) for x in cols["ok"]],
        "e": [None if x is None or x != x else str(x) for x in cols["error"]],
        "sc": [None if x is None or x != x else round(float(x), 4) for x in cols["score"]],
        "ac": [_flag(x) for x in cols["acceptable"]],
        "ck": cols["checks"], "cx": cx, "r": r,
    }  # fmt: skip


def _answer(entry: dict[str, list[Any]], i: int, j: Judgment | None) -> dict[str, Any]:
    """The entry of row ``i`` (``entry``: :func:`_entry_columns`), with its judgment ``j`` if any."""
    out = {
        "s": entry["s"][i], "t": entry["t"][i], "ok": entry["ok"][i], "e": entry["e"][i], "sc": entry["sc"][i],
        "ac": entry["ac"][i], "ck": entry["ck"][i], "cx": entry["cx"][i],
        "j": [_num(j.score), j.parsed, j.raw] if j is not None else None,
    }  # fmt: skip
    if entry["r"][i] is not None:
        out["r"] = entry["r"][i]
    return out


def _rows_by_question(cols: dict[str, list[Any]], column: dict[str, int]) -> dict[tuple[str, str], list[list[int]]]:
    """Row numbers of the answers frame by (set, question), then by drill-down column, in sample order."""
    cells: dict[tuple[str, str], list[list[int]]] = {}
    for i, (cand, set_id, qid) in enumerate(zip(cols["candidate"], cols["set_id"], cols["question_id"], strict=True)):
        if (at := column.get(cand)) is not None:
            slots = cells.get((set_id, qid))
            if slots is None:  # not setdefault: its default, a list per column, would be built for every row
                slots = cells[(set_id, qid)] = [[] for _ in column]
            slots[at].append(i)
    samples = cols["sample"]
    for slots in cells.values():
        for rows in slots:
            rows.sort(key=samples.__getitem__)
    return cells


def _by_question(stability: pd.DataFrame, column: dict[str, int]) -> tuple[dict[Any, list[Any]], dict[Any, list[Any]]]:
    """Per (set, question): each column's ``[status, acceptable, samples]`` and its mean score."""
    width = len(column)
    status: dict[tuple[str, str], list[Any]] = {}
    qscore: dict[tuple[str, str], list[Any]] = {}
    fields = ("set_id", "question_id", "candidate", "status", "c", "n", "score")
    for set_id, qid, cand, st, c, n, score in zip(*(stability[f].tolist() for f in fields), strict=True):
        key, at = (set_id, qid), column[cand]
        if key not in status:
            status[key], qscore[key] = [None] * width, [None] * width
        status[key][at] = [st, int(c), int(n)]
        qscore[key][at] = _num(score)
    return status, qscore


def drilldown_questions(
    sets: dict[str, QuestionSet], names: list[str], answers: pd.DataFrame, stability: pd.DataFrame,
    judged: dict[str, Judgment], calls: dict[str, dict[str, Any]] | None = None,
    passages: Mapping[str, Sequence[Sequence[Any]]] | None = None,
) -> Iterator[dict[str, Any]]:  # fmt: skip
    """Questions in set order, each with every column's samples, check results, judge verdict and status.

    Answer entries are ``{s: sample, t: text, ok, e: error, sc: score, ac: acceptable (the rubric's verdict),
    ck: [[type, passed, critical, explanation]], j: [grade, parsed, reply],
    cx: [passage ids, source found, faithfulness, its reason, source rank]`` (the rank, 1 = best, of the first
    passage given that holds the question's ``source``: :attr:`~harness.records.Score.context_rank`, the
    passage that makes "source among them" true; None when none does),
    ``r: [thinking, thinking tokens, cut off while thinking]}`` (``r`` only for answers with thinking);
    ``status[i]`` is column i's stability status. One question's entries are built at a time.

    ``calls`` (a run whose calls were graded: :func:`harness.report.calls.drill_calls`): an answer with graded
    calls gets them as ``c`` and a question whose calls are graded its expectation as ``xc``
    (:func:`harness.report.calls.expected_entry`); None, or an answer or question without, adds no key.

    ``passages`` (answer key -> the passages it was given, ``(id, file, heading path, page, text)``,
    :func:`harness.report.load.answer_passages`): a question whose answers were given passages gets them
    once as ``px`` (each distinct passage once, however many candidates, samples and variants got it), and
    each such answer ``p``, its passages as indices into ``px``, best first. None or none given: no key.
    """
    column = {n: i for i, n in enumerate(names)}
    cols = {name: answers[name].tolist() for name in _ANSWER_FIELDS}
    # the rubric's verdict (every essential check passed); None where the frame has none (then the page uses
    # the score against the threshold)
    cols["acceptable"] = answers["acceptable"].tolist() if "acceptable" in answers else [None] * len(answers)
    # the rank of the first passage given that holds the question's source (RANK_COLUMN); a run that found none
    # has no column
    cols["context_rank"] = answers[RANK_COLUMN].tolist() if RANK_COLUMN in answers else [None] * len(answers)
    cells = _rows_by_question(cols, column)
    entry, keys = _entry_columns(cols), cols["key"]
    status, qscore = _by_question(stability, column)
    for qs in sets.values():
        for q in qs.questions:
            key = (qs.id, q.id)
            rows = cells.get(key, [[] for _ in names])
            samples = [[_answer(entry, i, judged.get(keys[i])) for i in cell] for cell in rows]
            out = {
                "set": qs.id, "id": q.id, "cat": q.category, "q": q.question, "ref": q.reference, "w": q.weight,
                "status": status.get(key, [None] * len(names)), "score": qscore.get(key, [None] * len(names)),
                "answers": samples,
            }  # fmt: skip
            if calls is not None:
                _with_calls(out, q, calls, [[keys[i] for i in cell] for cell in rows])
            if passages:
                _with_passages(out, passages, [[keys[i] for i in cell] for cell in rows])
            yield out


def _with_passages(out: dict[str, Any], passages: Mapping[str, Sequence[Sequence[Any]]], keys: list[list[str]]) -> None:
    """Add the question's distinct passages (``px``) and each answer's indices into them (``p``) to ``out``."""
    index: dict[tuple[Any, ...], int] = {}
    for cell, cell_keys in zip(out["answers"], keys, strict=True):
        for a, key in zip(cell, cell_keys, strict=True):
            if given := passages.get(key):
                a["p"] = [index.setdefault(tuple(p), len(index)) for p in given]
    if index:
        out["px"] = [list(p) for p in index]


def _with_calls(out: dict[str, Any], q: Question, calls: dict[str, dict[str, Any]], keys: list[list[str]]) -> None:
    """Add the question's expected calls (``xc``) and each graded answer's calls (``c``) to ``out``."""
    if (expected := expected_entry(q)) is not None:
        out["xc"] = expected
    for cell, cell_keys in zip(out["answers"], keys, strict=True):
        for a, key in zip(cell, cell_keys, strict=True):
            if (c := calls.get(key)) is not None:
                a["c"] = c


def drilldown_header(
    sets: dict[str, QuestionSet], names: list[str], threshold: float, labels: list[str] | None = None,
    samples: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Everything of the document but its questions: columns (``models``, the keys the page's
    ``#model=`` filter names, and ``labels``, what each column's heading reads; default the keys), pass
    threshold, categories, sets and the plan's samples per question (``samples``; None: not said, and each
    one-sample cell says it cannot measure stability)."""
    categories = sorted({q.category for qs in sets.values() for q in qs.questions})
    if labels is not None and len(labels) != len(names):
        raise ValueError(f"{len(labels)} column labels for {len(names)} drill-down columns")
    return {"models": names, "labels": labels if labels is not None else list(names), "threshold": threshold,
            "categories": categories, "sets": list(sets), "samples": samples}  # fmt: skip


def pack(header: dict[str, Any], questions: Iterable[dict[str, Any]]) -> str:
    """``{**header, "questions": [...]}`` as compact UTF-8 JSON, gzip-compressed, as base64 text.

    Each question is encoded and compressed as it comes, so the whole JSON never exists as one
    string. The gzip header carries no time stamp: the same document packs to the same text.
    Raises ``ValueError`` for NaN or infinite numbers (not JSON).
    """
    zipper = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, GZIP_WBITS)
    parts = [zipper.compress((_dumps(header)[:-1] + ',"questions":[').encode("utf-8"))]
    for i, question in enumerate(questions):
        parts.append(zipper.compress(((_dumps(question)) if i == 0 else "," + _dumps(question)).encode("utf-8")))
    parts.append(zipper.compress(b"]}"))
    parts.append(zipper.flush())
    return base64.b64encode(b"".join(parts)).decode("ascii")


def unpack(packed: str) -> dict[str, Any]:
    """The document :func:`pack` made, read back (what the page's script does in the browser)."""
    data: dict[str, Any] = json.loads(zlib.decompress(base64.b64decode(packed), GZIP_WBITS).decode("utf-8"))
    return data


def page_drilldown(html: str) -> dict[str, Any]:
    """The drill-down document inside a report page; ``ValueError`` when the page has none."""
    m = _PACKED.search(html)
    if m is None:
        raise ValueError('no packed drill-down (<script type="application/gzip" id="drill-data">) in the page')
    return unpack(m.group(1))
