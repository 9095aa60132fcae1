"""Judge prompts (pure): template files per mode and language, versioned by content hash.

The candidate's answer goes between delimiters that carry a nonce derived from
the judgment's key: an answer cannot forge the closing delimiter without
knowing it, and the prompt declares everything inside to be data.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from harness.inputs.wording import primary_language
from harness.records import Question, QuestionSet

TEMPLATES = Path(__file__).with_name("templates")
MODES = ("single", "pairwise")


def _lang(language: str) -> str:
    return "zh" if primary_language(language) == "zh" else "en"


@cache
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=False,
        undefined=StrictUndefined,
        trim_blocks=True,
        keep_trailing_newline=False,
    )


def template_name(mode: str, language: str) -> str:
    return f"{mode}_{_lang(language)}.txt"


def prompt_version(mode: str, language: str) -> str:
    """``single_zh@<sha256[:12]>``: changes whenever the template text changes."""
    name = template_name(mode, language)
    digest = hashlib.sha256((TEMPLATES / name).read_bytes()).hexdigest()[:12]
    return f"{name.removesuffix('.txt')}@{digest}"


def all_versions() -> dict[str, str]:
    return {f"{m}_{lang}": prompt_version(m, lang) for m in MODES for lang in ("zh", "en")}


def nonce(key: str, seed: int) -> str:
    return hashlib.sha256(f"{key}|{seed}".encode()).hexdigest()[:10]


def single_prompt(
    qs: QuestionSet, q: Question, answer: str, scale: int, nonce_text: str, context: str | None = None
) -> str:
    """The grading prompt for one answer to ``q`` on a 1..``scale`` scale, in the set's language.

    ``nonce_text`` (:func:`nonce`) fences the untrusted answer; ``context`` is the material the answer
    was given, graded for faithfulness.
    """
    return _render(
        "single", qs.language, question=q.question, answer=answer, reference=q.reference, context=context,
        criteria=q.judge_criteria, scale=scale, nonce=nonce_text,
    )  # fmt: skip


def pairwise_prompt(qs: QuestionSet, q: Question, answer_a: str, answer_b: str, nonce_text: str) -> str:
    """The comparison prompt: answers A and B to ``q``, each fenced by ``nonce_text``."""
    return _render(
        "pairwise", qs.language, question=q.question, answer_a=answer_a, answer_b=answer_b, reference=q.reference,
        criteria=q.judge_criteria, nonce=nonce_text,
    )  # fmt: skip


def _render(kind: str, language: str, **fields: object) -> str:
    return _env().get_template(template_name(kind, language)).render(**fields)
