"""Tool calls under load (issue 31): the sweep's requests to questions offered tools carry them, each level's
calls are graded after it, and requests without tools are sent and recorded exactly as before.

The sweep runs against tests/support/fake_server.py, which answers each request by its body (its seed says
which request of the level it is); every expected figure is worked by hand beside it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.inputs.plan import LoadedPlan, load_plan
from harness.perf_records import CapacityRecord
from harness.records import Api, LevelCalls, LoadLevel, Perf, Slo, Sweep
from harness.rollup.perf_summary import LEVEL_CALL_COLUMNS, capacity_rows, sweep_frame
from harness.run.perf.capacity import Capacity
from harness.run.perf.capacity_run import ProbeRun, to_capacity_record
from harness.run.perf.load_requests import level_calls, sweep_load
from harness.run.perf.loadgen import Level, LevelRun
from harness.run.perf.sweep import run_sweep, to_record
from harness.run.served import Served
from harness.rundir import RunDir
from harness.server.client import Result
from harness.server.model_server import ModelServer
from tests.support.fake_server import Reply, fake_server, sse_bytes
from tests.support.files import write_yaml
from tests.support.tool_set import LEAVE_TOOL, call

USAGE = json.dumps({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4}})
OFFERED = [{"type": "function", "function": LEAVE_TOOL}]
"""What the request's ``tools`` must be: OpenAI's shape around the set's one tool."""


def tool_chunk(name: str | None, fragment: str, index: int = 0) -> str:
    function: dict[str, str] = {"arguments": fragment}
    if name is not None:
        function["name"] = name
    head: dict[str, Any] = {"index": index, "function": function}
    if name is not None:
        head |= {"id": f"call_{index}", "type": "function"}
    return json.dumps({"choices": [{"index": 0, "delta": {"tool_calls": [head]}, "finish_reason": None}]},
                      ensure_ascii=False)  # fmt: skip


def text_chunk(text: str, api: str = "chat") -> str:
    choice = {"index": 0, "delta": {"content": text}} if api == "chat" else {"index": 0, "text": text}
    return json.dumps({"choices": [{**choice, "finish_reason": None}]}, ensure_ascii=False)


def finish(reason: str) -> str:
    return json.dumps({"choices": [{"index": 0, "delta": {}, "finish_reason": reason}]})


def answer(body: bytes) -> Reply:
    """The fake model. Requests 0..5 of a level ask, in the sweep's cycle, call, direct, plain, call, direct,
    plain (seed = the plan's seed 0 + the request's index). It calls right at seed 0, with the wrong
    leave_type at seed 3; answers ``direct`` without a call at seed 1 and with a call cut mid-arguments at
    seed 4; answers the plain question in text."""
    req = json.loads(body)
    seed = req["seed"]
    if "prompt" in req:  # the completions API: text only
        return Reply([(0.0, sse_bytes(text_chunk("15天", "completions"), USAGE, "[DONE]"))])
    calls = {
        0: [tool_chunk("get_leave_balance", '{"employee_id": "E2051", '), tool_chunk(None, '"leave_type": "病假"}')],
        3: [tool_chunk("get_leave_balance", '{"employee_id": "E2051", "leave_type": "年假"}')],
        4: [tool_chunk("get_leave_balance", '{"employee_id": "E20')],
    }
    if seed in calls:
        events = [*calls[seed], finish("tool_calls")]
    else:
        events = [text_chunk("可以按0.5天请。" if seed == 1 else "15天"), finish("stop")]
    return Reply([(0.0, sse_bytes(*events, USAGE, "[DONE]"))])


def sweep_plan(tmp_path: Path, url: str, api: Api = "chat", **sweep: Any) -> LoadedPlan:
    write_yaml(tmp_path / "hr.yaml", {
        "id": "hr", "title": "HR", "language": "zh", "tools": [LEAVE_TOOL],
        "questions": [
            {"id": "call", "category": "假期", "question": "我是E2051，病假还能请几天？",
             "expect_call": {"name": "get_leave_balance", "arguments": {"employee_id": "E2051", "leave_type": "病假"}}},
            {"id": "direct", "category": "制度", "question": "年假最少可以按几天请？", "no_call": True,
             "checks": [{"type": "number", "value": 0.5, "unit": "天"}]},
        ],
    })  # fmt: skip
    plain = [{"id": "q", "category": "c", "question": "年假几天？"}]
    write_yaml(tmp_path / "plain.yaml", {"id": "plain", "title": "P", "language": "zh", "questions": plain})
    plan = write_yaml(tmp_path / "plan.yaml", {
        "name": "sweep-calls",
        "candidates": [{"name": "a", "model": "a", "api": api, "endpoint": {"base_url": url}}],
        "question_sets": ["hr.yaml", "plain.yaml"],
        "sampling": {"max_tokens": 64},
        "perf": {"sweep": {"concurrency": [1, 3], "requests_per_level": 6, "max_tokens": 5, **sweep}},
    })  # fmt: skip
    return load_plan(plan)


NOWHERE = "http://127.0.0.1:9/v1"
"""An endpoint never asked: the plan is only read."""


def the_sweep(lp: LoadedPlan) -> Sweep:
    assert lp.plan.perf.sweep is not None
    return lp.plan.perf.sweep


def run(tmp_path: Path, api: Api = "chat", **sweep: Any) -> tuple[list[LoadLevel], list[dict[str, Any]], list[bytes]]:
    """Sweep the fake model; (the levels recorded, each request body as JSON, each as bytes)."""
    with fake_server(answer=answer, health=lambda: 200) as srv:
        lp = sweep_plan(tmp_path, srv.base_url, api, **sweep)
        server = ModelServer(base_url=srv.base_url, model="a", api_key=None, managed=False)
        assert run_sweep(Served(lp, "a", server, api, tmp_path, lambda msg: None, show_progress=False)) == 2
        sent = list(srv.requests)
    return RunDir(tmp_path).read_levels(), [json.loads(b) for b in sent], sent


def test_each_level_records_its_graded_calls(tmp_path: Path) -> None:
    c1, c3 = run(tmp_path)[0]
    # per level: 4 requests to questions that grade calls (seeds 0, 1, 3, 4), 2 of them expect_call;
    # right at 0, wrong_call at 3 (年假 for 病假), no_call_right at 1, unparsable at 4 (arguments cut)
    want = LevelCalls(responses=4, expect_call_responses=2, right=1, wrong_call=1, missed_call=0, unexpected_call=0,
                      no_call_right=1, unparsable=1, failed=0, call_accuracy=0.5, unparsable_share=0.25)  # fmt: skip
    assert (c1.level_id, c3.level_id) == ("c1", "c3")
    assert c1.calls == want and c3.calls == want
    assert all(t.error is None for t in c1.requests + c3.requests) and len(c1.requests) == 6


def test_tool_requests_carry_their_tools_and_plain_ones_are_sent_as_before(tmp_path: Path) -> None:
    _, bodies, raw = run(tmp_path)
    by_seed = {b["seed"]: (b, r) for b, r in zip(bodies, raw, strict=True)}  # the two levels send the same bodies
    assert sorted(by_seed) == [0, 1, 2, 3, 4, 5]
    for seed in (0, 1, 3, 4):  # call and direct: the quality run's first request (sampling.max_tokens 64)
        body, _ = by_seed[seed]
        assert body["tools"] == OFFERED and body["tool_choice"] == "auto"
        assert body["max_tokens"] == 64 and "ignore_eos" not in body and "stop" not in body
    for seed in (2, 5):  # plain: byte for byte the body the sweep always sent (sweep.max_tokens 5, ignore_eos)
        _, sent = by_seed[seed]
        before = {"model": "a", "max_tokens": 5, "temperature": 0.0, "top_p": 1.0, "stream": True,
                  "stream_options": {"include_usage": True}, "seed": seed, "ignore_eos": True,
                  "messages": [{"role": "user", "content": "年假几天？"}]}  # fmt: skip
        assert sent == json.dumps(before).encode()  # aiohttp writes json= with json.dumps' defaults


def test_on_the_completions_api_nothing_is_offered_or_graded(tmp_path: Path) -> None:
    levels, bodies, _ = run(tmp_path, api="completions")
    assert [lv.calls for lv in levels] == [None, None]  # tools need the chat API: the level is as before
    assert all("tools" not in b and "tool_choice" not in b and b["max_tokens"] == 5 and b["ignore_eos"] for b in bodies)
    assert sweep_frame(levels, Slo()).columns.intersection(LEVEL_CALL_COLUMNS).empty


def test_a_sweep_without_tool_questions_records_no_calls(tmp_path: Path) -> None:
    lp = sweep_plan(tmp_path, NOWHERE)
    lp.sets.pop(0)  # the plain set alone
    load = sweep_load(lp, "chat", the_sweep(lp))
    assert not load.grades_calls and all(r.tools is None and r.ignore_eos for r in load.requests)


# ---------------------------------------------------------------- grading after the level (pure)


def leave(args: str) -> Result:
    return Result(tool_calls=[call("get_leave_balance", args)], ttft_ms=10.0, e2e_ms=20.0)


def test_a_cut_level_grades_what_came_back_and_a_failed_request_is_not_graded(tmp_path: Path) -> None:
    lp = sweep_plan(tmp_path, NOWHERE)
    checks = sweep_load(lp, "chat", the_sweep(lp)).checks
    assert [c is not None for c in checks] == [True, True, False, True, True, False]
    # requests 0 and 4 came back (0 right, 4: direct answered in text), 3 failed, 1, 2 and 5 were cut or unsent
    results = [leave('{"employee_id": "E2051", "leave_type": "病假"}'), Result(error="HTTP 500"),
               Result(text="可以按0.5天请。", ttft_ms=5.0, e2e_ms=9.0)]  # fmt: skip
    run_ = LevelRun(Level("concurrency", 2), results, 0.0, 1.0, indices=[0, 3, 4], stopped="over-saturated",
                    unsent=2, cut=1)  # fmt: skip
    got = to_record("a", run_, checks).calls
    # graded: request 0 (right, expect_call) and 4 (no_call_right); request 3 failed
    assert got == LevelCalls(responses=2, expect_call_responses=1, right=1, no_call_right=1, failed=1,
                             call_accuracy=1.0, unparsable_share=0.0)  # fmt: skip
    # a level whose requests grade no calls records none, as before
    assert level_calls(results, [0, 1, 2], [None, None, None]) is None
    assert to_record("a", run_).calls is None


def test_an_old_level_record_without_calls_still_loads_and_shows_no_call_columns(tmp_path: Path) -> None:
    timing = {"ttft_ms": 10.0, "e2e_ms": 20.0, "output_tokens": 4}
    old = {"schema_version": 2, "candidate": "a", "level_id": "c1", "kind": "concurrency", "value": 1.0,
           "started_at": 0.0, "wall_s": 1.0, "requests": [timing]}  # fmt: skip
    RunDir(tmp_path).loadtest.write_text(json.dumps(old) + "\n", encoding="utf-8")
    (level,) = RunDir(tmp_path).read_levels()
    assert level.calls is None
    frame = sweep_frame([level], Slo())
    assert frame.columns.intersection(LEVEL_CALL_COLUMNS).empty
    # beside a level that graded calls, the old one's call columns are empty, not 0
    graded = level.model_copy(update={"level_id": "c2", "calls": LevelCalls(responses=4, expect_call_responses=2,
                                                                            right=1, call_accuracy=0.5)})  # fmt: skip
    rows = sweep_frame([level, graded], Slo()).set_index("level")
    assert rows.loc["c2", "call_accuracy"] == 0.5 and rows.loc["c2", "call_responses"] == 4
    assert rows.loc["c1", LEVEL_CALL_COLUMNS].isna().all()


# ---------------------------------------------------------------- the capacity search


def test_the_capacity_record_pools_the_estimates_call_accuracy() -> None:
    def calls(right: int, of: int) -> LevelCalls:
        return LevelCalls(responses=of, expect_call_responses=of, right=right, call_accuracy=right / of)

    probes = {
        1.0: [ProbeRun(True, 1.0, 10.0, calls=calls(4, 4)), ProbeRun(True, 1.0, 10.0, calls=calls(4, 4))],
        2.0: [ProbeRun(True, 2.0, 20.0, calls=calls(3, 4)), ProbeRun(True, 2.0, 20.0, calls=calls(1, 2))],
        4.0: [ProbeRun(False, 1.0, 30.0, calls=calls(0, 4)), ProbeRun(False, 1.0, 30.0, calls=None)],
    }
    rec = to_capacity_record("a", Capacity("concurrency", 2.0, 2.0, 4.0, ()), probes)
    # at the estimate c2: (3 + 1) right of (4 + 2) = 2/3, pooled (the mean of 0.75 and 0.5 would be 0.625)
    assert rec.call_accuracy == pytest.approx(2 / 3)
    assert [len(p.calls) for p in rec.points] == [2, 2, 2] and rec.points[2].calls[1] is None
    again = CapacityRecord.model_validate_json(rec.model_dump_json())
    assert again == rec
    (row,) = capacity_rows([rec], [], Perf())
    assert row["call_accuracy"] == pytest.approx(2 / 3)
    # per point, over its runs: c1 8/8, c2 4/6, c4 0/4 (the run without graded calls adds nothing)
    assert [p["call_accuracy"] for p in row["points"]] == pytest.approx([1.0, 2 / 3, 0.0])
    # a search without tool questions: no call key anywhere, as before
    no_calls = {1.0: [ProbeRun(True, 1.0, 1.0)], 2.0: [ProbeRun(False, 1.0, 1.0)]}
    plain = to_capacity_record("a", Capacity("concurrency", 1.0, 1.0, 2.0, ()), no_calls)
    assert plain.call_accuracy is None and all(p.calls == [] for p in plain.points)
    (row,) = capacity_rows([plain], [], Perf())
    assert "call_accuracy" not in row and all("call_accuracy" not in p for p in row["points"])
