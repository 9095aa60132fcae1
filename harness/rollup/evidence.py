"""The evidence a recommendation needs (pure): how much of the plan each candidate answered, and why not the rest.

A candidate is judged on its answers; one that answered nothing has no quality to weigh, and one that answered
part of the plan is judged on the questions it happened to answer. The plan's
``constraints.min_answered_share`` (default 1.0: every answer) sets how much is enough; the decision
(:func:`harness.rollup.decision.violations`) reads the columns made here:

- ``answered_share``: answers that came back without an error / answers the plan owes (questions x samples
  of the decision variant), 0-1; None when the plan owes none;
- ``answer_errors``: the error texts of the failed answers, as ``[text, count]`` pairs, most common first
  (the first line of each error, as stored in the generations).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd

ERROR_CHARS = 200
"""An error text is cut to its first line and this many characters on the card."""


def answer_errors(answers: pd.DataFrame, candidate: str) -> list[list[Any]]:
    """``[[error text, count], ...]`` of ``candidate``'s failed answers in ``answers`` (one row per answer, with
    ``candidate``, ``ok`` and ``error``), most common first, ties in order of first appearance."""
    failed = answers.loc[(answers.candidate == candidate) & ~answers.ok.astype(bool), "error"]
    texts = [_first_line(e) for e in failed]
    return [[text, n] for text, n in Counter(texts).most_common()]


def evidence_columns(models: pd.DataFrame, answers: pd.DataFrame, expected: int) -> pd.DataFrame:
    """``models`` (one row per candidate with ``answers``) with ``answered_share`` and ``answer_errors`` added."""
    out = models.copy()
    out["answered_share"] = [a / expected if expected else None for a in out.answers]
    out["answer_errors"] = [answer_errors(answers, c) for c in out.candidate]
    return out


def missing_evidence(row: dict[str, Any], min_share: float) -> str | None:
    """The reason ``row`` (a candidate's summary row) lacks the evidence to be recommended, or None.

    Out when its ``answered_share`` is below ``min_share``, and always when it answered nothing at all.
    Example: "3 of 24 answers missing: HTTP 404: The model `hr-lora` does not exist.". A row without
    ``answered_share`` (a frame made by hand, no plan to measure against) is not checked.
    """
    share = row.get("answered_share")
    if share is None or pd.isna(share):
        return None
    answered = int(row.get("answers") or 0)
    if answered > 0 and share >= min_share:
        return None
    never = _int(row.get("missing"))
    owed = answered + _int(row.get("failed")) + never  # ``missing`` is what the plan owes less both
    errors = row.get("answer_errors") or []
    causes = [text if len(errors) == 1 else f"{text} ({n})" for text, n in errors]  # one text: its count is clear
    if never:
        causes.append(f"{never} never asked")
    text = f"{owed - answered} of {owed} answers missing"
    if answered and min_share < 1:  # a share set in the plan: say what it asks
        text += f" (at least {share_label(min_share)} must be answered)"
    return text + (": " + "; ".join(causes) if causes else "")


def share_label(share: float) -> str:
    """A share (0-1) as a percentage that never rounds up past it: 0.9 -> "90%", 0.995 -> "99.5%" (not "100%",
    which would ask for every answer), 1/3 -> "33.33%"."""
    return f"{share * 100:.4g}%"


def _first_line(error: object) -> str:
    text = str(error).strip().splitlines()[0] if isinstance(error, str) and error.strip() else "no error text"
    return text if len(text) <= ERROR_CHARS else text[: ERROR_CHARS - 1] + "…"


def _int(value: object) -> int:
    return 0 if value is None or pd.isna(value) else int(value)  # type: ignore[call-overload]
