"""The embedding client against a scripted /v1/embeddings, the vector cache, and what a run records of them."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import numpy as np
import pytest

from harness.inputs.embeddings import CachedEmbedder, EmbeddingsMissing, model_identity
from harness.records import Embedding, Endpoint
from harness.server.embeddings import EmbeddingClient, EmbeddingError, pooling_candidate, prepare_embedder


def _transport(bodies: list[dict], reply: object = None, status: int = 200) -> httpx.MockTransport:
    """Answers each request with one vector per input: (len(text), 1, 0, 0), in reversed index order."""

    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        bodies.append({"url": str(request.url), "auth": request.headers.get("authorization"), **body})
        if reply is not None:
            return httpx.Response(status, json=reply)
        data = [{"index": i, "embedding": [float(len(t)), 1.0, 0.0, 0.0]} for i, t in enumerate(body["input"])]
        return httpx.Response(status, json={"data": data[::-1]})  # out of order on purpose: the client sorts

    return httpx.MockTransport(handle)


def test_client_batches_orders_by_index_and_normalises() -> None:
    bodies: list[dict] = []
    client = EmbeddingClient("http://e/v1", "emb", "k1", batch_size=2, transport=_transport(bodies))
    v = client.embed(["a", "bbb", "cc"])
    # two requests: [a, bbb] then [cc]; each to /v1/embeddings with the model and the key
    assert [b["input"] for b in bodies] == [["a", "bbb"], ["cc"]]
    assert bodies[0]["url"] == "http://e/v1/embeddings" and bodies[0]["model"] == "emb"
    assert bodies[0]["auth"] == "Bearer k1"
    # (1,1,0,0)/√2, (3,1,0,0)/√10, (2,1,0,0)/√5: in the order given, though the server answered reversed
    expected = np.array([[1, 1, 0, 0] / np.sqrt(2), [3, 1, 0, 0] / np.sqrt(10), [2, 1, 0, 0] / np.sqrt(5)])
    assert v.shape == (3, 4) and v.dtype == np.float32
    assert np.allclose(v, expected, atol=1e-6)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-6)


@pytest.mark.parametrize(
    ("reply", "status", "message"),
    [
        ({"error": "model not found"}, 404, "answered HTTP 404"),
        ({"data": [{"index": 0, "embedding": [1.0]}]}, 200, "returned 1 vectors for 2 texts"),
        ({"object": "list"}, 200, "not an embeddings reply"),
        ({"data": [{"index": 0, "embedding": [0.0, 0.0]}, {"index": 1, "embedding": [1.0, 0.0]}]}, 200, "zero"),
        ({"data": [{"index": 0, "embedding": [1.0]}, {"index": 1, "embedding": [1.0, 0.0]}]}, 200, "differing"),
    ],
)
def test_client_refuses_what_is_not_one_vector_per_text(reply: object, status: int, message: str) -> None:
    client = EmbeddingClient("http://e/v1", "emb", transport=_transport([], reply, status))
    with pytest.raises(EmbeddingError, match=message):
        client.embed(["x", "y"])


def test_cache_embeds_each_text_once_across_runs(tmp_path: Path) -> None:
    bodies: list[dict] = []
    client = EmbeddingClient("http://e/v1", "emb", transport=_transport(bodies))
    first = CachedEmbedder("org/emb", client.embed, tmp_path)
    a = first(["甲", "乙乙", "甲"])
    assert [b["input"] for b in bodies] == [["甲", "乙乙"]]  # the repeated text is asked once
    assert first.embedded == 2 and first.from_cache == 0
    # a second run (a new process: nothing in memory) reads the folder and asks nothing
    second = CachedEmbedder("org/emb", client.embed, tmp_path)
    b = second(["乙乙", "甲"])
    assert len(bodies) == 1 and second.embedded == 0 and second.from_cache == 2
    assert np.array_equal(b, a[[1, 0]])
    # another model's vectors are kept apart: the same text is asked again
    CachedEmbedder("org/other", client.embed, tmp_path)(["甲"])
    assert [b["input"] for b in bodies][-1] == ["甲"]
    with pytest.raises(EmbeddingsMissing, match="1 texts have no vector of 'org/emb'"):
        CachedEmbedder("org/emb", None, tmp_path)(["丙"])


def test_an_unwritable_cache_keeps_vectors_in_memory(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    bodies: list[dict] = []
    cache = CachedEmbedder("m", EmbeddingClient("http://e/v1", "m", transport=_transport(bodies)).embed, blocked)
    cache(["x"])
    cache(["x"])
    assert len(bodies) == 1


def test_identity_and_pooling_server_arguments() -> None:
    assert model_identity(Embedding(model="BAAI/bge-m3", revision="abc")) == "BAAI/bge-m3@abc"
    cand = pooling_candidate(Embedding(model="models/q", vllm={"extra_args": ["--max-num-seqs", "8"]}))
    assert cand.vllm.extra_args == ["--max-num-seqs", "8", "--runner", "pooling", "--convert", "embed"]
    assert cand.model == "models/q"


def test_prepare_embedder_asks_only_for_missing_texts_of_an_endpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.inputs.questions import load_question_set
    from harness.records import Variant
    from harness.server import embeddings as mod
    from tests.support.files import DATA

    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    bodies: list[dict] = []
    real = mod.EmbeddingClient

    def mocked(*args: object, **kwargs: object) -> EmbeddingClient:
        return real(*args, transport=_transport(bodies), **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(mod, "EmbeddingClient", mocked)
    path = DATA / "sets" / "mini_zh.yaml"
    qs, _ = load_question_set(path)
    emb = Embedding(model="emb", endpoint=Endpoint(base_url="http://e/v1", model="served-emb"), batch_size=4)
    variants = [
        Variant(name="ctx", kind="with_context", retriever="hybrid"),
        Variant(name="zero_shot", kind="zero_shot"),
    ]
    _, info = prepare_embedder(emb, variants, [(path, qs)], tmp_path, tmp_path / "log", 5.0)
    sent = [t for b in bodies for t in b["input"]]
    assert bodies[0]["model"] == "served-emb"
    assert len(sent) == len(set(sent)) == info.embedded > len(qs.questions)  # passages and questions, once each
    assert info.served == "endpoint" and info.dimension == 4 and info.cached == 0
    again, info2 = prepare_embedder(emb, variants, [(path, qs)], tmp_path, tmp_path / "log", 5.0)
    assert sum(len(b["input"]) for b in bodies) == len(sent)  # nothing asked the second time
    assert info2.served == "cache" and info2.embedded == 0 and info2.cached == info.embedded
    assert again.fetch is None


def test_an_unreachable_endpoint_is_one_error_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.inputs.questions import load_question_set
    from harness.records import Variant
    from tests.support.files import DATA

    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    path = DATA / "sets" / "mini_zh.yaml"
    qs, _ = load_question_set(path)
    emb = Embedding(model="emb", endpoint=Endpoint(base_url="http://127.0.0.1:9/v1"))  # port 9 (discard): closed
    with pytest.raises(EmbeddingError, match=r"http://127.0.0.1:9/v1/embeddings: ConnectError"):
        prepare_embedder(emb, [Variant(name="ctx", kind="with_context", retriever="dense")], [(path, qs)],
                         tmp_path, tmp_path / "log", 5.0)  # fmt: skip
