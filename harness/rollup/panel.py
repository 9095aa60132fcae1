"""A panel of judges (pure): several judges' verdicts on one item -> one panel verdict, and their agreement.

Definitions (docs/judging.md, :class:`harness.records.JudgePanel`): the panel's single grade of an
answer is the ``rule`` (median, mean or min) of the parsed grades of the judges permitted to grade
that candidate; its pairwise verdict is the strict majority of their parsed verdicts, else a tie.
A judge whose reply failed or did not parse is left out of that verdict and counted, never scored 0.
EvalScope's multi-judge grading and Arena-Hard v2's ensemble judges work the same way.

A judge is *permitted* for an item when it may grade every candidate of the item (``may_grade``,
from :func:`family_exclusions`: a judge does not grade its own model family unless the plan allows
it). Items are grouped by :attr:`Judgment.key`, which is the same across judges for the same item.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from harness.records import Judgment
from harness.rollup import judge_stats as stats
from harness.rollup.agreement import krippendorff_alpha

Rule = Literal["median", "mean", "min"]
MayGrade = Mapping[str, frozenset[str] | None]
"""Judge name -> the candidates it may grade; None (or a judge missing from the mapping): every candidate."""

PANEL_JUDGE = "panel"
"""The ``judge`` (and ``prompt_version``) of a synthesized panel record."""


def judge_name(j: Judgment, default: str) -> str:
    """The judge that gave ``j``: its ``judge`` field, else ``default`` (records from before panels had one judge)."""
    return j.judge or default


def may_judge(judge: str, candidates: Sequence[str], may_grade: MayGrade) -> bool:
    """Whether ``judge`` may rule on an item of ``candidates``: it must be allowed every one (a pair: both)."""
    allowed = may_grade.get(judge)
    return allowed is None or all(c in allowed for c in candidates)


def unjudged(candidates: Sequence[str], may_grade: MayGrade, judges: Sequence[str]) -> list[str]:
    """The candidates (in the given order) that no judge of ``judges`` may grade: the panel cannot judge them."""
    return [c for c in candidates if not any(may_judge(j, [c], may_grade) for j in judges)]


def _combine(values: Sequence[float], rule: Rule) -> float:
    if rule == "median":
        return float(statistics.median(values))
    if rule == "mean":
        return float(statistics.fmean(values))
    if rule == "min":
        return float(min(values))
    raise ValueError(f"rule must be 'median', 'mean' or 'min', got {rule!r}")


def _majority(verdicts: Sequence[str]) -> Literal["A", "B", "tie"]:
    """The verdict more than half of ``verdicts`` give; else (or with none) a tie."""
    for v in ("A", "B", "tie"):
        if 2 * sum(x == v for x in verdicts) > len(verdicts):
            return v  # type: ignore[return-value]
    return "tie"


def _in_order(values: list[float | str]) -> list[float | str]:
    """Grades low to high (easier to read); verdicts as given, in the panel's judge order."""
    return values if any(isinstance(v, str) for v in values) else sorted(values, key=float)


def parsed_value(j: Judgment) -> float | str | None:
    """The judge's grade (single, injection) or verdict (pairwise); None when it failed or did not parse."""
    if not j.parsed or j.error is not None:
        return None
    return j.verdict if j.kind == "pairwise" else j.score


def _items(judgments: Sequence[Judgment], judges: Sequence[str], default_judge: str) -> dict[str, dict[str, Judgment]]:
    """Key -> judge -> its record, keys in first-seen order; judges off the panel ignored; the last record wins."""
    panel = set(judges)
    out: dict[str, dict[str, Judgment]] = {}
    for j in judgments:
        name = judge_name(j, default_judge)
        if name in panel:
            out.setdefault(j.key, {})[name] = j
    return out


@dataclass(frozen=True)
class PanelVerdicts:
    """The panel's verdicts: one synthesized record per item and the counts behind them."""

    judgments: list[Judgment]
    """One record per item the panel could rule on (``judge="panel"``); unparsed when below the quorum."""
    judges_in: dict[str, int]
    """Item key -> number of judges whose parsed grade or verdict made it."""
    left_out: dict[str, int]
    """Judge name -> its failed or unparsed verdicts on items it was permitted, left out (never scored 0)."""
    below_quorum: int
    """Items with at least one permitted judge but fewer parsed verdicts than the quorum."""


def panel_verdicts(
    judgments: Sequence[Judgment],
    judges: Sequence[str],
    may_grade: MayGrade,
    rule: Rule,
    quorum: int | None,
    default_judge: str,
) -> PanelVerdicts:
    """Combine every judge's verdict on each item into the panel's (see the module docstring).

    ``judgments``: all judges' records (``judgments.jsonl``); ``judges``: the panel's judge names, in
    the plan's order (a record of another judge is ignored); ``default_judge``: the name of a record
    with ``judge=None``. Per item with m permitted judges, the quorum is ``quorum`` when given, else
    (m + 1) // 2 (at least half: of two judges, one that answered stands when the other failed); with
    fewer parsed verdicts the record is unparsed (score and verdict None). An item with no permitted
    judge gets no record. Raises ValueError for an unknown ``rule``.
    """
    if rule not in ("median", "mean", "min"):
        raise ValueError(f"rule must be 'median', 'mean' or 'min', got {rule!r}")
    records: list[Judgment] = []
    judges_in: dict[str, int] = {}
    left_out: dict[str, int] = {}
    below = 0
    for key, by_judge in _items(judgments, judges, default_judge).items():
        item = next(iter(by_judge.values()))
        permitted = [name for name in judges if may_judge(name, item.candidates, may_grade)]
        if not permitted:
            continue
        values: list[float | str] = []
        for name in permitted:
            if name not in by_judge:
                continue
            value = parsed_value(by_judge[name])
            if value is None:
                left_out[name] = left_out.get(name, 0) + 1
            else:
                values.append(value)
        need = quorum if quorum is not None else (len(permitted) + 1) // 2
        missing = sum(name in by_judge for name in permitted) - len(values)
        judges_in[key] = len(values)
        enough = len(values) >= need
        below += not enough
        score: float | None = None
        verdict: Literal["A", "B", "tie"] | None = None
        if enough and item.kind == "pairwise":
            verdict = _majority([str(v) for v in values])
        elif enough:
            score = _combine([float(v) for v in values], rule)
        how = "majority" if item.kind == "pairwise" else rule
        shown = ", ".join(str(v) if isinstance(v, str) else f"{v:g}" for v in _in_order(values)) or "none"
        raw = f"{how} of {len(values)} judge{'s' * (len(values) != 1)}: {shown}"
        raw += f" ({missing} left out)" if missing else ""
        raw += "" if enough else f"; below the quorum of {need}"
        records.append(
            Judgment(
                key=key,
                kind=item.kind,
                set_id=item.set_id,
                question_id=item.question_id,
                sample=item.sample,
                candidates=list(item.candidates),
                trial=item.trial,
                attack=item.attack,
                prompt_version=PANEL_JUDGE,
                seed=0,
                raw=raw,
                parsed=enough,
                score=score,
                verdict=verdict,
                error=None,
                judge=PANEL_JUDGE,
            )
        )
    return PanelVerdicts(records, judges_in, left_out, below)


@dataclass(frozen=True)
class JudgeVsPanel:
    """One judge against the rest of the panel (leave-one-out), on single trial-0 grades both gave."""

    judge: str
    n: int
    """Items where this judge's grade parsed and at least one other permitted judge's did."""
    kappa: float | None
    """Cohen's kappa of its pass/fail against the rest's (``judge_stats.cohen_kappa``); None as there."""
    spearman: float | None
    """Spearman's rho of its grade against the rest's combined grade; None under 3 items or when constant."""
    agreement: float | None
    """Share of the n items where its pass/fail equals the rest's; None when n == 0."""


@dataclass(frozen=True)
class PanelAgreement:
    """How far the panel's judges agree with each other, on single trial-0 grades."""

    alpha_interval: float | None
    """Krippendorff's alpha on the grades, interval level; None with no pairable item or no variation."""
    alpha_nominal: float | None
    """Krippendorff's alpha on pass/fail (grade >= pass_mark), nominal level; None as above."""
    n_items: int
    """Items graded by at least two permitted judges (the pairable units behind alpha)."""
    per_judge: list[JudgeVsPanel]
    """One row per panel judge, in the panel's order."""
    pass_mark: float
    scale: int
    """The grading scale 1..scale every judge of the panel shares (for labels)."""


def panel_agreement(
    judgments: Sequence[Judgment],
    judges: Sequence[str],
    may_grade: MayGrade,
    pass_mark: float,
    scale: int,
    rule: Rule,
    default_judge: str,
) -> PanelAgreement:
    """Inter-judge agreement of the panel over single trial-0 items (Krippendorff 2011; Cohen 1960).

    Only parsed grades of permitted judges count. Per judge, the *rest* is ``rule`` over the other
    permitted judges' parsed grades of the same item, so no judge is compared with itself; pass means
    grade >= ``pass_mark``. The alpha values come from :func:`harness.rollup.agreement.krippendorff_alpha`.
    """
    grid: list[dict[str, float]] = []
    for by_judge in _items(judgments, judges, default_judge).values():
        item = next(iter(by_judge.values()))
        if item.kind != "single" or item.trial != 0:
            continue
        grades = {}
        for name, j in by_judge.items():
            value = parsed_value(j)
            if value is not None and may_judge(name, item.candidates, may_grade):
                grades[name] = float(value)
        grid.append(grades)
    units = [[g.get(name) for name in judges] for g in grid]
    alpha_i, n_items = krippendorff_alpha(units, "interval")
    passes = [[None if v is None else float(v >= pass_mark) for v in u] for u in units]
    alpha_n, _ = krippendorff_alpha(passes, "nominal")
    rows = []
    for name in judges:
        mine, rest = [], []
        for g in grid:
            others = [v for other, v in g.items() if other != name]
            if name in g and others:
                mine.append(g[name])
                rest.append(_combine(others, rule))
        mine_pass = [v >= pass_mark for v in mine]
        rest_pass = [v >= pass_mark for v in rest]
        same = sum(a == b for a, b in zip(mine_pass, rest_pass, strict=True))
        rows.append(
            JudgeVsPanel(
                judge=name,
                n=len(mine),
                kappa=stats.cohen_kappa(mine_pass, rest_pass),
                spearman=stats.spearman(mine, rest),
                agreement=same / len(mine) if mine else None,
            )
        )
    return PanelAgreement(alpha_i, alpha_n, n_items, rows, pass_mark, scale)
