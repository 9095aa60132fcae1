"""The report's "Variants" section: each variant against its base, and its training data checked.

:func:`load_contamination` is the I/O (reads each adapter's ``train_data``); the figures come from
:mod:`harness.rollup.variants` and :mod:`harness.inputs.contamination`; :func:`variant_rows` shapes
them for the template ``variants.html.j2`` and the summary JSON.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.inputs.contamination import Contamination, EvalText, check_contamination, conversation_text
from harness.inputs.sft import read_sft
from harness.manifest_records import RunManifest
from harness.records import Plan, QuestionSet
from harness.rollup.variants import SINGLE_MEASUREMENT, VariantComparison, spread, summary_line


def load_contamination(
    plan: Plan, manifest: RunManifest, sets: dict[str, QuestionSet]
) -> tuple[dict[str, Contamination], list[str]]:  # fmt: skip
    """Variant name -> what its ``train_data`` holds of the run's questions; plus a note per unreadable file.

    Paths are relative to the plan file recorded in the manifest (``plan_path``).
    """
    folder = Path(manifest.plan_path or ".").parent
    items = [EvalText(qs.id, q.id, q.question, q.reference) for qs in sets.values() for q in qs.questions]
    out: dict[str, Contamination] = {}
    notes: list[str] = []
    for cand in plan.candidates:
        if cand.base is None or cand.train_data is None:
            continue
        path = folder / cand.train_data
        try:
            texts = [conversation_text(m) for m in read_sft(path)]
        except (OSError, ValueError) as exc:
            notes.append(f"{cand.name}: its training data could not be checked for the evaluated questions ({exc}).")
            continue
        out[cand.name] = check_contamination(texts, items)
    return out, notes


def _points(value: float | None) -> float | None:
    return None if value is None else 100 * value


def variant_rows(comparisons: list[VariantComparison], contamination: dict[str, Contamination]) -> list[dict[str, Any]]:
    """One plain dict per variant: figures in points (x100) and percent deltas, the summary line, the overlaps."""
    rows = []
    for c in comparisons:
        seen = contamination.get(c.variant)
        rows.append({
            "variant": c.variant, "base": c.base, "kind": c.kind, "n": c.diff.n,
            "diff_points": _points(c.diff.diff), "low_points": _points(c.diff.low),
            "high_points": _points(c.diff.high), "p_value": c.diff.p_value, "p_holm": c.p_holm,
            "significant": c.significant, "agreement": c.agreement, "lost": c.lost, "gained": c.gained,
            "deltas": c.deltas, "contaminated": c.contaminated,
            "clean_n": c.clean.n if c.clean else None,
            "clean_points": _points(c.clean.diff) if c.clean else None,
            "clean_low_points": _points(c.clean.low) if c.clean else None,
            "clean_high_points": _points(c.clean.high) if c.clean else None,
            "mdd_points": _points(c.diff.mdd), "bound": c.bound,
            "answers_paired": c.answers_paired, "answers_changed": c.answers_changed,
            "spread": {k: spread(c, k) for k in SINGLE_MEASUREMENT if c.deltas.get(k) is not None},
            "checked": seen is not None,
            "reference_only": [f"{s}/{q}" for s, q in seen.reference_only] if seen else [],
            "overlaps": [{"question": f"{o.set_id}/{o.question_id}", "field": o.field, "kind": o.kind,
                          "share": o.share, "example": o.example} for o in seen.overlaps] if seen else [],
            "summary": summary_line(c),
        })  # fmt: skip
    return rows
