"""Charts as self-contained data URIs (matplotlib, Agg backend, no files)."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd


def _data_uri(fig: plt.Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def quality_vs_throughput(models: pd.DataFrame) -> str | None:
    """Rubric score (95% CI bars) against output tokens per second, one point a model."""
    data = models.dropna(subset=["rubric_mean", "out_tok_per_s"])
    if data.empty:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for _, row in data.iterrows():
        low = row.rubric_mean - row.rubric_ci_low if pd.notna(row.rubric_ci_low) else 0
        high = row.rubric_ci_high - row.rubric_mean if pd.notna(row.rubric_ci_high) else 0
        ax.errorbar(
            row.out_tok_per_s,
            row.rubric_mean,
            yerr=[[low], [high]],
            fmt="o",
            capsize=4,
            markersize=7,
        )
        ax.annotate(
            row.candidate,
            (row.out_tok_per_s, row.rubric_mean),
            textcoords="offset points",
            xytext=(6, 6),
            fontsize=9,
        )
    ax.set_xlabel("output tokens / s (this run's hardware)")
    ax.set_ylabel("rubric score (mean, 95% CI)")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(left=0, right=max(data.out_tok_per_s) * 1.25)
    ax.grid(alpha=0.3)
    ax.set_title("Quality against throughput (up and right is better)")
    return _data_uri(fig)


def throughput_latency(sweep: pd.DataFrame, latency: str = "e2e_p95_ms", slo_ms: float | None = None) -> str | None:
    """Throughput-latency curve per candidate across the sweep's levels (labelled by level)."""
    data = sweep.dropna(subset=["out_tok_per_s", latency])
    if data.empty:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for name, rows in data.groupby("candidate", sort=False):
        rows = rows.sort_values("out_tok_per_s")
        ax.plot(rows.out_tok_per_s, rows[latency], marker="o", label=str(name))
        for _, r in rows.iterrows():
            ax.annotate(r.level, (r.out_tok_per_s, r[latency]), textcoords="offset points", xytext=(4, 4), fontsize=7)
    if slo_ms:
        ax.axhline(slo_ms, color="#b42318", linestyle="--", linewidth=1, label=f"SLO {slo_ms:g} ms")
    ax.set_xlabel("output tokens / s")
    ax.set_ylabel(latency.replace("_ms", "").replace("_", " ") + " (ms)")
    ax.set_title("Throughput against latency by load level")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _data_uri(fig)
