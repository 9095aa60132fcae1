"""Review in Label Studio (https://labelstud.io): a queue out as tasks, its JSON export back as review files.

Out (:func:`export_tasks`, :func:`write_project`): one task per answer, ``[{"data": {...}}]``, with
the fields the labeling config (:data:`LABEL_CONFIG`) shows: ``question``, ``reference``,
``context`` (the material given with the question, empty when none) and ``answer``; and two it
does not show, which bring the grades home: ``key`` and ``sha256`` (and the ``run``'s plan name).
No field names the candidate or variant by itself, but ``key`` does contain them
(``candidate/set/question/sample``): hide the ``key`` column in Label Studio's task list to keep
the review blind.

Back (:func:`read_export`): Label Studio's JSON export (Export -> JSON: a list of tasks, each with
``annotations``, each with ``result`` items ``{"from_name", "type", "value"}``, ``completed_by``
as a user id or ``{"id", "email", ...}`` and ``was_cancelled``; see
https://labelstud.io/guide/task_format). Cancelled (skipped) annotations and tasks nobody
annotated are left out; each annotator's grades become one review file
(:mod:`harness.review.reviewfile`), which ``harness review add`` checks like any other.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.inputs.run_sets import load_run_sets
from harness.records import GRADE_MAX, Question, answer_sha256
from harness.review.reviewfile import ReviewError, review_file_json
from harness.rundir import RunDir, require_manifest
from harness.store import atomic_write_json, atomic_write_text

TASKS_NAME, CONFIG_NAME = "tasks.json", "labeling_config.xml"
ACCEPTABLE, GRADE, NOTE = "acceptable", "grade", "note"
"""The control tags' names (``from_name`` in an annotation's result)."""
YES, NO = "yes", "no"

LABEL_CONFIG = f"""<View>
  <Style>.htx-text {{ white-space: pre-wrap; }}</Style>
  <Header value="Question"/>
  <Text name="question" value="$question"/>
  <Header value="Material given with the question (empty: none)"/>
  <Text name="context" value="$context"/>
  <Header value="Reference answer (what a good answer contains)"/>
  <Text name="reference" value="$reference"/>
  <Header value="The assistant's answer"/>
  <Text name="answer" value="$answer"/>
  <Header value="Would you accept this answer from the assistant, as is?"/>
  <Choices name="{ACCEPTABLE}" toName="answer" choice="single-radio" required="true" showInline="true">
    <Choice value="{YES}"/>
    <Choice value="{NO}"/>
  </Choices>
  <Header value="Grade, 1 (worst) to {GRADE_MAX} (best), optional"/>
  <Rating name="{GRADE}" toName="answer" maxRating="{GRADE_MAX}" required="false"/>
  <Header value="Note (optional): what is wrong or missing"/>
  <TextArea name="{NOTE}" toName="answer" rows="3" editable="true" maxSubmissions="1"/>
</View>
"""
"""The labeling interface: the answer with its question, one required choice, an optional 1-10 rating, a note."""


def export_tasks(run_dir: Path, keys: list[str]) -> list[dict[str, Any]]:
    """One Label Studio task per key, in the order given (see the module's doc for the fields).

    Raises :class:`ReviewError` for a key that is not an answer of the run, and
    :class:`~harness.rundir.RunDirError` when ``run_dir`` is not a run or a question set is gone.
    """
    run_name = require_manifest(run_dir).plan_name
    sets, _ = load_run_sets(run_dir)
    questions: dict[tuple[str, str], Question] = {(s, q.id): q for s, qs in sets.items() for q in qs.questions}
    wanted = set(keys)
    gens = {g.key: g for g in RunDir(run_dir).iter_generations() if g.key in wanted}
    missing = [k for k in keys if k not in gens]
    if missing:
        raise ReviewError(f"{run_dir}: {len(missing)} keys are not answers of this run, e.g. {missing[0]!r}")
    tasks = []
    for key in keys:
        g = gens[key]
        q = questions.get((g.set_id, g.question_id))
        data = {
            "question": q.question if q else f"(question {g.question_id} is no longer in set {g.set_id})",
            "reference": (q.reference or "") if q else "",
            "context": g.context or "",
            "answer": g.answer,
            "key": key,
            "sha256": answer_sha256(g.answer),
            "run": run_name,
        }
        tasks.append({"data": data})
    return tasks


def write_project(out_dir: Path, tasks: list[dict[str, Any]]) -> tuple[Path, Path]:
    """Write ``tasks.json`` (import it into the project) and ``labeling_config.xml`` (its labeling interface)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tasks_path, config_path = out_dir / TASKS_NAME, out_dir / CONFIG_NAME
    atomic_write_json(tasks_path, tasks)
    atomic_write_text(config_path, LABEL_CONFIG)
    return tasks_path, config_path


@dataclass
class Annotator:
    """One annotator's grades from an export: the grades in the review file's shape."""

    reviewer: str
    grades: list[dict[str, Any]] = field(default_factory=list)


def _reviewer(completed_by: object) -> str | None:
    """The annotator's name: the e-mail of ``{"id", "email"}``, else ``labelstudio-user-<id>``."""
    if isinstance(completed_by, dict):
        email = completed_by.get("email")
        if isinstance(email, str) and email.strip():
            return email.strip()
        completed_by = completed_by.get("id")
    if isinstance(completed_by, int) and not isinstance(completed_by, bool):
        return f"labelstudio-user-{completed_by}"
    return None


def _grade(result: object, where: str, problems: list[str]) -> dict[str, Any] | None:
    """acceptable / grade / note from an annotation's result items; None (problems added) when unusable."""
    acceptable: bool | None = None
    grade: Any = None
    note = ""
    for item in result if isinstance(result, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("value"), dict):
            continue
        name, value = item.get("from_name"), item["value"]
        if name == ACCEPTABLE and item.get("type") == "choices":
            choices = value.get("choices")
            if choices in ([YES], [NO]):
                acceptable = choices == [YES]
            else:
                problems.append(f"{where}: {ACCEPTABLE}: {json.dumps(choices)} is not [{YES!r}] or [{NO!r}]")
                return None
        elif name == GRADE and item.get("type") == "rating":
            grade = value.get("rating")  # checked against the scale by `harness review add`
        elif name == NOTE and item.get("type") == "textarea":
            texts = value.get("text")
            note = "\n".join(t for t in texts if isinstance(t, str)) if isinstance(texts, list) else ""
    if acceptable is None:
        problems.append(f"{where}: no {ACCEPTABLE!r} choice; was the project made with {CONFIG_NAME}?")
        return None
    return {"acceptable": acceptable, "grade": grade, "note": note}


def read_export(name: str, data: bytes) -> tuple[str, list[Annotator], list[str]]:
    """The run's plan name, one :class:`Annotator` per person (in order of first appearance), and problems.

    ``name`` leads every problem line. Problems: not UTF-8 / JSON, not a list of tasks, a task
    without the ``key``/``sha256`` this harness exports, tasks of several runs, an annotation
    without its annotator or without the ``acceptable`` choice. Never raises on bad input.
    """
    try:
        doc: Any = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        return "", [], [f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})"]
    except json.JSONDecodeError as exc:
        return "", [], [f"{name}:{exc.lineno}: not valid JSON ({exc.msg})"]
    if not isinstance(doc, list) or not all(isinstance(t, dict) and isinstance(t.get("data"), dict) for t in doc):
        return "", [], [f"{name}: not a Label Studio JSON export (a list of tasks with data); export as JSON"]
    problems: list[str] = []
    runs: set[str] = set()
    people: dict[str, Annotator] = {}
    for i, task in enumerate(doc):
        d, tid = task["data"], task.get("id", i)
        key, sha = d.get("key"), d.get("sha256")
        where = f"{name}: task {tid}" + (f" (key {key})" if isinstance(key, str) else "")
        if not isinstance(key, str) or not isinstance(sha, str):
            problems.append(
                f"{where}: no key and sha256 in its data: not a task of `harness review export-labelstudio`"
            )
            continue
        if isinstance(d.get("run"), str):
            runs.add(d["run"])
        for j, ann in enumerate(task.get("annotations") or []):
            if not isinstance(ann, dict) or ann.get("was_cancelled"):
                continue
            at = f"{where}: annotation {ann.get('id', j)}"
            reviewer = _reviewer(ann.get("completed_by"))
            if reviewer is None:
                problems.append(f"{at}: no completed_by (the annotator's id or e-mail)")
                continue
            grade = _grade(ann.get("result"), at, problems)
            if grade is not None:
                when = ann.get("updated_at") or ann.get("created_at")
                entry = {"key": key, "sha256": sha, **grade, "at": when if isinstance(when, str) else None}
                people.setdefault(reviewer, Annotator(reviewer)).grades.append(entry)
    if len(runs) > 1:
        problems.append(f"{name}: tasks of several runs ({', '.join(sorted(runs))}); export one project per run")
    return (next(iter(runs)) if len(runs) == 1 else ""), list(people.values()), problems


def review_file_name(reviewer: str, taken: set[str]) -> str:
    """``review-<reviewer>.json``, anything but letters, digits and ``._-`` made ``_``; unique in ``taken``."""
    stem = "review-" + re.sub(r"[^A-Za-z0-9_.-]+", "_", reviewer).strip("._")
    name, n = f"{stem}.json", 1
    while name in taken:
        n += 1
        name = f"{stem}-{n}.json"
    taken.add(name)
    return name


def write_review_files(out_dir: Path, run: str, annotators: list[Annotator], exported_at: str) -> list[Path]:
    """One review file per annotator in ``out_dir`` (blind: Label Studio showed no candidate); their paths."""
    if annotators and not run:
        raise ReviewError("the export's tasks name no run; export the tasks with `harness review export-labelstudio`")
    out_dir.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    paths = []
    for a in annotators:
        path = out_dir / review_file_name(a.reviewer, taken)
        atomic_write_text(path, review_file_json(run, a.reviewer, True, exported_at, a.grades))
        paths.append(path)
    return paths
