"""A vLLM reasoning parser for thinking written as text: ``<think>`` … ``</think>`` that are not tokens.

vLLM's ``<think>`` parsers (deepseek_r1, qwen3, …) refuse to start unless the markers are
single tokens of the tokenizer; the demo models' tokenizers spell them in several tokens.
This parser reads the text instead. As with DeepSeek-R1 and Qwen3, the chat template opens
the thinking (``configs/reasoning/chatml_thinking.jinja``): output is thinking until the
model writes ``</think>``, then answer. A prompt that closes the block itself (thinking
off) starts in the answer. Load it with ``--reasoning-parser-plugin`` (the plan's
``reasoning.plugin``) and name it ``think_text``.

Streaming is computed from the whole text so far, so a marker split across chunks is
never leaked: the thinking stops short of anything that could still become ``</think>``.
"""

from __future__ import annotations

from collections.abc import Sequence

from vllm.entrypoints.generate.base.protocol import DeltaMessage
from vllm.reasoning import ReasoningParser, ReasoningParserManager

OPEN, CLOSE = "<think>", "</think>"


def _held_back(text: str) -> int:
    """Length of the longest tail of ``text`` that is a proper beginning of ``</think>``."""
    return next((n for n in range(len(CLOSE) - 1, 0, -1) if text.endswith(CLOSE[:n])), 0)


def split_so_far(text: str) -> tuple[str, str]:
    """(thinking, answer) of generated ``text`` that started inside the thinking block."""
    end = text.find(CLOSE)
    if end < 0:
        return text[: len(text) - _held_back(text)], ""
    return text[:end], text[end + len(CLOSE) :].lstrip("\n")


class ThinkTextReasoningParser(ReasoningParser):
    def _text(self, ids: Sequence[int]) -> str:
        return self.model_tokenizer.decode(list(ids), skip_special_tokens=False)

    @property
    def reasoning_start_str(self) -> str:
        return OPEN

    @property
    def reasoning_end_str(self) -> str:
        return CLOSE

    def is_reasoning_end(self, input_ids: Sequence[int]) -> bool:
        # A prompt ends in thinking when its last <think> is still open; generated text ends it with </think>.
        text = self._text(input_ids)
        return CLOSE in text and text.rfind(CLOSE) > text.rfind(OPEN)

    def extract_content_ids(self, input_ids: list[int]) -> list[int]:
        return []  # markers are text, not tokens: no token boundary to cut at (content ids serve tool parsing only)

    def extract_reasoning(self, model_output: str, request: object) -> tuple[str | None, str | None]:
        if CLOSE not in model_output:
            return model_output, None
        thinking, answer = split_so_far(model_output)
        return thinking, answer or None

    def extract_reasoning_streaming(
        self,
        previous_text: str,
        current_text: str,
        delta_text: str,
        previous_token_ids: Sequence[int],
        current_token_ids: Sequence[int],
        delta_token_ids: Sequence[int],
    ) -> DeltaMessage | None:
        before_thinking, before_answer = split_so_far(previous_text)
        now_thinking, now_answer = split_so_far(current_text)
        thinking, answer = now_thinking[len(before_thinking) :], now_answer[len(before_answer) :]
        if not thinking and not answer:
            return None
        return DeltaMessage(reasoning=thinking or None, content=answer or None)


ReasoningParserManager.register_module("think_text", module=ThinkTextReasoningParser)
