"""A finished run directory whose answers' tool calls were graded, for the report and compare tests (no tests
here): the HR set of :mod:`tests.support.tool_set` written to YAML, a plan of two samples, the answers given
and their scores from the real rubric (:func:`harness.scoring.stage.score_records`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.inputs.plan import load_plan
from harness.manifest_records import CandidateEntry
from harness.records import Generation, Phase, ToolCallMade, ToolStep
from harness.run.manifest import new_manifest
from harness.rundir import GENERATIONS, PHASES, SCORES, save_manifest
from harness.scoring.stage import score_records
from harness.store import write_records
from tests.support.files import write_yaml
from tests.support.tool_set import call, hr_set, hr_set_data

QS = hr_set()
SICK = '{"employee_id": "E2051", "leave_type": "病假"}'
ANNUAL_2051 = '{"employee_id": "E2051", "leave_type": "年假"}'  # the wrong leave_type for question "call"
E1024 = '{"employee_id": "E1024", "leave_type": "年假"}'
E1024_SICK = '{"employee_id": "E1024", "leave_type": "病假"}'  # the wrong leave_type for question "two_step"
HOSTILE_NAME = "</script><img src=x onerror=\"document.title='PWNED'\">"
HOSTILE_ARGS = '{"x": "<b id=\\"bold\\">not bold</b>"}'


def leave(args: str) -> list[ToolCallMade]:
    return [call("get_leave_balance", args)]


def gen(cand: str, qid: str, sample: int, calls: list[ToolCallMade], ms: float | None = None,
        error: str | None = None, steps: list[ToolStep] | None = None) -> Generation:  # fmt: skip
    return Generation(key=f"{cand}/hr/{qid}/{sample}", candidate=cand, set_id="hr", question_id=qid, sample=sample,
                      api="chat", seed=sample, text="还剩3天" if qid == "two_step" else "可以按0.5天请",
                      tool_calls=calls, tool_call_ms=ms, error=error, tool_steps=steps or [],
                      ttft_ms=100.0, e2e_ms=500.0, output_tokens=20)  # fmt: skip


def two_step_rounds(args: str) -> list[ToolStep]:
    """The rounds of a two-step answer: the call and its scripted reply, then the final text."""
    return [ToolStep(calls=leave(args), replies=['{"remaining_days": 3}']), ToolStep(text="还剩3天")]


def answers_a() -> list[Generation]:
    """Run A's answers: as tests/rollup/test_call_figures.py's, with a hostile function name on a's call to the
    ``no_call`` question and a's first two-step answer in rounds.

    a: call right (100 ms) / wrong leave_type (300 ms); two_step right twice (200, 400 ms); direct answered
    without a call once, with a (hostile) call once (50 ms). b: call missed / unparsable (80 ms); two_step
    missed twice; direct right twice; one more answer that failed (not graded)."""
    return [
        gen("a", "call", 0, leave(SICK), 100.0), gen("a", "call", 1, leave(ANNUAL_2051), 300.0),
        gen("a", "two_step", 0, leave(E1024), 200.0, steps=two_step_rounds(E1024)),
        gen("a", "two_step", 1, leave(E1024), 400.0),
        gen("a", "direct", 0, []), gen("a", "direct", 1, [call(HOSTILE_NAME, HOSTILE_ARGS)], 50.0),
        gen("b", "call", 0, []), gen("b", "call", 1, leave("{bad"), 80.0),
        gen("b", "two_step", 0, []), gen("b", "two_step", 1, []),
        gen("b", "direct", 0, []), gen("b", "direct", 1, []),
        gen("b", "call", 2, [], error="HTTP 500"),
    ]  # fmt: skip


def set_file() -> dict[str, Any]:
    """:func:`hr_set_data` as a set file writes it: a check's ``args`` flat beside its ``type``."""
    data = hr_set_data()
    for q in data["questions"]:
        q["checks"] = [{"type": c["type"], **c.get("args", {})} for c in q.get("checks", [])]
    return data


def write_call_run(root: Path, name: str, gens: list[Generation], samples: int = 2) -> Path:
    """A finished run ``root/name`` of candidates a and b over the HR set, with ``gens`` scored."""
    run_dir = root / name
    run_dir.mkdir(parents=True)
    set_path = write_yaml(root / f"{name}.hr.yaml", set_file())
    cands = sorted({g.candidate for g in gens})
    plan = write_yaml(root / f"{name}.plan.yaml", {
        "name": name, "question_sets": [str(set_path)], "sampling": {"samples": samples},
        "candidates": [{"name": c, "model": f"org/{c}"} for c in cands],
    })  # fmt: skip
    lp = load_plan(plan)
    m = new_manifest(lp)
    m.candidates = {c: CandidateEntry(model=f"org/{c}", api="chat", error=None) for c in cands}
    save_manifest(run_dir, m)
    write_records(run_dir / GENERATIONS, list(gens))
    write_records(run_dir / SCORES, score_records(gens, {"hr": lp.sets[0].qs}))
    write_records(run_dir / PHASES, [Phase(candidate=c, started_at=0.0, ended_at=10.0, requests=7) for c in cands])
    return run_dir
