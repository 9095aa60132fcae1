"""``harness export-lm-eval``: a question set as an lm-evaluation-harness task (YAML plus local JSONL data).

So the business set can be run by lm-eval too, beside public benchmarks and with the
same command line. Questions whose rubric has exactly one top-level ``choice`` check become a
``multiple_choice`` task scored by the log-likelihood of each option letter (the
MMLU/CMMLU convention: choices ``A``..``D`` after the answer cue, lm-eval's default
target delimiter puts the space before the letter). Other questions with a
``reference`` become a ``generate_until`` task scored by exact match with the
reference: a rough proxy only, since free answers rarely repeat the reference word
for word; the harness's own rubric is the real score. The rest are skipped.

Data paths: ``datasets`` resolves a relative ``dataset_kwargs.data_files`` against the
working directory, not the YAML's folder (checked with lm-eval 0.4.13), so a task
folder would only load when lm-eval runs from one place. Each exported folder
therefore holds a small loader, ``harness_data.py``, that the YAMLs name as their
``custom_dataset``; it resolves the JSONL file names against its own folder. The
export holds no absolute path: the same set always gives the same bytes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.inputs.wording import primary_language
from harness.records import Question, QuestionSet
from harness.rubric.checks_format import ChoiceArgs
from harness.store import atomic_write_text

ANSWER_CUE = {"zh": "答案：", "en": "Answer:"}
"""What follows each question in the prompt (CMMLU's and MMLU's cue); other languages use the English one."""
LETTERS = "ABCDEFGHIJ"
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩"
TASK_NAME = re.compile(r"^[a-z0-9][a-z0-9_]*$")
LOADER = "harness_data.py"

LOADER_TEXT = '''\
"""Loads the JSONL files beside this file for the lm-eval task YAMLs beside it (written by `harness export-lm-eval`).

lm-eval calls ``load`` with the task's ``dataset_kwargs`` (and its ``metadata``). ``datasets`` would
resolve a relative ``data_files`` path against the working directory; here it is resolved against
this folder, so the task loads wherever lm-eval runs from.
"""

from pathlib import Path

import datasets


def load(data_files: dict[str, str], **_: object) -> datasets.DatasetDict:
    here = Path(__file__).resolve().parent
    return datasets.load_dataset("json", data_files={split: str(here / name) for split, name in data_files.items()})
'''


@dataclass(frozen=True)
class ExportResult:
    tasks: list[str]
    """lm-eval task names written, for ``--tasks``."""
    mc: int
    """Questions in the multiple-choice (log-likelihood) task."""
    gen: int
    """Questions in the generate_until (exact match) task."""
    skipped: int
    """Questions with neither a single ``choice`` check nor a reference."""
    folder: Path
    """The task folder, ``out_dir/<task>``."""


def default_task_name(set_id: str) -> str:
    """``harness_<set id>`` in lower case with only [a-z0-9_], so it never clashes with lm-eval's own tasks."""
    return "harness_" + (re.sub(r"[^a-z0-9_]+", "_", set_id.lower()).strip("_") or "set")


def mc_doc(q: Question) -> dict[str, Any] | None:
    """The question as a multiple-choice row, when its rubric has exactly one top-level ``choice`` check.

    The options are written inside the question text; the choices are their labels (letters,
    or circled numbers when the answer is given as one) and the target is the right label's index.
    """
    checks = [c for c in q.checks if c.type == "choice"]
    if len(checks) != 1:
        return None
    args = ChoiceArgs.model_validate(checks[0].args)
    if len(args.right) != 1:
        return None  # a multi-select question has no single target in lm-eval's multiple_choice
    (right,) = args.right
    labels = (CIRCLED if (args.answer or "") in CIRCLED else LETTERS)[: args.options]
    target = right - 1
    if target >= len(labels):
        return None  # the answer is not among the options: the rubric can never pass either
    row: dict[str, Any] = {"id": q.id, "category": q.category, "question": q.question.strip(), "choices": list(labels)}
    return row | {"answer": target}


def gen_doc(q: Question) -> dict[str, Any] | None:
    if q.reference is None or not q.reference.strip():
        return None
    return {"id": q.id, "category": q.category, "question": q.question.strip(), "reference": q.reference.strip()}


class _Dumper(yaml.SafeDumper):
    """Strings with a line break in double quotes (``"{{question}}\\n答案："``), as lm-eval's task files have them."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"' if "\n" in value else None)


_Dumper.add_representer(str, _str)


def _metric(name: str, **extra: Any) -> dict[str, Any]:
    return {"metric": name, "aggregation": "mean", "higher_is_better": True, **extra}


def task_yaml(qs: QuestionSet, task: str, kind: str, data_file: str, count: int) -> str:
    """One lm-eval task config. Written by hand around ``yaml.safe_dump`` because ``!function`` is not plain YAML."""
    cue = ANSWER_CUE.get(primary_language(qs.language), ANSWER_CUE["en"])
    body: dict[str, Any] = {
        "dataset_kwargs": {"data_files": {"test": data_file}},
        "test_split": "test",
        **({"description": f"{qs.context.strip()}\n\n"} if qs.context else {}),
        "doc_to_text": "{{question}}\n" + cue,
    }
    if kind == "mc":
        head = f"{count} multiple-choice questions, scored by the log-likelihood of each option label."
        body |= {
            "output_type": "multiple_choice",
            "doc_to_choice": "choices",
            "doc_to_target": "answer",
            "metric_list": [_metric("acc"), _metric("acc_norm")],
        }
    else:
        head = (
            f"{count} free-text questions, exact match with the reference after dropping case, white space and "
            "punctuation: a rough proxy; the harness's own rubric is the real score."
        )
        ignore = [r"\s+", r"[，。、；：？！“”‘’（）《》【】,.;:?!()\"']"]
        body |= {
            "output_type": "generate_until",
            "doc_to_target": "reference",
            "generation_kwargs": {"until": ["\n\n"], "max_gen_toks": 128, "do_sample": False, "temperature": 0.0},
            "metric_list": [
                _metric("exact_match", ignore_case=True, ignore_punctuation=True, regexes_to_ignore=ignore)
            ],
        }
    body["metadata"] = {"version": 1.0, "question_set": qs.id}
    comments = [
        f"lm-eval task from question set {qs.id} ({qs.title}).",
        "Written by `harness export-lm-eval`: re-export instead of editing.",
        head,
        f"Data: {data_file} beside this file, loaded by {LOADER} relative to this folder",
        "(lm-eval would resolve a plain relative data_files path against the working directory).",
    ]
    header = "".join(f"# {c}\n" for c in comments)
    text = yaml.safe_dump({"task": task}, allow_unicode=True, sort_keys=False)
    text += f"custom_dataset: !function {Path(LOADER).stem}.load\n"
    return header + text + yaml.dump(body, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000)


def _jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def export_task(qs: QuestionSet, out_dir: Path, task_name: str | None = None) -> ExportResult:
    """Write ``out_dir/<task>/``: one task YAML (``<task>.yaml``) or, with both kinds of question, two
    (``<task>_mc.yaml``, ``<task>_gen.yaml``), their JSONL data and the loader.

    Files an earlier export of the same task left (e.g. a ``<task>.yaml`` when there are now two
    kinds) are removed, so lm-eval never finds a stale task beside the new one. Raises ValueError
    on a bad task name or when no question can be exported.
    """
    task = task_name or default_task_name(qs.id)
    if not TASK_NAME.match(task):
        raise ValueError(f"task name {task!r} must be lower-case letters, digits and _ (e.g. harness_{qs.id})")
    mc_rows: list[dict[str, Any]] = []
    gen_rows: list[dict[str, Any]] = []
    skipped = 0
    for q in qs.questions:
        if (row := mc_doc(q)) is not None:
            mc_rows.append(row)
        elif (row := gen_doc(q)) is not None:
            gen_rows.append(row)
        else:
            skipped += 1
    if not mc_rows and not gen_rows:
        raise ValueError(f"question set {qs.id}: no question has a single choice check or a reference to export")
    folder = out_dir / task
    folder.mkdir(parents=True, exist_ok=True)
    for stale in (f"{task}.yaml", f"{task}_mc.yaml", f"{task}_gen.yaml", f"{task}_mc.jsonl", f"{task}_gen.jsonl"):
        (folder / stale).unlink(missing_ok=True)
    both = bool(mc_rows) and bool(gen_rows)
    names: list[str] = []
    for kind, rows in (("mc", mc_rows), ("gen", gen_rows)):
        if not rows:
            continue
        name = f"{task}_{kind}" if both else task
        data_file = f"{task}_{kind}.jsonl"
        atomic_write_text(folder / data_file, _jsonl(rows))
        atomic_write_text(folder / f"{name}.yaml", task_yaml(qs, name, kind, data_file, len(rows)))
        names.append(name)
    atomic_write_text(folder / LOADER, LOADER_TEXT)
    return ExportResult(tasks=names, mc=len(mc_rows), gen=len(gen_rows), skipped=skipped, folder=folder)
