"""Placement of candidates on GPUs, part directories and fleet options (no vLLM, no Ray cluster)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.parts import fold_all, fold_part, part_dir
from harness.records import Candidate, Endpoint, VllmArgs
from harness.run.fleet import fleet_from_args
from harness.server.placement import FleetError, Need, need_of, parse_gpus, place, too_big
from harness.server.vllm_server import vllm_command
from harness.server.workers import cluster_gpus_per_node, multi_node, pinned


def _cand(name: str, tp: int = 1, pp: int = 1, **kw: object) -> Candidate:
    return Candidate(name=name, model="m", vllm=VllmArgs(tensor_parallel_size=tp, pipeline_parallel_size=pp), **kw)


def test_a_candidate_needs_tensor_times_pipeline_gpus_and_an_endpoint_none() -> None:
    assert need_of(_cand("a", tp=4, pp=2)) == Need("a", 8)
    hosted = _cand("h", tp=8, endpoint=Endpoint(base_url="http://10.0.0.5:8000/v1"))
    assert need_of(hosted) == Need("h", 0) and hosted.gpus == 8  # its cost still counts 8 GPUs
    cmd = vllm_command("m", _cand("a", tp=4, pp=2), 8000, None)
    assert cmd[cmd.index("--tensor-parallel-size") + 1] == "4"
    assert cmd[cmd.index("--pipeline-parallel-size") + 1] == "2"
    assert "--pipeline-parallel-size" not in vllm_command("m", _cand("b"), 8000, None)


def test_place_is_first_fit_in_plan_order_and_backfills() -> None:
    waiting = [Need("70b", 4), Need("8b", 1), Need("big", 8), Need("7b", 1), Need("ep", 0)]
    placed = place(waiting, free=[0, 1, 2, 3, 4, 5, 6, 7])
    assert [(n.candidate, ids) for n, ids in placed] == [
        ("70b", [0, 1, 2, 3]), ("8b", [4]), ("7b", [5]), ("ep", []),
    ]  # fmt: skip
    # "big" waits for all 8; once the others end it starts alone
    assert place([Need("big", 8)], free=[3, 1, 0, 2, 7, 6, 5, 4]) == [(Need("big", 8), [0, 1, 2, 3, 4, 5, 6, 7])]
    assert place([Need("big", 8)], free=[0, 1, 2]) == []
    assert too_big(waiting, node_gpus=4) == [Need("big", 8)]


def test_pinned_and_multi_node_candidates() -> None:
    c = pinned(_cand("a", tp=2), [2, 3])
    assert c.vllm.env == {"CUDA_DEVICE_ORDER": "PCI_BUS_ID", "CUDA_VISIBLE_DEVICES": "2,3"}
    m = multi_node(_cand("huge", tp=8, pp=4), "10.0.0.1:6379")
    assert m.vllm.extra_args[-2:] == ["--distributed-executor-backend", "ray"]
    assert m.vllm.env["RAY_ADDRESS"] == "10.0.0.1:6379"


@pytest.mark.parametrize(
    ("spec", "detected", "ids"),
    [("4", None, [0, 1, 2, 3]), ("0,2,3", None, [0, 2, 3]), ("auto", 2, [0, 1]), (" 1 ", None, [0])],
)
def test_parse_gpus(spec: str, detected: int | None, ids: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert parse_gpus(spec, detected) == ids


def test_parse_gpus_follows_cuda_visible_devices_and_refuses_nonsense(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,5")
    assert parse_gpus("auto", 8) == [4, 5]
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    for spec, words in [("auto", "no GPU found"), ("two", "expected auto, a count"), ("0,0", "repeated"),
                        ("0", "at least one GPU"), ("-1,2", "no negative")]:  # fmt: skip
        with pytest.raises(ValueError, match=words):
            parse_gpus(spec, None)


def test_fleet_options() -> None:
    assert fleet_from_args(None, None, None) is None
    f = fleet_from_args("0,1", None, None)
    assert f is not None and f.gpus == [0, 1] and f.ray_address is None
    r = fleet_from_args(None, "10.0.0.1:6379", "fake_gpu")
    assert r is not None and r.ray_address == "10.0.0.1:6379" and r.ray_gpu_resource == "fake_gpu"
    with pytest.raises(FleetError, match="do not go together"):
        fleet_from_args("2", "10.0.0.1:6379", None)
    with pytest.raises(FleetError, match="needs --ray"):
        fleet_from_args(None, None, "fake_gpu")
    with pytest.raises(FleetError, match="expected auto"):
        fleet_from_args("many", None, None)


def test_cluster_gpus_per_node_counts_alive_nodes_only() -> None:
    nodes = [
        {"Alive": True, "Resources": {"GPU": 8.0, "CPU": 96.0}},
        {"Alive": False, "Resources": {"GPU": 16.0}},
        {"Alive": True, "Resources": {"CPU": 8.0}},
    ]
    assert cluster_gpus_per_node(nodes, "GPU") == 8
    assert cluster_gpus_per_node(nodes, "fake_gpu") == 0


def _gen(key: str) -> str:
    return json.dumps({"key": key, "candidate": "a"}) + "\n"


def test_fold_part_adds_each_record_once_and_survives_a_torn_line(tmp_path: Path) -> None:
    run = tmp_path / "run"
    part = part_dir(run, "a")
    (part / "logs").mkdir(parents=True)
    (part / "lm_eval" / "a").mkdir(parents=True)
    run.joinpath("generations.jsonl").write_text(_gen("a/s/q1/0"))
    (part / "generations.jsonl").write_text(_gen("a/s/q1/0") + _gen("a/s/q2/0") + '{"key": "a/s/q3')  # torn by a kill
    (part / "phases.jsonl").write_text('{"candidate": "a", "requests": 1}\n')
    (part / "logs" / "a.vllm.log").write_text("second session\n")
    run.joinpath("logs").mkdir()
    run.joinpath("logs", "a.vllm.log").write_text("first session\n")
    (part / "lm_eval" / "a" / "done.json").write_text("{}")
    assert fold_part(run, "a") == 1
    assert run.joinpath("generations.jsonl").read_text() == _gen("a/s/q1/0") + _gen("a/s/q2/0")
    assert run.joinpath("phases.jsonl").read_text() == '{"candidate": "a", "requests": 1}\n'
    assert run.joinpath("logs", "a.vllm.log").read_text() == "first session\nsecond session\n"
    assert run.joinpath("lm_eval", "a", "done.json").exists()
    assert not (run / "parts").exists()


def test_folding_again_after_a_crash_mid_fold_adds_nothing_twice(tmp_path: Path) -> None:
    run = tmp_path / "run"
    part = part_dir(run, "a")
    part.mkdir(parents=True)
    lines = _gen("k1") + _gen("k2")
    (part / "generations.jsonl").write_text(lines)
    (part / "perf.jsonl").write_text('{"candidate": "a"}\n')
    run.joinpath("generations.jsonl").write_text(lines)  # a crash after appending, before the part was removed
    run.joinpath("perf.jsonl").write_text('{"candidate": "a"}\n')
    assert fold_all(run) == {"a": 0}
    assert run.joinpath("generations.jsonl").read_text() == lines
    assert run.joinpath("perf.jsonl").read_text().count("\n") == 1
    assert fold_all(run) == {}


def test_fleet_is_checked_before_anything_is_written(tmp_path: Path) -> None:
    from harness.inputs.plan import LoadedPlan
    from harness.records import Plan
    from harness.run.fleet import Fleet, check_fleet, reachable
    from harness.server.vllm_server import free_port

    plan = Plan.model_validate({
        "name": "p", "question_sets": ["x.yaml"],
        "candidates": [{"name": "a", "model": "m"}, {"name": "b", "model": "m", "vllm": {"tensor_parallel_size": 4}}],
    })  # fmt: skip
    lp = LoadedPlan(tmp_path / "plan.yaml", plan, [], [])
    check_fleet(lp, Fleet(gpus=[0, 1, 2, 3]))
    with pytest.raises(FleetError, match=r"--gpus gives 2 GPUs, fewer than b \(4\) needs"):
        check_fleet(lp, Fleet(gpus=[0, 1]))
    with pytest.raises(FleetError, match=r"cannot reach the Ray cluster at 127\.0\.0\.1:"):
        check_fleet(lp, Fleet(ray_address=f"127.0.0.1:{free_port()}"))
    with pytest.raises(FleetError, match="expected HOST:PORT"):
        reachable("head-node")


def test_harness_judge_checks_only_that_the_judges_fit(tmp_path: Path) -> None:
    from harness.inputs.plan import LoadedPlan
    from harness.records import Plan
    from harness.run.fleet import Fleet, check_fleet

    plan = Plan.model_validate({
        "name": "p", "question_sets": ["x.yaml"],
        "candidates": [{"name": "b", "model": "m", "vllm": {"tensor_parallel_size": 4}}],
        "judges": [{"name": "j", "model": "m", "vllm": {"tensor_parallel_size": 2}}],
    })  # fmt: skip
    lp = LoadedPlan(tmp_path / "plan.yaml", plan, [], [])
    check_fleet(lp, Fleet(gpus=[0, 1]), judges_only=True)  # the 4-GPU candidate is not served by harness judge
    with pytest.raises(FleetError, match=r"--gpus gives 2 GPUs, fewer than b \(4\) needs"):
        check_fleet(lp, Fleet(gpus=[0, 1]))  # harness run serves both
    with pytest.raises(FleetError, match=r"--gpus gives 1 GPUs, fewer than j \(2\) needs"):
        check_fleet(lp, Fleet(gpus=[0]), judges_only=True)


def test_sweep_levels_done_in_the_run_are_not_run_again_in_a_part(tmp_path: Path) -> None:
    from harness.records import LoadLevel
    from harness.run.perf.sweep import levels_done
    from harness.rundir import LOADTEST
    from harness.store import JsonlAppender

    def level(cand: str, level_id: str) -> LoadLevel:
        return LoadLevel(candidate=cand, level_id=level_id, kind="concurrency", value=1, started_at=0, wall_s=1,
                         requests=[])  # fmt: skip

    run = tmp_path / "run"
    with JsonlAppender(run / LOADTEST) as out:  # a sequential session got through c1 before it was stopped
        out.append(level("a", "c1"))
        out.append(level("b", "c8"))
    with JsonlAppender(part_dir(run, "a") / LOADTEST) as out:  # then a side-by-side session did c8
        out.append(level("a", "c8"))
    assert levels_done("a", part_dir(run, "a")) == {"c8"}
    assert levels_done("a", part_dir(run, "a"), run) == {"c1", "c8"}
