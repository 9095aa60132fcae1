"""Variants against their base: paired difference, flips, deltas, contamination, the one-line summary."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from harness.records import Candidate
from harness.rollup.significance import holm
from harness.rollup.variants import Resampling, compare_variants, families, relative_delta, summary_line

BASE = Candidate(name="b", model="m")
QUANT = Candidate(name="q", model="m-int8", base="b")
LORA = Candidate(name="a", model="m", base="b", adapter="./ad")


def _questions(scores: dict[str, list[float]]) -> pd.DataFrame:
    """candidate x question rows, questions s/q1..s/qN with weight 1."""
    rows = [{"candidate": c, "set_id": "s", "question_id": f"q{i}", "category": "c", "score": v, "weight": 1.0}
            for c, values in scores.items() for i, v in enumerate(values, start=1)]  # fmt: skip
    return pd.DataFrame(rows)


MODELS = pd.DataFrame({
    "candidate": ["b", "q", "a"],
    "memory_needed_gib": [10.0, 5.0, 10.0],
    "best_out_tok_per_s": [100.0, 150.0, None],
    "usd_per_mtok": [2.0, None, 2.0],
})  # fmt: skip


def test_families_pair_each_variant_with_its_base_in_plan_order() -> None:
    assert [(v.name, b.name) for v, b in families([BASE, QUANT, LORA])] == [("q", "b"), ("a", "b")]
    assert families([QUANT]) == []  # the base is not in the run


def test_paired_difference_flips_and_deltas() -> None:
    # base [1, 1, 0, .5], quantized [1, 0, 1, .5]: differences 0, -1, +1, 0 -> mean 0.
    # Acceptable at 0.5: base T T F T, quantized T F T T -> agree on q1, q4 (2 of 4);
    # q2 lost (base right, variant wrong), q3 gained.
    questions = _questions({"b": [1, 1, 0, 0.5], "q": [1, 0, 1, 0.5]})
    (c,) = compare_variants(questions, MODELS, [BASE, QUANT], threshold=0.5, draws=Resampling(500))
    assert (c.variant, c.base, c.kind, c.diff.n) == ("q", "b", "quantized", 4)
    assert c.diff.diff == pytest.approx(0.0)
    assert c.agreement == pytest.approx(0.5)
    assert (c.lost, c.gained) == (["s/q2"], ["s/q3"])
    # memory 5 vs 10 -> -50 %; throughput 150 vs 100 -> +50 %; $/1M unknown for the variant -> None;
    # $/1,000 acceptable is no column of this table -> None.
    assert c.deltas == {"memory": pytest.approx(-0.5), "memory_measured": None, "throughput": pytest.approx(0.5),
                        "usd_per_mtok": None, "usd_per_1k_acceptable": None}  # fmt: skip
    assert c.contaminated == [] and c.clean is None


def test_contaminated_questions_are_dropped_from_the_clean_difference() -> None:
    # adapter [1, 1, 1, 1] vs base [1, 1, 0, .5]: differences 0, 0, 1, .5 -> mean .375;
    # without q3 (its training data held it): 0, 0, .5 -> mean 1/6.
    questions = _questions({"b": [1, 1, 0, 0.5], "a": [1, 1, 1, 1]})
    (c,) = compare_variants(questions, MODELS, [BASE, LORA], 0.5, {"a": [("s", "q3")]}, draws=Resampling(500))
    assert c.kind == "lora"
    assert c.diff.diff == pytest.approx(0.375)
    assert c.contaminated == ["s/q3"]
    assert c.clean is not None and c.clean.n == 3 and c.clean.diff == pytest.approx(1 / 6)
    assert (c.lost, c.gained) == ([], ["s/q3"])  # base 0 -> adapter 1; q4 is acceptable for both


def test_p_values_are_holm_adjusted_over_every_variant() -> None:
    questions = _questions({"b": [0.0] * 12, "q": [1.0] * 12, "a": [0.0] * 11 + [1.0]})
    out = compare_variants(questions, MODELS, [BASE, QUANT, LORA], 0.5, draws=Resampling(500))
    raw = [c.diff.p_value for c in out]
    assert [c.p_holm for c in out] == holm(raw)
    # Twelve +1 differences: only the two all-equal sign patterns reach |T| -> p far below 0.05;
    # one +1 of twelve: half of all sign patterns reach it -> p near 1.
    assert out[0].significant is True and out[1].significant is False


def test_relative_delta() -> None:
    assert relative_delta(5.0, 10.0) == pytest.approx(-0.5)
    assert relative_delta(None, 10.0) is None
    assert relative_delta(5.0, float("nan")) is None
    assert relative_delta(5.0, 0.0) is None


def test_summary_line_of_a_quantized_build_without_a_difference() -> None:
    # Identical scores: every difference 0, interval [0, 0], p = 1 -> n.s.; no spread, so no detectable difference
    # to size; memory 5 vs 10 -> -50 %, computed (no measured peak in this table).
    questions = _questions({"b": [1, 0, 1], "q": [1, 0, 1]})
    (c,) = compare_variants(questions, MODELS, [BASE, QUANT], 0.5, draws=Resampling(200))
    assert summary_line(c) == (
        "quality +0.0 points [+0.0, +0.0] (n.s.; the per-question differences do not vary: no spread to size a "
        "detectable difference); for \u221250 % memory computed (weights + KV cache in use)"
    )


def test_summary_line_of_a_significant_adapter_with_contamination() -> None:
    # +1 on every one of 12 questions: +100 points [+100, +100], significant; without q1 still +100 (11 questions).
    questions = _questions({"b": [0.0] * 12, "a": [1.0] * 12})
    (c,) = compare_variants(questions, MODELS, [BASE, LORA], 0.5, {"a": [("s", "q1")]}, draws=Resampling(500))
    line = summary_line(c)
    assert re.fullmatch(
        r"quality \+100\.0 points \[\+100\.0, \+100\.0\] \(p=0\.0\d\d; the per-question differences do not vary: "
        r"no spread to size a detectable difference\); shares the base's server; "
        r"without the 1 question its training data held: \+100\.0 points \[\+100\.0, \+100\.0\]",
        line,
    ), line


def test_a_variant_without_shared_questions_says_so() -> None:
    questions = _questions({"b": [1.0]})
    (c,) = compare_variants(questions, MODELS, [BASE, QUANT], 0.5, draws=Resampling(200))
    assert c.diff.n == 0 and c.agreement is None
    assert summary_line(c).startswith("quality no shared questions")
