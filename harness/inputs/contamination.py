"""Contamination in: did an adapter's training data contain the evaluated questions? (pure)

A fine-tuned model that saw the test must not win by it. Each evaluated question (and its reference)
is compared with every training conversation (all its turns joined):

- **exact**: the question, normalised, occurs whole inside a training text;
- **near**: at least ``near`` (default 0.5) of the question's word n-grams occur in one training text.

Normalisation is NFKC, lower case, punctuation dropped; a CJK character counts as one token (Chinese
has no spaces), any other run of letters or digits as one. ``n`` defaults to 8 tokens, the size
the GPT-3 and Llama 2 contamination studies used for short items (13 for long ones): shorter runs
match by chance ("how many days of annual leave"), longer ones miss a paraphrased question.
A question shorter than ``n`` tokens is only checked for an exact occurrence, and one shorter than
``n // 2`` not at all (too short to tell a copy from a coincidence).

Questions are flagged (their scores are shown with and without them). References are checked too,
but a reference found in the training data flags nothing on its own: documents hold the answers, and
learning the documents is what domain fine-tuning is for. They are listed as ``reference_only``.

Limits: a paraphrase that shares few n-grams (a translated question, reordered clauses) is not found;
a long boilerplate prefix shared by many questions can make near duplicates of unrelated ones.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

NGRAM = 8
NEAR = 0.5
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+")


@dataclass(frozen=True)
class EvalText:
    """One evaluated question with its reference."""

    set_id: str
    question_id: str
    question: str
    reference: str | None = None


@dataclass(frozen=True)
class Overlap:
    """One evaluated text found in the training data."""

    set_id: str
    question_id: str
    field: Literal["question", "reference"]
    kind: Literal["exact", "near"]
    share: float
    """Share of the text's n-grams found in the one training text that holds most of them (1.0 for exact)."""
    example: int
    """Index of that training text (0-based, in the order given)."""


@dataclass(frozen=True)
class Contamination:
    """What the check found: every overlap, and the questions it flags."""

    overlaps: list[Overlap]
    flagged: list[tuple[str, str]] = field(default_factory=list)
    """(set id, question id) of questions whose question text is in the training data, sorted."""
    reference_only: list[tuple[str, str]] = field(default_factory=list)
    """Questions whose reference (only) is in the training data: listed, not flagged."""
    ngram: int = NGRAM
    near: float = NEAR


def tokens(text: str) -> list[str]:
    """Normalised tokens: NFKC, lower case, one token per CJK character or other letter/digit run."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).lower())


def ngrams(toks: Sequence[str], n: int) -> set[tuple[str, ...]]:
    """Every run of ``n`` consecutive tokens (empty when there are fewer than ``n``)."""
    return {tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)}


class TrainingIndex:
    """Training texts, normalised and indexed by n-gram, to look evaluated texts up in."""

    def __init__(self, texts: Iterable[str], n: int = NGRAM):
        self.n = n
        self.joined: list[str] = []
        self.by_gram: dict[tuple[str, ...], set[int]] = defaultdict(set)
        for i, text in enumerate(texts):
            toks = tokens(text)
            self.joined.append(" " + " ".join(toks) + " ")
            for gram in ngrams(toks, n):
                self.by_gram[gram].add(i)

    def find(self, text: str, near: float) -> tuple[Literal["exact", "near"], float, int] | None:
        """(kind, share, example) for the training text that holds most of ``text``, or None."""
        toks = tokens(text)
        if not toks:
            return None
        needle = " " + " ".join(toks) + " "
        exact = next((i for i, hay in enumerate(self.joined) if needle in hay), None)
        if exact is not None:
            return ("exact", 1.0, exact)
        grams = ngrams(toks, self.n)
        if not grams:
            return None
        hits = Counter(i for g in grams for i in self.by_gram.get(g, ()))
        if not hits:
            return None
        best, count = min(hits.items(), key=lambda kv: (-kv[1], kv[0]))
        share = count / len(grams)
        return ("near", share, best) if share >= near else None


def check_contamination(
    training: Sequence[str], items: Sequence[EvalText], n: int = NGRAM, near: float = NEAR
) -> Contamination:  # fmt: skip
    """Look every evaluated question and reference up in the training texts (see the module docstring)."""
    index = TrainingIndex(training, n)
    overlaps: list[Overlap] = []
    for item in items:
        for name, text in (("question", item.question), ("reference", item.reference or "")):
            size = len(tokens(text))
            if size < n // 2 or (name == "reference" and size < n):
                continue  # a short text ("5 days") occurs everywhere
            found = index.find(text, near)
            if found is not None:
                overlaps.append(Overlap(item.set_id, item.question_id, name, *found))  # type: ignore[arg-type]
    flagged = sorted({(o.set_id, o.question_id) for o in overlaps if o.field == "question"})
    refs = sorted({(o.set_id, o.question_id) for o in overlaps if o.field == "reference"} - set(flagged))
    return Contamination(overlaps, flagged, refs, n, near)


def conversation_text(messages: Sequence[dict[str, str]]) -> str:
    """Every turn's content of one training conversation, joined by newlines (what is searched)."""
    return "\n".join(m.get("content", "") for m in messages)
