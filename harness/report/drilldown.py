"""The per-question drill-down as data: one JSON document that the page renders lazily.

Writing every answer of 20 models x 2,000 questions x 5 samples as HTML would make
a page no browser opens quickly; instead the answers travel as JSON inside the page
and a small script draws one page of questions at a time, with filters. The script
writes model output with ``textContent`` only, and the JSON is escaped so that no
answer can close its ``<script>`` element (see :func:`script_json`).
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from harness.records import Judgment, QuestionSet, Score

_SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def script_json(payload: Any) -> str:
    """JSON safe to place inside ``<script type="application/json">``: no ``</script>``, ``<!--`` or line separators."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for raw, escaped in _SCRIPT_ESCAPES.items():
        text = text.replace(raw, escaped)
    return text


def _num(value: Any) -> float | None:
    return None if pd.isna(value) else round(float(value), 4)


def _flag(value: Any) -> bool | None:
    return None if pd.isna(value) else bool(value)


def _str(value: Any) -> str | None:
    """Text from a frame cell: pandas keeps a missing string as NaN."""
    return None if pd.isna(value) else str(value)


def _thinking(row: Any) -> dict[str, Any]:
    """The answer's thinking for the drill-down (folded under the answer), only when it has some."""
    if pd.isna(row.reasoning) and not row.cut_off:
        return {}
    tokens = None if pd.isna(row.reasoning_tokens) else int(row.reasoning_tokens)
    return {"r": [_str(row.reasoning) or "", tokens, bool(row.cut_off)]}


def drilldown_payload(
    sets: dict[str, QuestionSet], names: list[str], answers: pd.DataFrame, scores: list[Score],
    stability: pd.DataFrame, judged: dict[str, Judgment], threshold: float,
) -> dict[str, Any]:  # fmt: skip
    """Questions in set order, each with every candidate's samples, check results, judge verdict and status.

    Answer entries are ``{s: sample, t: text, ok, e: error, sc: score, ck: [[type, passed, critical,
    explanation]], j: [grade, parsed, reply], cx: [passage ids, source found, faithfulness],
    r: [thinking, thinking tokens, cut off while thinking]}`` (``r`` only for answers with thinking);
    ``status[i]`` is column i's stability status.
    """
    column = {n: i for i, n in enumerate(names)}
    checks = {s.key: [[c.type, c.passed, c.critical, c.explanation] for c in s.checks] for s in scores}
    cells: dict[tuple[str, str], list[list[dict[str, Any]]]] = {}
    for row in answers.itertuples(index=False):
        if row.candidate not in column:
            continue
        slot = cells.setdefault((row.set_id, row.question_id), [[] for _ in names])
        j = judged.get(row.key)
        slot[column[row.candidate]].append({
            "s": int(row.sample), "t": _str(row.text), "ok": bool(row.ok), "e": _str(row.error),
            "sc": _num(row.score),
            "ck": checks.get(row.key, []),
            "j": [_num(j.score), j.parsed, j.raw] if j is not None else None,
            "cx": [list(row.context_ids), _flag(row.context_hit), _num(row.faithful)]
            if isinstance(row.context_ids, list)
            else None,
            **_thinking(row),
        })  # fmt: skip
    status: dict[tuple[str, str], list[Any]] = {}
    qscore: dict[tuple[str, str], list[Any]] = {}
    for st in stability.itertuples(index=False):
        key = (st.set_id, st.question_id)
        status.setdefault(key, [None] * len(names))[column[st.candidate]] = [st.status, int(st.c), int(st.n)]
        qscore.setdefault(key, [None] * len(names))[column[st.candidate]] = _num(st.score)
    questions = []
    for qs in sets.values():
        for q in qs.questions:
            key = (qs.id, q.id)
            samples = cells.get(key, [[] for _ in names])
            for cell in samples:
                cell.sort(key=lambda a: a["s"])
            questions.append({
                "set": qs.id, "id": q.id, "cat": q.category, "q": q.question, "ref": q.reference, "w": q.weight,
                "status": status.get(key, [None] * len(names)), "score": qscore.get(key, [None] * len(names)),
                "answers": samples,
            })  # fmt: skip
    categories = sorted({q.category for qs in sets.values() for q in qs.questions})
    return {"models": names, "threshold": threshold, "categories": categories,
            "sets": list(sets), "questions": questions}  # fmt: skip
