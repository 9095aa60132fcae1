"""`harness compare` on runs whose tool calls were graded: each figure's change B - A and the questions whose
call outcome changed, with hand-reasoned values; runs without calls compare as they did."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.compare.runs import Comparison, compare_runs, comparison_json, load_run
from harness.compare.text import format_comparison
from harness.records import Generation
from harness.run import manifest as manifest_mod
from tests.compare.test_compare import make_run, varied, write_set
from tests.support.call_run import E1024_SICK, SICK, answers_a, gen, leave, write_call_run


@pytest.fixture(autouse=True)
def fixed_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(manifest_mod, "git_commit", lambda: {"commit": "abc123", "dirty": False})
    monkeypatch.setattr(manifest_mod, "host_info", lambda: {"hostname": "box"})


def answers_b() -> list[Generation]:
    """Run B: run A's answers with three changed. a's second answer to "call" now right (A: wrong leave_type),
    a's second answer to "two_step" now wrong (leave_type 病假 for 年假); b's first answer to "call" now right
    (A: no call), its call after 90 ms."""
    changed = {
        ("a", "call", 1): gen("a", "call", 1, leave(SICK), 300.0),
        ("a", "two_step", 1): gen("a", "two_step", 1, leave(E1024_SICK), 400.0),
        ("b", "call", 0): gen("b", "call", 0, leave(SICK), 90.0),
    }
    return [changed.get((g.candidate, g.question_id, g.sample), g) for g in answers_a()]


def compare(a: Path, b: Path) -> Comparison:
    return compare_runs(load_run(a), load_run(b), resamples=200, seed=1)


def figures(c: Comparison, cand: str) -> dict[str, tuple[float | None, float | None, float | None]]:
    ch = next(ch for ch in c.changes if ch.candidate == cand)
    assert ch.calls is not None
    return {f.metric: (f.a, f.b, f.diff) for f in ch.calls.figures}


def test_the_change_in_each_call_figure_and_the_questions_that_changed(tmp_path: Path) -> None:
    c = compare(write_call_run(tmp_path, "ra", answers_a()), write_call_run(tmp_path, "rb", answers_b()))
    a, b = figures(c, "a"), figures(c, "b")
    # a: one expect_call answer turned right and one turned wrong: 3 of 4 right in both runs.
    assert a["call_accuracy"] == (0.75, 0.75, 0.0) and a["wrong_call_rate"] == (0.25, 0.25, 0.0)
    # b, expect_call answers (call 0, call 1, two_step 0, two_step 1): A missed, unparsable, missed, missed;
    # B right, unparsable, missed, missed. Accuracy 0/4 -> 1/4, missed 3/4 -> 2/4.
    assert b["call_accuracy"] == (0.0, 0.25, 0.25)
    assert b["missed_call_rate"] == (0.75, 0.5, -0.25)
    # no-call precision: no_call_right 2 over (2 + missed 3) = 0.4 in A, over (2 + missed 2) = 0.5 in B.
    assert b["no_call_precision"][0] == pytest.approx(0.4) and b["no_call_precision"][1] == pytest.approx(0.5)
    assert b["no_call_precision"][2] == pytest.approx(0.1)
    # latency: A one call at 80 ms; B 80 and 90 ms -> p50 85, p90 80 + 0.9 x 10 = 89.
    assert b["tool_call_p50_ms"] == (80.0, 85.0, 5.0)
    assert b["tool_call_p90_ms"][1] == pytest.approx(89.0) and b["tool_call_p90_ms"][2] == pytest.approx(9.0)
    # pass^2 of b: call c=0 (A) / c=1 (B) -> 0 either way, two_step 0, direct 1: 1/3 in both runs.
    assert b["call_pass_hat_k"][2] == pytest.approx(0.0)

    ch_a = next(ch for ch in c.changes if ch.candidate == "a").calls
    assert ch_a is not None and (ch_a.responses_a, ch_a.responses_b) == (6, 6)
    flips = {f.question_id: f for f in ch_a.changed}
    assert set(flips) == {"call", "two_step"}  # "direct" did not change
    assert (flips["call"].outcomes_a, flips["call"].outcomes_b) == (["right", "wrong_call"], ["right", "right"])
    assert flips["two_step"].outcomes_b == ["right", "wrong_call"]
    # the right -> wrong_call change names its run, its sample and the argument that differs
    assert flips["two_step"].detail is not None
    assert flips["two_step"].detail.startswith("B sample 1: leave_type:")
    assert "年假" in flips["two_step"].detail and "病假" in flips["two_step"].detail

    text = format_comparison(c)
    assert "Tool calls, B - A" in text
    line = next(x for x in text.splitlines() if x.strip().startswith("b") and "call_accuracy" in x)
    assert line.split()[-3:] == ["0.000", "0.250", "+0.250"]
    assert "~ hr/two_step  right, right -> right, wrong_call  (B sample 1: leave_type:" in text
    assert "a: graded 6 -> 6; 2 questions changed" in text
    assert "b: graded 6 -> 6; 1 question changed" in text
    js = comparison_json(c)
    assert js["changes"][0]["calls"]["changed"][0]["question_id"] == "call"


def test_runs_without_calls_compare_as_before(tmp_path: Path) -> None:
    sets = write_set(tmp_path / "s.yaml", [f"q{i:02d}" for i in range(30)])
    a = make_run(tmp_path, "a", {"m1": varied()}, sets)
    b = make_run(tmp_path, "b", {"m1": varied(0.1)}, sets)
    c = compare(a, b)
    assert all(ch.calls is None for ch in c.changes)
    assert "Tool calls" not in format_comparison(c)
    assert "calls" not in comparison_json(c)["changes"][0]  # the JSON has the keys it had


def test_one_run_with_calls_against_one_without(tmp_path: Path) -> None:
    # Run A graded no calls (every answer of a question without tools); run B is the call run. Their questions
    # differ, so no outcome change is listed; A's figures are not measured, and so neither is any difference.
    sets = write_set(tmp_path / "s.yaml", ["q00"], set_id="hr")
    a = make_run(tmp_path, "a", {"a": {"q00": 1.0}, "b": {"q00": 0.0}}, sets)
    c = compare(a, write_call_run(tmp_path, "rb", answers_a()))
    fa = figures(c, "a")
    assert fa["call_accuracy"] == (None, 0.75, None)
    ch = next(ch for ch in c.changes if ch.candidate == "a").calls
    assert ch is not None and (ch.responses_a, ch.responses_b) == (0, 6) and ch.changed == []
    line = next(x for x in format_comparison(c).splitlines() if "call_accuracy" in x)
    assert line.split() == ["a", "call_accuracy", "–", "0.750", "–"]


def test_the_share_of_calls_written_in_the_text_is_compared(tmp_path: Path) -> None:
    # Run B: run A's answers, with a's two answers to "two_step" read from the text (the same calls): a made 5 calls
    # in each run (call x2, two_step x2, direct x1), none in the text in A, 2 in B -> 0.0 -> 0.4, +0.4; the grades
    # are those of the same calls, so call accuracy stays 3/4 and no question's outcome changes.
    def text_made(g: Generation) -> Generation:
        if (g.candidate, g.question_id) != ("a", "two_step"):
            return g
        return g.model_copy(update={"tool_calls": [c.model_copy(update={"from_text": True}) for c in g.tool_calls]})

    c = compare(write_call_run(tmp_path, "ra", answers_a()),
                write_call_run(tmp_path, "rb", [text_made(g) for g in answers_a()]))  # fmt: skip
    a = figures(c, "a")
    assert a["text_call_share"][:2] == (0.0, pytest.approx(0.4)) and a["text_call_share"][2] == pytest.approx(0.4)
    assert a["call_accuracy"] == (0.75, 0.75, 0.0)
    assert next(ch for ch in c.changes if ch.candidate == "a").calls.changed == []  # type: ignore[union-attr]
    # the candidate is named on its first figure's line only; a comes first
    line = next(x for x in format_comparison(c).splitlines() if "text_call_share" in x)
    assert line.split() == ["text_call_share", "0.000", "0.400", "+0.400"]
