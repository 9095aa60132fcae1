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
    fastest = float(max(data.out_tok_per_s))
    ax.set_xlim(left=0, right=fastest * 1.25 if fastest > 0 else 1.0)  # every rate 0 (all failed): a unit axis
    ax.grid(alpha=0.3)
    ax.set_title("Quality against throughput (up and right is better)")
    return _data_uri(fig)


def throughput_latency(sweep: pd.DataFrame, latency: str = "e2e_p95_ms", slo_ms: float | None = None) -> str | None:
    """Throughput-latency curve per candidate across the sweep's levels (labelled by level).

    A level cut short by the online stop (``measured`` False) is no point of the curve: its figures
    cover only the answers it got before the stop.
    """
    data = sweep[sweep.measured] if "measured" in sweep else sweep
    data = data.dropna(subset=["out_tok_per_s", latency])
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


def _error_bars(rows: pd.DataFrame, low: str, mid: str, high: str) -> list[list[float]]:
    below = (rows[mid] - rows[low]).where(rows[low].notna(), 0.0).clip(lower=0)
    above = (rows[high] - rows[mid]).where(rows[high].notna(), 0.0).clip(lower=0)
    return [below.astype(float).tolist(), above.astype(float).tolist()]


COST_LABELS = {
    "usd_per_mtok": "$ per 1M output tokens",
    "usd_per_1k_questions": "$ per 1,000 questions, thinking included",
}


def pareto_chart(models: pd.DataFrame, recommended: str | None, cost: str = "usd_per_mtok") -> str | None:
    """Rubric score (95% CI bars) against cost (the decision's cost figure) on a log scale, with the Pareto frontier.

    Up and left is better. Hollow grey points break a hard constraint; the star is the recommendation.
    """
    data = models.dropna(subset=["rubric_mean", cost])
    data = data[data[cost] > 0]
    if data.empty:
        return None
    fig, ax = plt.subplots(figsize=(7.0, 4.4))
    for eligible, rows in data.groupby(data.eligible.fillna(False).astype(bool)):
        ax.errorbar(
            rows[cost], rows.rubric_mean,
            yerr=_error_bars(rows, "rubric_ci_low", "rubric_mean", "rubric_ci_high"),
            fmt="o", capsize=4, markersize=8, linestyle="none",
            color="#1f6feb" if eligible else "#98a2b3", markerfacecolor="#1f6feb" if eligible else "white",
            label="meets the constraints" if eligible else "breaks a constraint",
        )  # fmt: skip
    front = data[data.pareto.fillna(False).astype(bool)].sort_values(cost)
    if len(front) > 1:
        ax.step(front[cost], front.rubric_mean, where="post", color="#067647", linewidth=1.2,
                linestyle="--", label="Pareto frontier")  # fmt: skip
    if recommended in set(data.candidate):
        r = data[data.candidate == recommended].iloc[0]
        ax.plot([r[cost]], [r.rubric_mean], marker="*", markersize=20, color="#f5b400",
                markeredgecolor="#7a5a00", linestyle="none", label="recommended", zorder=5)  # fmt: skip
    for _, row in data.iterrows():
        ax.annotate(str(row.candidate), (row[cost], row.rubric_mean), textcoords="offset points",
                    xytext=(7, 5), fontsize=8)  # fmt: skip
    ax.set_xscale("log")
    lo, hi = float(data[cost].min()), float(data[cost].max())
    ax.set_xlim(lo / 2, hi * 2)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(f"{COST_LABELS.get(cost, cost)} (log scale)")
    ax.set_ylabel("rubric score (mean, 95% CI)")
    ax.set_title("Quality against cost (up and left is better)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="best")
    return _data_uri(fig)


STATUS_COLORS = {"stable right": "#12b76a", "flips": "#f79009", "stable wrong": "#d92d20"}


def stability_chart(models: pd.DataFrame, k: int) -> str | None:
    """Per candidate, the share of questions right in every sample, flipping, and wrong in every sample;
    None with one sample per question (``k`` < 2), where nothing can flip and "stable" would mean "once"."""
    data = models.dropna(subset=["stable_right"])
    if data.empty or k < 2:
        return None
    data = data.iloc[::-1]  # plan order top to bottom
    fig, ax = plt.subplots(figsize=(7.0, 0.6 * len(data) + 1.4))
    left = pd.Series(0.0, index=data.index)
    flips = (1 - data.stable_right - data.stable_wrong).clip(lower=0)
    for label, values in (("stable right", data.stable_right), ("flips", flips), ("stable wrong", data.stable_wrong)):
        ax.barh(data.candidate.astype(str), values, left=left, color=STATUS_COLORS[label],
                label=f"{label}" + (f" (all {k} samples)" if label != "flips" and k > 1 else ""))  # fmt: skip
        for y, (x0, w) in enumerate(zip(left, values, strict=True)):
            if w >= 0.06:
                ax.text(x0 + w / 2, y, f"{w:.0%}", ha="center", va="center", fontsize=8, color="white")
        left = left + values
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of questions (weighted)")
    ax.set_title(f"Stability over {k} sample{'s' if k != 1 else ''} per question")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.25 if len(data) < 4 else -0.12), ncol=3)
    return _data_uri(fig)


def variant_chart(table: pd.DataFrame) -> str | None:
    """Rubric score (95% CI) per candidate, one bar per prompt variant."""
    data = table.dropna(subset=["score"])
    if data.empty:
        return None
    names = list(dict.fromkeys(data.candidate))
    variants = list(dict.fromkeys(data.variant))
    width = 0.8 / len(variants)
    fig, ax = plt.subplots(figsize=(7.0, 3.8))
    for i, v in enumerate(variants):
        rows = data[data.variant == v].set_index("candidate").reindex(names)
        xs = [j + (i - (len(variants) - 1) / 2) * width for j in range(len(names))]
        ax.bar(xs, rows.score.fillna(0), width, label=v,
               yerr=_error_bars(rows.fillna({"low": rows.score, "high": rows.score}), "low", "score", "high"),
               capsize=3)  # fmt: skip
    ax.set_xticks(range(len(names)), names, fontsize=8)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("rubric score (mean, 95% CI)")
    ax.set_title("Quality by prompt variant")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8)
    return _data_uri(fig)
