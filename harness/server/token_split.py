"""Thinking and answer tokens of one output: from the server's usage, else counted with the tokenizer.

vLLM's usage gives ``completion_tokens`` (thinking included) but on many builds no
``completion_tokens_details.reasoning_tokens``; then the thinking is counted with the
candidate's own tokenizer (:mod:`harness.server.tokenizer`) and the record says so (``token_split: tokenizer``).
"""

from __future__ import annotations

from typing import Literal

from harness.server.client import TokenCounter

TokenSource = Literal["usage", "tokenizer"]


def split_tokens(
    output_tokens: int | None, reasoning: str, answer: str, usage_reasoning: int | None, count: TokenCounter | None
) -> tuple[int | None, int | None, TokenSource | None]:
    """``(reasoning_tokens, answer_tokens, source)`` of one output.

    No thinking: 0 and all output tokens. The server's count when given (``usage``; a 0 there
    beside thinking text is vLLM's default for parsers that do not count, so not a count); else
    the thinking counted with ``count`` (``tokenizer``), the answer being the rest of the
    server's output tokens (or counted too when the server gave none); else unknown.
    """
    if not reasoning:
        return 0, output_tokens, None
    if usage_reasoning:  # 0 beside thinking text means "not counted": vLLM's default for parsers that do not count
        rest = None if output_tokens is None else max(output_tokens - usage_reasoning, 0)
        return usage_reasoning, rest, "usage"
    thought = count(reasoning) if count is not None else None
    if count is None or thought is None:
        return None, None, None
    rest = count(answer) if output_tokens is None else max(output_tokens - thought, 0)
    return thought, rest, "tokenizer"
