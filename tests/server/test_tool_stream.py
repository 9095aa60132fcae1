"""Tool calls out of a streamed answer (issue 31, "Serving"), through both HTTP stacks.

Each stream is served on a real socket (tests/support/fake_server.py) and read by the answer client
(:class:`~harness.server.client.ModelClient`, httpx) and the load generator's
(:class:`~harness.server.fastclient.FastClient`, aiohttp): both must assemble the same calls. The shapes
are those of OpenAI's streaming format as vLLM 0.32 emits it with ``--tool-call-parser``
(``choices[0].delta.tool_calls: [{index, id?, type?, function: {name?, arguments?}}]``); the malformed
ones are files in tests/data/malformed/tool_calls/, and a real vLLM stream is replayed from
tests/data/tool_streams/.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from harness.records import ToolCallMade
from harness.server import client as client_mod
from harness.server.client import ClientConfig, ModelClient, Request, Result
from harness.server.fastclient import FastClient
from harness.server.tool_stream import calls_in_text
from tests.support.fake_server import Reply, fake_server
from tests.support.files import DATA
from tests.support.tool_set import LEAVE_TOOL as SET_LEAVE_TOOL

LEAVE_TOOL = {"type": "function", "function": SET_LEAVE_TOOL}
"""The sample tool as the request sends it (OpenAI form)."""
ASK = [{"role": "user", "content": "我是E2051，想看看今年的病假还能请几天，帮我查一下。"}]
WITH_TOOLS = Request(api="chat", messages=ASK, max_tokens=64, tools=[LEAVE_TOOL])
WITHOUT_TOOLS = Request(api="chat", messages=ASK, max_tokens=64)
CLIENTS = [ModelClient, FastClient]
MALFORMED = DATA / "malformed" / "tool_calls"
ARGS = '{"employee_id": "E2051", "leave_type": "病假"}'
"""The arguments of the right call for :data:`ASK`, as a model streams them."""


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_mod, "BACKOFF_BASE_S", 0.0)


def event(delta: dict[str, Any], finish: str | None = None) -> bytes:
    """One chat chunk as vLLM writes it (``data: {json}`` and a blank line)."""
    chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk",
             "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}  # fmt: skip
    return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode()


def frag(index: int, *, id: str | None = None, name: str | None = None, args: str | None = None) -> dict[str, Any]:
    """One ``tool_calls`` fragment: vLLM sends id, type and name in a call's first fragment only."""
    out: dict[str, Any] = {"index": index}
    function: dict[str, Any] = {}
    if id is not None:
        out |= {"id": id, "type": "function"}
    if name is not None:
        function["name"] = name
    if args is not None:
        function["arguments"] = args
    return out | {"function": function}


def calls_delta(*fragments: dict[str, Any]) -> dict[str, Any]:
    return {"tool_calls": list(fragments)}


ROLE = event({"role": "assistant", "content": ""})
END = event({}, "tool_calls") + b"data: [DONE]\n\n"


def ask_both(pieces: list[tuple[float, bytes]], req: Request = WITH_TOOLS) -> list[Result]:
    """The same reply (``(delay_s, bytes)`` pieces) read by each client, in :data:`CLIENTS` order."""
    out = []
    for cls in CLIENTS:
        with fake_server(lambda n: Reply(pieces)) as srv:

            async def go(base_url: str = srv.base_url, cls: type[ModelClient] = cls) -> Result:
                async with cls(ClientConfig(base_url=base_url, model="m", timeout_s=10.0, retries=0)) as c:
                    return await c.generate(req)

            out.append(asyncio.run(go()))
    return out


def at_once(*parts: bytes) -> list[tuple[float, bytes]]:
    return [(0.0, p) for p in parts]


# ---------------------------------------------------------------- deltas assembled


def test_one_call_with_its_name_first_and_its_arguments_in_five_fragments() -> None:
    five = ('{"employee_id": ', '"E2051"', ', "leave_', 'type": "病', '假"}')  # joined: ARGS
    pieces = at_once(
        ROLE,
        event(calls_delta(frag(0, id="call_a1", name="get_leave_balance", args=""))),
        *[event(calls_delta(frag(0, args=a))) for a in five],
        END,
    )
    for res in ask_both(pieces):
        assert res.error is None and res.finish_reason == "tool_calls"  # the finish reason is kept
        # the five fragments joined in order, byte for byte
        assert res.tool_calls == [ToolCallMade(name="get_leave_balance", arguments=ARGS, id="call_a1")]
        assert res.text == "" and res.reasoning == ""


def test_two_parallel_calls_interleaved_by_index_are_kept_apart_in_order_of_first_appearance() -> None:
    pieces = at_once(
        ROLE,
        event(calls_delta(frag(0, id="call_0", name="get_machine_parameter", args=""))),
        event(calls_delta(frag(1, id="call_1", name="get_machine_parameter", args=""))),
        event(calls_delta(frag(1, args='{"machine_id": "CNC-07", '))),
        event(calls_delta(frag(0, args='{"machine_id": "CNC-03", '))),
        event(calls_delta(frag(0, args='"parameter": "冷却液温度"}'), frag(1, args='"parameter": "冷却液温度"}'))),
        END,
    )
    for res in ask_both(pieces):
        # index 0's fragments are its first and fourth arguments pieces; index 1's its third and the last
        assert [(c.id, c.name, c.arguments) for c in res.tool_calls] == [
            ("call_0", "get_machine_parameter", '{"machine_id": "CNC-03", "parameter": "冷却液温度"}'),
            ("call_1", "get_machine_parameter", '{"machine_id": "CNC-07", "parameter": "冷却液温度"}'),
        ]
        assert all(c.problem is None for c in res.tool_calls)


def test_arguments_split_mid_escape_and_mid_character_are_joined_as_streamed() -> None:
    # "\u4e09" (三) split between two fragments; the raw text keeps the escape, JSON reads it as 三.
    second = event(calls_delta(frag(0, args='e09天病假"}')))
    cut = second.index("天".encode()) + 1  # the socket write ends inside the three UTF-8 bytes of 天
    pieces = [
        (0.0, ROLE + event(calls_delta(frag(0, id="c", name="get_leave_balance", args='{"note": "\\u4')))),
        (0.0, second[:cut]),
        (0.05, second[cut:] + END),
    ]
    for res in ask_both(pieces):
        (call,) = res.tool_calls
        assert call.arguments == '{"note": "\\u4e09天病假"}' and call.problem is None
        assert json.loads(call.arguments) == {"note": "三天病假"}


def test_a_call_beside_some_text_keeps_the_text_as_the_answer() -> None:
    pieces = at_once(
        ROLE,
        event({"content": "好的，"}),
        event({"content": "我来查一下。"}),
        event(calls_delta(frag(0, id="c", name="get_leave_balance", args=ARGS))),
        END,
    )
    for res in ask_both(pieces):
        assert res.text == "好的，我来查一下。"
        assert [c.name for c in res.tool_calls] == ["get_leave_balance"] and not res.tool_calls[0].from_text


def test_tool_call_ms_is_the_last_fragment_not_the_first() -> None:
    # fragments at ~0 s, ~0.3 s and ~0.6 s; the finish chunk ~0.4 s after the last one
    pieces = [
        (0.0, ROLE + event(calls_delta(frag(0, id="c", name="get_leave_balance", args='{"employee_id": ')))),
        (0.3, event(calls_delta(frag(0, args='"E2051", ')))),
        (0.3, event(calls_delta(frag(0, args='"leave_type": "病假"}')))),
        (0.4, END),
    ]
    for res in ask_both(pieces):
        assert res.ttft_ms is not None and res.ttft_ms < 250  # the first fragment came at once
        assert res.tool_call_ms is not None and 550 <= res.tool_call_ms < 950  # 0.3 + 0.3 s, not the 0 s of the first
        assert res.e2e_ms is not None and res.e2e_ms - res.tool_call_ms >= 350  # the finish chunk came 0.4 s later


def test_a_response_without_calls_has_none_and_no_call_time() -> None:
    pieces = at_once(ROLE, event({"content": "病假余额需要查询系统。"}, "stop"), b"data: [DONE]\n\n")
    for res in ask_both(pieces):
        assert (res.tool_calls, res.tool_call_ms, res.text) == ([], None, "病假余额需要查询系统。")


# ---------------------------------------------------------------- calls written as text (no parser)


HERMES_ONE = f'<tool_call>\n{{"name": "get_leave_balance", "arguments": {ARGS}}}\n</tool_call>'
"""A call as Qwen2.5 writes it when the server started no parser (the Hermes format of its chat template)."""


def text_stream(*contents: str, finish: str = "stop") -> list[tuple[float, bytes]]:
    """A stream whose content deltas are ``contents`` (no ``tool_calls``: the server started no parser)."""
    return at_once(ROLE, *[event({"content": c}) for c in contents], event({}, finish), b"data: [DONE]\n\n")


def test_one_hermes_block_in_the_text_is_read_as_a_call_from_text_and_taken_out_of_the_answer() -> None:
    half = len(HERMES_ONE) // 2
    for res in ask_both(text_stream("我来查询。\n", HERMES_ONE[:half], HERMES_ONE[half:])):
        # the arguments object re-serialised as vLLM's hermes parser does: json.dumps(..., ensure_ascii=False)
        assert res.tool_calls == [ToolCallMade(name="get_leave_balance", arguments=ARGS, from_text=True)]
        assert res.text == "我来查询。" and res.tool_call_ms is not None


def test_two_hermes_blocks_are_two_calls_and_the_text_between_remains() -> None:
    second = HERMES_ONE.replace("E2051", "E1024").replace("病假", "年假")
    for res in ask_both(text_stream(HERMES_ONE, "\n然后\n", second)):
        assert [json.loads(c.arguments)["employee_id"] for c in res.tool_calls] == ["E2051", "E1024"]
        assert all(c.from_text and c.problem is None for c in res.tool_calls)
        assert res.text == "然后"


def test_a_hermes_block_with_broken_json_keeps_its_text_its_name_and_a_reason() -> None:
    broken = HERMES_ONE.replace('"病假"', "病假")  # an unquoted string: not JSON
    for res in ask_both(text_stream(broken)):
        (call,) = res.tool_calls
        assert call.name == "get_leave_balance" and call.from_text
        assert call.arguments == broken.removeprefix("<tool_call>\n").removesuffix("\n</tool_call>")
        assert call.problem is not None and call.problem.startswith("the <tool_call> block is not JSON: ")
        assert res.error is None and res.text == ""


def test_hermes_text_is_an_answer_when_no_tools_were_offered() -> None:
    for res in ask_both(text_stream("示例：", HERMES_ONE), req=WITHOUT_TOOLS):
        assert res.tool_calls == [] and res.text == "示例：" + HERMES_ONE


def test_a_tool_call_inside_the_thinking_is_no_call_and_stays_in_the_thinking() -> None:
    thought = '<think>也许该 <tool_call>{"name": "get_leave_balance", "arguments": {}}</tool_call> 吧</think>'
    for res in ask_both(text_stream(thought, "请提供工号。")):
        assert res.tool_calls == [] and res.text == "请提供工号。"
        assert "<tool_call>" in res.reasoning and res.reasoning_via == "think_tags"


def test_a_thinking_model_that_calls_is_not_cut_off_and_keeps_its_thinking_apart() -> None:
    # thinking in the parser's field, then a streamed call and no answer text: the call is the response
    pieces = at_once(
        ROLE,
        event({"reasoning": "用户要查病假余额，需要调用工具。"}),
        event(calls_delta(frag(0, id="c", name="get_leave_balance", args=ARGS))),
        END,
    )
    for res in ask_both(pieces):
        assert res.reasoning == "用户要查病假余额，需要调用工具。" and res.reasoning_via == "parser"
        assert res.text == "" and not res.cut_off_thinking and len(res.tool_calls) == 1


def test_calls_in_text_reads_a_block_left_open_to_the_end_like_vllm() -> None:
    found = calls_in_text('<tool_call>{"name": "f", "arguments": {"a": "三"}}')  # stopped before </tool_call>
    # the block runs to the end: 11 characters of tag + 38 of JSON
    # ({"name": "f", = 14, "arguments": = 13, {"a": "三"} = 10, } = 1)
    assert found.calls == [ToolCallMade(name="f", arguments='{"a": "三"}', from_text=True)] and found.spans == [(0, 49)]
    cut = calls_in_text('<tool_call>{"name": "f", "arguments": {"a": ')  # cut off by max_tokens
    assert cut.calls[0].name == "f" and "never closed" in (cut.calls[0].problem or "")


# ---------------------------------------------------------------- malformed deltas: no crash, a reason


MALFORMED_OUTCOME = {
    # file -> (name, arguments, the start of the problem): what each client keeps of the call
    "no_index.sse": ("get_leave_balance", '{"employee_id": "E2051", "leave_type": "病假"}',
                     "a tool_calls fragment has no index (none given)"),
    "arguments_object.sse": ("get_leave_balance", '{"employee_id": "E2051", "leave_type": "病假"}',
                             "the arguments arrived as a JSON object, not as text"),
    "no_name.sse": ("", '{"employee_id": "E2051", "leave_type": "病假"}',
                    "the call has no function name by the end of the stream"),
    "tool_calls_a_string.sse": ("", "",
                                "tool_calls is a JSON string, not a list of fragments: get_leave_balance(E2051, 病假)"),
    "tool_calls_an_object.sse": ("get_leave_balance", '{"employee_id": "E2051", "leave_type": "病假"}',
                                 "tool_calls is a JSON object, not a list of fragments"),
    "fragment_not_an_object.sse": ("", "", "a tool_calls fragment is a JSON string, not an object: get_leave_balance"),
}  # fmt: skip


def test_every_malformed_tool_call_stream_is_listed() -> None:
    assert sorted(p.name for p in MALFORMED.iterdir()) == sorted(MALFORMED_OUTCOME)


@pytest.mark.parametrize("name", sorted(MALFORMED_OUTCOME))
def test_a_malformed_tool_call_stream_keeps_the_call_as_far_as_it_goes_with_a_one_line_reason(name: str) -> None:
    want_name, want_args, reason = MALFORMED_OUTCOME[name]
    for res in ask_both(at_once((MALFORMED / name).read_bytes())):
        assert res.error is None and res.finish_reason == "tool_calls" and res.output_tokens == 25
        (call,) = res.tool_calls
        assert (call.name, call.arguments) == (want_name, want_args)
        assert call.problem is not None and call.problem.startswith(reason) and "\n" not in call.problem


# ---------------------------------------------------------------- real vLLM streams, replayed

REAL = DATA / "tool_streams"
"""Streams of Qwen2.5-Coder-0.5B-Instruct on vLLM 0.32's CPU build, started with ``--enable-auto-tool-choice
--tool-call-parser hermes`` and asked leave-001 of question_sets/hr_production_tools_zh.yaml (temperature 0,
seed 7, max_tokens 128, its four tools), saved byte for byte (2026-12-07)."""


def test_a_real_stream_whose_model_wrote_its_call_as_a_json_block_gives_that_call_read_from_the_text() -> None:
    # leave-001: the model wrote its call as a ```json block, not <tool_call>, so vLLM's hermes parser saw no
    # call and streamed it as content; the block names an offered tool with an arguments object, so it is
    # the call the model made, read from the text (from_text) and taken out of the answer, which is then empty
    for res in ask_both(at_once((REAL / "vllm_hermes_json_block_leave_001.sse").read_bytes())):
        assert res.error is None and res.finish_reason == "stop" and res.output_tokens == 44  # the usage chunk
        assert res.tool_calls == [ToolCallMade(name="get_leave_balance", arguments=ARGS, from_text=True)]
        assert res.text == "" and res.tool_call_ms is not None


# ---------------------------------------------------------------- calls written as plain JSON


FENCED = f'```json\n{{\n  "name": "get_leave_balance",\n  "arguments": {ARGS}\n}}\n```'


def test_a_fenced_json_call_streamed_in_pieces_is_read_and_the_prose_around_it_stays_the_answer() -> None:
    third = len(FENCED) // 3
    stream = text_stream(
        "好的，我帮您查询：\n", FENCED[:third], FENCED[third : 2 * third], FENCED[2 * third :], "\n请稍候。"
    )
    for res in ask_both(stream):
        assert res.tool_calls == [ToolCallMade(name="get_leave_balance", arguments=ARGS, from_text=True)]
        assert res.text == "好的，我帮您查询：\n\n请稍候。"


def test_a_bare_json_answer_with_parameters_instead_of_arguments_is_a_call_as_vllms_llama3_json_reads_it() -> None:
    bare = '{"name": "get_leave_balance", "parameters": {"employee_id": "E2051", "leave_type": "病假"}}'
    for res in ask_both(text_stream(bare)):
        assert res.tool_calls == [ToolCallMade(name="get_leave_balance", arguments=ARGS, from_text=True)]
        assert res.text == ""


def test_two_call_objects_in_one_block_or_an_array_are_two_parallel_calls() -> None:
    one = '{"name": "get_leave_balance", "arguments": {"employee_id": "E2051", "leave_type": "病假"}}'
    two = one.replace("E2051", "E1024").replace("病假", "年假")
    for text in (f"```json\n{one}\n{two}\n```", f"[{one}, {two}]"):
        for res in ask_both(text_stream(text)):
            assert [json.loads(c.arguments)["employee_id"] for c in res.tool_calls] == ["E2051", "E1024"]
            assert all(c.from_text and c.name == "get_leave_balance" for c in res.tool_calls)


@pytest.mark.parametrize(
    "answer",
    [
        # JSON that is an answer, not a call: the "name" is no offered tool
        '{"name": "张三", "arguments": {"dept": "生产部"}}',
        '```json\n{"name": "submit_reimbursement", "arguments": {"amount": 350}}\n```',  # a tool not offered here
        '```json\n{"employee_id": "E2051", "leave_type": "病假"}\n```',  # the arguments alone, no function named
        '病假还剩 {"name": "get_leave_balance"} 天',  # JSON inside prose, not fenced and not the whole answer
    ],
)
def test_json_that_names_no_offered_tool_with_arguments_stays_the_answer(answer: str) -> None:
    for res in ask_both(text_stream(answer)):
        assert res.tool_calls == [] and res.tool_call_ms is None and res.text == answer


def test_a_fenced_call_cut_off_before_its_end_is_an_attempted_call_with_a_reason() -> None:
    cut = FENCED[: FENCED.index('"leave_type"')]  # the answer ran out of tokens inside the block
    for res in ask_both(text_stream(cut, finish="length")):
        (call,) = res.tool_calls
        assert call.name == "get_leave_balance" and call.from_text
        assert call.problem == "the fenced block naming get_leave_balance is not JSON (the block was never closed)"


def test_an_answer_that_begins_with_a_call_keeps_what_follows_as_the_answer() -> None:
    one = '{"name": "get_leave_balance", "arguments": {"employee_id": "E2051", "leave_type": "病假"}}'
    for res in ask_both(text_stream(one, "\n我已为您查询病假余额。")):
        assert res.tool_calls == [ToolCallMade(name="get_leave_balance", arguments=ARGS, from_text=True)]
        assert res.text == "我已为您查询病假余额。"


@pytest.mark.parametrize(
    "answer",
    [
        # seen on Qwen2.5-Coder-0.5B (reimb-003): the closing brace of the call object never came
        '{"name": "get_leave_balance", "arguments": {"employee_id": "E2051", "leave_type": "病假"}',
        '{"name": "get_leave_balance", "arguments": 3}',  # arguments neither an object nor JSON text
    ],
)
def test_an_answer_that_begins_with_json_naming_an_offered_tool_but_not_a_call_is_an_attempted_call(
    answer: str,
) -> None:
    # the model set out to call get_leave_balance: on a no_call question that is wrong, and on an
    # expect_call question the call cannot be executed; either way the call is kept, with its reason
    for res in ask_both(text_stream(answer)):
        (call,) = res.tool_calls
        assert (call.name, call.arguments, call.from_text) == ("get_leave_balance", answer, True)
        assert call.problem == (
            "the answer begins with JSON naming get_leave_balance that is no call (an object with name and arguments)"
        )


def test_a_fenced_call_inside_the_thinking_is_no_call() -> None:
    for res in ask_both(text_stream("<think>", FENCED, "</think>", "请提供您的工号。")):
        assert res.tool_calls == [] and res.text == "请提供您的工号。"


def test_a_fenced_call_is_an_answer_when_no_tools_were_offered() -> None:
    for res in ask_both(text_stream(FENCED), req=WITHOUT_TOOLS):
        assert res.tool_calls == [] and res.text == FENCED


def test_a_real_vllm_tool_calls_stream_is_assembled_by_both_clients() -> None:
    # leave-001 asked with tool_choice naming get_leave_balance (vLLM then constrains the output to the call):
    # the id, type and name in the first fragment, then the arguments in 19 pieces ('{"', 'employee', '_id',
    # '":', ' "', 'E', '2', '0', '5', '1', '",', ... '病', '假', '"}') that join to ARGS; a named call ends "stop"
    for res in ask_both(at_once((REAL / "vllm_named_call_leave_001.sse").read_bytes())):
        assert res.error is None and res.finish_reason == "stop" and res.output_tokens == 39
        assert res.tool_calls == [
            ToolCallMade(name="get_leave_balance", arguments=ARGS, id="chatcmpl-tool-962a14cff47005cb")
        ]
        assert res.text == "" and res.tool_call_ms is not None and res.e2e_ms is not None
        assert res.tool_call_ms <= res.e2e_ms
