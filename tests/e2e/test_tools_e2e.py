"""Tool calls end to end on the real CPU vLLM (issue 31): Qwen2.5-Coder-0.5B-Instruct, started by the harness
with ``--enable-auto-tool-choice --tool-call-parser hermes``, asked the four questions of
tests/data/sets/tools_e2e_zh.yaml at temperature 0, then scored, rolled up and reported.

What the model does there (vLLM 0.32's CPU build, greedy; docs/tools.md, "Calls written in the text"): it
never writes ``<tool_call>``, so the hermes parser streams no ``tool_calls``; it writes each call as JSON in
its answer, which the client reads as the call made (``from_text``). Each question shows one kind of grade:

- leave-001: ``get_leave_balance`` with ``employee_id`` E2051 and ``leave_type`` 病假, as asked: right;
- reimb-001: ``submit_reimbursement`` with the category 出差, which is not one of the schema's enum
  (差旅, 餐饮, 办公用品, 培训; 高铁票 for a business trip is 差旅): a wrong value, so a wrong call;
- chat-001: "what can you do" is answered in words: no call, as the question wants;
- leave-002: the balance lookup, whose scripted reply (3 days left) goes back as a ``tool`` message before
  the model is asked again; the model then repeats the same lookup, which grades the answer wrong.

The load sweep sends the same four questions at concurrency 1 and 2 and grades each level's calls.

Marked ``vllm`` (a real server); one server start, about two minutes on a 2-core host.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from harness.records import Generation, LoadLevel, Score
from harness.store import read_records
from tests.support.files import DATA, HARNESS, MODELS, REPO, need_model, write_yaml
from tests.support.vllm import CPU_VLLM

pytestmark = pytest.mark.vllm


@pytest.fixture(scope="module")
def tool_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run directory of one harness run of the tools set on Qwen with the hermes parser."""
    qwen = need_model(MODELS / "qwen2.5-coder-0.5b-instruct")
    tmp = tmp_path_factory.mktemp("tools")
    plan = write_yaml(
        tmp / "plan.yaml",
        {
            "name": "tools-e2e",
            "candidates": [{
                "name": "qwen", "model": str(qwen), "tool_parser": "hermes",
                "vllm": CPU_VLLM.model_dump(exclude_defaults=True),
            }],
            "question_sets": [str(DATA / "sets" / "tools_e2e_zh.yaml")],
            "sampling": {"temperature": 0.0, "max_tokens": 160, "seed": 7, "samples": 1},
            "limits": {"concurrency": 4},
            # one request per question at each level: the sweep grades each level's calls
            "perf": {"sweep": {"concurrency": [1, 2], "requests_per_level": 4, "max_tokens": 16}},
        },
    )  # fmt: skip
    run_dir, report_dir = tmp / "run", tmp / "report"
    cmd = [*HARNESS, "run", str(plan), "--run-dir", str(run_dir), "--report-dir", str(report_dir), "--quiet"]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return run_dir


def by_question(run_dir: Path) -> tuple[dict[str, Generation], dict[str, Score]]:
    gens = {g.question_id: g for g in read_records(run_dir / "generations.jsonl", Generation)}
    scores = {s.question_id: s for s in read_records(run_dir / "scores.jsonl", Score)}
    return gens, scores


def shown(g: Generation) -> str:
    """What the model did, for a failure message: its calls and its text."""
    return json.dumps({"calls": [c.model_dump() for c in g.tool_calls], "text": g.text}, ensure_ascii=False)


def test_the_server_was_started_with_the_named_tool_call_parser(tool_run: Path) -> None:
    log = (tool_run / "logs" / "qwen.vllm.log").read_text(encoding="utf-8", errors="replace")
    # vLLM logs its non-default arguments at start-up
    assert "'enable_auto_tool_choice': True" in log and "'tool_call_parser': 'hermes'" in log


def test_a_right_call(tool_run: Path) -> None:
    gens, scores = by_question(tool_run)
    g, s = gens["leave-001"], scores["leave-001"]
    assert [(c.name, json.loads(c.arguments)) for c in g.tool_calls] == [
        ("get_leave_balance", {"employee_id": "E2051", "leave_type": "病假"})
    ], shown(g)
    assert g.tool_calls[0].from_text  # written as JSON in the answer, not through the parser
    assert g.tool_call_ms is not None and 0 < g.tool_call_ms <= (g.e2e_ms or 0)
    assert s.calls is not None and s.calls.outcome == "right" and s.calls.in_text == 1
    assert (s.score, s.essentials_passed) == (1.0, True)  # a right call and no text checks: the call decides


def test_a_wrong_argument(tool_run: Path) -> None:
    gens, scores = by_question(tool_run)
    g, s = gens["reimb-001"], scores["reimb-001"]
    (call,) = g.tool_calls
    args = json.loads(call.arguments)
    assert call.name == "submit_reimbursement" and args["category"] not in ("差旅", "餐饮", "办公用品", "培训"), shown(
        g
    )
    assert s.calls is not None and s.calls.outcome == "wrong_call"
    assert "category" in {e.path for e in s.calls.arg_errors if e.kind == "wrong_value"}
    assert (s.score, s.essentials_passed) == (0.0, False)  # a wrong call: the system would do the wrong thing


def test_a_question_to_answer_without_a_call(tool_run: Path) -> None:
    gens, scores = by_question(tool_run)
    g, s = gens["chat-001"], scores["chat-001"]
    assert g.tool_calls == [] and g.text.strip(), shown(g)
    assert s.calls is not None and s.calls.outcome == "no_call_right"


def test_a_two_step_question_sends_the_scripted_reply_and_grades_what_the_model_did_after_it(tool_run: Path) -> None:
    gens, scores = by_question(tool_run)
    g, s = gens["leave-002"], scores["leave-002"]
    assert g.tool_calls and g.tool_calls[0].name == "get_leave_balance", shown(g)
    first = g.tool_steps[0]
    # the set's scripted reply, sent back as the tool message's content (JSON text of the mapping)
    assert [json.loads(r) for r in first.replies] == [
        {"employee_id": "E1024", "leave_type": "年假", "remaining_days": 3}
    ]
    # given the balance, this model asks for it again with the same arguments instead of answering (seen on
    # both demo samples too): a loop, which a careful grader fails, so the right first call does not save it
    assert len(g.tool_steps) >= 2, shown(g)
    again = g.tool_steps[1].calls[0]
    assert (again.name, json.loads(again.arguments)) == (
        "get_leave_balance",
        {"employee_id": "E1024", "leave_type": "年假"},
    )
    assert (
        s.calls is not None
        and s.calls.outcome == "wrong_call"
        and s.calls.reason.startswith("repeated get_leave_balance")
    )
    assert (s.score, s.essentials_passed) == (0.0, False)
    # the final text's checks still ran and are shown ("3 天", "不够")
    assert [c.type for c in s.checks] == ["number", "contains_any"]


def test_the_summary_gives_the_call_figures(tool_run: Path) -> None:
    (model,) = json.loads((tool_run.parent / "report" / "summary.json").read_text())["models"]
    # 3 questions expect a call (leave-001 right; reimb-001 a wrong argument; leave-002 repeated after the
    # reply: wrong), 1 expects none (right)
    assert model["call_responses"] == 4
    assert model["call_accuracy"] == pytest.approx(1 / 3) and model["wrong_call_rate"] == pytest.approx(2 / 3)
    assert model["unexpected_call_rate"] == 0.0 and model["no_call_precision"] == 1.0
    assert model["text_call_share"] == 1.0  # every call this model made was written in the text


def test_the_load_sweep_grades_the_calls_of_each_level(tool_run: Path) -> None:
    levels = [r for r in read_records(tool_run / "loadtest.jsonl", LoadLevel) if r.skipped is None]
    assert [lv.level_id for lv in levels] == ["c1", "c2"]
    for lv in levels:
        calls = lv.calls
        assert calls is not None, f"level {lv.level_id} graded no call"
        # 4 requests, one per question: 3 expect a call, chat-001 expects none; none failed
        assert (calls.responses, calls.expect_call_responses, calls.failed) == (4, 3, 0)
        assert calls.right + calls.wrong_call + calls.missed_call + calls.unparsable == 3
        assert calls.no_call_right + calls.unexpected_call == 1
    # alone (c1), each request is the quality run's first request at temperature 0: the same first calls,
    # 2 right of 3 (leave-001 and leave-002 right, reimb-001 wrong); no reply is sent under load, so
    # leave-002's repeat after the reply, which the quality run grades, is not seen here
    assert levels[0].calls is not None and levels[0].calls.call_accuracy == pytest.approx(2 / 3)
