"""What the model is given, before any run (``harness context``): retrieved passages and the prompt as sent.

Built with the run's own code, so the preview cannot drift from what a run sends: each
(variant, question)'s framing comes from :func:`harness.inputs.variants.framings` (the function
:func:`harness.run.generate.plan_work` calls) and the request from
:func:`harness.inputs.prompts.build_request` (the one :func:`harness.run.generate.answer` sends).
:func:`context_preview` computes; :func:`format_preview` writes it as text for a terminal.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.inputs.embeddings import Fetch
from harness.inputs.knowledge_base import PlanKnowledgeBase
from harness.inputs.prompts import Framing, build_request
from harness.inputs.retrieval import render_context
from harness.inputs.shots import ShotChoice, choose_shots
from harness.inputs.variants import context_hit, framings
from harness.records import Api, Question, QuestionSet, Request, Sampling, Variant

DEFAULT_VARIANTS = (
    Variant(name="zero_shot", kind="zero_shot"),
    Variant(name="few_shot", kind="few_shot"),
    Variant(name="with_context", kind="with_context"),
)
"""Without a plan: each prompt variant kind with its default settings (``system_prompt`` needs a plan's text)."""


@dataclass(frozen=True)
class QuestionContext:
    """One question as one variant puts it to the model."""

    variant: Variant
    q: Question
    framing: Framing
    request: Request
    """Exactly what a run sends (``messages`` on the chat API, ``prompt`` on the completions API)."""
    source_hit: bool | None
    """Whether the given passages hold the question's ``source`` (as the run scores it); None: the question
    names none, or the variant gives no passages."""
    holding: tuple[str, ...]
    """Ids of the given passages that hold the ``source``."""
    shots: ShotChoice | None
    """Where a ``few_shot`` variant's examples came from; None for other variants."""


def pick_variants(variants: list[Variant] | tuple[Variant, ...], name: str | None, where: str) -> list[Variant]:
    """``variants``, or only the one named ``name``; ``ValueError`` naming the choices when there is none."""
    if name is None:
        return list(variants)
    found = [v for v in variants if v.name == name]
    if not found:
        raise ValueError(f"no variant {name!r} in {where}; its variants: {', '.join(v.name for v in variants)}")
    return found


def pick_questions(qs: QuestionSet, question_id: str | None) -> list[Question]:
    """Every question of the set, or the one with ``question_id``; ``ValueError`` naming close ids otherwise."""
    if question_id is None:
        return list(qs.questions)
    found = [q for q in qs.questions if q.id == question_id]
    if not found:
        ids = [q.id for q in qs.questions]
        shown = ", ".join(ids[:12]) + (f" ... ({len(ids)} in all)" if len(ids) > 12 else "")
        raise ValueError(f"no question {question_id!r} in set {qs.id}; its ids: {shown}")
    return found


def context_preview(
    set_path: Path, qs: QuestionSet, variants: list[Variant], questions: list[Question],
    api: Api = "chat", sampling: Sampling | None = None, knowledge_base: PlanKnowledgeBase | None = None,
    embed: Fetch | None = None,
) -> list[QuestionContext]:  # fmt: skip
    """Per variant, then question: the framing a run computes and the request it sends (seed: the plan's);
    ``knowledge_base``: the plan's folder, which a set it serves retrieves from; ``embed`` serves dense and
    hybrid variants, as in the run."""
    s = sampling or Sampling()
    framed = framings(variants, [(set_path, qs)], knowledge_base, embed)
    out = []
    for v in variants:
        for q in questions:
            f = framed[(v.name, qs.id, q.id)]
            hit = context_hit(f.context, q) if f.passages else None
            holding = tuple(p.id for p in f.passages if context_hit(render_context([p], qs.language), q))
            shots = choose_shots(qs, q, v.shots) if v.kind == "few_shot" else None
            out.append(QuestionContext(v, q, f, build_request(api, qs, q, s, s.seed, f), hit, holding, shots))
    return out


def retrieval_line(qs: QuestionSet, knowledge_base: PlanKnowledgeBase | None) -> str:
    """A first line saying where the set's ``with_context`` passages come from ("" when from its own
    ``documents`` or nowhere): the plan's knowledge-base folder, with its number of documents."""
    if knowledge_base is None or qs.id not in knowledge_base.set_ids:
        return ""
    n = len(knowledge_base.documents)
    return f"set {qs.id} retrieves from the plan's knowledge base {knowledge_base.folder} ({n} documents)\n\n"


def _indent(text: str, by: str = "      ") -> str:
    return "\n".join(by + line for line in text.splitlines()) if text else by + "(empty)"


def _variant_line(v: Variant) -> str:
    retriever = "" if v.retriever == "bm25" else f", retriever {v.retriever}"
    detail = {
        "few_shot": f"shots {v.shots}",
        "with_context": f"top_k {v.top_k}, chunk_chars {v.chunk_chars}{retriever}",
    }
    extra = detail.get(v.kind)
    return f"{v.name} ({v.kind}{', ' + extra if extra else ''})"


def _shot_lines(c: ShotChoice) -> list[str]:
    where = {"set_examples": "the set's few_shot: examples", "other_questions": "other questions' references "
             "(the set has no few_shot: examples)", "none": "none (no few_shot: examples, and no other question's "
             "reference that does not give this answer away)"}[c.origin]  # fmt: skip
    lines = [f"  examples: {len(c.examples)}, from {where}"]
    lines += [f"    left out (gives the answer away): {qid}: {why}" for qid, why in c.skipped]
    return lines


def _passage_lines(item: QuestionContext, language: str) -> list[str]:
    f, q = item.framing, item.q
    if item.variant.kind != "with_context":
        return []
    if not f.passages:
        return ["  passages: none (the set has no documents and no knowledge base, or nothing matched the question)"]
    if item.source_hit is None:
        source = "the question names no source"
    elif item.source_hit:
        source = f"source {q.source!r} is among them ({', '.join(item.holding) or 'across passages'})"
    else:
        source = f"source {q.source!r} is NOT among them"
    lines = [f"  passages: {len(f.passages)}; {source}"]
    for n, p in enumerate(f.passages, start=1):
        # a knowledge-base passage's id already names its file (hr/policy.docx#2): not said twice
        doc = None if p.id.startswith(f"{p.doc}#") else p.doc
        where = "".join(f" · {x}" for x in (doc, p.heading, f"page {p.page}" if p.page else None) if x)
        lines += [f"    [{n}] {p.id}{where}", _indent(p.text)]
    return lines


def _request_lines(r: Request) -> list[str]:
    if r.api == "chat":
        lines = ["  messages (chat API, as sent):"]
        for m in r.messages or []:
            lines += [f"    [{m['role']}]", _indent(str(m["content"]))]
        if r.chat_template_kwargs:
            lines.append(f"  chat_template_kwargs: {r.chat_template_kwargs}")
        return lines
    return ["  prompt (completions API, as sent):", _indent(r.prompt or ""), f"  stop: {r.stop}"]


def format_preview(qs: QuestionSet, items: list[QuestionContext]) -> str:
    """The preview as text: per (variant, question) a header, the examples' origin (few_shot), the passages
    with their id, file, heading path, page and text and whether the ``source`` is among them (with_context),
    then the request's messages (or prompt) exactly as sent."""
    blocks = []
    for item in items:
        lines = [f"== {qs.id}/{item.q.id} · variant {_variant_line(item.variant)}"]
        if item.shots is not None:
            lines += _shot_lines(item.shots)
        lines += _passage_lines(item, qs.language)
        lines += _request_lines(item.request)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
