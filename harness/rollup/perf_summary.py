"""Phase statistics (pure): throughput, latency percentiles, goodput, SLO attainment, cost.

One function, :func:`harness.timing.phase_stats` (foundation, since the run's capacity search
judges its points with it too), summarises any phase (the generation phase or one level of the
load sweep) into a :class:`~harness.timing.PhaseStats`, with the definitions of ``vllm bench serve``:
throughput over the phase's wall time,
percentiles by linear interpolation, goodput = requests per second that met every SLO. This module
puts those statistics into the report's frames, with cost.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

import pandas as pd

from harness import timing as stats
from harness.perf_records import CapacityRecord, MetricsSummary, ServerLogFacts
from harness.records import Candidate, LevelCalls, LoadLevel, Perf, Phase, Slo
from harness.rubric.tool_figures import pooled_call_accuracy
from harness.timing import phase_stats


def energy_per_token_j(energy_j: float | None, output_tokens: int | None) -> float | None:
    """Joules per output token; None when either is unknown or no token was produced."""
    if energy_j is None or not output_tokens:
        return None
    return energy_j / output_tokens


def sweep_frame(levels: Sequence[LoadLevel], slo: Slo) -> pd.DataFrame:
    """One row per (candidate, level) sent, in the order run; a skipped level has no row (no figures).

    Columns: ``candidate``, ``level``, ``kind``, ``value``, the fields of the level's
    :class:`~harness.timing.PhaseStats` in their order, then ``stopped``, ``unsent``, ``cut``, ``measured``.

    A level the online stop cut short (``stopped``: why) keeps the figures of the answers it got, but
    they are not a measured point: ``measured`` is False and it never meets the SLOs (its queue was
    still growing, and ``unsent`` + ``cut`` requests have no answer).

    When some level graded tool calls (``LoadLevel.calls``), every row also has :data:`LEVEL_CALL_COLUMNS`
    (None where its level graded none): a sweep without them has the columns it always had.
    """
    rows = []
    with_calls = any(lv.calls is not None for lv in levels if not lv.skipped)
    for lv in levels:
        if lv.skipped:
            continue
        row = {"candidate": lv.candidate, "level": lv.level_id, "kind": lv.kind, "value": lv.value,
               **phase_stats(lv.requests, lv.wall_s, slo).model_dump(), "stopped": lv.stopped, "unsent": lv.unsent,
               "cut": lv.cut, "measured": lv.stopped is None}  # fmt: skip
        if lv.stopped:
            row["meets_slo"] = False
        if with_calls:
            row |= level_call_columns(lv.calls)
        rows.append(row)
    return pd.DataFrame(rows)


LEVEL_CALL_COLUMNS = ("call_responses", "call_accuracy", "unparsable_share", "wrong_calls", "missed_calls",
                      "right_calls", "expect_call_responses", "unparsable_calls")  # fmt: skip
"""A sweep level's tool-call figures (:class:`~harness.records.LevelCalls`): responses graded, call accuracy,
unparsable share, the wrong-call and missed-call counts, and the counts the two rates are made of (right of
the responses to ``expect_call`` questions; unparsable of the responses graded)."""


def level_call_columns(calls: LevelCalls | None) -> dict[str, Any]:
    """:data:`LEVEL_CALL_COLUMNS` of one level (every one None when it graded no calls)."""
    if calls is None:
        return dict.fromkeys(LEVEL_CALL_COLUMNS)
    return {"call_responses": calls.responses, "call_accuracy": calls.call_accuracy,
            "unparsable_share": calls.unparsable_share, "wrong_calls": calls.wrong_call,
            "missed_calls": calls.missed_call, "right_calls": calls.right,
            "expect_call_responses": calls.expect_call_responses, "unparsable_calls": calls.unparsable}  # fmt: skip


def level_notes(levels: Sequence[LoadLevel]) -> list[dict[str, Any]]:
    """The sweep levels a reader must be told about, in the order run: skipped, cut short, or with guard problems.

    Each: ``{candidate, level, status ("skipped" | "cut" | "guards"), reason, unsent, cut, problems}``.
    """
    out = []
    for lv in levels:
        problems = list(lv.guards.problems) if lv.guards else []
        status = "skipped" if lv.skipped else "cut" if lv.stopped else "guards" if problems else None
        if status is None:
            continue
        out.append({"candidate": lv.candidate, "level": lv.level_id, "status": status,
                    "reason": lv.skipped or lv.stopped, "unsent": lv.unsent, "cut": lv.cut,
                    "problems": problems})  # fmt: skip
    return out


def best_levels(sweep: pd.DataFrame) -> pd.DataFrame:
    """Per candidate, the level with the highest output tok/s among those meeting the SLOs."""
    if sweep.empty:
        return pd.DataFrame(columns=["candidate", "level", "out_tok_per_s", "requests_per_s"])
    measured = sweep.measured if "measured" in sweep else True
    meeting = sweep[sweep.meets_slo & sweep.out_tok_per_s.notna() & measured]
    if meeting.empty:
        return pd.DataFrame(columns=["candidate", "level", "out_tok_per_s", "requests_per_s"])
    idx = meeting.groupby("candidate").out_tok_per_s.idxmax()
    return meeting.loc[idx, ["candidate", "level", "out_tok_per_s", "requests_per_s"]].reset_index(drop=True)


def cost_row(price_usd_per_gpu_hour: float | None, gpus: int, best_out_tok_per_s: float | None,
             best_requests_per_s: float | None, gpu_seconds: float,
             tokens_per_answer: float | None = None) -> dict[str, float | None]:  # fmt: skip
    """$ per 1M output tokens and per 1,000 questions at the best SLO-meeting level; GPU-hours used.

    With ``tokens_per_answer`` (this run's mean output tokens per answer, thinking included) a
    question costs what its tokens cost at that level: a model that thinks 2,000 tokens per
    answer pays for them. Without it, 1,000 requests at the level's requests/s.
    """
    price = price_usd_per_gpu_hour or 0.0
    per_mtok = stats.usd_per_mtok(price, gpus, best_out_tok_per_s)
    per_thousand = None
    if per_mtok is not None and tokens_per_answer:
        per_thousand = per_mtok * tokens_per_answer * 1000 / 1e6
    elif price > 0 and best_requests_per_s:
        per_thousand = price * gpus * (1000 / best_requests_per_s) / 3600
    return {
        "usd_per_mtok": per_mtok,
        "usd_per_1k_questions": per_thousand,
        "gpu_hours": gpu_seconds * gpus / 3600,
    }


def price_per_gpu_hour(cand: Candidate, perf: Perf) -> float | None:
    """The candidate's own price, else the plan's price for its GPU type, else the documented default."""
    if cand.price_per_gpu_hour_usd > 0:
        return cand.price_per_gpu_hour_usd
    if perf.gpu is None:
        return None
    if perf.gpu in perf.gpu_prices_usd_per_hour:
        return perf.gpu_prices_usd_per_hour[perf.gpu]
    from harness.inputs.gpus import gpu

    return gpu(perf.gpu).price_usd_per_hour


def capacity_frame(records: Sequence[CapacityRecord]) -> pd.DataFrame:
    """One row per candidate whose SLO capacity was searched (the last record of each)."""
    rows = {r.candidate: {"candidate": r.candidate, "capacity_kind": r.kind, "capacity": r.estimate,
                          "capacity_low": r.lower, "capacity_high": r.upper, "capacity_req_per_s": r.requests_per_s,
                          "capacity_out_tok_per_s": r.out_tok_per_s} for r in records}  # fmt: skip
    cols = ["candidate", "capacity_kind", "capacity", "capacity_low", "capacity_high", "capacity_req_per_s",
            "capacity_out_tok_per_s"]  # fmt: skip
    return pd.DataFrame(list(rows.values()), columns=cols)


def target_load_cost(target_rps: float, capacity_req_per_s: float | None, gpus: int, price: float | None,
                     gpu_name: str | None) -> dict[str, Any]:  # fmt: skip
    """What serving ``target_rps`` within the SLOs takes: whole replicas of ``gpus`` GPUs each (pure).

    replicas = ceil(target / one replica's SLO capacity in requests/s); $/h = replicas x gpus x price.
    Every value is None without a capacity; the cost is None without a price.
    """
    none = {"target_replicas": None, "target_gpus": None, "target_usd_per_hour": None, "target_load": None}
    if not capacity_req_per_s or capacity_req_per_s <= 0:
        return none
    replicas = math.ceil(target_rps / capacity_req_per_s - 1e-9)
    total = replicas * gpus
    usd = total * price if price else None
    text = (f"for {target_rps:g} requests/s within the SLOs: {total} × {gpu_name or 'GPU'}"
            + (f", ${usd:,.2f}/h" if usd is not None else ""))  # fmt: skip
    return {"target_replicas": replicas, "target_gpus": total, "target_usd_per_hour": usd, "target_load": text}


def cost_frame(candidates: Sequence[Candidate], perf: Perf, sweep: pd.DataFrame, phases: Sequence[Phase],
               fallback: pd.DataFrame, capacity: pd.DataFrame | None = None) -> pd.DataFrame:  # fmt: skip
    """Per candidate: the best SLO-meeting level and what serving costs there.

    Without a sweep (or when no level meets the SLOs) the generation phase's
    throughput from ``fallback`` (the model summary) is used and labelled so. A searched
    SLO capacity (``capacity``: :func:`capacity_frame`) is the basis when there is one, and
    with ``perf.target_rps`` the cost of that load is added (:func:`target_load_cost`).
    """
    rows = _cost_rows(candidates, perf, sweep, phases, fallback)
    if capacity is None or capacity.empty:
        return rows
    cap = capacity.set_index("candidate")
    for i, cand in enumerate(candidates):
        if cand.name not in cap.index or is_nan(cap.loc[cand.name, "capacity_out_tok_per_s"]):
            continue
        c = cap.loc[cand.name]
        kind = "c" if c.capacity_kind == "concurrency" else "r"
        rows.loc[i, "cost_basis"] = f"SLO capacity {kind}{c.capacity:g} ({_g(c.capacity_low)}–{_g(c.capacity_high)})"
        rows.loc[i, "best_out_tok_per_s"] = c.capacity_out_tok_per_s
        rows.loc[i, "best_requests_per_s"] = c.capacity_req_per_s
        price, gpus = price_per_gpu_hour(cand, perf), cand.gpus
        fresh = cost_row(price, gpus, c.capacity_out_tok_per_s, c.capacity_req_per_s, 0.0,
                         _tokens_per_answer(fallback, cand.name))  # fmt: skip
        rows.loc[i, ["usd_per_mtok", "usd_per_1k_questions"]] = [fresh["usd_per_mtok"], fresh["usd_per_1k_questions"]]
        if perf.target_rps:
            for k, v in target_load_cost(perf.target_rps, c.capacity_req_per_s, gpus, price, perf.gpu).items():
                rows.loc[i, k] = v
    return rows


def _g(v: Any) -> str:
    return "?" if is_nan(v) else f"{v:g}"


def is_nan(v: Any) -> bool:
    return v is None or (isinstance(v, float) and v != v)


def _cost_rows(candidates: Sequence[Candidate], perf: Perf, sweep: pd.DataFrame, phases: Sequence[Phase],
               fallback: pd.DataFrame) -> pd.DataFrame:  # fmt: skip
    best = best_levels(sweep).set_index("candidate") if not sweep.empty else pd.DataFrame()
    rows = []
    for cand in candidates:
        gpus = cand.gpus
        seconds = sum(p.ended_at - p.started_at + (p.server_start_s or 0) for p in phases if p.candidate == cand.name)
        if not sweep.empty:
            seconds += float(sweep[sweep.candidate == cand.name].wall_s.sum())
        if cand.name in best.index:
            level, tok_s, req_s = (
                best.loc[cand.name, "level"],
                best.loc[cand.name, "out_tok_per_s"],
                best.loc[cand.name, "requests_per_s"],
            )
        else:
            row = fallback.set_index("candidate").loc[cand.name] if cand.name in set(fallback.candidate) else None
            level = "generation phase" if row is not None else None
            tok_s = row.out_tok_per_s if row is not None else None
            req_s = row.requests_per_s if row is not None else None
        rows.append(
            {
                "candidate": cand.name,
                "cost_basis": level,
                "best_out_tok_per_s": tok_s,
                "best_requests_per_s": req_s,
                "price_usd_per_gpu_hour": price_per_gpu_hour(cand, perf),
                **cost_row(
                    price_per_gpu_hour(cand, perf),
                    gpus,
                    tok_s,
                    req_s,
                    seconds,
                    _tokens_per_answer(fallback, cand.name),
                ),
            }
        )
    return pd.DataFrame(rows)


def _tokens_per_answer(models: pd.DataFrame, name: str) -> float | None:
    """Mean output tokens per answer (thinking included) from the model summary, when it has them."""
    if "mean_output_tokens" not in models or name not in set(models.candidate):
        return None
    value = models.set_index("candidate").loc[name, "mean_output_tokens"]
    return float(value) if value is not None and value == value and value > 0 else None


def memory_needed_gib(server: ServerLogFacts, metrics: MetricsSummary | None, gpus: int) -> float | None:
    """Memory one GPU needs for this model at the run's peak: weights + the KV cache actually used, / GPUs.

    vLLM reserves most of a GPU up front, so the memory a GPU shows in use is not what
    the model needs; the weights (logged by vLLM, else the checkpoint size) plus the
    peak share of the KV cache in use is. None when the log gives neither figure.
    """
    weights = server.weights_gib or server.checkpoint_gib
    if weights is None:
        return None
    kv_gib, usage = server.kv_cache_gib, metrics.peak_kv_cache_usage_frac if metrics is not None else None
    kv_used = kv_gib * usage if kv_gib is not None and usage is not None else 0.0
    return (weights + kv_used) / max(gpus, 1)


def slo_text(slo: Slo) -> str:
    """The SLOs in words: ``TTFT ≤ 320 ms, E2E ≤ 2000 ms; 95% of requests`` (limits not set are left out)."""
    limits = [f"{name} ≤ {v:g} ms" for name, v in (("TTFT", slo.ttft_ms), ("TPOT", slo.tpot_ms), ("E2E", slo.e2e_ms))
              if v is not None]  # fmt: skip
    return f"{', '.join(limits) or 'no latency limit'}; {slo.attainment:.0%} of requests"


def capacity_rows(
    records: Sequence[CapacityRecord], candidates: Sequence[Candidate], perf: Perf
) -> list[dict[str, Any]]:
    """Per searched candidate (its last record), what the report shows of the search (pure).

    ``{candidate, kind, estimate, lower, upper, req_per_s, out_tok_per_s, slo, target_load, points}``:
    ``slo`` in words (the record's, else the plan's); ``target_load`` the cost of ``perf.target_rps``
    from this capacity (:func:`target_load_cost`; None without a target or a capacity); ``points``
    in the order probed, each ``{order, level, value, runs ("pass"/"fail"/"cut" per repeat), passed,
    goodput_req_per_s (median of its runs)}``. A search that graded tool calls adds ``call_accuracy`` to the
    row (over the estimate's runs) and to each point that graded them (over its runs); another has no such key.
    """
    by_name = {c.name: c for c in candidates}
    last = {r.candidate: r for r in records}
    rows = []
    for name, r in last.items():
        cand = by_name.get(name)
        target = None
        if perf.target_rps and cand is not None:
            target = target_load_cost(perf.target_rps, r.requests_per_s, cand.gpus, price_per_gpu_hour(cand, perf),
                                      perf.gpu)["target_load"]  # fmt: skip
        rows.append({"candidate": name, "kind": r.kind, "estimate": r.estimate, "lower": r.lower, "upper": r.upper,
                     "req_per_s": r.requests_per_s, "out_tok_per_s": r.out_tok_per_s,
                     "slo": slo_text(r.slo or perf.slo), "target_load": target,
                     "points": _probed_points(r)})  # fmt: skip
        if r.call_accuracy is not None:  # graded tool calls: their accuracy over the estimate's runs
            rows[-1]["call_accuracy"] = r.call_accuracy
    return rows


def _probed_points(r: CapacityRecord) -> list[dict[str, Any]]:
    """A record's points in the order probed (records without ``order``: by value)."""
    prefix = "c" if r.kind == "concurrency" else "r"
    out = []
    for k, p in enumerate(sorted(r.points, key=lambda p: p.order or 0)):
        met, stopped = p.met, p.stopped or [None] * len(p.met)
        runs = ["cut" if why else "pass" if ok else "fail" for ok, why in zip(met, stopped, strict=False)]
        goodput = [g for g in p.goodput_req_per_s if g is not None]
        point = {"order": p.order if p.order is not None else k + 1, "level": f"{prefix}{p.value:g}",
                 "value": p.value, "runs": runs, "passed": sum(met) * 2 > len(met),
                 "goodput_req_per_s": statistics.median(goodput) if goodput else None}  # fmt: skip
        if p.calls:  # graded tool calls: the point's call accuracy over its runs together
            point["call_accuracy"] = pooled_call_accuracy(p.calls)
        out.append(point)
    return out
