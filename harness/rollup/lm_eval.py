"""lm-eval figures for the report: one headline metric per task, from each candidate's ``results.json``."""

from __future__ import annotations

from typing import Any

from harness.rundir import lm_eval_metrics


def headline(results: dict[str, Any]) -> dict[str, float | None]:
    """One figure per task for the report (``lmeval_<task>``, plus ``lmeval_<task>_stderr``).

    Accuracy for multiple-choice and log-likelihood tasks, exact match for generative
    ones. Takes ``results.json`` as written by :func:`harness.run.lmeval.run_tasks`, or what it returned.
    """
    flat = lm_eval_metrics(results) if "results" in results else results
    configs = results.get("configs", {})
    out: dict[str, float | None] = {}
    for task in results.get("tasks") or list(flat):
        metrics = flat.get(task, {})
        generative = configs.get(task, {}).get("output_type") == "generate_until"
        order = ("exact_match", "acc") if generative else ("acc", "exact_match")
        name = next((m for base in order for m in metrics if m.partition(",")[0] == base), None)
        metric, comma, filt = (name or "").partition(",")  # "exact_match,strict-match": a filtered metric
        out[f"lmeval_{task}"] = metrics.get(name) if name else None
        out[f"lmeval_{task}_stderr"] = metrics.get(f"{metric}_stderr{comma}{filt}") if name else None
    return out


def lm_eval_figures(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """Per candidate (``results``: candidate -> its ``results.json``): its :func:`headline` figures."""
    return {name: headline(doc) for name, doc in results.items()}
