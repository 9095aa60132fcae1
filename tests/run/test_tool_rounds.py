"""Asking questions offered tools (harness.run.generate.answer, harness.run.tool_rounds): the request with
tools, the scripted replies sent back, the round limit, a completions-API candidate, and the digest."""

from __future__ import annotations

import asyncio

from harness.inputs.prompts import Framing
from harness.records import Api, QuestionSet, Sampling, ToolStep
from harness.run.freshness import question_digest
from harness.run.generate import WorkItem, answer
from harness.run.tool_rounds import MAX_TOOL_ROUNDS, NO_CHAT_API, reply_content
from tests.support.tool_set import LEAVE_TOOL, MACHINE_TOOL, FakeClient, call, hr_set, plain_set, result

LEAVE_E1024 = '{"employee_id": "E1024", "leave_type": "年假"}'


def item(qs: QuestionSet, qid: str) -> WorkItem:
    q = next(q for q in qs.questions if q.id == qid)
    return WorkItem(f"m/{qs.id}/{qid}/0", "m", qs, q, 0, 0)


def ask(client: FakeClient, qs: QuestionSet, qid: str, api: Api = "chat"):  # type: ignore[no-untyped-def]
    return asyncio.run(answer(client, api, item(qs, qid), Sampling()))


def test_a_question_offered_tools_is_asked_with_them_and_a_call_without_a_reply_ends_the_answer() -> None:
    # The set scripts no reply for get_leave_balance to question "call": the call is recorded, nothing is sent back.
    first = call("get_leave_balance", '{"employee_id": "E2051", "leave_type": "病假"}')
    client = FakeClient(result("", [first]))
    g = ask(client, hr_set(), "call")
    (req,) = client.requests
    assert req.api == "chat"
    assert req.tools == [{"type": "function", "function": LEAVE_TOOL}, {"type": "function", "function": MACHINE_TOOL}]
    assert req.messages == [{"role": "user", "content": "我是E2051，病假还能请几天？"}]
    assert g.tool_calls == [first] and g.tool_call_ms == 120.0
    assert g.tool_steps == [] and g.text == "" and g.error is None


def test_two_steps_send_the_call_and_the_scripted_reply_back_and_keep_the_final_text() -> None:
    first = call("get_leave_balance", LEAVE_E1024, id_="call_7")
    client = FakeClient(result("", [first]), result("还剩3天", e2e_ms=900.0, ttft_ms=700.0))
    g = ask(client, hr_set(), "two_step")
    assert len(client.requests) == 2
    second = client.requests[1]
    # OpenAI's format: the question, the assistant's turn with its call, then the tool's reply naming the call.
    assert second.messages == [
        {"role": "user", "content": "工号E1024，年假还剩几天？"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "call_7", "type": "function", "function": {"name": "get_leave_balance", "arguments": LEAVE_E1024}},
        ]},
        {"role": "tool", "tool_call_id": "call_7", "content": '{"remaining_days": 3}'},
    ]  # fmt: skip
    assert second.tools == client.requests[0].tools  # still offered
    assert g.text == "还剩3天" and g.finish_reason == "stop"
    assert g.tool_calls == [first]  # the first response's calls: what is graded
    assert g.tool_steps == [ToolStep(calls=[first], replies=['{"remaining_days": 3}'], text="")]
    assert (g.ttft_ms, g.e2e_ms) == (50.0, 150.0)  # the first response's timings, not the second's


def test_a_reply_is_json_with_chinese_kept_and_dates_as_iso_strings_and_calls_without_ids_get_one() -> None:
    # The set's machine reply holds a YAML date; the server gave the call no id.
    made = call("get_machine_parameter", '{"machine_id": "CNC-03", "parameter": "主轴转速"}', id_=None)
    client = FakeClient(result("", [made]), result("1200转"))
    ask(client, hr_set(), "call")
    assistant, tool = client.requests[1].messages[1:]  # type: ignore[index]
    assert assistant["tool_calls"][0]["id"] == tool["tool_call_id"] == "call_1_0"
    assert tool["content"] == '{"value": 1200, "checked_on": "2026-03-05"}'
    assert reply_content("余额3天") == "余额3天"  # a string as is
    assert reply_content({"类型": "年假"}) == '{"类型": "年假"}'  # ensure_ascii=False


def test_a_round_with_one_call_unanswered_sends_nothing_back() -> None:
    # Two calls: the machine call has the set's reply, the leave call (question "call") has none: stop at once.
    calls = [call("get_machine_parameter", '{"machine_id": "CNC-03", "parameter": "主轴转速"}', "a"),
             call("get_leave_balance", '{"employee_id": "E2051", "leave_type": "病假"}', "b")]  # fmt: skip
    client = FakeClient(result("我先查一下", calls))
    g = ask(client, hr_set(), "call")
    assert len(client.requests) == 1
    assert g.text == "我先查一下" and g.tool_steps == [] and g.tool_calls == calls


def test_the_round_limit_leaves_the_last_calls_unanswered() -> None:
    # The model calls again after every reply: MAX_TOOL_ROUNDS (3) replies go back, so 1 + 3 = 4 requests;
    # a fifth would find no prepared result (the fake raises).
    again = call("get_leave_balance", LEAVE_E1024)
    client = FakeClient(*[result(f"第{i}轮", [again]) for i in range(MAX_TOOL_ROUNDS + 1)])
    g = ask(client, hr_set(), "two_step")
    assert MAX_TOOL_ROUNDS == 3
    assert len(client.requests) == 4 and client.results == []
    assert len(g.tool_steps) == 3
    assert g.text == "第3轮" and g.finish_reason == "tool_calls"  # what the model said so far
    # the last request carries 3 rounds: user + 3 x (assistant, tool) = 7 messages
    assert len(client.requests[-1].messages or []) == 7


def test_a_later_round_that_fails_fails_the_answer() -> None:
    client = FakeClient(result("", [call("get_leave_balance", LEAVE_E1024)]), result(error="HTTP 500: boom"))
    g = ask(client, hr_set(), "two_step")
    assert g.error == "tool round 2: HTTP 500: boom" and not g.ok


def test_a_completions_candidate_is_not_asked_a_question_offered_tools() -> None:
    client = FakeClient(result("随便答"))
    g = ask(client, hr_set(), "call", api="completions")
    assert client.requests == []  # not asked at all
    assert g.error == NO_CHAT_API and g.text == "" and g.api == "completions"
    # a question without tools is asked on the completions API as before
    plain = ask(client, plain_set(), "q", api="completions")
    assert plain.text == "随便答" and client.requests[0].tools is None and client.requests[0].prompt


def test_a_question_without_tools_is_asked_without_tools() -> None:
    client = FakeClient(result("15天"))
    g = ask(client, plain_set(), "q")
    assert client.requests[0].tools is None
    assert g.tool_calls == [] and g.tool_call_ms is None and g.tool_steps == []


def test_digest_unchanged_without_tools_and_changed_with_a_tool_schema() -> None:
    import hashlib
    import json

    qs = plain_set()
    q = qs.questions[0]
    # Without tools the digest is what it always was: sha256 of the chat messages as sorted JSON, 16 hex digits.
    old = hashlib.sha256(
        json.dumps([{"role": "user", "content": "年假几天？"}], ensure_ascii=False, sort_keys=True).encode()
    ).hexdigest()[:16]
    assert question_digest(qs, q, Framing()) == old
    hr = hr_set()
    two = next(q for q in hr.questions if q.id == "two_step")
    before = question_digest(hr, two, Framing())
    wider = {**LEAVE_TOOL, "parameters": {**LEAVE_TOOL["parameters"], "required": ["employee_id"]}}
    edited = hr_set(tools=[wider, MACHINE_TOOL])
    assert question_digest(edited, next(q for q in edited.questions if q.id == "two_step"), Framing()) != before
    # so does a scripted reply's content (the set's machine reply: 1200 -> 1500)
    replies = [{"name": "get_machine_parameter", "content": {"value": 1500}}]
    other = hr_set(tool_results=replies)
    assert question_digest(other, next(q for q in other.questions if q.id == "two_step"), Framing()) != before
    # the same set read again digests the same (no time or order in it)
    assert question_digest(hr_set(), next(q for q in hr_set().questions if q.id == "two_step"), Framing()) == before
