"""Fault injection with real processes: vLLM servers killed and stopped mid-run.

One `harness run` serves three candidates. While it runs, this test kills the
first candidate's vLLM server with SIGKILL once it has written a few answers,
and freezes the second one's whole process group with SIGSTOP (a hung server).
The third candidate (the session server, as an endpoint) must complete; the
first two must be marked failed with the reason, quickly; the report must show
the failures and count the missing answers; and the same command again must
finish the two failed candidates with every answer exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness.records import Generation, Phase
from harness.server.model_server import ModelServer
from harness.store import read_records
from tests.support.files import DATA, HARNESS, REPO, SMOL, need_model, write_yaml
from tests.support.vllm import CPU_VLLM, alive, vllm_servers, watch_tree

pytestmark = pytest.mark.vllm
KEY_ENV = "HARNESS_TEST_FAULT_KEY"
SETS = ["mini_en.yaml", "mini_zh.yaml"]  # 6 questions
SAMPLES = 4
EXPECTED = 6 * SAMPLES
UNRESPONSIVE_S = 8.0
AFTER_ANSWERS = 3


@dataclass
class FaultRun:
    run_dir: Path
    report_dir: Path
    cmd: list[str]
    env: dict[str, str]
    returncode: int
    stderr: str
    injected_at: dict[str, float] = field(default_factory=dict)
    """Candidate -> wall time its fault was injected."""
    process_tree: set[int] = field(default_factory=set)


def _inject(
    harness: subprocess.Popen[str], gens: Path, faults: dict[str, signal.Signals], at: dict[str, float]
) -> None:
    """Once a candidate has AFTER_ANSWERS answers, send its fault: SIGKILL to the server, SIGSTOP to its group."""
    while harness.poll() is None and len(at) < len(faults):
        counts = Counter(g.candidate for g in read_records(gens, Generation)) if gens.exists() else Counter()
        for name, sig in faults.items():
            if name in at or counts[name] < AFTER_ANSWERS:
                continue
            servers = vllm_servers(name)
            if not servers:
                continue
            server = servers[0]
            if sig == signal.SIGSTOP:
                os.killpg(os.getpgid(server.pid), signal.SIGSTOP)  # API server and EngineCore: all frozen
            else:
                server.send_signal(sig)
            at[name] = time.time()
        time.sleep(0.05)


@pytest.fixture(scope="module")
def fault_run(tmp_path_factory: pytest.TempPathFactory, smol_server: ModelServer) -> FaultRun:
    tmp = tmp_path_factory.mktemp("faults")
    model = str(need_model(SMOL))
    vllm = CPU_VLLM.model_dump(exclude_defaults=True)
    plan = write_yaml(
        tmp / "plan.yaml",
        {
            "name": "faults",
            "candidates": [
                {"name": "dies", "model": model, "vllm": vllm},
                {"name": "hangs", "model": model, "vllm": vllm},
                {
                    "name": "healthy",
                    "model": "smol",
                    "endpoint": {"base_url": smol_server.base_url, "api_key_env": KEY_ENV, "model": smol_server.model},
                },
            ],
            "question_sets": [str(DATA / "sets" / s) for s in SETS],
            "sampling": {"temperature": 0.0, "max_tokens": 48, "samples": SAMPLES},
            "limits": {
                "concurrency": 2, "request_timeout_s": 120, "retries": 2,
                "server_start_timeout_s": 600, "unresponsive_s": UNRESPONSIVE_S,
            },
            "perf": {"sweep": None},
        },
    )  # fmt: skip
    run_dir, report_dir = tmp / "run", tmp / "report"
    cmd = [*HARNESS, "run", str(plan), "--run-dir", str(run_dir), "--report-dir", str(report_dir), "--quiet"]
    env = {**os.environ, KEY_ENV: smol_server.api_key or ""}
    harness = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    run = FaultRun(run_dir, report_dir, cmd, env, 0, "")
    stop = threading.Event()
    threading.Thread(target=watch_tree, args=(harness, run.process_tree, stop), daemon=True).start()
    injector = threading.Thread(
        target=_inject,
        args=(
            harness,
            run_dir / "generations.jsonl",
            {"dies": signal.SIGKILL, "hangs": signal.SIGSTOP},
            run.injected_at,
        ),
        daemon=True,
    )
    injector.start()
    try:
        _, run.stderr = harness.communicate(timeout=1200)
    finally:
        stop.set()
        if harness.poll() is None:
            harness.kill()
    injector.join(timeout=5)
    run.returncode = harness.returncode
    return run


def _phases(run: FaultRun) -> dict[str, Phase]:
    return {p.candidate: p for p in read_records(run.run_dir / "phases.jsonl", Phase)}


def test_faults_landed_mid_run(fault_run: FaultRun) -> None:
    assert set(fault_run.injected_at) == {"dies", "hangs"}, fault_run.stderr
    counts = Counter(g.candidate for g in read_records(fault_run.run_dir / "generations.jsonl", Generation))
    assert AFTER_ANSWERS <= counts["dies"] < EXPECTED and AFTER_ANSWERS <= counts["hangs"] < EXPECTED


def test_a_killed_server_fails_its_candidate_fast_with_the_reason(fault_run: FaultRun) -> None:
    error = json.loads((fault_run.run_dir / "manifest.json").read_text())["candidates"]["dies"]["error"]
    assert (
        error.startswith("stopped after ") and f" of {EXPECTED} answers: the vLLM server was killed by SIGKILL" in error
    )
    phase = _phases(fault_run)["dies"]
    assert phase.error == error
    assert phase.ended_at - fault_run.injected_at["dies"] < 10, "requests to a dead server must fail fast"
    assert "[dies] failed: stopped after" in fault_run.stderr


def test_a_hung_server_times_out_instead_of_hanging_the_run(fault_run: FaultRun) -> None:
    error = json.loads((fault_run.run_dir / "manifest.json").read_text())["candidates"]["hangs"]["error"]
    assert f"the server stopped answering: /health gave no answer for {UNRESPONSIVE_S:g} s" in error
    waited = _phases(fault_run)["hangs"].ended_at - fault_run.injected_at["hangs"]
    assert UNRESPONSIVE_S <= waited < UNRESPONSIVE_S + 15


def test_the_other_candidate_completes_and_no_process_outlives_the_run(fault_run: FaultRun) -> None:
    assert fault_run.returncode == 1, fault_run.stderr
    gens = [g for g in read_records(fault_run.run_dir / "generations.jsonl", Generation) if g.candidate == "healthy"]
    assert len(gens) == EXPECTED and all(g.ok for g in gens)
    assert json.loads((fault_run.run_dir / "manifest.json").read_text())["candidates"]["healthy"]["error"] is None
    assert fault_run.process_tree and alive(fault_run.process_tree) == []  # the stopped server too


def test_the_report_shows_each_failure_and_counts_the_missing_answers(fault_run: FaultRun) -> None:
    gens = read_records(fault_run.run_dir / "generations.jsonl", Generation)
    summary = {m["candidate"]: m for m in json.loads((fault_run.report_dir / "summary.json").read_text())["models"]}
    html = (fault_run.report_dir / "index.html").read_text(encoding="utf-8")
    for name in ("dies", "hangs"):
        mine = [g for g in gens if g.candidate == name]
        missing = EXPECTED - len(mine)
        assert summary[name]["missing"] == missing > 0
        assert summary[name]["answers"] + summary[name]["failed"] == len(mine)
        assert (
            f'id="failed-{name}"><strong>{name} failed: {missing} of {EXPECTED} answers are missing.</strong>' in html
        )
        assert summary[name]["eligible"] is False
    assert summary["healthy"]["missing"] == 0
    assert "killed by SIGKILL" in html and "stopped answering" in html


def test_the_same_command_again_finishes_the_failed_candidates(fault_run: FaultRun) -> None:
    again = subprocess.run(fault_run.cmd, cwd=REPO, env=fault_run.env, capture_output=True, text=True, timeout=1200)
    assert again.returncode == 0, again.stderr
    gens = read_records(fault_run.run_dir / "generations.jsonl", Generation)
    keys = Counter(g.key for g in gens)
    assert len(keys) == 3 * EXPECTED and set(keys.values()) == {1}
    assert all(g.ok for g in gens)
    manifest = json.loads((fault_run.run_dir / "manifest.json").read_text())
    assert {n: c["error"] for n, c in manifest["candidates"].items()} == {"dies": None, "hangs": None, "healthy": None}
    assert "all 24 answers already present" in again.stderr  # the healthy candidate was not asked again
    assert 'id="failed-' not in (fault_run.report_dir / "index.html").read_text(encoding="utf-8")


def test_a_wrong_key_trips_the_breaker_instead_of_asking_every_question(
    tmp_path: Path, smol_server: ModelServer
) -> None:
    plan = write_yaml(
        tmp_path / "plan.yaml",
        {
            "name": "wrong-key",
            "candidates": [{
                "name": "smol", "model": "smol",
                "endpoint": {"base_url": smol_server.base_url, "api_key_env": KEY_ENV, "model": smol_server.model},
            }],
            "question_sets": [str(DATA / "sets" / s) for s in SETS],
            "sampling": {"samples": 10, "max_tokens": 8},
            "limits": {"concurrency": 1, "max_consecutive_failures": 5},
            "perf": {"sweep": None},
        },
    )  # fmt: skip
    run_dir = tmp_path / "run"
    env = {**os.environ, KEY_ENV: "not-the-key"}
    cmd = [*HARNESS, "run", str(plan), "--run-dir", str(run_dir), "--no-report", "--quiet"]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    gens = read_records(run_dir / "generations.jsonl", Generation)
    assert len(gens) == 5 and not any(g.ok for g in gens)  # 5 of 60 asked, all refused with 401
    error = json.loads((run_dir / "manifest.json").read_text())["candidates"]["smol"]["error"]
    assert error.startswith("stopped after 5 of 60 answers: 5 requests in a row failed") and "HTTP 401" in error
    assert "not-the-key" not in done.stderr + (run_dir / "manifest.json").read_text()
