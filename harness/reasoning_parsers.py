"""The ``reasoning`` block of a candidate: vLLM arguments, and its parser checked against the installed vLLM.

A misspelt parser name would otherwise surface as a server that will not start, after
minutes of loading; it is refused before any server starts instead, with the names the
installed vLLM knows. Parsers registered by a plugin file are known once it is imported.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from harness.records import Candidate, Reasoning
from harness.validation import InputError, Problem

NO_PARSER = "none"


def vllm_reasoning_args(reasoning: Reasoning) -> list[str]:
    """``--reasoning-parser NAME`` (and ``--reasoning-parser-plugin FILE``) for vLLM's server; nothing for ``none``."""
    args: list[str] = []
    if reasoning.plugin:
        args += ["--reasoning-parser-plugin", reasoning.plugin]
    if reasoning.parser != NO_PARSER:
        args += ["--reasoning-parser", reasoning.parser]
    return args


def installed_parsers(plugins: Sequence[str] = ()) -> list[str] | None:
    """Reasoning parser names of the installed vLLM (plugins imported first); None without vLLM."""
    try:
        from vllm.reasoning import ReasoningParserManager  # heavy: only when a candidate names a parser
    except ImportError:
        return None
    for plugin in plugins:
        ReasoningParserManager.import_reasoning_parser(plugin)
    return list(ReasoningParserManager.list_registered())


def parser_problems(
    candidates: Sequence[tuple[str, Candidate]], known: Callable[[Sequence[str]], list[str] | None] = installed_parsers
) -> list[tuple[str, str]]:
    """``(where, what is wrong)`` for each served candidate whose parser the installed vLLM lacks."""
    served = [(where, c) for where, c in candidates if c.endpoint is None and c.reasoning.parser != NO_PARSER]
    if not served:
        return []
    names = known([c.reasoning.plugin for _, c in served if c.reasoning.plugin])
    if names is None:
        return [(where, "vLLM is not installed here, so no reasoning parser can be used") for where, _ in served]
    return [
        (where, f"{c.reasoning.parser!r} is not a reasoning parser of the installed vLLM; known: {', '.join(names)}")
        for where, c in served
        if c.reasoning.parser not in names
    ]


def check_parsers(plan_path: str, candidates: Sequence[tuple[str, Candidate]]) -> None:
    """Raise :class:`InputError` (one line per candidate) when a parser is unknown to the installed vLLM."""
    problems = parser_problems(candidates)
    if problems:
        raise InputError([Problem(plan_path, 0, where, what) for where, what in problems])
