"""Asking a question that is offered tools: the request with ``tools``, then the rounds of scripted replies.

A question offered tools (:meth:`~harness.records.QuestionSet.tools_for`, not empty) is asked on the chat
API with ``Request.tools`` (OpenAI's ``tools`` list; the client sends ``tool_choice: "auto"``). A candidate
on the completions API has no chat template to declare tools with: the question is not asked and its
answer records :data:`NO_CHAT_API` as its error (a failed answer, never a text answer scored as if the
tools had been offered).

**Multi-step** (:func:`exchange`). When a response makes calls and every call has a scripted reply
(:func:`harness.rubric.tool_calls.result_for` over :meth:`~harness.records.QuestionSet.tool_results_for`),
the conversation goes back to the model as OpenAI's chat format has it
(https://platform.openai.com/docs/guides/function-calling): the messages asked, an ``assistant`` message
with the calls as ``tool_calls`` (``id``, ``type: function``, ``function: {name, arguments}``), then one
``tool`` message per call, in call order, with its ``tool_call_id`` and the reply
(:func:`reply_content`); the model is asked again, and so on for at most :data:`MAX_TOOL_ROUNDS` rounds.
The exchange ends, and the last response's text is the answer, when:

- the response makes no call (the model answered);
- some call of the response has no scripted reply (or its arguments do not parse): nothing is sent back,
  and the answer is what the model said so far (often nothing: a question whose calls are only graded
  needs no reply);
- :data:`MAX_TOOL_ROUNDS` replies were sent and the response calls again: its calls are left unanswered
  (the answer's ``finish_reason`` is then usually the server's ``tool_calls``).

The first response's calls are what ``expect_call``/``no_call`` grade; the later ones are in
``Generation.tool_steps``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from harness.records import Request, Tool, ToolCallMade, ToolResult, ToolStep
from harness.rubric.tool_calls import result_for
from harness.server.client import Result

MAX_TOOL_ROUNDS = 3
"""Scripted replies sent back at most, per answer: enough for a lookup, then an action, then a check."""
NO_CHAT_API = "tools need the chat API; the model has no chat template"
"""The error of an answer to a question offered tools, from a candidate served on the completions API."""


class Asks(Protocol):
    """What :func:`exchange` needs of a client: :meth:`harness.server.client.ModelClient.generate`."""

    async def generate(self, req: Request) -> Result: ...


def tool_dicts(tools: Sequence[Tool]) -> list[dict[str, Any]]:
    """OpenAI's ``tools`` list: ``{"type": "function", "function": {name, description, parameters}}`` each."""
    return [t.model_dump(mode="json") for t in tools]


def with_tools(req: Request, tools: Sequence[Tool]) -> Request:
    """``req`` offering ``tools`` (a chat request; the client adds ``tool_choice: "auto"``)."""
    return replace(req, tools=tool_dicts(tools))


def _iso(value: Any) -> Any:
    """A date, datetime or time (YAML reads ``2026-03-05`` as a date) as its ISO 8601 string."""
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def reply_content(content: Any) -> str:
    """The ``tool`` message's content for a scripted ``content``: a string as is, a date as its ISO string,
    anything else as JSON (``ensure_ascii=False``: ``{"余额": 3}`` stays readable), dates inside as ISO strings."""
    if isinstance(content, str):
        return content
    if isinstance(content, dt.date | dt.time):
        return content.isoformat()
    return json.dumps(content, ensure_ascii=False, default=_iso)


def call_id(call: ToolCallMade, round_: int, index: int) -> str:
    """The call's id as the server gave it; one of our own (``call_<round>_<index>``) when it gave none
    (a call read out of the text): the ``tool`` message must name the call it answers."""
    return call.id or f"call_{round_}_{index}"


def round_messages(
    calls: Sequence[ToolCallMade], replies: Sequence[str], text: str, round_: int
) -> list[dict[str, Any]]:
    """The messages one round adds: the assistant's turn with its calls, then one ``tool`` message per call.

    An empty ``arguments`` (a call with no arguments) is sent as ``"{}"``: servers parse it as JSON to
    render the chat template."""
    ids = [call_id(c, round_, i) for i, c in enumerate(calls)]
    assistant = {
        "role": "assistant",
        "content": text,
        "tool_calls": [
            {"id": i, "type": "function", "function": {"name": c.name, "arguments": c.arguments.strip() or "{}"}}
            for i, c in zip(ids, calls, strict=True)
        ],
    }
    return [assistant, *({"role": "tool", "tool_call_id": i, "content": r} for i, r in zip(ids, replies, strict=True))]


def scripted_replies(
    calls: Sequence[ToolCallMade], results: Sequence[ToolResult], tools: Sequence[Tool]
) -> list[str] | None:
    """The reply to send for each call, in call order; None when some call has no scripted reply."""
    found = [result_for((c.name, c.arguments), results, tools) for c in calls]
    if any(r is None for r in found):
        return None
    return [reply_content(r.content) for r in found if r is not None]


@dataclass(frozen=True)
class Exchange:
    """One answer to a question offered tools: the first response, the last, and the rounds between."""

    first: Result
    """The first response: its calls are graded; its timings are the answer's ``ttft_ms``/``e2e_ms``."""
    final: Result
    """The last response: its text is the answer (``first`` itself when no reply was sent)."""
    steps: list[ToolStep]
    """Each round whose calls got scripted replies, in order."""
    error: str | None = None
    """Why a later round failed (the first response's own error is ``first.error``)."""


async def exchange(
    client: Asks, req: Request, results: Sequence[ToolResult], tools: Sequence[Tool], max_rounds: int = MAX_TOOL_ROUNDS
) -> Exchange:
    """Ask ``req`` (offering ``tools``), then send back scripted replies while every call has one, at most
    ``max_rounds`` times (see the module's docstring). Never raises for what the model says."""
    first = await client.generate(req)
    current, steps = first, list[ToolStep]()
    messages = list(req.messages or [])
    while current.error is None and current.tool_calls and len(steps) < max_rounds:
        replies = scripted_replies(current.tool_calls, results, tools)
        if replies is None:
            break
        steps.append(ToolStep(calls=list(current.tool_calls), replies=replies, text=current.text))
        messages += round_messages(current.tool_calls, replies, current.text, len(steps))
        current = await client.generate(replace(req, messages=list(messages)))
        if current.error is not None:
            return Exchange(first, current, steps, f"tool round {len(steps) + 1}: {current.error}")
    return Exchange(first, current, steps)
