"""Rubric checks: one registry, every check type registered on import.

Importing this module registers the built-in checks (``checks_text``,
``checks_number``, ``checks_format``, ``checks_group``,
``checks_sequence``, ``faithful``); add a check type by
writing a function decorated with :func:`harness.rubric.registry.check` in one
of them (or a new module imported here), never by editing an if-chain. The
authoring guide with an example of every check is ``docs/question-sets.md``.
"""

from __future__ import annotations

from harness.rubric import (  # noqa: F401  (registration)
    checks_datetime,
    checks_format,
    checks_group,
    checks_number,
    checks_sequence,
    checks_text,
    faithful,
)
from harness.rubric.registry import REGISTRY, CheckType, Outcome, combine, parse_args, run_check, score_answer, verdict

__all__ = ["REGISTRY", "CheckType", "Outcome", "combine", "parse_args", "run_check", "score_answer", "verdict"]
