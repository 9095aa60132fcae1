"""The synthetic run generator (harness_bench/synthetic_run.py): valid records, realistic statistics, a report.

The generator feeds the report-scale benchmark, so a record the harness would
not accept, or a run whose statistics miss a case the report shows (flips,
failures), would make the benchmark measure the wrong thing.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from harness.cli import main as harness_main
from harness.inputs.plan import load_plan
from harness.inputs.questions import load_question_set
from harness.inputs.run_sets import load_run_sets
from harness.perf_records import PerfRecord
from harness.records import Generation, LoadLevel, Phase, Plan, Score
from harness.report.render import build_report
from harness.rundir import GENERATIONS, LOADTEST, PERF, PHASES, SCORES, load_manifest
from harness.scoring.stage import score_records
from harness.store import read_records
from harness_bench.synthetic_run import main as synthetic_main
from harness_bench.synthetic_run import write_synthetic_run

MODELS, QUESTIONS, SAMPLES = 3, 12, 3
XSS = "<script>alert('synthetic')</script><img src=x onerror=alert(1)>"
XSS_AT = (2, "leave-1-0001")
"""The third model's answer to the first question of the first (Chinese) set."""
RECORD_FILES = (GENERATIONS, SCORES, PHASES, LOADTEST, PERF)


def _run(path: Path, seed: int = 0) -> Path:
    return write_synthetic_run(path, MODELS, QUESTIONS, SAMPLES, seed=seed, answer_texts={XSS_AT: XSS})


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(tmp_path_factory.mktemp("synthetic") / "run")


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_every_record_validates_and_is_written_as_the_harness_writes_it(run: Path) -> None:
    gens, scores = _lines(run / GENERATIONS), _lines(run / SCORES)
    assert len(gens) == len(scores) == MODELS * QUESTIONS * SAMPLES
    for model, lines in ((Generation, gens), (Score, scores)):
        # byte-identical to model_dump_json: the fast writer and the pydantic models agree on every field
        assert [model.model_validate_json(line).model_dump_json() for line in lines] == lines
    assert len({Generation.model_validate_json(line).key for line in gens}) == len(gens)
    assert len(read_records(run / PHASES, Phase)) == MODELS
    levels = read_records(run / LOADTEST, LoadLevel)
    assert {lv.level_id for lv in levels} == {"c1", "c4", "c16"} and len(levels) == 3 * MODELS
    perf = read_records(run / PERF, PerfRecord)
    assert [p.memory.source if p.memory else None for p in perf] == ["nvml"] * MODELS
    assert all(p.memory and (p.memory.energy_j or 0) > 0 and (p.server.kv_cache_tokens or 0) > 0 for p in perf)


def test_scores_are_what_the_real_rubric_gives(run: Path) -> None:
    """`harness score` on the run rewrites scores.jsonl unchanged, check explanations included."""
    sets, notes = load_run_sets(run)
    rescored = score_records(read_records(run / GENERATIONS, Generation), sets)
    assert notes == []
    assert [s.model_dump_json() for s in rescored] == _lines(run / SCORES)


def test_question_sets_and_plan_validate(run: Path) -> None:
    files = sorted((run / "sets").glob("*.yaml"))
    languages = set()
    for f in files:
        qs, warnings = load_question_set(f)
        assert warnings == [], "every reference answer passes its own rubric"
        languages.add(qs.language)
        assert len({q.category for q in qs.questions}) == 5
        assert all(len(q.checks) == 2 for q in qs.questions)
    assert languages == {"zh", "en"}
    assert load_plan(run / "plan.yaml").warnings == []
    assert harness_main(["validate", str(run / "sets"), str(run / "plan.yaml")]) == 0


def test_manifest_has_the_shape_a_run_writes(run: Path) -> None:
    manifest = load_manifest(run)
    assert manifest is not None
    plan = Plan.model_validate(manifest.plan)
    names = [c.name for c in plan.candidates]
    assert list(manifest.candidates) == names
    assert all(info.error is None and info.api in ("chat", "completions") for info in manifest.candidates.values())
    assert sum(meta.questions or 0 for meta in manifest.question_sets.values()) == QUESTIONS
    assert manifest.seeds.per_sample == list(range(SAMPLES))
    written = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert {"versions", "host", "git", "sessions", "plan_fingerprint"} <= set(written)
    assert len({c.price_per_gpu_hour_usd for c in plan.candidates}) > 1, "costs differ between candidates"


def test_statistics_have_flips_stable_answers_and_failures(run: Path) -> None:
    scores = read_records(run / SCORES, Score)
    by_pair: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for s in scores:
        by_pair[(s.candidate, s.question_id)].append(s.score is not None and s.score >= 0.5)
    kinds = {"right": 0, "wrong": 0, "flip": 0}
    for oks in by_pair.values():
        kinds["right" if all(oks) else "wrong" if not any(oks) else "flip"] += 1
    assert all(n > 0 for n in kinds.values()), kinds
    failed = [s for s in scores if s.error is not None]
    assert failed and all(s.score == 0.0 and s.checks == [] for s in failed)
    assert len(failed) < 0.05 * len(scores)
    assert len({s.score for s in scores}) >= 3, "partial credit as well as right and wrong"
    gens = read_records(run / GENERATIONS, Generation)
    speed = defaultdict(list)
    for g in gens:
        if g.ok:
            assert g.ttft_ms is not None and g.e2e_ms is not None and g.output_tokens is not None
            assert 0 < g.ttft_ms < g.e2e_ms
            speed[g.candidate].append(g.e2e_ms / g.output_tokens)
    assert len({round(sum(v) / len(v)) for v in speed.values()}) > 1, "models differ in speed"


def test_answer_text_override_reaches_every_sample(run: Path) -> None:
    manifest = load_manifest(run)
    assert manifest is not None
    name = Plan.model_validate(manifest.plan).candidates[XSS_AT[0]].name
    mine = [g for g in read_records(run / GENERATIONS, Generation) if (g.candidate, g.question_id) == (name, XSS_AT[1])]
    assert len(mine) == SAMPLES
    assert all(g.text == XSS and g.ok for g in mine)


def test_same_seed_same_run_other_seed_other_run(run: Path, tmp_path: Path) -> None:
    again = _run(tmp_path / "again")
    other = _run(tmp_path / "other", seed=1)
    for name in RECORD_FILES:
        assert (again / name).read_bytes() == (run / name).read_bytes(), name
    assert (other / SCORES).read_bytes() != (run / SCORES).read_bytes()


def test_report_builds_and_escapes_answers(run: Path, tmp_path: Path) -> None:
    index = build_report(run, tmp_path / "report")
    html = index.read_text(encoding="utf-8")
    assert XSS not in html and "<script>alert(" not in html
    assert (tmp_path / "report" / "summary.csv").exists()
    summary = json.loads((tmp_path / "report" / "summary.json").read_text(encoding="utf-8"))
    assert len(summary["models"]) == MODELS


def test_cli_writes_a_run_and_refuses_an_existing_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [str(tmp_path / "cli"), "--models", "2", "--questions", "4", "--samples", "2", "--no-perf"]
    assert synthetic_main(argv) == 0
    assert len(_lines(tmp_path / "cli" / GENERATIONS)) == 16
    assert not (tmp_path / "cli" / LOADTEST).exists()
    assert synthetic_main(argv) == 2
    assert "already holds a run" in capsys.readouterr().err


def test_a_card_without_an_eligible_candidate_says_no_weights_were_applied(run: Path, tmp_path: Path) -> None:
    """No candidate meets a rubric floor no model reaches: no recommendation, and the card says why no weights."""
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["plan"]["constraints"] = {"min_quality": 1.0}  # rubric scores are at most 1
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    html = build_report(copy, tmp_path / "report").read_text(encoding="utf-8")
    assert '<h2 id="recommended">No recommendation</h2>' in html
    assert "Weights used: none, as no candidate meets every constraint." in html
    assert "Weights used: ." not in html


def test_the_report_only_reads_and_harness_report_scores_an_unscored_run_first(run: Path, tmp_path: Path) -> None:
    import shutil

    from harness.cli import main as harness_main
    from harness.rundir import RunDirError

    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    (copy / SCORES).unlink()
    before = sorted(p.relative_to(copy) for p in copy.rglob("*"))
    with pytest.raises(RunDirError, match=r"no scores\.jsonl; score it first"):
        build_report(copy, tmp_path / "report")
    assert sorted(p.relative_to(copy) for p in copy.rglob("*")) == before  # the report wrote nothing
    assert harness_main(["report", str(copy), "--out", str(tmp_path / "report")]) == 0
    assert (copy / SCORES).read_bytes() == (run / SCORES).read_bytes()  # scored as the run itself was
    assert len(json.loads((tmp_path / "report" / "summary.json").read_text(encoding="utf-8"))["models"]) == MODELS
