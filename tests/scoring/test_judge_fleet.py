"""A panel of judges graded side by side (``--gpus``), each judge in its own worker process.

The candidate and the judges are fake OpenAI endpoints with fixed replies (no GPU, seconds): an
endpoint judge needs no GPU, so ``--gpus 2`` starts both judges at once. What a user checks: each
judge ran in its own process (its entry's placement names a pid that is neither the driver's nor the
other judge's), every verdict lands once in ``judgments.jsonl`` under its judge's name, the manifest
holds both entries, nothing is left in ``judge_parts/``, a re-run asks nothing, and a judge that
fails (its endpoint gone, or its worker dead) fails alone.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cli import main
from tests.scoring.test_judge_panel_cli import ANSWERED, SAMPLES, closed_port_url, judge, records, says, summary
from tests.support.fake_server import FakeServer, fake_server, run_plan


def run(plan: Path, tmp: Path, *extra: str) -> int:
    return main(["run", str(plan), "--run-dir", str(tmp / "run"), "--report-dir", str(tmp / "rep"), "--quiet",
                 "--gpus", "2", *extra])  # fmt: skip


@contextlib.contextmanager
def two_judges(tmp: Path, **replies: str) -> Iterator[tuple[Path, FakeServer, FakeServer]]:
    """A plan whose fake candidate answers :data:`ANSWER` and whose two fake judges (name=reply, in order)
    always reply the same; yields the plan and the judges' servers."""
    (a, a_says), (b, b_says) = replies.items()
    with (
        fake_server(lambda n: ANSWERED) as cand,
        fake_server(lambda n: says(a_says)) as first,
        fake_server(lambda n: says(b_says)) as second,
    ):
        yield run_plan(tmp, cand.base_url, judges=[judge(a, first.base_url), judge(b, second.base_url)]), first, second


def manifest(tmp: Path) -> dict:
    return json.loads((tmp / "run" / "manifest.json").read_text("utf-8"))


def test_two_endpoint_judges_grade_side_by_side_each_in_its_own_process(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    with two_judges(tmp_path, low="Rating: 4", high="Rating: 8") as (plan, low, high):
        assert run(plan, tmp_path) == 0
        # one question asked twice: each judge grades the 2 answers once (retests and probes are off)
        assert (len(low.requests), len(high.requests)) == (SAMPLES, SAMPLES)
        err = capfd.readouterr().err
        assert "[judge low] starting on GPUs (none: endpoint)" in err
        assert "[judge high] starting on GPUs (none: endpoint)" in err

        verdicts = records(tmp_path / "run" / "judgments.jsonl")
        assert Counter(j["judge"] for j in verdicts) == {"low": SAMPLES, "high": SAMPLES}
        assert len({(j["judge"], j["key"]) for j in verdicts}) == 2 * SAMPLES  # every verdict once
        assert {j["judge"]: j["score"] for j in verdicts} == {"low": 4, "high": 8}
        judges = manifest(tmp_path)["judges"]
        assert set(judges) == {"low", "high"} and all(e["error"] is None for e in judges.values())
        assert all(e["asked"] == SAMPLES for e in judges.values())
        pids = {judges[n]["placement"]["pid"] for n in ("low", "high")}
        assert len(pids) == 2 and os.getpid() not in pids  # two worker processes, neither the driver
        assert not (tmp_path / "run" / "judge_parts").exists()  # both parts folded and removed
        # the panel's grade: median of 4 and 8 = 6 on 1..10, normalised (6 - 1) / 9
        assert summary(tmp_path / "rep")["models"][0]["judge_mean"] == pytest.approx(5 / 9)

        # run again: every verdict is in, so no judge process starts and no judge is asked anything
        assert run(plan, tmp_path) == 0
        assert (len(low.requests), len(high.requests)) == (SAMPLES, SAMPLES)
        err = capfd.readouterr().err
        assert "starting on GPUs" not in err
        assert f"[judge low] all {SAMPLES} judgments already present" in err
    assert len(records(tmp_path / "run" / "judgments.jsonl")) == 2 * SAMPLES
    assert manifest(tmp_path)["judges"]["low"]["placement"]["pid"] in pids  # the earlier entry's fields kept


def test_a_judge_whose_endpoint_is_gone_fails_alone(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    with fake_server(lambda n: ANSWERED) as cand, fake_server(lambda n: says("Rating: 8")) as good:
        panel = [judge("gone", closed_port_url()), judge("good", good.base_url)]
        assert run(run_plan(tmp_path, cand.base_url, judges=panel), tmp_path) == 1  # a judge failed
        assert len(good.requests) == SAMPLES
    assert "[judge gone] FAILED" in capfd.readouterr().err
    judges = manifest(tmp_path)["judges"]
    assert judges["gone"]["error"] and judges["good"]["error"] is None
    verdicts = records(tmp_path / "run" / "judgments.jsonl")
    assert Counter(j["judge"] for j in verdicts if j["error"] is None) == {"good": SAMPLES}
    # two judges: the default quorum is 1, so good's 8 alone is the panel's grade: (8 - 1) / 9
    assert summary(tmp_path / "rep")["models"][0]["judge_mean"] == pytest.approx(7 / 9)


def test_a_judge_whose_worker_dies_fails_alone_and_harness_judge_takes_the_fleet_options(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    with two_judges(tmp_path, doomed="Rating: 8", fine="Rating: 6") as (plan, doomed, fine):
        run_dir = tmp_path / "run"
        assert main(["run", str(plan), "--run-dir", str(run_dir), "--no-report", "--quiet"]) == 0
        (run_dir / "judgments.jsonl").unlink()  # judge the run again, now side by side
        (run_dir / "judge_parts").mkdir()
        (run_dir / "judge_parts" / "doomed").write_text("a file where the part directory must go: the worker raises")
        assert main(["judge", str(run_dir), "--quiet", "--gpus", "2"]) == 1
        assert len(doomed.requests) == SAMPLES and len(fine.requests) == 2 * SAMPLES  # before, and again now
    err = capfd.readouterr().err
    assert "[judge doomed] FAILED: its worker process ended with code 1 before it finished" in err
    judges = json.loads((run_dir / "manifest.json").read_text("utf-8"))["judges"]
    assert judges["doomed"]["error"] == "its worker process ended with code 1 before it finished"
    assert judges["fine"]["error"] is None
    assert Counter(j["judge"] for j in records(run_dir / "judgments.jsonl")) == {"fine": SAMPLES}


def test_a_judge_bigger_than_the_gpus_given_is_refused_before_anything_runs(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    plan = run_plan(tmp_path, "http://127.0.0.1:1/v1", judges=[{**judge("big", "x"), "endpoint": None,
                                                               "vllm": {"tensor_parallel_size": 4}}])  # fmt: skip
    assert run(plan, tmp_path) == 2
    assert "--gpus gives 2 GPUs, fewer than big (4) needs" in capfd.readouterr().err
    assert not (tmp_path / "run").exists()


def _move_verdicts(run_dir: Path, judge_name: str) -> list[dict]:
    """Take ``judge_name``'s verdicts out of ``judgments.jsonl`` (the other judge's stay); returns them."""
    verdicts = records(run_dir / "judgments.jsonl")
    kept = [j for j in verdicts if j["judge"] != judge_name]
    (run_dir / "judgments.jsonl").write_text("".join(json.dumps(j) + "\n" for j in kept), "utf-8")
    return [j for j in verdicts if j["judge"] == judge_name]


def test_resuming_asks_no_verdict_already_in_the_run_or_in_a_part(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    with two_judges(tmp_path, low="Rating: 4", high="Rating: 8") as (plan, low, high):
        assert run(plan, tmp_path) == 0
        run_dir = tmp_path / "run"
        # a crash left one of low's two verdicts in its part and lost the other
        first, _ = _move_verdicts(run_dir, "low")
        part = run_dir / "judge_parts" / "low"
        part.mkdir(parents=True)
        (part / "judgments.jsonl").write_text(json.dumps(first) + "\n", "utf-8")
        assert main(["judge", str(run_dir), "--quiet", "--gpus", "2"]) == 0
        # low: 2 at first + 1 now (the lost one; the one in its part is folded, not asked); high: 2, none now
        assert (len(low.requests), len(high.requests)) == (SAMPLES + 1, SAMPLES)
        assert "[judge low] folded 1 verdicts left in its part by an earlier session" in capfd.readouterr().err
        verdicts = records(run_dir / "judgments.jsonl")
        assert Counter(j["judge"] for j in verdicts) == {"low": SAMPLES, "high": SAMPLES}
        assert len({(j["judge"], j["key"]) for j in verdicts}) == 2 * SAMPLES

        # a retried worker (Ray's retry of a lost task) finds one verdict in its part: it asks only the other
        from harness.inputs.plan import load_plan
        from harness.scoring.judge.fleet import judge_part
        from harness.server.workers import PartJob

        first, _ = _move_verdicts(run_dir, "low")
        part.mkdir(parents=True)
        (part / "judgments.jsonl").write_text(json.dumps(first) + "\n", "utf-8")
        result = judge_part(load_plan(plan), run_dir, PartJob("low"))
        assert len(low.requests) == SAMPLES + 2 and result["entry"]["asked"] == 1
    assert {j["key"] for j in records(part / "judgments.jsonl")} == {j["key"] for j in verdicts if j["judge"] == "low"}
