"""Dense ranking and reciprocal rank fusion (pure): the ``dense`` and ``hybrid`` retrievers.

A dense retriever ranks passages by the cosine similarity of their embedding to the question's; the
vectors come from an embedding model (``harness.server.embeddings`` asks it, ``harness.inputs.embeddings``
caches them). The hybrid retriever fuses the BM25 ranking and the dense ranking by reciprocal rank
fusion (Cormack, Clarke & Büttcher, "Reciprocal Rank Fusion outperforms Condorcet and individual Rank
Learning Methods", SIGIR 2009), with their constant ``k = 60``:

    score(d) = Σ_i 1 / (k + rank_i(d))          rank_i counted from 1; a list that lacks d adds nothing

RRF reads ranks only, so BM25 scores (unbounded) and cosines (−1…1) need no common scale. BM25 leaves out
passages sharing no term with the question, so a passage only the dense list finds still gets its share.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

import numpy as np

from harness.inputs.retrieval import Passage

RRF_K = 60
"""Cormack, Clarke & Büttcher's constant: large enough that the top of one list does not drown the other."""
FUSION_DEPTH = 50
"""How far down each list hybrid fusion reads (at least ``top_k``): deeper ranks add under 1/110 each."""

T = TypeVar("T", bound=Hashable)


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Each row divided by its L2 norm, as float32 (shape kept: (n, d)); ValueError for a zero or non-finite row."""
    v = np.asarray(vectors, dtype=np.float64)
    if v.ndim != 2:
        raise ValueError(f"expected a (texts, dimension) array of vectors, got shape {v.shape}")
    norms = np.linalg.norm(v, axis=1)
    bad = np.flatnonzero(~np.isfinite(norms) | (norms == 0))
    if bad.size:
        raise ValueError(f"embedding {int(bad[0])} is zero or not finite: the model cannot rank with it")
    return (v / norms[:, None]).astype(np.float32)


class DenseIndex:
    """Passages with their unit vectors (rows of ``vectors``, in passage order), searched by cosine similarity."""

    def __init__(self, passages: Sequence[Passage], vectors: np.ndarray) -> None:
        self.passages = tuple(passages)
        self.vectors = unit_rows(vectors) if len(self.passages) else np.zeros((0, 0), np.float32)
        if self.vectors.shape[0] != len(self.passages):
            raise ValueError(f"{len(self.passages)} passages but {self.vectors.shape[0]} vectors")

    def search(self, query_vector: np.ndarray, k: int) -> list[tuple[Passage, float]]:
        """The ``k`` passages of highest cosine with ``query_vector`` (shape (d,)), best first; equal cosines keep
        passage order. Every passage has a cosine, so this returns ``min(k, passages)`` of them."""
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        if not self.passages or k == 0:
            return []
        q = unit_rows(np.asarray(query_vector).reshape(1, -1))[0]
        if q.shape[0] != self.vectors.shape[1]:
            raise ValueError(f"query vector has {q.shape[0]} dimensions, the passages {self.vectors.shape[1]}")
        cosines = self.vectors.astype(np.float64) @ q.astype(np.float64)
        order = np.argsort(-cosines, kind="stable")[:k]
        return [(self.passages[i], float(cosines[i])) for i in order]


def reciprocal_rank_fusion(rankings: Sequence[Sequence[T]], k: int = RRF_K) -> list[tuple[T, float]]:
    """Items of the ``rankings`` (each best first) by fused score ``Σ 1/(k + rank)``, best first.

    Equal fused scores keep the order in which the items first appear reading the lists one after the other
    (the first list whole, then the second), so with BM25 given first a tie goes to BM25's order. An item twice
    in one list counts at its best rank there. ValueError for ``k < 0``.
    """
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    scores: dict[T, float] = {}
    for ranking in rankings:
        seen: set[T] = set()
        for rank, item in enumerate(ranking, start=1):
            if item in seen:
                continue
            seen.add(item)
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda kv: -kv[1])  # stable: ties keep first appearance


def fuse_passages(
    bm25: Sequence[Passage], dense: Sequence[Passage], top_k: int, k: int = RRF_K
) -> list[tuple[Passage, float]]:
    """The ``top_k`` passages of the fused BM25 and dense rankings (BM25 first for ties), with their RRF scores."""
    return reciprocal_rank_fusion([list(bm25), list(dense)], k)[:top_k]
