"""Variants against their base (pure): what a LoRA adapter or a quantized build gains or loses.

For each candidate with a ``base`` (docs/variants.md), over the questions both answered:

- ``diff``: question-weighted mean score of variant - base (score scale 0..1; the summary shows
  points, x100), with a paired percentile-bootstrap interval and a sign-flip p-value
  (:func:`harness.rollup.significance.paired_difference`); ``p_holm`` is Holm-adjusted over every
  variant comparison of the run, so five variants do not make one lucky "significant" gap;
- ``agreement``: share of questions both call acceptable or both not (:func:`harness.rollup.frames.question_ok`);
  ``lost`` (base acceptable, variant not) and ``gained`` (the reverse) list the questions (``set/id``);
- ``bound``: ``floor`` or ``ceiling`` when both sides' mean scores sit within :data:`BOUND` of 0 or 1,
  where the questions cannot show a difference, and the smallest difference the comparison could detect
  (``diff.mdd``, :func:`harness.rollup.significance.min_detectable_difference`, as the decision card's);
- ``answers_changed`` of ``answers_paired``: the answers (same question and sample, both answered) whose
  text differs from the base's, so "no difference in score" is not read as "the same answers";
- relative deltas (variant / base - 1) of memory needed (computed: weights + KV cache in use), the
  measured peak memory (NVML or host RSS, compared only when both were measured the same way),
  throughput, $ per 1M output tokens and $ per 1,000 acceptable answers, from the report's model
  table. Throughput and $ are one measurement per side: no interval, and the summary says so;
- with contaminated questions (the adapter's training data held them), the difference again without
  them (``clean_*``), so a model that saw the test is not credited for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import pandas as pd

from harness.records import Candidate
from harness.rollup.frames import question_ok
from harness.rollup.significance import ALPHA, PairedDiff, holm, paired_difference

Kind = Literal["lora", "quantized"]
QuestionKey = tuple[str, str]
"""(set id, question id)."""

DELTAS = {"memory": "memory_needed_gib", "memory_measured": "peak_memory_gib", "throughput": "best_out_tok_per_s",
          "usd_per_mtok": "usd_per_mtok", "usd_per_1k_acceptable": "usd_per_1k_acceptable"}  # fmt: skip
"""Delta name -> the model-table column it compares (``memory``: computed; ``memory_measured``: a measured peak)."""

SINGLE_MEASUREMENT = ("throughput", "usd_per_mtok", "usd_per_1k_acceptable")
"""Deltas that rest on one measurement of each side (one sweep level or generation phase): shown without an
interval, and labelled so, unless both sides' SLO capacity was searched with repeated runs (``ranges``)."""

BOUND = 0.05
"""Both sides' mean scores within this of 0 (floor) or of 1 (ceiling): the questions cannot show a difference."""


@dataclass(frozen=True)
class VariantComparison:
    """One variant against its base."""

    variant: str
    base: str
    kind: Kind
    """``lora``: an adapter on the base's server; ``quantized``: another build of the base (its own server)."""
    diff: PairedDiff
    """variant - base over the shared questions."""
    p_holm: float | None = None
    agreement: float | None = None
    """Share of shared questions with the same acceptability (None without shared questions)."""
    lost: list[str] = field(default_factory=list)
    """``set/question`` acceptable for the base, not for the variant."""
    gained: list[str] = field(default_factory=list)
    """``set/question`` acceptable for the variant, not for the base."""
    deltas: dict[str, float | None] = field(default_factory=dict)
    """Relative change (variant / base - 1) per :data:`DELTAS` name; None where either side is unknown."""
    contaminated: list[str] = field(default_factory=list)
    """``set/question`` its training data held (flagged by :mod:`harness.inputs.contamination`)."""
    clean: PairedDiff | None = None
    """``diff`` without the contaminated questions (None when there are none)."""
    bound: Literal["floor", "ceiling"] | None = None
    """Both sides' mean scores within :data:`BOUND` of 0 (``floor``) or 1 (``ceiling``); None otherwise."""
    answers_paired: int | None = None
    """Answers to the same question and sample that both gave (None: answers not given to the comparison)."""
    answers_changed: int | None = None
    """Of ``answers_paired``, those whose text (stripped) differs from the base's."""
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Delta name -> (lowest, highest) relative change over every pair of repeated runs (variant run x base
    run) at both SLO capacities (:func:`repeat_ranges`); a delta absent here is a single measurement."""
    repeats: tuple[int, int] | None = None
    """(variant runs, base runs) behind ``ranges``."""

    @property
    def significant(self) -> bool | None:
        return None if self.p_holm is None else self.p_holm < ALPHA


def families(candidates: Sequence[Candidate]) -> list[tuple[Candidate, Candidate]]:
    """(variant, base) for every candidate that names a base present in ``candidates``, in plan order."""
    by_name = {c.name: c for c in candidates}
    return [(c, by_name[c.base]) for c in candidates if c.base is not None and c.base in by_name]


def _paired(questions: pd.DataFrame, variant: str, base: str, drop: set[QuestionKey]) -> pd.DataFrame:
    """Shared questions: set_id, question_id, weight, score_v, score_b, acceptable_v, acceptable_b (the
    shares of each question's answers that are acceptable), minus ``drop``."""
    keys = ["set_id", "question_id"]
    if "acceptable" not in questions.columns:  # a frame of scores only: the threshold decides
        questions = questions.assign(acceptable=float("nan"))
    left = questions.loc[questions.candidate == variant, [*keys, "score", "acceptable", "weight"]]
    right = questions.loc[questions.candidate == base, [*keys, "score", "acceptable"]]
    both = left.merge(right, on=keys, suffixes=("_v", "_b"))
    if drop:
        both = both[[(s, q) not in drop for s, q in zip(both.set_id, both.question_id, strict=True)]]
    return both.sort_values(keys).reset_index(drop=True)


def _diff(both: pd.DataFrame, resamples: int, seed: int) -> PairedDiff:
    return paired_difference(both.score_v.to_numpy(float), both.score_b.to_numpy(float),
                             both.weight.to_numpy(float), resamples=resamples, seed=seed)  # fmt: skip


def bound_of(both: pd.DataFrame) -> Literal["floor", "ceiling"] | None:
    """``floor`` / ``ceiling`` when both sides' weighted mean scores over ``both`` (:func:`_paired`) are within
    :data:`BOUND` of 0 / 1; None otherwise or without shared questions."""
    if not len(both):
        return None
    w = both.weight.to_numpy(float)
    means = [float((both[col].to_numpy(float) * w).sum() / w.sum()) for col in ("score_v", "score_b")]
    if max(means) <= BOUND:
        return "floor"
    if min(means) >= 1 - BOUND:
        return "ceiling"
    return None


def changed_answers(answers: pd.DataFrame, variant: str, base: str) -> tuple[int, int]:
    """(answers whose text differs from the base's, answers paired): same set, question and sample, both
    answered (``ok``); text compared with surrounding whitespace stripped."""
    keys = ["set_id", "question_id", "sample"]
    mine = answers.loc[(answers.candidate == variant) & answers.ok, [*keys, "text"]]
    theirs = answers.loc[(answers.candidate == base) & answers.ok, [*keys, "text"]]
    both = mine.merge(theirs, on=keys, suffixes=("_v", "_b"))
    changed = sum(str(a).strip() != str(b).strip() for a, b in zip(both.text_v, both.text_b, strict=True))
    return changed, len(both)


def repeat_ranges(deltas: Mapping[str, float | None], runs_v: Sequence[float], runs_b: Sequence[float],
                  ) -> dict[str, tuple[float, float]]:  # fmt: skip
    """Lowest and highest relative change over every (variant run, base run) pair of repeated throughput
    measurements: throughput ``t_v / t_b - 1``; $ per token (and per acceptable answer, whose other factors
    are fixed) scale as ``1 / throughput``, so ``(1 + d) x (T_v / T_b) x (t_b / t_v) - 1`` around the point
    delta ``d`` at the medians ``T``. A range over a few runs, not a confidence interval."""
    if not runs_v or not runs_b or deltas.get("throughput") is None:
        return {}
    ratios = [v / b for v in runs_v for b in runs_b if b > 0 and v > 0]
    if not ratios:
        return {}
    point = 1 + float(deltas["throughput"])  # type: ignore[arg-type]
    out = {"throughput": (min(ratios) - 1, max(ratios) - 1)}
    for name in ("usd_per_mtok", "usd_per_1k_acceptable"):
        d = deltas.get(name)
        if d is not None:
            ends = [(1 + d) * point / r - 1 for r in (max(ratios), min(ratios))]
            out[name] = (ends[0], ends[1])
    return out


def relative_delta(variant: Any, base: Any) -> float | None:
    """variant / base - 1; None when either is missing or the base is 0."""
    if pd.isna(variant) or pd.isna(base) or not base:
        return None
    return float(variant) / float(base) - 1.0


def _deltas(models: pd.DataFrame, variant: str, base: str) -> dict[str, float | None]:
    rows = models.set_index("candidate")
    out: dict[str, float | None] = {}
    for name, column in DELTAS.items():
        has = column in rows.columns and variant in rows.index and base in rows.index
        out[name] = relative_delta(rows.at[variant, column], rows.at[base, column]) if has else None
    on = "peak_memory_source"  # GPU memory against host RSS is no comparison
    both = on in rows.columns and variant in rows.index and base in rows.index
    if both and rows.at[variant, on] != rows.at[base, on]:
        out["memory_measured"] = None
    return out


@dataclass(frozen=True)
class Resampling:
    """The draws of a paired comparison: ``resamples`` bootstrap resamples (and sign flips) from ``seed``."""

    resamples: int = 2000
    seed: int = 0


def compare_variant(
    questions: pd.DataFrame, models: pd.DataFrame, pair: tuple[Candidate, Candidate], threshold: float,
    contaminated: Sequence[QuestionKey] = (), draws: Resampling = Resampling(), answers: pd.DataFrame | None = None,
    runs: Mapping[str, Sequence[float]] | None = None,
) -> VariantComparison:  # fmt: skip
    """One variant against its base, ``pair`` = (variant, base) as :func:`families` gives it (``p_holm`` is
    left None: :func:`compare_variants` adjusts over all); ``answers`` (candidate, set_id, question_id,
    sample, ok, text) counts the answers that changed; ``runs``: candidate -> repeated throughput runs."""
    (variant, base), resamples, seed = pair, draws.resamples, draws.seed
    both = _paired(questions, variant.name, base.name, set())
    ok_v, ok_b = (
        question_ok(both.acceptable_v, both.score_v, threshold),
        question_ok(both.acceptable_b, both.score_b, threshold),
    )
    ids = [f"{s}/{q}" for s, q in zip(both.set_id, both.question_id, strict=True)]
    seen = sorted(set(contaminated))
    changed, paired = changed_answers(answers, variant.name, base.name) if answers is not None else (None, None)
    deltas = _deltas(models, variant.name, base.name)
    runs_v, runs_b = (runs or {}).get(variant.name, ()), (runs or {}).get(base.name, ())
    ranges = repeat_ranges(deltas, runs_v, runs_b)
    return VariantComparison(
        variant=variant.name, base=base.name, kind="lora" if variant.adapter else "quantized",
        diff=_diff(both, resamples, seed),
        agreement=float((ok_v == ok_b).mean()) if len(both) else None,
        lost=[i for i, flip in zip(ids, ok_b & ~ok_v, strict=True) if flip],
        gained=[i for i, flip in zip(ids, ok_v & ~ok_b, strict=True) if flip],
        deltas=deltas, ranges=ranges, repeats=(len(runs_v), len(runs_b)) if ranges else None,
        contaminated=[f"{s}/{q}" for s, q in seen],
        clean=_diff(_paired(questions, variant.name, base.name, set(seen)), resamples, seed) if seen else None,
        bound=bound_of(both), answers_paired=paired, answers_changed=changed,
    )  # fmt: skip


def compare_variants(
    questions: pd.DataFrame, models: pd.DataFrame, candidates: Sequence[Candidate], threshold: float,
    contaminated: Mapping[str, Sequence[QuestionKey]] | None = None, draws: Resampling = Resampling(),
    answers: pd.DataFrame | None = None, runs: Mapping[str, Sequence[float]] | None = None,
) -> list[VariantComparison]:  # fmt: skip
    """Every variant of the plan against its base, p-values Holm-adjusted over all of them.

    ``questions``: one row per candidate x question (candidate, set_id, question_id, score, weight);
    ``models``: one row per candidate with the :data:`DELTAS` columns it has; ``contaminated``:
    variant name -> the (set, question) keys its training data held; ``answers``: one row per answer
    (candidate, set_id, question_id, sample, ok, text), to count the answers that changed (None: not counted);
    ``runs``: candidate -> output tok/s of each repeated run at its SLO capacity (ranges of the cost deltas);
    ``draws``: the bootstrap resamples and seed of every comparison.
    """
    out = [
        compare_variant(
            questions, models, (v, b), threshold, (contaminated or {}).get(v.name, ()), draws, answers, runs
        )
        for v, b in families(candidates)
    ]
    adjusted = holm([c.diff.p_value for c in out])
    return [replace(c, p_holm=p) for c, p in zip(out, adjusted, strict=True)]


def _signed(value: float, digits: int, suffix: str = "") -> str:
    """``+1.2`` / ``−1.2`` (a true minus sign, as typeset)."""
    text = f"{value:+.{digits}f}{suffix}"
    return text.replace("-", "\u2212")


def _interval(d: PairedDiff) -> str:
    if d.diff is None:
        return "no shared questions"
    text = f"{_signed(100 * d.diff, 1)} points"
    if d.low is not None and d.high is not None:
        text += f" [{_signed(100 * d.low, 1)}, {_signed(100 * d.high, 1)}]"
    return text


def _detectable(d: PairedDiff) -> str:
    """The smallest difference the comparison could detect, in points, or why there is none."""
    if d.mdd is None:
        return "too few questions to detect a difference"
    if d.mdd == 0:
        return "the per-question differences do not vary: no spread to size a detectable difference"
    return f"smallest detectable difference {100 * d.mdd:.1f} points"


def _memory(c: VariantComparison) -> str | None:
    """The memory clause: computed (weights + KV cache in use) and measured (peak) apart."""
    computed, measured = c.deltas.get("memory"), c.deltas.get("memory_measured")
    parts = []
    if computed is not None:
        parts.append(f"{_signed(100 * computed, 0)} % memory computed (weights + KV cache in use)")
    if measured is not None:
        parts.append(f"{_signed(100 * measured, 1)} % measured peak memory")
    return ", ".join(parts) or None


def spread(c: VariantComparison, name: str) -> str:
    """``single measurement``, or the range of a delta over repeated runs: ``−35 to −25 % over 3 × 3 runs``."""
    if name not in c.ranges or c.repeats is None:
        return "single measurement"
    low, high = c.ranges[name]
    return f"{_signed(100 * low, 0)} to {_signed(100 * high, 0)} % over {c.repeats[0]} × {c.repeats[1]} runs"


def summary_line(c: VariantComparison) -> str:
    """One line per variant, e.g. ``quality −1.2 points [−3.0, +0.6] (n.s.; smallest detectable difference
    4.1 points); 20 of 22 answers differ from the base's; for −48 % memory computed (weights + KV cache in use),
    −3.5 % measured peak memory``.

    Where both sides sit at the floor or ceiling it says so; an adapter shares its base's server, so it says
    that instead of a memory figure; throughput is named as a single measurement. Contaminated questions add
    the difference without them.
    """
    text = f"quality {_interval(c.diff)}"
    if c.diff.diff is not None:
        verdict = ("p=" + format(c.p_holm, ".3f") if c.significant else "n.s.") if c.significant is not None else None
        text += f" ({'; '.join(x for x in (verdict, _detectable(c.diff)) if x)})"
    if c.bound is not None:
        side = "the floor (scores near 0)" if c.bound == "floor" else "the ceiling (scores near 100)"
        text += f"; both at {side}: these questions cannot show a difference"
    if c.answers_paired:
        text += f"; {c.answers_changed} of {c.answers_paired} answers differ from the base's"
    if c.kind == "lora":
        text += "; shares the base's server"
    elif (mem := _memory(c)) is not None:
        text += f"; for {mem}"
    elif (tput := c.deltas.get("throughput")) is not None:
        text += f"; at {_signed(100 * tput, 0)} % throughput ({spread(c, 'throughput')})"
    if c.clean is not None:
        n = len(c.contaminated)
        text += f"; without the {n} question{'s' if n != 1 else ''} its training data held: {_interval(c.clean)}"
    return text
