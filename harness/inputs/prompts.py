"""Prompt construction (pure): a question, in its set's language and the plan's variant, as chat or plain text.

A chat model gets messages (a system turn for ``system_prompt``, user/assistant
turns for each ``few_shot`` example, then the question); the server's chat
template renders them as the model expects. A base model without a chat
template gets the same content as plain text, ``问题：… 回答：…`` blocks with stop
strings, so it answers once instead of inventing the next question.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from harness.inputs.retrieval import Passage
from harness.inputs.shots import choose_shots
from harness.inputs.wording import primary_language, wording
from harness.records import Api, FewShotExample, Question, QuestionSet, Request, Sampling, Variant


@dataclass(frozen=True)
class Framing:
    """What a variant adds around one question: a role, worked examples, retrieved context."""

    system: str | None = None
    examples: tuple[FewShotExample, ...] = ()
    context: str | None = None
    """Retrieved passages, already rendered (``harness.inputs.retrieval.render_context``)."""
    context_ids: tuple[str, ...] = field(default=())
    passages: tuple[Passage, ...] = ()
    """The retrieved passages ``context`` renders, best first (their ids are ``context_ids``)."""
    chat_template_kwargs: dict[str, Any] | None = None
    """The variant's thinking switch for the chat template (``{enable_thinking: false}``)."""
    reasoning_effort: str | None = None


def with_thinking_switch(framing: Framing, variant: Variant) -> Framing:
    """``framing`` carrying the variant's thinking switch: its ``chat_template_kwargs``, else
    ``{enable_thinking: thinking}`` when it sets ``thinking``; and its ``reasoning_effort``."""
    kwargs = variant.chat_template_kwargs
    if kwargs is None and variant.thinking is not None:
        kwargs = {"enable_thinking": variant.thinking}
    return replace(framing, chat_template_kwargs=kwargs, reasoning_effort=variant.reasoning_effort)


def system_text(variant: Variant, language: str) -> str | None:
    """The variant's role text in the set's language (a dict picks by language, else its first entry)."""
    sp = variant.system_prompt
    if sp is None or isinstance(sp, str):
        return sp
    return sp.get(language) or sp.get(primary_language(language)) or next(iter(sp.values()))


def few_shot_examples(qs: QuestionSet, q: Question, shots: int) -> tuple[FewShotExample, ...]:
    """The set's ``few_shot`` examples, else other questions with a reference: same category first,
    never one that gives away ``q``'s answer (:func:`harness.inputs.shots.choose_shots`).

    The question itself is never its own example, and the choice is deterministic
    (set order), so every candidate sees the same examples.
    """
    return choose_shots(qs, q, shots).examples


def _material(qs: QuestionSet, framing: Framing) -> str:
    """The set's shared context under its label, then the retrieved passages (which carry their own label)."""
    w = wording(qs.language)
    parts = [f"{w.context_label}\n{qs.context.strip()}"] if qs.context else []
    if framing.context:
        parts.append(framing.context.strip())
    return "\n\n".join(parts)


def _question_block(qs: QuestionSet, q: Question, framing: Framing) -> str:
    """The final user turn: the set's shared context, the retrieved context, then the question."""
    w = wording(qs.language)
    material = _material(qs, framing)
    if not material:
        return q.question
    return f"{w.with_context}\n\n{material}\n\n{w.question_label}{q.question}"


def user_text(qs: QuestionSet, q: Question, framing: Framing | None = None) -> str:
    return _question_block(qs, q, framing or Framing())


def chat_messages(qs: QuestionSet, q: Question, framing: Framing) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": framing.system}] if framing.system else []
    for ex in framing.examples:
        messages += [{"role": "user", "content": ex.question}, {"role": "assistant", "content": ex.answer}]
    return [*messages, {"role": "user", "content": _question_block(qs, q, framing)}]


def plain_prompt(qs: QuestionSet, q: Question, framing: Framing | None = None) -> str:
    """The same content for a base model: role line, material, example Q/A blocks, then the open answer."""
    f = framing or Framing()
    w = wording(qs.language)
    parts = []
    if f.system:
        parts.append(f"{w.role_label}{f.system.strip()}")
    material = _material(qs, f)
    if material:
        parts.append(material)
    parts += [f"{w.question_label}{ex.question}\n{w.answer_label}{ex.answer}" for ex in f.examples]
    parts.append(f"{w.question_label}{q.question}\n{w.answer_label}")
    return "\n\n".join(parts)


def stop_strings(qs: QuestionSet) -> list[str]:
    w = wording(qs.language)
    return ["\n" + w.question_label.strip(), "\n\n\n"]


def build_request(
    api: Api, qs: QuestionSet, q: Question, sampling: Sampling, seed: int, framing: Framing | None = None
) -> Request:
    f = framing or Framing()
    if api == "chat":
        return Request(api="chat", messages=chat_messages(qs, q, f), max_tokens=sampling.max_tokens,
                       temperature=sampling.temperature, top_p=sampling.top_p, seed=seed,
                       chat_template_kwargs=f.chat_template_kwargs, reasoning_effort=f.reasoning_effort)  # fmt: skip
    return Request(api="completions", prompt=plain_prompt(qs, q, f), stop=stop_strings(qs),
                   max_tokens=sampling.max_tokens, temperature=sampling.temperature,
                   top_p=sampling.top_p, seed=seed)  # fmt: skip
