"""Figures that say no more than their evidence (issue 28): the thinking arm's own figures; variants against
their base at the floor or ceiling, with the smallest detectable difference, the answers that changed, memory
computed and measured apart, and throughput and $ named as single measurements.

Every expected value is worked by hand in a comment beside it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from harness.manifest_records import CandidateEntry, RunManifest
from harness.perf_records import CapacityRecord
from harness.records import Candidate, CheckResult, Generation, Phase, Plan, QuestionSet, Score
from harness.report.render import _env, _records
from harness.report.variants import variant_rows
from harness.rollup.figures import RunRecords, assemble, repeated_throughputs
from harness.rollup.frames import views
from harness.rollup.variants import Resampling, changed_answers, compare_variants, repeat_ranges, spread, summary_line

# One candidate, four questions, each asked with thinking on and off. Chosen so pooled and per-arm figures differ:
#   on:  TTFT 1000, 2000, 3000, 4000 ms; E2E 2000..5000 ms; 400, 400, 600, 600 tokens; scores 1, 1, 1, 0
#   off: TTFT  100,  200,  300,  400 ms; E2E  500.. 800 ms; 100 tokens each;           scores 1, 0, 0, 0
ARMS = {
    "on": {"ttft": [1000, 2000, 3000, 4000], "e2e": [2000, 3000, 4000, 5000], "tokens": [400, 400, 600, 600],
           "score": [1, 1, 1, 0]},
    "off": {"ttft": [100, 200, 300, 400], "e2e": [500, 600, 700, 800], "tokens": [100, 100, 100, 100],
            "score": [1, 0, 0, 0]},
}  # fmt: skip


def thinking_run(decide_on: str | None = None) -> RunRecords:
    qs = QuestionSet.model_validate({"id": "s", "title": "T", "language": "en", "questions": [
        {"id": f"q{i}", "category": "c", "question": f"Question {i}?",
         "checks": [{"type": "contains_any", "args": {"values": ["yes"]}}]} for i in range(4)]})  # fmt: skip
    plan = Plan.model_validate({
        "name": "p", "question_sets": ["s.yaml"], "bootstrap_resamples": 200,
        # $0.864 per GPU-hour = $0.00024 per second
        "candidates": [{"name": "m", "model": "org/m", "price_per_gpu_hour_usd": 0.864}],
        "variants": [{"name": "on", "kind": "zero_shot", "thinking": True},
                     {"name": "off", "kind": "zero_shot", "thinking": False}],
        **({"decide_on": decide_on} if decide_on else {}),
    })  # fmt: skip
    gens, scores = [], []
    for variant, arm in ARMS.items():
        for i in range(4):
            key = f"m/{variant}/s/q{i}/0"
            thinks = variant == "on"
            gens.append(Generation(
                key=key, candidate="m", variant=variant, set_id="s", question_id=f"q{i}", sample=0, api="chat", seed=0,
                text="yes" if arm["score"][i] else "no", output_tokens=arm["tokens"][i],
                ttft_ms=float(arm["ttft"][i]), e2e_ms=float(arm["e2e"][i]),
                reasoning="thought" if thinks else None, reasoning_tokens=arm["tokens"][i] - 10 if thinks else 0,
                answer_tokens=10 if thinks else arm["tokens"][i], token_split="usage" if thinks else None,
                ttfat_ms=float(arm["ttft"][i]) + 500 if thinks else float(arm["ttft"][i]),
            ))  # fmt: skip
            ok = bool(arm["score"][i])
            check = CheckResult(type="contains_any", weight=1, score=float(ok), passed=ok, explanation="x")
            scores.append(Score(key=key, candidate="m", variant=variant, set_id="s", question_id=f"q{i}", sample=0,
                                score=float(ok), essentials_passed=ok, checks=[check]))  # fmt: skip
    g, s = views(gens, scores)
    # 2,400 output tokens (2,000 on + 400 off) in a 10 s phase: 240 tok/s on the server
    phases = [Phase(candidate="m", started_at=0.0, ended_at=10.0, requests=8)]
    manifest = RunManifest(candidates={"m": CandidateEntry(api="chat", error=None)})
    return RunRecords(plan=plan, manifest=manifest, sets={"s": qs}, gens=g, scores=s, phases=phases, levels=[],
                      capacity=[], perf_records=[], judgments=None)  # fmt: skip


def model_row(decide_on: str | None = None) -> dict[str, Any]:
    (row,) = _records(assemble(thinking_run(decide_on)).models)
    return row


def test_the_thinking_arm_is_measured_on_its_own_answers() -> None:
    m = model_row()
    # TTFT p50 of the thinking arm: median of 1000, 2000, 3000, 4000 = 2500 (pooled with "off" it would be
    # the median of 100, 200, 300, 400, 1000, 2000, 3000, 4000 = (400 + 1000) / 2 = 700)
    assert m["arm_ttft_p50_ms"] == pytest.approx(2500.0)
    assert m["ttft_p50_ms"] == pytest.approx(700.0)  # the server's figure over every request stays pooled
    # E2E p95, linear interpolation: on 2000..5000 -> rank 0.95 x 3 = 2.85 -> 4000 + 0.85 x 1000 = 4850
    # (pooled: rank 0.95 x 7 = 6.65 over 500, 600, 700, 800, 2000, 3000, 4000, 5000 -> 4650)
    assert m["arm_e2e_p95_ms"] == pytest.approx(4850.0)
    # mean output tokens: on (400 + 400 + 600 + 600) / 4 = 500 (pooled: 2400 / 8 = 300)
    assert m["arm_output_tokens_mean"] == pytest.approx(500.0)
    # $/1M tokens: $0.00024/s / 240 tok/s = $1e-6 per token = $1.00 per 1M
    assert m["usd_per_mtok"] == pytest.approx(1.0)
    # $ / 1k questions of the thinking arm: $1/1M x 500 tokens x 1000 = $0.50 (pooled would be $0.30)
    assert m["arm_usd_per_1k_questions"] == pytest.approx(0.5)
    # 3 of its 4 answers are acceptable: $0.50 / 0.75 = $0.6667 per 1k acceptable answers
    assert m["arm_usd_per_1k_acceptable"] == pytest.approx(0.5 / 0.75)
    # the decision card prices the decision variant ("on", the plan's first): also 500 tokens -> $0.50
    assert m["usd_per_1k_questions"] == pytest.approx(0.5)


def test_the_decision_card_prices_its_own_variant() -> None:
    m = model_row(decide_on="off")
    # decided on "off": 100 tokens an answer -> $1/1M x 100 x 1000 = $0.10; 1 of 4 acceptable -> $0.40
    assert m["usd_per_1k_questions"] == pytest.approx(0.1)
    assert m["usd_per_1k_acceptable"] == pytest.approx(0.4)
    assert m["arm_usd_per_1k_questions"] == pytest.approx(0.5)  # the Thinking section still shows the "on" arm's


def test_the_thinking_table_shows_the_arms_figures() -> None:
    data = assemble(thinking_run())
    html = _env().get_template("reasoning.html.j2").render(models=_records(data.models), thinking_split=None,
                                                           thinking_switch=True)  # fmt: skip
    row = html.split('data-candidate="m"')[1].split("</tr>")[0]
    cells = [c.split(">", 1)[1].split("<", 1)[0] for c in row.split("<td")[1:]]
    # columns: candidate, answers with thinking, thinking p50, p95, answer p50, p95, TTFT p50, TTFAT p50, p95,
    # answer time p50, E2E p95, cut off, $ / 1k questions, $ / 1k acceptable
    assert cells[6] == "2,500" and cells[10] == "4,850"
    assert cells[12] == "0.5000" and cells[13] == "0.6667"


# ------------------------------------------------------------------ variants against their base

BASE = Candidate(name="b", model="m")
QUANT = Candidate(name="q", model="m-int4", base="b")
LORA = Candidate(name="a", model="m", base="b", adapter="./ad")


def questions_of(scores: dict[str, list[float]]) -> pd.DataFrame:
    """candidate x question rows, questions s/q0..s/qN-1 with weight 1."""
    return pd.DataFrame([{"candidate": c, "set_id": "s", "question_id": f"q{i}", "category": "c", "score": v,
                          "weight": 1.0} for c, values in scores.items() for i, v in enumerate(values)])  # fmt: skip


def answers_with(texts: dict[str, list[str | None]]) -> pd.DataFrame:
    """One answer (sample 0) per question; None: a failed request."""
    return pd.DataFrame([{"candidate": c, "set_id": "s", "question_id": f"q{i}", "sample": 0, "ok": t is not None,
                          "text": t or ""} for c, values in texts.items() for i, t in enumerate(values)])  # fmt: skip


# Memory: computed (weights + KV in use) 10 GiB vs 4.9 GiB -> -51 %; measured NVML peaks 70 vs 67.55 GiB -> -3.5 %
MODELS = pd.DataFrame({
    "candidate": ["b", "q", "a"],
    "memory_needed_gib": [10.0, 4.9, 10.0],
    "peak_memory_gib": [70.0, 67.55, 70.0],
    "peak_memory_source": ["nvml", "nvml", "nvml"],
    "best_out_tok_per_s": [100.0, 70.0, 90.0],
    "usd_per_mtok": [2.0, 2.0 / 0.7, 2.0 / 0.9],
})  # fmt: skip


def test_a_4bit_build_at_the_floor_is_not_read_as_lossless() -> None:
    # The issue's case: both score 0 on 22 questions, every one of its 22 answers differs from the base's.
    questions = questions_of({"b": [0.0] * 22, "q": [0.0] * 22})
    answers = answers_with({"b": [f"base {i}" for i in range(22)], "q": [f"int4 {i}" for i in range(22)]})
    (c,) = compare_variants(questions, MODELS, [BASE, QUANT], 0.5, draws=Resampling(200), answers=answers)
    assert c.bound == "floor"
    assert (c.answers_changed, c.answers_paired) == (22, 22)
    line = summary_line(c)
    assert "both at the floor (scores near 0): these questions cannot show a difference" in line
    assert "22 of 22 answers differ from the base's" in line
    # computed and measured memory apart: 4.9 / 10 - 1 = -51 %; 67.55 / 70 - 1 = -3.5 %
    assert line.endswith(
        "; for \u221251 % memory computed (weights + KV cache in use), \u22123.5 % measured peak memory"
    )


def test_the_ceiling_and_the_smallest_detectable_difference() -> None:
    # base 1.0 on 10 questions, variant 0.96 mean (nine 1.0 and one 0.6): both >= 0.95 -> ceiling
    (c,) = compare_variants(questions_of({"b": [1.0] * 10, "q": [1.0] * 9 + [0.6]}), MODELS, [BASE, QUANT], 0.5,
                            draws=Resampling(200))  # fmt: skip
    assert c.bound == "ceiling" and c.answers_paired is None  # no answers given: nothing counted
    # 8 questions, differences 0 x 6, +1, -1: mean 0, sample variance (1 + 1) / 7 = 0.285714, sd 0.534522;
    # MDD = (z.975 1.959964 + z.80 0.841621) x 0.534522 / sqrt(8) = 2.801585 x 0.188982 = 0.52945 -> 52.9 points
    (d,) = compare_variants(questions_of({"b": [0.5] * 6 + [0.0, 1.0], "q": [0.5] * 6 + [1.0, 0.0]}), MODELS,
                            [BASE, QUANT], 0.5, draws=Resampling(200))  # fmt: skip
    assert d.bound is None and d.diff.mdd == pytest.approx(0.52945, abs=1e-4)
    assert "(n.s.; smallest detectable difference 52.9 points)" in summary_line(d)


def test_changed_answers_pair_the_same_question_and_sample_and_skip_failures() -> None:
    # q0 same text (whitespace aside), q1 differs, q2 failed for the variant (not paired), q3 differs -> 2 of 3
    answers = answers_with({"b": ["yes", "no", "maybe", "x"], "q": ["yes  ", "No", None, "y"]})
    assert changed_answers(answers, "q", "b") == (2, 3)


def test_measured_memory_is_compared_only_when_measured_the_same_way() -> None:
    models = MODELS.assign(peak_memory_source=["nvml", "host", "nvml"])
    (c,) = compare_variants(questions_of({"b": [0.5, 1.0], "q": [0.5, 0.0]}), models, [BASE, QUANT], 0.5,
                            draws=Resampling(200))  # fmt: skip
    assert c.deltas["memory_measured"] is None and c.deltas["memory"] == pytest.approx(-0.51)


def test_the_variants_table_labels_memory_and_single_measurements() -> None:
    questions = questions_of({"b": [1.0, 0.0, 1.0], "q": [1.0, 0.0, 0.0], "a": [1.0, 1.0, 1.0]})
    out = compare_variants(questions, MODELS, [BASE, QUANT, LORA], 0.5, draws=Resampling(200))
    html = _env().get_template("variants.html.j2").render(variants=variant_rows(out, {}), decision_variant="v")
    quant = html.split('<tr data-variant="q">')[1].split("</tr>")[0]
    lora = html.split('<tr data-variant="a">')[1].split("</tr>")[0]
    assert "\u221251 %" in quant and "\u22123.5 %" in quant  # computed and measured side by side
    assert "shares the base's server" in lora and "\u221251" not in lora and "%" in lora
    # throughput 70 / 100 - 1 = -30 %, one measurement of each side: labelled, no interval
    assert '\u221230 % <span class="muted spread">single measurement</span>' in quant
    assert "memory, computed" in html and "memory, measured peak" in html


def test_the_memory_table_shows_measured_and_computed_apart() -> None:
    from harness.perf_records import GpuSummary, MemorySummary, MetricsSummary, PerfRecord, ServerLogFacts
    from harness.rollup.figures import measured_peak_gib

    h100 = GpuSummary(index=0, name="H100", total_gib=80.0, peak_used_gib=71.25, mean_util_pct=None,
                      mean_power_w=None, energy_j=None)  # fmt: skip
    memory = MemorySummary(source="nvml", duration_s=1.0, samples=2, peak_used_gib=71.25, total_gib=80.0, gpus=[h100])
    assert measured_peak_gib(memory) == (71.25, "nvml")
    assert measured_peak_gib(MemorySummary(source="host", duration_s=1.0, samples=2, peak_rss_gib=3.5)) == (3.5, "host")
    assert measured_peak_gib(MemorySummary(source="nvml", duration_s=1.0, samples=2)) == (None, None)
    assert measured_peak_gib(None) == (None, None)
    record = PerfRecord(candidate="m", started_at=0.0, memory=memory,
                        metrics=MetricsSummary(scrapes=2, peak_kv_cache_usage_frac=0.2),
                        server=ServerLogFacts(weights_gib=15.0, kv_cache_gib=50.0))  # fmt: skip
    # computed need: 15 GiB weights + 50 GiB KV x 0.2 in use = 25 GiB (memory_needed_gib, one GPU)
    html = (
        _env()
        .get_template("memory.html.j2")
        .render(perf_records={"m": record}, models=[{"candidate": "m", "memory_needed_gib": 25.0, "answers": 1}])
    )
    row = html.split("<tbody>")[1].split("</tr>")[0]
    assert "71.25 / 80" in row and '<td class="num computed">25.00</td>' in row
    assert "peak memory, measured (GiB)" in html and "needed, computed (GiB / GPU)" in html


def test_repeated_capacity_runs_give_the_cost_deltas_a_range() -> None:
    # base runs 95, 100, 105 tok/s (median 100), variant 60, 70, 80 (median 70): point delta 70 / 100 - 1 = -30 %;
    # over the 9 pairs: lowest 60 / 105 - 1 = -42.86 %, highest 80 / 95 - 1 = -15.79 %
    deltas = {"throughput": -0.30, "usd_per_mtok": 2 / 0.7 / 2 - 1, "usd_per_1k_acceptable": None}
    ranges = repeat_ranges(deltas, [60.0, 70.0, 80.0], [95.0, 100.0, 105.0])
    assert ranges["throughput"] == pytest.approx((60 / 105 - 1, 80 / 95 - 1))
    # $ per token scales as 1 / throughput: (1 + 0.428571) x 0.7 / ratio - 1 = 1 / ratio - 1:
    # 95 / 80 - 1 = +18.75 % at the fastest pair, 105 / 60 - 1 = +75 % at the slowest
    assert ranges["usd_per_mtok"] == pytest.approx((0.1875, 0.75))
    assert "usd_per_1k_acceptable" not in ranges  # no point delta: nothing to range
    assert repeat_ranges(deltas, [70.0], []) == {}  # one side measured once: a single measurement

    capacity = [
        CapacityRecord(candidate="b", kind="concurrency", estimate=8, lower=8, upper=16, out_tok_per_s=100.0,
                       points=[{"value": 8, "met": [True] * 3, "out_tok_per_s": [95.0, 100.0, 105.0]},
                               {"value": 16, "met": [False] * 3, "out_tok_per_s": [150.0, 151.0, 152.0]}]),
        CapacityRecord(candidate="q", kind="concurrency", estimate=8, lower=8, upper=16, out_tok_per_s=70.0,
                       points=[{"value": 8, "met": [True] * 3, "out_tok_per_s": [60.0, 70.0, 80.0]}]),
    ]  # fmt: skip
    models = MODELS.assign(cost_basis=["SLO capacity c8 (8–16)", "SLO capacity c8 (8–16)", "generation phase"])
    runs = repeated_throughputs(capacity, models)
    assert runs == {"b": [95.0, 100.0, 105.0], "q": [60.0, 70.0, 80.0]}  # the estimate's runs only; "a" has none
    questions = questions_of({"b": [1.0, 0.0, 1.0], "q": [1.0, 0.0, 0.0], "a": [1.0, 1.0, 1.0]})
    quant, lora = compare_variants(questions, MODELS, [BASE, QUANT, LORA], 0.5, draws=Resampling(200), runs=runs)
    assert spread(quant, "throughput") == "\u221243 to \u221216 % over 3 \u00d7 3 runs"
    assert spread(lora, "throughput") == "single measurement"  # its base has runs, the adapter none
    html = _env().get_template("variants.html.j2").render(variants=variant_rows([quant], {}), decision_variant="v")
    assert '\u221230 % <span class="muted spread">\u221243 to \u221216 % over 3 \u00d7 3 runs</span>' in html
