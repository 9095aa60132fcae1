"""``harness validate`` for a question set's tools: schemas, names, and expected calls against them.

Each problem carries the line of the key it is about (the tool's ``parameters``, the expected call's
``name``, the expected argument), as every problem of :mod:`harness.inputs.questions` does:

- each tool's ``parameters`` is a valid JSON Schema (draft 2020-12) of ``type: object``;
- tool names are unique in what a question is offered (the set's tools and the question's own);
- every ``expect_call`` and ``tool_results`` entry names a tool offered to the question (a set's
  ``tool_results`` entry: a tool of the set or of one of its questions);
- expected arguments fit the schema (:func:`harness.rubric.tool_expect.expected_problems`): names declared,
  literals of the property's type and enum, matchers well formed; a required argument left out of an
  ``expect_call`` is a warning (any value then passes; ``{present: true}`` says so on purpose), and so is
  ``{absent: true}`` on an argument the schema requires;
- ``no_call: true`` on a question offered no tools is a warning: it tests nothing about tools.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from harness.records import QuestionSet, Tool
from harness.rubric.tool_expect import expected_problems
from harness.validation import LoadedYaml, PathKey, Problem


def _raw(doc: LoadedYaml, path: PathKey) -> Any:
    """The value at ``path`` of the YAML as written (None where absent)."""
    node = doc.data
    for part in path:
        fits = isinstance(node, dict) and part in node
        if not (fits or (isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node))):
            return None
        node = node[part]
    return node


def _tool_at(doc: LoadedYaml, at: PathKey) -> PathKey:
    """Where a tool's ``name`` and ``parameters`` are written: under ``function`` in OpenAI's form."""
    raw = _raw(doc, at)
    return (*at, "function") if isinstance(raw, dict) and "function" in raw else at


def _entry_at(doc: LoadedYaml, at: PathKey, j: int) -> PathKey:
    """Where entry ``j`` of ``expect_call`` is written: the mapping itself when written as one call."""
    return at if isinstance(_raw(doc, at), dict) else (*at, j)


def _schema_problems(tool: Tool, at: PathKey, doc: LoadedYaml) -> list[Problem]:
    params = tool.function.parameters
    where = (*_tool_at(doc, at), "parameters")
    try:
        Draft202012Validator.check_schema(params)
    except SchemaError as exc:
        inner = tuple(p for p in exc.path if isinstance(p, str | int))
        why = f"the parameters of {tool.name} are not a valid JSON Schema: {exc.message}"
        return [doc.problem((*where, *inner), why)]
    if params.get("type") != "object":
        return [doc.problem(where, f"the parameters of {tool.name} must be a schema of type: object (the arguments "
                            f"are a JSON object), got type {params.get('type')!r}")]  # fmt: skip
    return []


def _names_problems(tools: list[tuple[Tool, PathKey]], doc: LoadedYaml, start: int = 0) -> list[Problem]:
    """A name offered twice, from entry ``start`` on (the entries before it are checked elsewhere)."""
    out, seen = [], set()
    for k, (tool, at) in enumerate(tools):
        if tool.name in seen and k >= start:
            why = f"tool {tool.name!r} is offered twice to the same question; names must be unique"
            out.append(doc.problem((*_tool_at(doc, at), "name"), why))
        seen.add(tool.name)
    return out


def _arguments_problems(
    args: dict[str, Any] | None, tool: Tool, at: PathKey, doc: LoadedYaml, *, call: bool
) -> list[Problem]:
    if args is None:
        return []
    return [
        doc.problem((*at, "arguments", *p.at), f"{tool.name}: {p.message}", severity=p.severity)
        for p in expected_problems(args, tool.function.parameters, call=call)
    ]


def _offered(name: str, offered: dict[str, Tool], at: PathKey, doc: LoadedYaml, what: str) -> list[Problem]:
    if name in offered:
        return []
    listed = ", ".join(offered) or "none: the set and the question declare no tools"
    return [doc.problem((*at, "name"), f"{what} names {name!r}, which is not a tool offered here (offered: {listed})")]


def tool_problems(qs: QuestionSet, doc: LoadedYaml) -> list[Problem]:
    """Every problem (errors and warnings) of the set's tools and of its questions' expected calls."""
    set_tools: list[tuple[Tool, PathKey]] = [(t, ("tools", k)) for k, t in enumerate(qs.tools)]
    out: list[Problem] = []
    bad: set[str] = set()
    for t, at in set_tools:
        if found := _schema_problems(t, at, doc):
            out += found
            bad.add(t.name)
    out += _names_problems(set_tools, doc)
    everywhere: dict[str, Tool] = {t.name: t for t, _ in set_tools}
    for i, q in enumerate(qs.questions):
        own: list[tuple[Tool, PathKey]] = [(t, ("questions", i, "tools", k)) for k, t in enumerate(q.tools)]
        for t, at in own:
            if found := _schema_problems(t, at, doc):
                out += found
                bad.add(t.name)
            everywhere.setdefault(t.name, t)
        out += _names_problems(set_tools + own, doc, start=len(set_tools))
        offered = {t.name: t for t in qs.tools_for(q)}
        for j, c in enumerate(q.expect_call):
            at = _entry_at(doc, ("questions", i, "expect_call"), j)
            out += _offered(c.name, offered, at, doc, "expect_call")
            if c.name in offered and c.name not in bad:
                out += _arguments_problems(c.arguments, offered[c.name], at, doc, call=True)
        for j, r in enumerate(q.tool_results):
            at = ("questions", i, "tool_results", j)
            out += _offered(r.name, offered, at, doc, "tool_results")
            if r.name in offered and r.name not in bad:
                out += _arguments_problems(r.arguments, offered[r.name], at, doc, call=False)
        if q.no_call and not offered:
            why = "no_call: true on a question offered no tools tests nothing about tools; offer the set's tools"
            out.append(doc.problem(("questions", i, "no_call"), why, severity="warning"))
    for j, r in enumerate(qs.tool_results):
        at = ("tool_results", j)
        out += _offered(r.name, everywhere, at, doc, "tool_results")
        if r.name in everywhere and r.name not in bad:
            out += _arguments_problems(r.arguments, everywhere[r.name], at, doc, call=False)
    return out
