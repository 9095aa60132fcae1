"""Grade BFCL's own possible answers with the harness's call grader: does our grammar say what BFCL's does?

For each line of a BFCL data file and its possible-answer file (read by :func:`harness.inputs.bfcl.read_bfcl`,
graded by :func:`harness.rubric.tool_calls.grade_calls`):

- **right**: the model's calls built from the *raw* answer, independently of the reader: each argument's first
  acceptable value (``""``, "may be left out", skipped; a ``dict`` value's own acceptable lists likewise) must
  grade ``right``;
- **perturbed**: one change to the first call must grade ``wrong_call`` with the argument error it makes:
  another value of the same type that is not acceptable and does not make the call a copy of another
  expected call (``wrong_value``), a required argument the answer does
  not let be left out dropped (``missing``), an argument the function does not declare added (``invented``).

Usage (nothing is downloaded; point it at a checkout of ShishirPatil/gorilla's
``berkeley-function-call-leaderboard/bfcl_eval/data``)::

    python scripts/bfcl_crosscheck.py DATA_DIR [simple_python multiple parallel]

prints, per category, how many lines grade right and how many perturbations grade as expected, then every
exception with its id and the grader's reason. Exit status 1 when any exception is found.
tests/inputs/test_tools_bfcl.py runs the same checks on the sample lines in tests/data/bfcl/.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.inputs.bfcl import read_bfcl, tool_name
from harness.records import Question
from harness.rubric.tool_calls import CallGrade, grade_calls

UNDECLARED = "zz_not_declared"
"""The name of the argument a perturbation adds; no BFCL function declares it."""
_OMIT = object()


def first_value(values: list[Any], schema: dict[str, Any]) -> Any:
    """An argument's first acceptable value as a model would pass it (``_OMIT``: ``[""]``, left out).

    ``schema`` is the BFCL parameter schema: a ``dict`` value of a ``dict`` parameter holds acceptable lists
    of its own (BFCL's ``dict_checker``), as does each dict of a list of dicts (``list_dict_checker``)."""
    for v in values:
        if isinstance(v, str) and v == "":
            continue
        return _concrete(v, schema)
    return _OMIT


def _concrete(v: Any, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "dict" and isinstance(v, dict):
        props = schema.get("properties") or {}
        picked = {k: first_value(vals, props.get(k, {})) for k, vals in v.items() if isinstance(vals, list)}
        return {k: x for k, x in picked.items() if x is not _OMIT}
    items = schema.get("items") or {}
    dicts = isinstance(v, list) and v and all(isinstance(d, dict) for d in v)
    if kind in ("array", "list", "tuple") and dicts and items.get("type") == "dict":
        return [_concrete(d, items) for d in v]
    return v


def answer_calls(truth: list[dict[str, Any]], functions: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """The ground truth's calls as a model makes them: (tool name, arguments), first acceptable values."""
    schemas = {f["name"]: f.get("parameters", {}) for f in functions}
    out = []
    for call in truth:
        ((fname, args),) = call.items()
        props = schemas[fname].get("properties", {})
        picked = {k: first_value(vals, props.get(k, {})) for k, vals in args.items()}
        out.append((tool_name(fname), {k: v for k, v in picked.items() if v is not _OMIT}))
    return out


def other_value(acceptable: list[Any], schema: dict[str, Any]) -> Any:
    """A value of the parameter's type that none of ``acceptable`` is (``_OMIT``: none found for the type)."""
    given = [v for v in acceptable if not (isinstance(v, str) and v == "")]
    if not given:
        return _OMIT
    enum = schema.get("enum")
    if isinstance(enum, list):
        rest = [e for e in enum if e not in given]
        return rest[0] if rest else _OMIT
    v = given[0]
    if isinstance(v, bool):
        return _OMIT if (not v) in given else (not v)
    if isinstance(v, int | float):
        nums = [abs(x) for x in given if isinstance(x, int | float) and not isinstance(x, bool)]
        bump = max(nums) + 1000
        return bump + 0.5 if schema.get("type") == "float" else bump
    if isinstance(v, str) and schema.get("format") in ("date", "date-time"):
        return "1999-01-01"  # another date: the grader reads the date a string writes, wherever it stands
    if isinstance(v, str):
        return f"zz{v}zz-other"
    return _OMIT


@dataclass(frozen=True)
class Case:
    """One graded case: the question, what it checks, the outcome and error kind expected, and the grade."""

    qid: str
    check: str
    """``right``, ``wrong_value ARG``, ``missing ARG`` or ``invented``."""
    want_kind: str | None
    grade: CallGrade

    @property
    def ok(self) -> bool:
        if self.want_kind is None:
            return self.grade.outcome == "right"
        return self.grade.outcome == "wrong_call" and self.want_kind in {e.kind for e in self.grade.arg_errors}


def cases(q: Question, line: dict[str, Any], truth: list[dict[str, Any]]) -> Iterator[Case]:
    """The right case and each perturbation of the first call (:func:`other_value`, a required argument
    dropped, an undeclared one added) for one BFCL line and its ground truth."""
    functions = line["function"]
    calls = answer_calls(truth, functions)

    def grade(made: list[tuple[str, dict[str, Any]]]) -> CallGrade:
        return grade_calls(q.tools, q.expect_call, q.no_call, [(n, json.dumps(a)) for n, a in made])

    yield Case(q.id, "right", None, grade(calls))
    ((fname, args),) = truth[0].items()
    params = next(f for f in functions if f["name"] == fname).get("parameters", {})
    props = params.get("properties", {})
    name, made = calls[0]
    for arg, vals in args.items():
        other = other_value(vals, props.get(arg, {}))
        if other is not _OMIT and arg in made and (name, {**made, arg: other}) not in calls:
            # not a copy of another expected call (parallel_137's other sort order): that is a duplicate
            yield Case(q.id, f"wrong_value {arg}", "wrong_value", grade([(name, {**made, arg: other}), *calls[1:]]))
            break
    needed = [r for r in params.get("required", []) if r in made and "" not in args.get(r, [""])]
    if needed:
        dropped = {k: v for k, v in made.items() if k != needed[0]}
        yield Case(q.id, f"missing {needed[0]}", "missing", grade([(name, dropped), *calls[1:]]))
    yield Case(q.id, "invented", "invented", grade([(name, {**made, UNDECLARED: 1}), *calls[1:]]))


def check_files(data: Path, answers: Path) -> list[Case]:
    """Every case of every line of a data file and its answers."""
    imported = read_bfcl(data, answers).question_set
    lines = {o["id"]: o for o in map(json.loads, data.read_text(encoding="utf-8").splitlines()) if o}
    truths = {o["id"]: o["ground_truth"] for o in map(json.loads, answers.read_text(encoding="utf-8").splitlines())}
    return [c for q in imported.questions for c in cases(q, lines[q.id], truths[q.id])]


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    root = Path(argv[0])
    failed = 0
    for cat in argv[1:] or ["simple_python", "multiple", "parallel"]:
        name = f"BFCL_v4_{cat}.json"
        found = check_files(root / name, root / "possible_answer" / name)
        right = [c for c in found if c.want_kind is None]
        perturbed = [c for c in found if c.want_kind is not None]
        print(f"{cat}: {sum(c.ok for c in right)} of {len(right)} lines grade right; {sum(c.ok for c in perturbed)} "
              f"of {len(perturbed)} perturbations grade wrong_call with their error")  # fmt: skip
        for c in found:
            if not c.ok:
                failed += 1
                print(f"  {c.qid} {c.check}: {c.grade.outcome}: {c.grade.reason}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
