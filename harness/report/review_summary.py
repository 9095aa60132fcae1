"""The human review figures as ``summary.json`` carries them (plain JSON types), and the judge's trust line."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from harness.records import ReviewPolicy
from harness.rollup.figures import ReportData
from harness.rollup.review import Agreement, JudgeTrust


def judge_trust_of(data: ReportData) -> JudgeTrust | None:
    """The judge's trust as the decision card shows it: from the review figures, or, with no human grade
    at all, "not measured" (0 answers both graded); None when the run has no judge grades."""
    if data.judge_summary is None:
        return None
    if data.review is not None and data.review.judge_trust is not None:
        return data.review.judge_trust
    p: ReviewPolicy = data.plan.review
    return JudgeTrust("not measured", None, 0, p.judge_min_kappa, p.judge_min_pairs, p.keep_untrusted_judge)


def _agreement(a: Agreement | None) -> dict[str, Any] | None:
    if a is None:
        return None
    return {"n": a.n, "kappa": a.kappa, "precision": a.precision, "spearman": a.spearman,
            "spearman_n": a.spearman_n, "confusion": asdict(a.confusion)}  # fmt: skip


def review_json(data: ReportData) -> dict[str, Any]:
    """``summary.json``'s ``review`` object: coverage, per candidate, agreement, judge trust, what it changed.

    Shapes: ``coverage`` {answers_total, answers_reviewed, share (0-1 or null), reviewers [names], grades,
    stale {reason: count}}; ``per_candidate`` [{candidate, reviewed, acceptable, rate, low, high}] (Wilson
    95%); ``agreement`` {rubric, judge: {n, kappa, precision, spearman, spearman_n, confusion {tp, fp, fn,
    tn}} or null}; ``alpha`` {nominal, nominal_units, interval, interval_units}; ``judge_trusted`` true,
    false, or null (no judge, or not measured); ``judge_trust`` the state in words; ``quality`` the source
    of quality in the decision; ``machine_recommended`` the rubric-only pick when human grades entered
    the decision (else null); ``changes`` the sentences naming what human grades changed.
    """
    r, trust = data.review, judge_trust_of(data)
    out: dict[str, Any] = {
        "policy": data.plan.review.model_dump(mode="json"),
        "quality": data.quality.source if data.quality is not None else "rubric",
        "judge_trusted": None if trust is None or trust.state in ("no judge", "not measured")
        else trust.state == "trusted",
        "judge_trust": trust.text if trust is not None else None,
        "machine_recommended": data.machine_recommendation.recommended if data.machine_recommendation else None,
        "changes": list(data.review_changes),
    }  # fmt: skip
    if r is None:
        total = len(data.answers)
        out["coverage"] = {"answers_total": total, "answers_reviewed": 0, "share": 0.0 if total else None,
                           "reviewers": [], "grades": 0, "stale": {}}  # fmt: skip
        return {**out, "per_candidate": [], "agreement": {"rubric": None, "judge": None}, "alpha": None}
    out["coverage"] = {"answers_total": r.answers_total, "answers_reviewed": r.answers_reviewed, "share": r.coverage,
                       "reviewers": r.reviewers, "grades": r.grades, "stale": dict(r.stale)}  # fmt: skip
    out["per_candidate"] = [asdict(c) for c in r.per_candidate]
    out["agreement"] = {"rubric": _agreement(r.rubric), "judge": _agreement(r.judge)}
    out["alpha"] = asdict(r.alpha)
    return out
