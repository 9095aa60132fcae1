"""The dense retriever end to end: a demo checkpoint served by the real CPU vLLM's pooling runner as the
embedding model, asked through ``/v1/embeddings``, its vectors cached and used to rank passages.

One server start for the module (a pooling server cannot be the session's chat server).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from harness.inputs.dense import DenseIndex
from harness.inputs.embeddings import CachedEmbedder
from harness.inputs.retrieval import Passage
from harness.records import Embedding
from harness.server.embeddings import EmbeddingClient, embedding_server
from tests.support.files import SMOL, need_model
from tests.support.vllm import CPU_VLLM

pytestmark = pytest.mark.vllm

PASSAGES = [
    Passage("kb#1", "kb.md", "年假", "工龄满1年不满10年的员工，每年可休年假5天。"),
    Passage("kb#2", "kb.md", "加班", "工作日加班按1.5倍工资计算，可以调休代替。"),
    Passage("kb#3", "kb.md", "注塑", "ABS 料的模具温度设定为 60 ℃ ± 5 ℃。"),
]


@pytest.fixture(scope="module")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EmbeddingClient, float | None, Path]]:
    model = need_model(SMOL)
    folder = tmp_path_factory.mktemp("embedding")
    emb = Embedding(model=str(model), vllm=CPU_VLLM, batch_size=2)
    with embedding_server(emb, folder, folder / "embedding.vllm.log", timeout_s=600) as (client, start_s):
        yield client, start_s, folder


def test_a_demo_checkpoint_embeds_through_the_pooling_runner(
    embedder: tuple[EmbeddingClient, float | None, Path],
) -> None:
    client, start_s, folder = embedder
    texts = [p.text for p in PASSAGES]
    vectors = client.embed(texts)  # batch_size 2: two requests
    assert vectors.shape[0] == 3 and vectors.shape[1] == 576  # SmolLM2-135M's hidden size (config.json)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert start_s is not None and start_s > 0
    # the same text twice gives the same vector; a passage is its own nearest neighbour
    again = client.embed([texts[2]])[0]
    assert float(again @ vectors[2]) > 0.999
    idx = DenseIndex(PASSAGES, vectors)
    assert idx.search(vectors[1], 1)[0][0].id == "kb#2"
    # cached by (model, text): a second embedder over the same folder asks the server nothing
    first = CachedEmbedder("smol", client.embed, folder / "cache")
    first(texts)
    offline = CachedEmbedder("smol", None, folder / "cache")
    assert np.allclose(offline(texts), first(texts)) and offline.from_cache == 3
