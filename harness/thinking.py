"""Thinking apart from the answer (pure): the one place that splits ``<think>…</think>`` out of text.

A reasoning model served without ``--reasoning-parser`` streams its thinking inside
``content``: ``<think>…</think>answer``. Chat templates that open the assistant turn
with ``<think>`` themselves (DeepSeek-R1, Qwen3 thinking) leave only the closing
``</think>`` in the output, and an output whose ``<think>`` is never closed was cut
off while thinking (``max_tokens`` ran out, or the model never got to an answer).
The candidate's answer (scored, judged) and a judge's reply (parsed for its
verdict) both go through :func:`split_thinking`; nothing else looks for the tags.
"""

from __future__ import annotations

from dataclasses import dataclass

OPEN = "<think>"
CLOSE = "</think>"


@dataclass(frozen=True)
class Split:
    answer: str
    """What the model gave as its answer: the text with every thinking block removed."""
    reasoning: str
    """The thinking, blocks joined by a blank line; empty when there was none."""
    unclosed: bool = False
    """The text ended inside a thinking block: no answer was given after it."""


def thinking_spans(text: str) -> tuple[list[tuple[int, int]], bool]:
    """``(start, end)`` of every thinking region, tags included, and whether the last never closed.

    A ``</think>`` with no ``<think>`` before it closes thinking that began with the output
    (the chat template opened it); a ``<think>`` never closed runs to the end of the text.
    """
    spans: list[tuple[int, int]] = []
    pos = 0
    first_close, first_open = text.find(CLOSE), text.find(OPEN)
    if first_close >= 0 and (first_open < 0 or first_close < first_open):
        pos = first_close + len(CLOSE)
        spans.append((0, pos))
    while (start := text.find(OPEN, pos)) >= 0:
        end = text.find(CLOSE, start + len(OPEN))
        if end < 0:
            spans.append((start, len(text)))
            return spans, True
        pos = end + len(CLOSE)
        spans.append((start, pos))
    return spans, False


def _inner(text: str, span: tuple[int, int]) -> str:
    chunk = text[span[0] : span[1]]
    return chunk.removeprefix(OPEN).removesuffix(CLOSE).strip()


def split_thinking(text: str) -> Split:
    """Split thinking out of ``text`` (see :func:`thinking_spans`).

    >>> split_thinking("<think>5天？不对，10天。</think>年假为10天。")
    Split(answer='年假为10天。', reasoning='5天？不对，10天。', unclosed=False)
    """
    spans, unclosed = thinking_spans(text)
    if not spans:
        return Split(text, "")
    kept, pos = [], 0
    for start, end in spans:
        kept.append(text[pos:start])
        pos = end
    kept.append(text[pos:])
    reasoning = "\n\n".join(t for t in (_inner(text, s) for s in spans) if t)
    return Split("".join(kept).strip(), reasoning, unclosed)


def answer_offset(text: str) -> int | None:
    """Index of the first answer character (non-blank, outside thinking) in ``text``; None when there is none.

    The client uses it after the stream to find the chunk that carried the first answer
    token: a ``</think>`` arriving late can turn earlier text into thinking, so this is
    decided on the whole text, not chunk by chunk.
    """
    spans, _ = thinking_spans(text)
    pos = 0
    for start, end in [*spans, (len(text), len(text))]:
        for i in range(pos, start):
            if not text[i].isspace():
                return i
        pos = end
    return None


def cut_off_while_thinking(answer: str, reasoning: str | None, unclosed: bool = False) -> bool:
    """True when the model thought but gave no answer (a parser put everything in ``reasoning``,
    or a ``<think>`` never closed): the answer is missing, whatever ``finish_reason`` says."""
    return (unclosed and not answer.strip()) or (not answer.strip() and bool(reasoning and reasoning.strip()))


def upgrade_generation(data: object) -> object:
    """A version-1 generation record (thinking left inside ``text``) read as version 2; others unchanged."""
    if not isinstance(data, dict) or data.get("schema_version", 2) >= 2 or data.get("reasoning") is not None:
        return data
    text = data.get("text") or ""
    split = split_thinking(text)
    if not split.reasoning and not split.unclosed:
        return data
    return {
        **data,
        "text": split.answer,
        "reasoning": split.reasoning,
        "reasoning_via": "think_tags",
        "cut_off_thinking": cut_off_while_thinking(split.answer, split.reasoning, split.unclosed),
    }


@dataclass(frozen=True)
class Separated:
    """One streamed output with the thinking apart: what the client returns beside its timings."""

    answer: str
    reasoning: str
    via: str | None
    """``parser`` (the server's reasoning field), ``think_tags`` (split here), None (no thinking)."""
    ttfat_ms: float | None
    """Time of the chunk that carried the first answer character; None when there is no answer."""
    cut_off: bool


def separate(content: list[tuple[str, float]], parser_reasoning: str) -> Separated:
    """The answer, the thinking and the time to first answer token of one streamed output.

    ``content`` holds each content delta with its arrival time (ms after the request
    started); ``parser_reasoning`` the joined ``reasoning``/``reasoning_content`` deltas.
    Thinking inside the content (no parser, or a parser that left tags) is split out too.
    """
    full = "".join(text for text, _ in content)
    split = split_thinking(full)
    reasoning = "\n\n".join(r for r in (parser_reasoning.strip(), split.reasoning) if r)
    via = "parser" if parser_reasoning.strip() else ("think_tags" if split.reasoning or split.unclosed else None)
    ttfat_ms = None
    offset = answer_offset(full)
    if offset is not None:
        seen = 0
        for text, at_ms in content:
            seen += len(text)
            if seen > offset:
                ttfat_ms = at_ms
                break
    answer = split.answer.strip() if reasoning else split.answer  # the blank line a parser leaves after </think>
    cut_off = cut_off_while_thinking(answer, reasoning, split.unclosed)
    return Separated(answer, reasoning, via, ttfat_ms, cut_off)
