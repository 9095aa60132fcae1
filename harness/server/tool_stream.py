"""Tool calls out of a streamed answer (pure: no I/O, no clock): the deltas assembled, or Hermes text read.

**Deltas.** An OpenAI-compatible server with a tool-call parser streams each call as fragments in
``choices[0].delta.tool_calls``: ``[{index, id?, type?, function: {name?, arguments?}}]`` (OpenAI's
Chat Completions streaming format; vLLM 0.32's ``--tool-call-parser`` emits it so). The name usually
comes whole in a call's first fragment, the arguments as string fragments over many deltas, to be
joined; parallel calls are several indices, possibly interleaved. :class:`CallAssembler` joins them by
index. Model output (and a server's parser) is untrusted: a fragment without an ``index``, arguments
that are not a string, a call with no name by the end, ``tool_calls`` that is not a list never raise;
the call is kept as far as it went and its :attr:`~harness.records.ToolCallMade.problem` says what
was wrong (grading counts such a call unparsable).

**Text.** A server started without a tool-call parser passes what the model wrote as content. Qwen2.5's
chat template (and every Hermes-format template) asks for ``<tool_call>{"name": …, "arguments":
{…}}</tool_call>``; :func:`calls_in_text` reads such blocks as vLLM's ``hermes`` parser does
(``vllm/tool_parsers/hermes_tool_parser.py``: the regex ``<tool_call>(.*?)</tool_call>|<tool_call>(.*)``,
a block left open running to the end, and the arguments re-serialised with ``json.dumps(...,
ensure_ascii=False)``), marks each ``from_text`` and takes the blocks out of the answer. A block
inside the thinking is no call: only the answer is read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from harness.records import ToolCallMade
from harness.server.json_calls import json_calls
from harness.thinking import thinking_spans

BLOCK = re.compile(r"<tool_call>(.*?)</tool_call>|<tool_call>(.*)", re.DOTALL)
"""vLLM's ``Hermes2ProToolParser.tool_call_regex``: a closed block, or an open one to the end of the text."""
CLIP_CHARS = 80


def _clip(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = " ".join(text.split())
    return text if len(text) <= CLIP_CHARS else text[:CLIP_CHARS] + "…"


def _kind(value: Any) -> str:
    """The JSON name of ``value``'s type (``object``, ``array``, ``string``, ``number``, ``boolean``, ``null``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    kinds = {dict: "object", list: "array", str: "string", int: "number", float: "number"}
    return next((k for t, k in kinds.items() if isinstance(value, t)), type(value).__name__)


@dataclass
class _Call:
    name: str = ""
    arguments: list[str] = field(default_factory=list)
    id: str | None = None
    problems: list[str] = field(default_factory=list)

    def note(self, problem: str) -> None:
        if problem not in self.problems:
            self.problems.append(problem)

    def made(self) -> ToolCallMade:
        problems = list(self.problems)
        if not self.name:
            problems.append("the call has no function name by the end of the stream")
        return ToolCallMade(
            name=self.name, arguments="".join(self.arguments), id=self.id, problem="; ".join(problems) or None
        )


@dataclass
class CallAssembler:
    """Joins the ``tool_calls`` fragments of one streamed choice into calls, by ``index``.

    Feed each delta's ``tool_calls`` value with :meth:`add` (absent or None: nothing happens); read
    the calls, in order of first appearance, with :meth:`calls`.
    """

    _calls: dict[int, _Call] = field(default_factory=dict)
    _order: list[int] = field(default_factory=list)
    _last: int | None = None
    _next_free: int = 0
    """Keys past every index seen, for fragments that name none (kept apart from the server's indices)."""

    def add(self, fragments: Any) -> bool:
        """Account one delta's ``tool_calls``; True when it carried any fragment (the call advanced)."""
        if fragments is None:
            return False
        if isinstance(fragments, dict):
            self._fragment(fragments, problem="tool_calls is a JSON object, not a list of fragments")
            return True
        if not isinstance(fragments, list):
            call = self._call(None, new=True)
            call.note(f"tool_calls is a JSON {_kind(fragments)}, not a list of fragments: {_clip(fragments)}")
            return True
        for frag in fragments:
            self._fragment(frag)
        return bool(fragments)

    def calls(self) -> list[ToolCallMade]:
        """The calls so far, each with its joined arguments and the problems met (see the module docstring)."""
        return [self._calls[k].made() for k in self._order]

    def _call(self, index: int | None, *, new: bool = False) -> _Call:
        """The call at ``index``; None: the last call (or a new one when ``new`` or none exists yet)."""
        if index is None:
            if self._last is not None and not new:
                return self._calls[self._last]
            index = self._next_free
        if index not in self._calls:
            self._calls[index] = _Call()
            self._order.append(index)
            self._next_free = max(self._next_free, index + 1)
        self._last = index
        return self._calls[index]

    def _fragment(self, frag: Any, problem: str | None = None) -> None:
        if not isinstance(frag, dict):
            call = self._call(None, new=True)
            call.note(f"a tool_calls fragment is a JSON {_kind(frag)}, not an object: {_clip(frag)}")
            return
        function = frag.get("function")
        bad_function = None
        if function is not None and not isinstance(function, dict):
            bad_function = f"a fragment's function is a JSON {_kind(function)}, not an object: {_clip(function)}"
            function = None
        function = function or {}
        index = frag.get("index")
        if isinstance(index, int) and not isinstance(index, bool) and index >= 0:
            call = self._call(index)
        else:
            # No usable index: a fragment naming a function or a new id starts a call, others continue the last.
            last = self._calls[self._last] if self._last is not None else None
            names_another = last is not None and bool(function.get("name")) and bool(last.name)
            new_id = last is not None and frag.get("id") not in (None, last.id)
            call = self._call(None, new=names_another or new_id)
            given = f"index {_clip(index)}" if "index" in frag else "none given"
            call.note(f"a tool_calls fragment has no index ({given})")
        for note in (problem, bad_function):
            if note:
                call.note(note)
        if isinstance(frag.get("id"), str) and frag["id"] and call.id is None:
            call.id = frag["id"]
        name = function.get("name")
        if isinstance(name, str) and name:
            if not call.name:
                call.name = name
            elif name != call.name:
                call.note(f"the function name changed mid-call, from {call.name!r} to {_clip(name)!r}")
        elif name is not None and not isinstance(name, str):
            call.note(f"the function name is a JSON {_kind(name)}, not text: {_clip(name)}")
        arguments = function.get("arguments")
        if isinstance(arguments, str):
            call.arguments.append(arguments)
        elif arguments is not None:
            call.arguments.append(json.dumps(arguments, ensure_ascii=False, default=str))  # kept, to be shown
            call.note(
                f"the arguments arrived as a JSON {_kind(arguments)}, not as text "
                "(OpenAI streams them as string fragments)"
            )


def offered_names(tools: list[dict[str, Any]] | None) -> frozenset[str]:
    """The function names of an OpenAI ``tools`` list (``[{"type": "function", "function": {"name": …}}]``);
    an entry of another shape is skipped.

    >>> sorted(offered_names([{"type": "function", "function": {"name": "f"}}, {"type": "x"}]))
    ['f']
    """
    fns = (t.get("function") for t in tools or () if isinstance(t, dict))
    return frozenset(f["name"] for f in fns if isinstance(f, dict) and isinstance(f.get("name"), str))


@dataclass(frozen=True)
class TextCalls:
    """What :func:`calls_in_text` found: the calls, and where their blocks lie in the text."""

    calls: list[ToolCallMade]
    spans: list[tuple[int, int]]
    """``(start, end)`` of each block read, tags included, in order: what to take out of the answer."""


def calls_in_text(text: str, names: Collection[str] = ()) -> TextCalls:
    """The Hermes ``<tool_call>`` blocks of ``text`` outside its thinking, as calls ``from_text``; when
    there are none, the calls written as plain JSON naming one of the offered tools ``names``
    (:func:`harness.server.json_calls.json_calls`: a fenced block, or the whole answer).

    Each block's JSON object gives ``name`` and ``arguments`` (re-serialised as JSON text, as vLLM's
    hermes parser does; arguments written as a string are kept as that string; none: ``""``). A block
    that does not parse keeps its raw text as the arguments, the name when one can be read, and a
    ``problem``. A ``<tool_call>`` inside ``<think>…</think>`` is skipped (:func:`harness.thinking.thinking_spans`).

    >>> found = calls_in_text('好的。<tool_call>{"name": "f", "arguments": {"a": 1}}</tool_call>')
    >>> found.calls[0].name, found.calls[0].arguments, found.spans
    ('f', '{"a": 1}', [(3, 62)])
    """
    thinking, _ = thinking_spans(text)
    calls: list[ToolCallMade] = []
    spans: list[tuple[int, int]] = []
    for m in BLOCK.finditer(text):
        if any(s <= m.start() < e for s, e in thinking):
            continue  # inside the thinking: the model thought about a call, it did not make one
        closed = m.group(1) is not None
        calls.append(_block_call(m.group(1) if closed else m.group(2), closed))
        spans.append(m.span())
    if not calls and names:
        answer = text  # the thinking blanked out, so that offsets stay those of ``text``
        for s, e in thinking:
            answer = answer[:s] + " " * (e - s) + answer[e:]
        calls, spans = json_calls(answer, names)
    return TextCalls(calls, spans)


NAME_IN_TEXT = re.compile(r'"name"\s*:\s*"((?:[^"\\]|\\.)*)"')
"""A ``"name": "..."`` pair, to keep the function's name of a block whose JSON is broken."""


def _block_call(raw: str, closed: bool) -> ToolCallMade:
    """One block's call (``raw``: the text between the tags; ``closed``: whether ``</tool_call>`` ended it)."""
    body = raw.strip()
    try:
        obj = json.loads(body)
    except ValueError as exc:
        m = NAME_IN_TEXT.search(body)
        how = "" if closed else " (the block was never closed)"
        return ToolCallMade(
            name=m.group(1) if m else "", arguments=body, from_text=True,
            problem=f"the <tool_call> block is not JSON{how}: {exc}",
        )  # fmt: skip
    if not isinstance(obj, dict):
        what = f"the <tool_call> block is a JSON {_kind(obj)}, not an object with name and arguments"
        return ToolCallMade(name="", arguments=body, from_text=True, problem=what)
    name, args = obj.get("name"), obj.get("arguments")
    arguments = "" if args is None else args if isinstance(args, str) else json.dumps(args, ensure_ascii=False)
    if isinstance(name, str) and name:
        return ToolCallMade(name=name, arguments=arguments, from_text=True)
    return ToolCallMade(
        name="", arguments=arguments, from_text=True, problem=f"the <tool_call> block names no function: {_clip(body)}"
    )


def take_out(parts: list[tuple[str, float]], spans: list[tuple[int, int]]) -> tuple[list[tuple[str, float]], float]:
    """``parts`` (each content delta with its arrival, ms) without the characters of ``spans`` (offsets in
    the joined text), and the arrival of the delta that carried the last span's last character: when the
    last call read out of the text was complete (ValueError without spans)."""
    if not spans:
        raise ValueError("no spans to take out")
    kept: list[tuple[str, float]] = []
    done_ms = parts[-1][1] if parts else 0.0
    last_char = spans[-1][1] - 1
    pos = 0
    for text, at_ms in parts:
        end = pos + len(text)
        if pos <= last_char < end:
            done_ms = at_ms
        keep = [c for i, c in enumerate(text, start=pos) if not any(s <= i < e for s, e in spans)]
        kept.append(("".join(keep), at_ms))
        pos = end
    return kept, done_ms
