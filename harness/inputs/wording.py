"""The words the harness puts around a question, per language, and the one reading of a language tag (pure).

A question set's ``language`` is a BCP-47-ish tag (``zh``, ``zh-CN``, ``en-GB``); only
its primary subtag picks the wording. Chinese has its own wording; every other
language gets the English one.

Two context labels stay distinct on purpose: the set's shared ``context`` is introduced
by ``context_label`` (``【资料】``) and retrieved passages by ``retrieved_label``
(``参考资料：``). Both are in prompts that candidates have already answered; changing
either text would change every with-context prompt, so this table owns them both.
"""

from __future__ import annotations

from dataclasses import dataclass


def primary_language(tag: str) -> str:
    """The primary subtag of a language tag, lower-cased: ``zh-Hans-CN`` -> ``zh``, ``EN`` -> ``en``."""
    return tag.split("-")[0].lower()


@dataclass(frozen=True)
class Wording:
    with_context: str
    """Instruction before the material: answer from it."""
    context_label: str
    """Heads the question set's shared ``context``."""
    question_label: str
    answer_label: str
    role_label: str
    retrieved_label: str
    """Heads the passages retrieval found (:func:`harness.inputs.retrieval.render_context`)."""


_REFERENCE_EN = "Reference material:"

WORDING = {
    "zh": Wording("请根据以下资料回答问题。", "【资料】", "问题：", "回答：", "【角色】", "参考资料："),
    "en": Wording(
        "Answer the question using the reference material below.",
        _REFERENCE_EN,
        "Question: ",
        "Answer:",
        "Role:",
        _REFERENCE_EN,
    ),
}


def wording(language: str) -> Wording:
    """The wording for a language tag: Chinese for ``zh*``, else English."""
    return WORDING.get(primary_language(language), WORDING["en"])
