"""make retrieval-figures: BM25, dense and hybrid retrieval on a question set, hit rate, recall@k and MRR.

Each retriever ranks the set's passages for each question that names a ``source`` (the run's own code:
``harness.inputs.variants.framings``), and each figure is computed as the report's Retrieval section
computes it (docs/knowledge-base.md, "Retrieval figures"). The embedding model is a local checkpoint that
vLLM's pooling runner serves (started here, stopped at the end) or ``--url`` of a running
``/v1/embeddings``; vectors are cached as a run caches them. Prints a Markdown table.

    python scripts/retrieval_figures.py [--set question_sets/kb/sample_kb_zh.yaml]
        [--model models/qwen2.5-coder-0.5b-instruct | --url http://host:port/v1 --name MODEL] [--top-k 1 3 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from harness.inputs.questions import load_question_set  # noqa: E402
from harness.inputs.retrieval import source_rank  # noqa: E402
from harness.inputs.variants import framings  # noqa: E402
from harness.records import Embedding, QuestionSet, Retriever, Variant  # noqa: E402
from harness.rundir import RunDir  # noqa: E402
from harness.server.embeddings import prepare_embedder  # noqa: E402

RETRIEVERS: tuple[Retriever, ...] = ("bm25", "dense", "hybrid")
CPU_ARGS = {
    "max_model_len": 2048, "enforce_eager": True, "env": {"VLLM_CPU_KVCACHE_SPACE": "1"},
    "extra_args": ["--no-enable-chunked-prefill", "--max-num-batched-tokens", "2048"],
}  # fmt: skip


@dataclass(frozen=True)
class Row:
    retriever: str
    top_k: int
    questions: int
    hits: int
    reciprocal_ranks: float

    @property
    def hit_rate(self) -> float:
        return self.hits / self.questions if self.questions else 0.0

    @property
    def mrr(self) -> float:
        return self.reciprocal_ranks / self.questions if self.questions else 0.0


def figures(set_path: Path, qs: QuestionSet, top_ks: list[int], embed: object) -> list[Row]:
    """One row per (retriever, top_k): hits and Σ 1/rank over the questions that name a source (pure but for I/O)."""
    variants = [Variant(name=f"{r}_{k}", kind="with_context", top_k=k, retriever=r) for r in RETRIEVERS for k in top_ks]
    framed = framings(variants, [(set_path, qs)], embed)  # type: ignore[arg-type]
    rows = []
    for v in variants:
        hits, rr, n = 0, 0.0, 0
        for q in qs.questions:
            if not q.source:
                continue
            n += 1
            f = framed[(v.name, qs.id, q.id)]
            rank = source_rank(f.context, len(f.passages), q.source)
            if rank is not None:
                hits += 1
                rr += 1 / rank
        rows.append(Row(v.retriever, v.top_k, n, hits, rr))
    return rows


def table(rows: list[Row]) -> str:
    lines = ["| retriever | k | hit rate | recall@k | MRR |", "|---|---|---|---|---|"]
    for r in rows:
        share = f"{r.hit_rate:.0%} ({r.hits}/{r.questions})"
        lines.append(f"| {r.retriever} | {r.top_k} | {share} | {r.hit_rate:.2f} | {r.mrr:.2f} |")
    return "\n".join(lines)


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", default=str(REPO / "question_sets/kb/sample_kb_zh.yaml"))
    ap.add_argument("--model", default=str(REPO / "models/qwen2.5-coder-0.5b-instruct"))
    ap.add_argument("--url", help="a running /v1/embeddings service instead of starting --model")
    ap.add_argument("--name", help="the model name the --url service serves (default: --model)")
    ap.add_argument("--top-k", type=int, nargs="+", default=[1, 3, 5])
    ap.add_argument("--max-model-len", type=int, default=2048, help="512 for a BERT-sized model (all-MiniLM-L6-v2)")
    args = ap.parse_args(argv)
    set_path = Path(args.set)
    qs, _ = load_question_set(set_path)
    if args.url:
        emb = Embedding(model=args.name or args.model, endpoint={"base_url": args.url})  # type: ignore[arg-type]
    else:
        vllm = {**CPU_ARGS, "max_model_len": args.max_model_len}
        vllm["extra_args"] = ["--no-enable-chunked-prefill", "--max-num-batched-tokens", str(args.max_model_len)]
        emb = Embedding(model=args.model, vllm=vllm)  # type: ignore[arg-type]
    variants = [Variant(name=f"dense_{k}", kind="with_context", top_k=k, retriever="dense") for k in args.top_k]
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        log = RunDir(Path(tmp)).server_log("embedding")
        embed, info = prepare_embedder(emb, variants, [(set_path, qs)], REPO, log, 600, _stderr)
    print(f"embedding model {info.model}: {info.served}, dimension {info.dimension}, {info.embedded} texts embedded, "
          f"{info.cached} cached, server start {info.start_s or 0:.1f} s, {time.monotonic() - t0:.1f} s in all",
          file=sys.stderr)  # fmt: skip
    print(table(figures(set_path, qs, args.top_k, embed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
