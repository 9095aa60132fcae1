"""``harness review add``: review files checked against a run, and their grades merged into its reviews.

Each file is checked whole against the run as it is now: every key must name one of its answers,
every ``sha256`` must be :func:`~harness.records.answer_sha256` of that answer's text today, and a
reviewer may not grade one answer two ways (within the file, across the files of one call, or
against what the run already holds). A file with any problem is refused whole, one line per
problem; the good files of the same call are still added. Identical repeats are not problems:
adding a file twice adds nothing the second time.

A grade's *verdict* is ``acceptable``, ``grade`` and ``note``; two grades of one answer by one
reviewer that agree on the verdict are the same grade (the first one kept), whatever their times.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.records import HumanGrade, answer_sha256
from harness.review.reviewfile import GradeEntry, ReviewFile, parse_review_file
from harness.rundir import RunDir, require_manifest

Verdict = tuple[bool, int | None, str]


@dataclass(frozen=True)
class FileOutcome:
    """What became of one review file: ``new`` grades added, ``unchanged`` already held, or refused."""

    path: Path
    reviewer: str | None
    new: int
    unchanged: int
    problems: list[str]

    @property
    def refused(self) -> bool:
        return bool(self.problems)


@dataclass(frozen=True)
class IntakeResult:
    """Every file's outcome, in the order given, and the run's grades after the call (sorted)."""

    files: list[FileOutcome]
    grades: list[HumanGrade]
    written: bool
    """Whether the run's reviews were rewritten (only when some grade was new)."""

    @property
    def refused(self) -> list[FileOutcome]:
        return [f for f in self.files if f.refused]

    @property
    def new(self) -> int:
        return sum(f.new for f in self.files)


def run_answers(run_dir: Path) -> dict[str, str]:
    """Key -> :func:`answer_sha256` of each answer of the run (``Generation.answer``: no thinking)."""
    return {g.key: answer_sha256(g.answer) for g in RunDir(run_dir).iter_generations()}


def _verdict(g: HumanGrade | GradeEntry) -> Verdict:
    return (g.acceptable, g.grade, g.note)


def _describe(v: Verdict) -> str:
    acceptable, grade, note = v
    text = ("acceptable" if acceptable else "not acceptable") + (f", grade {grade}" if grade is not None else "")
    return text + (f", note {note!r}" if note else "")


def check_file(
    rf: ReviewFile, answers: Mapping[str, str], plan_name: str, held: Mapping[tuple[str, str], HumanGrade]
) -> list[str]:
    """The problems of ``rf`` against the run (``answers`` from :func:`run_answers`) and the grades ``held``.

    ``held`` maps (reviewer, key) to the grade the run holds (or an earlier file of this call added).
    Returns full lines, ``rf.problems`` first; empty when the file can be added.
    """
    problems = list(rf.problems)
    if rf.run is not None and rf.run != plan_name:
        problems.append(f"{rf.name}: run: the file grades run {rf.run!r}, not this run ({plan_name!r})")
    seen: dict[str, GradeEntry] = {}
    for e in rf.grades:
        where = f"{rf.name}: grades[{e.index}] (key {e.key})"
        if e.key not in answers:
            problems.append(f"{where}: not an answer of this run")
            continue
        if e.sha256 != answers[e.key]:
            problems.append(
                f"{where}: the answer's text has changed since it was graded (its sha256 is not the run's "
                "answer's now); grade the answer again"
            )
        first = seen.setdefault(e.key, e)
        if first is not e and _verdict(first) != _verdict(e):
            problems.append(
                f"{where}: graded again by {rf.reviewer} with another verdict ({_describe(_verdict(e))}) "
                f"than grades[{first.index}] ({_describe(_verdict(first))})"
            )
        before = held.get((rf.reviewer or "", e.key))
        if before is not None and _verdict(before) != _verdict(e):
            problems.append(
                f"{where}: {rf.reviewer} graded this answer before with another verdict "
                f"({_describe(_verdict(before))}, from {before.source or 'an earlier file'}) than now "
                f"({_describe(_verdict(e))})"
            )
    return problems


def _grade(rf: ReviewFile, e: GradeEntry, source: str) -> HumanGrade:
    assert rf.reviewer is not None
    return HumanGrade(key=e.key, text_sha256=e.sha256, reviewer=rf.reviewer, acceptable=e.acceptable,
                      grade=e.grade, note=e.note, graded_at=e.at, blind=rf.blind, source=source)  # fmt: skip


def merge(
    files: Iterable[tuple[Path, ReviewFile]], answers: Mapping[str, str], plan_name: str, held: list[HumanGrade]
) -> tuple[list[FileOutcome], list[HumanGrade]]:
    """Check each file in turn and add the good ones to ``held``; pure (nothing read or written).

    Returns each file's outcome and the merged grades, sorted by (reviewer, key): one per reviewer
    and answer. A later file is checked against the earlier good ones of the same call.
    """
    by_pair = {(g.reviewer, g.key): g for g in held}
    outcomes = []
    for path, rf in files:
        problems = check_file(rf, answers, plan_name, by_pair)
        if problems:
            outcomes.append(FileOutcome(path, rf.reviewer, 0, 0, problems))
            continue
        new = unchanged = 0
        for e in rf.grades:
            pair = (rf.reviewer or "", e.key)
            if pair in by_pair:
                unchanged += 1
            else:
                by_pair[pair] = _grade(rf, e, path.name)
                new += 1
        outcomes.append(FileOutcome(path, rf.reviewer, new, unchanged, []))
    return outcomes, sorted(by_pair.values(), key=lambda g: (g.reviewer, g.key))


def read_review_files(paths: Iterable[Path]) -> list[tuple[Path, ReviewFile]]:
    """Each path's :class:`ReviewFile`; a file that cannot be read is one with that problem."""
    out = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            problem = f"{path}: cannot read ({exc.strerror})"
            out.append((path, ReviewFile(str(path), None, None, True, problems=[problem])))
            continue
        out.append((path, parse_review_file(str(path), data)))
    return out


def add_reviews(run_dir: Path, paths: list[Path]) -> IntakeResult:
    """Check the review files at ``paths`` against the run in ``run_dir`` and add the good ones.

    The run's reviews are replaced atomically (:meth:`RunDir.write_reviews`: a crash leaves the old
    file whole), and only when some grade is new. Raises :class:`~harness.rundir.RunDirError` when
    ``run_dir`` is not a run directory; problems with the files are in the result, never raised.
    """
    manifest = require_manifest(run_dir, "; give the folder `harness run` wrote (results/<plan name>)")
    plan_name = manifest.plan_name
    rd = RunDir(run_dir)
    held = rd.read_reviews()
    outcomes, grades = merge(read_review_files(paths), run_answers(run_dir), plan_name, held)
    written = any(o.new for o in outcomes)
    if written:
        rd.write_reviews(grades)
    return IntakeResult(outcomes, grades if written else held, written)
