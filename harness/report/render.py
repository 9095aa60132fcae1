"""Report stage: run directory -> reports/<run>/index.html (+ summary.csv, summary.json).

No scores are computed here: numbers come from :mod:`harness.rollup.frames`. The page
is one self-contained file (inline CSS, charts as data URIs, no network). Model
output is untrusted: Jinja2 autoescaping is on for every value.
"""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, Undefined, select_autoescape
from markupsafe import Markup, escape

from harness.report.calls import CallReader, call_rows, drill_calls, sweep_call_cells
from harness.report.charts import (
    pareto_chart,
    quality_vs_throughput,
    stability_chart,
    throughput_latency,
    variant_chart,
)
from harness.report.drilldown import drilldown_header, drilldown_questions, pack
from harness.report.load import PassageRow, ReportData, answer_calls, answer_contexts, answer_passages, load_report_data
from harness.report.panel import panel_json
from harness.report.review_data import ContextReader, pack_review, page_review
from harness.report.review_summary import judge_trust_of, review_json
from harness.report.shots import shot_notes
from harness.report.variants import variant_rows
from harness.rollup.decision import Recommendation
from harness.rollup.evidence import share_label
from harness.rollup.retrieval import retrieval_json
from harness.store import atomic_write_json, atomic_write_text

PassageReader = Callable[[], dict[str, tuple[PassageRow, ...]]]
"""Every answer's given passages by key (:func:`harness.report.load.answer_passages`)."""


def fmt(value: Any, digits: int = 2) -> str:
    if isinstance(value, Undefined):  # a key the row lacks renders empty, as Jinja prints it
        return ""
    if pd.isna(value):
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def tok_rate(value: Any, counted_by: Any = None) -> Markup:
    """Output tok/s: 'unknown' when a token count is (the server sent no usage and there was no
    tokenizer), marked when the tokenizer counted them instead of the server."""
    if pd.isna(value):
        return Markup('<span class="muted" title="the server sent no token counts and no tokenizer was '
                      'given (endpoint.tokenizer)">unknown</span>')  # fmt: skip
    text = escape(fmt(float(value), 1))
    if counted_by == "tokenizer":
        return Markup(f'{text} <span class="muted" title="the server sent no usage: output tokens counted '
                      'with the candidate\'s tokenizer">(tokenizer)</span>')  # fmt: skip
    return Markup(text)


def pct(value: Any, digits: int = 0) -> str:
    if pd.isna(value):
        return "–"
    return f"{float(value) * 100:.{digits}f}%"


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("harness.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = fmt
    env.filters["heat"] = heat_style
    env.filters["pct"] = pct
    env.filters["share"] = share_label
    env.filters["tok_rate"] = tok_rate
    env.filters["pretty_json"] = lambda obj: json.dumps(obj, ensure_ascii=False, indent=2)
    env.filters["datetime"] = lambda t: time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(t)) if t else "–"
    return env


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of ``df`` as dicts, a missing cell (None, NaN, NA) as None; a list in a cell stays a list."""
    return df.astype(object).where(df.notna(), None).to_dict("records")  # type: ignore[return-value]


def heat_style(score: float | None) -> str:
    """Background for a heatmap cell: red (0) through amber to green (1); grey when there is no score."""
    if score is None or pd.isna(score):
        return "background:#f2f4f7"
    hue = 120 * max(0.0, min(1.0, float(score)))
    return f"background:hsl({hue:.0f},70%,82%)"


def heatmap_rows(categories: pd.DataFrame, names: list[str]) -> list[dict[str, Any]]:
    """One row per (set, category) with a cell per candidate: score, interval, question count."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for r in _records(categories):
        row = rows.setdefault((r["set_id"], r["category"]), {"set_id": r["set_id"], "category": r["category"],
                                                              "cells": {n: None for n in names}})  # fmt: skip
        row["cells"][r["candidate"]] = r
    return [{**r, "cells": [r["cells"][n] for n in names]} for r in rows.values()]


def summary_json(data: ReportData) -> dict[str, Any]:
    rec = data.recommendation
    retrieval = {"retrieval": retrieval_json(data.retrieval)} if data.retrieval else {}  # none: as it was
    return {
        "plan": data.plan.name,
        "recommendation": {
            "recommended": rec.recommended, "runner_up": rec.runner_up, "runner_up_tied": rec.runner_up_tied,
            "reason": rec.reason, "weights_used": rec.weights_used,
            "constraints": data.plan.constraints.model_dump(mode="json"),
        },
        "min_detectable_difference": data.mdd,
        "models": json.loads(data.models.to_json(orient="records")),
        "categories": json.loads(data.categories.to_json(orient="records")),
        "question_sets": json.loads(data.set_scores.to_json(orient="records")),
        "variants": variant_rows(data.variants, data.contamination),
        "review": review_json(data),
        "judges": panel_json(data),
        "judge_wait": data.judge_wait,
        **retrieval,
    }  # fmt: skip


def drill_labels(names: list[str], variants: list[str], decide_on: str) -> tuple[list[str], list[str]]:
    """The drill-down's columns for candidates ``names`` under the plan's ``variants``: each column's key and
    the heading it reads, candidate-major in plan order.

    One variant: key and heading are the candidate's name. Several: the ``decide_on`` variant's column keeps
    the candidate's plain name as its key (the served frames name its answers so, and a ``#model=NAME`` link
    opens it), the others' keys are ``NAME · VARIANT``; every heading names its variant, the deciding one
    marked, e.g. ``m · zero_shot`` and ``m · with_context (decides)``.
    """
    if len(variants) == 1:
        return list(names), list(names)
    keys = [n if v == decide_on else f"{n} · {v}" for n in names for v in variants]
    labels = [f"{n} · {v}" + (" (decides)" if v == decide_on else "") for n in names for v in variants]
    return keys, labels


def drill_columns(data: ReportData) -> tuple[list[str], list[str], pd.DataFrame, pd.DataFrame]:
    """Drill-down columns (:func:`drill_labels`: keys and headings, one per candidate, or per candidate and
    variant when the plan has several) and the answers and stability frames they key."""
    plan = data.plan
    keys, labels = drill_labels(data.names, [v.name for v in plan.variants], plan.decision_variant)
    if len(plan.variants) == 1:
        return keys, labels, data.answers, data.stability
    first = plan.decision_variant

    def by_arm(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(
            candidate=frame.candidate.where(frame.variant == first, frame.candidate + " · " + frame.variant)
        )

    return keys, labels, by_arm(data.served), by_arm(data.served_stability)


def render_html(
    data: ReportData, read_contexts: ContextReader | None = None, run_dir: str | None = None,
    read_calls: CallReader | None = None, read_passages: PassageReader | None = None,
) -> str:  # fmt: skip
    """The report page of ``data``. ``read_contexts`` reads the answers' own contexts for the review queue's
    keys (:func:`~harness.report.load.answer_contexts`); None: the review shows the sets' contexts only.
    ``run_dir``: the run directory as the user named it, for the page's ``harness review add`` hint
    (None: the hint says ``RUN_DIR``). ``read_calls`` reads the calls the answers made, for a run whose calls
    were graded (:func:`~harness.report.load.answer_calls`); None: the drill-down shows their grades only.
    ``read_passages`` reads the passages each answer was given (:func:`~harness.report.load.answer_passages`);
    None, or a run that recorded none: the drill-down names the passages by id only, as it did."""
    plan, names = data.plan, data.names
    models, sweep, js = data.models, data.sweep, data.judge_summary
    k = plan.sampling.samples
    columns, labels, answers, stability = drill_columns(data)
    by_question = {(qs.id, q.id): q for qs in data.sets.values() for q in qs.questions}
    calls = drill_calls(answers, by_question, read_calls)  # None: no graded calls, the page as it was
    given = read_passages() if read_passages is not None else {}  # {}: no passages recorded, the page as it was
    drill = pack(
        drilldown_header(data.sets, columns, plan.rubric_pass_threshold, labels, k),
        drilldown_questions(data.sets, columns, answers, stability, js.by_answer if js else {}, calls, given),
    )
    review_page = {**page_review(data, read_contexts), "run_dir": run_dir or "RUN_DIR"}
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            plan=plan,
            manifest=data.manifest.to_json(),  # the template reads the file as written (absent keys stay absent)
            notes=data.notes,
            models=_records(models),
            stability_rows=sorted(
                _records(models), key=lambda m: (m.get("stability_rank") is None, m.get("stability_rank") or 0)
            ),
            rec=data.recommendation,
            rec_row=next((m for m in _records(models) if m["candidate"] == data.recommendation.recommended), None),
            mdd=data.mdd,
            k=k,
            expected=data.expected,
            questions_total=sum(len(qs.questions) for qs in data.sets.values()),
            pareto_chart=pareto_chart(models, data.recommendation.recommended, data.recommendation.cost_column),
            throughput_chart=quality_vs_throughput(models),
            stability_chart=stability_chart(models, k),
            sweep=_records(sweep),
            sweep_calls=sweep_call_cells(sweep),  # None: no level graded calls, the table as it was
            sweep_chart=throughput_latency(sweep, "e2e_p95_ms", plan.perf.slo.e2e_ms) if not sweep.empty else None,
            ttft_chart=throughput_latency(sweep, "ttft_p95_ms", plan.perf.slo.ttft_ms) if not sweep.empty else None,
            perf_records=data.perf_records,
            capacity=data.capacity,
            level_notes=data.level_notes,
            slo=plan.perf.slo,
            heatmap=heatmap_rows(data.categories, names),
            set_scores=heatmap_rows(data.set_scores.assign(category=""), names),
            names=names,
            drill_data=drill,
            calls=calls is not None,
            passages=bool(given),
            call_rows=call_rows(models, data.answers, names),
            review_data=pack_review(review_page),
            review_page=review_page,
            strategy=_records(data.strategy.table) if data.strategy else [],
            retrieval=data.retrieval,
            strategy_top=data.strategy.top_gainers if data.strategy else {},
            strategy_baseline=data.strategy.baseline if data.strategy else None,
            shot_notes=shot_notes(plan.variants, data.sets) if data.strategy else [],
            decision_variant=plan.decision_variant,
            lmeval_columns=[c for c in models.columns if c.startswith("lmeval_") and not c.endswith("_stderr")],
            variant_chart=variant_chart(data.strategy.table) if data.strategy else None,
            judge=plan.panel_judges[0] if plan.panel_judges else None,
            judge_info=data.panel.judges[0].info if data.panel and len(data.panel.judges) == 1 else None,
            panel=data.panel,
            judge_summary=js,
            judge_wait=data.judge_wait,
            judge_pairwise=_records(js.pairwise) if js else [],
            judge_injection=_records(js.injection) if js else [],
            sets=data.sets,
            thinking=data.reasoning is not None,
            thinking_switch=data.reasoning is not None
            and any(v.thinking is True for v in plan.variants)
            and any(v.thinking is False for v in plan.variants),
            thinking_split=_split_note(data.reasoning),
            variants=variant_rows(data.variants, data.contamination),
            review=data.review,
            quality=data.quality,
            review_changes=data.review_changes,
            judge_trust=judge_trust_of(data),
            generated_at=time.time(),
        )
    )


def _split_note(reasoning: pd.DataFrame | None) -> str | None:
    """Where the thinking-token counts came from, in words."""
    if reasoning is None:
        return None
    words = {"usage": "from the server's usage details", "tokenizer": "counted with the candidate's tokenizer"}
    found = {part for s in reasoning.token_split.dropna() for part in str(s).split("+")}
    return "; ".join(words[f] for f in sorted(found, reverse=True) if f in words) or None


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while the roll-up builds millions of short-lived objects.

    Each collection walks every live object; at 200,000 answers the collector ran often
    enough to take a quarter of the report's time, and reference counting frees
    nearly all of these objects anyway.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build_report(run_dir: Path, out_dir: Path, decided: Callable[[Recommendation], None] | None = None) -> Path:
    """Write index.html, summary.csv and summary.json for a run; returns the page's path. ``decided``, when
    given, is told the report's recommendation (the command line says on screen why there is none).

    Everything happens with the collector paused (:func:`gc_paused`). Drawing the charts leaves
    reference cycles (matplotlib's mathtext parser keeps tracebacks) that hold the stack's frames,
    and so the roll-up, until the collection that follows; that collection is short because the
    roll-up keeps frames, not one record object per answer (it took ~2 s when it kept 200,000 scores).
    """
    with gc_paused():
        data = load_report_data(run_dir)
        index = write_report(data, out_dir, lambda keys: answer_contexts(run_dir, keys), str(run_dir),
                             lambda keys: answer_calls(run_dir, keys), lambda: answer_passages(run_dir))  # fmt: skip
    if decided is not None:
        decided(data.recommendation)
    return index


def write_report(
    data: ReportData, out_dir: Path, read_contexts: ContextReader | None = None, run_dir: str | None = None,
    read_calls: CallReader | None = None, read_passages: PassageReader | None = None,
) -> Path:  # fmt: skip
    """Write the page, summary.csv and summary.json of ``data`` into ``out_dir``; returns the page's path.
    ``read_contexts``, ``run_dir`` (the run directory as the user named it, for the page's
    ``harness review add`` hint), ``read_calls``, ``read_passages``: as in :func:`render_html`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    index = out_dir / "index.html"
    atomic_write_text(index, render_html(data, read_contexts, run_dir, read_calls, read_passages))
    atomic_write_text(
        out_dir / "summary.csv",
        data.models.drop(columns=["violations"])
        .assign(violations=["; ".join(v) if isinstance(v, list) else "" for v in data.models.violations])
        .to_csv(index=False),
    )
    atomic_write_json(out_dir / "summary.json", summary_json(data))
    return index
