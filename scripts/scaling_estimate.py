"""Wall time and GPU-hours of evaluating a shortlist on a GPU fleet, from the plan and the project's own models.

Per candidate, serving time = server start + prefill + decode:

* decode: answers x output tokens at ``decode_efficiency`` x the memory-bandwidth roofline of
  :mod:`harness.rollup.roofline`, at the plan's concurrency and the mean context of a decode step
  (input + output / 2 tokens);
* prefill: 2 FLOPs x active parameters x input tokens per answer, at ``prefill_tflops`` per GPU x tp;
* start: loading weights and warming up, 90 s + 4 s per GB of weights unless ``--server-start-s`` is given.

Prefill and decode are added, not overlapped (vLLM interleaves them, so this errs long). GPU-hours =
hours x tp whatever the placement; wall time is simulated with the harness's own first-fit placement
(:func:`harness.server.placement.place`). Judge grading, the load sweep and lm-eval are not counted.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.inputs.gpus import GPU, gpu
from harness.inputs.plan import load_plan
from harness.rollup.estimate import DEFAULT_CONTEXT, config_path
from harness.rollup.roofline import ModelShape, decode_roofline_tok_per_s, fit, weight_bytes
from harness.server.placement import Need, place, too_big
from harness.validation import InputError

REPO = Path(__file__).resolve().parent.parent
START_BASE_S, START_S_PER_GB = 90.0, 4.0


@dataclass(frozen=True)
class Workload:
    questions: int
    samples: int
    input_tokens: int
    """Prompt tokens per answer (question + retrieved passages)."""
    output_tokens: int
    """Mean answer length, tokens."""
    concurrency: int

    @property
    def answers(self) -> int:
        return self.questions * self.samples


@dataclass(frozen=True)
class Assumptions:
    decode_efficiency: float
    """Achieved share of the decode roofline (once measured: the report's "% of roofline" / 100)."""
    prefill_tflops: float
    """Effective dense TFLOP/s per GPU during prefill."""
    server_start_s: float | None
    """None: START_BASE_S + START_S_PER_GB x weights GB."""


@dataclass(frozen=True)
class ModelCost:
    candidate: str
    tp: int
    weights_gb: float
    roofline_out_tok_per_s: float
    achieved_out_tok_per_s: float
    start_h: float
    prefill_h: float
    decode_h: float
    hours: float
    gpu_hours: float
    usd: float


@dataclass(frozen=True)
class Slot:  # one job of the placement simulation: where and when it ran
    need: Need
    node: int
    gpu_ids: tuple[int, ...]
    start_h: float
    end_h: float


def model_cost(
    name: str, shape: ModelShape, g: GPU, tp: int, usd_per_gpu_hour: float, work: Workload, assume: Assumptions
) -> ModelCost:
    """Hours, GPU-hours and dollars of one candidate answering ``work`` on ``tp`` GPUs of type ``g``."""
    weights_gb = weight_bytes(shape) / 1e9
    context = work.input_tokens + work.output_tokens // 2
    roofline = decode_roofline_tok_per_s(shape, g, tp, context, work.concurrency)
    achieved = roofline * assume.decode_efficiency
    prefill_s = 2 * shape.active_params * work.input_tokens * work.answers / (assume.prefill_tflops * 1e12 * tp)
    decode_s = work.answers * work.output_tokens / achieved
    start_s = assume.server_start_s if assume.server_start_s is not None else START_BASE_S + START_S_PER_GB * weights_gb
    hours = (start_s + prefill_s + decode_s) / 3600
    return ModelCost(name, tp, weights_gb, roofline, achieved, start_s / 3600, prefill_s / 3600, decode_s / 3600,
                     hours, hours * tp, hours * tp * usd_per_gpu_hour)  # fmt: skip


def schedule(jobs: Sequence[tuple[Need, float]], nodes: int, gpus_per_node: int) -> list[Slot]:
    """Event simulation of ``harness run --gpus`` (one node) or ``--ray`` (several): start whatever
    :func:`place` admits, node by node in plan order (first fit across nodes), advance to the next
    finish, free its GPUs, repeat. ``jobs`` = (need, hours) in plan order."""
    if nodes < 1:
        raise ValueError(f"--nodes {nodes}: give at least one node")
    big = ", ".join(f"{n.candidate} ({n.gpus} GPUs)" for n in too_big([n for n, _ in jobs], gpus_per_node))
    if big:
        raise ValueError(f"{big} does not fit on one {gpus_per_node}-GPU node; multi-node serving is not simulated")
    free = [list(range(gpus_per_node)) for _ in range(nodes)]
    waiting, running, done, now = list(range(len(jobs))), list[Slot](), list[Slot](), 0.0
    while waiting or running:
        for node in range(nodes):
            for need, ids in place([jobs[i][0] for i in waiting], free[node]):
                i = next(i for i in waiting if jobs[i][0] is need)
                waiting.remove(i)
                free[node] = [x for x in free[node] if x not in ids]
                running.append(Slot(need, node, tuple(ids), now, now + jobs[i][1]))
        now = min(s.end_h for s in running)
        for s in [s for s in running if s.end_h <= now]:
            running.remove(s)
            free[s.node] += s.gpu_ids
            done.append(s)
    return done


def makespan_h(jobs: list[tuple[Need, float]], nodes: int, gpus_per_node: int) -> float:
    """Hours from the first start to the last finish when ``jobs`` run side by side (see :func:`schedule`)."""
    return max((s.end_h for s in schedule(jobs, nodes, gpus_per_node)), default=0.0)


def estimate_plan(plan: Path, gpu_name: str, work: Workload, assume: Assumptions) -> tuple[list[ModelCost], float]:
    """Every candidate's cost, and the USD per GPU-hour of ``gpu_name`` (the plan's price, else the table's)."""
    lp = load_plan(plan)
    g = gpu(gpu_name)
    table_usd = lp.plan.perf.gpu_prices_usd_per_hour.get(g.name, g.price_usd_per_hour)
    rows = []
    for cand in lp.plan.candidates:
        path = config_path(lp, cand)
        if path is None or not path.is_file():
            raise ValueError(f"{plan}: candidate {cand.name} has no config.json; set config_json in the plan")
        shape = ModelShape.from_config(json.loads(path.read_text(encoding="utf-8")))
        context = cand.vllm.max_model_len or DEFAULT_CONTEXT
        needed = fit(shape, g, context, work.concurrency, max_tp=max(cand.gpus, 8))
        if needed is None or needed > cand.gpus:
            raise ValueError(
                f"{plan}: {cand.name} does not fit on {cand.gpus} x {g.name} at context {context} x "
                f"concurrency {work.concurrency}; raise its vllm.tensor_parallel_size (harness estimate)"
            )
        usd = cand.price_per_gpu_hour_usd or table_usd
        rows.append(model_cost(cand.name, shape, g, cand.gpus, usd, work, assume))
    return rows, table_usd


def wall_times_h(rows: Sequence[ModelCost], nodes: int, gpus_per_node: int) -> tuple[float, float, float]:
    """(one after another on one node, side by side on one node, side by side on ``nodes`` nodes)."""
    jobs = [(Need(r.candidate, r.tp), r.hours) for r in rows]
    return sum(r.hours for r in rows), makespan_h(jobs, 1, gpus_per_node), makespan_h(jobs, nodes, gpus_per_node)


def report(rows: Sequence[ModelCost], usd_per_gpu_hour: float, gpu_name: str, work: Workload,
           assume: Assumptions, nodes: int, gpus_per_node: int) -> str:  # fmt: skip
    """The Markdown the script prints: assumptions, per-model table, totals, three wall times."""
    start = (f"{assume.server_start_s:.0f} s" if assume.server_start_s is not None
             else f"{START_BASE_S:.0f} s + {START_S_PER_GB:.0f} s per GB of weights")  # fmt: skip
    lines = [
        f"{work.questions} questions x {work.samples} samples = {work.answers} answers per model on {gpu_name}, "
        f"concurrency {work.concurrency}.",
        f"Assumed: {work.input_tokens} input + {work.output_tokens} output tokens per answer; decode at "
        f"{assume.decode_efficiency:.2f} of the roofline; prefill at {assume.prefill_tflops:.0f} TFLOP/s per GPU; "
        f"server start {start}.",
        "From the plan and the project: tp, weights, decode roofline, price.",
        "",
        "| model | tp | weights GB | roofline tok/s | achieved tok/s | start h | prefill h | decode h | hours "
        "| GPU-hours | $ |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r.candidate} | {r.tp} | {r.weights_gb:.1f} | {r.roofline_out_tok_per_s:.0f} | "
                     f"{r.achieved_out_tok_per_s:.0f} | {r.start_h:.2f} | {r.prefill_h:.2f} | {r.decode_h:.2f} | "
                     f"{r.hours:.2f} | {r.gpu_hours:.2f} | {r.usd:.2f} |")  # fmt: skip
    seq, side, cluster = wall_times_h(rows, nodes, gpus_per_node)
    lines += [
        "",
        f"- Total: {sum(r.gpu_hours for r in rows):.2f} GPU-hours, ${sum(r.usd for r in rows):.2f} "
        f"(at ${usd_per_gpu_hour:.2f} per {gpu_name} GPU-hour)",
        f"- Wall time, one after another on one {gpus_per_node}-GPU node: {seq:.2f} h",
        f"- Wall time, side by side on one {gpus_per_node}-GPU node (harness run --gpus {gpus_per_node}): {side:.2f} h",
        f"- Wall time, {nodes} nodes x {gpus_per_node} GPUs (harness run --ray): {cluster:.2f} h",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    ap.add_argument("--plan", type=Path, default=REPO / "configs" / "shortlist_h100.yaml")
    ap.add_argument("--gpu", default="H100-80GB")
    ap.add_argument("--questions", type=int, default=2000)
    ap.add_argument("--samples", type=int, default=3)
    ap.add_argument("--input-tokens", type=int, default=1200, help="prompt tokens per answer (assumed)")
    ap.add_argument("--output-tokens", type=int, default=300, help="mean answer tokens (assumed)")
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--decode-efficiency", type=float, default=0.5, help="achieved share of the roofline (assumed)")
    ap.add_argument("--prefill-tflops", type=float, default=400.0, help="per GPU, prefill (assumed)")
    ap.add_argument("--server-start-s", type=float, default=None, help="default: 90 s + 4 s per GB of weights")
    ap.add_argument("--nodes", type=int, default=2)
    ap.add_argument("--gpus-per-node", type=int, default=8)
    a = ap.parse_args(argv)
    work = Workload(a.questions, a.samples, a.input_tokens, a.output_tokens, a.concurrency)
    assume = Assumptions(a.decode_efficiency, a.prefill_tflops, a.server_start_s)
    try:
        rows, usd = estimate_plan(a.plan, a.gpu, work, assume)
        print(report(rows, usd, gpu(a.gpu).name, work, assume, a.nodes, a.gpus_per_node))
    except (InputError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
