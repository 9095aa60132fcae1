"""The review file: one reviewer's grades of a run's answers, as the report page exports them (docs/review.md).

Shape (JSON, UTF-8)::

    {"format": "harness-review", "version": 1, "run": "<plan name>", "reviewer": "<name>", "blind": true,
     "exported_at": "<ISO 8601>",
     "grades": [{"key": "<generation key>", "sha256": "<answer_sha256>", "acceptable": true,
                 "grade": 7 | null, "note": "", "at": "<ISO 8601>"}]}

:func:`parse_review_file` reads one into a :class:`ReviewFile` and says, one line each, what is wrong
with it on its own (format, types, the grade's scale). Whether its keys and hashes fit a run is
:mod:`harness.review.intake`'s part. :func:`review_file_json` writes one (the Label Studio import does).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from harness.records import GRADE_MAX, GRADE_MIN, REVIEW_FILE_VERSION, REVIEW_FORMAT

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


class ReviewError(Exception):
    """A review input (run, queue, export) cannot be used; the message names the file and what to do."""


@dataclass(frozen=True)
class GradeEntry:
    """One well-formed line of ``grades``: ``index`` is its place in the file (for messages)."""

    index: int
    key: str
    sha256: str
    acceptable: bool
    grade: int | None
    note: str
    at: str | None


@dataclass(frozen=True)
class ReviewFile:
    """A review file as read: its header, the grades that are well-formed, and a line per problem.

    ``problems`` are full lines (``NAME: grades[3] (key K): ...``); a file with any is refused whole.
    """

    name: str
    run: str | None
    reviewer: str | None
    blind: bool
    grades: list[GradeEntry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _where(name: str, index: int, key: object) -> str:
    return f"{name}: grades[{index}]" + (f" (key {key})" if isinstance(key, str) and key else "")


def _is_grade(value: object) -> bool:
    """An integer on the 1..10 scale; ``True`` and ``7.5`` are not (JSON has no int type of its own)."""
    return isinstance(value, int) and not isinstance(value, bool) and GRADE_MIN <= value <= GRADE_MAX


def _entry(name: str, index: int, raw: object, problems: list[str]) -> GradeEntry | None:
    """One line of ``grades``, checked on its own; None (with problems added) when malformed."""
    if not isinstance(raw, dict):
        problems.append(f"{name}: grades[{index}]: must be an object with key, sha256 and acceptable")
        return None
    key, where, before = raw.get("key"), _where(name, index, raw.get("key")), len(problems)
    if not isinstance(key, str) or not key:
        problems.append(f"{where}: key: missing or not a text")
    sha = raw.get("sha256")
    if not isinstance(sha, str) or not SHA256_HEX.match(sha):
        problems.append(f"{where}: sha256: missing or not 64 lowercase hex digits")
    acceptable = raw.get("acceptable")
    if not isinstance(acceptable, bool):
        problems.append(f"{where}: acceptable: {json.dumps(acceptable)} is not true or false")
    grade = raw.get("grade")
    if grade is not None and not _is_grade(grade):
        problems.append(
            f"{where}: grade: {json.dumps(grade)} is off the scale (an integer {GRADE_MIN}..{GRADE_MAX}, or null)"
        )
    note, at = raw.get("note", ""), raw.get("at")
    if not isinstance(note, str):
        problems.append(f"{where}: note: must be a text")
    if at is not None and not isinstance(at, str):
        problems.append(f"{where}: at: must be an ISO 8601 time as text")
    if len(problems) > before:
        return None
    assert isinstance(key, str) and isinstance(sha, str) and isinstance(acceptable, bool)
    assert isinstance(note, str) and (at is None or isinstance(at, str))
    return GradeEntry(index, key, sha, acceptable, grade, note, at)


def parse_review_file(name: str, data: bytes) -> ReviewFile:
    """Read a review file's bytes (``name`` leads every problem line); never raises on bad input.

    Refused whole (``problems`` not empty): not UTF-8, not JSON, not an object, ``format`` not
    ``harness-review``, ``version`` not 1, ``reviewer`` missing or empty, ``run`` or ``blind`` of the
    wrong type, ``grades`` not a list, or any malformed grade (see :func:`_entry`).
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return ReviewFile(
            name, None, None, True, problems=[f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})"]
        )
    try:
        doc: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        return ReviewFile(name, None, None, True, problems=[f"{name}:{exc.lineno}: not valid JSON ({exc.msg})"])
    if not isinstance(doc, dict):
        return ReviewFile(name, None, None, True,
                          problems=[f"{name}: a review file is a JSON object, not {type(doc).__name__}"])  # fmt: skip
    problems: list[str] = []
    if doc.get("format") != REVIEW_FORMAT:
        problems.append(f"{name}: format: {json.dumps(doc.get('format'))} is not {json.dumps(REVIEW_FORMAT)}")
    elif doc.get("version") != REVIEW_FILE_VERSION or isinstance(doc.get("version"), bool):
        problems.append(
            f"{name}: version: {json.dumps(doc.get('version'))} is not {REVIEW_FILE_VERSION}; "
            "export it again from this harness's report"
        )
    reviewer = doc.get("reviewer")
    if not isinstance(reviewer, str) or not reviewer.strip():
        problems.append(f"{name}: reviewer: missing or empty; give the reviewer's name")
    run = doc.get("run")
    if run is not None and not isinstance(run, str):
        problems.append(f"{name}: run: must be the run's plan name as text")
    blind = doc.get("blind", True)
    if not isinstance(blind, bool):
        problems.append(f"{name}: blind: {json.dumps(blind)} is not true or false")
    raw_grades = doc.get("grades")
    entries: list[GradeEntry] = []
    if not isinstance(raw_grades, list):
        problems.append(f"{name}: grades: must be a list of grades")
    else:
        entries = [e for i, g in enumerate(raw_grades) if (e := _entry(name, i, g, problems)) is not None]
    return ReviewFile(
        name=name,
        run=run if isinstance(run, str) else None,
        reviewer=reviewer.strip() if isinstance(reviewer, str) and reviewer.strip() else None,
        blind=blind if isinstance(blind, bool) else True,
        grades=entries,
        problems=problems,
    )


def review_file_json(run: str, reviewer: str, blind: bool, exported_at: str, grades: list[dict[str, Any]]) -> str:
    """A review file's text (the shape above); ``grades`` are dicts with key, sha256, acceptable, grade, note, at."""
    doc = {"format": REVIEW_FORMAT, "version": REVIEW_FILE_VERSION, "run": run, "reviewer": reviewer,
           "blind": blind, "exported_at": exported_at, "grades": grades}  # fmt: skip
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"
