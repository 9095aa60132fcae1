"""Statistics behind the decision report, on cases with known answers."""

from __future__ import annotations

import itertools
from math import comb

import numpy as np
import pandas as pd
import pytest

from harness.records import Constraints, Weights
from harness.rollup.decision import DecisionRule, pareto_frontier, recommend, violations
from harness.rollup.frames import bootstrap_means, group_intervals
from harness.rollup.significance import (
    effective_n,
    holm,
    min_detectable_difference,
    paired_difference,
    sign_flip_p_value,
    versus_best,
)
from harness.rollup.stability import (
    FLIPS,
    STABLE_RIGHT,
    STABLE_WRONG,
    model_stability,
    pass_at_k,
    pass_hat_k,
    question_stability,
)

# ---------------------------------------------------------------- stability


@pytest.mark.parametrize(("n", "c", "k", "at_k", "hat_k"), [
    (5, 2, 2, 1 - comb(3, 2) / comb(5, 2), 1 / comb(5, 2)),   # 0.7, 0.1
    (3, 3, 3, 1.0, 1.0),
    (3, 0, 3, 0.0, 0.0),
    (3, 1, 3, 1.0, 0.0),                                       # n == k: any / all
    (4, 2, 1, 0.5, 0.5),                                       # k = 1: the pass rate
])  # fmt: skip
def test_pass_at_k_and_pass_hat_k_known_values(n: int, c: int, k: int, at_k: float, hat_k: float) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(at_k)
    assert pass_hat_k(n, c, k) == pytest.approx(hat_k)


def test_pass_estimators_match_drawing_k_of_n_without_replacement() -> None:
    n, c, k = 6, 3, 3
    outcomes = [True] * c + [False] * (n - c)
    draws = list(itertools.combinations(range(n), k))
    any_ok = sum(any(outcomes[i] for i in d) for d in draws) / len(draws)
    all_ok = sum(all(outcomes[i] for i in d) for d in draws) / len(draws)
    assert pass_at_k(n, c, k) == pytest.approx(any_ok)
    assert pass_hat_k(n, c, k) == pytest.approx(all_ok)


def test_pass_estimators_reject_impossible_counts() -> None:
    with pytest.raises(ValueError):
        pass_at_k(2, 3, 1)
    with pytest.raises(ValueError):
        pass_hat_k(2, 1, 3)


def _answers(rows: list[tuple[str, str, list[float]]], texts: dict[str, list[str]] | None = None) -> pd.DataFrame:
    out = []
    for cand, qid, scores in rows:
        for i, s in enumerate(scores):
            text = (texts or {}).get(f"{cand}/{qid}", [f"{qid}-{i}"] * len(scores))[i]
            out.append({"candidate": cand, "set_id": "s", "question_id": qid, "category": "c", "weight": 1.0,
                        "sample": i, "score": s, "text": text})  # fmt: skip
    return pd.DataFrame(out)


def test_question_stability_separates_stable_wrong_from_unstable_right() -> None:
    answers = _answers([
        ("m", "q1", [1.0, 1.0, 1.0]),      # stable right
        ("m", "q2", [0.0, 0.2, 0.0]),      # stable wrong
        ("m", "q3", [1.0, 0.0, 1.0]),      # right twice, wrong once: flips
    ], texts={"m/q2": ["42", "42", "42"]})  # fmt: skip
    q = question_stability(answers, threshold=0.5, k=3).set_index("question_id")
    assert q.status.to_dict() == {"q1": STABLE_RIGHT, "q2": STABLE_WRONG, "q3": FLIPS}
    assert q.spread.to_dict() == pytest.approx({"q1": 0.0, "q2": 0.2, "q3": 1.0})
    assert q.pass_at_k.to_dict() == {"q1": 1.0, "q2": 0.0, "q3": 1.0}
    assert q.pass_hat_k.to_dict() == {"q1": 1.0, "q2": 0.0, "q3": 0.0}
    assert q.loc["q2", "distinct_answers"] == 1  # the same wrong answer every time

    m = model_stability(q.reset_index(), ["m"], k=3, resamples=200, seed=0).iloc[0]
    assert m.pass_at_k == pytest.approx(2 / 3)
    assert m.pass_hat_k == pytest.approx(1 / 3)
    assert m.flip_rate == pytest.approx(1 / 3)
    assert m.stable_wrong == pytest.approx(1 / 3)
    assert m.pass_at_1 == pytest.approx((1 + 0 + 2 / 3) / 3)
    assert m.pass_hat_k_low <= m.pass_hat_k <= m.pass_hat_k_high


def test_one_sample_gives_no_flip_rate_and_ranks_by_pass_hat_k() -> None:
    answers = _answers([("a", "q1", [1.0]), ("a", "q2", [0.0]), ("b", "q1", [1.0]), ("b", "q2", [1.0])])
    q = question_stability(answers, threshold=0.5, k=1)
    m = model_stability(q, ["a", "b"], k=1, resamples=200, seed=0).set_index("candidate")
    assert m.loc["a", "flip_rate"] is None or pd.isna(m.loc["a", "flip_rate"])
    assert m.loc["b", "stability_rank"] == 1 and m.loc["a", "stability_rank"] == 2


def test_questions_with_fewer_samples_than_k_are_left_out_of_pass_hat_k() -> None:
    answers = _answers([("m", "q1", [1.0, 1.0]), ("m", "q2", [1.0])])
    q = question_stability(answers, threshold=0.5, k=2).set_index("question_id")
    assert np.isnan(q.loc["q2", "pass_hat_k"])
    m = model_stability(q.reset_index(), ["m"], k=2, resamples=100, seed=0).iloc[0]
    assert m.stability_questions == 1 and m.pass_hat_k == 1.0


# ---------------------------------------------------------------- significance


def test_identical_models_differ_by_nothing() -> None:
    scores = np.random.default_rng(1).random(40)
    d = paired_difference(scores, scores, resamples=500, seed=0)
    assert d.diff == 0 and d.low == 0 and d.high == 0
    assert d.p_value == 1.0


def test_sign_flip_p_value_matches_exact_enumeration() -> None:
    diffs = np.array([0.5, 0.3, -0.1, 0.4, 0.2, 0.0, 0.6, -0.2, 0.3, 0.1])
    w = np.ones_like(diffs) / len(diffs)
    observed = abs(diffs.mean())
    flips = np.array(list(itertools.product([-1, 1], repeat=len(diffs))))
    exact = np.mean(np.abs(flips @ diffs) / len(diffs) >= observed - 1e-12)
    p = sign_flip_p_value(diffs, w, 40_000, np.random.default_rng(0))
    assert p == pytest.approx(exact, abs=0.006)


def test_a_clear_improvement_on_every_question_is_significant() -> None:
    base = np.random.default_rng(2).random(30) * 0.5
    d = paired_difference(base + 0.3, base, resamples=2000, seed=0)
    assert d.diff == pytest.approx(0.3)
    assert d.p_value == pytest.approx(1 / 2001)  # no sign pattern but the observed one reaches it
    assert d.low == pytest.approx(0.3) and d.high == pytest.approx(0.3)


def test_bootstrap_interval_of_a_paired_difference_matches_the_normal_interval() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(0.6, 0.2, 400), rng.normal(0.5, 0.2, 400)
    d = paired_difference(a, b, resamples=4000, seed=1)
    diffs = a - b
    half = 1.96 * diffs.std(ddof=1) / np.sqrt(len(diffs))
    assert d.low == pytest.approx(diffs.mean() - half, abs=0.004)
    assert d.high == pytest.approx(diffs.mean() + half, abs=0.004)


def test_minimum_detectable_difference_formula_and_its_power() -> None:
    assert min_detectable_difference(0.5, 100) == pytest.approx((1.959964 + 0.841621) * 0.05, rel=1e-5)
    assert min_detectable_difference(0.5, 1) is None
    assert effective_n(np.ones(25)) == pytest.approx(25)
    assert effective_n(np.array([1.0, 0.0, 0.0])) == pytest.approx(1)
    # At a true gap equal to the MDD, the test rejects in about 80% of repeated experiments.
    rng = np.random.default_rng(4)
    n, sd = 60, 0.3
    gap = min_detectable_difference(sd, n)
    assert gap is not None
    rejected = 0
    trials = 300
    for _ in range(trials):
        diffs = rng.normal(gap, sd, n)
        p = sign_flip_p_value(diffs, np.full(n, 1 / n), 400, rng)
        rejected += p < 0.05
    assert 0.70 <= rejected / trials <= 0.90


def test_holm_adjustment_known_values() -> None:
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([None, 0.5]) == [None, 0.5]
    assert holm([0.6, 0.7]) == pytest.approx([1.0, 1.0])  # capped at 1, and never below an earlier one


def _questions(scores: dict[str, list[float]]) -> pd.DataFrame:
    rows = [{"candidate": c, "set_id": "s", "question_id": f"q{i}", "category": "c" if i % 2 else "d",
             "score": s, "weight": 1.0} for c, values in scores.items() for i, s in enumerate(values)]  # fmt: skip
    return pd.DataFrame(rows)


def test_versus_best_marks_a_tie_as_not_significant_and_a_gap_as_significant() -> None:
    rng = np.random.default_rng(5)
    best = rng.random(50) * 0.5 + 0.5
    tie = best - np.abs(rng.normal(0, 0.05, 50)) * (rng.random(50) < 0.1)
    worse = best - 0.3
    v = versus_best(_questions({"worse": list(worse), "best": list(best), "tie": list(tie)}),
                    ["worse", "best", "tie"], 1000, 0).set_index("candidate")  # fmt: skip
    assert bool(v.loc["best", "is_best"]) and v.loc["worse", "best"] == "best"
    assert v.loc["worse", "diff"] == pytest.approx(-0.3)
    assert v.loc["worse", "significant"] is True or v.loc["worse", "significant"] == True  # noqa: E712
    assert not v.loc["tie", "significant"]
    assert v.loc["worse", "n"] == 50


def test_group_intervals_per_category() -> None:
    q = _questions({"m": [1.0, 0.0, 1.0, 0.0, 1.0, 0.0]})
    g = group_intervals(q, ["candidate", "category"], 500, 0).set_index("category")
    assert g.loc["c", "score"] == 0.0 and g.loc["d", "score"] == 1.0  # odd ids are "c"
    assert g.loc["c", "questions"] == 3


def test_bootstrap_means_share_draws_across_metrics() -> None:
    values = np.column_stack([np.arange(10.0), np.arange(10.0) * 2])
    a, b = bootstrap_means(values, np.ones(10), 500, 0)
    assert b.mean == pytest.approx(2 * a.mean)
    assert b.low == pytest.approx(2 * a.low) and b.high == pytest.approx(2 * a.high)


# ---------------------------------------------------------------- recommendation


def test_pareto_frontier_names_who_dominates() -> None:
    # (quality, cost). "mid_dear" is dominated by "mid" alone (as good, cheaper): dear_good costs more and
    # cheap_bad scores less. "twin" ties "mid" on both: neither dominates the other.
    front = pareto_frontier({"cheap_bad": (0.3, 0.1), "dear_good": (0.8, 1.0), "mid": (0.6, 0.5),
                             "mid_dear": (0.6, 0.9), "twin": (0.6, 0.5)})  # fmt: skip
    assert front == {"cheap_bad": None, "dear_good": None, "mid": None, "mid_dear": "mid", "twin": None}
    # without a cost, quality alone decides: the unpriced point loses to the better one, beats the worse
    assert pareto_frontier({"unpriced": (0.7, None), "good": (0.8, 1.0), "bad": (0.3, 0.1)}) == {
        "unpriced": "good",
        "good": None,
        "bad": "unpriced",
    }


def _models(**cols: list) -> pd.DataFrame:
    return pd.DataFrame(cols)


def test_constraints_exclude_with_reasons() -> None:
    c = Constraints(max_gpu_memory_gib=40, max_p95_latency_ms=2000, min_stability=0.5)
    row = {"candidate": "m", "rubric_mean": 0.8, "memory_needed_gib": 70.0, "e2e_p95_ms": 1500.0, "pass_hat_k": 0.4}
    v = violations(row, c, k=3)
    assert v == ["needs 70.0 GiB per GPU > 40 GiB", "pass^3 0.40 < 0.5"]
    assert violations({"candidate": "m", "server_error": "boom"}, c, 3) == ["its server failed"]
    assert violations({"candidate": "m", "rubric_mean": 0.5}, Constraints(max_p95_latency_ms=10), 3) == [
        "no figure for e2e_p95_ms to check the limit 10"
    ]


def test_recommendation_weights_sides_and_names_a_tied_runner_up() -> None:
    rng = np.random.default_rng(6)
    base = rng.random(40)
    b = base + rng.normal(0, 0.05, 40)  # as good as a, give or take noise
    q = _questions({"a": list(base), "b": list(b), "c": list(base * 0.3)})
    models = _models(
        candidate=["a", "b", "c"],
        rubric_mean=[base.mean(), b.mean(), (base * 0.3).mean()],
        usd_per_mtok=[1.0, 0.5, 0.1],
        e2e_p95_ms=[1000.0, 1000.0, 900.0],
        pass_hat_k=[0.5, 0.5, 0.1],
        memory_needed_gib=[10.0, 10.0, 80.0],
        server_error=[None, None, None],
    )
    r = recommend(models, q, DecisionRule(Weights(quality=0.5, cost=0.3, latency=0.0, stability=0.2),
                                          Constraints(max_gpu_memory_gib=40), k=3, resamples=500))  # fmt: skip
    assert r.recommended == "b"  # as good as a, half the price
    assert r.runner_up == "a"
    assert r.runner_up_tied
    assert "not significantly different" in r.reason and "Not eligible: c (needs 80.0 GiB" in r.reason
    assert r.weights_used == pytest.approx({"quality": 0.5, "cost": 0.3, "stability": 0.2})
    t = r.table.set_index("candidate")
    assert not t.loc["c", "eligible"] and t.loc["c", "pareto"]  # cheapest: on the frontier, but too big
    # b costs half of a, so b dominates a exactly when b scores at least as well
    b_dominates = bool(b.mean() >= base.mean())
    assert t.loc["a", "dominated_by"] == ("b" if b_dominates else None)
    assert bool(t.loc["a", "pareto"]) is not b_dominates


def test_a_significant_winner_is_said_to_be_ahead() -> None:
    base = np.random.default_rng(7).random(40) * 0.5
    q = _questions({"good": list(base + 0.4), "bad": list(base)})
    models = _models(candidate=["good", "bad"], rubric_mean=[base.mean() + 0.4, base.mean()],
                     usd_per_mtok=[1.0, 1.0], e2e_p95_ms=[100.0, 100.0], pass_hat_k=[0.8, 0.2])  # fmt: skip
    r = recommend(models, q, DecisionRule(Weights(), Constraints(), k=3, resamples=500))
    assert r.recommended == "good" and r.runner_up == "bad" and not r.runner_up_tied
    assert "a significant difference" in r.reason


def test_no_eligible_candidate_gives_no_recommendation() -> None:
    models = _models(candidate=["a"], rubric_mean=[0.2], e2e_p95_ms=[5000.0])
    r = recommend(models, _questions({"a": [0.2]}), DecisionRule(Weights(), Constraints(max_p95_latency_ms=100), k=1))
    assert r.recommended is None
    assert "No candidate can be recommended" in r.reason and "p95 latency 5,000 ms > 100 ms" in r.reason


def test_stability_weight_is_dropped_with_one_sample() -> None:
    models = _models(candidate=["a", "b"], rubric_mean=[0.6, 0.5], pass_hat_k=[0.6, 0.5])
    r = recommend(models, _questions({"a": [0.6] * 5, "b": [0.5] * 5}), DecisionRule(Weights(), Constraints(), k=1))
    assert set(r.weights_used) == {"quality"}
    assert r.recommended == "a"
