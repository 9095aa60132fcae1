"""`harness estimate CONFIG`: the physical limit of each candidate, before any run.

Reads each candidate's config.json (its local model folder, or ``config_json``
in the plan) and, per GPU type, reports the tensor-parallel size that holds it
at the plan's context and concurrency, the memory that needs, the decode
roofline and the $/1M tokens at that roofline (harness.rollup.roofline), with the
model in the dtype it is served in on that GPU (``vllm.dtype``; ``auto`` resolved as
:func:`harness.dtype.choose_dtype` does for a GPU of that compute capability).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from harness.dtype import dtype_on_gpu
from harness.inputs.gpus import GPUS
from harness.inputs.plan import LoadedPlan, load_plan, resolve_model
from harness.manifest_records import RunManifest
from harness.records import Candidate
from harness.rollup.roofline import Workload, estimate
from harness.validation import InputError, Problem

TOKEN_COLUMNS = ["prompt_tokens", "output_tokens"]
"""The answer columns the roofline figures read (a candidate's answers, these columns only: copying all is slow)."""

DEFAULT_CONTEXT = 4096


SHIPPED_CONFIG_DIRS = (".", "shortlist")
"""Folders beside the plan where ``<candidate name>.config.json`` is looked for when the plan names no
``config_json`` and the model is no local folder (``configs/shortlist/`` ships the shortlist's configs)."""


class EstimateError(ValueError):
    """A user error of ``harness estimate`` (an unknown GPU name; no candidate it can estimate): one sentence."""


def config_path(lp: LoadedPlan, cand: Candidate) -> Path | None:
    """The candidate's config.json: ``config_json`` in the plan, else its local model folder's, else a shipped
    ``<name>.config.json`` beside the plan (:data:`SHIPPED_CONFIG_DIRS`); None when there is none."""
    if cand.config_json:
        return (lp.base_dir / cand.config_json).resolve()
    local = resolve_model(lp.base_dir, cand.model) if cand.endpoint is None else None
    if local is not None and (local / "config.json").is_file():
        return local / "config.json"
    for folder in SHIPPED_CONFIG_DIRS:
        shipped = lp.base_dir / folder / f"{cand.name}.config.json"
        if shipped.is_file():
            return shipped.resolve()
    return local / "config.json" if local else None


def known_gpus(names: list[str]) -> list[str]:
    """``names`` as the GPU table spells them; :class:`EstimateError` naming every known GPU for an unknown one."""
    from harness.inputs.gpus import gpu

    out = []
    for name in names:
        try:
            out.append(gpu(name.strip()).name)
        except ValueError:
            raise EstimateError(f"unknown GPU {name.strip()!r} in --gpus; known GPUs: {', '.join(GPUS)}") from None
    return out


def estimate_plan(
    plan_path: Path, gpus: list[str] | None, context: int | None, concurrency: int | None
) -> tuple[list[dict[str, Any]], list[str]]:
    """One row per (candidate, GPU) and a note per candidate left out (no config.json, or one it cannot read).

    Raises :class:`EstimateError` for an unknown GPU name, and when no candidate could be estimated (the
    message then holds every candidate's reason).
    """
    lp = load_plan(plan_path)
    perf = lp.plan.perf
    names = known_gpus(gpus) if gpus else ([perf.gpu] if perf.gpu else list(GPUS))
    rows, notes = [], []
    for cand in lp.plan.candidates:
        path = config_path(lp, cand)
        if path is None or not path.is_file():
            looked = f"{path}, " if path else ""
            notes.append(f"{cand.name}: no config.json to read (looked for {looked}"
                         f"{' and '.join(f'{d}/{cand.name}.config.json' for d in SHIPPED_CONFIG_DIRS)} beside the "
                         "plan; set config_json in the plan for hub or endpoint models)")  # fmt: skip
            continue
        ctx = context or cand.vllm.max_model_len or DEFAULT_CONTEXT
        conc = concurrency or lp.plan.limits.concurrency
        tp = cand.vllm.tensor_parallel_size if cand.endpoint is None else None
        try:
            config = json.loads(path.read_text(encoding="utf-8"))
            found = estimate(config, Workload(ctx, conc, tp=tp), names,
                             prices_usd_per_hour=perf.gpu_prices_usd_per_hour,
                             dtype_on=dtype_on_gpu(cand.vllm.dtype, config))  # fmt: skip
        except ValueError as exc:
            raise InputError([Problem(str(path), 0, cand.name, str(exc))]) from None
        rows += [{"candidate": cand.name, "context": ctx, "concurrency": conc, **dataclasses.asdict(r)} for r in found]
    if not rows:
        raise EstimateError(f"{plan_path}: no candidate could be estimated: " + "; ".join(notes))
    return rows, notes


def format_rows(rows: list[dict[str, Any]]) -> str:
    """The table ``harness estimate`` prints: ``tp`` is the plan's tensor-parallel size (memory, roofline and $
    are figured at it), ``fit tp`` the smallest that holds the model, ``plan`` whether the plan's can serve it."""
    head = (
        f"{'candidate':22s}{'gpu':12s}{'tp':>4s}{'fit tp':>8s}{'plan':>10s}{'weights':>10s}{'kv':>9s}{'needed':>9s}"
        f"{'usable':>9s}{'roofline tok/s':>16s}{'$/1M tok':>10s}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        plan_tp = r.get("plan_tp")
        tp = str(plan_tp) if plan_tp else "–"
        fit_tp = str(r["tp"]) if r["tp"] else "none"
        verdict = "–" if r.get("plan_tp_fits") is None else "ok" if r["plan_tp_fits"] else "NO-FIT"
        tok = f"{r['roofline_out_tok_per_s']:.0f}" if r["roofline_out_tok_per_s"] else "–"
        usd = f"{r['usd_per_mtok_at_roofline']:.3f}" if r["usd_per_mtok_at_roofline"] else "–"
        memory = f"{r['weight_gib']:>9.2f}G{r['kv_gib']:>8.2f}G{r['needed_gib']:>8.2f}G{r['usable_gib']:>8.2f}G"
        lines.append(
            f"{r['candidate']:22s}{r['gpu']:12s}{tp:>4s}{fit_tp:>8s}{verdict:>10s}{memory}{tok:>16s}{usd:>10s}"
        )
    return (
        "\n".join(lines)
        + "\n(memory in GiB at the given context and concurrency and the plan's tp; roofline = memory-bandwidth bound"
        " of decode; plan NO-FIT: the plan's tensor_parallel_size cannot hold the model on that GPU)"
    )


def plan_tp_problems(rows: list[dict[str, Any]]) -> list[str]:
    """One sentence per (candidate, GPU) whose plan tensor-parallel size cannot serve the model."""
    out = []
    for r in rows:
        if r.get("plan_tp_fits") is False:
            fix = f"set tensor_parallel_size: {r['tp']}" if r["tp"] else "no tensor-parallel size up to 8 holds it"
            why = (
                f"needs {r['needed_gib']:.1f} GiB, {r['usable_gib']:.1f} GiB usable"
                if r["needed_gib"] > r["usable_gib"]
                else f"its attention heads do not split {r['plan_tp']} ways"
            )
            out.append(f"{r['candidate']} on {r['gpu']}: the plan's tensor_parallel_size {r['plan_tp']} cannot serve "
                       f"it ({why}); {fix}")  # fmt: skip
    return out


def roofline_columns(
    plan: Any, manifest: RunManifest, answers: Any, models: Any
) -> dict[str, tuple[float | None, float | None, str | None]]:
    """Per candidate: the decode roofline on the plan's GPU, the measured best throughput as a share of it,
    and "not modelled: why" instead when the roofline cannot model the candidate's config.json.

    Context = the candidate's mean prompt + output tokens in this run; concurrency =
    the best level's (or the plan's) concurrency. Empty without ``perf.gpu``.
    """
    from harness.inputs.gpus import gpu as gpu_named
    from harness.rollup.roofline import decode_roofline_tok_per_s

    if plan.perf.gpu is None:
        return {}
    out: dict[str, tuple[float | None, float | None, str | None]] = {}
    for cand in plan.candidates:
        model = manifest.served_model(cand.name)
        path = Path(model) / "config.json" if model else None
        mine = answers.loc[(answers.candidate == cand.name) & answers.ok, TOKEN_COLUMNS]
        if path is None or not path.is_file() or mine.empty:
            continue
        parsed = _shape(path)
        if isinstance(parsed, str):
            out[cand.name] = (None, None, parsed)
            continue
        g = gpu_named(plan.perf.gpu)
        shape = parsed[0].served_as(dtype_on_gpu(cand.vllm.dtype, parsed[1])(g))
        context = int((mine.prompt_tokens.fillna(0) + mine.output_tokens.fillna(0)).mean()) or 1
        row = models.set_index("candidate").loc[cand.name]
        basis = str(row.get("cost_basis") or "")
        conc = int(float(basis[1:])) if basis.startswith("c") else plan.limits.concurrency
        roof = decode_roofline_tok_per_s(shape, g, cand.vllm.tensor_parallel_size, context, conc)
        measured = row.get("best_out_tok_per_s")
        out[cand.name] = (roof, measured / roof if measured and roof else None, None)
    return out


def _shape(config_path: Path) -> tuple[Any, dict[str, Any]] | str:
    """The model shape of a config.json and the config itself (read once), or "not modelled: why"
    (the report goes on without the roofline)."""
    from harness.rollup.roofline import ModelShape

    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
        return ModelShape.from_config(config), config
    except (ValueError, TypeError, AttributeError, OSError) as exc:
        return f"not modelled: {exc}"


def smallest_gpu_at_peak(
    plan: Any, manifest: RunManifest, answers: Any, perf_records: dict[str, Any]
) -> dict[str, str]:
    """Per candidate: the smallest common GPU (and TP) that holds it at this run's measured peak load.

    Peak load = the most requests the server ran at once (from /metrics) at the
    longest sequence seen (prompt + output tokens); memory from config.json.
    """
    from harness.rollup.roofline import smallest_gpu

    out: dict[str, str] = {}
    for cand in plan.candidates:
        model = manifest.served_model(cand.name)
        path = Path(model) / "config.json" if model else None
        mine = answers.loc[(answers.candidate == cand.name) & answers.ok, TOKEN_COLUMNS]
        rec = perf_records.get(cand.name)
        if path is None or not path.is_file() or mine.empty:
            continue
        peak = int((rec.metrics.peak_requests_running if rec and rec.metrics else None) or plan.limits.concurrency)
        longest = int((mine.prompt_tokens.fillna(0) + mine.output_tokens.fillna(0)).max()) or 1
        parsed = _shape(path)
        if isinstance(parsed, str):
            out[cand.name] = parsed
            continue
        found = smallest_gpu(parsed[0], longest, max(peak, 1), dtype_on=dtype_on_gpu(cand.vllm.dtype, parsed[1]))
        out[cand.name] = (
            f"{found[0].name} × {found[1]} ({peak} × {longest} tok)"
            if found
            else f"none up to 8 GPUs ({peak} × {longest} tok)"
        )
    return out
