"""Dense ranking and reciprocal rank fusion on a small hand-made corpus; the retriever option of a plan."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.inputs.dense import DenseIndex, fuse_passages, reciprocal_rank_fusion, unit_rows
from harness.inputs.plan import load_plan
from harness.inputs.retrieval import Bm25Index, Passage
from harness.inputs.variants import SetDocuments, framings
from harness.records import Plan, Variant
from harness.validation import InputError
from tests.support.files import DATA, write_yaml

# Five passages of a moulding handbook; the vectors are 2-D directions chosen by hand (unit length not needed).
P = [
    Passage("sop#1", "sop.md", "ABS", "ABS 料筒温度 230 ℃"),
    Passage("sop#2", "sop.md", "ABS", "ABS 模具温度 60 ℃"),
    Passage("sop#3", "sop.md", "PP", "PP 料筒温度 210 ℃"),
    Passage("sop#4", "sop.md", "停机", "停机前先泄压"),
    Passage("sop#5", "sop.md", "点检", "油温过高时停机检查冷却水"),
]
VECTORS = np.array([[1.0, 0.0], [0.8, 0.6], [0.6, 0.8], [0.0, 1.0], [0.0, 2.0]])
# cosines with the query direction (1, 0): 1.0, 0.8, 0.6, 0.0, 0.0 (sop#5 is (0, 2): same cosine as sop#4)


def test_dense_ranks_by_cosine_and_keeps_passage_order_for_ties() -> None:
    idx = DenseIndex(P, VECTORS)
    found = idx.search(np.array([3.0, 0.0]), 5)  # a query's length does not matter, only its direction
    assert [p.id for p, _ in found] == ["sop#1", "sop#2", "sop#3", "sop#4", "sop#5"]
    assert [round(s, 6) for _, s in found] == [1.0, 0.8, 0.6, 0.0, 0.0]
    # towards (0, 1): cosines 0, 0.6, 0.8, 1, 1 -> sop#4 and sop#5 tie at 1 and keep passage order
    assert [p.id for p, _ in idx.search(np.array([0.0, 1.0]), 3)] == ["sop#4", "sop#5", "sop#3"]
    assert idx.search(np.array([1.0, 0.0]), 0) == []


def test_dense_refuses_vectors_it_cannot_rank_with() -> None:
    with pytest.raises(ValueError, match="embedding 1 is zero"):
        unit_rows(np.array([[1.0, 0.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="5 passages but 4 vectors"):
        DenseIndex(P, VECTORS[:4])
    with pytest.raises(ValueError, match="3 dimensions, the passages 2"):
        DenseIndex(P, VECTORS).search(np.array([1.0, 0.0, 0.0]), 2)


def test_rrf_sums_reciprocal_ranks_with_k() -> None:
    # a: ranks 1 and 3 -> 1/61 + 1/63 = 0.032267; b: ranks 2 and 1 -> 1/62 + 1/61 = 0.032522;
    # c: rank 3 in the first list only -> 1/63 = 0.015873; d: rank 2 in the second only -> 1/62 = 0.016129.
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["b", "d", "a"]])
    assert [x for x, _ in fused] == ["b", "a", "d", "c"]
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)
    assert fused[1][1] == pytest.approx(1 / 61 + 1 / 63)
    # k = 0: a = 1/1 + 1/3 = 1.333, b = 1/2 + 1/1 = 1.5, c = 1/3, d = 1/2
    fused0 = dict(reciprocal_rank_fusion([["a", "b", "c"], ["b", "d", "a"]], k=0))
    assert fused0 == pytest.approx({"a": 1 + 1 / 3, "b": 1 / 2 + 1, "c": 1 / 3, "d": 1 / 2})


def test_rrf_k_decides_between_one_first_place_and_two_middling_ranks() -> None:
    # x is first in list 1 only; y is third in both. k=60: x = 1/61 = 0.01639 < y = 2/63 = 0.03175.
    # k=0: x = 1/1 = 1 > y = 2/3. So k decides whether agreement or one strong vote wins.
    lists = [["x", "z", "y"], ["w", "v", "y"]]
    assert reciprocal_rank_fusion(lists)[0][0] == "y"
    # x and w tie at k=0 (1 each): the tie goes to the first list's item
    assert [i for i, _ in reciprocal_rank_fusion(lists, k=0)][:2] == ["x", "w"]
    with pytest.raises(ValueError, match="k must be >= 0"):
        reciprocal_rank_fusion(lists, k=-1)


def test_rrf_ties_follow_first_appearance_and_duplicates_count_once() -> None:
    # p at rank 1 in list 1, q at rank 1 in list 2: 1/61 each; p was seen first.
    assert [i for i, _ in reciprocal_rank_fusion([["p"], ["q"]])] == ["p", "q"]
    assert [i for i, _ in reciprocal_rank_fusion([["q"], ["p"]])] == ["q", "p"]
    # "a" twice in one list counts at its best rank only: 1/61, not 1/61 + 1/63
    assert dict(reciprocal_rank_fusion([["a", "b", "a"]]))["a"] == pytest.approx(1 / 61)


def test_hybrid_gives_a_passage_only_the_dense_list_finds() -> None:
    # BM25 finds sop#1 and sop#3 (they share 料筒温度 with the question); the embedding finds sop#2 first.
    bm25 = [P[0], P[2]]
    dense = [P[1], P[0], P[2], P[3], P[4]]
    # sop#1: 1/61 + 1/62 = 0.032526; sop#3: 1/62 + 1/63 = 0.031998; sop#2: 1/61 = 0.016393 (dense only);
    # sop#4: 1/64; sop#5: 1/65.
    fused = fuse_passages(bm25, dense, top_k=3)
    assert [p.id for p, _ in fused] == ["sop#1", "sop#3", "sop#2"]
    assert fused[2][1] == pytest.approx(1 / 61)


def _docs() -> SetDocuments:
    def embed(texts: list[str]) -> np.ndarray:  # a toy embedding: does the text speak of 模具 or not
        return np.array([[1.0, 0.0] if "模具" in t else [0.0, 1.0] for t in texts])

    return SetDocuments(P, Bm25Index(P), DenseIndex(P, embed([p.text for p in P])), embed)  # type: ignore[arg-type]


def test_each_retriever_of_a_variant_on_one_question() -> None:
    docs = _docs()
    q = "模具 要多热"  # BM25: shares 模具 with sop#2 only
    v = Variant(name="ctx", kind="with_context", top_k=2)
    assert [p.id for p in docs.search(v, q)] == ["sop#2"]  # BM25 leaves out passages sharing no term
    dense = v.model_copy(update={"retriever": "dense"})
    # cosines: sop#2 1, the others 0 (tie, passage order)
    assert [p.id for p in docs.search(dense, q)] == ["sop#2", "sop#1"]
    hybrid = v.model_copy(update={"retriever": "hybrid"})
    # sop#2: 1/61 + 1/61; then sop#1 at dense rank 2: 1/62
    assert [p.id for p in docs.search(hybrid, q)] == ["sop#2", "sop#1"]
    bare = SetDocuments(P, Bm25Index(P))
    with pytest.raises(ValueError, match="retriever dense needs the plan's embedding model"):
        bare.search(dense, q)


def test_framings_refuse_a_dense_variant_without_an_embedder() -> None:
    path = DATA / "sets" / "mini_zh.yaml"
    from harness.inputs.questions import load_question_set

    qs, _ = load_question_set(path)
    with pytest.raises(ValueError, match="needs the plan's embedding model"):
        framings([Variant(name="ctx", kind="with_context", retriever="dense")], [(path, qs)])


def _plan(tmp_path: Path, **extra: object) -> Path:
    plan = {"name": "p", "candidates": [{"name": "a", "model": "org/m"}],
            "question_sets": [str(DATA / "sets" / "mini_zh.yaml")], **extra}  # fmt: skip
    return write_yaml(tmp_path / "plan.yaml", plan)


def test_validate_refuses_dense_and_hybrid_without_an_embedding_model(tmp_path: Path) -> None:
    for retriever in ("dense", "hybrid"):
        path = _plan(tmp_path, variants=[{"name": "ctx", "kind": "with_context", "retriever": retriever}])
        with pytest.raises(InputError) as exc:
            load_plan(path)
        text = str(exc.value)
        # block YAML: name 1, candidates 2-4, question_sets 5-6, variants 7, name 8, kind 9, retriever 10
        assert f"plan.yaml:10: variants[0].retriever: retriever {retriever} needs an embedding model" in text
        assert "`embedding: {model: PATH_OR_HUB_ID}`" in text
        assert len([line for line in text.splitlines() if "needs an embedding model" in line]) == 1
    path = _plan(tmp_path, variants=[{"name": "fs", "kind": "few_shot", "retriever": "dense"}],
                 embedding={"model": "org/emb"})  # fmt: skip
    with pytest.raises(InputError, match="only a with_context variant retrieves"):
        load_plan(path)
    path = _plan(tmp_path, variants=[{"name": "ctx", "kind": "with_context", "retriever": "cosine"}])
    with pytest.raises(InputError, match="retriever"):
        load_plan(path)


def test_a_plan_with_dense_and_its_embedding_model_loads_and_bm25_plans_save_as_before(tmp_path: Path) -> None:
    path = _plan(tmp_path, variants=[{"name": "ctx", "kind": "with_context", "retriever": "hybrid"}],
                 embedding={"model": "org/emb", "endpoint": {"base_url": "http://h:1/v1"}})  # fmt: skip
    lp = load_plan(path)
    assert lp.plan.variants[0].retriever == "hybrid" and lp.plan.embedding is not None
    assert lp.plan.embedding.endpoint is not None and lp.plan.embedding.batch_size == 32
    plain = Plan.model_validate({"name": "p", "candidates": [{"name": "a", "model": "m"}], "question_sets": ["s"],
                                 "variants": ["zero_shot", "with_context"]})  # fmt: skip
    dumped = plain.model_dump(mode="json")["variants"]
    assert all("retriever" not in v for v in dumped)  # a BM25 plan is saved as before the option existed
    assert lp.plan.model_dump(mode="json")["variants"][0]["retriever"] == "hybrid"


def test_harness_context_shows_the_retriever_and_the_passages_it_ranks() -> None:
    from harness.inputs.preview import context_preview, format_preview
    from harness.inputs.questions import load_question_set

    path = DATA / "sets" / "mini_zh.yaml"
    qs, _ = load_question_set(path)
    asked: list[str] = []

    def embed(texts: list[str]) -> np.ndarray:  # every text the same direction: dense ranks in passage order
        asked.extend(texts)
        return np.ones((len(texts), 3))

    v = Variant(name="ctx", kind="with_context", retriever="dense", top_k=1)
    items = context_preview(path, qs, [v], qs.questions[:1], embed=embed)
    text = format_preview(qs, items)
    assert "(with_context, top_k 1, chunk_chars 300, retriever dense)" in text
    first = items[0].framing.passages[0]
    assert first.id.endswith("#1")  # all cosines equal: the first passage in document order
    assert qs.questions[0].question in asked  # the question was embedded, as the run embeds it
