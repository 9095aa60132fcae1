"""Asking an embedding model: ``POST /v1/embeddings`` (OpenAI-compatible: vLLM's pooling runner, TEI, hosted APIs).

:class:`EmbeddingClient` sends texts in batches and returns their vectors, L2-normalised, in order.
:func:`embedding_server` serves the plan's ``embedding`` model the way a candidate is served: started
with :func:`harness.server.vllm_server.start_vllm` in pooling mode, or attached to its ``endpoint``.
:func:`prepare_embedder` is what a run and ``harness context`` call before any candidate starts: it
embeds every passage and question the ``dense`` and ``hybrid`` variants need that the cache
(:mod:`harness.inputs.embeddings`) lacks, starting the model only when something is missing, and stops
it before returning.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from harness.inputs.dense import unit_rows
from harness.inputs.embeddings import CachedEmbedder, model_identity
from harness.inputs.knowledge_base import PlanKnowledgeBase
from harness.inputs.modelref import resolve_model
from harness.inputs.variants import embedding_texts
from harness.records import Candidate, Embedding, QuestionSet, Variant, VllmArgs
from harness.server.vllm_server import ServerStartError, start_vllm

POOLING_ARGS = ("--runner", "pooling", "--convert", "embed")
"""vLLM 0.32's flags that serve a checkpoint's pooled hidden states at ``/v1/embeddings`` (a decoder LM too)."""
SERVED_NAME = "embedding"


class EmbeddingError(RuntimeError):
    """The embedding service refused or answered something that is not one vector per text; one line."""


@dataclass(frozen=True)
class EmbeddingClient:
    """An OpenAI-compatible embeddings endpoint (``base_url`` ends in ``/v1``)."""

    base_url: str
    model: str
    api_key: str | None = None
    batch_size: int = 32
    timeout_s: float = 120.0
    transport: httpx.BaseTransport | None = None
    """For tests: an ``httpx.MockTransport`` instead of the network."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of ``texts``, shape (len(texts), d), float32, each of unit L2 norm, in the order given.

        One request per ``batch_size`` texts; the reply's ``data[].index`` puts them in order. EmbeddingError
        for an HTTP error, a reply without one vector per text, vectors of differing length, or a zero vector.
        """
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        rows: list[list[float]] = []
        with httpx.Client(timeout=self.timeout_s, headers=headers, transport=self.transport) as http:
            for start in range(0, len(texts), self.batch_size):
                batch = list(texts[start : start + self.batch_size])
                rows += self._batch(http, batch)
        if not rows:
            return np.zeros((0, 0), np.float32)
        if len({len(r) for r in rows}) > 1:
            raise EmbeddingError(f"{self.base_url}/embeddings returned vectors of differing lengths")
        try:
            return unit_rows(np.asarray(rows, dtype=np.float64))
        except ValueError as exc:
            raise EmbeddingError(f"{self.base_url}/embeddings: {exc}") from None

    def _batch(self, http: httpx.Client, batch: list[str]) -> list[list[float]]:
        url = f"{self.base_url.rstrip('/')}/embeddings"
        try:
            r = http.post(url, json={"model": self.model, "input": batch, "encoding_format": "float"})
        except httpx.HTTPError as exc:
            raise EmbeddingError(f"{url}: {type(exc).__name__}: {exc}") from None
        if r.status_code != 200:
            raise EmbeddingError(f"{url} answered HTTP {r.status_code}: {r.text[:300]}")
        try:
            data: Any = r.json()["data"]
            ordered = sorted(data, key=lambda d: int(d["index"]))
            vectors = [[float(x) for x in d["embedding"]] for d in ordered]
        except (ValueError, KeyError, TypeError) as exc:
            raise EmbeddingError(f"{url}: not an embeddings reply ({type(exc).__name__}: {exc})") from None
        if len(vectors) != len(batch):
            raise EmbeddingError(f"{url} returned {len(vectors)} vectors for {len(batch)} texts")
        return vectors


def pooling_candidate(emb: Embedding) -> Candidate:
    """The embedding model as a :class:`Candidate` that :func:`start_vllm` can start, pooling flags added."""
    extra = list(emb.vllm.extra_args)
    if "--runner" not in extra:
        extra += POOLING_ARGS
    vllm = VllmArgs.model_validate({**emb.vllm.model_dump(), "extra_args": extra})
    return Candidate(name=SERVED_NAME, model=emb.model, revision=emb.revision, vllm=vllm)


@contextlib.contextmanager
def embedding_server(
    emb: Embedding, base_dir: Path, log_path: Path, timeout_s: float
) -> Iterator[tuple[EmbeddingClient, float | None]]:
    """The plan's embedding model ready to ask, with its start time in seconds (None for an endpoint).

    Started (pooling runner, ``log_path`` holds its log) and stopped on leaving; or the ``endpoint``, whose
    API key is read from ``endpoint.api_key_env``. ServerStartError when it cannot be reached or started.
    """
    if emb.endpoint is not None:
        ep = emb.endpoint
        key = os.environ.get(ep.api_key_env) if ep.api_key_env else None
        if ep.api_key_env and key is None:
            raise ServerStartError(f"environment variable {ep.api_key_env} (the embedding endpoint's key) is not set")
        yield EmbeddingClient(ep.base_url.rstrip("/"), ep.model or emb.model, key, emb.batch_size), None
        return
    ref = str(resolve_model(base_dir, emb.model) or emb.model)
    with start_vllm(ref, pooling_candidate(emb), log_path, timeout_s) as server:
        client = EmbeddingClient(server.base_url, server.model, server.api_key, emb.batch_size)
        yield client, server.start_s


@dataclass(frozen=True)
class EmbeddingInfo:
    """What the manifest records of the embedding model a run's dense and hybrid variants used."""

    model: str
    """``model`` (``@revision``) as the plan names it: the cache's name for its vectors."""
    served: str
    """``started`` (vLLM pooling runner), ``endpoint``, or ``cache`` (every vector was cached: not asked)."""
    dimension: int | None
    embedded: int
    """Texts embedded this time."""
    cached: int
    """Texts whose vectors came from the cache."""
    start_s: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def prepare_embedder(
    emb: Embedding, variants: list[Variant], sets: list[tuple[Path, QuestionSet]], base_dir: Path,
    log_path: Path, timeout_s: float, log: Any = None, knowledge_base: PlanKnowledgeBase | None = None,
) -> tuple[CachedEmbedder, EmbeddingInfo]:  # fmt: skip
    """Embed every text the dense and hybrid ``variants`` need that the cache lacks; return a cache-only embedder.

    The model is started (or its endpoint asked) only when some text is missing, and stopped before this
    returns, so no candidate shares the machine with it. EmbeddingError when it cannot be started or reached,
    or answers something else than one vector per text.
    """
    texts = embedding_texts(variants, sets, knowledge_base)
    cache = CachedEmbedder(model_identity(emb))
    todo = cache.missing(texts)
    t0 = time.monotonic()
    start_s: float | None = None
    served = "cache"
    if todo:
        served = "endpoint" if emb.endpoint is not None else "started"
        if log is not None:
            log(f"[embedding] {len(todo)} of {len(texts)} texts to embed with {emb.model} ({served})")
        try:
            with embedding_server(emb, base_dir, log_path, timeout_s) as (client, start_s):
                cache.fetch = client.embed
                cache(todo)
        except ServerStartError as exc:
            raise EmbeddingError(
                f"the embedding model {emb.model} could not be reached (log: {log_path}): {exc}"
            ) from None
        finally:
            cache.fetch = None
        if log is not None:
            log(f"[embedding] done in {time.monotonic() - t0:.1f} s")
    vectors = cache(texts[:1]) if texts else None
    dim = int(vectors.shape[1]) if vectors is not None and vectors.size else None
    info = EmbeddingInfo(model_identity(emb), served, dim, len(todo), len(texts) - len(todo), start_s)
    return cache, info
