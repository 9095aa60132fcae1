"""The recommendation (pure): hard constraints, the cost-quality Pareto frontier, weighted marks, a reason.

1. A candidate whose server failed (did not start, died, hung), answered less of the plan than
   ``constraints.min_answered_share`` (by default every answer; :mod:`harness.rollup.evidence`), has no
   scores, has not one acceptable answer (partial credit alone does not make a choice), or breaks a hard constraint
   of the plan (GPU memory, p95 latency, stability, quality, cost, tool calls) is out, with the reason.
2. The Pareto frontier on (rubric score up, cost down) is computed over every scored
   candidate: a model off the frontier is worse *and* dearer than another. Cost is $/1M
   output tokens, or $ per 1,000 questions when the run has thinking models (``cost_column``):
   a model that thinks spends many more tokens per answer at the same price per token.
3. Each remaining candidate gets a 0-1 mark per side (see ``harness.records.Weights``)
   and the plan's weighted mean of its marks; the highest is recommended.
4. The runner-up is named; when its quality is not significantly different from the
   recommended model's (paired test over the same questions), the reason says so:
   on this evidence the two are equal in quality and the choice rests on the other sides.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from harness.records import Constraints, Weights
from harness.rollup.evidence import missing_evidence
from harness.rollup.significance import ALPHA, PairedDiff, aligned_scores, paired_difference

SIDES = ("quality", "cost", "latency", "stability", "calls")
COST_PER_TOKEN = "usd_per_mtok"
COST_PER_QUESTION = "usd_per_1k_questions"


@dataclass(frozen=True)
class Recommendation:
    recommended: str | None
    runner_up: str | None
    runner_up_tied: bool
    """The runner-up's quality is not significantly different from the recommended model's."""
    reason: str
    table: pd.DataFrame
    """Per candidate: eligible, violations, pareto, dominated_by, one mark per side, overall."""
    weights_used: dict[str, float] = field(default_factory=dict)
    """The plan's weights over the sides that have figures, normalised to sum 1."""
    runner_up_diff: PairedDiff | None = None
    cost_column: str = COST_PER_TOKEN
    """The cost figure the frontier and the cost mark used."""


def violations(row: dict[str, Any], c: Constraints, k: int, quality_label: str = "rubric score") -> list[str]:
    """Plain-language reasons a candidate breaks the plan's hard constraints (empty when it meets all).

    A row without a quality figure is out for its ``no_quality`` reason when it has one (human-only
    quality: "no human grades"), else for having no scored answers."""
    out = []
    if row.get("server_error"):
        out.append("its server failed")
        return out
    if missing := missing_evidence(row, c.min_answered_share):
        out.append(missing)
        if not row.get("answers"):  # nothing answered: nothing else to weigh
            return out
    if pd.isna(row.get("rubric_mean")):
        reason = row.get("no_quality")
        out.append(reason if isinstance(reason, str) and reason else "no scored answers")
        return out
    if _number(row.get("pass_at_1")) == 0:
        # partial credit ranks models, but one that never answered acceptably is no choice at all
        out.append("not one acceptable answer")
    checks: list[tuple[str, float | None, str, bool]] = [
        ("memory_needed_gib", c.max_gpu_memory_gib, "needs {v:.1f} GiB per GPU > {lim:g} GiB", False),
        ("e2e_p95_ms", c.max_p95_latency_ms, "p95 latency {v:,.0f} ms > {lim:,.0f} ms", False),
        ("usd_per_mtok", c.max_usd_per_mtok, "${v:.3f} per 1M tokens > ${lim:g}", False),
        ("ttft_p95_ms", c.max_p95_ttft_ms, "p95 time to first token {v:,.0f} ms > {lim:,.0f} ms", False),
        ("ttfat_p95_ms", c.max_p95_ttfat_ms, "p95 time to first answer token {v:,.0f} ms > {lim:,.0f} ms", False),
        ("pass_hat_k", c.min_stability, "pass^" + str(k) + " {v:.2f} < {lim:g}", True),
        ("rubric_mean", c.min_quality, quality_label + " {v:.2f} < {lim:g}", True),
    ]
    for column, limit, text, is_minimum in checks:
        if limit is None:
            continue
        value = _number(row.get(column))
        if value is None:
            out.append(f"no figure for {column} to check the limit {limit:g}")
        elif (value < limit) if is_minimum else (value > limit):
            out.append(text.format(v=value, lim=limit))
    return out + call_violations(row, c)


CALL_LIMITS = (
    ("call_accuracy", "min_call_accuracy", "call accuracy {v:.2f} < {lim:g}", True, False),
    ("unparsable_share", "max_unparsable_call_share", "unparsable call share {v:.2f} > {lim:g}", False, False),
    ("text_call_share", "max_text_call_share", "share of calls written in the text {v:.2f} > {lim:g}", False, True),
)
"""(models-frame column, constraint, reason, is a minimum, met without a figure when calls were graded) of the
tool-call constraints: no call made leaves no call written in the text to judge."""


def call_violations(row: dict[str, Any], c: Constraints) -> list[str]:
    """The tool-call constraints a candidate breaks (:mod:`harness.rollup.calls` figures of the quality run).

    A candidate with no figure for a limited one (no graded call: every answer to such a question failed,
    or the candidate is on the completions API, where tools are not offered) breaks it, with that reason:
    the limit asks for evidence of calling, and a candidate without any has not shown it. The plan's sets
    are checked to hold such questions (``harness validate``), so this is about the candidate, not the plan."""
    out = []
    for column, name, text, is_minimum, none_is_met in CALL_LIMITS:
        limit = getattr(c, name)
        if limit is None:
            continue
        value = _number(row.get(column))
        if value is None and none_is_met and _number(row.get("call_responses")):
            continue
        if value is None:
            graded = int(_number(row.get("call_responses")) or 0)
            out.append(f"no graded tool call to check {name} {limit:g}" if not graded else
                       f"no answer to a question with expect_call to check {name} {limit:g}")  # fmt: skip
        elif (value < limit) if is_minimum else (value > limit):
            out.append(text.format(v=value, lim=limit))
    return out


def _in_text(share: float | None) -> str:
    """The caveat on call accuracy when calls came as text (docs/tools.md, "Calls written in the text")."""
    if not share:
        return ""
    how = "all of them" if share >= 1 else f"{share:.0%} of its calls"
    return f" ({how} written in the text, not through the server's tool-call protocol)"


def pareto_frontier(points: dict[str, tuple[float, float | None]]) -> dict[str, str | None]:
    """For each name with (quality, cost): None if on the frontier, else the name of one that dominates it.

    A point dominates another when it is at least as good on both and better on one.
    A missing cost compares on quality alone.
    """
    out: dict[str, str | None] = {}
    for name, (q, cost) in points.items():
        out[name] = None
        for other, (q2, cost2) in points.items():
            if other == name:
                continue
            if cost is None or cost2 is None:
                no_worse, better = q2 >= q, q2 > q
            else:
                no_worse = q2 >= q and cost2 <= cost
                better = q2 > q or cost2 < cost
            if no_worse and better:
                out[name] = other
                break
    return out


def marks(eligible: pd.DataFrame, k: int, cost_column: str = COST_PER_TOKEN) -> pd.DataFrame:
    """0-1 marks per side: quality, stability and calls (call accuracy) as measured, cost and latency relative
    to the best. A run without graded calls has no ``call_accuracy`` column: its calls mark is NaN for all."""
    m = pd.DataFrame({"candidate": eligible.candidate})
    m["quality"] = eligible.rubric_mean.astype(float)
    m["stability"] = eligible.pass_hat_k.astype(float) if k >= 2 and "pass_hat_k" in eligible else float("nan")
    m["calls"] = eligible.call_accuracy.astype(float) if "call_accuracy" in eligible else float("nan")
    for side, column in (("cost", cost_column), ("latency", "e2e_p95_ms")):
        values = eligible[column].astype(float) if column in eligible else pd.Series(float("nan"), eligible.index)
        best = values[values > 0].min()
        m[side] = (best / values).where(values > 0) if pd.notna(best) else float("nan")
    return m


@dataclass(frozen=True)
class DecisionRule:
    """How :func:`recommend` picks: the plan's ``weights`` and ``constraints``, ``k`` samples a question,
    and the draws of the best-versus-runner-up test (``resamples`` bootstrap resamples from ``seed``)."""

    weights: Weights
    constraints: Constraints
    k: int
    resamples: int = 2000
    seed: int = 0
    quality_label: str = "rubric score"
    """What the quality figure (``rubric_mean``) is, in the reason: the rubric score, or the quality score
    once human grades enter it (:mod:`harness.rollup.quality`)."""


def recommend(
    models: pd.DataFrame, questions: pd.DataFrame, rule: DecisionRule, cost_column: str = COST_PER_TOKEN
) -> Recommendation:
    """Pick a model from the per-candidate summary (one row each) and the per-question scores by ``rule``;
    ``cost_column`` is the cost figure of the frontier and the cost mark."""
    weights, constraints, k = rule.weights, rule.constraints, rule.k
    rows = models.to_dict("records")
    table = pd.DataFrame({"candidate": models.candidate})
    table["violations"] = [violations(r, constraints, k, rule.quality_label) for r in rows]
    table["eligible"] = [not v for v in table.violations]
    scored = {r["candidate"]: (float(r["rubric_mean"]), _number(r.get(cost_column)))
              for r in rows if not pd.isna(r.get("rubric_mean")) and not r.get("server_error")}  # fmt: skip
    dominated = pareto_frontier(scored)
    table["pareto"] = [c in scored and dominated[c] is None for c in table.candidate]
    table["dominated_by"] = [dominated.get(c) for c in table.candidate]

    eligible = models[table.eligible.to_numpy()]
    m = marks(eligible, k, cost_column)
    wanted = {s: float(getattr(weights, s)) for s in SIDES}
    present = {s: w for s, w in wanted.items() if w > 0 and m[s].notna().any()}
    total = sum(present.values())
    used = {s: w / total for s, w in present.items()} if total else {}
    m["overall"] = sum(m[s].fillna(0.0) * w for s, w in used.items()) if used else float("nan")
    table = table.merge(m, on="candidate", how="left")
    ranked = m.sort_values(["overall", "quality"], ascending=False).candidate.tolist()
    if not ranked:
        return Recommendation(None, None, False, _no_choice(table), table, used, cost_column=cost_column)
    best = ranked[0]
    runner = ranked[1] if len(ranked) > 1 else None
    diff = (
        paired_difference(*aligned_scores(questions, best, runner), resamples=rule.resamples, seed=rule.seed)
        if runner
        else None
    )
    tied = bool(diff and (diff.p_value is None or diff.p_value >= ALPHA))
    chosen = Recommendation(best, runner, tied, "", table, used, diff, cost_column)
    return replace(chosen, reason=_reason(chosen, models, k, rule.quality_label))


def _reason(chosen: Recommendation, models: pd.DataFrame, k: int, label: str = "rubric score") -> str:
    """Why ``chosen.recommended`` is recommended, in sentences: its mark, facts, frontier, runner-up, exclusions."""
    best, runner, diff, tied = chosen.recommended, chosen.runner_up, chosen.runner_up_diff, chosen.runner_up_tied
    table, used = chosen.table, chosen.weights_used
    row = models.set_index("candidate").loc[best]
    t = table.set_index("candidate")
    eligible = int(table.eligible.sum())
    parts = [
        f"{best} is recommended: it has the highest weighted mark ({t.loc[best, 'overall']:.2f}; "
        + ", ".join(f"{s} {w:.0%}" for s, w in used.items())
        + (
            f") of the {eligible} candidates that meet every constraint."
            if eligible != 1
            else ") of the 1 candidate that meets every constraint."
        )
    ]
    facts = [f"its {label} is {row.rubric_mean:.2f}{_ci(row.get('rubric_ci_low'), row.get('rubric_ci_high'))}"]
    if k >= 2 and not pd.isna(row.get("pass_hat_k")):
        facts.append(f"{row.pass_hat_k:.0%} of questions are answered acceptably in all {k} samples")
    if not pd.isna(row.get("usd_per_mtok")):
        facts.append(f"it costs ${row.usd_per_mtok:.3f} per 1M output tokens")
    if (_number(row.get("thinking_tok_p50")) or 0) > 0 and not pd.isna(row.get("usd_per_1k_questions")):
        facts.append(f"${row.usd_per_1k_questions:.4f} per 1,000 questions, thinking included")
    if not pd.isna(row.get("e2e_p95_ms")):
        facts.append(f"95% of answers take at most {row.e2e_p95_ms / 1000:.1f} s")
    if "calls" in used and not pd.isna(row.get("call_accuracy")):
        facts.append(f"it makes the expected tool calls in {row.call_accuracy:.0%} of the answers that call for one"
                     + _in_text(_number(row.get("text_call_share"))))  # fmt: skip
    if isinstance(row.get("target_load"), str):  # perf.target_rps costed from the searched SLO capacity
        facts.append(row.target_load)
    parts.append(_sentence(facts))
    parts.append("It is on the cost-quality Pareto frontier." if t.loc[best, "pareto"] else
                 f"It is off the cost-quality frontier ({t.loc[best, 'dominated_by']} scores as well for less), "
                 "but wins on the other weighted sides.")  # fmt: skip
    if runner and diff and diff.diff is not None:
        gap = f"{diff.diff:+.2f} in {label} over {diff.n} shared questions"
        p = f"p = {diff.p_value:.3f}" if diff.p_value is not None else "too few questions to test"
        if tied:
            mdd = f"; differences below {diff.mdd:.2f} cannot be detected with these questions" if diff.mdd else ""
            parts.append(
                f"The runner-up, {runner} (mark {t.loc[runner, 'overall']:.2f}), is not significantly different in "
                f"quality ({gap}, {p}{mdd}): on this evidence it is an equal choice, to be decided on cost, latency "
                "and stability."
            )
        else:
            parts.append(f"The runner-up is {runner} (mark {t.loc[runner, 'overall']:.2f}); {best} is ahead by {gap} "
                         f"({p}), a significant difference.")  # fmt: skip
    out = [f"{c} ({'; '.join(v)})" for c, v in zip(table.candidate, table.violations, strict=True) if v]
    if out:
        parts.append("Not eligible: " + ", ".join(out) + ".")
    return " ".join(parts)


NO_CHOICE = "No candidate can be recommended: none meets every constraint."


def _no_choice(table: pd.DataFrame) -> str:
    """The reason there is no recommendation: :data:`NO_CHOICE`, then one line per candidate, ``name: why``."""
    out = [f"{c}: {'; '.join(v)}" for c, v in zip(table.candidate, table.violations, strict=True)]
    return "\n".join([NO_CHOICE, *out])


def _sentence(facts: list[str]) -> str:
    joint = ", and " if len(facts) > 2 else " and "
    text = facts[0] if len(facts) == 1 else ", ".join(facts[:-1]) + joint + facts[-1]
    return text[0].upper() + text[1:] + "."


def _ci(low: object, high: object) -> str:
    return "" if pd.isna(low) or pd.isna(high) else f" [95% CI {low:.2f}, {high:.2f}]"


def _number(value: object) -> float | None:
    return None if pd.isna(value) else float(value)  # type: ignore[arg-type]
