"""Report stage: run directory -> reports/<run>/index.html (+ summary.csv, summary.json).

No scores are computed here: numbers come from :mod:`harness.rollup`. The page
is one self-contained file (inline CSS, charts as data URIs, no network). Model
output is untrusted: Jinja2 autoescaping is on for every value.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from harness.generate import GENERATIONS, PHASES
from harness.judge.stage import JUDGMENTS
from harness.judge.summary import JudgeSummary, summarize
from harness.manifest import load_manifest
from harness.perf.estimate import roofline_columns, smallest_gpu_at_peak
from harness.perf.measure import PERF
from harness.perf.nvml import energy_per_token_j
from harness.perf.summary import cost_frame, sweep_frame
from harness.perf.sweep import LOADTEST
from harness.records import Candidate, Generation, Judgment, LoadLevel, PerfRecord, Phase, Plan, Score
from harness.report.charts import quality_vs_throughput, throughput_latency
from harness.rollup import answers_frame, category_frame, model_summary
from harness.scoring.stage import SCORES, RunDirError, load_run_sets, score_run
from harness.store import atomic_write_json, atomic_write_text, read_records


def fmt(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("harness.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = fmt
    env.filters["pretty_json"] = lambda obj: json.dumps(obj, ensure_ascii=False, indent=2)
    env.filters["datetime"] = lambda t: time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(t)) if t else "–"
    return env


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        for row in df.to_dict("records")
    ]


def question_rows(
    answers: pd.DataFrame, sets: dict[str, Any], scores: list[Score], names: list[str], judged: dict[str, Judgment]
) -> list[dict[str, Any]]:
    """Per question: its text, reference, and each candidate's answers with check results and verdict."""
    checks = {s.key: s.checks for s in scores}
    by_q: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = {}
    for row in _records(answers):
        row["checks"] = checks.get(row["key"], [])
        row["judgment"] = judged.get(row["key"])
        by_q.setdefault((row["set_id"], row["question_id"]), {}).setdefault(row["candidate"], []).append(row)
    out = []
    for qs in sets.values():
        for q in qs.questions:
            cells = by_q.get((qs.id, q.id), {})
            out.append({
                "set_id": qs.id, "id": q.id, "category": q.category, "question": q.question,
                "reference": q.reference, "weight": q.weight,
                "answers": [sorted(cells.get(n, []), key=lambda r: r["sample"]) for n in names],
            })  # fmt: skip
    return out


def _tokens_measured(answers: pd.DataFrame, levels: list[LoadLevel], candidate: str) -> int:
    """Output tokens the server produced while it was measured: answers plus the load sweep."""
    mine = answers[answers.candidate == candidate]
    swept = sum(t.output_tokens or 0 for lv in levels if lv.candidate == candidate for t in lv.requests)
    return int(mine.output_tokens.fillna(0).sum()) + swept


def build_report(run_dir: Path, out_dir: Path) -> Path:
    manifest = load_manifest(run_dir)
    if manifest is None:
        raise RunDirError(f"{run_dir} is not a run directory (no manifest.json)")
    if not (run_dir / SCORES).exists():
        score_run(run_dir)
    plan = Plan.model_validate(manifest["plan"])
    sets, notes = load_run_sets(run_dir)
    gens = read_records(run_dir / GENERATIONS, Generation)
    scores = read_records(run_dir / SCORES, Score)
    phases = read_records(run_dir / PHASES, Phase)
    answers = answers_frame(gens, scores, sets)
    cands: list[Candidate] = plan.candidates
    errors = {name: info.get("error") for name, info in manifest["candidates"].items()}
    models = model_summary(answers, phases, cands, plan.bootstrap_resamples, plan.sampling.seed, errors)
    apis = {name: info.get("api") for name, info in manifest["candidates"].items()}
    models["api"] = models.candidate.map(apis)
    expected = sum(len(qs.questions) for qs in sets.values()) * plan.sampling.samples
    models["missing"] = expected - models.answers - models.failed
    levels = read_records(run_dir / LOADTEST, LoadLevel)
    sweep = sweep_frame(levels, plan.perf.slo)
    costs = cost_frame(cands, plan.perf, sweep, phases, models)
    models = models.drop(columns=["usd_per_mtok"]).merge(costs, on="candidate", how="left")
    roof = roofline_columns(plan, manifest, answers, models)
    models["roofline_tok_per_s"] = [roof.get(c, (None, None))[0] for c in models.candidate]
    models["roofline_share"] = [roof.get(c, (None, None))[1] for c in models.candidate]
    perf_records = {r.candidate: r for r in read_records(run_dir / PERF, PerfRecord)}  # the latest session wins
    smallest = smallest_gpu_at_peak(plan, manifest, answers, perf_records)
    models["smallest_gpu"] = [smallest.get(c) for c in models.candidate]
    models["energy_j_per_token"] = [
        energy_per_token_j(perf_records[c].memory.get("energy_j"), _tokens_measured(answers, levels, c))
        if c in perf_records
        else None
        for c in models.candidate
    ]

    names = [c.name for c in cands]
    judge_summary: JudgeSummary | None = None
    if plan.judge is not None and (run_dir / JUDGMENTS).exists():
        judgments = read_records(run_dir / JUDGMENTS, Judgment)
        judge_summary = summarize(judgments, answers, plan.judge, names, plan.rubric_pass_threshold,
                                  plan.bootstrap_resamples, plan.sampling.seed)  # fmt: skip
        models = models.merge(judge_summary.per_model, on="candidate", how="left")
        if not judge_summary.pairwise.empty:
            models = models.merge(
                judge_summary.pairwise[["candidate", "win_rate", "bt_elo"]], on="candidate", how="left"
            )
    categories = category_frame(answers)
    html = (
        _env()
        .get_template("report.html.j2")
        .render(
            plan=plan,
            manifest=manifest,
            notes=notes,
            models=_records(models),
            expected=expected,
            chart=quality_vs_throughput(models),
            sweep=_records(sweep),
            sweep_chart=throughput_latency(sweep, "e2e_p95_ms", plan.perf.slo.e2e_ms) if not sweep.empty else None,
            ttft_chart=throughput_latency(sweep, "ttft_p95_ms", plan.perf.slo.ttft_ms) if not sweep.empty else None,
            perf_records=perf_records,
            slo=plan.perf.slo,
            categories=[
                {"set_id": idx[0], "category": idx[1], "scores": [row.get(n) for n in names]}
                for idx, row in (categories.to_dict("index").items() if not categories.empty else [])
            ],
            names=names,
            questions=question_rows(answers, sets, scores, names, judge_summary.by_answer if judge_summary else {}),
            judge=plan.judge,
            judge_info=manifest.get("judge"),
            judge_summary=judge_summary,
            judge_pairwise=_records(judge_summary.pairwise) if judge_summary else [],
            judge_injection=_records(judge_summary.injection) if judge_summary else [],
            sets=sets,
            generated_at=time.time(),
        )
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    index = out_dir / "index.html"
    atomic_write_text(index, html)
    atomic_write_text(out_dir / "summary.csv", models.to_csv(index=False))
    atomic_write_json(
        out_dir / "summary.json",
        {"plan": plan.name, "models": json.loads(models.to_json(orient="records"))},
    )
    return index
