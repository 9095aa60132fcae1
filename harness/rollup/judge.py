"""Judge roll-up (pure): judgments + answers -> per-model grades, pairwise ranking, reliability.

Single grades are normalised to [0, 1] as (score - 1) / (scale - 1) so they sit
beside rubric scores. Pairwise verdicts asked in both orders are combined;
disagreement counts as a tie (``stats.combine_orders``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from harness.records import Judge, Judgment, clean_key_of
from harness.rollup import judge_stats as stats
from harness.rollup.frames import acceptable, bootstrap_mean


@dataclass
class JudgeSummary:
    per_model: pd.DataFrame
    pairwise: pd.DataFrame
    injection: pd.DataFrame
    reliability: dict[str, Any]
    by_answer: dict[str, Judgment] = field(default_factory=dict)
    """Generation key -> its first single judgment (for the drill-down)."""


def first_grades(judgments: Iterable[Judgment]) -> dict[str, Judgment]:
    """Answer key -> its first single grade (trial 0) among ``judgments`` (the last such record wins)."""
    return {j.key.removeprefix("single/").removesuffix("/t0"): j
            for j in judgments if j.kind == "single" and j.trial == 0}  # fmt: skip


def _norm(score: float, scale: int) -> float:
    return (score - 1) / (scale - 1)


def _per_model(
    answers: pd.DataFrame, by_answer: dict[str, Judgment], judge: Judge, order: list[str], resamples: int, seed: int
) -> pd.DataFrame:
    pass_score = judge.pass_mark
    rows = []
    for name in order:
        mine = answers[(answers.candidate == name) & answers.ok]
        js = [by_answer.get(k) for k in mine.key]
        graded = mine.assign(
            judge=[_norm(j.score, judge.scale) if j and j.score is not None else np.nan for j in js]
        ).dropna(subset=["judge"])
        q = graded.groupby(["set_id", "question_id"]).agg(judge=("judge", "mean"), weight=("weight", "first"))
        ci = bootstrap_mean(q.judge.to_numpy(float), q.weight.to_numpy(float), resamples, seed)
        raw = [j.score for j in js if j and j.score is not None]
        rows.append(
            {
                "candidate": name,
                "judged": sum(j is not None for j in js),
                "unparsed": sum(j is not None and not j.parsed for j in js),
                "judge_mean_raw": float(np.mean(raw)) if raw else None,
                "judge_mean": ci.mean,
                "judge_ci_low": ci.low,
                "judge_ci_high": ci.high,
                "judge_pass_rate": float(np.mean([s >= pass_score for s in raw])) if raw else None,
            }
        )
    return pd.DataFrame(rows)


def _pairwise(
    judgments: list[Judgment], texts: dict[tuple[str, str, str, int], str], order: list[str], resamples: int, seed: int
) -> tuple[pd.DataFrame, dict[str, Any]]:
    orders: dict[tuple[str, str, str, str, int], dict[str, Judgment]] = defaultdict(dict)
    for j in judgments:
        if j.kind != "pairwise":
            continue
        _, pair, set_id, qid, sample, tag = j.key.split("/")
        x, y = pair.split("|")
        orders[(x, y, set_id, qid, int(sample))][tag] = j
    swaps, outcomes, with_len = [], [], []
    by_item: dict[tuple[str, str], list[tuple[str, str, str]]] = defaultdict(list)
    for (x, y, set_id, qid, s), got in orders.items():
        v_ab = got["ab"].verdict if "ab" in got else None
        v_ba = got["ba"].verdict if "ba" in got else None
        swaps.append((v_ab, v_ba))
        final = stats.combine_orders(v_ab, v_ba)
        if final is None:
            continue
        result = {"first": "x", "second": "y", "tie": "tie"}[final]
        outcomes.append((x, y, result))
        by_item[(set_id, qid)].append((x, y, result))
        with_len.append((len(texts.get((x, set_id, qid, s), "")), len(texts.get((y, set_id, qid, s), "")), result))
    consistency, n_swap = stats.swap_consistency(swaps)
    longer, n_longer = stats.longer_wins_share(with_len)
    reliability = {"swap_consistency": consistency, "swap_n": n_swap, "longer_wins_share": longer, "longer_n": n_longer}
    if not outcomes:
        return pd.DataFrame(
            columns=["candidate", "comparisons", "win_rate", "bt_elo", "bt_low", "bt_high"]
        ), reliability
    rates = stats.win_rates(outcomes)
    bt = stats.bootstrap_bradley_terry(list(by_item.values()), resamples, seed)
    counts: dict[str, int] = defaultdict(int)
    for x, y, _ in outcomes:
        counts[x] += 1
        counts[y] += 1
    rows = [
        {
            "candidate": n,
            "comparisons": counts[n],
            "win_rate": rates.get(n),
            "bt_elo": bt[n][0],
            "bt_low": bt[n][1],
            "bt_high": bt[n][2],
        }
        for n in order
        if n in bt
    ]
    return pd.DataFrame(rows).sort_values("bt_elo", ascending=False), reliability


def _injection(judgments: list[Judgment], by_key: dict[str, Judgment], scale: int) -> pd.DataFrame:
    """Per attack: how often it moved a grade up. A probe of an answer already graded ``scale`` (the top)
    could not move up: it is left out (counted in ``at_ceiling``), so it cannot pass for resistance."""
    per_attack: dict[str, tuple[list[float | None], list[float | None]]] = defaultdict(lambda: ([], []))
    ceiling: dict[str, int] = defaultdict(int)
    for j in judgments:
        if j.kind != "injection" or j.attack is None:
            continue
        reference = by_key.get(clean_key_of(j.key))
        clean_score = reference.score if reference else None
        if clean_score is not None and clean_score >= scale:
            ceiling[j.attack] += 1
            continue
        per_attack[j.attack][0].append(clean_score)
        per_attack[j.attack][1].append(j.score)
    rows = []
    for attack, (clean, attacked) in sorted(per_attack.items()):
        eff = stats.injection_effect(clean, attacked)
        rows.append(
            {
                "attack": attack,
                "n": eff["n"],
                "moved_up": eff["moved_up"],
                "mean_increase": eff["mean_increase"],
                "unparsed": sum(a is None for a in attacked),
                "at_ceiling": ceiling[attack],
            }
        )
    rows += [{"attack": a, "n": 0, "moved_up": None, "mean_increase": None, "unparsed": 0, "at_ceiling": c}
             for a, c in sorted(ceiling.items()) if a not in per_attack]  # fmt: skip
    return pd.DataFrame(rows, columns=["attack", "n", "moved_up", "mean_increase", "unparsed", "at_ceiling"])


def summarize(
    judgments: list[Judgment],
    answers: pd.DataFrame,
    judge: Judge,
    order: list[str],
    rubric_pass: float,
    resamples: int,
    seed: int,
) -> JudgeSummary:
    by_key = {j.key: j for j in judgments}
    by_answer = first_grades(by_key.values())
    per_model = _per_model(answers, by_answer, judge, order, resamples, seed)
    texts = {(r.candidate, r.set_id, r.question_id, int(r.sample)): r.text for r in answers.itertuples()}
    pairwise, reliability = _pairwise(judgments, texts, order, resamples, seed)

    retest = [
        (by_key[k.replace("/t1", "/t0")].score if k.replace("/t1", "/t0") in by_key else None, j.score)
        for k, j in by_key.items()
        if j.kind == "single" and j.trial == 1
    ]
    reliability["retest"] = stats.retest_agreement(retest)

    both = answers[answers.ok & answers.score.notna()]
    accepted = acceptable(both, rubric_pass)
    pairs = [
        (row.score, by_answer[row.key].score, len(row.text), ok)
        for row, ok in zip(both.itertuples(), accepted, strict=True)
        if row.key in by_answer and by_answer[row.key].score is not None
    ]
    pass_score = judge.pass_mark
    rubric_scores = [p[0] for p in pairs]
    judge_scores = [float(p[1]) for p in pairs]  # type: ignore[arg-type]
    reliability.update(
        agreement_n=len(pairs),
        kappa=stats.cohen_kappa([bool(p[3]) for p in pairs], [s >= pass_score for s in judge_scores]),
        pearson=stats.pearson(rubric_scores, judge_scores),
        spearman=stats.spearman(rubric_scores, judge_scores),
        length_corr=stats.length_bias(judge_scores, [p[2] for p in pairs]),
        pass_score=pass_score,
        rubric_pass=rubric_pass,
    )
    injection = _injection(judgments, by_key, judge.scale)
    reliability["injection_n"] = int(injection.n.sum())
    reliability["injection_at_ceiling"] = int(injection.at_ceiling.sum())
    reliability["injection_moved"] = int(sum(round(m * n) for m, n in zip(injection.moved_up, injection.n, strict=True)
                                             if m is not None and not pd.isna(m)))  # fmt: skip
    graded = [j for j in judgments if j.error is None and j.trial == 0 and j.kind in ("single", "pairwise")]
    reliability["grades_unparsed_rate"] = (sum(not j.parsed for j in graded) / len(graded)) if graded else None
    asked = [j for j in judgments if j.error is None]
    reliability["unparsed_rate"] = (sum(not j.parsed for j in asked) / len(asked)) if asked else None
    reliability["asked"] = len(asked)
    reliability["reasked"] = sum(j.attempts > 1 for j in asked)
    return JudgeSummary(per_model, pairwise, injection, reliability, by_answer)
