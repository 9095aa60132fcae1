"""What decides an answer's quality once people have graded answers (pure): ``plan.review.quality``.

- ``human_first`` (the default): a reviewed answer's ``score`` is 1.0 or 0.0 and its ``acceptable``
  (and ``essentials``, which the stability figures read) True or False, from the people's consensus
  (:func:`harness.rollup.review.consensus`). An unreviewed answer keeps the rubric's verdict; where
  the judge is usable (trusted, or kept by ``review.keep_untrusted_judge``) and graded that answer,
  its score becomes the mean of the rubric score and the judge's normalised grade
  (grade - 1) / (scale - 1). Its ``acceptable`` stays the rubric's: whether an answer is acceptable
  is the essential checks' call (or a person's), and a grade on a scale has no such line.
- ``human_only``: only reviewed answers count, scored as above; a candidate with none has no
  quality figure and is not eligible ("no human grades").
- ``machine``: nothing changes; human grades are shown, not used.

With no valid human grade at all nothing changes either, whatever the policy (no person has
measured the judge then, and a run without reviews must decide as it always did).

:func:`with_quality` replaces the quality figures of the per-candidate frame; the rubric's own
answers stay in ``ReportData.answers`` for the agreement figures and the drill-down.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from harness.records import Candidate, ReviewPolicy
from harness.rollup.decision import Recommendation
from harness.rollup.frames import model_summary, question_frame
from harness.rollup.review import JudgeGrades, ReviewSummary
from harness.rollup.significance import versus_best
from harness.rollup.stability import model_stability, question_stability

RUBRIC_LABEL = "rubric score"
NO_HUMAN_GRADES = "no human grades"
QUALITY_COLUMNS = ["questions_scored", "rubric_mean", "rubric_ci_low", "rubric_ci_high"]
"""The quality figures of :func:`~harness.rollup.frames.model_summary` that human grades replace."""
VERSUS_RENAMED = {"diff": "diff_vs_best", "diff_low": "diff_vs_best_low", "diff_high": "diff_vs_best_high"}


@dataclass(frozen=True)
class Quality:
    """The decision variant's answers as the decision reads them, and what decided their quality."""

    answers: pd.DataFrame
    source: str
    """In words: "rubric", "human where reviewed, else rubric", ..."""
    label: str
    """The name of the quality figure on the card and in the reason."""
    changed: bool
    """Human grades (or the judge) changed at least the source of quality; False: exactly the rubric."""
    judge_blended: int = 0
    """Unreviewed answers whose score is the mean of rubric and judge."""
    reviewed: int = 0
    reviewers: list[str] = field(default_factory=list)


def quality_answers(
    answers: pd.DataFrame, review: ReviewSummary | None, policy: ReviewPolicy, judge: JudgeGrades | None
) -> Quality:
    """``answers`` (the decision variant's, with the rubric's ``score``/``acceptable``/``essentials``) with
    quality decided by ``policy.quality`` (see the module docstring)."""
    agreed = review.consensus if review is not None else {}
    if policy.quality == "machine" or not agreed:
        return Quality(answers, "rubric", RUBRIC_LABEL, False)
    verdict = answers.key.map(lambda k: agreed[k].acceptable if k in agreed else None)
    reviewed = verdict.notna()
    people = verdict.where(reviewed, False).astype(bool)
    who = review.reviewers if review is not None else []
    if policy.quality == "human_only":
        mine = answers[reviewed.to_numpy()]
        ok = people[reviewed.to_numpy()]
        frame = mine.assign(score=ok.astype(float), acceptable=ok, essentials=ok)
        label = "quality score (human grades only)"
        return Quality(frame, "human grades only", label, True, 0, int(reviewed.sum()), who)
    score = answers.score.astype(float)
    blended = pd.Series(False, index=answers.index)
    usable = review is not None and review.judge_trust is not None and review.judge_trust.usable
    if judge is not None and usable:
        norm = answers.key.map(lambda k: _norm(judge, k)).astype(float)
        blended = ~reviewed & score.notna() & norm.notna()
        score = score.where(~blended, (score + norm) / 2)
    score = score.where(~reviewed, people.astype(float))
    essentials = answers.essentials.astype(object).where(~reviewed, people)
    frame = answers.assign(score=score, acceptable=answers.acceptable.where(~reviewed, people), essentials=essentials)
    n_blended = int(blended.sum())
    source = "human where reviewed, else rubric" + (" and judge" if n_blended else "")
    return Quality(frame, source, f"quality score ({source})", True, n_blended, int(reviewed.sum()), who)


def _norm(judge: JudgeGrades, key: str) -> float:
    j = judge.by_answer.get(key)
    return np.nan if j is None or j.score is None else (float(j.score) - 1) / (judge.scale - 1)


def with_quality(
    models: pd.DataFrame, quality: Quality, candidates: list[Candidate], threshold: float, k: int,
    resamples: int, seed: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """``models`` (the rubric's per-candidate frame, before the decision's columns) with its quality,
    stability and versus-best figures recomputed from ``quality.answers``, and the question frame of it.

    Counts (answers, failed, missing), speed and cost stay the run's; a candidate left without a quality
    figure under ``human_only`` gets ``no_quality`` = "no human grades", the reason it is not eligible.
    ``rubric_mean`` is then the decision's quality score (``quality.source`` says of what); the rubric's
    own mean stays in ``rubric_only_mean`` (0-1).
    """
    names = [c.name for c in candidates]
    answers = quality.answers
    questions = question_frame(answers)
    summary = model_summary(answers, [], candidates, resamples, seed)[["candidate", *QUALITY_COLUMNS]]
    stability = model_stability(question_stability(answers, threshold, k), names, k, resamples, seed)
    versus = versus_best(questions, names, resamples, seed)
    picked = versus[["candidate", "is_best", *VERSUS_RENAMED, "p_holm", "significant", "mdd"]]
    picked = picked.rename(columns=VERSUS_RENAMED)
    replaced = [*QUALITY_COLUMNS, *(c for c in stability.columns if c != "candidate"),
                *(c for c in picked.columns if c != "candidate")]  # fmt: skip
    out = models.drop(columns=[c for c in replaced if c in models.columns])
    out["rubric_only_mean"] = models["rubric_mean"].to_numpy() if "rubric_mean" in models else np.nan
    out = out.merge(summary, on="candidate", how="left").merge(stability, on="candidate", how="left")
    out = out.merge(picked, on="candidate", how="left")
    if quality.source == "human grades only":
        out["no_quality"] = [NO_HUMAN_GRADES if pd.isna(m) else None for m in out.rubric_mean]
    return out[[*models.columns, *(c for c in out.columns if c not in models.columns)]], questions


def ranking(rec: Recommendation) -> list[str]:
    """The eligible candidates from best to worst, as :func:`~harness.rollup.decision.recommend` ranks them."""
    table = rec.table[rec.table.eligible.astype(bool)]
    if table.empty or "overall" not in table:
        return []
    return table.sort_values(["overall", "quality"], ascending=False).candidate.tolist()


def decision_changes(machine: Recommendation, human: Recommendation, names: Sequence[str]) -> list[str]:
    """Sentences naming what human grades changed against the rubric-only decision: the recommended model,
    the order of the eligible candidates, and any candidate's eligibility (empty: nothing changed)."""
    out = []
    if machine.recommended != human.recommended:
        was = machine.recommended or "no model"
        out.append(f"Human grades changed the recommendation: on the rubric alone it would be {was}.")
    elif ranking(machine) != ranking(human):
        out.append("Human grades changed the order of the candidates: on the rubric alone it would be "
                   + ", ".join(ranking(machine)) + "; with them, " + ", ".join(ranking(human)) + ".")  # fmt: skip
    before = dict(zip(machine.table.candidate, machine.table.eligible, strict=True))
    after = dict(zip(human.table.candidate, human.table.eligible, strict=True))
    for name in names:
        if name in before and name in after and bool(before[name]) != bool(after[name]):
            now = "eligible" if after[name] else "not eligible"
            why = dict(zip(human.table.candidate, human.table.violations, strict=True)).get(name) or []
            because = f" ({'; '.join(why)})" if why and not after[name] else ""
            out.append(f"Human grades made {name} {now}{because}.")
    return out
