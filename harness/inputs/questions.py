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

from harness import rubric
from harness.inputs.documents.convert import read_document
from harness.inputs.documents.office import DocumentError
from harness.inputs.retrieval import squash
from harness.inputs.tools import tool_problems
from harness.records import Question, QuestionSet
from harness.rubric.registry import Evidence
from harness.validation import (
    InputError,
    LoadedYaml,
    PathKey,
    Problem,
    load_yaml,
    problems_from_pydantic,
)

_CHECK_COMMON = ("type", "weight", "critical", "optional")


def reshape_check(raw: Any, doc: LoadedYaml, at: PathKey, problems: list[Problem]) -> dict[str, Any] | None:
    """YAML's flat check mapping -> :class:`CheckSpec` shape, children of groups included.

    Problems with the check's type or arguments are collected on the way, so they
    are reported even when other parts of the file are wrong too.
    """
    if not isinstance(raw, dict):
        problems.append(doc.problem(at, "a check must be a mapping with a 'type'"))
        return None
    args = dict(raw)
    spec: dict[str, Any] = {k: args.pop(k) for k in _CHECK_COMMON if k in args}
    kind = spec.get("type")
    if not isinstance(kind, str):
        if "type" not in spec:
            problems.append(doc.problem(at, "a check needs a 'type'"))
        spec["args"] = args
        return spec  # a non-string type is reported by the record model
    if kind not in rubric.REGISTRY:
        known = ", ".join(sorted(rubric.REGISTRY))
        problems.append(doc.problem((*at, "type"), f"unknown check type {kind!r} (known: {known})"))
        spec["args"] = args
        return spec
    if "checks" in rubric.REGISTRY[kind].args_model.model_fields and isinstance(args.get("checks"), list):
        children = [reshape_check(c, doc, (*at, "checks", k), problems) for k, c in enumerate(args["checks"])]
        args["checks"] = [c for c in children if c is not None]
    spec["args"] = args
    try:
        rubric.REGISTRY[kind].args_model.model_validate(args)
    except ValidationError as exc:
        problems.extend(
            problems_from_pydantic(
                exc, doc, prefix=at, remap=_remap, model=rubric.REGISTRY[kind].args_model, extra_known=_CHECK_COMMON
            )
        )
    return spec


def _reshape_checks(doc: LoadedYaml, problems: list[Problem]) -> Any:
    data = doc.data
    questions = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(questions, list):
        return data
    for i, q in enumerate(questions):
        if not isinstance(q, dict) or "checks" not in q:
            continue
        if q["checks"] is None:
            q["checks"] = []
        elif isinstance(q["checks"], list):  # otherwise the record model reports the type
            shaped = [reshape_check(c, doc, ("questions", i, "checks", j), problems) for j, c in enumerate(q["checks"])]
            q["checks"] = [c for c in shaped if c is not None]
    return data


def _remap(loc: PathKey) -> PathKey:
    """Model path ``...checks.j.args.x`` -> YAML path ``...checks.j.x`` (checks are flat in YAML)."""
    out: list[str | int] = []
    for k, part in enumerate(loc):
        if part == "args" and k >= 2 and isinstance(loc[k - 1], int) and loc[k - 2] == "checks":
            continue
        out.append(part)
    return tuple(out)


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
        if q.source is not None and not q.source.strip():
            why = "source is blank; give a heading or phrase of the passage that holds the answer, or leave it out"
            problems.append(doc.problem(("questions", i, "source"), why))
        for j, c in enumerate(q.checks):
            if c.critical and c.optional:
                why = "a check cannot be both critical (a wrong value zeroes the answer) and optional; drop one"
                problems.append(doc.problem(("questions", i, "checks", j), why))
    used = {q.category for q in qs.questions}
    for cat, weight in qs.category_weights.items():
        if cat not in used:
            problems.append(doc.problem(("category_weights", cat), f"no question has category {cat!r}"))
        if weight <= 0:
            problems.append(doc.problem(("category_weights", cat), "weight must be greater than 0"))
    return problems


def _empty_answer_warnings(qs: QuestionSet, doc: LoadedYaml) -> list[Problem]:
    """A rubric an empty answer passes gives credit for saying nothing; one with only constraint
    checks (not_contains, max_chars, ...) can never give credit."""
    out = []
    for i, q in enumerate(qs.questions):
        if not q.checks:
            continue
        score, results = rubric.score_answer(q.checks, "", rubric_evidence(q))
        if score:
            passing = ", ".join(r.type for r in results if r.passed and not r.constraint)
            why = f"an empty answer scores {score:.2f} on this rubric ({passing} passes on no text); "
            why += "make the check recognise the right content"
            out.append(doc.problem(("questions", i, "checks"), why, severity="warning"))
        elif all(r.constraint for r in results) and not any(c.type == "faithful" for c in q.checks):
            why = "no check recognises right content (only constraints such as not_contains or max_chars): "
            why += "every answer scores 0; add e.g. contains_any, number or abstains"
            out.append(doc.problem(("questions", i, "checks"), why, severity="warning"))
    return out


def _secondary_part_warnings(qs: QuestionSet, doc: LoadedYaml) -> list[Problem]:
    """A check weighted below another, with ``optional`` not written: before the essential-parts rule an
    answer could leave it out and still count as acceptable (the weights said it was secondary); now it
    cannot. The author says which was meant by writing ``optional: true`` or ``optional: false``."""
    out = []
    for i, q in enumerate(qs.questions):
        top = max((c.weight for c in q.checks), default=0.0)
        for j, c in enumerate(q.checks):
            if c.weight < top and "optional" not in c.model_fields_set and not c.critical:
                why = (f"{c.type} (weight {c.weight:g}) is now required for an acceptable answer, as every check "
                       "not marked optional is; write 'optional: true' if an answer may leave it out, "
                       "'optional: false' to keep it required")  # fmt: skip
                out.append(doc.problem(("questions", i, "checks", j), why, severity="warning"))
    return out


def rubric_evidence(q: Question) -> Evidence:
    """What the checks know of ``q`` when an author's text (its reference, an empty answer) is scored."""
    return Evidence(None, None, q.question, q.reference or "")


def _question_value_warnings(qs: QuestionSet, doc: LoadedYaml) -> list[Problem]:
    """A ``contains_all`` / ``contains_any`` value (or synonym) that the question itself holds: every answer
    that repeats the question holds it too, so the check cannot tell a right answer from an echo (words copied
    from the question earn nothing, and a right answer that restates the question in its words may earn
    nothing either). Groups are searched too; a value is looked for as the check would, without negation."""
    from harness.rubric.checks_text import find_phrase

    out = []

    def walk(checks: list[Any], at: PathKey, question: str) -> None:
        for j, c in enumerate(checks):
            kind, args = (c.get("type"), c.get("args", {})) if isinstance(c, dict) else (c.type, c.args)
            if isinstance(args.get("checks"), list):
                walk(args["checks"], (*at, j, "checks"), question)
            if kind not in ("contains_all", "contains_any"):
                continue
            for value in args.get("values", []):
                for s in [value] if isinstance(value, str) else value:
                    if isinstance(s, str) and find_phrase(question, s, args.get("case_sensitive", False), False):
                        why = (f"the value {s!r} appears in the question; an answer that repeats the question would "
                               "match it, so a copy of the question's words around it earns nothing: use a value "
                               "the question does not hold (the answer's own words or figure)")  # fmt: skip
                        out.append(doc.problem((*at, j), why, severity="warning"))

    for i, q in enumerate(qs.questions):
        walk(q.checks, ("questions", i, "checks"), q.question)
    return out


def _reference_warnings(qs: QuestionSet, doc: LoadedYaml) -> list[Problem]:
    out = _empty_answer_warnings(qs, doc) + _secondary_part_warnings(qs, doc) + _question_value_warnings(qs, doc)
    for i, q in enumerate(qs.questions):
        if q.reference is None or not q.checks:
            continue
        _, results = rubric.score_answer(q.checks, q.reference, rubric_evidence(q))
        failed = [r for r in results if not r.passed and not r.optional]  # a reference may leave out an optional part
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


def load_question_set(
    path: Path, display: str | None = None, *, warnings: bool = True
) -> tuple[QuestionSet, list[Problem]]:
    """Return the validated set and its warnings; raise :class:`InputError` on errors.

    ``warnings=False`` skips the rubric warnings (every reference answer scored against its own
    checks: a second per 2,000 questions) for a reader that does not show them, such as a run's
    scoring and report, which read sets already validated when the run started.
    """
    doc = load_yaml(path, display)
    if not isinstance(doc.data, dict):
        raise InputError([doc.problem((), "a question set must be a mapping with id, title, language, questions")])
    problems: list[Problem] = list(doc.problems)
    data = _reshape_checks(doc, problems)
    try:
        qs = QuestionSet.model_validate(data)
    except ValidationError as exc:
        raise InputError(problems + problems_from_pydantic(exc, doc, remap=_remap, model=QuestionSet)) from None
    tools = tool_problems(qs, doc)
    problems += _semantic_problems(qs, doc) + _document_problems(qs, doc, path)
    problems += [p for p in tools if p.severity == "error"]
    if problems:
        raise InputError(problems)
    return qs, _reference_warnings(qs, doc) + [p for p in tools if p.severity == "warning"] if warnings else []


def _document_problems(qs: QuestionSet, doc: LoadedYaml, path: Path) -> list[Problem]:
    """Every ``documents`` file must be readable (UTF-8 .md/.txt, or a .docx/.pdf/.html/.xlsx that converts: converted
    here once, so the run finds it in the cache) in or under the set's folder (a set cannot make the
    harness read, and send to a model, a file elsewhere: ``../../etc/passwd`` and symlinks out are refused),
    and each ``source`` must occur in one of them."""
    out, texts = [], []
    folder = path.parent.resolve()
    for i, rel in enumerate(qs.documents):
        f = (path.parent / rel).resolve()
        if not f.is_relative_to(folder):
            out.append(doc.problem(("documents", i), f"document {rel} is outside this set's folder; "
                                   "a question set may only read files in or under its own folder: move the file "
                                   "there, or name its folder as the plan's knowledge_base"))  # fmt: skip
            continue
        try:
            texts.append(read_document(f).markdown)
        except FileNotFoundError:
            out.append(doc.problem(("documents", i), f"document {rel} not found (paths are relative to this file)"))
        except IsADirectoryError:
            out.append(doc.problem(("documents", i), f"document {rel} is a folder; list the files in it"))
        except OSError as exc:
            out.append(doc.problem(("documents", i), f"cannot read document {rel} ({exc.strerror})"))
        except DocumentError as exc:
            out.append(doc.problem(("documents", i), f"document {rel}: {exc}"))
    if out or not texts:
        return out
    whole = squash("\n".join(texts))
    for i, q in enumerate(qs.questions):
        if q.source is not None and squash(q.source) not in whole:
            out.append(doc.problem(("questions", i, "source"), f"{q.source!r} does not appear in the set's documents"))
    return out


def spread_questions(qs: QuestionSet, limit: int | None) -> QuestionSet:
    """``limit`` questions of the set spread over its categories (``sampling.questions_per_set``).

    Categories take turns in the order they first appear, each giving its next question
    in file order; the chosen questions keep the file's order. So a quick run still
    covers every category it can, instead of the first category only. None: the whole set.
    """
    if limit is None or limit >= len(qs.questions):
        return qs
    by_category: dict[str, list[str]] = {}
    for q in qs.questions:
        by_category.setdefault(q.category, []).append(q.id)
    chosen: set[str] = set()
    depth = 0
    while len(chosen) < limit:
        for ids in by_category.values():
            if depth < len(ids) and len(chosen) < limit:
                chosen.add(ids[depth])
        depth += 1
    return qs.model_copy(update={"questions": [q for q in qs.questions if q.id in chosen]})
