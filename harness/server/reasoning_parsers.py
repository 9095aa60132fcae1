"""The ``reasoning`` block of a candidate: vLLM arguments, and its parser checked against the installed vLLM.

A misspelt parser name would otherwise surface as a server that will not start, after
minutes of loading; it is refused before any server starts instead, with the names the
installed vLLM knows. Parsers registered by a plugin file are known once it is imported.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from harness.inputs.plan import judge_paths
from harness.records import Candidate, Plan, Reasoning
from harness.server.tool_parsers import tool_parser_candidates, tool_parser_problems
from harness.validation import InputError, LoadedYaml, Problem, dotted

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


Where = tuple[str | int, ...]


def served_models(plan: Plan) -> list[tuple[Where, Candidate]]:
    """Every model the plan serves (candidates, then the judge), with the YAML path of its parser."""
    out: list[tuple[Where, Candidate]] = [
        (("candidates", i, "reasoning", "parser"), c) for i, c in enumerate(plan.candidates)
    ]
    return out + [((*where, "reasoning", "parser"), j) for where, j in judge_paths(plan)]


def parser_problems(
    candidates: Sequence[tuple[Where, Candidate]],
    known: Callable[[Sequence[str]], list[str] | None] = installed_parsers,
) -> list[tuple[Where, str]]:
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


def check_parsers(plan: Plan, plan_path: str, doc: LoadedYaml | None = None) -> None:
    """Raise :class:`InputError` (one line per model) when a reasoning or tool-call parser is unknown to the
    installed vLLM (or a tool-call parser is named on an endpoint, :mod:`harness.server.tool_parsers`);
    with the plan's ``doc``, each line names the line of the plan it is on."""
    problems = parser_problems(served_models(plan)) + tool_parser_problems(tool_parser_candidates(plan))
    if problems:
        raise InputError(
            [
                doc.problem(where, what) if doc else Problem(plan_path, 0, dotted(where), what)
                for where, what in problems
            ]
        )
