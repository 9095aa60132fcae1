"""Retrieval figures (pure): how often a ``with_context`` variant gave each question the passage it names.

Per retrieval variant and question set, over the questions that name a ``source`` (the phrase or heading
of the passage holding the answer, ``Question.source``). Retrieval is deterministic and the same for every
candidate and sample (``harness.inputs.variants``), so each question counts once, not once per answer.
A relevant passage is one that holds the question's ``source`` (``harness.inputs.retrieval.source_rank``);
a question names one source, so it has one relevant item. The definitions, for ``Q`` such questions and
the ``k`` passages a variant gives (its ``top_k``):

- **hit rate** (success@k): the share of the ``Q`` questions with a relevant passage among the ``k``.
- **recall@k**: per question, the share of its relevant items among the first ``k`` retrieved,
  ``|relevant ∩ retrieved_k| / |relevant|`` (Manning, Raghavan & Schütze, *Introduction to Information
  Retrieval*, 2008, §8.3 and §8.4), averaged over the ``Q`` questions (macro average). With one source per
  question it is 1 or 0, so it equals the hit rate; it is reported apart so that it stays right for a
  question that names several sources.
- **MRR**: the mean over the ``Q`` questions of ``1 / rank`` of the first relevant passage, 0 when none is
  among the ``k`` (Voorhees, "The TREC-8 Question Answering Track Report", TREC 1999).

A question whose search found no passage at all counts as missed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from harness.records import KnowledgeBase, QuestionSet, Variant
from harness.rollup.frames import RANK_COLUMN


@dataclass(frozen=True)
class Missed:
    """A question whose source was in none of the passages given."""

    question_id: str
    source: str
    """The phrase the question names (``Question.source``)."""
    retrieved: tuple[str, ...]
    """The passage ids given instead, best first (empty: the search found none)."""


@dataclass(frozen=True)
class RetrievalFigures:
    """One retrieval variant on one question set."""

    variant: str
    set_id: str
    top_k: int
    """Passages given per question (the variant's ``top_k``): the ``k`` of recall@k."""
    questions: int
    """Questions that name a ``source``, were asked and scored: the denominator of every figure."""
    hits: int
    """Of them, those with a passage holding the source among the ones given."""
    recall_at_k: float | None
    """Mean per-question recall@k (module docstring); None when ``questions`` is 0."""
    mrr: float | None
    """Mean reciprocal rank of the first passage holding the source (0 for a miss); None when ``questions``
    is 0, or when the run's scores predate ranks (re-score it: ``harness score``)."""
    reciprocal_ranks: float | None = None
    """The sum of the reciprocal ranks (``mrr * questions``), for the count beside the MRR."""
    no_source: int = 0
    """Questions of the set asked in this variant that name no ``source``: left out of the figures."""
    missed: tuple[Missed, ...] = field(default=())

    @property
    def hit_rate(self) -> float | None:
        """``hits / questions``; None when ``questions`` is 0."""
        return self.hits / self.questions if self.questions else None


def retrieval_figures(
    answers: pd.DataFrame, sets: dict[str, QuestionSet], variants: list[Variant],
    knowledge_base: KnowledgeBase | None = None,
) -> list[RetrievalFigures]:  # fmt: skip
    """The figures of every ``with_context`` variant on every set with ``documents`` or served by the plan's
    ``knowledge_base`` (one row per set, though its sets share the folder), in plan then set order.

    ``answers``: :func:`harness.rollup.frames.answers_frame` of every variant (columns ``variant``,
    ``set_id``, ``question_id``, ``context_ids``, ``context_hit`` and, when any source was found,
    ``context_rank``). A question asked in the variant counts when it names a ``source``. Empty when the
    plan retrieves nothing: the report then shows no Retrieval section.
    """
    out: list[RetrievalFigures] = []
    if answers.empty:
        return out
    has_rank = RANK_COLUMN in answers.columns
    for v in variants:
        if v.kind != "with_context":
            continue
        mine = answers[answers.variant == v.name]
        for qs in sets.values():
            if not qs.documents and not (knowledge_base is not None and knowledge_base.uses(qs)):
                continue
            rows = mine[mine.set_id == qs.id]
            asked = set(rows.question_id)
            named = [q for q in qs.questions if q.id in asked and q.source is not None]
            if not named:
                continue
            hits, rr_sum, ranked, missed = 0, 0.0, True, []
            unscored = {q.id for q in named if _unscored(rows[rows.question_id == q.id])}
            named = [q for q in named if q.id not in unscored]
            if not named:
                continue
            for q in named:
                qrows = rows[rows.question_id == q.id]
                hit = bool(qrows.context_hit.eq(True).any())
                ranks = pd.to_numeric(qrows[RANK_COLUMN], errors="coerce").dropna() if has_rank else pd.Series([])
                if hit:
                    hits += 1
                    if len(ranks):
                        rr_sum += 1.0 / float(ranks.min())
                    else:
                        ranked = False  # a hit without a rank: scores written before ranks
                else:
                    ids = next((tuple(c) for c in qrows.context_ids if isinstance(c, list | tuple) and c), ())
                    missed.append(Missed(q.id, q.source or "", ids))
            n = len(named)
            out.append(RetrievalFigures(
                variant=v.name, set_id=qs.id, top_k=v.top_k, questions=n, hits=hits, recall_at_k=hits / n,
                mrr=rr_sum / n if ranked else None, reciprocal_ranks=rr_sum if ranked else None,
                no_source=len(asked) - n, missed=tuple(missed),
            ))  # fmt: skip
    return out


def _unscored(rows: pd.DataFrame) -> bool:
    """Passages were given but no answer's score says whether they held the source: the run is not scored."""
    given = any(isinstance(c, list | tuple) and c for c in rows.context_ids)
    return given and not rows.context_hit.notna().any()


def retrieval_json(figures: list[RetrievalFigures]) -> list[dict[str, object]]:
    """``summary.json``'s ``retrieval``: one object per variant and set, plain JSON types."""
    return [
        {
            "variant": f.variant, "set_id": f.set_id, "top_k": f.top_k, "questions": f.questions, "hits": f.hits,
            "hit_rate": f.hit_rate, "recall_at_k": f.recall_at_k, "mrr": f.mrr, "no_source": f.no_source,
            "missed": [{"question_id": m.question_id, "source": m.source, "retrieved": list(m.retrieved)}
                       for m in f.missed],
        }
        for f in figures
    ]  # fmt: skip
