"""How far the rubric's verdicts agree with a careful grader's, on the grading book.

The book (``tests/data/grading_book/*.yaml``, format in its README.md) holds questions as a
business user asks them, their rubric as a set author writes it, and answers graded by hand:
``acceptable`` is the grader's verdict. Each answer is scored with ``rubric.score_answer``
(the question and reference passed as ``Evidence``) and judged with ``rubric.verdict``; where
that is None (every content check optional) the score decides, acceptable at >= 0.5.

A file whose checks are not all known to the registry (a check type not yet built, or
arguments the type does not accept yet) is left out and named, not counted as agreeing.

    .venv/bin/python scripts/grading_book_report.py [--book DIR] [--brief]

Prints agreement overall, per language, per file and per kind (with how the disagreements go:
the rubric too lenient or too strict), then each disagreement with every check's explanation
(``--brief``: without them). Exit 0 always: this is a report, ``scripts/tests/test_grading_book.py``
asserts the threshold.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from harness import rubric  # noqa: E402
from harness.records import CheckResult, CheckSpec  # noqa: E402
from harness.rubric.registry import Evidence  # noqa: E402

BOOK = REPO / "tests" / "data" / "grading_book"
PASS_SCORE = 0.5
"""Score at which an answer counts as acceptable when ``verdict`` leaves it open (None)."""


@dataclass(frozen=True)
class Entry:
    """One graded answer of the book."""

    file: str
    question: str
    lang: str
    """``zh`` or ``en``."""
    reference: str
    checks: list[dict[str, Any]]
    """The rubric as written in a question set (flat mappings)."""
    answer: str
    acceptable: bool
    """The careful grader's verdict."""
    why: str
    kind: str


@dataclass(frozen=True)
class Graded:
    entry: Entry
    score: float | None
    rubric_acceptable: bool
    results: list[CheckResult] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return self.rubric_acceptable == self.entry.acceptable


def load_file(path: Path) -> list[Entry]:
    """The entries of one book file: each answer of each question group."""
    groups = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    out = []
    for g in groups:
        for a in g["answers"]:
            out.append(
                Entry(
                    file=path.name,
                    question=g["question"],
                    lang=g["lang"],
                    reference=g.get("reference", ""),
                    checks=g["checks"],
                    answer=a["answer"],
                    acceptable=a["acceptable"],
                    why=a["why"],
                    kind=a["kind"],
                )
            )
    return out


def book_files(book: Path = BOOK) -> list[Path]:
    return sorted(book.glob("*.yaml"))


def to_spec(check: dict[str, Any]) -> CheckSpec:
    """A check as written in a question set (flat mapping) -> CheckSpec, groups included."""
    args = dict(check)
    out = {k: args.pop(k) for k in ("type", "weight", "critical", "optional") if k in args}
    if isinstance(args.get("checks"), list):
        args["checks"] = [to_spec(c).model_dump() for c in args["checks"]]
    return CheckSpec.model_validate({**out, "args": args})


def unsupported(check: dict[str, Any]) -> list[str]:
    """Why the registry cannot run this check yet (empty when it can), children included."""
    kind = check.get("type")
    if kind not in rubric.REGISTRY:
        return [f"check type {kind!r} is not registered"]
    reasons = [r for c in check.get("checks", []) or [] for r in unsupported(c)]
    if reasons:
        return reasons
    try:
        rubric.parse_args(to_spec(check))
    except ValidationError as exc:
        first = exc.errors()[0]
        return [f"{kind} does not accept {first.get('input')!r} ({first.get('msg')})"]
    return []


def file_gaps(entries: list[Entry]) -> list[str]:
    """Distinct reasons the registry cannot run some check of these entries."""
    seen: dict[str, None] = {}
    for e in entries:
        for c in e.checks:
            for r in unsupported(c):
                seen.setdefault(r)
    return list(seen)


def grade(entry: Entry) -> Graded:
    checks = [to_spec(c) for c in entry.checks]
    evidence = Evidence(None, None, entry.question, entry.reference)
    score, results = rubric.score_answer(checks, entry.answer, evidence)
    decided = rubric.verdict(results)
    ok = decided if decided is not None else (score is not None and score >= PASS_SCORE)
    return Graded(entry, score, ok, results)


def load_book(book: Path = BOOK) -> tuple[list[Entry], dict[str, list[str]]]:
    """Entries of every file the registry can run, and ``{file: reasons}`` for those left out."""
    entries: list[Entry] = []
    left_out: dict[str, list[str]] = {}
    for path in book_files(book):
        file_entries = load_file(path)
        gaps = file_gaps(file_entries)
        if gaps:
            left_out[path.name] = gaps
        else:
            entries.extend(file_entries)
    return entries, left_out


def agreement(graded: list[Graded], key: Any) -> dict[str, tuple[int, int]]:
    """``{group: (agreeing, total)}`` with the groups ``key(graded)`` gives."""
    table: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for g in graded:
        row = table[key(g)]
        row[0] += g.agrees
        row[1] += 1
    return {k: (v[0], v[1]) for k, v in sorted(table.items())}


def format_table(title: str, table: dict[str, tuple[int, int]]) -> str:
    width = max([len(title), *(len(k) for k in table)])
    lines = [f"{title:<{width}}  agree  total  share"]
    for k, (a, n) in table.items():
        lines.append(f"{k:<{width}}  {a:>5}  {n:>5}  {a / n:6.1%}")
    return "\n".join(lines)


def kind_table(graded: list[Graded]) -> str:
    """Per kind: agreement, and how the disagreements go (rubric too lenient / too strict)."""
    rows: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for g in graded:
        r = rows[g.entry.kind]
        r[0] += g.agrees
        r[1] += 1
        r[2] += (not g.agrees) and g.rubric_acceptable
        r[3] += (not g.agrees) and not g.rubric_acceptable
    width = max(len("kind"), *(len(k) for k in rows))
    lines = [f"{'kind':<{width}}  agree  total  share   too lenient  too strict"]
    for k, (a, n, lenient, strict) in sorted(rows.items()):
        lines.append(f"{k:<{width}}  {a:>5}  {n:>5}  {a / n:6.1%}  {lenient:>11}  {strict:>10}")
    return "\n".join(lines)


def describe(g: Graded, explain: bool = True) -> str:
    e = g.entry
    want = "acceptable" if e.acceptable else "not acceptable"
    got = "acceptable" if g.rubric_acceptable else "not acceptable"
    score = "n/a" if g.score is None else f"{g.score:.2f}"
    lines = [
        f"[{e.file} · {e.lang} · {e.kind}] Q: {e.question}",
        f"    A: {e.answer!r}",
        f"    grader: {want} ({e.why}); rubric: {got} (score {score})",
    ]
    if explain:
        for r in g.results:
            flags = "".join([" critical" if r.critical else "", " optional" if r.optional else ""])
            lines.append(f"      - {r.type}{flags}: {'pass' if r.passed else 'fail'} {r.score:.2f}: {r.explanation}")
    return "\n".join(lines)


def report(graded: list[Graded], left_out: dict[str, list[str]], explain: bool = True) -> str:
    total = len(graded)
    agree = sum(g.agrees for g in graded)
    parts = [f"grading book: {agree}/{total} agree ({agree / total:.1%})" if total else "grading book: no entries"]
    for name, reasons in left_out.items():
        parts.append(f"left out {name}: " + "; ".join(reasons))
    parts.append(format_table("language", agreement(graded, lambda g: g.entry.lang)))
    parts.append(format_table("file", agreement(graded, lambda g: g.entry.file)))
    parts.append(kind_table(graded))
    wrong = [g for g in graded if not g.agrees]
    parts.append(f"disagreements ({len(wrong)}):")
    parts.extend(describe(g, explain) for g in wrong)
    return "\n\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--book", type=Path, default=BOOK, help="folder of book files (default: %(default)s)")
    parser.add_argument("--brief", action="store_true", help="disagreements without each check's explanation")
    args = parser.parse_args()
    entries, left_out = load_book(args.book)
    print(report([grade(e) for e in entries], left_out, explain=not args.brief))


if __name__ == "__main__":
    main()
