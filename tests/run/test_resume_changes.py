"""Nothing silently mixed, nothing lost, between two sessions of one run.

A question set edited between sessions: exactly the questions whose text, context or
framing changed are asked (and judged) again, the rest are kept, and the run says so;
a question removed from its set does not stop `harness judge`. Memory and /metrics
figures from every session of a run are merged into the report, not just the latest.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.perf_records import GpuSummary, MemorySummary, MetricsSummary, PerfRecord, ServerLogFacts
from harness.rollup.sessions import merge_sessions
from tests.support.fake_server import ANSWER, Reply, chunk, fake_server, sse_bytes
from tests.support.files import write_yaml

CANDIDATE = Reply([(0.0, sse_bytes(chunk(ANSWER, "stop"), "[DONE]"))])
JUDGE = Reply([(0.0, sse_bytes(chunk("评分：8", "stop"), "[DONE]"))])


def question(qid: str, text: str) -> dict:
    return {"id": qid, "category": "安全", "question": text, "checks": [{"type": "number", "value": 5, "unit": "天"}]}


def write_set(root: Path, questions: list[dict], context: str | None = None) -> None:
    qs = {"id": "s", "title": "安全", "language": "zh", "questions": questions}
    write_yaml(root / "set.yaml", {**qs, **({"context": context} if context else {})})


def write_plan(root: Path, cand_url: str, judge_url: str | None = None) -> Path:
    plan: dict = {
        "name": "edits",
        "candidates": [{"name": "other", "model": "other", "api": "chat", "endpoint": {"base_url": cand_url}}],
        "question_sets": ["set.yaml"],
        "sampling": {"max_tokens": 16},
        "limits": {"retries": 0},
        "perf": {"sweep": None},
    }
    if judge_url:
        plan["judge"] = {"model": "j", "api": "chat", "modes": ["single"], "retest_fraction": 0,
                         "injection_answers": 0, "endpoint": {"base_url": judge_url}}  # fmt: skip
    return write_yaml(root / "plan.yaml", plan)


def lines(path: Path) -> list[dict]:
    return [json.loads(ln) for ln in path.read_text("utf-8").splitlines()]


A, B, C = question("a", "年假几天？"), question("b", "病假几天？"), question("c", "婚假几天？")


def session(root: Path, cand_url: str, judge_url: str | None = None) -> int:
    plan = write_plan(root, cand_url, judge_url)
    return main(["run", str(plan), "--run-dir", str(root / "run"), "--no-report", "--quiet"])


def test_a_reworded_question_is_asked_again_the_rest_kept_a_removed_one_judged_without_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_set(tmp_path, [A, B, C])
    with fake_server(lambda n: CANDIDATE) as cand, fake_server(lambda n: JUDGE) as judge:
        assert session(tmp_path, cand.base_url, judge.base_url) == 0
        assert (len(cand.requests), len(judge.requests)) == (3, 3)
        first = {g["key"]: g for g in lines(tmp_path / "run" / "generations.jsonl")}
        # a reworded, b untouched, c removed, d added
        write_set(tmp_path, [question("a", "员工每年有几天带薪年假？"), B, question("d", "丧假几天？")])
        capsys.readouterr()
        assert session(tmp_path, cand.base_url, judge.base_url) == 0
        assert len(cand.requests) == 3 + 2  # a again, d new; b kept
        assert len(judge.requests) == 3 + 2  # a's new answer and d's; b's verdict kept, c's question is gone
    err = capsys.readouterr().err
    assert "1 question changed since an earlier session of this run (text, context or framing): " in err
    assert "their 1 answers are asked again (s/a); the other answers are kept" in err
    gens = lines(tmp_path / "run" / "generations.jsonl")
    keys = [g["key"] for g in gens]
    assert sorted(keys) == ["other/s/a/0", "other/s/b/0", "other/s/c/0", "other/s/d/0"]  # each once
    by_key = {g["key"]: g for g in gens}
    assert by_key["other/s/b/0"] == first["other/s/b/0"]  # kept as it was
    assert by_key["other/s/a/0"]["question_digest"] != first["other/s/a/0"]["question_digest"]
    judged = sorted(j["question_id"] for j in lines(tmp_path / "run" / "judgments.jsonl"))
    assert judged == ["a", "b", "c", "d"]  # c's verdict from the first session stays on file, not re-asked
    # a removed question does not stop the judge (it was a StopIteration)
    assert main(["judge", str(tmp_path / "run"), "--quiet"]) == 0
    # the manifest now describes the set as this session asked it: re-scoring notes no change
    assert main(["score", str(tmp_path / "run")]) == 0
    assert "changed since the run" not in capsys.readouterr().err
    assert main(["report", str(tmp_path / "run"), "--out", str(tmp_path / "rep")]) == 0


def test_a_changed_set_context_asks_every_question_again(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_set(tmp_path, [A, B], context="公司：甲厂")
    with fake_server(lambda n: CANDIDATE) as cand:
        assert session(tmp_path, cand.base_url) == 0
        write_set(tmp_path, [A, B], context="公司：乙厂")
        assert session(tmp_path, cand.base_url) == 0
        assert len(cand.requests) == 2 + 2
        write_set(tmp_path, [A, B], context="公司：乙厂")  # the same again: nothing asked
        assert session(tmp_path, cand.base_url) == 0
        assert len(cand.requests) == 4
    assert "2 questions changed" in capsys.readouterr().err
    assert len(lines(tmp_path / "run" / "generations.jsonl")) == 2


def test_answers_recorded_before_digests_existed_are_kept(tmp_path: Path) -> None:
    write_set(tmp_path, [A])
    with fake_server(lambda n: CANDIDATE) as cand:
        assert session(tmp_path, cand.base_url) == 0
        gens = tmp_path / "run" / "generations.jsonl"
        old = [{k: v for k, v in g.items() if k != "question_digest"} for g in lines(gens)]
        gens.write_text("".join(json.dumps(g, ensure_ascii=False) + "\n" for g in old), "utf-8")
        write_set(tmp_path, [question("a", "年假有几天？")])
        assert session(tmp_path, cand.base_url) == 0
        assert len(cand.requests) == 1  # no digest to compare: the answer stands


# ---------------------------------------------------------------- memory and metrics over sessions


def record(started: float, memory: MemorySummary | None, metrics: MetricsSummary | None,
           server: ServerLogFacts | None = None) -> PerfRecord:  # fmt: skip
    return PerfRecord(
        candidate="m", started_at=started, memory=memory, metrics=metrics, server=server or ServerLogFacts()
    )


def gpu(peak_used_gib: float, energy_j: float, mean_power_w: float) -> GpuSummary:
    return GpuSummary(index=0, name="H100", total_gib=80.0, peak_used_gib=peak_used_gib, mean_util_pct=None,
                      mean_power_w=mean_power_w, energy_j=energy_j)  # fmt: skip


def test_memory_and_metrics_of_every_session_are_merged() -> None:
    first = record(
        100.0,
        MemorySummary(source="nvml", duration_s=30.0, samples=60, peak_used_gib=20.5, mean_power_w=200.0,
                      energy_j=6000.0, errors=["GPU 0 power: Not Supported"], gpus=[gpu(20.5, 6000.0, 200.0)]),
        MetricsSummary(scrapes=10, peak_kv_cache_usage_frac=0.40, peak_requests_running=8, generation_tokens=1000.0,
                       kv_cache_size_tokens=50000),
        ServerLogFacts(weights_gib=14.9, kv_cache_gib=50.0),
    )  # fmt: skip
    second = record(
        200.0,
        MemorySummary(source="nvml", duration_s=10.0, samples=20, peak_used_gib=18.0, mean_power_w=300.0,
                      energy_j=3000.0, errors=["GPU 0 power: Not Supported", "GPU 0 util: Unknown"],
                      gpus=[gpu(18.0, 3000.0, 300.0)]),
        MetricsSummary(scrapes=4, peak_kv_cache_usage_frac=0.65, peak_requests_running=5, generation_tokens=500.0,
                       kv_cache_size_tokens=51000),
        ServerLogFacts(weights_gib=None, kv_cache_gib=50.5),
    )  # fmt: skip
    (merged,) = merge_sessions([first, second]).values()
    mem, met = merged.memory, merged.metrics
    assert mem is not None and met is not None
    assert (mem.peak_used_gib, mem.energy_j, mem.samples, mem.duration_s) == (20.5, 9000.0, 80, 40.0)
    assert mem.mean_power_w == pytest.approx((200 * 30 + 300 * 10) / 40)  # 225 W, weighted by duration
    assert mem.errors == ["GPU 0 power: Not Supported", "GPU 0 util: Unknown"]
    (g,) = mem.gpus
    assert (g.peak_used_gib, g.energy_j, g.mean_power_w) == (20.5, 9000.0, 225.0)
    assert (met.peak_kv_cache_usage_frac, met.peak_requests_running) == (0.65, 8)  # the higher of each
    assert (met.scrapes, met.generation_tokens, met.kv_cache_size_tokens) == (14, 1500.0, 51000)
    assert merged.server == ServerLogFacts(weights_gib=14.9, kv_cache_gib=50.5)  # latest known value of each
    assert merged.started_at == 100.0


def test_a_session_measured_another_way_is_not_mixed_in() -> None:
    host = record(1.0, MemorySummary(source="host", duration_s=5.0, samples=10, peak_rss_gib=3.0), None)
    on_gpu = record(2.0, MemorySummary(source="nvml", duration_s=5.0, samples=10, peak_used_gib=20.0), None)
    (merged,) = merge_sessions([host, on_gpu]).values()
    assert merged.memory is not None and merged.metrics is None
    assert (merged.memory.source, merged.memory.peak_used_gib, merged.memory.peak_rss_gib) == ("nvml", 20.0, None)
    assert merged.memory.sessions_not_merged == 1


def test_one_session_is_its_own_record() -> None:
    only = record(1.0, MemorySummary(source="host", duration_s=2.0, samples=4, peak_rss_gib=3.0),
                  MetricsSummary(scrapes=2))  # fmt: skip
    assert merge_sessions([only])["m"] == only


# ---------------------------------------------------------------- the plan changed between sessions (issue 28)


def plan_of(root: Path, candidates: list[tuple[str, str, str]], sets: list[str], **extra: object) -> Path:
    """A plan of endpoint candidates ``(name, model, base_url)`` on ``sets`` (files under ``root``)."""
    cands = [{"name": n, "model": m, "api": "chat", "endpoint": {"base_url": u}} for n, m, u in candidates]
    plan = {"name": "edits", "candidates": cands, "question_sets": sets, "sampling": {"max_tokens": 16},
            "limits": {"retries": 0}, "perf": {"sweep": None}, **extra}  # fmt: skip
    return write_yaml(root / "plan.yaml", plan)


def run_again(root: Path, plan: Path) -> int:
    return main(["run", str(plan), "--run-dir", str(root / "run"), "--no-report", "--quiet"])


def second_set(root: Path) -> None:
    qs = {"id": "t", "title": "加班", "language": "zh", "questions": [question("x", "加班费几倍？")]}
    write_yaml(root / "set2.yaml", qs)


def reported(root: Path, *args: str) -> dict:
    assert main(["report", str(root / "run"), "--out", str(root / "rep"), *args]) == 0
    return json.loads((root / "rep" / "summary.json").read_text("utf-8"))


def test_an_endpoint_moved_to_another_port_continues_the_run(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    write_set(tmp_path, [A, B])
    with fake_server(lambda n: CANDIDATE) as first, fake_server(lambda n: CANDIDATE) as moved:
        assert run_again(tmp_path, plan_of(tmp_path, [("other", "other", first.base_url)], ["set.yaml"])) == 0
        capsys.readouterr()
        plan = plan_of(tmp_path, [("other", "other", moved.base_url)], ["set.yaml"])
        assert run_again(tmp_path, plan) == 0
        assert (len(first.requests), len(moved.requests)) == (2, 0)  # both answers kept, nothing asked again
    err = capsys.readouterr().err
    assert f"candidates[0].endpoint.base_url: {first.base_url} -> {moved.base_url}" in err
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text("utf-8"))
    assert manifest["plan"]["candidates"][0]["endpoint"]["base_url"] == moved.base_url
    assert any("base_url" in n for n in manifest["sessions"][-1]["plan_changes"])  # the run's own log of it


def test_an_added_candidate_is_asked_the_others_kept_a_removed_one_left_out_of_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_set(tmp_path, [A, B, C])
    with fake_server(lambda n: CANDIDATE) as old, fake_server(lambda n: CANDIDATE) as new:
        assert run_again(tmp_path, plan_of(tmp_path, [("other", "other", old.base_url)], ["set.yaml"])) == 0
        capsys.readouterr()
        both = [("other", "other", old.base_url), ("fourth", "fourth", new.base_url)]
        assert run_again(tmp_path, plan_of(tmp_path, both, ["set.yaml"])) == 0
        assert (len(old.requests), len(new.requests)) == (3, 3)  # 3 questions for the new one, none again
        assert "candidates added to the plan: fourth; asked now" in capsys.readouterr().err
        assert {m["candidate"] for m in reported(tmp_path)["models"]} == {"other", "fourth"}
        assert run_again(tmp_path, plan_of(tmp_path, [("fourth", "fourth", new.base_url)], ["set.yaml"])) == 0
        assert (len(old.requests), len(new.requests)) == (3, 3)
    assert "candidates removed from the plan: other; left out of the report" in capsys.readouterr().err
    assert [m["candidate"] for m in reported(tmp_path)["models"]] == ["fourth"]
    assert len(lines(tmp_path / "run" / "generations.jsonl")) == 6  # the removed candidate's 3 answers stay on disk


def test_an_added_question_set_is_asked_a_removed_one_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_set(tmp_path, [A, B])
    second_set(tmp_path)
    with fake_server(lambda n: CANDIDATE) as cand:
        one = [("other", "other", cand.base_url)]
        assert run_again(tmp_path, plan_of(tmp_path, one, ["set.yaml"])) == 0
        assert run_again(tmp_path, plan_of(tmp_path, one, ["set.yaml", "set2.yaml"])) == 0
        assert len(cand.requests) == 2 + 1  # only set2's one question
        assert "question sets added to the plan: set2.yaml; asked now" in capsys.readouterr().err
        assert sorted(s["set_id"] for s in reported(tmp_path)["question_sets"]) == ["s", "t"]
        assert run_again(tmp_path, plan_of(tmp_path, one, ["set2.yaml"])) == 0
        assert len(cand.requests) == 3
    assert "question sets removed from the plan: set.yaml" in capsys.readouterr().err
    summary = reported(tmp_path)
    assert [s["set_id"] for s in summary["question_sets"]] == ["t"]
    assert summary["models"][0]["answers"] == 1  # set s's 2 answers are left out, not counted


def test_a_changed_model_or_sampling_is_refused_naming_each_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_set(tmp_path, [A])
    with fake_server(lambda n: CANDIDATE) as cand:
        url = cand.base_url
        assert run_again(tmp_path, plan_of(tmp_path, [("a", "org/a", url), ("b", "org/a", url)], ["set.yaml"])) == 0
        capsys.readouterr()
        changed = plan_of(tmp_path, [("a", "org/a", url), ("b", "org/b", url)], ["set.yaml"],
                          sampling={"max_tokens": 32})  # fmt: skip
        assert run_again(tmp_path, changed) == 2
        assert len(cand.requests) == 2  # nothing asked
    err = capsys.readouterr().err
    assert "\n  candidates[1].model: org/a -> org/b\n" in err
    assert "\n  sampling.max_tokens: 16 -> 32\n" in err
    assert "add it as a new candidate" in err and "--run-dir" in err
    assert "Traceback" not in err


def test_report_decides_with_the_plan_as_it_is_now_when_only_report_time_settings_changed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_set(tmp_path, [A, B])
    with fake_server(lambda n: CANDIDATE) as cand:
        one = [("other", "other", cand.base_url)]
        assert run_again(tmp_path, plan_of(tmp_path, one, ["set.yaml"], constraints={"min_quality": 0.1})) == 0
    assert reported(tmp_path)["models"][0]["eligible"] is True
    # ANSWER says 5天 and the checks ask for 5 天: quality 1.0, eligible under min_quality 0.1; a p95 latency
    # under 0.001 ms no real request meets, so the same answers are not eligible under the plan as it is now
    plan_of(tmp_path, one, ["set.yaml"], constraints={"min_quality": 0.1, "max_p95_latency_ms": 0.001})
    capsys.readouterr()
    summary = reported(tmp_path)
    assert summary["models"][0]["eligible"] is False
    assert summary["recommendation"]["constraints"]["max_p95_latency_ms"] == 0.001
    assert "constraints.max_p95_latency_ms: (none) -> 0.001" in capsys.readouterr().err
    # --saved-plan would now report the same (the run took the setting); an explicit --plan decides again
    other = write_yaml(tmp_path / "other.yaml", yaml_of(tmp_path / "plan.yaml", constraints={"min_quality": 0.1}))
    assert reported(tmp_path, "--plan", str(other))["models"][0]["eligible"] is True


def yaml_of(path: Path, **override: object) -> dict:
    import yaml

    data = yaml.safe_load(path.read_text("utf-8"))
    data["question_sets"] = [str(path.parent / s) for s in data["question_sets"]]
    return {**data, **override}


def test_report_refuses_a_plan_that_would_ask_again_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_set(tmp_path, [A])
    with fake_server(lambda n: CANDIDATE) as cand:
        assert run_again(tmp_path, plan_of(tmp_path, [("other", "other", cand.base_url)], ["set.yaml"])) == 0
        plan_of(tmp_path, [("other", "org/x", cand.base_url)], ["set.yaml"], constraints={"min_quality": 0.5})
    capsys.readouterr()
    assert main(["report", str(tmp_path / "run"), "--out", str(tmp_path / "rep")]) == 2
    err = capsys.readouterr().err
    assert "candidates[0].model: other -> org/x" in err and "harness run" in err and "--saved-plan" in err
    assert main(["report", str(tmp_path / "run"), "--out", str(tmp_path / "rep"), "--saved-plan"]) == 0


# ---------------------------------------------------------------- an endpoint's memory, declared (issue 28)


@pytest.mark.parametrize(("declared", "eligible"), [(30.0, True), (50.0, False)])
def test_an_endpoint_is_judged_on_the_memory_its_plan_declares(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], declared: float, eligible: bool
) -> None:
    write_set(tmp_path, [A])
    with fake_server(lambda n: CANDIDATE) as cand:
        plan = plan_of(tmp_path, [("other", "other", cand.base_url)], ["set.yaml"],
                       constraints={"max_gpu_memory_gib": 40})  # fmt: skip
        data = yaml_of(plan)
        data["candidates"][0]["endpoint"]["gpu_memory_gib"] = declared
        write_yaml(plan, data)
        assert main(["validate", str(plan)]) == 0
        assert "cannot be judged" not in capsys.readouterr().out  # declared: no warning
        assert run_again(tmp_path, plan) == 0
    (model,) = reported(tmp_path)["models"]
    assert (model["memory_needed_gib"], model["eligible"]) == (declared, eligible)  # 30 <= 40 < 50


def test_validate_warns_when_a_memory_limit_cannot_be_judged_for_an_endpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_set(tmp_path, [A])
    plan = plan_of(tmp_path, [("other", "other", "http://127.0.0.1:9/v1")], ["set.yaml"],
                   constraints={"max_gpu_memory_gib": 40})  # fmt: skip
    assert main(["validate", str(plan)]) == 0  # a warning, not an error
    out = capsys.readouterr().out
    assert "candidates[0].endpoint: warning: constraints.max_gpu_memory_gib cannot be judged" in out
    assert "declare endpoint.gpu_memory_gib" in out


def test_a_set_removed_then_added_back_keeps_its_answers(tmp_path: Path) -> None:
    write_set(tmp_path, [A, B])
    second_set(tmp_path)
    with fake_server(lambda n: CANDIDATE) as cand:
        one = [("other", "other", cand.base_url)]
        assert run_again(tmp_path, plan_of(tmp_path, one, ["set.yaml", "set2.yaml"])) == 0
        assert run_again(tmp_path, plan_of(tmp_path, one, ["set2.yaml"])) == 0
        assert run_again(tmp_path, plan_of(tmp_path, one, ["set.yaml", "set2.yaml"])) == 0
        assert len(cand.requests) == 3  # 2 + 1 the first time; set s's answers were on disk all along
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text("utf-8"))
    assert sorted(manifest["question_sets"]) == ["s", "t"] and not manifest.get("question_sets_removed")
    assert sorted(s["set_id"] for s in reported(tmp_path)["question_sets"]) == ["s", "t"]


def test_judge_takes_moved_endpoints_and_refuses_an_added_candidate_not_yet_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_set(tmp_path, [A])
    judge = {"model": "j", "api": "chat", "modes": ["single"], "retest_fraction": 0, "injection_answers": 0}
    with (
        fake_server(lambda n: CANDIDATE) as c1, fake_server(lambda n: CANDIDATE) as c2,
        fake_server(lambda n: JUDGE) as j1, fake_server(lambda n: JUDGE) as j2,
    ):  # fmt: skip
        assert run_again(tmp_path, plan_of(tmp_path, [("other", "other", c1.base_url)], ["set.yaml"],
                                           judge={**judge, "endpoint": {"base_url": j1.base_url}})) == 0  # fmt: skip
        # both the candidate and the judge moved, and the judge's pass score (report-time) changed
        moved_judge = {**judge, "pass_score": 7, "endpoint": {"base_url": j2.base_url}}
        plan_of(tmp_path, [("other", "other", c2.base_url)], ["set.yaml"], judge=moved_judge)
        assert main(["judge", str(tmp_path / "run"), "--quiet"]) == 0
        assert (len(j1.requests), len(j2.requests)) == (1, 0)  # its one verdict is kept, not archived
        assert not list((tmp_path / "run").glob("judgments.*.jsonl"))
        plan_of(tmp_path, [("other", "other", c2.base_url), ("new", "new", c2.base_url)], ["set.yaml"],
                judge=moved_judge)  # fmt: skip
        capsys.readouterr()
        assert main(["judge", str(tmp_path / "run"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "\n  candidate added: new\n" in err and "harness run" in err


def test_report_with_the_plan_file_gone_uses_the_saved_copy_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_set(tmp_path, [A])
    with fake_server(lambda n: CANDIDATE) as cand:
        plan = plan_of(tmp_path, [("other", "other", cand.base_url)], ["set.yaml"])
        assert run_again(tmp_path, plan) == 0
    capsys.readouterr()
    reported(tmp_path)
    assert capsys.readouterr().err == ""  # the plan as the run made it: nothing to say
    plan.unlink()
    assert reported(tmp_path)["models"][0]["candidate"] == "other"
    err = capsys.readouterr().err
    assert f"the plan {plan} cannot be read" in err and "reporting with the run's saved copy" in err
    assert main(["report", str(tmp_path / "run"), "--out", str(tmp_path / "rep"), "--plan", str(plan)]) == 2  # named


def test_a_judge_moved_to_another_port_keeps_its_verdicts_and_the_report_decides_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `harness report` refused "judge.endpoint.base_url: … (apply with `harness judge`)", and `harness judge`
    # (all verdicts present: the judge's fingerprint leaves its endpoint out) changed nothing: no way on
    write_set(tmp_path, [A])
    with fake_server(lambda n: CANDIDATE) as cand, fake_server(lambda n: JUDGE) as judge:
        assert session(tmp_path, cand.base_url, judge.base_url) == 0
    moved = "http://127.0.0.1:9/v1"  # the judge's new address; nothing is asked of it
    write_plan(tmp_path, cand.base_url, moved)
    capsys.readouterr()
    summary = reported(tmp_path)
    # the verdict on file (评分：8 on 1-10) as the report scales it to 0-1: (8 - 1) / (10 - 1) = 7/9
    assert summary["models"][0]["judge_mean"] == pytest.approx(7 / 9)
    assert f"judge.endpoint.base_url: {judge.base_url} -> {moved}" in capsys.readouterr().err
