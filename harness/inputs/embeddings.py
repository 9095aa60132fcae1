"""Embedding vectors kept on disk by (model, sha256 of the text), so a re-run never embeds a text twice.

The folder is the document cache's neighbour (``harness.inputs.documents.cache``): ``$HARNESS_CACHE_DIR/
embeddings``, else ``$XDG_CACHE_HOME/harness/embeddings``, else ``~/.cache/harness/embeddings``; one
sub-folder per model (the sha256 of its name and revision), one ``<sha256 of text>.npy`` per text (float32,
unit length). A folder that cannot be written is skipped: the vectors are then kept in memory only.

Asking the model is the server layer's (``harness.server.embeddings``): :class:`CachedEmbedder` takes its
``fetch`` function, or none at all, and then only reads the cache (a fleet worker, after the session
embedded everything).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from harness.inputs.dense import unit_rows
from harness.inputs.documents.cache import default_cache_dir
from harness.inputs.retrieval import Passage
from harness.records import Embedding
from harness.store import atomic_write_bytes

Fetch = Callable[[Sequence[str]], np.ndarray]
"""Texts -> their vectors, shape (len(texts), d), in order (``harness.server.embeddings.EmbeddingClient.embed``)."""


class EmbeddingsMissing(LookupError):
    """Texts have no cached vector and no model was given to embed them."""


def embeddings_dir() -> Path:
    """Where vectors are kept: the ``embeddings`` folder beside the document cache's ``documents``."""
    return default_cache_dir().parent / "embeddings"


def model_identity(emb: Embedding) -> str:
    """What names a model's vectors in the cache: its ``model`` as the plan writes it, with ``@revision``."""
    return f"{emb.model}@{emb.revision}" if emb.revision else emb.model


def passage_text(p: Passage) -> str:
    """What is embedded of a passage: its heading path and text, as BM25 indexes them."""
    return f"{p.heading}\n{p.text}" if p.heading else p.text


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class CachedEmbedder:
    """Texts -> unit vectors (n, d) float32: from memory, then the cache folder, then ``fetch`` (one call for
    all the missing texts), storing what ``fetch`` returned. ``embedded`` and ``from_cache`` count texts."""

    def __init__(self, identity: str, fetch: Fetch | None = None, folder: Path | None = None) -> None:
        self.identity = identity
        self.folder = (folder or embeddings_dir()) / _sha(identity)[:32]
        self.fetch = fetch
        self.embedded = 0
        self.from_cache = 0
        self._memory: dict[str, np.ndarray] = {}

    def _read(self, key: str) -> np.ndarray | None:
        if key in self._memory:
            return self._memory[key]
        try:
            vec = np.load(self.folder / f"{key}.npy", allow_pickle=False)
        except (OSError, ValueError):
            return None
        self._memory[key] = vec
        return vec

    def _keep(self, key: str, vec: np.ndarray) -> None:
        self._memory[key] = vec
        buf = io.BytesIO()
        np.save(buf, vec, allow_pickle=False)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(self.folder / f"{key}.npy", buf.getvalue())
        except OSError:
            pass

    def missing(self, texts: Sequence[str]) -> list[str]:
        """The distinct texts with no vector yet, in first-seen order."""
        return list(dict.fromkeys(t for t in texts if self._read(_sha(t)) is None))

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        todo = self.missing(texts)
        self.from_cache += len(set(texts)) - len(todo)
        if todo:
            if self.fetch is None:
                raise EmbeddingsMissing(
                    f"{len(todo)} texts have no vector of {self.identity!r} in {self.folder}; run `harness run` "
                    "(or `harness context --plan`) on this host first, or point HARNESS_CACHE_DIR at a shared folder"
                )
            vectors = unit_rows(self.fetch(todo))
            if vectors.shape[0] != len(todo):
                raise ValueError(f"the embedding model returned {vectors.shape[0]} vectors for {len(todo)} texts")
            for text, vec in zip(todo, vectors, strict=True):
                self._keep(_sha(text), vec)
            self.embedded += len(todo)
        rows = [self._read(_sha(t)) for t in texts]
        dims = {r.shape for r in rows if r is not None}
        if len(dims) > 1:
            raise ValueError(
                f"cached vectors of {self.identity!r} differ in shape {sorted(dims)}; delete {self.folder}"
            )
        return np.stack([r for r in rows if r is not None]) if rows else np.zeros((0, 0), np.float32)


def cache_only(emb: Embedding) -> CachedEmbedder:
    """An embedder that reads the cache and never asks a model (:class:`EmbeddingsMissing` for a missing text)."""
    return CachedEmbedder(model_identity(emb))
