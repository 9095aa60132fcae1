"""``harness run`` with a hybrid variant: the embedding endpoint asked once before the candidate, the passages
it ranks given to the answers, the manifest naming the model; a second run asks it nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.inputs.retrieval import Bm25Index, chunk_document
from harness.rundir import RunDir, load_manifest
from tests.support.fake_server import ANSWER, Reply, chunk, fake_server, sse_bytes
from tests.support.files import write_yaml

BODY = sse_bytes(chunk(ANSWER, "stop"), "[DONE]")
DOC = """# 手册

## 年假

工龄满1年的员工每年可休年假5天。

## 停机

停机前先泄压，再关闭液压泵。
"""


def _embed(body: bytes) -> Reply:
    # (1, 0) for a text about leave (休假 / 年假 / 假期), else (0, 1): the question about 假期 matches 年假 by meaning
    texts = json.loads(body)["input"]
    data = [{"index": i, "embedding": [1.0, 0.0] if "假" in t else [0.0, 1.0]} for i, t in enumerate(texts)]
    return Reply([(0.0, json.dumps({"data": data}).encode())], content_type="application/json")


def _plan(tmp: Path, emb_url: str, chat_url: str) -> Path:
    (tmp / "kb.md").write_text(DOC, encoding="utf-8")
    write_yaml(tmp / "set.yaml", {
        "id": "kb", "title": "kb", "language": "zh", "documents": ["kb.md"],
        "questions": [{"id": "leave", "category": "假期", "question": "带薪假期有多长？", "source": "年假5天",
                       "checks": [{"type": "number", "value": 5, "unit": "天"}]}],
    })  # fmt: skip
    return write_yaml(tmp / "plan.yaml", {
        "name": "dense", "question_sets": ["set.yaml"],
        "candidates": [{"name": "c", "model": "c", "api": "chat", "endpoint": {"base_url": chat_url}}],
        "embedding": {"model": "toy-emb", "endpoint": {"base_url": emb_url}},
        "variants": [{"name": "ctx", "kind": "with_context", "retriever": "hybrid", "top_k": 1}],
        "sampling": {"max_tokens": 16}, "limits": {"retries": 0}, "perf": {"sweep": None},
    })  # fmt: skip


def test_a_hybrid_run_embeds_once_ranks_with_the_vectors_and_records_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    with fake_server(answer=_embed) as emb, fake_server(lambda n: Reply([(0.0, BODY)])) as chat:
        plan = _plan(tmp_path, emb.base_url, chat.base_url)
        assert main(["run", str(plan), "--run-dir", str(tmp_path / "run"), "--no-report", "--quiet"]) == 0
        asked = [t for b in emb.requests for t in json.loads(b)["input"]]
        # the two passages (heading path + text) and the question, each once
        assert len(asked) == 3 and "带薪假期有多长？" in asked
        # BM25 alone finds no passage (no term in common); the dense list puts 年假 first (cosine 1 against 0),
        # so hybrid gives it: 1/61 from the dense list alone
        assert Bm25Index(chunk_document(DOC, "kb.md")).search("带薪假期有多长？", 1) == []
        gen = RunDir(tmp_path / "run").read_generations()[0]
        assert [p.heading for p in gen.passages] == ["年假"]
        manifest = load_manifest(tmp_path / "run")
        assert manifest is not None and manifest.embedding is not None
        e = manifest.embedding
        assert (e.model, e.served, e.dimension, e.embedded, e.cached) == ("toy-emb", "endpoint", 2, 3, 0)
        assert e.retrievers == {"ctx": "hybrid"}
        # a second run in a new directory reads the cache: the embedding endpoint is not asked again
        assert main(["run", str(plan), "--run-dir", str(tmp_path / "run2"), "--no-report", "--quiet"]) == 0
        assert len(emb.requests) == 1
        again = load_manifest(tmp_path / "run2")
        assert again is not None and again.embedding is not None
        assert (again.embedding.served, again.embedding.cached) == ("cache", 3)
