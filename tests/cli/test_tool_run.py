"""A whole run of a question set with tools, against a fake endpoint that never calls: the answers are
graded on calls and the report's summary.json carries the call figures."""

from __future__ import annotations

import json
from pathlib import Path

from harness.cli import main
from tests.support.fake_server import Reply, chunk, fake_server, sse_bytes
from tests.support.files import write_yaml
from tests.support.tool_set import LEAVE_TOOL


def test_a_run_with_tools_reports_call_figures(tmp_path: Path) -> None:
    write_yaml(tmp_path / "set.yaml", {
        "id": "hr", "title": "HR", "language": "zh", "tools": [LEAVE_TOOL],
        "questions": [
            {"id": "call", "category": "假期", "question": "我是E2051，病假还能请几天？",
             "expect_call": {"name": "get_leave_balance", "arguments": {"employee_id": "E2051", "leave_type": "病假"}}},
            {"id": "direct", "category": "制度", "question": "年假最少可以按几天请？", "no_call": True},
        ],
    })  # fmt: skip
    body = sse_bytes(chunk("我不知道。"), chunk(finish="stop"), "[DONE]")
    with fake_server(lambda n: Reply([(0.0, body)])) as srv:
        plan = write_yaml(tmp_path / "plan.yaml", {
            "name": "tools", "question_sets": ["set.yaml"], "sampling": {"max_tokens": 32, "samples": 1},
            "candidates": [{"name": "m", "model": "m", "api": "chat", "endpoint": {"base_url": srv.base_url}}],
            "limits": {"retries": 0}, "perf": {"sweep": None},
        })  # fmt: skip
        assert main(["run", str(plan), "--run-dir", str(tmp_path / "run"), "--no-report", "--quiet"]) == 0
        asked = [json.loads(r) for r in srv.requests]
    # both questions are offered the set's one tool, and the model may choose (tool_choice "auto")
    assert len(asked) == 2
    assert all(b["tools"] == [{"type": "function", "function": LEAVE_TOOL}] for b in asked)
    assert all(b["tool_choice"] == "auto" for b in asked)
    assert main(["report", str(tmp_path / "run"), "--out", str(tmp_path / "rep")]) == 0
    (m,) = json.loads((tmp_path / "rep" / "summary.json").read_text())["models"]
    # "call" expects a call and got text: missed (1 of 1). "direct" is no_call and got text: right.
    assert (m["call_responses"], m["call_accuracy"], m["missed_call_rate"]) == (2, 0.0, 1.0)
    assert (m["unexpected_call_rate"], m["no_call_precision"]) == (0.0, 0.5)  # no_call_right 1 / (1 + missed 1)
    assert m["tool_call_p50_ms"] is None  # no call was made
