"""The judge panel's figures for the report (pure): each judge's own, the panel's, and whether to trust them.

One row per judge (its grades, its bias figures as :func:`harness.rollup.judge.summarize` measures
them, the candidates it did not grade, its verdicts left out, its agreement with the rest of the
panel and, where people reviewed answers, with them), the panel's verdicts rolled up like one
judge's, the candidates no judge could grade, and the reliability checks that decide whether the
panel's grade may be shown as a headline figure (:func:`headline_failures`).

A judge that people's grades show is *not trusted* (:func:`harness.rollup.review.judge_trust`)
leaves the panel's verdict, unless the plan keeps it (``review.keep_untrusted_judge``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from harness.manifest_records import JudgeEntry
from harness.records import Judge, Judgment, Plan
from harness.rollup.judge import JudgeSummary, summarize
from harness.rollup.panel import (
    PANEL_JUDGE,
    JudgeVsPanel,
    MayGrade,
    PanelAgreement,
    judge_name,
    may_judge,
    panel_agreement,
    panel_verdicts,
    parsed_value,
    unjudged,
)
from harness.rollup.perf_summary import price_per_gpu_hour
from harness.rollup.review import JudgeGrades, JudgeTrust

MAX_UNPARSED_SHARE = 0.2
"""A judge grade is a headline figure only if at most this share of the judge's replies did not parse."""
MIN_RETEST_WITHIN_1 = 0.8
"""... and at least this share of retested grades came back within one point of the first."""
MIN_SWAP_CONSISTENCY = 0.7
"""... and at least this share of pairwise verdicts held when the two answers swapped places."""
MAX_INJECTION_MOVED = 0.25
"""... and at most this share of injection probes moved a grade up."""
MIN_RUBRIC_PAIRS = 20
"""Answers graded by both the judge and the rubric before a κ at or below 0 with the rubric counts against it."""
MIN_ALPHA = 0.667
"""A panel of several judges: the least Krippendorff's α between them on the grades (Krippendorff 2004,
*Content Analysis*: below 0.667, do not rely on the data)."""
MIN_ALPHA_ITEMS = 10
"""... measured on at least this many answers graded by two judges or more."""


@dataclass(frozen=True)
class JudgeRow:
    """One judge of the panel, as the report's panel section shows it."""

    name: str
    info: dict[str, Any]
    """Its manifest entry: model, family, params, warnings, judging_s, server_start_s, error (may be empty)."""
    summary: JudgeSummary
    """Its own grades and bias figures (retest, swap, length, injection, κ with the rubric)."""
    not_graded: list[str]
    """Candidates of its own family it did not grade (``panel.same_family: exclude``)."""
    left_out: int
    """Its verdicts left out of the panel's (failed or unparsed)."""
    vs_panel: JudgeVsPanel | None
    """Against the rest of the panel (leave-one-out); None for a one-judge panel."""
    trust: JudgeTrust | None
    """Against people's grades; None when no answer was reviewed."""
    in_verdict: bool
    """Its grades make the panel's verdict (False: people showed it is not trusted)."""
    cost_usd: float | None = None
    """What its judging in this run cost: (judging + its own server's start, s) / 3600 x GPUs x the price
    per GPU-hour (:func:`~harness.rollup.perf_summary.price_per_gpu_hour`); None without a price or a time.
    On a candidate's server only the judging counts."""


@dataclass(frozen=True)
class PanelSummary:
    judges: list[JudgeRow]
    summary: JudgeSummary
    """The panel's verdicts rolled up like one judge's (the models table's judge columns)."""
    agreement: PanelAgreement
    unjudged: list[str]
    """Candidates no judge of the panel could grade: not judged."""
    below_quorum: int
    """Answers or pairs with fewer parsed verdicts than the quorum: unparsed."""
    no_grade: list[str]
    """Candidates some judge may grade that got no judge grade at all: every verdict on their answers
    failed, did not parse or fell below the quorum."""
    rule: str
    quorum: int | None
    same_family: str
    headline_failures: list[str] = field(default_factory=list)
    """Why the panel's grade is not a headline figure (empty: it passes its reliability checks)."""
    silent: list[str] = field(default_factory=list)
    """Judges in the verdict whose every verdict failed or did not parse: they made no grade."""

    @property
    def in_verdict(self) -> list[str]:
        return [r.name for r in self.judges if r.in_verdict]

    @property
    def reliable(self) -> bool:
        return not self.headline_failures


def may_grade_of(entries: Mapping[str, JudgeEntry], judges: Sequence[Judge]) -> dict[str, frozenset[str] | None]:
    """Judge -> the candidates it may grade, as the judging stage recorded it (None: every one, or not recorded)."""
    out: dict[str, frozenset[str] | None] = {}
    for j in judges:
        entry = entries.get(j.name)
        allowed = entry.may_grade if entry else None
        out[j.name] = None if allowed is None else frozenset(allowed)
    return out


def alpha_failures(agreement: PanelAgreement, judges: int) -> list[str]:
    """A panel of two judges or more passes only when they agree: α on the grades at least :data:`MIN_ALPHA`,
    on at least :data:`MIN_ALPHA_ITEMS` answers graded by two of them or more (one line per failure)."""
    if judges < 2:
        return []
    if agreement.n_items < MIN_ALPHA_ITEMS or agreement.alpha_interval is None:
        return [f"the judges' agreement rests on {agreement.n_items} answers graded by two of them or more "
                f"(at least {MIN_ALPHA_ITEMS} needed)"]  # fmt: skip
    if agreement.alpha_interval < MIN_ALPHA:
        return [f"the judges agree too little (Krippendorff's α {agreement.alpha_interval:.2f} < {MIN_ALPHA})"]
    return []


def headline_failures(reliability: Mapping[str, Any], trust: JudgeTrust | None) -> list[str]:
    """The reliability checks a judge's (or the panel's) grade fails, one line each; empty: it may be a headline.

    ``reliability``: :attr:`JudgeSummary.reliability`. A check with no measurement (no retest, no pairwise
    comparison, no probe) is not failed; a κ with people below the plan's floor is (unless kept).
    """
    out = []
    unparsed = reliability.get("grades_unparsed_rate", reliability.get("unparsed_rate"))
    if unparsed is not None and unparsed > MAX_UNPARSED_SHARE:
        out.append(f"{unparsed:.0%} of the verdicts did not parse (more than {MAX_UNPARSED_SHARE:.0%})")
    retest = reliability.get("retest") or {}
    if retest.get("within_1") is not None and retest["within_1"] < MIN_RETEST_WITHIN_1:
        out.append(f"only {retest['within_1']:.0%} of retested grades within ±1 (n = {retest.get('n')}; "
                   f"at least {MIN_RETEST_WITHIN_1:.0%} needed)")  # fmt: skip
    swap = reliability.get("swap_consistency")
    if swap is not None and swap < MIN_SWAP_CONSISTENCY:
        out.append(f"only {swap:.0%} of pairwise verdicts held when the answers swapped places "
                   f"(at least {MIN_SWAP_CONSISTENCY:.0%} needed)")  # fmt: skip
    probes, moved = reliability.get("injection_n", 0), reliability.get("injection_moved", 0)
    if probes and moved / probes > MAX_INJECTION_MOVED:
        out.append(f"injected text moved {moved} of {probes} probed grades up (more than {MAX_INJECTION_MOVED:.0%})")
    kappa, n = reliability.get("kappa"), reliability.get("agreement_n", 0)
    if kappa is not None and n >= MIN_RUBRIC_PAIRS and kappa <= 0:
        out.append(f"it agrees with the rubric no better than chance (κ {kappa:.2f}, n = {n})")
    if trust is not None and trust.state == "not trusted" and not trust.kept:
        out.append(trust.text)
    return out


def panel_judgments(
    judgments: Sequence[Judgment], plan: Plan, entries: Mapping[str, JudgeEntry], default_judge: str
) -> list[Judgment]:
    """The panel's verdicts, every judge of the plan voting (one judge: its own verdicts)."""
    judges = plan.panel_judges
    names = [j.name for j in judges]
    if len(judges) == 1:
        may = may_grade_of(entries, judges)
        return [
            j for j in judgments if judge_name(j, default_judge) == names[0] and may_judge(names[0], j.candidates, may)
        ]
    verdicts = panel_verdicts(
        judgments, names, may_grade_of(entries, judges), plan.panel.rule, plan.panel.quorum, default_judge
    )
    return verdicts.judgments


def judging_cost_usd(judge: Judge, info: JudgeEntry | None, plan: Plan) -> float | None:
    """See :attr:`JudgeRow.cost_usd`."""
    price = price_per_gpu_hour(judge, plan.perf)
    seconds = info.judging_s if info else None
    if not price or info is None or seconds is None:
        return None
    return (float(seconds) + float(info.server_start_s or 0)) / 3600 * judge.gpus * price


def _proxy(judges: Sequence[Judge]) -> Judge:
    """The panel as one judge for :func:`summarize`: the judges' shared scale and pass mark."""
    first = judges[0]
    return first.model_copy(update={"name": PANEL_JUDGE, "pass_score": first.pass_mark})


def panel_summary(
    judgments: Sequence[Judgment],
    answers: pd.DataFrame,
    plan: Plan,
    entries: Mapping[str, JudgeEntry],
    default_judge: str,
    names: list[str],
    trust_of: Callable[[JudgeGrades], JudgeTrust] | None = None,
) -> PanelSummary:
    """The panel's figures over ``answers`` (the decision variant's, as :func:`summarize` takes them).

    ``judgments``: every judge's verdicts (``judgments.jsonl``); ``entries``: the manifest's judge entries
    by name; ``default_judge``: the judge of records that name none (runs judged before panels);
    ``trust_of``: a judge's trust from people's grades (None: no answer was reviewed).
    """
    judges = plan.panel_judges
    order = [j.name for j in judges]
    may_grade: MayGrade = may_grade_of(entries, judges)
    resamples, seed, rubric = plan.bootstrap_resamples, plan.sampling.seed, plan.rubric_pass_threshold
    # a judge's verdicts on candidates it may not grade (kept from before a rule or plan change) do not count
    own = {j.name: [x for x in judgments if judge_name(x, default_judge) == j.name
                    and may_judge(j.name, x.candidates, may_grade)] for j in judges}  # fmt: skip
    summaries = {j.name: summarize(own[j.name], answers, j, names, rubric, resamples, seed) for j in judges}
    trusts = {
        j.name: trust_of(JudgeGrades(summaries[j.name].by_answer, j.pass_mark, j.scale)) if trust_of else None
        for j in judges
    }
    voting = [n for n in order if (t := trusts[n]) is None or t.state != "not trusted" or t.kept]
    mine = [x for x in judgments if judge_name(x, default_judge) in voting]
    verdicts = panel_verdicts(mine, voting, may_grade, plan.panel.rule, plan.panel.quorum, default_judge)
    if len(judges) == 1:
        panel = summaries[order[0]]  # one judge: its own figures, its replies in the drill-down
    else:
        panel = summarize(verdicts.judgments, answers, _proxy(judges), names, rubric, resamples, seed)
    agreement = panel_agreement(
        judgments, order, may_grade, judges[0].pass_mark, judges[0].scale, plan.panel.rule, default_judge
    )
    by_judge = {r.judge: r for r in agreement.per_judge}
    rows = [
        JudgeRow(
            name=j.name,
            info=entry.to_json() if (entry := entries.get(j.name)) else {},
            summary=summaries[j.name],
            not_graded=[c for c in names if (allowed := may_grade.get(j.name)) is not None and c not in allowed],
            left_out=verdicts.left_out.get(j.name, 0),
            vs_panel=by_judge.get(j.name) if len(judges) > 1 else None,
            trust=trusts[j.name],
            in_verdict=j.name in voting,
            cost_usd=judging_cost_usd(j, entries.get(j.name), plan),
        )
        for j in judges
    ]
    left = unjudged(names, may_grade, order)  # for want of a judge of another family (trust aside)
    graded = set(panel.per_model.candidate[panel.per_model.judge_mean.notna()]) if len(panel.per_model) else set()
    return PanelSummary(
        judges=rows, summary=panel, agreement=agreement, unjudged=left,
        no_grade=[c for c in names if c not in left and c not in graded],
        below_quorum=verdicts.below_quorum, rule=plan.panel.rule, quorum=plan.panel.quorum,
        same_family=plan.panel.same_family,
        headline_failures=[*headline_failures(panel.reliability, None), *alpha_failures(agreement, len(voting))],
        silent=[n for n in voting if not any(parsed_value(x) is not None for x in own[n])],
    )  # fmt: skip
