"""Public benchmarks in the run: lm-eval tasks against each candidate's server while it is up.

The plan's ``lm_eval`` section is checked before any server starts (a task whose
data would have to come from the Hugging Face hub is an input error, said so), then
run once per candidate after its answers and load sweep; results and per-sample logs
go to ``results/<run>/lm_eval/<candidate>/``. A finished candidate is not run again
on resume unless the task list changed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from harness.inputs.plan import LoadedPlan, resolve_model
from harness.records import Candidate
from harness.rundir import RunDir
from harness.server.model_server import ModelServer
from harness.store import atomic_write_json
from harness.validation import InputError, load_yaml


def include_path(lp: LoadedPlan) -> Path | None:
    cfg = lp.plan.lm_eval
    return (lp.base_dir / cfg.include_path).resolve() if cfg and cfg.include_path else None


def preflight(lp: LoadedPlan, display: str | None = None) -> None:
    """Refuse, before any server starts, tasks that are unknown or need data from the hub.

    ``harness validate`` runs the same check, so a plan it accepts does not fail here.
    """
    cfg = lp.plan.lm_eval
    if cfg is None:
        return
    from harness.run.lmeval import LmEvalError, check_offline

    try:
        check_offline(cfg.tasks, include_path(lp))
    except LmEvalError as exc:
        doc = load_yaml(lp.path, display)
        raise InputError([doc.problem(("lm_eval", "tasks"), str(exc))]) from None


def out_dir(run_dir: Path, candidate: str) -> Path:
    return RunDir(run_dir).lm_eval_dir(candidate)


def pending(lp: LoadedPlan, candidate: str, run_dir: Path) -> bool:
    cfg = lp.plan.lm_eval
    if cfg is None:
        return False
    path = RunDir(run_dir).lm_eval_done(candidate)
    if not path.exists():
        return True
    done = json.loads(path.read_text(encoding="utf-8"))
    return sorted(done.get("tasks", [])) != sorted(cfg.tasks)


def run_candidate_tasks(
    lp: LoadedPlan, cand: Candidate, server: ModelServer, run_dir: Path, log: Callable[[str], None]
) -> str | None:
    """Run the plan's lm-eval tasks against ``server``; the error text when lm-eval failed, else None."""
    cfg = lp.plan.lm_eval
    if cfg is None or not pending(lp, cand.name, run_dir):
        return None
    from harness.run.lmeval import LmEvalError, run_tasks

    local = resolve_model(lp.base_dir, cand.model) if cand.endpoint is None else None
    if local is not None:
        tokenizer = str(local)
    elif cfg.tokenizer:
        given = lp.base_dir / cfg.tokenizer
        tokenizer = str(given.resolve()) if given.exists() else cfg.tokenizer
    else:
        tokenizer = cand.model
    log(f"[{cand.name}] lm-eval: {', '.join(cfg.tasks)}")
    folder = out_dir(run_dir, cand.name)
    try:
        found = run_tasks(server.base_url, server.model, server.api_key, tokenizer, cfg, lp.base_dir, folder)
    except LmEvalError as exc:
        log(f"[{cand.name}] lm-eval FAILED: {exc}")
        return str(exc)
    atomic_write_json(RunDir(run_dir).lm_eval_done(cand.name), {"tasks": cfg.tasks, "metrics": found})
    return None
