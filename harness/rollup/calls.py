"""Tool-call figures per candidate (pure): the graded answers' calls -> columns of the models frame.

Only a run whose scores grade tool calls has them (its answers carry
:data:`harness.rollup.frames.CALL_COLUMNS`); any other run's models frame and ``summary.json`` are as
they were. Over the answers given (the decision variant's, as every quality figure):

- the rates of :func:`harness.rubric.tool_figures.call_figures` (docs/tools.md, "Figures"), each over
  its own denominator, None where that is 0: ``call_accuracy``, ``wrong_call_rate``,
  ``missed_call_rate``, ``unexpected_call_rate``, ``no_call_precision``, ``unparsable_share``,
  ``text_call_share`` (the share of the calls made that were written in the answer's text); the
  argument errors by kind (``arg_missing``, ``arg_wrong_value``, ``arg_wrong_type``, ``arg_invented``);
  ``call_responses``, the graded answers (a failed request is not one: it counts in ``failed``);
- ``tool_call_p50_ms``/``tool_call_p90_ms``: the latency to the complete call (``Generation.tool_call_ms``)
  over the graded answers whose first response made a call (linear-interpolation percentiles,
  :func:`harness.timing.percentile`);
- ``call_pass_hat_k``: pass^k on calls, as :mod:`harness.rollup.stability` defines pass^k for answers
  (Yao et al., 2024, tau-bench: C(c, k)/C(n, k), c of a question's n graded samples with the calls
  ``right``), the question-weighted mean over the questions with ``expect_call`` (call accuracy's
  questions) with at least k graded samples; ``call_pass_hat_k_questions`` counts them. A ``no_call``
  question is left out: a model that never calls would otherwise earn stability for it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from harness import timing
from harness.records import CallGrade
from harness.rollup.stability import pass_hat_k
from harness.rubric.tool_figures import call_figures

RATE_COLUMNS = (
    "call_accuracy", "wrong_call_rate", "missed_call_rate", "unexpected_call_rate", "no_call_precision",
    "unparsable_share", "text_call_share",
)  # fmt: skip
"""The :class:`~harness.rubric.tool_figures.CallFigures` rates, under their own names."""


def candidate_calls(answers: pd.DataFrame, name: str, k: int) -> dict[str, Any]:
    """The call columns of one candidate (the module's docstring) over its rows of ``answers``."""
    mine = answers[(answers.candidate == name) & answers.call.notna()]
    verdicts: list[CallGrade] = list(mine.call)
    figures = call_figures(verdicts)
    row: dict[str, Any] = {"call_responses": figures.responses}
    row.update({c: getattr(figures, c) for c in RATE_COLUMNS})
    row.update({f"arg_{kind}": n for kind, n in figures.arg_errors.items()})
    made = [float(ms) for ms, v in zip(mine.tool_call_ms, verdicts, strict=True) if v.made and pd.notna(ms)]
    row["tool_call_p50_ms"] = timing.percentile(made, 50)
    row["tool_call_p90_ms"] = timing.percentile(made, 90)
    expecting = mine.assign(right=[v.right for v in verdicts])[[v.expects == "calls" for v in verdicts]]
    per_q = expecting.groupby(["set_id", "question_id"], sort=False)
    counted = per_q.agg(n=("right", "size"), c=("right", "sum"), weight=("weight", "first"))
    counted = counted[counted.n >= k]
    hat = [pass_hat_k(int(n), int(c), k) for n, c in zip(counted.n, counted.c, strict=True)]
    row["call_pass_hat_k"] = float(np.average(hat, weights=counted.weight.to_numpy(float))) if hat else None
    row["call_pass_hat_k_questions"] = len(hat)
    return row


def with_call_columns(models: pd.DataFrame, answers: pd.DataFrame, k: int) -> pd.DataFrame:
    """``models`` with each candidate's call columns, when ``answers`` has graded calls; else ``models`` itself."""
    if "call" not in answers.columns:
        return models
    rows = [{"candidate": name, **candidate_calls(answers, name, k)} for name in models.candidate]
    return models.merge(pd.DataFrame(rows), on="candidate", how="left")
