"""Retrieval figures per variant and set: hit rate, recall@k and MRR against each question's ``source``."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from harness.records import Question, QuestionSet, Variant
from harness.rollup.retrieval import retrieval_figures, retrieval_json


def _set(set_id: str, sources: dict[str, str | None], documents: list[str] | None = None) -> QuestionSet:
    questions = [Question(id=i, category="c", question=f"{i}?", source=s) for i, s in sources.items()]
    return QuestionSet(id=set_id, title="t", language="zh", documents=documents or ["docs/sop.pdf"],
                       questions=questions)  # fmt: skip


def _row(variant: str, set_id: str, qid: str, ids: list[str], hit: bool | None, rank: int | None,
         candidate: str = "a", sample: int = 0) -> dict[str, Any]:  # fmt: skip
    return {"candidate": candidate, "variant": variant, "set_id": set_id, "question_id": qid, "sample": sample,
            "context_ids": ids or None, "context_hit": hit, "context_rank": rank}  # fmt: skip


VARIANTS = [Variant(name="zero_shot"), Variant(name="ctx2", kind="with_context", top_k=2),
            Variant(name="ctx4", kind="with_context", top_k=4)]  # fmt: skip
SOP = _set("sop", {"q1": "模具温度", "q2": "料筒温度", "q3": "注射压力", "q4": "停机", "q5": None})


def _answers() -> pd.DataFrame:
    rows = []
    for cand in ("a", "b"):  # two candidates, two samples: retrieval is the same, each question counts once
        for sample in (0, 1):
            rows += [
                _row("zero_shot", "sop", "q1", [], None, None, cand, sample),
                # ctx2: q1 first, q2 second, q3 missed (two other passages), q4 nothing found; q5 names no source
                _row("ctx2", "sop", "q1", ["sop#3", "sop#2"], True, 1, cand, sample),
                _row("ctx2", "sop", "q2", ["sop#3", "sop#2"], True, 2, cand, sample),
                _row("ctx2", "sop", "q3", ["sop#5", "sop#1"], False, None, cand, sample),
                _row("ctx2", "sop", "q4", [], None, None, cand, sample),
                _row("ctx2", "sop", "q5", ["sop#1", "sop#2"], None, None, cand, sample),
                # ctx4: q3 found fourth, the rest as above
                _row("ctx4", "sop", "q1", ["sop#3", "sop#2", "sop#1", "sop#4"], True, 1, cand, sample),
                _row("ctx4", "sop", "q2", ["sop#3", "sop#2", "sop#1", "sop#4"], True, 2, cand, sample),
                _row("ctx4", "sop", "q3", ["sop#5", "sop#1", "sop#2", "sop#4"], True, 4, cand, sample),
                _row("ctx4", "sop", "q4", [], None, None, cand, sample),
            ]
    return pd.DataFrame(rows)


def test_hit_rate_recall_and_mrr_per_variant_count_each_question_once() -> None:
    ctx2, ctx4 = retrieval_figures(_answers(), {"sop": SOP}, VARIANTS)
    # ctx2: 4 questions name a source (q5 does not); hits q1 (rank 1) and q2 (rank 2): 2/4
    assert (ctx2.variant, ctx2.set_id, ctx2.top_k, ctx2.questions, ctx2.hits) == ("ctx2", "sop", 2, 4, 2)
    assert ctx2.hit_rate == pytest.approx(0.5)
    assert ctx2.recall_at_k == pytest.approx(0.5)  # one source each: (1 + 1 + 0 + 0) / 4
    assert ctx2.mrr == pytest.approx((1 / 1 + 1 / 2 + 0 + 0) / 4)  # 0.375
    assert ctx2.reciprocal_ranks == pytest.approx(1.5)
    assert ctx2.no_source == 1
    assert [(m.question_id, m.source, m.retrieved) for m in ctx2.missed] == [
        ("q3", "注射压力", ("sop#5", "sop#1")), ("q4", "停机", ())]  # fmt: skip
    # ctx4: q5 was not asked there; q3 found fourth: 3/4, MRR (1 + 1/2 + 1/4 + 0) / 4 = 0.4375
    assert (ctx4.questions, ctx4.hits, ctx4.no_source) == (4, 3, 0)
    assert ctx4.mrr == pytest.approx(0.4375)
    assert [m.question_id for m in ctx4.missed] == ["q4"]


def test_no_figures_without_a_retrieval_variant_or_documents() -> None:
    answers = _answers()
    assert retrieval_figures(answers, {"sop": SOP}, [Variant(name="zero_shot")]) == []
    no_docs = SOP.model_copy(update={"documents": []})
    assert retrieval_figures(answers, {"sop": no_docs}, VARIANTS) == []
    assert retrieval_figures(answers.iloc[0:0], {"sop": SOP}, VARIANTS) == []


def test_scores_written_before_ranks_give_hits_but_no_mrr() -> None:
    old = _answers().drop(columns=["context_rank"])  # the frame adds the column only when a rank was recorded
    ctx2, _ = retrieval_figures(old, {"sop": SOP}, VARIANTS)
    assert (ctx2.hits, ctx2.questions, ctx2.mrr) == (2, 4, None)


def test_unscored_questions_are_left_out_not_counted_as_missed() -> None:
    answers = _answers()
    unscored = (answers.variant == "ctx2") & (answers.question_id == "q2")
    answers.loc[unscored, "context_hit"] = None
    answers.loc[unscored, "context_rank"] = None
    ctx2, _ = retrieval_figures(answers, {"sop": SOP}, VARIANTS)
    assert (ctx2.questions, ctx2.hits) == (3, 1)  # q1 hit; q3, q4 missed; q2 not scored


def test_summary_json_shape() -> None:
    ctx2, _ = retrieval_figures(_answers(), {"sop": SOP}, VARIANTS)
    (row,) = retrieval_json([ctx2])
    assert row["hit_rate"] == 0.5 and row["questions"] == 4 and row["hits"] == 2 and row["top_k"] == 2
    assert row["missed"][0] == {"question_id": "q3", "source": "注射压力", "retrieved": ["sop#5", "sop#1"]}
