"""The worked scaling estimate (scripts/scaling_estimate.py): placement simulation, arithmetic, the doc's figures."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from scaling_estimate import (
    Assumptions,
    Workload,
    estimate_plan,
    main,
    makespan_h,
    schedule,
    wall_times_h,
)

from harness.inputs.gpus import gpu
from harness.rollup.roofline import ModelShape, decode_roofline_tok_per_s
from harness.server.placement import Need

REPO = Path(__file__).resolve().parents[2]
PLAN = REPO / "configs" / "shortlist_h100.yaml"
DOC = REPO / "docs" / "scaling.md"
CANDIDATES = ["qwen2.5-7b", "llama3.1-8b", "mistral-7b-v0.3", "gemma2-9b", "qwen2.5-14b", "qwen2.5-32b",
              "llama3.3-70b", "qwen2.5-72b"]  # fmt: skip
WORK = Workload(questions=2000, samples=3, input_tokens=1200, output_tokens=300, concurrency=32)
ASSUME = Assumptions(decode_efficiency=0.5, prefill_tflops=400.0, server_start_s=None)

# Plan order: A 4 GPUs x 2 h, B 4 x 1 h, C 1 x 3 h, D 2 x 1 h.
JOBS = [(Need("A", 4), 2.0), (Need("B", 4), 1.0), (Need("C", 1), 3.0), (Need("D", 2), 1.0)]


def test_makespan_on_one_node_by_hand() -> None:
    # t=0: A on GPUs 0-3, B on 4-7; C and D wait. t=1: B ends, C starts on 4 (ends 4), D on 5-6 (ends 2).
    # t=2: A and D end. t=4: C ends.
    assert makespan_h(JOBS, nodes=1, gpus_per_node=8) == pytest.approx(4.0)
    starts = {s.need.candidate: (s.node, s.gpu_ids, s.start_h) for s in schedule(JOBS, 1, 8)}
    assert starts == {"A": (0, (0, 1, 2, 3), 0.0), "B": (0, (4, 5, 6, 7), 0.0), "C": (0, (4,), 1.0),
                      "D": (0, (5, 6), 1.0)}  # fmt: skip


def test_makespan_on_two_nodes_by_hand() -> None:
    # First fit across nodes: A and B fill node 0, C and D start on node 1 at once; C (3 h) is last.
    assert makespan_h(JOBS, nodes=2, gpus_per_node=8) == pytest.approx(3.0)
    assert {s.need.candidate: s.node for s in schedule(JOBS, 2, 8)} == {"A": 0, "B": 0, "C": 1, "D": 1}


def test_a_waiting_big_job_lets_later_small_ones_start() -> None:
    # place() backfills: the 8-GPU job waits while the 1-GPU job starts, and so waits for it too.
    jobs = [(Need("a", 4), 1.0), (Need("big", 8), 1.0), (Need("c", 1), 5.0)]
    assert makespan_h(jobs, 1, 8) == pytest.approx(6.0)
    assert makespan_h([], 1, 8) == 0.0


def test_impossible_fleets_are_refused() -> None:
    with pytest.raises(ValueError, match=r"A \(4 GPUs\).*2-GPU node"):
        makespan_h(JOBS, 1, 2)
    with pytest.raises(ValueError, match="--nodes 0"):
        makespan_h(JOBS, 0, 8)


@pytest.mark.parametrize("nodes", [1, 2, 3])
def test_gpu_hours_do_not_depend_on_placement_and_no_gpu_is_shared(nodes: int) -> None:
    slots = schedule(JOBS, nodes, 8)
    assert sum(s.need.gpus * (s.end_h - s.start_h) for s in slots) == pytest.approx(sum(n.gpus * h for n, h in JOBS))
    for s in slots:
        assert all(0 <= i < 8 for i in s.gpu_ids) and len(s.gpu_ids) == s.need.gpus
        for o in slots:
            if o is not s and o.node == s.node and o.start_h < s.end_h and s.start_h < o.end_h:
                assert not set(o.gpu_ids) & set(s.gpu_ids), f"{o.need} and {s.need} share a GPU"


def test_the_shortlist_costs_the_same_gpu_hours_whatever_the_placement() -> None:
    rows, usd = estimate_plan(PLAN, "H100-80GB", WORK, ASSUME)
    assert [r.candidate for r in rows] == CANDIDATES
    assert [r.tp for r in rows] == [1, 1, 1, 1, 1, 2, 4, 4]
    seq, side, two_nodes = wall_times_h(rows, nodes=2, gpus_per_node=8)
    assert seq >= side >= two_nodes > 0
    assert two_nodes == pytest.approx(max(r.hours for r in rows))  # 15 GPUs of 16: everything starts at once
    for nodes in (1, 2):
        slots = schedule([(Need(r.candidate, r.tp), r.hours) for r in rows], nodes, 8)
        assert sum(s.need.gpus * (s.end_h - s.start_h) for s in slots) == pytest.approx(sum(r.gpu_hours for r in rows))
    assert sum(r.usd for r in rows) == pytest.approx(sum(r.gpu_hours for r in rows) * usd)


def test_one_row_from_the_project_roofline() -> None:
    rows, _ = estimate_plan(PLAN, "H100-80GB", WORK, ASSUME)
    r = rows[0]
    shape = ModelShape.from_config(json.loads((REPO / "configs/shortlist/qwen2.5-7b.config.json").read_text()))
    assert r.roofline_out_tok_per_s == pytest.approx(decode_roofline_tok_per_s(shape, gpu("H100-80GB"), 1, 1350, 32))
    assert r.achieved_out_tok_per_s == pytest.approx(0.5 * r.roofline_out_tok_per_s)
    assert r.prefill_h * 3600 == pytest.approx(2 * shape.active_params * 1200 * 6000 / 400e12)
    assert r.decode_h * 3600 == pytest.approx(6000 * 300 / r.achieved_out_tok_per_s)
    assert r.start_h * 3600 == pytest.approx(90 + 4 * r.weights_gb)
    assert r.hours == pytest.approx(r.start_h + r.prefill_h + r.decode_h)


def _printed(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 0
    return capsys.readouterr().out


def test_main_prints_every_candidate(capsys: pytest.CaptureFixture[str]) -> None:
    out = _printed(capsys, ["--plan", str(PLAN)])
    table = [line.split("|")[1].strip() for line in out.splitlines() if line.startswith("| ") and "---" not in line]
    assert table == ["model", *CANDIDATES]
    assert "Total: " in out and out.count("Wall time") == 3


def test_main_names_the_problem(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--gpu", "L4"]) == 2
    assert "does not fit on 1 x L4" in capsys.readouterr().err


def test_the_doc_quotes_what_the_script_prints(capsys: pytest.CaptureFixture[str]) -> None:
    out = _printed(capsys, []).strip()
    doc = DOC.read_text(encoding="utf-8")
    assert ".venv/bin/python scripts/scaling_estimate.py\n" in doc
    assert out in doc, "docs/scaling.md: paste the script's output again"
    total = re.search(r"Total: ([\d.]+) GPU-hours, \$([\d.]+)", out)
    walls = re.findall(r"^- Wall time, .*: ([\d.]+) h$", out, re.MULTILINE)
    assert total and len(walls) == 3
    # Every figure the prose quotes in hours, GPU-hours or dollars is one the script printed.
    printed = set(re.findall(r"\d+(?:\.\d+)?", out))
    quoted = re.findall(r"(\d+(?:\.\d+)?) (?:h|GPU-hours)\b|\$(\d+(?:\.\d+)?)", doc)
    assert {a or b for a, b in quoted} <= printed
    assert {total[1], total[2], *walls} <= {a or b for a, b in quoted}
