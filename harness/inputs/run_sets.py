"""The question sets a run was made with, read again from the paths its manifest recorded."""

from __future__ import annotations

from pathlib import Path

from harness.inputs.questions import load_question_set, spread_questions
from harness.records import QuestionSet
from harness.rundir import RunDirError, require_manifest
from harness.store import sha256_file


def load_run_sets(run_dir: Path) -> tuple[dict[str, QuestionSet], list[str]]:
    """The run's question sets by id, and notes about sets changed since the run.

    A set is cut to the plan's ``sampling.questions_per_set`` as the run asked it. Raises
    :class:`RunDirError` when ``run_dir`` has no manifest or a set's file is gone.
    """
    manifest = require_manifest(run_dir, "; run `harness run` first")
    sets: dict[str, QuestionSet] = {}
    notes = []
    for set_id, meta in manifest.question_sets.items():
        path = Path(meta.path)
        if not path.exists():
            raise RunDirError(f"question set {set_id} is gone from {path}; restore it to score this run")
        qs, _ = load_question_set(path, warnings=False)  # validated when the run started
        sets[set_id] = spread_questions(qs, manifest.questions_per_set)
        if sha256_file(path) != meta.sha256:
            notes.append(f"question set {set_id} changed since the run; scoring with the current file")
    return sets, notes
