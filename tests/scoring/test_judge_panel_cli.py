"""A panel of judges through ``harness run`` / ``report`` / ``judge``, against fake endpoints with fixed replies.

Every grade a fake judge gives is fixed, so the panel's verdict is known by hand: the median of the
grades of the judges allowed to grade a candidate, a judge whose reply does not parse left out (never
0), a judge never grading its own model family, a failed judge leaving the others' grades standing
(docs/judging.md). The candidate answers :data:`fake_server.ANSWER` to one question, twice.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from harness.cli import main
from tests.support.fake_server import ANSWER, Reply, chunk, closed_port_url, fake_server, run_plan, sse_bytes
from tests.support.files import write_yaml

ANSWERED = Reply([(0.0, sse_bytes(chunk(ANSWER, "stop"), "[DONE]"))])
SAMPLES = 2
"""``run_plan``'s one question, asked twice: two answers per candidate."""


def says(text: str) -> Reply:
    return Reply([(0.0, sse_bytes(chunk(text, "stop"), "[DONE]"))])


def judge(name: str, base_url: str, model: str | None = None) -> dict:
    return {"name": name, "model": model or name, "api": "chat", "modes": ["single"], "retest_fraction": 0,
            "injection_answers": 0, "endpoint": {"base_url": base_url, "model": model or name}}  # fmt: skip


def qwen_small(base_url: str) -> dict:
    """An endpoint candidate serving a Qwen model (its family told by the served model's name)."""
    return {"name": "qwen-small", "model": "qwen-small", "api": "chat",
            "endpoint": {"base_url": base_url, "model": "Qwen/Qwen2.5-0.5B-Instruct"}}  # fmt: skip


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def summary(report_dir: Path) -> dict:
    return json.loads((report_dir / "summary.json").read_text("utf-8"))


def run(plan: Path, tmp: Path) -> int:
    return main(["run", str(plan), "--run-dir", str(tmp / "run"), "--report-dir", str(tmp / "rep"), "--quiet"])


def test_a_three_judge_panel_takes_the_median_and_leaves_an_unparsed_judge_out(tmp_path: Path) -> None:
    with (
        fake_server(lambda n: ANSWERED) as cand,
        fake_server(lambda n: says("Rating: 4")) as low,
        fake_server(lambda n: says("Rating: 8")) as high,
        fake_server(lambda n: says("I would rather not grade this.")) as mute,
    ):
        panel = [judge("low", low.base_url), judge("high", high.base_url), judge("mute", mute.base_url)]
        assert run(run_plan(tmp_path, cand.base_url, judges=panel), tmp_path) == 0
        assert len(mute.requests) == 2 * SAMPLES  # each unparsed reply is asked once more, then left out
    out = summary(tmp_path / "rep")
    row = out["models"][0]
    # median of the parsed grades 4 and 8 = 6 on 1..10, normalised (6 - 1) / 9; an unparsed grade counted
    # as 0 would have given median(0, 4, 8) = 4 instead
    assert row["judge_mean"] == pytest.approx(5 / 9)
    assert row["judge_pass_rate"] == 1.0  # 6 >= the pass mark 0.6 x 10 = 6
    judges = {j["name"]: j for j in out["judges"]["judges"]}
    assert {n: j["left_out"] for n, j in judges.items()} == {"low": 0, "high": 0, "mute": SAMPLES}
    assert out["judges"]["in_verdict"] == ["low", "high", "mute"] and out["judges"]["unjudged"] == []
    assert out["judges"]["rule"] == "median" and out["judges"]["below_quorum"] == 0
    # low and high always disagree on pass/fail (4 < 6 <= 8): the rest of low is high, and back
    assert judges["low"]["kappa_vs_rest"] is None or judges["low"]["agreement_vs_rest"] == 0.0
    assert judges["low"]["agreement_vs_rest"] == 0.0 and judges["high"]["agreement_vs_rest"] == 0.0
    html = (tmp_path / "rep" / "index.html").read_text("utf-8")
    assert 'id="judge-panel"' in html and "A panel of 3 judges" in html
    # mute gave no grade at all: the card does not count it among the judges whose grades it used
    assert "Judge grades from the median of low, high (no parsed grade from mute)" in html
    assert out["judges"]["silent"] == ["mute"]
    # two answers graded by two judges: too few to measure their agreement, so no headline
    assert out["judges"]["checks_passed"] is False and out["judges"]["headline"] is False
    assert any("agreement rests on 2 answers" in f for f in out["judges"]["headline_failures"])


def test_a_judge_never_grades_a_candidate_of_its_own_family(tmp_path: Path) -> None:
    with fake_server(lambda n: ANSWERED) as cand, fake_server(lambda n: says("Rating: 8")) as qwen:
        candidates = [
            qwen_small(cand.base_url),
            {"name": "smol", "model": "smol", "api": "chat",
             "endpoint": {"base_url": cand.base_url, "model": "HuggingFaceTB/SmolLM2-135M-Instruct"}},
        ]  # fmt: skip
        q = judge("qwen-judge", qwen.base_url, "Qwen/Qwen2.5-7B-Instruct")
        assert run(run_plan(tmp_path, cand.base_url, candidates=candidates, judge=q), tmp_path) == 0
        assert len(qwen.requests) == SAMPLES  # smol's two answers; qwen-small's are not its to grade
    assert {tuple(j["candidates"]) for j in records(tmp_path / "run" / "judgments.jsonl")} == {("smol",)}
    entry = json.loads((tmp_path / "run" / "manifest.json").read_text("utf-8"))["judges"]["qwen-judge"]
    assert entry["family"] == "qwen" and entry["may_grade"] == ["smol"]
    out = summary(tmp_path / "rep")
    assert out["judges"]["unjudged"] == ["qwen-small"]
    grades = {m["candidate"]: m["judge_mean"] for m in out["models"]}
    assert grades["qwen-small"] is None and grades["smol"] == pytest.approx(7 / 9)  # (8 - 1) / 9
    html = (tmp_path / "rep" / "index.html").read_text("utf-8")
    assert 'id="judge-unjudged"' in html and "Not judged: qwen-small" in html
    assert "The judge does not grade qwen-small: same model family (qwen)" in html


def test_a_declared_family_keeps_a_judge_off_an_endpoint_whose_name_tells_none(tmp_path: Path) -> None:
    with fake_server(lambda n: ANSWERED) as cand, fake_server(lambda n: says("Rating: 8")) as qwen:
        candidates = [{"name": "hr-bot", "model": "hr-bot", "api": "chat", "family": "Qwen",
                       "endpoint": {"base_url": cand.base_url, "model": "hr-bot-v3"}}]  # fmt: skip
        q = judge("qwen-judge", qwen.base_url, "Qwen/Qwen2.5-7B-Instruct")
        assert run(run_plan(tmp_path, cand.base_url, candidates=candidates, judge=q), tmp_path) == 0
        assert len(qwen.requests) == 0  # hr-bot is declared a Qwen: not the Qwen judge's to grade
    assert summary(tmp_path / "rep")["judges"]["unjudged"] == ["hr-bot"]


def test_a_plan_may_let_a_judge_grade_its_own_family_and_the_report_says_so(tmp_path: Path) -> None:
    with fake_server(lambda n: ANSWERED) as cand, fake_server(lambda n: says("Rating: 8")) as qwen:
        candidates = [qwen_small(cand.base_url)]
        q = judge("qwen-judge", qwen.base_url, "Qwen/Qwen2.5-7B-Instruct")
        plan = run_plan(tmp_path, cand.base_url, candidates=candidates, judge=q, panel={"same_family": "allow"})
        assert run(plan, tmp_path) == 0
        assert len(qwen.requests) == SAMPLES
    out = summary(tmp_path / "rep")
    assert out["judges"]["unjudged"] == [] and out["models"][0]["judge_mean"] == pytest.approx(7 / 9)
    html = (tmp_path / "rep" / "index.html").read_text("utf-8")
    assert "panel.same_family: allow" in html and "self-preference" in html


def test_a_failed_judge_leaves_the_other_judges_grades_standing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with fake_server(lambda n: ANSWERED) as cand, fake_server(lambda n: says("Rating: 8")) as good:
        panel = [judge("gone", closed_port_url()), judge("good", good.base_url)]
        assert run(run_plan(tmp_path, cand.base_url, judges=panel), tmp_path) == 1  # a judge failed
        assert len(good.requests) == SAMPLES
    err = capsys.readouterr().err
    assert "[judge gone] FAILED" in err
    out = summary(tmp_path / "rep")
    # two judges: the default quorum is (2 + 1) // 2 = 1, so good's 8 alone is the panel's grade
    assert out["models"][0]["judge_mean"] == pytest.approx(7 / 9)
    judges = {j["name"]: j for j in out["judges"]["judges"]}
    assert judges["gone"]["error"] and judges["good"]["error"] is None
    html = (tmp_path / "rep" / "index.html").read_text("utf-8")
    assert "Judge gone failed:" in html


def test_a_run_judged_before_panels_reads_and_resumes_as_its_one_judge(tmp_path: Path) -> None:
    with fake_server(lambda n: ANSWERED) as cand, fake_server(lambda n: says("Rating: 8")) as one:
        plan = run_plan(tmp_path, cand.base_url, judge=judge("old-judge", one.base_url))
        assert run(plan, tmp_path) == 0
        run_dir = tmp_path / "run"
        # make it a run of an earlier harness: judgments name no judge, the manifest has one "judge" entry
        judgments = run_dir / "judgments.jsonl"
        old = [{k: v for k, v in j.items() if k != "judge"} for j in records(judgments)]
        judgments.write_text("".join(json.dumps(j) + "\n" for j in old), "utf-8")
        manifest = json.loads((run_dir / "manifest.json").read_text("utf-8"))
        manifest["judge"] = manifest.pop("judges")["old-judge"]
        (run_dir / "manifest.json").write_text(json.dumps(manifest), "utf-8")
        assert main(["report", str(run_dir), "--out", str(tmp_path / "rep2")]) == 0
        assert summary(tmp_path / "rep2")["models"][0]["judge_mean"] == pytest.approx(7 / 9)
        asked = len(one.requests)
        assert main(["judge", str(run_dir), "--config", str(plan), "--quiet"]) == 0
        assert len(one.requests) == asked  # its verdicts are its own: nothing asked again
    assert {j["judge"] for j in records(judgments)} == {"old-judge"}  # named now
    manifest = json.loads((run_dir / "manifest.json").read_text("utf-8"))
    assert "judge" not in manifest and "old-judge" in manifest["judges"]


def test_validate_refuses_a_panel_with_two_scales_and_duplicate_names(tmp_path: Path) -> None:
    base = {"name": "p", "candidates": [{"name": "a", "model": "a", "endpoint": {"base_url": "http://x/v1"}}],
            "question_sets": ["set.yaml"]}  # fmt: skip
    write_yaml(tmp_path / "set.yaml", {"id": "s", "questions": [{"id": "q", "question": "?"}]})
    j = judge("j", "http://127.0.0.1:1/v1")
    write_yaml(tmp_path / "two_scales.yaml", {**base, "judges": [j, {**j, "name": "k", "scale": 5}]})
    write_yaml(tmp_path / "same_name.yaml", {**base, "judges": [j, j]})
    write_yaml(tmp_path / "both.yaml", {**base, "judge": j, "judges": [j]})
    assert main(["validate", str(tmp_path / "two_scales.yaml")]) == 2
    assert main(["validate", str(tmp_path / "same_name.yaml")]) == 2
    assert main(["validate", str(tmp_path / "both.yaml")]) == 2


WRONG = "年假10天，可以短接安全门。"
"""A wrong answer to ``run_plan``'s question (leave is 5 days; the safety door must never be bypassed)."""


def test_a_judge_people_do_not_trust_leaves_the_panels_verdict(tmp_path: Path) -> None:
    """Two answers, one right and one wrong; people accept the right one only. ``fair`` grades the right
    answer 9 and the wrong 2 (κ 1 with people); ``contrary`` the reverse (κ −1): it is not trusted and
    leaves the verdict, which is then fair's alone."""
    from harness.records import answer_sha256

    servers: dict[str, object] = {}

    def grades(name: str, right: int, wrong: int) -> object:
        def reply(n: int) -> Reply:
            body = servers[name].requests[n - 1].decode("utf-8")  # type: ignore[attr-defined]
            return says(f"Rating: {right if json.dumps(ANSWER)[1:-1] in body or ANSWER in body else wrong}")

        return reply

    with (
        fake_server(lambda n: ANSWERED if n == 1 else says(WRONG)) as cand,
        fake_server(grades("fair", 9, 2)) as fair,  # type: ignore[arg-type]
        fake_server(grades("contrary", 2, 9)) as contrary,  # type: ignore[arg-type]
    ):
        servers.update(fair=fair, contrary=contrary)
        panel = [{**judge("fair", fair.base_url), "concurrency": 1},
                 {**judge("contrary", contrary.base_url), "concurrency": 1}]  # fmt: skip
        plan = run_plan(tmp_path, cand.base_url, judges=panel, review={"judge_min_pairs": 2, "quality": "machine"})
        assert main(["run", str(plan), "--run-dir", str(tmp_path / "run"), "--no-report", "--quiet"]) == 0
    gens = records(tmp_path / "run" / "generations.jsonl")
    assert sorted(g["text"] for g in gens) == sorted([ANSWER, WRONG])
    review = {"format": "harness-review", "version": 1, "run": "streams", "reviewer": "ann", "blind": True,
              "exported_at": "2026-12-06T10:05:00Z",
              "grades": [{"key": g["key"], "sha256": answer_sha256(g["text"]), "acceptable": g["text"] == ANSWER,
                          "grade": 9 if g["text"] == ANSWER else 2, "note": "", "at": "2026-12-06T10:00:00Z"}
                         for g in gens]}  # fmt: skip
    (tmp_path / "review.json").write_text(json.dumps(review, ensure_ascii=False), "utf-8")
    assert main(["review", "add", str(tmp_path / "run"), str(tmp_path / "review.json")]) == 0
    assert main(["report", str(tmp_path / "run"), "--out", str(tmp_path / "rep")]) == 0
    out = summary(tmp_path / "rep")
    people = {j["name"]: j["with_people"] for j in out["judges"]["judges"]}
    assert people == {"fair": "trusted", "contrary": "not trusted"}
    assert out["judges"]["in_verdict"] == ["fair"]
    # fair alone: grades 9 (right) and 2 (wrong) -> pass rate 1/2, mean ((9-1)/9 + (2-1)/9) / 2 = 1/2.
    # Had contrary voted, each answer's median would be (9 + 2) / 2 = 5.5 < the pass mark 6: pass rate 0.
    assert out["models"][0]["judge_pass_rate"] == 0.5
    assert out["models"][0]["judge_mean"] == pytest.approx(0.5)
    html = (tmp_path / "rep" / "index.html").read_text("utf-8")
    assert "no: not trusted" in html
    # the panel (fair) is trusted by people and passes its own checks: its grade is a headline on the card
    assert out["judges"]["headline"] is True and 'id="judge-headline"' in html
    # contrary alone: not trusted, so out of the verdict, but no candidate is "not judged" for want of a family
    data = yaml.safe_load(plan.read_text("utf-8"))
    alone = write_yaml(tmp_path / "alone.yaml", {**data, "judges": [data["judges"][1]]})
    assert main(["judge", str(tmp_path / "run"), "--config", str(alone), "--quiet"]) == 0
    assert main(["report", str(tmp_path / "run"), "--out", str(tmp_path / "rep-alone")]) == 0
    out = summary(tmp_path / "rep-alone")
    assert out["judges"]["in_verdict"] == [] and out["judges"]["unjudged"] == []
    assert out["judges"]["headline"] is False


def test_verdicts_kept_from_before_the_family_rule_do_not_count(tmp_path: Path) -> None:
    """A run judged with ``same_family: allow``, then the plan says ``exclude``: the Qwen judge's verdicts on
    the Qwen candidate stay on file but no longer count, and nothing is asked again."""
    with fake_server(lambda n: ANSWERED) as cand, fake_server(lambda n: says("Rating: 8")) as qwen:
        candidates = [qwen_small(cand.base_url)]
        q = judge("qwen-judge", qwen.base_url, "Qwen/Qwen2.5-7B-Instruct")
        plan = run_plan(tmp_path, cand.base_url, candidates=candidates, judge=q, panel={"same_family": "allow"})
        assert run(plan, tmp_path) == 0
        assert summary(tmp_path / "rep")["models"][0]["judge_mean"] == pytest.approx(7 / 9)
        plan = run_plan(tmp_path, cand.base_url, candidates=candidates, judge=q)  # panel.same_family: exclude
        assert main(["judge", str(tmp_path / "run"), "--config", str(plan), "--quiet"]) == 0
        assert len(qwen.requests) == SAMPLES  # nothing asked again
    assert len(records(tmp_path / "run" / "judgments.jsonl")) == SAMPLES  # still on file
    assert main(["report", str(tmp_path / "run"), "--out", str(tmp_path / "rep2")]) == 0
    out = summary(tmp_path / "rep2")
    assert out["models"][0]["judge_mean"] is None and out["judges"]["unjudged"] == ["qwen-small"]


def test_a_panel_changed_after_the_run_is_judged_before_the_report_uses_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with (
        fake_server(lambda n: ANSWERED) as cand,
        fake_server(lambda n: says("Rating: 8")) as a,
        fake_server(lambda n: says("Rating: 4")) as b,
    ):
        plan = run_plan(tmp_path, cand.base_url, judges=[judge("a", a.base_url)])
        assert run(plan, tmp_path) == 0
        run_dir = tmp_path / "run"
        data = yaml.safe_load(plan.read_text("utf-8"))
        plan2 = write_yaml(
            tmp_path / "plan2.yaml", {**data, "judges": [judge("a", a.base_url), judge("b", b.base_url)]}
        )
        capsys.readouterr()
        # b never graded: the report cannot take the new panel without `harness judge`
        assert main(["report", str(run_dir), "--plan", str(plan2), "--out", str(tmp_path / "r2")]) == 2
        assert "apply with `harness judge`" in capsys.readouterr().err
        assert main(["judge", str(run_dir), "--config", str(plan2), "--quiet"]) == 0
        assert len(a.requests) == SAMPLES and len(b.requests) == SAMPLES  # a asked nothing again
    assert "the run's saved plan is now" in capsys.readouterr().err
    # a plain `harness report` now decides with the panel the run was last judged with: median(8, 4) = 6
    assert main(["report", str(run_dir), "--out", str(tmp_path / "r3")]) == 0
    out = summary(tmp_path / "r3")
    assert out["judges"]["in_verdict"] == ["a", "b"]
    assert out["models"][0]["judge_mean"] == pytest.approx(5 / 9)  # (6 - 1) / 9
    # the rule is the report's to apply: min over the verdicts on file, no judging needed
    plan3 = write_yaml(tmp_path / "plan3.yaml", {**yaml.safe_load(plan2.read_text("utf-8")), "panel": {"rule": "min"}})
    assert main(["report", str(run_dir), "--plan", str(plan3), "--out", str(tmp_path / "r4")]) == 0
    assert summary(tmp_path / "r4")["models"][0]["judge_mean"] == pytest.approx(3 / 9)  # min(8, 4) = 4
