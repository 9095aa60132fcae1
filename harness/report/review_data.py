"""The review mode's data: the review queue of a report, as the JSON document the page embeds.

The page (templates/review.js) lets a person grade the first N answers of the queue
(:mod:`harness.rollup.review_queue`) blind, and exports a review file (docs/review.md) that
``harness review add`` reads. Each answer travels with its key, the :func:`~harness.records.answer_sha256`
of its text (a grade is tied to both), its question, reference and the context the model was given.

The document travels as the drill-down's does (:func:`harness.report.drilldown.pack`): gzip-compressed
JSON in base64 inside a ``<script type="application/gzip">`` element, which no answer text can close, and
the page writes every text with ``textContent`` only.
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from harness.records import REVIEW_FILE_VERSION, REVIEW_FORMAT, answer_sha256
from harness.report.drilldown import GZIP_LEVEL, GZIP_WBITS, unpack
from harness.rollup.figures import ReportData
from harness.rollup.review_queue import JudgeGrades, ReviewQueue, review_queue, reviewed_counts

PAGE_QUEUE_MAX = 500
"""Answers of the queue the page embeds (the reviewer takes the first N of them)."""
PAGE_DEFAULT_N = 60
"""The N the page offers first."""

ContextReader = Callable[[set[str]], Mapping[str, str | None]]
"""Generation keys -> each answer's own context (``Generation.context``), read for those keys only."""

_EMBEDDED = re.compile(r'<script type="application/gzip" id="review-data">([A-Za-z0-9+/=]*)</script>')


def judge_grades(data: ReportData) -> JudgeGrades | None:
    """The judge's first single grade per answer with its pass line; None when the run was not judged."""
    judges, summary = data.plan.panel_judges, data.judge_summary
    if not judges or summary is None:
        return None
    judge = judges[0]  # a panel's judges share the scale and pass mark
    scores = {k: float(j.score) for k, j in summary.by_answer.items() if j.score is not None}
    pass_score = judge.pass_mark
    return JudgeGrades(scores, pass_score, judge.scale)


def report_queue(data: ReportData, n: int, seed: int | None = None, overlap: int = 0) -> ReviewQueue:
    """The first ``n`` answers of the run's decision variant to grade (:func:`review_queue`); ``seed``
    defaults to the plan's sampling seed. Grades already in the run (``data.reviews``) count as reviewed.
    Failed requests (no answer came back) are counted in the run's answers but never queued."""
    rec = data.recommendation
    return review_queue(
        data.answers, judge=judge_grades(data), top_two=(rec.recommended, rec.runner_up),
        threshold=data.plan.rubric_pass_threshold, reviewed=reviewed_counts([g.key for g in data.reviews]), n=n,
        seed=data.plan.sampling.seed if seed is None else seed, overlap=overlap,
    )  # fmt: skip


def review_payload(data: ReportData, queue: ReviewQueue, contexts: Mapping[str, str | None]) -> dict[str, Any]:
    """The page's review document: ``{run, seed, n, format, version, answers, reviewed, reviewers, sets, qs, items}``.

    ``sets``: set id -> ``{title, context}``; ``qs``: the queued questions ``{set, id, q, ref}``; ``items``, in
    queue order: ``{key, sha, qi (index into qs), s (sample), col (candidate, with the variant when the plan has
    several: what blind review hides), t (the answer text; "" when cut off while thinking), cut, e (error), cx
    (the answer's own context), why (reason tags), rv (people who graded it already)}``.
    """
    rows = data.answers.set_index("key", drop=False)
    several = len(data.plan.variants) > 1
    questions: dict[tuple[str, str], int] = {}
    qs: list[dict[str, Any]] = []
    items = []
    by_id = {(qset.id, q.id): q for qset in data.sets.values() for q in qset.questions}
    for item in queue.items:
        r = rows.loc[item.key]
        at = (item.set_id, item.question_id)
        if at not in questions:
            questions[at] = len(qs)
            q = by_id[at]
            qs.append({"set": item.set_id, "id": q.id, "q": q.question, "ref": q.reference})
        cut = bool(r["cut_off"]) if not pd.isna(r["cut_off"]) else False
        text = "" if cut or pd.isna(r["text"]) else str(r["text"])
        items.append({
            "key": item.key, "sha": answer_sha256(text), "qi": questions[at], "s": item.sample,
            "col": f"{item.candidate} · {item.variant}" if several else item.candidate, "t": text, "cut": cut,
            "e": None if pd.isna(r["error"]) else str(r["error"]), "cx": contexts.get(item.key),
            "why": list(item.reasons), "rv": item.reviewed_by,
        })  # fmt: skip
    used = {q["set"] for q in qs}
    return {
        "run": data.plan.name, "seed": queue.seed, "n": min(PAGE_DEFAULT_N, len(items)), "format": REVIEW_FORMAT,
        "version": REVIEW_FILE_VERSION, "answers": queue.answers, "reviewed": queue.reviewed,
        "reviewers": sorted({g.reviewer for g in data.reviews}),
        "sets": {s: {"title": data.sets[s].title, "context": data.sets[s].context} for s in data.sets if s in used},
        "qs": qs, "items": items,
    }  # fmt: skip


def page_review(data: ReportData, read_contexts: ContextReader | None = None) -> dict[str, Any]:
    """The review document of ``data``'s page: the first :data:`PAGE_QUEUE_MAX` answers of the queue, with the
    contexts ``read_contexts`` gives for their keys (None: no answer contexts, e.g. a report built in memory)."""
    queue = report_queue(data, PAGE_QUEUE_MAX)
    contexts = read_contexts({i.key for i in queue.items}) if read_contexts and queue.items else {}
    return review_payload(data, queue, contexts)


def pack_review(payload: dict[str, Any]) -> str:
    """``payload`` as compact UTF-8 JSON, gzip-compressed, as base64 text (what the page unpacks).
    Raises ``ValueError`` for NaN or infinite numbers (not JSON)."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    zipper = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, GZIP_WBITS)
    return base64.b64encode(zipper.compress(text.encode("utf-8")) + zipper.flush()).decode("ascii")


def embedded_review(html: str) -> dict[str, Any]:
    """The review document inside a report page; ``ValueError`` when the page has none."""
    m = _EMBEDDED.search(html)
    if m is None:
        raise ValueError('no review document (<script type="application/gzip" id="review-data">) in the page')
    return unpack(m.group(1))
