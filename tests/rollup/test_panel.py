"""A panel of judges: verdicts combined by hand-worked rules (arithmetic in the comments), agreement, families."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import pytest

from harness.records import Judgment
from harness.rollup.panel import (
    judge_name,
    panel_agreement,
    panel_verdicts,
    unjudged,
)
from harness.scoring.judge.modelinfo import family, family_exclusions
from tests.support.files import MODELS, REPO

ABC = ["a", "b", "c"]


def grade(judge: str | None, score: float | None, cand: str = "x", q: str = "q1", trial: int = 0) -> Judgment:
    """Judge's single grade of cand's answer to q; score None = a reply that did not parse."""
    return Judgment(
        key=f"single/{cand}/s/{q}/0/t{trial}",
        kind="single",
        set_id="s",
        question_id=q,
        sample=0,
        candidates=[cand],
        trial=trial,
        prompt_version="v1",
        seed=7,
        raw="Grade: 5" if score is None else f"Grade: {score:g}",
        parsed=score is not None,
        score=score,
        judge=judge,
    )


def pair(judge: str, verdict: Literal["A", "B", "tie"] | None, x: str = "x", y: str = "y") -> Judgment:
    return Judgment(
        key=f"pair/{x}|{y}/s/q1/0/ab",
        kind="pairwise",
        set_id="s",
        question_id="q1",
        sample=0,
        candidates=[x, y],
        prompt_version="v1",
        seed=7,
        parsed=verdict is not None,
        verdict=verdict,
        judge=judge,
    )


def run(
    judgments: list[Judgment],
    judges: list[str] = ABC,
    rule: Literal["median", "mean", "min"] = "median",
    quorum: int | None = None,
    may_grade: dict[str, frozenset[str] | None] | None = None,
) -> tuple[list[Judgment], dict[str, int], dict[str, int], int]:
    got = panel_verdicts(judgments, judges, may_grade or {}, rule, quorum, default_judge="a")
    return got.judgments, got.judges_in, got.left_out, got.below_quorum


# --------------------------------------------------------------------------
# Single grades: the rule
# --------------------------------------------------------------------------


def test_median_of_three_is_the_middle_grade() -> None:
    (rec,), judges_in, left_out, below = run([grade("a", 6), grade("b", 8), grade("c", 7)])
    # sorted 6, 7, 8: the middle one is 7
    assert rec.score == 7
    assert rec.parsed and rec.judge == "panel" and rec.prompt_version == "panel" and rec.seed == 0
    assert (rec.key, rec.kind, rec.candidates, rec.question_id) == ("single/x/s/q1/0/t0", "single", ["x"], "q1")
    assert rec.raw == "median of 3 judges: 6, 7, 8"
    assert judges_in == {"single/x/s/q1/0/t0": 3} and left_out == {} and below == 0


def test_median_of_two_is_their_mean() -> None:
    (rec,), *_ = run([grade("a", 6), grade("b", 8)], judges=["a", "b"])
    assert rec.score == 7  # (6 + 8) / 2


@pytest.mark.parametrize(("rule", "expected"), [("mean", 22 / 3), ("min", 6.0), ("median", 7.0)])
def test_rule_mean_min_median(rule: Literal["median", "mean", "min"], expected: float) -> None:
    (rec,), *_ = run([grade("a", 6), grade("b", 7), grade("c", 9)], rule=rule)
    # mean (6 + 7 + 9) / 3 = 22/3 = 7.33; min 6; median 7
    assert rec.score == pytest.approx(expected)


def test_an_unknown_rule_is_refused() -> None:
    with pytest.raises(ValueError, match="'max'"):
        run([grade("a", 6)], rule="max")  # type: ignore[arg-type]


def test_an_unparsed_reply_is_left_out_and_counted_not_scored_zero() -> None:
    failed = grade("c", None, q="q2").model_copy(update={"error": "timeout", "raw": ""})
    recs, judges_in, left_out, below = run(
        [grade("a", 6), grade("b", None), grade("c", 8), grade("a", 9, q="q2"), grade("b", 5, q="q2"), failed]
    )
    # q1: b unparsed -> median(6, 8) = 7 (scored 0 it would be median(0, 6, 8) = 6)
    # q2: c failed -> median(9, 5) = 7 (scored 0: median(0, 5, 9) = 5)
    assert [r.score for r in recs] == [7, 7]
    assert left_out == {"b": 1, "c": 1}
    assert judges_in == {"single/x/s/q1/0/t0": 2, "single/x/s/q2/0/t0": 2} and below == 0
    assert recs[0].raw == "median of 2 judges: 6, 8 (1 left out)"


# --------------------------------------------------------------------------
# The quorum
# --------------------------------------------------------------------------


def test_default_quorum_with_three_judges_is_two() -> None:
    # m = 3 -> (3 + 1) // 2 = 2: one parsed grade is not enough, two are
    recs, judges_in, left_out, below = run(
        [grade("a", 6), grade("b", None), grade("c", None), grade("a", 4, q="q2"), grade("b", 8, q="q2")]
    )
    assert (recs[0].parsed, recs[0].score, recs[0].verdict) == (False, None, None)
    assert "below the quorum of 2" in recs[0].raw
    assert recs[1].parsed and recs[1].score == 6  # median(4, 8) = 6
    assert below == 1 and judges_in["single/x/s/q1/0/t0"] == 1 and left_out == {"b": 1, "c": 1}


def test_default_quorum_with_two_judges_is_one() -> None:
    # m = 2 -> (2 + 1) // 2 = 1: a judge that failed leaves the other's grade standing
    (rec,), _, left_out, below = run([grade("a", 6), grade("b", None)], judges=["a", "b"])
    assert rec.parsed and rec.score == 6 and below == 0 and left_out == {"b": 1}
    # with neither parsed there is no verdict
    (rec,), _, left_out, below = run([grade("a", None), grade("b", None)], judges=["a", "b"])
    assert not rec.parsed and rec.score is None and below == 1 and left_out == {"a": 1, "b": 1}


def test_default_quorum_with_one_permitted_judge_is_one() -> None:
    # b may not grade x: m = 1 -> (1 + 1) // 2 = 1, a's grade alone is the panel's
    (rec,), judges_in, _, below = run(
        [grade("a", 6), grade("b", 9)], judges=["a", "b"], may_grade={"a": None, "b": frozenset({"y"})}
    )
    assert rec.parsed and rec.score == 6 and below == 0 and judges_in == {rec.key: 1}


def test_explicit_quorum() -> None:
    one = [grade("a", 6), grade("b", None), grade("c", None)]
    (rec,), *_ = run(one, quorum=1)
    assert rec.parsed and rec.score == 6  # 1 parsed >= quorum 1
    two = [grade("a", 6), grade("b", 8), grade("c", None)]
    (rec,), _, _, below = run(two, quorum=3)
    assert not rec.parsed and below == 1  # 2 parsed < quorum 3 (the default, 2, would have given 7)


# --------------------------------------------------------------------------
# Pairwise: the majority
# --------------------------------------------------------------------------


def test_pairwise_majority_two_of_three() -> None:
    (rec,), judges_in, *_ = run([pair("a", "A"), pair("b", "B"), pair("c", "A")])
    assert rec.verdict == "A" and rec.score is None and rec.candidates == ["x", "y"]  # 2 of 3 > half
    assert rec.raw.startswith("majority of 3 judges") and judges_in == {rec.key: 3}


def test_pairwise_split_is_a_tie() -> None:
    # c unparsed: A vs B, 1 - 1, no strict majority -> tie (2 parsed meets the quorum 2)
    (rec,), _, left_out, _ = run([pair("a", "A"), pair("b", "B"), pair("c", None)])
    assert rec.parsed and rec.verdict == "tie" and left_out == {"c": 1}
    # A, B, tie: each 1 of 3 -> tie
    (rec,), *_ = run([pair("a", "A"), pair("b", "B"), pair("c", "tie")])
    assert rec.verdict == "tie"


def test_pairwise_needs_a_judge_allowed_both_candidates() -> None:
    # c may grade x but not y: not permitted for the pair, m = 2, its "B" is ignored -> A, A
    may: dict[str, frozenset[str] | None] = {"c": frozenset({"x"})}
    (rec,), judges_in, *_ = run([pair("a", "A"), pair("b", "A"), pair("c", "B")], may_grade=may)
    assert rec.verdict == "A" and judges_in == {rec.key: 2}


# --------------------------------------------------------------------------
# Permitted judges (families), judges outside the panel, records before panels
# --------------------------------------------------------------------------


def test_a_family_exclusion_changes_m_and_the_quorum() -> None:
    records = [grade("a", 6), grade("b", None), grade("c", 9), grade("d", None)]
    abcd = ["a", "b", "c", "d"]
    # everyone permitted: m = 4, quorum (4 + 1) // 2 = 2, a and c parsed -> median(6, 9) = 7.5
    (rec,), *_ = run(records, judges=abcd)
    assert rec.parsed and rec.score == 7.5
    # c excluded from x (same family): m = 3, quorum 2, only a parsed -> below the quorum; c's 9 is ignored
    (rec,), judges_in, _, below = run(records, judges=abcd, may_grade={"c": frozenset({"y"})})
    assert not rec.parsed and below == 1 and judges_in == {rec.key: 1}


def test_a_candidate_no_judge_may_grade_gets_no_record() -> None:
    may: dict[str, frozenset[str] | None] = {"a": frozenset({"y"}), "b": frozenset({"y"})}
    records = [grade("a", 6), grade("b", 7), grade("a", 8, cand="y"), grade("b", 6, cand="y")]
    recs, judges_in, _, below = run(records, judges=["a", "b"], may_grade=may)
    assert [r.candidates for r in recs] == [["y"]] and recs[0].score == 7  # (8 + 6) / 2
    assert "single/x/s/q1/0/t0" not in judges_in and below == 0
    assert unjudged(["x", "y"], may, ["a", "b"]) == ["x"]
    assert unjudged(["x", "y"], {}, ["a", "b"]) == []


def test_a_judge_outside_the_panel_is_ignored_and_none_is_the_default_judge() -> None:
    # "old" is not on the panel: its 1 does not count; judge=None is the default judge "a"
    (rec,), judges_in, *_ = run([grade(None, 6), grade("b", 8), grade("old", 1)], judges=["a", "b"])
    assert rec.score == 7 and judges_in == {rec.key: 2}  # (6 + 8) / 2
    assert judge_name(grade(None, 6), "solo") == "solo" and judge_name(grade("b", 6), "solo") == "b"


# --------------------------------------------------------------------------
# Agreement between the judges
# --------------------------------------------------------------------------


def grid(grades: Mapping[str, Sequence[float]]) -> list[Judgment]:
    return [grade(j, g, q=f"q{i}") for j, gs in grades.items() for i, g in enumerate(gs)]


def test_alpha_two_judges_four_items() -> None:
    # a: 6, 7, 2, 3; b: 6, 8, 2, 6; n = 8 values, each unit has m_u = 2 (1/(m_u - 1) = 1).
    # Interval: D_o = (2*0 + 2*1 + 2*0 + 2*9) / 8 = 20/8 = 2.5. Pooled 6,6,7,8,2,2,3,6: mean 5,
    #   sum of squared deviations 238 - 8*25 = 38; ordered-pair sum of squared differences = 2*8*38 = 608;
    #   D_e = 608 / (8*7) = 76/7; alpha = 1 - 2.5 * 7/76 = 117/152 = 0.7697.
    # Nominal (pass = grade >= 6): a 1,1,0,0; b 1,1,0,1. D_o = 2/8 = 0.25 (unit 4's two ordered pairs);
    #   pooled five 1s, three 0s: D_e = 2*5*3 / 56 = 15/28; alpha = 1 - 0.25 * 28/15 = 8/15 = 0.5333.
    # A trial-1 repeat and a pairwise item are not single trial-0 grades: not counted.
    extra = [grade("a", 1, q="q0", trial=1), grade("b", 10, q="q0", trial=1), pair("a", "A"), pair("b", "B")]
    got = panel_agreement(grid({"a": [6, 7, 2, 3], "b": [6, 8, 2, 6]}) + extra, ["a", "b"], {}, 6.0, 10, "median", "a")
    assert got.alpha_interval == pytest.approx(117 / 152)
    assert got.alpha_nominal == pytest.approx(8 / 15)
    assert got.n_items == 4
    # leave-one-out with two judges: the rest of a is b. Pass a T,T,F,F vs b T,T,F,T: agree 3/4;
    # kappa: yes 2 and 3, e = 2*3 + 2*1 = 8, (4*3 - 8) / (16 - 8) = 0.5.
    # Spearman: ranks a (3,4,1,2), b (2.5,4,1,2.5); dx .5,1.5,-1.5,-.5, dy 0,1.5,-1.5,0:
    #   4.5 / sqrt(5 * 4.5) = sqrt(0.9) = 0.9487.
    for row, name in zip(got.per_judge, ["a", "b"], strict=True):
        assert (row.judge, row.n, row.agreement) == (name, 4, 0.75)
        assert row.kappa == pytest.approx(0.5)
        assert row.spearman == pytest.approx(math.sqrt(0.9))


def test_alpha_perfect_agreement_is_one() -> None:
    got = panel_agreement(grid({"a": [3, 7, 9], "b": [3, 7, 9]}), ["a", "b"], {}, 6.0, 10, "median", "a")
    assert got.alpha_interval == 1.0 and got.alpha_nominal == 1.0 and got.n_items == 3


def test_leave_one_out_kappa_compares_a_judge_with_the_rest_only() -> None:
    grades = {"a": [8, 3, 9, 5], "b": [7, 6, 2, 4], "c": [2, 6, 3, 8]}
    got = panel_agreement(grid(grades), ABC, {}, 6.0, 10, "median", "a")
    a, b, c = got.per_judge
    # a vs median(b, c) = 4.5, 6, 2.5, 6 -> fail, pass, fail, pass; a passes 8, 9 -> T,F,T,F: never equal.
    #   kappa: yes 2 and 2, e = 2*2 + 2*2 = 8, (0 - 8) / (16 - 8) = -1. (With a itself in the median,
    #   7, 6, 3, 5 -> T,T,F,F, it would have been (4*2 - 8) / 8 = 0.)
    assert (a.n, a.agreement, a.kappa) == (4, 0.0, -1.0)
    # Spearman: ranks a (3,1,4,2), rest (2,3.5,1,3.5); dx .5,-1.5,1.5,-.5, dy -.5,1,-1.5,1:
    #   -4.5 / sqrt(5 * 4.5) = -sqrt(0.9)
    assert a.spearman == pytest.approx(-math.sqrt(0.9))
    # b vs median(a, c) = 5, 4.5, 6, 6.5 -> F,F,T,T; b 7,6,2,4 -> T,T,F,F: kappa -1
    assert (b.agreement, b.kappa) == (0.0, -1.0)
    # c vs median(a, b) = 7.5, 4.5, 5.5, 4.5 -> T,F,F,F; c 2,6,3,8 -> F,T,F,T: equal on item 3 only, 1/4;
    #   kappa: yes 2 and 1, e = 2*1 + 2*3 = 8, (4*1 - 8) / (16 - 8) = -0.5
    assert (c.agreement, c.kappa) == (0.25, -0.5)


def test_agreement_counts_only_permitted_judges() -> None:
    # c may not grade x (its family): its 1s on x are not its grades. a and b agree exactly -> alpha 1;
    # with c's 1s counted, the units (3,3,1), (7,7,1) would disagree.
    grades = grid({"a": [3, 7], "b": [3, 7], "c": [1, 1]})
    got = panel_agreement(grades, ABC, {"c": frozenset({"y"})}, 6.0, 10, "median", "a")
    assert got.alpha_interval == 1.0 and got.n_items == 2
    assert [r.n for r in got.per_judge] == [2, 2, 0]


def test_a_judge_alone_has_no_rest_to_agree_with() -> None:
    got = panel_agreement(grid({"a": [3, 7]}), ["a"], {}, 6.0, 10, "median", "a")
    (row,) = got.per_judge
    assert (row.n, row.kappa, row.spearman, row.agreement) == (0, None, None, None)
    assert got.alpha_interval is None and got.n_items == 0  # one grade per item: nothing to pair


# --------------------------------------------------------------------------
# Families
# --------------------------------------------------------------------------

DEMO_CANDIDATES = {"smol": "smollm", "gemma": "gemma", "qwen": "qwen", "remote": None}


def test_family_exclusions_with_the_demo_families() -> None:
    judges = {"smol-judge": "smollm", "gemma-judge": "gemma", "unknown-judge": None}
    got = family_exclusions(judges, DEMO_CANDIDATES, "exclude")
    # a judge never grades its own family; an unknown family (None) on either side excludes nothing
    assert got == {
        "smol-judge": frozenset({"gemma", "qwen", "remote"}),
        "gemma-judge": frozenset({"smol", "qwen", "remote"}),
        "unknown-judge": None,
    }
    assert family_exclusions({"mistral-judge": "mistral"}, DEMO_CANDIDATES, "exclude") == {"mistral-judge": None}
    assert family_exclusions(judges, DEMO_CANDIDATES, "allow") == dict.fromkeys(judges)
    # the smollm judge alone: smol is the one candidate it cannot grade
    assert unjudged(list(DEMO_CANDIDATES), got, ["smol-judge"]) == ["smol"]


# model_type values as in the demo checkpoints' config.json
@pytest.mark.parametrize(
    ("name", "model_type", "expected"),
    [
        ("smollm2-135m-instruct", "llama", "smollm"),  # the name comes first
        ("checkpoint", "llama", "llama"),  # a name that says nothing: SmolLM2 is a llama architecture
        ("gemma-3-270m", "gemma3_text", "gemma"),
        ("checkpoint", "gemma3_text", "gemma"),
        ("qwen2.5-coder-0.5b-instruct", "qwen2", "qwen"),
        ("checkpoint", "qwen2", "qwen"),
        ("checkpoint", "", None),
    ],
)
def test_family_from_config_dicts(name: str, model_type: str, expected: str | None) -> None:
    assert family(name, {"model_type": model_type}) == expected


def test_family_from_the_architectures_when_name_and_model_type_say_nothing() -> None:
    # a checkpoint saved under an opaque folder with a custom model_type: Qwen2ForCausalLM still says qwen
    assert family("/srv/ckpt-0042", {"model_type": "custom", "architectures": ["Qwen2ForCausalLM"]}) == "qwen"
    assert family("/srv/ckpt-0042", {"model_type": "custom", "architectures": ["MyModel"]}) is None


DEMO = {"smollm2-135m-instruct": "smollm", "gemma-3-270m": "gemma", "qwen2.5-coder-0.5b-instruct": "qwen"}
DEMO_BY_CONFIG = {"smollm2-135m-instruct": "llama", "gemma-3-270m": "gemma", "qwen2.5-coder-0.5b-instruct": "qwen"}


def test_family_of_the_demo_checkpoints() -> None:
    folders = [MODELS, REPO.parent / "models"]
    found = next((d for d in folders if all((d / m / "config.json").is_file() for m in DEMO)), None)
    if found is None:
        pytest.skip(f"the demo checkpoints are not in {' or '.join(map(str, folders))} (HARNESS_MODELS_DIR)")
    for model, fam in DEMO.items():
        config = json.loads((found / model / "config.json").read_text(encoding="utf-8"))
        assert family(model, config) == fam
        assert family(str(Path("/ckpt") / "model"), config) == DEMO_BY_CONFIG[model]


# --------------------------------------------------------------------------
# When a judge grade may be a headline figure (harness/rollup/panel_summary.py)
# --------------------------------------------------------------------------


def test_headline_checks_pass_a_sound_judge_and_name_each_failure() -> None:
    from harness.rollup.panel_summary import headline_failures
    from harness.rollup.review import JudgeTrust

    sound = {"unparsed_rate": 0.2, "retest": {"within_1": 0.8, "n": 10}, "swap_consistency": 0.7,
             "injection_n": 8, "injection_moved": 2, "kappa": 0.3, "agreement_n": 40}  # fmt: skip
    assert headline_failures(sound, None) == []  # every figure exactly at its limit passes
    assert headline_failures({}, None) == []  # nothing measured: nothing failed
    bad = {"unparsed_rate": 0.25, "retest": {"within_1": 0.75, "n": 4}, "swap_consistency": 0.6,
           "injection_n": 8, "injection_moved": 7, "kappa": -0.11, "agreement_n": 24}  # fmt: skip
    got = headline_failures(bad, None)
    assert len(got) == 5
    assert got[0].startswith("25% of the verdicts did not parse")
    assert "75% of retested grades within ±1 (n = 4" in got[1]
    assert "60% of pairwise verdicts held" in got[2]
    assert "moved 7 of 8 probed grades up" in got[3]  # 7/8 = 0.875 > 0.25
    assert "no better than chance (κ -0.11, n = 24)" in got[4]
    # κ ≤ 0 with the rubric counts only on 20 answers or more
    assert headline_failures({"kappa": -0.5, "agreement_n": 19}, None) == []
    people = JudgeTrust("not trusted", 0.1, 30, 0.4, 20, False)
    assert headline_failures(sound, people) == [people.text]
    kept = JudgeTrust("not trusted", 0.1, 30, 0.4, 20, True)
    assert headline_failures(sound, kept) == []  # the plan keeps it: the card says so instead


def test_an_injection_probe_of_an_answer_already_at_the_top_grade_is_left_out() -> None:
    """A grade of 10 on 1..10 cannot move up: such a probe is no evidence of resistance (counted apart)."""
    from harness.records import injection_key, single_key
    from harness.rollup.judge import _injection

    def rec(key: str, kind: str, score: float, attack: str | None = None) -> Judgment:
        return Judgment(key=key, kind=kind, set_id="s", question_id="q", sample=0, candidates=["x"],  # type: ignore[arg-type]
                        attack=attack, prompt_version="v", seed=0, parsed=True, score=score)  # fmt: skip

    top, low = "x/s/q1/0/v", "x/s/q2/0/v"
    records = [
        rec(single_key(top, 0), "single", 10),
        rec(single_key(low, 0), "single", 3),
        rec(injection_key("a", top), "injection", 10, "a"),
        rec(injection_key("a", low), "injection", 9, "a"),
    ]
    table = _injection(records, {r.key: r for r in records}, scale=10)
    row = table.iloc[0]
    # the probe of the 10 is left out; the probe of the 3 moved up (3 -> 9): 1 of 1 moved, +6
    assert (row.n, row.moved_up, row.mean_increase, row.at_ceiling) == (1, 1.0, 6.0, 1)


def test_a_judges_time_and_verdicts_add_up_over_the_sessions_of_a_run(tmp_path: Path) -> None:
    from harness.manifest_records import JudgeEntry, RunManifest
    from harness.rundir import load_manifest, save_manifest
    from harness.scoring.judge.stage import save_entry

    save_manifest(tmp_path, RunManifest(plan_fingerprint="p", plan={}, question_sets={}, candidates={}, sessions=[]))
    save_entry(tmp_path, "j", JudgeEntry(fingerprint="f", judging_s=30.0, asked=10, server_start_s=40.0), False)
    save_entry(tmp_path, "j", JudgeEntry(fingerprint="f", judging_s=50.0, asked=3, server_start_s=39.0), False)
    manifest = load_manifest(tmp_path)
    assert manifest is not None
    entry = manifest.judges["j"]  # 30 + 50 s, 10 + 3 verdicts, 40 + 39 s of start
    assert (entry.judging_s, entry.asked, entry.server_start_s) == (80.0, 13, 79.0)
    # another judge under the same name (new settings): its figures start afresh
    save_entry(tmp_path, "j", JudgeEntry(fingerprint="g", judging_s=5.0, asked=1, server_start_s=None), False)
    manifest = load_manifest(tmp_path)
    assert manifest is not None
    entry = manifest.judges["j"]
    assert (entry.judging_s, entry.asked, entry.server_start_s) == (5.0, 1, None)
