"""Human review roll-up (pure): people's grades -> coverage, acceptable rates, agreement, judge trust.

Only grades of the answer as it is now count: a grade whose answer key is not in the run, or whose
``text_sha256`` no longer matches :func:`~harness.records.answer_sha256` of the answer's text, is
*stale* and dropped (counted, with the reason). Several reviewers of one answer are combined into a
consensus (:func:`consensus`). The figures compare the machine's verdicts (the rubric's
``acceptable``, the judge's pass/fail) with the people's on the answers both graded.

The reviewed answers are the ones the review queue chose, where a human grade decides most: they
are not a random sample, so rates on them describe those answers, not the candidate's whole output.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from harness.records import HumanGrade, Judge, Judgment, QuestionSet, ReviewPolicy, answer_sha256
from harness.rollup import judge_stats
from harness.rollup.agreement import Confusion, confusion, krippendorff_alpha, wilson_interval

EXCERPT_CHARS = 400
"""Characters of an answer shown beside a false pass or fail."""
STALE_GONE = "answer not in this run"
STALE_CHANGED = "answer text changed since it was graded"
KAPPA_TOLERANCE = 1e-9
"""κ is compared with ``judge_min_kappa`` allowing this much: a κ of exactly 0.4 computed in floating point
(0.3999999999999999) is at the threshold, not below it."""


@dataclass(frozen=True)
class Consensus:
    """The people's verdict on one answer."""

    key: str
    reviewers: int
    yes: int
    """Reviewers who said acceptable."""
    acceptable: bool
    grade_mean: float | None
    """Mean of the 1-10 grades given (None: no reviewer gave one)."""
    notes: tuple[str, ...] = ()
    """The reviewers' notes on it, each as "reviewer: note" (empty notes left out)."""


@dataclass(frozen=True)
class CandidateReview:
    candidate: str
    reviewed: int
    """Answers of the decision variant reviewed."""
    acceptable: int
    """Of those, acceptable by consensus."""
    rate: float | None
    low: float | None
    high: float | None
    """Wilson 95% interval of ``rate``."""


@dataclass(frozen=True)
class Agreement:
    """A machine grader (``rubric`` or ``judge``) against people, on the answers both graded."""

    grader: str
    n: int
    kappa: float | None
    """Cohen's κ of machine acceptable (the judge: grade >= pass score) vs people's acceptable."""
    confusion: Confusion
    spearman: float | None
    """Rubric score or judge grade vs the people's mean grade, over ``spearman_n`` answers with both."""
    spearman_n: int

    @property
    def precision(self) -> float | None:
        return self.confusion.precision


@dataclass(frozen=True)
class ReviewerAlpha:
    """Krippendorff's α between reviewers, over answers two or more of them graded."""

    nominal: float | None
    """On acceptable (yes/no)."""
    nominal_units: int
    interval: float | None
    """On the 1-10 grades."""
    interval_units: int


@dataclass(frozen=True)
class Miss:
    """An answer the rubric and people disagree on, with what a question author needs to mend the checks."""

    kind: Literal["false pass", "false fail"]
    set_id: str
    candidate: str
    question_id: str
    question: str
    answer: str
    """The answer's first :data:`EXCERPT_CHARS` characters (``…`` when cut)."""
    checks: list[str]
    """A false pass: the checks that passed; a false fail: the checks that failed (an optional check's
    failure does not fail an answer, but the answers frame does not carry ``optional``; a critical one
    is marked). Each as "type: explanation"."""
    yes: int
    reviewers: int
    notes: tuple[str, ...] = ()
    """What the reviewers wrote about the answer ("reviewer: note"): often why it fails."""


@dataclass(frozen=True)
class JudgeTrust:
    state: Literal["trusted", "not trusted", "not measured", "no judge"]
    kappa: float | None
    n: int
    """Answers graded by both the judge and people."""
    min_kappa: float
    min_pairs: int
    kept: bool
    """The plan keeps the judge though it is not trusted (``review.keep_untrusted_judge``)."""

    @property
    def usable(self) -> bool:
        """The judge's grades may enter the decision and its headline be shown."""
        return self.state == "trusted" or (self.state != "no judge" and self.kept)

    @property
    def text(self) -> str:
        """One line for the decision card."""
        if self.state == "no judge":
            return "no judge in this run"
        if self.state == "trusted":
            return f"judge trusted: κ {self.kappa:.2f} with people (n = {self.n})"
        if self.state == "not trusted":
            k = "κ –" if self.kappa is None else f"κ {self.kappa:.2f}"
            return f"judge not trusted: {k} with people (n = {self.n}) < {self.min_kappa:g}"
        return f"judge's agreement with people not measured ({self.n} answers both graded, fewer than {self.min_pairs})"


@dataclass(frozen=True)
class ReviewSummary:
    """Everything the report shows of human review (see the module docstring)."""

    answers_total: int
    """Answers of the decision variant in the run."""
    answers_reviewed: int
    reviewers: list[str]
    grades: int
    """Grades used (of decision-variant answers, current text)."""
    stale: dict[str, int]
    """Reason -> grades dropped for it."""
    other_variants: int
    """Valid grades of answers of other prompt variants: kept in the file, outside these figures."""
    consensus: dict[str, Consensus]
    per_candidate: list[CandidateReview]
    rubric: Agreement
    judge: Agreement | None
    alpha: ReviewerAlpha
    false_passes: dict[str, list[Miss]] = field(default_factory=dict)
    """Set id -> the rubric's false passes in it."""
    false_fails: dict[str, list[Miss]] = field(default_factory=dict)
    judge_trust: JudgeTrust | None = None

    @property
    def coverage(self) -> float | None:
        return self.answers_reviewed / self.answers_total if self.answers_total else None

    @property
    def stale_total(self) -> int:
        return sum(self.stale.values())


@dataclass(frozen=True)
class JudgeGrades:
    """The judge's first single grade per answer and how to read it."""

    by_answer: Mapping[str, Judgment]
    pass_score: float
    scale: int

    @classmethod
    def of_panel(cls, panel: Sequence[Judge], by_answer: Mapping[str, Judgment]) -> JudgeGrades:
        """``by_answer`` read on the panel's scale and pass mark (every judge of a panel shares them)."""
        return cls(by_answer, panel[0].pass_mark, panel[0].scale)


def current_text(text: str | None, cut_off: bool) -> str:
    """The answer text a grade's sha256 is checked against: ``Generation.answer`` ("" when cut off while thinking)."""
    return "" if cut_off or text is None else str(text)


def valid_grades(grades: Sequence[HumanGrade], served: pd.DataFrame) -> tuple[list[HumanGrade], dict[str, int]]:
    """The grades of answers of ``served`` (every variant) whose text is unchanged, and reason -> count dropped.

    One reviewer grading one answer twice: the later line of the file counts (``harness review add`` appends).
    """
    digest = {k: answer_sha256(current_text(t, bool(c)))
              for k, t, c in zip(served.key, served.text, served.cut_off, strict=True)}  # fmt: skip
    stale: dict[str, int] = {}
    kept: dict[tuple[str, str], HumanGrade] = {}
    for g in grades:
        reason = STALE_GONE if g.key not in digest else STALE_CHANGED if digest[g.key] != g.text_sha256 else None
        if reason:
            stale[reason] = stale.get(reason, 0) + 1
        else:
            kept[(g.key, g.reviewer)] = g
    return list(kept.values()), stale


def consensus(grades: Sequence[HumanGrade]) -> dict[str, Consensus]:
    """Per answer key: acceptable when *more than half* of its reviewers said acceptable.

    A tie (one of two reviewers, two of four) is **not** acceptable: an answer goes to users only when
    most of the people who read it would accept it. The mean grade is over the reviewers who gave one.
    """
    by_key: dict[str, list[HumanGrade]] = {}
    for g in grades:
        by_key.setdefault(g.key, []).append(g)
    out = {}
    for key, gs in by_key.items():
        yes = sum(g.acceptable for g in gs)
        marks = [g.grade for g in gs if g.grade is not None]
        notes = tuple(f"{g.reviewer}: {g.note.strip()}" for g in gs if g.note and g.note.strip())
        out[key] = Consensus(key, len(gs), yes, 2 * yes > len(gs), float(np.mean(marks)) if marks else None, notes)
    return out


def _agreement(grader: str, rows: Sequence[tuple[bool, float | None, Consensus]]) -> Agreement:
    """``rows``: (machine acceptable, machine score for Spearman, people's consensus) per answer."""
    machine = [m for m, _, _ in rows]
    human = [c.acceptable for _, _, c in rows]
    ranked = [(s, c.grade_mean) for _, s, c in rows if s is not None and c.grade_mean is not None]
    rho = judge_stats.spearman([s for s, _ in ranked], [g for _, g in ranked]) if ranked else None  # type: ignore[misc]
    return Agreement(grader, len(rows), judge_stats.cohen_kappa(machine, human), confusion(machine, human), rho,
                     len(ranked))  # fmt: skip


def _alpha(grades: Sequence[HumanGrade]) -> ReviewerAlpha:
    by_key: dict[str, list[HumanGrade]] = {}
    for g in grades:
        by_key.setdefault(g.key, []).append(g)
    nominal, n_nom = krippendorff_alpha([[float(g.acceptable) for g in gs] for gs in by_key.values()], "nominal")
    interval, n_int = krippendorff_alpha([[g.grade for g in gs] for gs in by_key.values()], "interval")
    return ReviewerAlpha(nominal, n_nom, interval, n_int)


def _excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS].rstrip() + "…"


def _misses(answers: pd.DataFrame, agreed: dict[str, Consensus], sets: Mapping[str, QuestionSet]) -> list[Miss]:
    texts = {(qs.id, q.id): q.question for qs in sets.values() for q in qs.questions}
    out = []
    for r in answers.itertuples():
        c = agreed.get(r.key)
        if c is None or pd.isna(r.score) or bool(r.acceptable) == c.acceptable:
            continue
        false_pass = bool(r.acceptable)
        checks = [f"{t}{' (critical)' if critical else ''}: {why}" if why else t
                  for t, passed, critical, why in r.checks if passed == false_pass]  # fmt: skip
        out.append(Miss("false pass" if false_pass else "false fail", r.set_id, r.candidate, r.question_id,
                        texts.get((r.set_id, r.question_id), ""), _excerpt(current_text(r.text, bool(r.cut_off))),
                        checks, c.yes, c.reviewers, c.notes))  # fmt: skip
    return out


def grades_agreement(judge: JudgeGrades, agreed: Mapping[str, Consensus], keys: Iterable[str]) -> Agreement:
    """A judge's pass/fail (grade >= its pass score) and grades against people's consensus on the answers
    ``keys`` that both graded."""
    rows = [(float(j.score) >= judge.pass_score, float(j.score), agreed[k]) for k in keys
            if k in agreed and (j := judge.by_answer.get(k)) is not None and j.score is not None]  # fmt: skip
    return _agreement("judge", rows)


def decision_consensus(
    answers: pd.DataFrame, served: pd.DataFrame, grades: Sequence[HumanGrade]
) -> tuple[list[HumanGrade], dict[str, int], list[HumanGrade], dict[str, Consensus]]:  # fmt: skip
    """The grades that count for ``answers`` (the decision variant's) and the people's consensus on them:
    (valid grades, stale counts as :func:`valid_grades` gives them, the grades of ``answers``, key -> consensus)."""
    valid, stale = valid_grades(grades, served)
    mine = set(answers.key)
    used = [g for g in valid if g.key in mine]
    return valid, stale, used, consensus(used)


def judge_trust(agreement: Agreement | None, policy: ReviewPolicy) -> JudgeTrust:
    """Trusted when at least ``policy.judge_min_pairs`` answers were both judged and reviewed and Cohen's κ
    of the judge's pass/fail with the people's acceptable is at least ``policy.judge_min_kappa``."""
    floor, pairs, kept = policy.judge_min_kappa, policy.judge_min_pairs, policy.keep_untrusted_judge
    if agreement is None:
        return JudgeTrust("no judge", None, 0, floor, pairs, kept)
    if agreement.n < pairs:
        return JudgeTrust("not measured", agreement.kappa, agreement.n, floor, pairs, kept)
    ok = agreement.kappa is not None and agreement.kappa >= floor - KAPPA_TOLERANCE
    return JudgeTrust("trusted" if ok else "not trusted", agreement.kappa, agreement.n, floor, pairs, kept)


def review_summary(
    answers: pd.DataFrame,
    served: pd.DataFrame,
    grades: Sequence[HumanGrade],
    sets: Mapping[str, QuestionSet],
    policy: ReviewPolicy,
    judge: JudgeGrades | None,
    names: Sequence[str],
) -> ReviewSummary:
    """The review figures of a run.

    ``answers``: the decision variant's answers (:func:`harness.rollup.frames.answers_frame` with
    ``acceptable``: the rubric's columns); ``served``: every answer, to tell a grade of another variant
    from a stale one; ``judge``: None when the run has no judge grades; ``names``: candidates in plan order.
    """
    valid, stale, used, agreed = decision_consensus(answers, served, grades)
    reviewed = answers[answers.key.isin(agreed)]
    per_candidate = []
    for name in names:
        rows = reviewed[reviewed.candidate == name]
        yes = sum(agreed[k].acceptable for k in rows.key)
        interval = wilson_interval(yes, len(rows))
        per_candidate.append(CandidateReview(name, len(rows), yes, yes / len(rows) if len(rows) else None,
                                             *(interval or (None, None))))  # fmt: skip
    scored = reviewed[reviewed.score.notna()]
    verdicts = zip(scored.key, scored.acceptable, scored.score, strict=True)
    rubric = _agreement("rubric", [(bool(a), float(s), agreed[k]) for k, a, s in verdicts])
    judge_agreement = None if judge is None else grades_agreement(judge, agreed, reviewed.key)
    misses = _misses(answers, agreed, sets)
    by_set: dict[str, dict[str, list[Miss]]] = {"false pass": {}, "false fail": {}}
    for m in misses:
        by_set[m.kind].setdefault(m.set_id, []).append(m)
    return ReviewSummary(
        answers_total=len(answers), answers_reviewed=len(reviewed), reviewers=sorted({g.reviewer for g in used}),
        grades=len(used), stale=stale, other_variants=len(valid) - len(used), consensus=agreed,
        per_candidate=per_candidate, rubric=rubric, judge=judge_agreement, alpha=_alpha(used),
        false_passes=by_set["false pass"], false_fails=by_set["false fail"],
        judge_trust=judge_trust(judge_agreement, policy),
    )  # fmt: skip
