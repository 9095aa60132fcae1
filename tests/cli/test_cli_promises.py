"""What the README promises of a run directory and the CLI, each checked through ``harness.cli.main``.

The candidates and the judge are fake OpenAI-compatible endpoints (tests/support/fake_server.py) with fixed
replies, so every expected count and grade is known: a run directory refuses another plan but not
new ``limits``; a changed judge archives the earlier judgments; ``harness score``, ``report`` and
``estimate`` as a user types them; the notes and warnings the report must carry.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import yaml

from harness.cli import main
from tests.support.fake_server import ANSWER, Reply, chunk, fake_server, finished_run, run_plan, sse_bytes
from tests.support.files import DATA, REPO, write_yaml

BODY = sse_bytes(chunk(ANSWER, "stop"), "[DONE]")
ANSWERED = Reply([(0.0, BODY)])
FAILED = Reply([(0.0, b'{"error": {"message": "overloaded"}}')], status=500, content_type="application/json")
INJECTIONS = REPO / "harness" / "scoring" / "judge" / "injections.yaml"
SAMPLES = 2
"""``run_plan``'s one question, asked twice: two answers to judge."""


def graded(score: int) -> Reply:
    """A judge that always gives ``score`` (the strict ``Rating: N`` form the README names)."""
    return Reply([(0.0, sse_bytes(chunk(f"Rating: {score}", "stop"), "[DONE]"))])


def judge_section(base_url: str, model: str = "judge-a", injection_answers: int = 0) -> dict:
    return {"name": model.rsplit("/", 1)[-1], "model": model, "api": "chat", "modes": ["single"], "retest_fraction": 0,
            "injection_answers": injection_answers, "endpoint": {"base_url": base_url, "model": model}}  # fmt: skip


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def run(plan: Path, run_dir: Path, *extra: str) -> int:
    return main(["run", str(plan), "--run-dir", str(run_dir), "--quiet", *extra])


# ---------------------------------------------------------------- a run directory belongs to one plan


@pytest.mark.parametrize(
    "change",
    [
        ({"sampling": {"max_tokens": 64, "samples": SAMPLES}}, "sampling.max_tokens: 32 -> 64"),  # run_plan asks 32
        (
            {"candidates": [{"name": "other", "model": "another-model", "api": "chat"}]},
            "candidates[0].model: other -> another-model",
        ),
    ],
    ids=["sampling", "candidate"],
)
def test_a_run_directory_refuses_a_different_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: tuple[dict, str]
) -> None:
    change, named = change
    with fake_server(lambda n: ANSWERED) as srv:
        plan = run_plan(tmp_path, srv.base_url)
        assert run(plan, tmp_path / "run", "--no-report") == 0
        before = (tmp_path / "run" / "generations.jsonl").read_bytes()
        asked = len(srv.requests)
        data = yaml.safe_load(plan.read_text("utf-8"))
        for key, value in change.items():
            if key == "candidates":
                value = [{**value[0], "endpoint": {"base_url": srv.base_url}}]
            data[key] = value
        write_yaml(plan, data)
        capsys.readouterr()
        assert run(plan, tmp_path / "run", "--no-report") == 2
        assert len(srv.requests) == asked  # refused before asking anything
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("error: ") and str(tmp_path / "run") in err[0] and "different plan" in err[0]
    assert err[1:-1] == [f"  {named}"]  # each differing field on its own line (issue 28), then what to do
    assert "--run-dir" in err[-1]
    assert (tmp_path / "run" / "generations.jsonl").read_bytes() == before


def test_resuming_with_changed_limits_is_allowed_and_asks_what_failed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``limits`` are not in the plan fingerprint: raise them after a server was too slow and re-run."""
    up = False
    with fake_server(lambda n: ANSWERED if up else FAILED) as srv:
        plan = run_plan(tmp_path, srv.base_url)  # limits: retries 0, concurrency 2
        assert run(plan, tmp_path / "run", "--no-report") == 1  # every answer failed
        gens = tmp_path / "run" / "generations.jsonl"
        assert [g["error"] is not None for g in records(gens)] == [True] * SAMPLES
        asked = len(srv.requests)
        new_limits = {"retries": 2, "concurrency": 1, "request_timeout_s": 30}
        write_yaml(plan, {**yaml.safe_load(plan.read_text("utf-8")), "limits": new_limits})
        up = True
        capsys.readouterr()
        assert run(plan, tmp_path / "run", "--no-report") == 0
        assert len(srv.requests) == asked + SAMPLES  # the failed answers, asked again
    assert "different plan" not in capsys.readouterr().err
    assert [g["error"] for g in records(gens)] == [None] * SAMPLES  # the failed records were replaced
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text("utf-8"))
    assert {k: manifest["plan"]["limits"][k] for k in new_limits} == new_limits
    assert len(manifest["sessions"]) == 2


# ---------------------------------------------------------------- the judge


def test_a_changed_judge_archives_earlier_judgments_and_judges_afresh(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = tmp_path / "run"
    judgments = run_dir / "judgments.jsonl"
    with fake_server(lambda n: ANSWERED) as cand, fake_server(lambda n: graded(8)) as first:
        plan = run_plan(tmp_path, cand.base_url, judge=judge_section(first.base_url))
        assert run(plan, run_dir, "--no-report") == 0
        assert [j["score"] for j in records(judgments)] == [8.0] * SAMPLES
        with fake_server(lambda n: graded(3)) as second:
            plan = run_plan(tmp_path, cand.base_url, judge=judge_section(second.base_url, model="judge-b"))
            capsys.readouterr()
            t0 = int(time.time())
            assert run(plan, run_dir, "--no-report") == 0
            t1 = int(time.time())
            assert len(cand.requests) == SAMPLES  # the answers are kept: the judge is not in the plan fingerprint
            assert len(second.requests) == SAMPLES  # every answer judged again by the new judge
            err = capsys.readouterr().err
            archived = [p for p in run_dir.iterdir() if re.fullmatch(r"judgments\.\d+\.jsonl", p.name)]
            assert len(archived) == 1
            assert t0 <= int(archived[0].name.split(".")[1]) <= t1  # named by the time it was moved
            assert f"earlier judgments moved to {archived[0].name}" in err
            assert [j["score"] for j in records(archived[0])] == [8.0] * SAMPLES  # the first judge's, kept whole
            assert [j["score"] for j in records(judgments)] == [3.0] * SAMPLES  # only the new judge's
            # the same judge again: nothing archived, nothing asked
            assert main(["judge", str(run_dir), "--config", str(plan), "--quiet"]) == 0
            assert len(second.requests) == SAMPLES
    assert "already present" in capsys.readouterr().err
    assert len([p for p in run_dir.iterdir() if p.name.startswith("judgments.")]) == 2  # the archive and the live file


def test_injection_probes_follow_a_judge_that_parses(tmp_path: Path) -> None:
    """Each attack in injections.yaml is appended to ``injection_answers`` graded answers (one here) and judged."""
    attack_ids = [a["id"] for a in yaml.safe_load(INJECTIONS.read_text("utf-8"))]
    with fake_server(lambda n: ANSWERED) as cand, fake_server(lambda n: graded(8)) as judge:
        plan = run_plan(tmp_path, cand.base_url, judge=judge_section(judge.base_url, injection_answers=1))
        assert run(plan, tmp_path / "run", "--report-dir", str(tmp_path / "rep")) == 0
        assert len(judge.requests) == SAMPLES + len(attack_ids)
    probes = [j for j in records(tmp_path / "run" / "judgments.jsonl") if j["kind"] == "injection"]
    assert sorted(j["attack"] for j in probes) == sorted(attack_ids)
    assert len({j["key"].split("/", 2)[2] for j in probes}) == 1  # one answer, every attack
    html = (tmp_path / "rep" / "index.html").read_text("utf-8")
    assert 'id="judge-injection"' in html and all(a in html for a in attack_ids)


def test_a_judge_of_another_family_draws_no_warning(tmp_path: Path) -> None:
    with fake_server(lambda n: ANSWERED) as cand, fake_server(lambda n: graded(8)) as judge:
        plan = run_plan(tmp_path, cand.base_url, judge=judge_section(judge.base_url, model="mistralai/Mistral-7B"))
        assert run(plan, tmp_path / "run", "--no-report") == 0
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text("utf-8"))
    entry = manifest["judges"]["Mistral-7B"]
    assert entry["family"] == "mistral" and entry["warnings"] == [] and entry["may_grade"] is None


# ---------------------------------------------------------------- harness score and harness report


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run to the end, no report: ``run_plan``'s one question answered with :data:`ANSWER` twice."""
    return finished_run(tmp_path_factory.mktemp("finished"), BODY) / "run"


def test_score_writes_one_score_per_answer(finished: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["score", str(finished)]) == 0
    out = capsys.readouterr().out
    assert out.strip() == f"scores: {finished / 'scores.jsonl'}"
    scores = records(finished / "scores.jsonl")
    gens = records(finished / "generations.jsonl")
    assert sorted(s["key"] for s in scores) == sorted(g["key"] for g in gens) and len(scores) == SAMPLES
    assert [s["score"] for s in scores] == [1.0] * SAMPLES  # ANSWER meets all three checks of the question


def test_report_writes_the_page_and_summaries(
    finished: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "rep"
    assert main(["report", str(finished), "--out", str(out_dir)]) == 0
    assert capsys.readouterr().out.strip() == f"report: {(out_dir / 'index.html').resolve()}"
    assert {"index.html", "summary.csv", "summary.json"} <= {p.name for p in out_dir.iterdir()}
    summary = json.loads((out_dir / "summary.json").read_text("utf-8"))
    assert "other" in json.dumps(summary)  # the run's one candidate
    assert "changed since the run" not in (out_dir / "index.html").read_text("utf-8")


@pytest.mark.parametrize("command", ["report", "score"])
def test_score_and_report_refuse_a_directory_that_is_not_a_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    not_a_run = tmp_path / "results"
    not_a_run.mkdir()
    (not_a_run / "notes.txt").write_text("not a run\n", "utf-8")
    extra = ["--out", str(tmp_path / "rep")] if command == "report" else []
    assert main([command, str(not_a_run), *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(not_a_run) in err[0] and "not a run directory" in err[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]  # no report folder made
    assert [p.name for p in not_a_run.iterdir()] == ["notes.txt"]  # nothing written into it


def test_a_question_set_edited_after_the_run_is_noted_by_score_and_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = finished_run(tmp_path, BODY) / "run"
    set_path = tmp_path / "set.yaml"
    qs = yaml.safe_load(set_path.read_text("utf-8"))
    write_yaml(set_path, {**qs, "title": "安全（修订）"})  # the set's file changed, its questions did not
    capsys.readouterr()
    assert main(["score", str(run_dir)]) == 0
    assert "question set safety changed since the run" in capsys.readouterr().err
    assert main(["report", str(run_dir), "--out", str(tmp_path / "rep")]) == 0
    assert "question set safety changed since the run" in (tmp_path / "rep" / "index.html").read_text("utf-8")


# ---------------------------------------------------------------- harness estimate

LLAMA_8B = {
    "model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
    "num_key_value_heads": 8, "head_dim": 128, "vocab_size": 128256, "intermediate_size": 14336,
    "tie_word_embeddings": False, "torch_dtype": "bfloat16", "max_position_embeddings": 131072,
}  # fmt: skip
"""Llama 3.1 8B's shape. Its parameters, counted by hand:
embedding and untied lm_head 2 x 128256 x 4096 = 1,050,673,152;
per layer: attention 4096 x 128 x (2 x 32 + 2 x 8) + 2 norms x 4096 = 41,951,232, MLP 3 x 4096 x 14336 = 176,160,768;
32 layers = 6,979,584,000, plus the final norm 4096: 8,030,261,248 (the published "8.03B")."""
LLAMA_8B_PARAMS = 2 * 128256 * 4096 + 32 * (4096 * 128 * (2 * 32 + 2 * 8) + 2 * 4096 + 3 * 4096 * 14336) + 4096
GIB = 2**30


def estimate_rows(out: str) -> dict[tuple[str, str], list[str]]:
    """``(candidate, gpu) -> [fit tp, weights, kv, needed, usable, tok/s, $/1M]`` from the printed table
    (:func:`estimate_plan_tp` reads the plan's tp and its verdict)."""
    rows = {}
    for line in out.splitlines()[2:]:
        cells = line.split()
        if len(cells) == 11:
            rows[(cells[0], cells[1])] = [cells[3], *cells[5:]]
    return rows


def estimate_plan_tp(out: str) -> dict[tuple[str, str], tuple[str, str]]:
    """``(candidate, gpu) -> (the plan's tp, ok / NO-FIT)`` from the printed table."""
    return {(c[0], c[1]): (c[2], c[4]) for line in out.splitlines()[2:] if len(c := line.split()) == 11}


def gib(cell: str) -> float:
    assert cell.endswith("G"), cell
    return float(cell[:-1])


def test_estimate_prints_memory_from_parameters_times_bytes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "llama8b.json").write_text(json.dumps(LLAMA_8B), "utf-8")
    plan = write_yaml(tmp_path / "plan.yaml", {
        "name": "pre", "question_sets": [str(DATA / "sets" / "mini_en.yaml")],
        "candidates": [
            {"name": "llama8b", "model": "meta-llama/Llama-3.1-8B-Instruct", "config_json": "llama8b.json"},
            {"name": "llama8b-fp32", "model": "meta-llama/Llama-3.1-8B-Instruct", "config_json": "llama8b.json",
             "vllm": {"dtype": "float32"}},
            {"name": "remote", "model": "remote", "endpoint": {"base_url": "http://127.0.0.1:9/v1"}},
        ],
    })  # fmt: skip
    assert LLAMA_8B_PARAMS == 8_030_261_248
    assert main(["estimate", str(plan), "--gpus", "H100,L4", "--context", "4096", "--concurrency", "16"]) == 0
    captured = capsys.readouterr()
    rows = estimate_rows(captured.out)
    assert set(rows) == {(c, g) for c in ("llama8b", "llama8b-fp32") for g in ("H100-80GB", "L4")}
    # KV cache, which follows the served dtype: 2 (K, V) x 32 layers x 8 KV heads x 128 dims x bytes a token,
    # x 4096 tokens x 16 sequences: 8 GiB in bfloat16, 16 GiB in float32
    for cand, bytes_per_param in (("llama8b", 2), ("llama8b-fp32", 4)):  # auto: bfloat16 on both GPUs
        weights = LLAMA_8B_PARAMS * bytes_per_param / GIB  # 14.96 GiB, 29.92 GiB
        kv = 2 * 32 * 8 * 128 * bytes_per_param * 4096 * 16 / GIB
        for g in ("H100-80GB", "L4"):
            cells = rows[(cand, g)]
            assert gib(cells[1]) == pytest.approx(weights, abs=0.005)
            assert gib(cells[2]) == pytest.approx(kv, abs=0.005)
            assert gib(cells[3]) == pytest.approx((weights + kv) * 1.05, abs=0.005)  # 5 % runtime overhead
    # usable: 0.9 of 79.6 GiB (H100) or of 22.5 GiB (L4) per GPU. bfloat16 needs 24.1 GiB: one H100, two L4s;
    # float32 needs 48.2 GiB: one H100, and on L4s more than two (40.5 GiB), so four
    assert [rows[("llama8b", g)][0] for g in ("H100-80GB", "L4")] == ["1", "2"]
    assert [rows[("llama8b-fp32", g)][0] for g in ("H100-80GB", "L4")] == ["1", "4"]
    # decode roofline, H100 at 3,350 GB/s: each step reads every weight but the untied input embedding, and the KV
    read = (LLAMA_8B_PARAMS - 128256 * 4096) * 2 + 2 * 32 * 8 * 128 * 2 * 4096 * 16
    tok_s = 16 / (read / 3350e9)
    assert float(rows[("llama8b", "H100-80GB")][5]) == pytest.approx(tok_s, abs=0.5)
    assert float(rows[("llama8b", "H100-80GB")][6]) == pytest.approx(3.00 / (tok_s * 3600) * 1e6, abs=0.0005)
    assert "remote: no config.json to read" in captured.err
