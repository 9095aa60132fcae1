"""lm-evaluation-harness tasks against a candidate's own OpenAI-compatible server.

lm-eval is driven through its Python API exactly as its command line would be:
``local-completions`` (prompt log-probabilities via ``echo`` + ``logprobs``) for
log-likelihood and multiple-choice tasks, ``local-chat-completions`` with the
chat template for generative ones. This machine cannot reach the Hugging Face
hub, so tasks are checked before anything runs: a task whose data would have to
be downloaded is refused with a message that says so, instead of failing deep
inside ``datasets``. The server's API key travels in ``OPENAI_API_KEY`` (the
variable lm-eval's local models read) for the duration of the call only, so it
is never in model arguments, logs or the files written here.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness.records import LmEval
from harness.rundir import LM_EVAL_RESULTS, lm_eval_metrics, lm_eval_samples_file
from harness.store import atomic_write_json, atomic_write_text

OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
LOCAL_BUILDERS = {"json", "csv", "parquet", "text", "arrow", "pandas"}
"""``datasets`` builders that read files named in ``dataset_kwargs`` instead of a hub repository."""
MERGED = ("results", "groups", "group_subtasks", "configs", "versions", "n-shot", "higher_is_better", "n-samples")
"""The parts of lm-eval's results kept in ``results.json``, merged over the completions and the chat run."""
LOCAL_HINT = (
    "run tasks whose data is on this machine instead (`harness export-lm-eval` writes one from a question set; "
    "point lm_eval.include_path at its folder)"
)


class LmEvalError(Exception):
    """An lm-eval task cannot run here, or lm-eval failed; the message says which and why."""


@contextlib.contextmanager
def _environment(extra: dict[str, str]) -> Iterator[None]:
    """Set environment variables for one call, and restore them after.

    ``huggingface_hub`` and ``datasets`` read the offline switches once, at import,
    so their module flags are flipped too: the harness may have imported them earlier.
    """
    saved_env = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    import datasets.config as dsc
    import huggingface_hub.constants as hfc

    flags = [(hfc, "HF_HUB_OFFLINE"), (dsc, "HF_HUB_OFFLINE"), (dsc, "HF_DATASETS_OFFLINE")]
    saved_flags = [getattr(mod, name, None) for mod, name in flags]
    for mod, name in flags:
        setattr(mod, name, True)
    try:
        yield
    finally:
        for (mod, name), value in zip(flags, saved_flags, strict=True):
            setattr(mod, name, value)
        for k in extra:
            os.environ.pop(k, None)
        os.environ.update({k: v for k, v in saved_env.items() if v is not None})


@functools.lru_cache(maxsize=4)
def _task_manager(include_path: str | None) -> Any:
    """lm-eval's task index (about 7 s to build: it parses every built-in task YAML), kept per include path."""
    with _environment(OFFLINE_ENV):
        from lm_eval.tasks import TaskManager

        return TaskManager(include_path=include_path)


def _leaves(tm: Any, name: str, overrides: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The leaf task configs behind a task, group or tag name, read from YAML only (nothing downloaded)."""
    from lm_eval.tasks._index import Kind

    entry = tm.task_index[name]
    if entry.kind == Kind.TAG:
        for task in sorted(entry.tags):
            yield from _leaves(tm, task, overrides)
    elif entry.kind == Kind.GROUP:
        yield from _group_leaves(tm, entry.cfg or {}, overrides)
    else:
        yield name, {**(entry.cfg or {}), **overrides}


def _group_leaves(tm: Any, cfg: dict[str, Any], overrides: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    from lm_eval.tasks._factory import GROUP_FIELD_NAMES

    merged = {**{k: v for k, v in cfg.items() if k not in GROUP_FIELD_NAMES}, **overrides}
    members = cfg.get("task")
    for item in members if isinstance(members, list) else []:
        member = {"task": item} if isinstance(item, str) else item if isinstance(item, dict) else {}
        key = "group" if "group" in member else "task"
        name, rest = member.get(key), {k: v for k, v in member.items() if k != key}
        if name in tm.task_index:  # a known task, group or tag, maybe with overrides
            yield from _leaves(tm, str(name), {**merged, **rest})
        elif key == "group":
            yield from _group_leaves(tm, member, merged)  # a group defined inline
        elif name:
            yield str(name), {**merged, **member}  # a task defined inline


def _files(value: Any) -> list[str]:
    """Every path in a ``data_files`` value: a string, a list, or a split -> files mapping."""
    if isinstance(value, str):
        return [value]
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return [f for v in items for f in _files(v)]


def _data_problem(cfg: dict[str, Any]) -> tuple[str, str] | None:
    """``("hub", dataset)`` or ``("missing", file)`` when a task's data is not on this machine, else None."""
    if cfg.get("custom_dataset"):
        return None  # a function next to the task YAML builds the data
    path = cfg.get("dataset_path")
    if not path:
        return ("hub", "a Python task that fetches its own data") if "class" in cfg else ("missing", "no dataset_path")
    path = str(path)
    if "://" not in path and Path(path).expanduser().exists():
        return None  # a local dataset folder or file, read as `datasets.load_dataset` would (from the cwd)
    if path not in LOCAL_BUILDERS:
        return "hub", path
    kwargs = cfg.get("dataset_kwargs") or {}
    files = _files(kwargs.get("data_files")) + _files(kwargs.get("data_dir"))
    for f in files or [f"(no data_files for the {path} builder)"]:
        if "://" in f:
            return "hub", f
        if not (any(Path().glob(f)) if "*" in f else Path(f).expanduser().exists()):
            return "missing", f
    return None


def _inspect(task_names: list[str], include_path: Path | None) -> tuple[Any, dict[str, set[str]]]:
    """The task manager and each task's output types; LmEvalError for unknown tasks or data not on this machine."""
    tm = _task_manager(str(include_path) if include_path else None)
    unknown = [t for t in task_names if t not in tm.task_index]
    if unknown:
        where = f"not built into lm-eval and not under {include_path}" if include_path else "not built into lm-eval"
        raise LmEvalError(f"unknown lm-eval task {', '.join(map(repr, unknown))} ({where}).")
    hub, missing, types = [], [], {}
    for name in task_names:
        leaves = list(_leaves(tm, name, {}))
        types[name] = {str(cfg.get("output_type", "generate_until")) for _, cfg in leaves}
        problems = [(leaf, p) for leaf, cfg in leaves if (p := _data_problem(cfg))]
        kind_hub = [(leaf, what) for leaf, (kind, what) in problems if kind == "hub"]
        if kind_hub:
            via = f" via {kind_hub[0][0]!r}" if kind_hub[0][0] != name else ""
            hub.append(f"{name!r} ({kind_hub[0][1]}{via})")
        elif problems:
            missing.append(f"{name!r} ({problems[0][1][1]})")
    if hub:
        raise LmEvalError(
            f"lm-eval task {', '.join(hub)} needs data from the Hugging Face hub, which this machine cannot reach; "
            f"{LOCAL_HINT}."
        )
    if missing:
        raise LmEvalError(
            f"lm-eval task {', '.join(missing)} reads a data file that is not on this machine "
            f"(relative paths are read from the current folder, {Path.cwd()})."
        )
    return tm, types


def check_offline(task_names: list[str], include_path: Path | str | None) -> None:
    """Refuse, before any server starts, tasks that are unknown or whose data must come from the hub."""
    _inspect(task_names, Path(include_path) if include_path else None)


def _tokenizer_problem(tokenizer: str | None) -> str | None:
    """Why lm-eval could not load the tokenizer offline (log-likelihood tasks count tokens locally), or None."""
    if tokenizer is None:
        return "no tokenizer was given"
    if Path(tokenizer).is_dir():
        return None
    try:
        with _environment(OFFLINE_ENV):
            from transformers import AutoTokenizer

            AutoTokenizer.from_pretrained(tokenizer)
    except Exception:
        return f"{tokenizer!r} is neither a local folder nor in the Hugging Face cache"
    return None


def run_tasks(
    server_base_url: str,
    model: str,
    api_key: str | None,
    tokenizer: str | None,
    cfg: LmEval,
    base_dir: Path,
    out_dir: Path,
) -> dict[str, dict[str, Any]]:
    """Run ``cfg.tasks`` against a running server; write ``results.json`` and ``samples_<task>.jsonl`` to ``out_dir``.

    ``server_base_url`` ends in ``/v1``; ``tokenizer`` is the model's local folder (or a name in the
    Hugging Face cache), needed only by log-likelihood tasks. Returns
    ``{task: {metric: value, metric_stderr: value, "n": documents}}``.
    """
    include = (base_dir / cfg.include_path).resolve() if cfg.include_path else None
    tm, types = _inspect(cfg.tasks, include)
    chat = [t for t in cfg.tasks if types[t] == {"generate_until"}]  # a mixed group goes to completions whole
    runs = [("local-completions", [t for t in cfg.tasks if t not in chat]), ("local-chat-completions", chat)]
    base = server_base_url.rstrip("/")
    common = {"model": model, "num_concurrent": cfg.batch_size, "max_retries": 3, "timeout": 600}
    merged: dict[str, Any] = {"tasks": list(cfg.tasks), "model_types": {}, "config": {}}
    samples: dict[str, list[Any]] = {}
    env = {**OFFLINE_ENV, "OPENAI_API_KEY": api_key or "", "TOKENIZERS_PARALLELISM": "false"}
    import lm_eval

    for model_type, tasks in [(m, t) for m, t in runs if t]:
        if model_type == "local-completions":
            if why := _tokenizer_problem(tokenizer):
                raise LmEvalError(f"lm-eval task {', '.join(tasks)} needs the model's tokenizer, and {why}.")
            model_args = {**common, "base_url": f"{base}/completions", "tokenizer_backend": "huggingface"}
            model_args["tokenizer"] = str(tokenizer)
        else:
            model_args = {**common, "base_url": f"{base}/chat/completions", "tokenizer_backend": None}
        try:
            with _environment(env):
                found = lm_eval.simple_evaluate(
                    model=model_type, model_args=model_args, tasks=tasks, num_fewshot=cfg.num_fewshot,
                    limit=cfg.limit, log_samples=True, apply_chat_template=model_type.endswith("chat-completions"),
                    task_manager=tm,
                )  # fmt: skip
        except Exception as exc:
            text = f"{type(exc).__name__}: {exc}".replace(api_key or "\0", "***")
            raise LmEvalError(f"lm-eval failed on {', '.join(tasks)} at {base}: {text[:500]}") from None
        if found is None:
            raise LmEvalError(f"lm-eval returned no results for {', '.join(tasks)}.")
        samples.update(found.pop("samples", {}))
        for key in MERGED:
            merged.setdefault(key, {}).update(found.get(key) or {})
        merged["config"][model_type] = found.get("config", {})
        merged["model_types"].update(dict.fromkeys(tasks, model_type))
        merged |= {"lm_eval_version": found.get("lm_eval_version"), "date": found.get("date")}
    _write(out_dir, merged, samples, api_key)
    return lm_eval_metrics(merged)


def _write(out_dir: Path, results: dict[str, Any], samples: dict[str, list[Any]], api_key: str | None) -> None:
    """Serialise with lm-eval's own fallback (numpy values, sets...); the API key, should it appear, is masked."""
    from lm_eval.utils import handle_non_serializable

    def dump(obj: Any) -> str:
        text = json.dumps(obj, default=handle_non_serializable, ensure_ascii=False)
        return text.replace(api_key, "***") if api_key else text

    for task, rows in samples.items():
        atomic_write_text(out_dir / lm_eval_samples_file(task), "".join(dump(r) + "\n" for r in rows))
    atomic_write_json(out_dir / LM_EVAL_RESULTS, json.loads(dump(results)))
