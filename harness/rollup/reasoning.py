"""Thinking models in the roll-up (pure): what the thinking costs, and what it buys.

Per candidate, over every answer it gave with thinking allowed (every variant but those
with ``thinking: false``, so a thinking-off arm does not dilute them): thinking and answer
tokens, time to first answer token, answer-only latency (E2E minus time to first answer
token), and the share of answers cut off while thinking; the TTFT, E2E and mean output tokens
of those same answers (``arm_*``: the thinking arm's own, never pooled with a thinking-off arm,
whose short answers would make thinking look cheap and fast). Where
the plan asks the same questions with thinking on and off (variants with ``thinking:
true`` / ``false``), the rubric score, tokens and seconds of each side. And the cost
of what matters: $ per 1,000 *acceptable* answers, so a model that thinks 2,000 tokens
for three more points is weighed on what it delivers.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from harness import timing as stats
from harness.records import Variant
from harness.rollup.frames import acceptable

CUT_OFF_ADVICE_SHARE = 0.05
"""Above this share of answers cut off while thinking, the report advises raising ``max_tokens``."""

REASONING_COLUMNS = [
    "candidate", "thinking_answers", "thinking_tok_p50", "thinking_tok_p95", "answer_tok_p50", "answer_tok_p95",
    "ttfat_p50_ms", "ttfat_p95_ms", "answer_p50_ms", "cut_off", "cut_off_share", "token_split",
    "score_thinking_on", "score_thinking_off", "tokens_thinking_on", "tokens_thinking_off",
    "e2e_p50_ms_thinking_on", "e2e_p50_ms_thinking_off", "arm_ttft_p50_ms", "arm_e2e_p95_ms", "arm_output_tokens_mean",
]  # fmt: skip


REASONING_INPUTS = [
    "candidate", "variant", "ok", "score", "output_tokens", "e2e_ms", "reasoning", "reasoning_tokens", "answer_tokens",
    "token_split", "ttfat_ms", "answer_ms", "cut_off", "ttft_ms",
]  # fmt: skip
"""The answer columns :func:`reasoning_summary` reads."""


def _values(series: pd.Series) -> list[float]:
    return [float(v) for v in series.dropna()]


def _mean(series: pd.Series) -> float | None:
    values = _values(series)
    return sum(values) / len(values) if values else None


def _source(series: pd.Series) -> str | None:
    """``usage``, ``tokenizer``, ``usage+tokenizer`` (both occur) or None (nothing was split)."""
    found = sorted({str(v) for v in series.dropna()}, reverse=True)
    return "+".join(found) or None


def thinking_allowed(served: pd.DataFrame, variants: Sequence[Variant]) -> pd.Series:
    """Per answer (row of ``served``): whether its variant allows thinking (every variant but ``thinking: false``)."""
    switch = served.variant.map({v.name: v.thinking for v in variants})
    return switch != False  # noqa: E712 - None (the model default) allows thinking


def reasoning_summary(served: pd.DataFrame, names: Sequence[str], variants: Sequence[Variant]) -> pd.DataFrame:
    """One row per candidate (plan order) with the thinking figures; ``served`` is every answer of the run.

    Every figure but the ``*_thinking_on/off`` pairs is taken over the candidate's answers with thinking
    allowed (:func:`thinking_allowed`) that did not fail: ``arm_ttft_p50_ms``, ``arm_e2e_p95_ms`` (ms) and
    ``arm_output_tokens_mean`` (tokens per answer, thinking included) too.
    """
    served = served[REASONING_INPUTS]  # boolean selections below then copy these columns only
    switch = served.variant.map({v.name: v.thinking for v in variants})
    allowed = thinking_allowed(served, variants)
    rows = []
    for name in names:
        mine = served[(served.candidate == name) & served.ok & allowed]
        thought = mine[mine.reasoning.notna()]
        cut = int(mine.cut_off.sum())
        row: dict[str, object] = {
            "candidate": name,
            "thinking_answers": len(thought),
            "thinking_tok_p50": stats.percentile(_values(mine.reasoning_tokens), 50),
            "thinking_tok_p95": stats.percentile(_values(mine.reasoning_tokens), 95),
            "answer_tok_p50": stats.percentile(_values(mine.answer_tokens), 50),
            "answer_tok_p95": stats.percentile(_values(mine.answer_tokens), 95),
            "ttfat_p50_ms": stats.percentile(_values(mine.ttfat_ms), 50),
            "ttfat_p95_ms": stats.percentile(_values(mine.ttfat_ms), 95),
            "answer_p50_ms": stats.percentile(_values(mine.answer_ms), 50),
            "cut_off": cut,
            "cut_off_share": cut / len(mine) if len(mine) else None,
            "token_split": _source(thought.token_split),
            "arm_ttft_p50_ms": stats.percentile(_values(mine.ttft_ms), 50),
            "arm_e2e_p95_ms": stats.percentile(_values(mine.e2e_ms), 95),
            "arm_output_tokens_mean": _mean(mine.output_tokens),
        }
        everyone = served[served.candidate == name]
        for side, flag in (("on", True), ("off", False)):
            arm = everyone[switch[everyone.index] == flag]  # None (the model default) is neither side
            ok = arm[arm.ok]
            row[f"score_thinking_{side}"] = _mean(arm.score)
            row[f"tokens_thinking_{side}"] = _mean(ok.output_tokens)
            row[f"e2e_p50_ms_thinking_{side}"] = stats.percentile(_values(ok.e2e_ms), 50)
        rows.append(row)
    return pd.DataFrame(rows, columns=REASONING_COLUMNS)


def acceptable_share(answers: pd.DataFrame, name: str, threshold: float) -> float | None:
    """Share of the candidate's scored answers (failed and cut off included) that are acceptable
    (:func:`harness.rollup.frames.acceptable`; ``threshold`` where no verdict was given)."""
    mine = answers[(answers.candidate == name) & answers.score.notna()]
    if not len(mine):
        return None
    return float(acceptable(mine, threshold).mean())


def arm_usd_per_1k_questions(usd_per_mtok: float | None, tokens_per_answer: float | None) -> float | None:
    """$ per 1,000 questions of one arm = $/1M output tokens x its mean output tokens per answer / 1000
    (the definition of :func:`harness.rollup.perf_summary.cost_row`); None when either is unknown."""
    if usd_per_mtok is None or tokens_per_answer is None or pd.isna(usd_per_mtok) or pd.isna(tokens_per_answer):
        return None
    return usd_per_mtok * tokens_per_answer / 1000


def usd_per_1k_acceptable(usd_per_1k_questions: float | None, share: float | None) -> float | None:
    """$ per 1,000 acceptable answers = $ per 1,000 questions / share acceptable; None when nothing is acceptable."""
    if usd_per_1k_questions is None or usd_per_1k_questions != usd_per_1k_questions or not share:
        return None
    return usd_per_1k_questions / share


def cut_off_advice(summary: pd.DataFrame, max_tokens: int) -> list[str]:
    """One sentence per candidate whose answers were often cut off while thinking."""
    out = []
    for row in summary.itertuples():
        share = row.cut_off_share
        if share is not None and share == share and share > CUT_OFF_ADVICE_SHARE:
            out.append(
                f"{row.candidate}: {share:.0%} of its answers with thinking allowed were cut off while thinking "
                f"(max_tokens {max_tokens}); "
                "they score 0. Raise sampling.max_tokens so the thinking can finish, or switch thinking off."
            )
    return out
