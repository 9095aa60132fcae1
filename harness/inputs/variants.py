"""Prompt variants: what each variant adds around each question (a role, worked examples, retrieved passages).

Computed once per (variant, set, question) before any server starts, so every
candidate gets exactly the same framing, and a retrieval problem (a missing
document) is an input error, not a failure half-way through a run. Retrieval is
deterministic, so re-running the plan reproduces the same passages.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePath

from harness.inputs.knowledge_base import PlanKnowledgeBase, folder_passages, load_folder
from harness.inputs.prompts import Framing, few_shot_examples, system_text, with_thinking_switch
from harness.inputs.retrieval import Bm25Index, Passage, chunk_document, load_documents, render_context, squash
from harness.records import DEFAULT_VARIANT, Question, QuestionSet, Variant

FramingKey = tuple[str, str, str]  # (variant, set_id, question_id)


def generation_key(candidate: str, set_id: str, question_id: str, sample: int, variant: str = DEFAULT_VARIANT) -> str:
    """``candidate/set/question/sample``, with ``/variant`` appended for every variant but the default."""
    key = f"{candidate}/{set_id}/{question_id}/{sample}"
    return key if variant == DEFAULT_VARIANT else f"{key}/{variant}"


@dataclass(frozen=True)
class SetDocuments:
    """A set's documents cut into passages for one chunk size, with their BM25 index."""

    passages: list[Passage]
    index: Bm25Index


def set_documents(qs: QuestionSet, set_path: Path, chunk_chars: int) -> SetDocuments:
    """Read, chunk and index the set's ``documents`` (paths relative to the set file)."""
    folder = set_path.parent.resolve()
    paths = [(set_path.parent / d).resolve() for d in qs.documents]
    outside = [d for d, p in zip(qs.documents, paths, strict=True) if not p.is_relative_to(folder)]
    if outside:  # validation refuses these too; this guards sets built in code
        raise ValueError(f"{set_path}: documents outside the set's folder are refused: {', '.join(outside)}; move "
                         "them under the set's folder, or name their folder as the plan's knowledge_base")  # fmt: skip
    docs = load_documents(paths)
    stems = Counter(PurePath(name).stem for name in docs)
    # policy.md beside policy.pdf: ids by the whole file name (policy.md#1, policy.pdf#1), else both are policy#1
    passages = [
        p
        for name, text in docs.items()
        for p in chunk_document(
            text, name, max_chars=chunk_chars, id_stem=name if stems[PurePath(name).stem] > 1 else None
        )
    ]
    return SetDocuments(passages, Bm25Index(passages))


def framing(variant: Variant, qs: QuestionSet, q: Question, docs: SetDocuments | None) -> Framing:
    language = qs.language
    if variant.kind == "system_prompt":
        return Framing(system=system_text(variant, language))
    if variant.kind == "few_shot":
        return Framing(examples=few_shot_examples(qs, q, variant.shots))
    if variant.kind == "with_context" and docs is not None:
        found = [p for p, _ in docs.index.search(q.question, variant.top_k)]
        return Framing(context=render_context(found, language) if found else None,
                       context_ids=tuple(p.id for p in found), passages=tuple(found))  # fmt: skip
    return Framing()


def framings(
    variants: list[Variant], sets: list[tuple[Path, QuestionSet]], knowledge_base: PlanKnowledgeBase | None = None
) -> dict[FramingKey, Framing]:  # fmt: skip
    """Every (variant, set, question)'s framing. A ``with_context`` variant retrieves from the set's own
    ``documents``, else, for a set the plan's ``knowledge_base`` serves, from that folder: read once, and
    indexed once per chunk size for all the sets that use it. On a set with neither it asks the question alone
    (the report notes it)."""
    out: dict[FramingKey, Framing] = {}
    kb_texts: dict[str, str] | None = None
    kb_docs: dict[int, SetDocuments] = {}  # chunk_chars -> the folder's passages and index, shared by its sets
    for variant in variants:
        for path, qs in sets:
            docs = None
            if variant.kind == "with_context" and qs.documents:
                docs = set_documents(qs, path, variant.chunk_chars)
            elif variant.kind == "with_context" and knowledge_base and qs.id in knowledge_base.set_ids:
                if variant.chunk_chars not in kb_docs:
                    kb_texts = load_folder(knowledge_base) if kb_texts is None else kb_texts
                    passages = folder_passages(kb_texts, variant.chunk_chars)
                    kb_docs[variant.chunk_chars] = SetDocuments(passages, Bm25Index(passages))
                docs = kb_docs[variant.chunk_chars]
            for q in qs.questions:
                out[(variant.name, qs.id, q.id)] = with_thinking_switch(framing(variant, qs, q, docs), variant)
    return out


def context_hit(passages_text: str | None, question: Question) -> bool | None:
    """Whether the given context holds the question's ``source`` (None when the question names none).

    A blank ``source`` (validation refuses one) matches nothing: an empty string is in every text."""
    if question.source is None:
        return None
    if not squash(question.source):
        return False
    return bool(passages_text) and squash(question.source) in squash(passages_text or "")
