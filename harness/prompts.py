"""Prompt construction (pure): a question, in its set's language, as chat or plain text.

A chat model gets one user message; a base model without a chat template gets a
plain ``Question: ... Answer:`` prompt with stop strings, so it answers once
instead of inventing the next question.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.client import Api, Request
from harness.records import Question, QuestionSet, Sampling


@dataclass(frozen=True)
class Wording:
    with_context: str
    context_label: str
    question_label: str
    answer_label: str


WORDING = {
    "zh": Wording("请根据以下资料回答问题。", "【资料】", "问题：", "回答："),
    "en": Wording(
        "Answer the question using the reference material below.",
        "Reference material:",
        "Question: ",
        "Answer:",
    ),
}


def wording(language: str) -> Wording:
    return WORDING.get(language.split("-")[0].lower(), WORDING["en"])


def user_text(qs: QuestionSet, q: Question) -> str:
    """The user turn: the set's shared context (if any), then the question."""
    w = wording(qs.language)
    if not qs.context:
        return q.question
    return f"{w.with_context}\n\n{w.context_label}\n{qs.context.strip()}\n\n{w.question_label}{q.question}"


def plain_prompt(qs: QuestionSet, q: Question) -> str:
    w = wording(qs.language)
    head = f"{w.context_label}\n{qs.context.strip()}\n\n" if qs.context else ""
    return f"{head}{w.question_label}{q.question}\n{w.answer_label}"


def stop_strings(qs: QuestionSet) -> list[str]:
    w = wording(qs.language)
    return ["\n" + w.question_label.strip(), "\n\n\n"]


def build_request(api: Api, qs: QuestionSet, q: Question, sampling: Sampling, seed: int) -> Request:
    if api == "chat":
        messages = [{"role": "user", "content": user_text(qs, q)}]
        return Request(api="chat", messages=messages, max_tokens=sampling.max_tokens,
                       temperature=sampling.temperature, top_p=sampling.top_p, seed=seed)  # fmt: skip
    return Request(api="completions", prompt=plain_prompt(qs, q), stop=stop_strings(qs),
                   max_tokens=sampling.max_tokens, temperature=sampling.temperature,
                   top_p=sampling.top_p, seed=seed)  # fmt: skip
