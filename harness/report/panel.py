"""The judge panel's figures as ``summary.json`` carries them (plain JSON types): docs/judging.md."""

from __future__ import annotations

from typing import Any

from harness.report.review_summary import judge_trust_of
from harness.rollup.figures import ReportData

RELIABILITY_KEYS = ("asked", "unparsed_rate", "grades_unparsed_rate", "swap_consistency", "swap_n", "kappa",
                    "agreement_n", "length_corr", "injection_n", "injection_moved", "injection_at_ceiling")  # fmt: skip
"""The per-judge reliability figures of :func:`harness.rollup.judge.summarize` that ``summary.json`` carries."""


def _number(value: Any) -> Any:
    """A float NaN (pandas' missing value) as None, so the JSON is valid."""
    return None if isinstance(value, float) and value != value else value


def panel_json(data: ReportData) -> dict[str, Any] | None:
    """``summary.json``'s ``judges``: the rule, each judge's row, the agreement between judges, the candidates
    not judged, whether the panel's grade passed its reliability checks (``checks_passed``) and whether the
    card shows it as a headline (``headline``: the checks passed and people trust it); None when not judged."""
    panel = data.panel
    if panel is None:
        return None
    a = panel.agreement
    return {
        "rule": panel.rule, "quorum": panel.quorum, "same_family": panel.same_family,
        "in_verdict": panel.in_verdict, "unjudged": panel.unjudged, "no_grade": panel.no_grade,
        "below_quorum": panel.below_quorum,
        "alpha_interval": a.alpha_interval, "alpha_nominal": a.alpha_nominal, "alpha_items": a.n_items,
        "silent": panel.silent, "checks_passed": panel.reliable, "headline_failures": panel.headline_failures,
        "headline": bool(panel.reliable and (trust := judge_trust_of(data)) is not None and trust.usable),
        "judges": [
            {
                "name": row.name, "model": row.info.get("model"), "family": row.info.get("family"),
                "not_graded": row.not_graded, "left_out": row.left_out, "in_verdict": row.in_verdict,
                "judging_s": row.info.get("judging_s"), "server_start_s": row.info.get("server_start_s"),
                "cost_usd": row.cost_usd,
                "error": row.info.get("error"),
                "kappa_vs_rest": row.vs_panel.kappa if row.vs_panel else None,
                "agreement_vs_rest": row.vs_panel.agreement if row.vs_panel else None,
                "n_vs_rest": row.vs_panel.n if row.vs_panel else 0,
                "retest_within_1": (row.summary.reliability.get("retest") or {}).get("within_1"),
                "with_people": row.trust.state if row.trust else None,
                **{k: _number(row.summary.reliability.get(k)) for k in RELIABILITY_KEYS},
            }
            for row in panel.judges
        ],
    }  # fmt: skip
