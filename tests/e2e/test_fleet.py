"""Several candidates at once on real vLLM servers: side by side on one node, and as tasks on a local Ray cluster.

No GPU here: side by side, `--gpus 2` hands out two GPU indices the CPU build ignores, so
the test checks what the harness controls (placement, pinning, separate measurements,
every record once). The Ray cluster runs on loopback with a custom resource,
``fake_gpu``, standing in for GPUs; one candidate's Ray worker is killed mid-run
and Ray's retry must resume it without losing or repeating an answer.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from harness.records import Generation, Phase
from harness.server.model_server import ModelServer
from harness.server.vllm_server import free_port
from harness.store import read_records
from tests.support.files import DATA, GEMMA, HARNESS, REPO, SMOL, need_model, write_yaml
from tests.support.vllm import CPU_VLLM, alive, vllm_servers, watch_tree

pytestmark = pytest.mark.vllm
KEY_ENV = "HARNESS_TEST_RAY_KEY"
RAY = Path(sys.executable).parent / "ray"  # the ray command of the venv running the tests


def _plan(tmp: Path, samples: dict[str, int]) -> Path:
    vllm = CPU_VLLM.model_dump(exclude_defaults=True)
    models = {"smol": str(need_model(SMOL)), "gemma": str(need_model(GEMMA))}
    return write_yaml(
        tmp / "plan.yaml",
        {
            "name": "fleet",
            "candidates": [{"name": n, "model": models[n], "vllm": vllm} for n in samples],
            "question_sets": [str(DATA / "sets" / "mini_en.yaml")],  # 4 questions
            "sampling": {"max_tokens": 16, "samples": max(samples.values())},
            "limits": {"concurrency": 2, "server_start_timeout_s": 600},
            "perf": {"sweep": None},
        },
    )


def _run_watched(cmd: list[str]) -> str:
    """Run ``cmd`` to a clean end (exit 0, no process of its tree left); returns its stderr."""
    proc = subprocess.Popen(cmd, cwd=REPO, stderr=subprocess.PIPE, text=True)
    seen: set[int] = set()
    stop = threading.Event()
    threading.Thread(target=watch_tree, args=(proc, seen, stop), daemon=True).start()
    _, err = proc.communicate(timeout=900)
    stop.set()
    assert proc.returncode == 0, err
    assert seen and alive(seen) == []
    return err


def test_side_by_side_each_candidate_on_its_own_gpus(tmp_path: Path) -> None:
    plan = _plan(tmp_path, {"smol": 2, "gemma": 2})
    run_dir = tmp_path / "run"
    cmd = [*HARNESS, "run", str(plan), "--run-dir", str(run_dir), "--no-report", "--quiet", "--gpus", "2"]
    _run_watched(cmd)

    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["fleet"] == {"mode": "side_by_side", "gpus": [0, 1]}
    pinned = {n: (c["placement"]["gpu_ids"], c["cuda_visible_devices"]) for n, c in manifest["candidates"].items()}
    assert sorted(pinned.values()) == [([0], "0"), ([1], "1")]
    keys = Counter(g.key for g in read_records(run_dir / "generations.jsonl", Generation))
    assert len(keys) == 16 and set(keys.values()) == {1}
    # both were served at once: their serving windows (server start to last answer) overlap
    phases = {p.candidate: p for p in read_records(run_dir / "phases.jsonl", Phase)}
    windows = [(p.started_at - (p.server_start_s or 0), p.ended_at) for p in phases.values()]
    assert max(w[0] for w in windows) < min(w[1] for w in windows)
    # measured per candidate: each its own server's memory
    perf = [json.loads(line) for line in (run_dir / "perf.jsonl").read_text().splitlines()]
    assert sorted(r["candidate"] for r in perf) == ["gemma", "smol"]
    assert all(r["memory"]["peak_rss_gib"] > 0.1 for r in perf)
    assert not (run_dir / "parts").exists()


@pytest.fixture(scope="module")
def ray_cluster(smol_server: ModelServer) -> Iterator[str]:
    """A one-node Ray cluster on loopback with 2 ``fake_gpu`` standing in for GPUs.

    Its workers get the session server's key by environment, as the nodes of a real
    cluster must hold the keys of endpoint candidates (the harness never ships them).
    """
    if not RAY.exists():
        pytest.fail(f"{RAY} is missing: make setup installs Ray (the 'ray' extra)")
    port = free_port()
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # Ray's socket paths must stay short
    head = subprocess.Popen(
        [str(RAY), "start", "--head", "--block", "--port", str(port), "--node-ip-address", "127.0.0.1",
         "--num-cpus", "2", "--resources", '{"fake_gpu": 2}', "--include-dashboard", "false",
         "--object-store-memory", "200000000", "--disable-usage-stats", "--temp-dir", temp],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        env={**os.environ, KEY_ENV: smol_server.api_key or ""},
    )  # fmt: skip
    address = f"127.0.0.1:{port}"
    status = [str(RAY), "status", "--address", address]
    deadline = time.monotonic() + 120
    while subprocess.run(status, capture_output=True).returncode != 0:
        assert head.poll() is None and time.monotonic() < deadline, "the Ray head did not start"
        time.sleep(1)
    yield address
    tree = [psutil.Process(head.pid), *psutil.Process(head.pid).children(recursive=True)]
    head.send_signal(signal.SIGTERM)
    _, left = psutil.wait_procs(tree, timeout=30)
    for p in left:
        p.kill()
    shutil.rmtree(temp, ignore_errors=True)


def _kill_worker_of(name: str, part_gens: Path, after: int, killed: list[int]) -> None:
    """SIGKILL the Ray worker serving ``name`` once its part holds ``after`` answers (its server dies with it)."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if part_gens.exists() and part_gens.read_text().count("\n") >= after:
            for server in vllm_servers(name):
                worker = server.parent()
                if worker is not None and worker.name().startswith("ray::"):
                    worker.kill()
                    killed.append(worker.pid)
                    return
        time.sleep(0.05)


def test_candidates_as_ray_tasks_and_a_killed_task_is_retried_exactly_once(tmp_path: Path, ray_cluster: str) -> None:
    plan = _plan(tmp_path, {"smol": 6, "gemma": 6})
    run_dir = tmp_path / "run"
    cmd = [*HARNESS, "run", str(plan), "--run-dir", str(run_dir), "--no-report", "--quiet",
           "--ray", ray_cluster, "--ray-gpu-resource", "fake_gpu"]  # fmt: skip
    killed: list[int] = []
    killer = threading.Thread(
        target=_kill_worker_of, args=("smol", run_dir / "parts" / "smol" / "generations.jsonl", 3, killed), daemon=True
    )
    killer.start()
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=1200)
    killer.join(timeout=5)
    assert done.returncode == 0, done.stderr
    assert killed, "the smol task was not killed mid-run"
    assert "[smol] attempt 2 on " in done.stderr and "of its answers are kept" in done.stderr

    gens = read_records(run_dir / "generations.jsonl", Generation)
    keys = Counter(g.key for g in gens)
    assert len(keys) == 2 * 4 * 6 and set(keys.values()) == {1} and all(g.ok for g in gens)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["fleet"] == {"mode": "ray", "nodes": 1, "gpus_per_node": 2, "gpu_resource": "fake_gpu"}
    assert manifest["candidates"]["smol"]["placement"]["attempts"] == 2
    assert manifest["candidates"]["gemma"]["placement"]["attempts"] == 1
    assert all(c["error"] is None for c in manifest["candidates"].values())
    # the retry asked only what the killed attempt had not written
    smol_phases = [p for p in read_records(run_dir / "phases.jsonl", Phase) if p.candidate == "smol"]
    assert len(smol_phases) == 1 and 3 <= 24 - smol_phases[0].requests < 24
    assert vllm_servers("smol") == [] and vllm_servers("gemma") == []
    assert not (run_dir / "parts").exists()

    # re-submitted: finished candidates are skipped without asking the cluster for anything
    again = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "[smol] all 24 answers already present" in again.stderr
    assert "[gemma] all 24 answers already present" in again.stderr
    assert "submitted to Ray" not in again.stderr
    assert len(read_records(run_dir / "generations.jsonl", Generation)) == 48


def test_a_task_that_fails_twice_fails_only_its_candidate(
    tmp_path: Path, ray_cluster: str, smol_server: ModelServer
) -> None:
    endpoint = {"base_url": smol_server.base_url, "api_key_env": KEY_ENV, "model": smol_server.model}
    plan = write_yaml(
        tmp_path / "plan.yaml",
        {
            "name": "ray-fail",
            "candidates": [{"name": n, "model": "smol", "endpoint": endpoint} for n in ("doomed", "fine")],
            "question_sets": [str(DATA / "sets" / "mini_en.yaml")],
            "sampling": {"max_tokens": 8},
            "perf": {"sweep": None},
        },
    )
    run_dir = tmp_path / "run"
    (run_dir / "parts").mkdir(parents=True)
    (run_dir / "parts" / "doomed").write_text("a file where the part directory must go: every attempt raises")
    cmd = [*HARNESS, "run", str(plan), "--run-dir", str(run_dir), "--no-report", "--quiet", "--ray", ray_cluster]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600, env={**os.environ, KEY_ENV: ""})
    assert done.returncode == 1, done.stderr
    error = json.loads((run_dir / "manifest.json").read_text())["candidates"]["doomed"]["error"]
    assert error.startswith("its Ray task failed, also when retried:") and "FileExistsError" in error, error
    assert "[doomed] failed: its Ray task failed" in done.stderr
    gens = read_records(run_dir / "generations.jsonl", Generation)
    assert Counter(g.candidate for g in gens) == {"fine": 4} and all(g.ok for g in gens)


def test_a_served_judge_and_an_endpoint_judge_grade_side_by_side(
    tmp_path: Path, smol_server: ModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The judges of a panel with ``--gpus 2``: gemma served by vLLM (CPU build) on index 0, pinned as a
    candidate would be, beside an endpoint judge (the session server) that needs no GPU."""
    monkeypatch.setenv(KEY_ENV, smol_server.api_key or "")
    endpoint = {"base_url": smol_server.base_url, "api_key_env": KEY_ENV, "model": smol_server.model}
    common = {"modes": ["single"], "max_tokens": 16, "retest_fraction": 0, "injection_answers": 0}
    vllm = CPU_VLLM.model_dump(exclude_defaults=True)
    served = {"name": "gemma-judge", "model": str(need_model(GEMMA)), "vllm": vllm, **common}
    plan = write_yaml(
        tmp_path / "plan.yaml",
        {
            "name": "judge-fleet",
            "candidates": [{"name": "smol", "model": "smol", "endpoint": endpoint}],
            "question_sets": [str(DATA / "sets" / "mini_en.yaml")],  # 4 questions, one sample each
            "sampling": {"max_tokens": 16},
            "limits": {"concurrency": 2, "server_start_timeout_s": 600},
            "perf": {"sweep": None},
            "judges": [served, {"name": "smol-judge", "model": "smol", "endpoint": endpoint, **common}],
            "panel": {"same_family": "allow"},  # smol-judge may grade the smol candidate
        },
    )
    run_dir = tmp_path / "run"
    cmd = [*HARNESS, "run", str(plan), "--run-dir", str(run_dir), "--no-report", "--quiet", "--gpus", "2"]
    err = _run_watched(cmd)
    assert "[judge gemma-judge] starting on GPUs [0]" in err
    assert "[judge smol-judge] starting on GPUs (none: endpoint)" in err

    judges = json.loads((run_dir / "manifest.json").read_text())["judges"]
    assert judges["gemma-judge"]["placement"]["gpu_ids"] == [0]
    assert judges["smol-judge"]["placement"]["gpu_ids"] is None
    assert judges["gemma-judge"]["placement"]["pid"] != judges["smol-judge"]["placement"]["pid"]
    assert all(e["error"] is None for e in judges.values())
    verdicts = [json.loads(line) for line in (run_dir / "judgments.jsonl").read_text().splitlines()]
    # one answer per question of mini_en's 4: each judge grades the 4 answers once
    assert Counter(j["judge"] for j in verdicts) == {"gemma-judge": 4, "smol-judge": 4}
    assert len({(j["judge"], j["key"]) for j in verdicts}) == 8
    assert (run_dir / "logs" / "gemma-judge.vllm.log").stat().st_size > 0  # the judge's server log, folded
    assert not (run_dir / "judge_parts").exists()
