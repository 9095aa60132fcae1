"""The ``tool_parser`` of a candidate: vLLM arguments, and the name checked against the installed vLLM.

vLLM turns a model's tool calls into OpenAI ``tool_calls`` only when started with
``--enable-auto-tool-choice --tool-call-parser NAME`` (vLLM docs, "Tool Calling"); NAME is a parser of
its registry, ``vllm.tool_parsers.ToolParserManager`` (``hermes``, ``llama3_json``, ``mistral``,
``deepseek_v3``...). As for reasoning parsers (:mod:`harness.server.reasoning_parsers`), a misspelt
name would surface as a server that will not start, after minutes of loading: it is refused before
any server starts, at its line of the plan, with the names the installed vLLM knows. An endpoint
candidate names none: the server behind it was started by someone else, with its own parser.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from harness.records import Candidate, Plan

Where = tuple[str | int, ...]


def vllm_tool_args(cand: Candidate) -> list[str]:
    """``--enable-auto-tool-choice --tool-call-parser NAME`` for a candidate that names a parser; else nothing."""
    if cand.tool_parser is None:
        return []
    return ["--enable-auto-tool-choice", "--tool-call-parser", cand.tool_parser]


def installed_tool_parsers() -> list[str] | None:
    """Tool-call parser names of the installed vLLM (``ToolParserManager.list_registered()``); None without vLLM."""
    try:
        from vllm.tool_parsers import ToolParserManager  # heavy: only when a candidate names a parser
    except ImportError:
        return None
    return list(ToolParserManager.list_registered())


def tool_parser_candidates(plan: Plan) -> list[tuple[Where, Candidate]]:
    """Every candidate that names a tool-call parser, with the YAML path of its ``tool_parser`` (a judge names none)."""
    return [(("candidates", i, "tool_parser"), c) for i, c in enumerate(plan.candidates) if c.tool_parser]


def tool_parser_problems(
    candidates: Sequence[tuple[Where, Candidate]],
    known: Callable[[], list[str] | None] | None = None,
) -> list[tuple[Where, str]]:
    """``(where, what is wrong)`` for each candidate whose ``tool_parser`` cannot be used: an endpoint's
    (its server decides), or a name the installed vLLM lacks. ``known`` lists the names (default:
    :func:`installed_tool_parsers`), asked only when a served candidate names a parser."""
    named = [(where, c) for where, c in candidates if c.tool_parser is not None]
    problems = [
        (where, "an endpoint candidate names no tool_parser: the server behind it was started with its own; "
                "remove tool_parser (the endpoint simply receives the tools)")
        for where, c in named if c.endpoint is not None
    ]  # fmt: skip
    served = [(where, c) for where, c in named if c.endpoint is None]
    if not served:
        return problems
    names = (known or installed_tool_parsers)()
    if names is None:
        return problems + [
            (where, "vLLM is not installed here, so no tool-call parser can be used") for where, _ in served
        ]
    return problems + [
        (where, f"{c.tool_parser!r} is not a tool-call parser of the installed vLLM; known: {', '.join(names)}")
        for where, c in served
        if c.tool_parser not in names
    ]
