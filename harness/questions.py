"""Load and validate question sets (YAML, one file a set) into typed records.

In YAML a rubric check is one flat mapping (``type``, optional ``weight``, and
the check's own arguments); it is reshaped into :class:`CheckSpec` here and its
arguments are validated by the check registry, so every problem carries the
line of the key it is about.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from harness.records import QuestionSet
from harness.scoring import rubric
from harness.validation import (
    InputError,
    LoadedYaml,
    PathKey,
    Problem,
    load_yaml,
    problems_from_pydantic,
)

_CHECK_COMMON = ("type", "weight")


def _reshape_checks(doc: LoadedYaml, problems: list[Problem]) -> Any:
    data = doc.data
    questions = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(questions, list):
        return data
    for i, q in enumerate(questions):
        if not isinstance(q, dict) or "checks" not in q:
            continue
        checks = q["checks"]
        if checks is None:
            q["checks"] = []
            continue
        if not isinstance(checks, list):
            continue  # pydantic reports the wrong type
        shaped = []
        for j, c in enumerate(checks):
            if not isinstance(c, dict):
                problems.append(doc.problem(("questions", i, "checks", j), "a check must be a mapping with a 'type'"))
                continue
            c = dict(c)
            spec = {k: c.pop(k) for k in _CHECK_COMMON if k in c}
            spec["args"] = c
            shaped.append(spec)
            problems.extend(_check_args_problems(spec, doc, ("questions", i, "checks", j)))
        q["checks"] = shaped
    return data


def _check_args_problems(spec: dict[str, Any], doc: LoadedYaml, at: PathKey) -> list[Problem]:
    """Check type and arguments, validated by the registry (reported even if other fields are bad)."""
    kind = spec.get("type")
    if not isinstance(kind, str):
        return []  # missing or non-string type: the record model reports it
    if kind not in rubric.REGISTRY:
        known = ", ".join(sorted(rubric.REGISTRY))
        return [doc.problem((*at, "type"), f"unknown check type {kind!r} (known: {known})")]
    try:
        rubric.REGISTRY[kind].args_model.model_validate(spec["args"])
    except ValidationError as exc:
        return problems_from_pydantic(exc, doc, prefix=at)
    return []


def _remap(loc: PathKey) -> PathKey:
    """Model path ``questions.i.checks.j.args.x`` -> YAML path ``questions.i.checks.j.x``."""
    if len(loc) >= 5 and loc[2] == "checks" and loc[4] == "args":
        return (*loc[:4], *loc[5:])
    return loc


def _semantic_problems(qs: QuestionSet, doc: LoadedYaml) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for i, q in enumerate(qs.questions):
        if q.id in seen:
            problems.append(
                doc.problem(
                    ("questions", i, "id"),
                    f"duplicate question id {q.id!r} (first at questions[{seen[q.id]}])",
                )
            )
        seen.setdefault(q.id, i)
        if not q.question.strip():
            problems.append(doc.problem(("questions", i, "question"), "question text is empty"))
    return problems


def _reference_warnings(qs: QuestionSet, doc: LoadedYaml) -> list[Problem]:
    out = []
    for i, q in enumerate(qs.questions):
        if q.reference is None or not q.checks:
            continue
        _, results = rubric.score_answer(q.checks, q.reference)
        failed = [r for r in results if not r.passed]
        if failed:
            why = "; ".join(f"{r.type}: {r.explanation}" for r in failed)
            out.append(
                doc.problem(
                    ("questions", i, "reference"),
                    f"reference answer fails its own rubric ({why})",
                    severity="warning",
                )
            )
    return out


def load_question_set(path: Path, display: str | None = None) -> tuple[QuestionSet, list[Problem]]:
    """Return the validated set and its warnings; raise :class:`InputError` on errors."""
    doc = load_yaml(path, display)
    if not isinstance(doc.data, dict):
        raise InputError([doc.problem((), "a question set must be a mapping with id, title, language, questions")])
    problems: list[Problem] = list(doc.problems)
    data = _reshape_checks(doc, problems)
    try:
        qs = QuestionSet.model_validate(data)
    except ValidationError as exc:
        raise InputError(problems + problems_from_pydantic(exc, doc, remap=_remap)) from None
    problems += _semantic_problems(qs, doc)
    if problems:
        raise InputError(problems)
    return qs, _reference_warnings(qs, doc)
