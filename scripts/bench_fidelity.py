"""make bench-fidelity: the harness's load generator against vLLM's own, on one server.

The harness side is the sweep's load generator (``run_level_workers``).
Both replay the same chat prompts (the sample question sets) with the same
output length (ignore_eos), at the same concurrency, against one vLLM server,
interleaved round by round (the order alternates) after a warm-up of each. The
medians over rounds and the ratios harness / vLLM are printed and written to
``results/bench/fidelity.json``. Targets: output tok/s ratio >= 0.97; median
TTFT and TPOT within 5%.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from harness.inputs.prompts import user_text  # noqa: E402
from harness.inputs.questions import load_question_set  # noqa: E402
from harness.inputs.variants import framings  # noqa: E402
from harness.records import Candidate, Slo, Variant, VllmArgs  # noqa: E402
from harness.run.perf.loadgen import Level, LoadTarget, run_level_workers, timing  # noqa: E402
from harness.server.client import Request  # noqa: E402
from harness.server.model_server import ModelServer  # noqa: E402
from harness.server.vllm_server import start_vllm  # noqa: E402
from harness.timing import phase_stats  # noqa: E402

SETS = ["hr_policy_zh", "production_line_zh", "customer_support_en"]
METRICS = ("out_tok_per_s", "ttft_p50_ms", "tpot_p50_ms")


def prompts(n: int) -> list[str]:
    """The sample questions as the ``with_context`` variant asks them (top 3 retrieved passages + question)."""
    pool = []
    variant = Variant(name="with_context", kind="with_context", top_k=3)
    for name in SETS:
        path = REPO / "question_sets" / f"{name}.yaml"
        qs, _ = load_question_set(path)
        framed = framings([variant], [(path, qs)])
        pool += [user_text(qs, q, framed[(variant.name, qs.id, q.id)]) for q in qs.questions]
    return [pool[i % len(pool)] for i in range(n)]


def run_vllm(server: ModelServer, dataset: Path, args: argparse.Namespace, model_dir: str) -> dict[str, float]:
    from vllm.benchmarks.serve import add_cli_args, main
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    parser = FlexibleArgumentParser()
    add_cli_args(parser)
    port = server.base_url.split(":")[-1].split("/")[0]
    bench = parser.parse_args([
        "--backend", "openai-chat", "--endpoint", "/v1/chat/completions", "--host", "127.0.0.1", "--port", port,
        "--model", server.model, "--tokenizer", model_dir, "--dataset-name", "custom", "--dataset-path", str(dataset),
        "--custom-output-len", str(args.output_len), "--skip-chat-template", "--disable-shuffle",
        "--num-prompts", str(args.requests), "--max-concurrency", str(args.concurrency), "--request-rate", "inf",
        "--ignore-eos", "--temperature", "0", "--disable-tqdm", "--seed", "0",
    ])  # fmt: skip
    os.environ["OPENAI_API_KEY"] = server.api_key or ""
    with contextlib.redirect_stdout(io.StringIO()):
        result = main(bench)
    return {"out_tok_per_s": result["output_throughput"], "ttft_p50_ms": result["median_ttft_ms"],
            "tpot_p50_ms": result["median_tpot_ms"], "completed": result["completed"]}  # fmt: skip


def run_harness(server: ModelServer, texts: list[str], args: argparse.Namespace) -> dict[str, float]:
    requests = [Request(api="chat", messages=[{"role": "user", "content": t}], max_tokens=args.output_len,
                        temperature=0.0, ignore_eos=True) for t in texts]  # fmt: skip

    run = asyncio.run(run_level_workers(LoadTarget.on(server, 600), requests,
                                        Level("concurrency", args.concurrency)))  # fmt: skip
    timings = [timing(r) for r in run.results]
    stats = phase_stats(timings, run.wall_s, Slo())
    figures = {"out_tok_per_s": stats.out_tok_per_s, "ttft_p50_ms": stats.ttft_p50_ms, "tpot_p50_ms": stats.tpot_p50_ms}
    known = {m: v for m, v in figures.items() if v is not None}  # METRICS, each measured
    if len(known) < len(figures):
        raise SystemExit(f"the harness measured no {sorted(figures.keys() - known.keys())} at this level")
    return known | {"completed": len(timings) - stats.failed}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=str(REPO / "models" / "smollm2-135m-instruct"))
    p.add_argument("--requests", type=int, default=96)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--output-len", type=int, default=64)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--out", default=str(REPO / "results" / "bench" / "fidelity.json"))
    args = p.parse_args()
    texts = prompts(args.requests)
    cand = Candidate(name="bench", model=args.model, vllm=VllmArgs(
        max_model_len=4096, enforce_eager=True, env={"VLLM_CPU_KVCACHE_SPACE": "2"}))  # dtype auto  # fmt: skip
    rows: dict[str, list[dict[str, float]]] = {"vllm": [], "harness": []}
    with tempfile.TemporaryDirectory() as tmp, start_vllm(args.model, cand, Path(tmp) / "server.log", 600) as server:
        dataset = Path(tmp) / "prompts.jsonl"
        dataset.write_text(
            "".join(json.dumps({"prompt": t}, ensure_ascii=False) + "\n" for t in texts), encoding="utf-8"
        )
        print(f"server ready in {server.start_s:.0f} s; {args.requests} chat requests, concurrency {args.concurrency}, "
              f"{args.output_len} output tokens, {args.rounds} interleaved rounds", flush=True)  # fmt: skip
        run_vllm(server, dataset, args, args.model)  # warm-up
        run_harness(server, texts, args)
        for r in range(args.rounds):
            order = ("vllm", "harness") if r % 2 == 0 else ("harness", "vllm")
            for tool in order:
                t0 = time.perf_counter()
                got = (
                    run_vllm(server, dataset, args, args.model) if tool == "vllm" else run_harness(server, texts, args)
                )
                rows[tool].append(got)
                print(f"round {r + 1} {tool:8s} " + "  ".join(f"{m}={got[m]:.2f}" for m in METRICS)
                      + f"  ({time.perf_counter() - t0:.0f} s)", flush=True)  # fmt: skip
    med = {tool: {m: statistics.median(x[m] for x in runs) for m in METRICS} for tool, runs in rows.items()}
    ratio = {m: med["harness"][m] / med["vllm"][m] for m in METRICS}
    verdict = {
        "out_tok_per_s": ratio["out_tok_per_s"] >= 0.97,
        "ttft_p50_ms": abs(ratio["ttft_p50_ms"] - 1) <= 0.05,
        "tpot_p50_ms": abs(ratio["tpot_p50_ms"] - 1) <= 0.05,
    }
    print(f"\n{'metric':16s}{'vLLM bench':>14s}{'harness':>14s}{'ratio':>10s}  target")
    for m, target in zip(METRICS, (">= 0.97", "0.95-1.05", "0.95-1.05"), strict=True):
        print(f"{m:16s}{med['vllm'][m]:14.2f}{med['harness'][m]:14.2f}{ratio[m]:10.3f}  {target} "
              f"{'ok' if verdict[m] else 'MISSED'}")  # fmt: skip
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "settings": vars(args),
        "rounds": rows,
        "median": med,
        "ratio": ratio,
        "ok": {k: bool(v) for k, v in verdict.items()},
    }
    out.write_text(json.dumps(report, indent=2))
    print(f"\nwritten to {out}")
    return 0 if all(verdict.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
