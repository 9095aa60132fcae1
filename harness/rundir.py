"""The run directory ``results/<run>/``: every file name in it, and the reading and writing of each file.

No other module spells a file name of a run directory (``tests/test_architecture.py`` checks it).
Layout (a part directory ``parts/<candidate>/`` is laid out like a run directory)::

    manifest.json                  what the run is: plan, question sets, versions, host, candidates, judge
    generations.jsonl              Generation, one per answer              (run stage)
    phases.jsonl                   Phase, one per candidate per session    (run stage)
    perf.jsonl                     PerfRecord, one per server session      (run stage)
    loadtest.jsonl                 LoadLevel, one per swept level          (run stage)
    scores.jsonl                   Score, one per answer                   (scoring stage)
    judgments.jsonl                Judgment, one per verdict               (judge, scoring stage)
    judgments.<unix time>.jsonl    judgments of an earlier judge, archived when the judge changed
    reviews.jsonl                  HumanGrade, one per (reviewer, answer)  (harness review add)
    logs/<candidate>.vllm.log      the server's output
    lm_eval/<candidate>/           results.json, samples_<task>.jsonl, done.json (lm-eval tasks)
    parts/<candidate>/             a candidate served by another process: the files above,
                                   plus attempts.jsonl and outcome.json
    judge_parts/<judge>/           a judge grading in another process: judgments.jsonl, logs/,
                                   attempts.jsonl and outcome.json (its manifest entry)

This module is foundation: it imports only :mod:`harness.records`, :mod:`harness.manifest_records`,
:mod:`harness.perf_records`, :mod:`harness.schema` and :mod:`harness.store`, never a stage. Building a
manifest's contents stays in :mod:`harness.run.manifest`; the manifest's fields are
:class:`~harness.manifest_records.RunManifest`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from harness.manifest_records import RunManifest
from harness.perf_records import CapacityRecord, PerfRecord
from harness.records import (
    GENERATION_VIEW,
    SCORE_VIEW,
    Generation,
    GenerationView,
    HumanGrade,
    Judgment,
    LoadLevel,
    Phase,
    Score,
    ScoreView,
)
from harness.schema import RecordError, upgrade, upgrade_manifest_layout
from harness.store import atomic_write_json, iter_projected, iter_records, read_records, write_records

MANIFEST = "manifest.json"
GENERATIONS = "generations.jsonl"
PHASES = "phases.jsonl"
PERF = "perf.jsonl"
LOADTEST = "loadtest.jsonl"
CAPACITY = "capacity.jsonl"
SCORES = "scores.jsonl"
JUDGMENTS = "judgments.jsonl"
REVIEWS = "reviews.jsonl"
ATTEMPTS = "attempts.jsonl"
OUTCOME = "outcome.json"
PARTS = "parts"
JUDGE_PARTS = "judge_parts"
LOGS = "logs"
LM_EVAL = "lm_eval"
LM_EVAL_RESULTS = "results.json"
LM_EVAL_DONE = "done.json"
"""Written last, with the task list: a candidate whose marker lists the plan's tasks is not run again."""

PART_RECORD_FILES = (GENERATIONS, PHASES, PERF, LOADTEST, CAPACITY)
"""The record files a part directory holds and folds into the run, line by line."""
PART_TREES = (LOGS, LM_EVAL)
"""The folders a part directory holds and folds into the run, file by file."""
JUDGE_PART_RECORD_FILES = (JUDGMENTS,)
"""The record files a judge's part directory holds and folds into the run, line by line."""
JUDGE_PART_TREES = (LOGS,)
"""The folders a judge's part directory holds and folds into the run (its server's log)."""
FILE_NAMES = (MANIFEST, GENERATIONS, PHASES, PERF, LOADTEST, CAPACITY, SCORES, JUDGMENTS, REVIEWS, ATTEMPTS, OUTCOME,
              LM_EVAL_RESULTS, LM_EVAL_DONE, ".vllm.log")  # fmt: skip
"""The file names no other module may spell (the folder names are ordinary words)."""

MANIFEST_KEYS = ("plan_fingerprint", "plan", "question_sets", "candidates", "sessions")


class RunDirError(Exception):
    """A directory is not a readable run directory; the message names the path and what to do."""


@dataclass(frozen=True)
class RunDir:
    """A run directory (or a part directory, laid out alike) at ``root``; paths and typed reads and writes."""

    root: Path

    @property
    def manifest(self) -> Path:
        return self.root / MANIFEST

    @property
    def generations(self) -> Path:
        return self.root / GENERATIONS

    @property
    def phases(self) -> Path:
        return self.root / PHASES

    @property
    def perf(self) -> Path:
        return self.root / PERF

    @property
    def loadtest(self) -> Path:
        return self.root / LOADTEST

    @property
    def capacity(self) -> Path:
        return self.root / CAPACITY

    @property
    def scores(self) -> Path:
        return self.root / SCORES

    @property
    def judgments(self) -> Path:
        return self.root / JUDGMENTS

    @property
    def reviews(self) -> Path:
        return self.root / REVIEWS

    @property
    def attempts(self) -> Path:
        return self.root / ATTEMPTS

    @property
    def outcome(self) -> Path:
        return self.root / OUTCOME

    def archived_judgments(self, unix_time: int) -> Path:
        """Where judgments of an earlier judge go when the judge changed (a new name if that one is taken)."""
        path, n = self.root / f"judgments.{unix_time}.jsonl", 0
        while path.exists():
            n += 1
            path = self.root / f"judgments.{unix_time}-{n}.jsonl"
        return path

    def part(self, candidate: str) -> RunDir:
        """The part directory a candidate served by another process writes to."""
        return RunDir(self.root / PARTS / candidate)

    @property
    def parts(self) -> Path:
        return self.root / PARTS

    def judge_part(self, judge: str) -> RunDir:
        """The part directory a judge grading in another process writes to (apart from the candidates')."""
        return RunDir(self.root / JUDGE_PARTS / judge)

    @property
    def judge_parts(self) -> Path:
        return self.root / JUDGE_PARTS

    def server_log(self, candidate: str) -> Path:
        return self.root / LOGS / f"{candidate}.vllm.log"

    def lm_eval_dir(self, candidate: str) -> Path:
        return self.root / LM_EVAL / candidate

    def lm_eval_done(self, candidate: str) -> Path:
        return self.lm_eval_dir(candidate) / LM_EVAL_DONE

    # --- typed reads (a missing file reads as no records) ---------------------------------------

    def read_generations(self) -> list[Generation]:
        return read_records(self.generations, Generation)

    def read_scores(self) -> list[Score]:
        return read_records(self.scores, Score)

    def iter_generations(self) -> Iterator[Generation]:
        """``generations.jsonl`` as a stream (200,000 answers need not be held as records)."""
        return iter_records(self.generations, Generation)

    def iter_scores(self) -> Iterator[Score]:
        return iter_records(self.scores, Score)

    def iter_generation_views(self) -> Iterator[GenerationView]:
        """``generations.jsonl`` as a stream of the fields the roll-up reads (:func:`~harness.store.iter_projected`)."""
        return iter_projected(self.generations, Generation, GENERATION_VIEW)

    def iter_score_views(self) -> Iterator[ScoreView]:
        """``scores.jsonl`` as a stream of the fields the roll-up reads."""
        return iter_projected(self.scores, Score, SCORE_VIEW)

    def read_phases(self) -> list[Phase]:
        return read_records(self.phases, Phase)

    def read_levels(self) -> list[LoadLevel]:
        return read_records(self.loadtest, LoadLevel)

    def read_capacity(self) -> list[CapacityRecord]:
        """The SLO capacity searches (``perf.sweep.capacity``), one per candidate searched."""
        return read_records(self.capacity, CapacityRecord)

    def read_perf(self) -> list[PerfRecord]:
        """Every server session's record (a resumed run has several per candidate)."""
        return read_records(self.perf, PerfRecord)

    def read_judgments(self) -> list[Judgment] | None:
        """The run's verdicts; None when the run was never judged (no ``judgments.jsonl``)."""
        return read_records(self.judgments, Judgment) if self.judgments.exists() else None

    def judgments_of(self, judge: str, legacy: str | None) -> list[Judgment]:
        """``judge``'s verdicts (records from before panels carry no name: they are ``legacy``'s)."""
        return [j for j in self.read_judgments() or [] if (j.judge or legacy) == judge]

    def archive_judgments_of(self, judge: str, legacy: str | None, unix_time: int) -> Path | None:
        """Move ``judge``'s verdicts to an archive file (the judge changed); the other judges' stay.
        Returns the archive's path, None when the judge had none."""
        if not self.judgments.exists():
            return None
        mine: list[Judgment] = []
        others: list[Judgment] = []
        for j in read_records(self.judgments, Judgment):
            (mine if (j.judge or legacy) == judge else others).append(j)
        if not mine:
            return None
        archive = self.archived_judgments(unix_time)
        write_records(archive, list[BaseModel](mine))
        write_records(self.judgments, list[BaseModel](others))
        return archive

    def read_reviews(self) -> list[HumanGrade]:
        """People's grades of the run's answers (``harness review add``); empty when none were added."""
        return read_records(self.reviews, HumanGrade) if self.reviews.exists() else []

    def write_reviews(self, grades: list[HumanGrade]) -> None:
        """Replace ``reviews.jsonl`` with ``grades``, atomically (a crash leaves the old file whole)."""
        records: list[BaseModel] = list(grades)
        write_records(self.reviews, records)

    def read_lm_eval(self, names: list[str]) -> dict[str, dict[str, Any]]:
        """Per candidate with lm-eval results: its ``results.json`` as written (see :func:`lm_eval_metrics`)."""
        out: dict[str, dict[str, Any]] = {}
        for name in names:
            path = self.lm_eval_dir(name) / LM_EVAL_RESULTS
            if path.exists():
                out[name] = json.loads(path.read_text(encoding="utf-8"))
        return out

    # --- writes ---------------------------------------------------------------------------------

    def write_scores(self, scores: list[Score]) -> Path:
        """Replace ``scores.jsonl`` whole and atomically; returns its path."""
        write_records(self.scores, list(scores))
        return self.scores


def lm_eval_samples_file(task: str) -> str:
    """The file name, inside a candidate's ``lm_eval/`` folder, of one task's per-sample log."""
    safe = re.sub(r"[^\w.-]+", "_", task)
    return f"samples_{safe}.jsonl"


def load_manifest(run_dir: Path) -> RunManifest | None:
    """The run's manifest (upgraded to this schema_version and layout), None when there is none.

    A corrupt or foreign ``manifest.json`` raises :class:`RecordError` naming the file and line.
    """
    path = run_dir / MANIFEST
    if not path.exists():
        return None
    fix = "restore it from a backup, or start the run in a new --run-dir"
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise RecordError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); {fix}") from None
    except json.JSONDecodeError as exc:
        raise RecordError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg}, column {exc.colno}); {fix}") from None
    if not isinstance(data, dict):
        raise RecordError(f"{path}:1: a manifest is a JSON object, not {type(data).__name__}; {fix}")
    missing = [k for k in MANIFEST_KEYS if k not in data]
    if missing:
        raise RecordError(f"{path}: not a harness manifest (no {', '.join(missing)}); {fix}")
    data = upgrade_manifest_layout(upgrade("manifest", data, str(path)))
    try:
        return RunManifest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise RecordError(f"{path}: {where}: {first['msg']}; {fix}") from None


def save_manifest(run_dir: Path, manifest: RunManifest) -> None:
    """Write ``manifest.json`` atomically (:meth:`RunManifest.to_json`)."""
    atomic_write_json(run_dir / MANIFEST, manifest.to_json())


def require_manifest(run_dir: Path, hint: str = "") -> RunManifest:
    """The run's manifest; :class:`RunDirError` when ``run_dir`` has none (``hint`` says what to do)."""
    manifest = load_manifest(run_dir)
    if manifest is None:
        raise RunDirError(f"{run_dir} is not a run directory (no {MANIFEST}){hint}")
    return manifest


def _flat(entry: dict[str, Any]) -> dict[str, Any]:
    """``{"acc,none": .5, "acc_stderr,none": .1}`` -> ``{"acc": .5, "acc_stderr": .1}``; other filters stay."""
    out: dict[str, Any] = {}
    for key, value in entry.items():
        metric, _, filt = key.partition(",")
        if not filt or key == "alias":
            continue
        number = float(value) if isinstance(value, (int, float)) else None  # lm-eval writes "N/A" for no stderr
        out[metric if filt == "none" else f"{metric},{filt}"] = number
    return out


def lm_eval_metrics(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per task (and group) of lm-eval's ``results.json``: its metrics without lm-eval's filter suffix,
    and ``n``, the documents scored."""
    n = {t: int(v.get("effective", 0)) for t, v in doc.get("n-samples", {}).items()}
    for group, subtasks in doc.get("group_subtasks", {}).items():
        n.setdefault(group, sum(n.get(t, 0) for t in subtasks))
    return {t: {**_flat(v), "n": n.get(t)} for t, v in doc.get("results", {}).items()}
