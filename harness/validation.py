"""YAML loading that keeps line numbers, and user-facing validation problems.

Every problem a user can cause in an input file is reported as one line,
``file:line: field: what is wrong``; nothing here raises a traceback for bad input.
PyYAML silently keeps the last of two duplicate keys, so duplicates are
detected here while walking the node tree.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    field: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        tag = "" if self.severity == "error" else "warning: "
        return f"{self.file}:{self.line}: {self.field}: {tag}{self.message}"


class InputError(Exception):
    """Raised with one or more problems in a user's input file."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class LoadedYaml:
    """A parsed YAML document and the line of every key and list item in it."""

    file: str
    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    """Structural problems found while parsing (duplicate keys); reported with the rest."""

    def line_of(self, path: Iterable[str | int]) -> int:
        """Line of the deepest known prefix of ``path`` (1 when nothing matches)."""
        key = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get((), 1)

    def problem(self, path: Iterable[str | int], message: str, **kw: Any) -> Problem:
        path = tuple(path)
        return Problem(self.file, self.line_of(path), dotted(path), message, **kw)


def dotted(path: Iterable[str | int]) -> str:
    """``("questions", 3, "checks", 0, "value")`` -> ``questions[3].checks[0].value``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(document)"


_BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when PyYAML was built with it: about 6x faster on a 1,000-question set."""

_INT, _FLOAT, _BOOL, _TIMESTAMP = (f"tag:yaml.org,2002:{t}" for t in ("int", "float", "bool", "timestamp"))


class _Loader(_BASE_LOADER):  # type: ignore[misc,valid-type]
    """Scalars read as YAML 1.2 (its core schema) reads them, not as PyYAML's YAML 1.1.

    YAML 1.1 surprises a set's author: ``value: 010`` would load as 8 (octal), ``17:30`` as
    1050 (base 60), ``no`` as false, ``2027-03-05`` as a date object (and ``2027-02-30`` as a crash).
    Here ``010`` is 10, ``17:30``, ``no`` and ``2027-03-05`` stay text (a number field then reports
    the line; a date is the string a JSON API takes), octal and hex need ``0o`` / ``0x``.
    """


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in rules if tag not in (_INT, _FLOAT, _BOOL, _TIMESTAMP)]
    for first, rules in _BASE_LOADER.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_Loader.add_implicit_resolver(
    _INT, re.compile(r"^(?:[-+]?[0-9][0-9_]*|0o[0-7_]+|0x[0-9a-fA-F_]+)$"), list("-+0123456789")
)
_Loader.add_implicit_resolver(
    _FLOAT,
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def _construct_int(loader: Any, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node)).replace("_", "")
    if text.startswith(("0o", "0x")):
        return int(text[2:], 8 if text[1] == "o" else 16)
    return int(text, 10)


_Loader.add_constructor(_INT, _construct_int)
_LOADER = _Loader


def load_yaml(path: Path, display: str | None = None) -> LoadedYaml:
    """Parse ``path``; raise :class:`InputError` for unreadable or malformed YAML."""
    name = display or str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError([Problem(name, 0, "(file)", "file not found")]) from None
    except IsADirectoryError:
        raise InputError([Problem(name, 0, "(file)", "is a directory, not a YAML file")]) from None
    except OSError as exc:
        raise InputError([Problem(name, 0, "(file)", f"cannot read: {exc.strerror}")]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError([Problem(name, line, "(file)", "not UTF-8 text; save the file as UTF-8")]) from None
    if not text.strip():
        raise InputError([Problem(name, 1, "(document)", "file is empty")])
    try:
        node = yaml.compose(text, Loader=_LOADER)
        lines: dict[PathKey, int] = {}
        problems: list[Problem] = []
        if node is not None:
            _walk(node, lines, problems, name)
        data = yaml.load(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = exc.problem or str(exc)
        raise InputError([Problem(name, line, "(syntax)", f"YAML syntax error: {what}")]) from None
    except yaml.YAMLError as exc:
        raise InputError([Problem(name, 1, "(syntax)", f"YAML error: {exc}")]) from None
    return LoadedYaml(name, data, lines, problems)


MAX_ALIAS_VALUES = 1_000_000
"""Values that aliases may add; aliases of aliases ("billion laughs") would otherwise expand without end."""
MAX_DEPTH = 100
"""Nesting levels; no harness file needs more than about ten."""


def _walk(root: yaml.Node, lines: dict[PathKey, int], problems: list[Problem], name: str) -> None:
    """Record the line of every key and item; find duplicate keys; bound depth and alias expansion.

    Iterative, so a deeply nested document cannot exhaust the interpreter's stack; a node
    reached again through an alias counts against ``MAX_ALIAS_VALUES``.
    """
    stack: list[tuple[yaml.Node, PathKey]] = [(root, ())]
    found: list[Problem] = []
    seen_nodes: set[int] = set()
    repeats = 0
    while stack:
        node, path = stack.pop()
        here = node.start_mark.line + 1
        if id(node) in seen_nodes:
            repeats += 1
            if repeats > MAX_ALIAS_VALUES:
                why = f"YAML aliases expand to more than {MAX_ALIAS_VALUES:,} values (aliases of aliases?); not read"
                raise InputError([Problem(name, here, _short(path), why)])
        else:
            seen_nodes.add(id(node))
        if len(path) > MAX_DEPTH:
            raise InputError([Problem(name, here, _short(path), f"nested more than {MAX_DEPTH} levels deep")])
        lines.setdefault(path, here)
        children: list[tuple[yaml.Node, PathKey]] = []
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key_node, value_node in node.value:
                key = str(key_node.value)
                line = key_node.start_mark.line + 1
                if key in seen:
                    dup = f"duplicate key (first at line {seen[key]})"
                    found.append(Problem(name, line, dotted((*path, key)), dup))
                    continue
                seen[key] = line
                lines[(*path, key)] = line
                children.append((value_node, (*path, key)))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                lines[(*path, i)] = item.start_mark.line + 1
                children.append((item, (*path, i)))
        stack.extend(reversed(children))
    problems.extend(sorted(found, key=lambda p: p.line))


def _short(path: PathKey) -> str:
    return dotted(path[:4]) + ("…" if len(path) > 4 else "")


_MESSAGES = {
    "extra_forbidden": "unknown key",
    "missing": "required key is missing",
}


def problems_from_pydantic(
    exc: ValidationError, doc: LoadedYaml, prefix: PathKey = (), remap: Any = None,
    model: type[BaseModel] | None = None, extra_known: Iterable[str] = (),
) -> list[Problem]:  # fmt: skip
    """Turn pydantic errors into one-line problems located in ``doc``.

    ``remap`` may translate a model path into the YAML path (for fields the
    loader reshaped before validation). ``model``: the model validated, whose field names
    (plus ``extra_known``) an unknown key is matched against ("did you mean `critical`?").
    The errors of one value against each member of a union (``str | list[str]``) are one
    problem; a number where text is expected says to quote it.
    """
    out: list[Problem] = []
    grouped: dict[PathKey, list[dict[str, Any]]] = {}
    for detail in exc.errors():
        raw = tuple(p for p in detail["loc"] if not str(p).startswith("function-"))
        loc = tuple(p for p in raw if not _is_union_tag(p))
        if len(loc) < len(raw) and loc in grouped:
            grouped[loc].append(dict(detail))
            continue
        grouped[loc] = [dict(detail)]
    for loc, errs in grouped.items():
        err = errs[0]
        full: PathKey = (*prefix, *loc)
        if remap is not None:
            full = remap(full)
        msg = _MESSAGES.get(err["type"], err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden" and model is not None and loc and isinstance(loc[-1], str):
            near = difflib.get_close_matches(loc[-1], [*field_names(model, loc[:-1]), *extra_known], n=1, cutoff=0.7)
            msg += f"; did you mean `{near[0]}`?" if near else ""
        if err["type"] == "missing" and full and isinstance(full[-1], int):
            msg = "too few items"
        value = err.get("input")
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        if is_number and any(e["type"] == "string_type" for e in errs):
            out.append(doc.problem(full, f'{value!r} is a number where text is expected; put it in quotes: "{value}"'))
            continue
        if len(errs) > 1:
            msg = " or ".join([msg, *(e["msg"].removeprefix("Input should be ") for e in errs[1:])])
        if err["type"] not in _MESSAGES and "input" in err and not isinstance(value, dict | list):
            shown = repr(value)
            if shown not in msg:
                msg = f"{msg} (got {shown[:60]})"
        out.append(doc.problem(full, msg))
    return out


_TYPE_TAG = re.compile(r"^(?:str|int|float|bool|none|[A-Z]\w*|\w+\[.*\])$")


def _is_union_tag(part: str | int) -> bool:
    """A union member's name in a pydantic error location (``str``, ``list[str]``, ``Sweep``), not a field."""
    return isinstance(part, str) and bool(_TYPE_TAG.match(part))


def field_names(model: type[BaseModel], loc: PathKey) -> list[str]:
    """The field names of the mapping at ``loc`` inside ``model`` (empty when ``loc`` leads to no model)."""
    kinds: list[Any] = [model]
    for part in loc:
        nxt: list[Any] = []
        for tp in _members(kinds):
            if isinstance(part, str) and isinstance(tp, type) and issubclass(tp, BaseModel):
                if part in tp.model_fields:
                    nxt.append(tp.model_fields[part].annotation)
            elif get_origin(tp) in (list, tuple, dict):
                args = get_args(tp)
                nxt.append(args[-1] if args else Any)
        kinds = nxt
    return sorted({n for tp in _members(kinds) if isinstance(tp, type) and issubclass(tp, BaseModel)
                   for n in tp.model_fields})  # fmt: skip


def _members(kinds: list[Any]) -> list[Any]:
    """Each type of ``kinds`` with its unions (``X | None``) opened."""
    out: list[Any] = []
    for tp in kinds:
        if get_origin(tp) in (Union, UnionType):
            out.extend(_members(list(get_args(tp))))
        else:
            out.append(tp)
    return out
