"""Human review figures: agreement statistics, the review roll-up, human grades in the decision, the report section.

Every expected value is worked by hand in a comment beside it.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest

from harness.manifest_records import CandidateEntry, RunManifest
from harness.records import (
    CheckResult,
    Generation,
    HumanGrade,
    Judgment,
    Plan,
    QuestionSet,
    ReviewPolicy,
    Score,
    answer_sha256,
)
from harness.report.render import _env, _records, summary_json
from harness.report.review_summary import judge_trust_of
from harness.rollup.agreement import confusion, krippendorff_alpha, wilson_interval
from harness.rollup.figures import ReportData, RunRecords, assemble
from harness.rollup.frames import views
from harness.rollup.review import Agreement, consensus, judge_trust, review_summary

# Rubric verdicts (1 acceptable, score 1.0; 0 not, score 0.0) of 3 candidates x 4 questions, one sample:
# rubric means a 0.75, b 0.50, c 0.25 -> with quality the only weighted side, a > b > c, a recommended.
RUBRIC = {"a": [1, 1, 1, 0], "b": [1, 1, 0, 0], "c": [1, 0, 0, 0]}


def text(v: int) -> str:
    return "yes" if v else "no"


def build(reviews: list[HumanGrade], policy: dict[str, Any] | None = None,
          judgments: list[Judgment] | None = None) -> RunRecords:  # fmt: skip
    qs = QuestionSet.model_validate({"id": "s", "title": "T", "language": "en", "questions": [
        {"id": f"q{i}", "category": "c", "question": f"Question {i}?",
         "checks": [{"type": "contains_any", "args": {"values": ["yes"]}}]} for i in range(1, 5)]})  # fmt: skip
    plan = Plan.model_validate({
        "name": "p", "question_sets": ["s.yaml"], "bootstrap_resamples": 200,
        "candidates": [{"name": n, "model": f"org/{n}"} for n in RUBRIC],
        **({"review": policy} if policy else {}),
        **({"judge": {"model": "org/judge", "modes": ["single"]}} if judgments is not None else {}),
    })  # fmt: skip
    gens, scores = [], []
    for c, vals in RUBRIC.items():
        for i, v in enumerate(vals, 1):
            key = f"{c}/s/q{i}/0"
            gens.append(Generation(key=key, candidate=c, set_id="s", question_id=f"q{i}", sample=0, api="chat",
                                   seed=0, text=text(v)))  # fmt: skip
            check = CheckResult(type="contains_any", weight=1, score=float(v), passed=bool(v),
                                explanation="found yes" if v else "no yes")  # fmt: skip
            scores.append(Score(key=key, candidate=c, set_id="s", question_id=f"q{i}", sample=0, score=float(v),
                                essentials_passed=bool(v), checks=[check]))  # fmt: skip
    g, s = views(gens, scores)
    manifest = RunManifest(candidates={c: CandidateEntry(api="chat", error=None) for c in RUBRIC})
    return RunRecords(plan=plan, manifest=manifest, sets={"s": qs}, gens=g, scores=s, phases=[], levels=[],
                      capacity=[], perf_records=[], judgments=judgments, reviews=reviews)  # fmt: skip


def grade(cand: str, q: int, ok: bool, who: str = "r1", mark: int | None = None, seen: str | None = None) -> HumanGrade:
    """A grade of ``cand``'s answer to q``q``, given on the text ``seen`` (default: the answer as it is)."""
    shown = seen if seen is not None else text(RUBRIC[cand][q - 1])
    return HumanGrade(key=f"{cand}/s/q{q}/0", text_sha256=answer_sha256(shown), reviewer=who, acceptable=ok,
                      grade=mark)  # fmt: skip


# People overturn a's two first passes and b's third fail: with human_first the means become
# a (0+0+1+0)/4 = 0.25, b (1+1+1+0)/4 = 0.75, c 0.25 (unreviewed): b is recommended instead of a.
FLIP = [grade("a", 1, False), grade("a", 1, False, "r2"), grade("a", 2, False), grade("b", 3, True)]


# ------------------------------------------------------------------ agreement statistics


def test_wilson_interval_known_values() -> None:
    # 5 of 10: centre 0.5; half = 1.96/(1 + 3.8415/10) * sqrt(0.025 + 3.8415/400) = 1.4160 * 0.18602 = 0.2634
    low, high = wilson_interval(5, 10)  # type: ignore[misc]
    assert (low, high) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    # 0 of 10: low 0; high = (z^2/n) / (1 + z^2/n) = 0.38415 / 1.38415 = 0.27753
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.27753), abs=1e-5)
    assert wilson_interval(0, 0) is None
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def test_confusion_counts_and_precision() -> None:
    machine = [True, True, True, False, False]
    human = [True, False, True, True, False]
    c = confusion(machine, human)
    assert (c.tp, c.fp, c.fn, c.tn) == (2, 1, 1, 1)
    assert c.precision == pytest.approx(2 / 3)  # tp / (tp + fp) = 2 / 3
    assert confusion([False], [True]).precision is None  # the machine accepted nothing


def test_krippendorff_alpha_on_the_papers_worked_example() -> None:
    # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": 4 coders x 12 units, "." missing.
    n = None
    coders = [[1, 2, 3, 3, 2, 1, 4, 1, 2, n, n, n], [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, n, 3],
              [n, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, n], [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, n]]  # fmt: skip
    units = [list(u) for u in zip(*coders, strict=True)]
    alpha, pairable = krippendorff_alpha(units, "nominal")
    assert round(alpha, 3) == 0.743 and pairable == 11  # type: ignore[arg-type]  # unit 12 has one value: dropped
    assert round(krippendorff_alpha(units, "interval")[0], 3) == 0.849  # type: ignore[arg-type]  # the paper's too


def test_krippendorff_alpha_small_cases_by_hand() -> None:
    # Two coders, units (1,1), (0,0), (1,0): n = 6 values, three 1s and three 0s.
    # D_o = 1/6 * (0 + 0 + 2/1) = 1/3 (the mixed unit has 2 ordered unequal pairs);
    # D_e = (3*3 + 3*3) / (6*5) = 18/30; alpha = 1 - (1/3)/(18/30) = 1 - 5/9 = 4/9
    assert krippendorff_alpha([[1, 1], [0, 0], [1, 0]], "nominal") == (pytest.approx(4 / 9), 3)
    # Interval, units (1,3), (5,5): values 1,3,5,5, n = 4. D_o = 1/4 * (2 * 4 / 1) = 2.
    # D_e = 1/(4*3) * sum over ordered pairs of values: 1-3: 4 x 2 orders = 8; 1-5: 16 x 2 fives x 2 orders = 64;
    # 3-5: 4 x 2 x 2 = 16; 5-5: 0 -> 88/12;
    # alpha = 1 - 2 / (88/12) = 1 - 24/88 = 0.72727
    assert krippendorff_alpha([[1, 3], [5, 5]], "interval")[0] == pytest.approx(1 - 24 / 88)
    # A single coder per unit: nothing to pair; the same value everywhere: no variation to agree on.
    assert krippendorff_alpha([[1, None], [None, 2]], "nominal") == (None, 0)
    assert krippendorff_alpha([[1, 1], [1, 1]], "nominal") == (None, 2)


def test_a_tie_between_reviewers_is_not_acceptable() -> None:
    one = consensus([grade("a", 1, True), grade("a", 1, False, "r2")])["a/s/q1/0"]
    assert (one.reviewers, one.yes, one.acceptable) == (2, 1, False)  # 1 of 2 is not more than half
    two = consensus([grade("a", 1, True), grade("a", 1, True, "r2", 8), grade("a", 1, False, "r3", 3)])["a/s/q1/0"]
    assert two.acceptable and two.grade_mean == pytest.approx(5.5)  # 2 of 3; grades (8 + 3) / 2


def _judge_agreement(n: int, tp: int, fp: int, fn: int, tn: int) -> Agreement:
    from harness.rollup.agreement import Confusion

    return Agreement("judge", n, None, Confusion(tp, fp, fn, tn), None, 0)


def test_judge_trust_at_exactly_the_threshold_and_below_the_pairs() -> None:
    from harness.rollup.judge_stats import cohen_kappa

    # 20 answers: tp 7, tn 7, fp 3, fn 3 -> p_o = 14/20 = 0.7, both raters at 10/20 -> p_e = 0.5,
    # kappa = (0.7 - 0.5) / 0.5 = 0.4 exactly (0.3999999999999999 in floating point).
    machine = [True] * 7 + [False] * 7 + [True] * 3 + [False] * 3
    human = [True] * 7 + [False] * 7 + [False] * 3 + [True] * 3
    kappa = cohen_kappa(machine, human)
    assert kappa == pytest.approx(0.4)
    agreement = Agreement("judge", 20, kappa, confusion(machine, human), None, 0)
    assert judge_trust(agreement, ReviewPolicy()).state == "trusted"
    assert judge_trust(agreement, ReviewPolicy(judge_min_kappa=0.41)).state == "not trusted"
    fewer = judge_trust(Agreement("judge", 19, kappa, confusion(machine[:19], human[:19]), None, 0), ReviewPolicy())
    assert fewer.state == "not measured" and "19 answers both graded, fewer than 20" in fewer.text
    kept = judge_trust(agreement, ReviewPolicy(judge_min_kappa=0.5, keep_untrusted_judge=True))
    assert kept.state == "not trusted" and kept.usable
    assert "judge not trusted: κ 0.40 with people (n = 20)" in kept.text


# ------------------------------------------------------------------ the roll-up and the decision


def test_no_reviews_leave_the_decision_as_it_was() -> None:
    data = assemble(build([]))
    assert data.recommendation.recommended == "a"
    assert data.review is None and data.quality is None and data.machine_recommendation is None
    assert "rubric score is 0.75" in data.recommendation.reason


def test_human_grades_flip_the_recommendation_and_the_card_says_so() -> None:
    data = assemble(build(FLIP))
    assert data.machine_recommendation is not None and data.machine_recommendation.recommended == "a"
    assert data.recommendation.recommended == "b"
    means = dict(zip(data.models.candidate, data.models.rubric_mean, strict=True))
    assert means == pytest.approx({"a": 0.25, "b": 0.75, "c": 0.25})
    assert data.review_changes == ["Human grades changed the recommendation: on the rubric alone it would be a."]
    assert "quality score is 0.75" in data.recommendation.reason
    # the rubric's own columns stay for the agreement figures and the drill-down
    assert data.answers.set_index("key").score["a/s/q1/0"] == 1.0
    r = data.review
    assert r is not None
    assert (r.answers_total, r.answers_reviewed, r.reviewers, r.grades) == (12, 3, ["r1", "r2"], 4)
    rates = {c.candidate: (c.reviewed, c.acceptable) for c in r.per_candidate}
    assert rates == {"a": (2, 0), "b": (1, 1), "c": (0, 0)}
    # rubric vs people on a/q1 (T vs F), a/q2 (T vs F), b/q3 (F vs T): tp 0, fp 2, fn 1, tn 0;
    # p_o = 0, p_rubric = 2/3, p_people = 1/3, p_e = 2/9 + 2/9 = 4/9, kappa = -4/9 / (5/9) = -0.8
    assert (r.rubric.confusion.fp, r.rubric.confusion.fn, r.rubric.n) == (2, 1, 3)
    assert r.rubric.kappa == pytest.approx(-0.8) and r.rubric.precision == 0.0
    assert [(m.candidate, m.question_id, m.checks) for m in r.false_passes["s"]] == [
        ("a", "q1", ["contains_any: found yes"]), ("a", "q2", ["contains_any: found yes"])]  # fmt: skip
    assert [(m.candidate, m.question_id, m.question) for m in r.false_fails["s"]] == [("b", "q3", "Question 3?")]


def test_order_change_without_a_new_winner_is_named() -> None:
    # Overturn c's two fails (q2, q3) and b's pass q1: b (0+1+0+0)/4 = 0.25, c (1+1+1+0)/4 = 0.75,
    # a stays 0.75; a and c tie on the mark and a stays first (the rank keeps plan order on ties): a, c, b.
    grades = [grade("c", 2, True), grade("c", 3, True), grade("b", 1, False)]
    data = assemble(build(grades))
    assert data.recommendation.recommended == "a"
    assert data.review_changes == ["Human grades changed the order of the candidates: on the rubric alone it "
                                   "would be a, b, c; with them, a, c, b."]  # fmt: skip


def test_stale_grades_are_dropped_and_counted() -> None:
    changed, gone = grade("a", 1, False, seen="yes, but an older answer"), grade("z", 1, True, seen="yes")
    grades = [changed, gone, grade("b", 1, True)]
    data = assemble(build(grades))
    r = data.review
    assert r is not None and r.grades == 1 and r.answers_reviewed == 1
    assert r.stale == {"answer text changed since it was graded": 1, "answer not in this run": 1}
    assert data.recommendation.recommended == "a"  # b/q1 was already acceptable: nothing changes
    assert data.review_changes == []


def test_human_only_makes_a_candidate_without_grades_ineligible() -> None:
    # human_only: a has q1 (no) and q2 (no) -> 0.0: no acceptable answer; b has q3 (yes) -> 1.0; c none.
    data = assemble(build(FLIP, policy={"quality": "human_only"}))
    table = data.recommendation.table.set_index("candidate")
    assert table.violations["c"] == ["no human grades"]
    assert table.violations["a"] == ["not one acceptable answer"]
    assert data.recommendation.recommended == "b"
    assert "Human grades made c not eligible (no human grades)." in data.review_changes
    assert "Human grades made a not eligible (not one acceptable answer)." in data.review_changes


def test_machine_policy_shows_grades_but_decides_on_the_rubric() -> None:
    data = assemble(build(FLIP, policy={"quality": "machine"}))
    assert data.recommendation.recommended == "a" and data.machine_recommendation is None
    assert data.review is not None and data.review.answers_reviewed == 3


def _judgments(grades: dict[str, float]) -> list[Judgment]:
    return [Judgment(key=f"single/{k}/t0", kind="single", set_id="s", question_id=k.split("/")[2], sample=0,
                     candidates=[k.split("/")[0]], prompt_version="v1", seed=0, parsed=True, score=v)
            for k, v in grades.items()]  # fmt: skip


def test_an_untrusted_judge_is_not_headlined_and_a_kept_one_is_blended() -> None:
    # Judge grades 1 (fail) on every answer (scale 10, pass 6); people review 3 answers: n = 3 < 20 pairs.
    keys = [f"{c}/s/q{i}/0" for c in RUBRIC for i in range(1, 5)]
    data = assemble(build(FLIP, judgments=_judgments(dict.fromkeys(keys, 1.0))))
    trust = judge_trust_of(data)
    assert trust is not None and trust.state == "not measured" and trust.n == 3
    html = _card(data)
    line = "judge's agreement with people not measured (3 answers both graded, fewer than 20)."
    assert _texts(html)["judge-trust-line"] == line
    assert 'id="judge-headline"' not in html
    # Kept by the plan: unreviewed answers score (rubric + (1 - 1)/9) / 2, so a/q3 1.0 -> 0.5:
    # a (0 + 0 + 0.5 + 0)/4 = 0.125; b (0.5 + 0.5 + 1 + 0)/4 = 0.5; c (0.5 + 0 + 0 + 0)/4 = 0.125
    kept = assemble(build(FLIP, policy={"keep_untrusted_judge": True}, judgments=_judgments(dict.fromkeys(keys, 1.0))))
    means = dict(zip(kept.models.candidate, kept.models.rubric_mean, strict=True))
    assert means == pytest.approx({"a": 0.125, "b": 0.5, "c": 0.125})
    assert kept.quality is not None and kept.quality.judge_blended == 9  # 12 answers - 3 reviewed
    assert "not trusted, kept by the plan" in _card(kept)


# ------------------------------------------------------------------ the page and summary.json


class _Text(HTMLParser):
    """Text of the elements with an id, and the rows of every table, as a reader sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str | None] = []
        self.by_id: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack.append(dict(attrs).get("id"))
        if self.stack[-1]:
            self.by_id[self.stack[-1]] = ""

    def handle_endtag(self, tag: str) -> None:
        if self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        for i in self.stack:
            if i:
                self.by_id[i] += data


def _texts(html: str) -> dict[str, str]:
    p = _Text()
    p.feed(html)
    return {k: re.sub(r"\s+", " ", v).strip() for k, v in p.by_id.items()}


def _cells(html: str, grader: str) -> list[str]:
    """The cells of the agreement table's row of ``grader``, as text."""
    row = re.search(rf'<tr data-grader="{grader}">(.*?)</tr>', html, re.S)
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", c)).strip() for c in cells]


def _context(data: ReportData) -> dict[str, Any]:
    rows = _records(data.models)
    return dict(plan=data.plan, review=data.review, quality=data.quality, review_changes=data.review_changes,
                judge_trust=judge_trust_of(data), rec=data.recommendation, judge_summary=data.judge_summary,
                rec_row=next(m for m in rows if m["candidate"] == data.recommendation.recommended), k=1,
                lmeval_columns=[], mdd=None, questions_total=4)  # fmt: skip


def _card(data: ReportData) -> str:
    return _env().get_template("decision.html.j2").render(**_context(data))


def test_the_section_and_card_read_as_a_person_checks_them() -> None:
    grades = [*FLIP, grade("c", 1, True, seen="an answer since replaced")]
    data = assemble(build(grades))
    html = _env().get_template("review.html.j2").render(**_context(data))
    t = _texts(html)
    assert t["review-coverage"].startswith("3 of 12 answers reviewed (25%), 2 reviewers (r1, r2), 4 grades.")
    assert "human where reviewed, else rubric" in t["review-coverage"]
    assert "1 human grade dropped: 1 answer text changed since it was graded" in t["review-stale"]
    assert _cells(html, "rubric") == ["rubric", "3", "-0.80", "0%", "– (0)", "0", "2", "1", "0", ""]
    assert "2 false passes" in t["review-misses"] and "1 false fail" in t["review-misses"]
    assert "b · q3 Question 3?" in t["review-misses"]
    card = _texts(_card(data))
    assert card["review-line"].startswith("Human grades: 3 answers reviewed by 2 reviewers (4 grades); quality from "
                                          "human where reviewed, else rubric.")  # fmt: skip
    assert card["quality-figure"].startswith("quality score (human where reviewed, else rubric)0.75")
    assert "on the rubric alone it would be a" in _card(data)
    # a hostile answer in a false pass stays text (model output is never |safe)
    payload = "<script>alert(1)</script>"
    served = data.answers.assign(text=data.answers.text.where(data.answers.key != "a/s/q1/0", payload))
    hostile = review_summary(served, served, [grade("a", 1, False, seen=payload)], data.sets, data.plan.review,
                             None, data.names)  # fmt: skip
    assert hostile.false_passes["s"][0].answer == payload
    page = _env().get_template("review.html.j2").render(**{**_context(data), "review": hostile})
    assert payload not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_without_grades_the_section_says_how_to_start() -> None:
    data = assemble(build([]))
    t = _texts(_env().get_template("review.html.j2").render(**_context(data)))
    assert "No answer of this run has been graded by people yet." in t["review-none"]
    assert "harness review plan p" in t["review-none"] and "docs/review.md" in t["review-none"]


def test_summary_json_review_object() -> None:
    review = summary_json(assemble(build(FLIP)))["review"]
    assert review["coverage"] == {"answers_total": 12, "answers_reviewed": 3, "share": 0.25, "reviewers": ["r1", "r2"],
                                  "grades": 4, "stale": {}}  # fmt: skip
    assert review["per_candidate"][1] == {"candidate": "b", "reviewed": 1, "acceptable": 1, "rate": 1.0,
                                          "low": pytest.approx(0.2065, abs=1e-4), "high": 1.0}  # fmt: skip
    # Wilson 1 of 1: low = (1 + z^2/2 - z*sqrt(z^2/4)) / (1 + z^2) = 1 / (1 + 3.8415) = 0.2065
    assert review["agreement"]["rubric"]["confusion"] == {"tp": 0, "fp": 2, "fn": 1, "tn": 0}
    assert review["agreement"]["judge"] is None and review["judge_trusted"] is None
    assert review["machine_recommended"] == "a" and review["quality"] == "human where reviewed, else rubric"
    empty = summary_json(assemble(build([])))["review"]
    assert empty["coverage"]["answers_reviewed"] == 0 and empty["per_candidate"] == []
