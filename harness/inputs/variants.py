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

from harness.inputs.dense import FUSION_DEPTH, DenseIndex, fuse_passages
from harness.inputs.embeddings import Fetch, passage_text
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
    """A set's documents cut into passages for one chunk size, with their BM25 index (and dense one)."""

    passages: list[Passage]
    index: Bm25Index
    dense: DenseIndex | None = None
    """The passages' vectors, for ``dense`` and ``hybrid`` variants; None for BM25 alone."""
    embed: Fetch | None = None
    """What embeds a question for ``dense``, as the passages were embedded."""

    def search(self, variant: Variant, question: str) -> list[Passage]:
        """The ``top_k`` passages the variant's retriever ranks first for ``question`` (docs/knowledge-base.md)."""
        if variant.retriever == "bm25":
            return [p for p, _ in self.index.search(question, variant.top_k)]
        if self.dense is None or self.embed is None:
            raise ValueError(f"variant {variant.name}: retriever {variant.retriever} needs the plan's embedding model")
        depth = variant.top_k if variant.retriever == "dense" else max(variant.top_k, FUSION_DEPTH)
        dense = [p for p, _ in self.dense.search(self.embed([question])[0], depth)]
        if variant.retriever == "dense":
            return dense
        bm25 = [p for p, _ in self.index.search(question, depth)]
        return [p for p, _ in fuse_passages(bm25, dense, variant.top_k)]


def set_documents(qs: QuestionSet, set_path: Path, chunk_chars: int, embed: Fetch | None = None) -> SetDocuments:
    """Read, chunk and index the set's ``documents`` (paths relative to the set file); with ``embed``, the
    passages' vectors too (:func:`harness.inputs.embeddings.passage_text` of each)."""
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
    return indexed(passages, embed)


def indexed(passages: list[Passage], embed: Fetch | None = None) -> SetDocuments:
    """``passages`` with their BM25 index and, with ``embed``, their vectors
    (:func:`harness.inputs.embeddings.passage_text` of each)."""
    if embed is None:
        return SetDocuments(passages, Bm25Index(passages))
    dense = DenseIndex(passages, embed([passage_text(p) for p in passages]))
    return SetDocuments(passages, Bm25Index(passages), dense, embed)


def framing(variant: Variant, qs: QuestionSet, q: Question, docs: SetDocuments | None) -> Framing:
    language = qs.language
    if variant.kind == "system_prompt":
        return Framing(system=system_text(variant, language))
    if variant.kind == "few_shot":
        return Framing(examples=few_shot_examples(qs, q, variant.shots))
    if variant.kind == "with_context" and docs is not None:
        found = docs.search(variant, q.question)
        return Framing(context=render_context(found, language) if found else None,
                       context_ids=tuple(p.id for p in found), passages=tuple(found))  # fmt: skip
    return Framing()


def framings(
    variants: list[Variant],
    sets: list[tuple[Path, QuestionSet]],
    knowledge_base: PlanKnowledgeBase | None = None,
    embed: Fetch | None = None,
) -> dict[FramingKey, Framing]:
    """Every (variant, set, question)'s framing. A ``with_context`` variant retrieves from the set's own
    ``documents``, else, for a set the plan's ``knowledge_base`` serves, from that folder: read once, and
    indexed once per chunk size for all the sets that use it. On a set with neither it asks the question alone
    (the report notes it). ``embed`` (texts -> unit vectors) serves the ``dense`` and ``hybrid`` variants
    (``harness.inputs.embeddings.CachedEmbedder``); ValueError when one needs it and it is None."""
    out: dict[FramingKey, Framing] = {}
    kb_texts: dict[str, str] | None = None
    kb_docs: dict[tuple[int, bool], SetDocuments] = {}  # (chunk_chars, dense): the folder's, shared by its sets
    for variant in variants:
        for path, qs in sets:
            dense = embed if variant.retriever != "bm25" else None
            docs = None
            if variant.kind == "with_context" and qs.documents:
                docs = set_documents(qs, path, variant.chunk_chars, dense)
            elif variant.kind == "with_context" and knowledge_base and qs.id in knowledge_base.set_ids:
                key = (variant.chunk_chars, dense is not None)
                if key not in kb_docs:
                    kb_texts = load_folder(knowledge_base) if kb_texts is None else kb_texts
                    kb_docs[key] = indexed(folder_passages(kb_texts, variant.chunk_chars), dense)
                docs = kb_docs[key]
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


def embedding_texts(
    variants: list[Variant], sets: list[tuple[Path, QuestionSet]], knowledge_base: PlanKnowledgeBase | None = None
) -> list[str]:
    """Every text the ``dense`` and ``hybrid`` variants embed (passages, then questions), each once: a set's own
    documents' passages, or the plan's knowledge base's for a set it serves."""
    texts: list[str] = []
    kb_texts: dict[str, str] | None = None
    for variant in (v for v in variants if v.retriever != "bm25" and v.kind == "with_context"):
        for path, qs in sets:
            if qs.documents:
                texts += [passage_text(p) for p in set_documents(qs, path, variant.chunk_chars).passages]
            elif knowledge_base and qs.id in knowledge_base.set_ids:
                kb_texts = load_folder(knowledge_base) if kb_texts is None else kb_texts
                texts += [passage_text(p) for p in folder_passages(kb_texts, variant.chunk_chars)]
            else:
                continue
            texts += [q.question for q in qs.questions]
    return list(dict.fromkeys(texts))
