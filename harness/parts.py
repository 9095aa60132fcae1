"""Part directories: where a candidate served by another process or node writes its records.

A candidate run side by side or on a Ray cluster (:mod:`harness.run.fleet`) writes to
``<run>/parts/<candidate>/``, laid out like a run directory: ``generations.jsonl``,
``phases.jsonl``, ``perf.jsonl``, ``loadtest.jsonl``, ``logs/`` and ``lm_eval/``. One
writer per part at a time, so no file has two appenders, even on a shared (NFS)
results directory. When the candidate ends, the driver folds its part into the run
directory; it also folds any part left by a crash before a run starts. A record
already in the run (same answer key, or the same line for the other files) is
skipped, so folding twice, or again after a crash mid-fold, keeps every record once.
A judge grading in another process (:mod:`harness.scoring.judge.fleet`) has its own
part, ``<run>/judge_parts/<judge>/``, folded the same way (:func:`fold_judge_part`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path

from harness.rundir import GENERATIONS, JUDGE_PART_RECORD_FILES, JUDGE_PART_TREES, PART_RECORD_FILES, PART_TREES, RunDir
from harness.schema import RecordError
from harness.store import FIX, repair


def part_dir(run_dir: Path, candidate: str) -> Path:
    return RunDir(run_dir).part(candidate).root


def _identity(name: str, line: str, where: str) -> str:
    """An answer is identified by its key (asked once per run); other records by their whole line."""
    if name != GENERATIONS:
        return line
    try:
        key = json.loads(line)["key"]
    except (ValueError, TypeError, KeyError):
        raise RecordError(f"{where}: not a complete JSON record with a key; {FIX}") from None
    return str(key)


def _complete_lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [ln for ln in path.read_text(encoding="utf-8").splitlines(keepends=True) if ln.endswith("\n") and ln.strip()]


def _fold_records(src: Path, dst: Path) -> int:
    lines = _complete_lines(src)
    if not lines:
        return 0
    repair(dst)
    have = {_identity(dst.name, ln, f"{dst}:{i}") for i, ln in enumerate(_complete_lines(dst), 1)}
    new = [ln for i, ln in enumerate(lines, 1) if _identity(dst.name, ln, f"{src}:{i}") not in have]
    if new:
        with dst.open("a", encoding="utf-8") as f:
            f.writelines(new)
            f.flush()
            os.fsync(f.fileno())
    return len(new)


def _fold_tree(src: Path, dst: Path) -> None:
    """Move files of ``src`` into ``dst``: logs are appended to, other files replace."""
    for path in sorted(p for p in src.rglob("*") if p.is_file()):
        target = dst / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".log" and target.exists():
            with target.open("ab") as out:
                out.write(path.read_bytes())
        else:
            os.replace(path, target)


def _fold_dir(run_dir: Path, part: Path, files: tuple[str, ...], trees: tuple[str, ...]) -> dict[str, int]:
    """Fold the part directory ``part`` into the run directory and remove it; returns the lines added per file."""
    if not part.is_dir():
        return {}
    added = {name: _fold_records(part / name, run_dir / name) for name in files}
    for sub in trees:
        if (part / sub).is_dir():
            _fold_tree(part / sub, run_dir / sub)
    shutil.rmtree(part)
    with contextlib.suppress(OSError):  # the last part folded: no empty parts folder left behind
        part.parent.rmdir()
    return added


def fold_part(run_dir: Path, candidate: str) -> int:
    """Fold one candidate's part into the run directory and remove it; returns the answers added."""
    return _fold_dir(run_dir, part_dir(run_dir, candidate), PART_RECORD_FILES, PART_TREES).get(GENERATIONS, 0)


def fold_all(run_dir: Path) -> dict[str, int]:
    """Fold every part left in ``run_dir`` (by a crash or an interrupted run): candidate -> answers added."""
    root = RunDir(run_dir).parts
    if not root.is_dir():
        return {}
    return {p.name: fold_part(run_dir, p.name) for p in sorted(root.iterdir()) if p.is_dir()}


def fold_judge_part(run_dir: Path, judge: str) -> int:
    """Fold one judge's part (its verdicts and its server's log) into the run and remove it; returns the
    verdicts added (a line already in ``judgments.jsonl`` is not added again)."""
    part = RunDir(run_dir).judge_part(judge).root
    return sum(_fold_dir(run_dir, part, JUDGE_PART_RECORD_FILES, JUDGE_PART_TREES).values())


def fold_judge_parts(run_dir: Path) -> dict[str, int]:
    """Fold every judge's part left in ``run_dir`` by a crash or an interrupted run: judge -> verdicts added."""
    root = RunDir(run_dir).judge_parts
    if not root.is_dir():
        return {}
    return {p.name: fold_judge_part(run_dir, p.name) for p in sorted(root.iterdir()) if p.is_dir()}
