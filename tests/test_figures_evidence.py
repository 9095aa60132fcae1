"""Figures that say no more than their evidence (issue 28): the thinking arm's own figures.

Every expected value is worked by hand in a comment beside it.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.records import CheckResult, Generation, Phase, Plan, QuestionSet, Score
from harness.report.render import _env, _records
from harness.rollup.figures import RunRecords, assemble
from harness.rollup.frames import views

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
    manifest = {"candidates": {"m": {"api": "chat", "error": None}}}
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
