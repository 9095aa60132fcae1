"""Serving with tools (issue 31): the request body, vLLM's tool-call flags, and the plan's parser check.

A question offered no tools must be asked exactly as before (no ``tools``, no ``tool_choice``); one
offered tools carries them with ``tool_choice: "auto"``. A candidate's ``tool_parser`` becomes
``--enable-auto-tool-choice --tool-call-parser NAME``, checked against the installed vLLM before any
server starts, at its line of the plan.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from harness.cli import main
from harness.records import Candidate, Endpoint, Judge
from harness.server import tool_parsers
from harness.server.client import ClientConfig, ModelClient, Request, Result, request_body
from harness.server.fastclient import FastClient
from harness.server.tool_parsers import tool_parser_problems, vllm_tool_args
from harness.server.vllm_server import vllm_command
from tests.support.fake_server import Reply, chunk, fake_server, sse_bytes
from tests.support.files import DATA

LEAVE_TOOL = {
    "type": "function",
    "function": {"name": "get_leave_balance", "description": "查询员工某类假期的剩余天数。",
                 "parameters": {"type": "object", "properties": {"employee_id": {"type": "string"}}}},
}  # fmt: skip
ASK = [{"role": "user", "content": "我是E2051，病假还剩几天？"}]


# ---------------------------------------------------------------- the request body


def test_without_tools_the_body_is_exactly_what_it_was() -> None:
    req = Request(api="chat", messages=ASK, max_tokens=64, seed=7)
    # written by hand from request_body as it was before tools: these keys, in this order, nothing else
    before = (
        '{"model": "m", "max_tokens": 64, "temperature": 0.0, "top_p": 1.0, "stream": true, '
        '"stream_options": {"include_usage": true}, "seed": 7, '
        '"messages": [{"role": "user", "content": "我是E2051，病假还剩几天？"}]}'
    )
    assert json.dumps(request_body("m", req), ensure_ascii=False) == before
    # an empty tools list offers nothing: the same body
    assert json.dumps(request_body("m", Request(api="chat", messages=ASK, max_tokens=64, seed=7, tools=[])),
                      ensure_ascii=False) == before  # fmt: skip


def test_with_tools_the_body_adds_them_and_tool_choice_auto_at_the_end() -> None:
    req = Request(api="chat", messages=ASK, max_tokens=64, seed=7, tools=[LEAVE_TOOL])
    body = request_body("m", req)
    plain = request_body("m", Request(api="chat", messages=ASK, max_tokens=64, seed=7))
    assert body == {**plain, "tools": [LEAVE_TOOL], "tool_choice": "auto"}
    assert list(body)[-2:] == ["tools", "tool_choice"]


def test_a_second_step_sends_the_assistants_calls_and_the_tools_reply_as_given() -> None:
    call = {"id": "call_1", "type": "function",
            "function": {"name": "get_leave_balance", "arguments": '{"employee_id": "E2051"}'}}  # fmt: skip
    messages = [*ASK, {"role": "assistant", "content": None, "tool_calls": [call]},
                {"role": "tool", "tool_call_id": "call_1", "content": '{"days": 3}'}]  # fmt: skip
    req = Request(api="chat", messages=messages, max_tokens=64, tools=[LEAVE_TOOL])
    for cls in (ModelClient, FastClient):  # what reaches the server, through both HTTP stacks
        with fake_server(lambda n: Reply([(0.0, sse_bytes(chunk("还剩3天。", "stop"), "[DONE]"))])) as srv:

            async def go(base_url: str = srv.base_url, cls: type[ModelClient] = cls) -> Result:
                async with cls(ClientConfig(base_url=base_url, model="m", retries=0)) as c:
                    return await c.generate(req)

            res = asyncio.run(go())
            sent = json.loads(srv.requests[0])
        assert res.text == "还剩3天。" and res.tool_calls == []
        assert sent["messages"] == messages and sent["tools"] == [LEAVE_TOOL] and sent["tool_choice"] == "auto"


# ---------------------------------------------------------------- vLLM's flags


def test_a_named_parser_starts_vllm_with_auto_tool_choice() -> None:
    cand = Candidate(name="q", model="m", tool_parser="hermes")
    cmd = vllm_command("/models/q", cand, 8000, None)
    i = cmd.index("--enable-auto-tool-choice")
    assert cmd[i : i + 3] == ["--enable-auto-tool-choice", "--tool-call-parser", "hermes"]
    plain = vllm_command("/models/q", Candidate(name="q", model="m"), 8000, None)
    assert "--enable-auto-tool-choice" not in plain and "--tool-call-parser" not in plain
    assert vllm_tool_args(Candidate(name="q", model="m")) == []


def test_a_judge_takes_no_tool_parser_and_a_candidate_without_one_keeps_its_dump() -> None:
    with pytest.raises(ValidationError):
        Judge(model="m", tool_parser="hermes")  # type: ignore[arg-type]
    # the plan fingerprint hashes dumps without defaults: an old candidate's dump is unchanged
    assert "tool_parser" not in Candidate(name="q", model="m").model_dump(exclude_defaults=True)
    assert "tool_parser" not in Judge(model="m").model_dump()


# ---------------------------------------------------------------- the plan's check


def test_parser_problems_name_the_unknown_one_and_the_endpoint_that_names_one() -> None:
    ep = Endpoint(base_url="http://10.0.0.5:8000/v1")
    cands = [
        (("candidates", 0, "tool_parser"), Candidate(name="a", model="m", tool_parser="hermes")),
        (("candidates", 1, "tool_parser"), Candidate(name="b", model="m", tool_parser="hermes2")),
        (("candidates", 2, "tool_parser"), Candidate(name="c", model="m", tool_parser="hermes", endpoint=ep)),
    ]
    problems = tool_parser_problems(cands, known=lambda: ["hermes", "mistral"])
    assert [(w[1], what.split(";")[0]) for w, what in problems] == [
        (2, "an endpoint candidate names no tool_parser: the server behind it was started with its own"),
        (1, "'hermes2' is not a tool-call parser of the installed vLLM"),
    ]
    assert problems[1][1].endswith("known: hermes, mistral")
    # an endpoint's parser is refused without asking vLLM
    assert tool_parser_problems(cands[2:], known=lambda: pytest.fail("vLLM is not asked")) != []
    assert tool_parser_problems(cands[:1], known=lambda: None) == [
        (("candidates", 0, "tool_parser"), "vLLM is not installed here, so no tool-call parser can be used")
    ]


def plan_with_parsers(tmp_path: Path, *parsers: str) -> Path:
    """A plan whose i-th candidate names ``parsers[i]`` on line 6 + 3 i (written by hand, so the lines are known)."""
    lines = ["name: p", f"question_sets: [{DATA / 'sets' / 'mini_en.yaml'}]", "candidates:"]
    for i, p in enumerate(parsers):
        lines += [f"  - name: c{i}", "    model: org/model", f"    tool_parser: {p}"]
    plan = tmp_path / "plan.yaml"
    plan.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return plan


def test_validate_refuses_an_unknown_tool_parser_at_its_line_and_accepts_hermes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(tool_parsers, "installed_tool_parsers", lambda: ["hermes", "llama3_json", "mistral"])
    plan = plan_with_parsers(tmp_path, "hermes", "hermes2")
    assert main(["validate", str(plan)]) == 2
    out = capsys.readouterr().out
    # candidate 0's tool_parser is on line 6 (hermes: fine), candidate 1's on line 9
    (line,) = [ln for ln in out.splitlines() if "tool_parser" in ln]
    assert line == (
        f"{plan}:9: candidates[1].tool_parser: 'hermes2' is not a tool-call parser of the installed vLLM; "
        "known: hermes, llama3_json, mistral"
    )
    assert main(["validate", str(plan_with_parsers(tmp_path, "hermes"))]) == 0
