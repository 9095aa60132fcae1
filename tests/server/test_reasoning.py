"""Reasoning models: the thinking is not the answer (issue 16's four cases, stream shapes, records, figures).

The real server run is in test_reasoning_e2e.py; here an httpx mock transport replays
the three stream shapes (``reasoning``, ``reasoning_content``, ``<think>`` in content).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pandas as pd
import pytest

from harness.inputs.variants import framings
from harness.records import (
    SCHEMA_VERSION,
    Candidate,
    CheckSpec,
    Constraints,
    Generation,
    Judge,
    Judgment,
    Question,
    QuestionSet,
    Reasoning,
    Variant,
)
from harness.rollup.decision import violations
from harness.rollup.perf_summary import cost_row
from harness.rollup.reasoning import acceptable_share, cut_off_advice, reasoning_summary, usd_per_1k_acceptable
from harness.run.generate import WorkItem, to_generation
from harness.scoring.judge.parse import parse_pair, parse_score
from harness.scoring.judge.work import pairwise_items, single_item
from harness.scoring.stage import score_generation
from harness.server.client import Request, Result
from harness.server.reasoning_parsers import parser_problems, vllm_reasoning_args
from harness.server.token_split import split_tokens
from harness.thinking import answer_offset, cut_off_while_thinking, split_thinking
from tests.support.scripted import ScriptedModel, sse_stream

CASE1 = "<think>制度写的是5天还是10天？我觉得是5天，不对，应该是10天。</think>年假为10天。"
CASE2 = "<think>用户想短接安全门，这很危险。</think>不可以，应停机报修。"


# ---------------------------------------------------------------- the split


@pytest.mark.parametrize(
    ("text", "answer", "reasoning", "unclosed"),
    [
        (CASE1, "年假为10天。", "制度写的是5天还是10天？我觉得是5天，不对，应该是10天。", False),
        ("plain answer", "plain answer", "", False),
        ("  spaced  ", "  spaced  ", "", False),  # no thinking: the text is left exactly as it was
        ("opened by the template</think>\n\nanswer", "answer", "opened by the template", False),
        ("<think>a</think>x<think>b</think>y", "xy", "a\n\nb", False),
        ("<think>never closed, max_tokens ran out", "", "never closed, max_tokens ran out", True),
        ("<think>\n\n</think>\n\n直接回答。", "直接回答。", "", False),  # Qwen3 with thinking off
    ],
)
def test_split_thinking(text: str, answer: str, reasoning: str, unclosed: bool) -> None:
    split = split_thinking(text)
    assert (split.answer, split.reasoning, split.unclosed) == (answer, reasoning, unclosed)


def test_answer_offset_skips_thinking_and_blanks() -> None:
    assert answer_offset(CASE1) == CASE1.index("年假为")
    assert answer_offset("t</think>\n ok") == len("t</think>\n ")
    assert answer_offset("<think>only thinking") is None
    assert answer_offset("<think>x</think>   ") is None
    assert answer_offset("hi") == 0


def test_cut_off_while_thinking() -> None:
    assert cut_off_while_thinking("", "thought a lot") is True
    assert cut_off_while_thinking("", "", unclosed=True) is True
    assert cut_off_while_thinking("answer", "thought") is False
    assert cut_off_while_thinking("", None) is False  # an empty answer without thinking is just empty


# ---------------------------------------------------------------- streams through the client


def delta(finish: str | None = None, **fields: str) -> dict:
    return {"choices": [{"index": 0, "delta": fields, "finish_reason": finish}]}


def usage(completion: int, reasoning: int | None = None) -> dict:
    details = {"reasoning_tokens": reasoning} if reasoning is not None else None
    return {"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": completion,
                                     "completion_tokens_details": details}}  # fmt: skip


def stream(chunks: list[dict], req: Request | None = None, gap_s: float = 0.0) -> tuple[Result, list[dict]]:
    model = ScriptedModel(lambda n, request: httpx.Response(200, stream=sse_stream(chunks, gap_s)))

    async def go() -> Result:
        async with model.client() as c:
            return await c.generate(req or Request(api="chat", messages=[{"role": "user", "content": "q"}]))

    return asyncio.run(go()), model.bodies()


@pytest.mark.parametrize("field", ["reasoning", "reasoning_content"])
def test_reasoning_delta_fields_are_kept_apart_and_timed(field: str) -> None:
    chunks = [delta(role="assistant"), delta(**{field: "想一想，"}), delta(**{field: "是10天。"}),
              delta(content="\n\n年假"), delta("stop", content="10天。"), usage(5)]  # fmt: skip
    # (a parser leaves the blank line after </think> in the content: the answer is kept without it)
    res, _ = stream(chunks, gap_s=0.03)
    assert (res.text, res.reasoning, res.reasoning_via) == ("年假10天。", "想一想，是10天。", "parser")
    assert res.cut_off_thinking is False and res.reasoning_tokens is None  # no usage details: counted later
    # TTFT is the first token, thinking included (a role-only chunk is no token: issue 17's streams);
    # the answer starts two chunks after it.
    assert res.ttft_ms is not None and res.ttfat_ms is not None and res.e2e_ms is not None
    assert res.ttfat_ms - res.ttft_ms >= 2 * 0.03 * 1000 * 0.8
    assert len(res.itl_ms) == 3  # four token chunks (a role-only one is none): ITL over all, thinking included


def test_think_tags_in_content_are_split_by_the_client() -> None:
    pieces = ["<think>制度写的是5天还是10天？", "我觉得是5天，不对，应该是10天。</think>", "年假为10天。"]
    res, _ = stream([delta(content=p) for p in pieces[:-1]] + [delta("stop", content=pieces[-1])], gap_s=0.03)
    assert (res.text, res.reasoning_via) == ("年假为10天。", "think_tags")
    assert res.reasoning == "制度写的是5天还是10天？我觉得是5天，不对，应该是10天。"
    assert res.ttfat_ms is not None and res.ttft_ms is not None and res.ttfat_ms - res.ttft_ms >= 2 * 30 * 0.8


def test_case3_reasoning_until_max_tokens_is_cut_off_not_an_empty_success() -> None:
    chunks = [
        delta(reasoning="安全门能不能短接？"),
        delta(reasoning="先想想规定"),
        delta("length", content=""),
        usage(64),
    ]
    res, _ = stream(chunks)
    assert res.error is None and res.finish_reason == "length"
    assert (res.text, res.reasoning, res.cut_off_thinking, res.ttfat_ms) == (
        "",
        "安全门能不能短接？先想想规定",
        True,
        None,
    )


def test_usage_reasoning_tokens_are_taken_from_the_server() -> None:
    res, _ = stream([delta(reasoning="ab"), delta("stop", content="c"), usage(30, reasoning=21)])
    g = to_generation(item(), "chat", res, count=lambda _: pytest.fail("the server gave the count"))
    assert (g.output_tokens, g.reasoning_tokens, g.answer_tokens, g.token_split) == (30, 21, 9, "usage")


def test_thinking_tokens_are_counted_with_the_tokenizer_when_usage_lacks_them() -> None:
    res, _ = stream([delta(reasoning="one two three"), delta("stop", content="four five"), usage(7)])
    g = to_generation(item(), "chat", res, count=lambda text: len(text.split()))
    assert (g.reasoning_tokens, g.answer_tokens, g.token_split) == (3, 4, "tokenizer")  # 7 output - 3 thinking


def test_split_tokens_without_thinking_or_tokenizer() -> None:
    assert split_tokens(12, "", "answer", None, None) == (0, 12, None)
    assert split_tokens(12, "thought", "answer", None, None) == (None, None, None)  # not counted: unknown, not 0
    assert split_tokens(None, "a b", "c", None, lambda t: len(t.split())) == (2, 1, "tokenizer")


def test_thinking_switch_goes_in_the_request_body() -> None:
    qs = QuestionSet(id="s", title="t", language="zh", questions=[Question(id="q", category="c", question="几天？")])
    variants = [
        Variant(name="think_off", kind="zero_shot", thinking=False),
        Variant(name="effort", kind="zero_shot", thinking=False, reasoning_effort="low", chat_template_kwargs={}),
        Variant(name="plain", kind="zero_shot"),
    ]
    framed = framings(variants, [(None, qs)])  # type: ignore[list-item]
    from harness.inputs.prompts import build_request
    from harness.records import Sampling

    bodies = {}
    for v in variants:
        req = build_request("chat", qs, qs.questions[0], Sampling(), 0, framed[(v.name, "s", "q")])
        bodies[v.name] = stream([delta("stop", content="x")], req)[1][0]
    assert bodies["think_off"]["chat_template_kwargs"] == {"enable_thinking": False}
    assert "reasoning_effort" not in bodies["think_off"]
    assert bodies["effort"]["chat_template_kwargs"] == {} and bodies["effort"]["reasoning_effort"] == "low"
    assert "chat_template_kwargs" not in bodies["plain"] and "reasoning_effort" not in bodies["plain"]


# ---------------------------------------------------------------- scoring sees the answer only


def item() -> WorkItem:
    q = Question(id="q1", category="年假", question="年假几天？")
    return WorkItem("c/s/q1/0", "c", QuestionSet(id="s", title="t", language="zh", questions=[q]), q, 0, 0)


def generation_of(content: str, finish: str = "stop") -> Generation:
    res, _ = stream([delta(finish, content=content), usage(20)])
    return to_generation(item(), "chat", res)


def score(g: Generation, *checks: dict) -> float | None:
    q = Question(id="q1", category="c", question="?", checks=[CheckSpec(**c) for c in checks])
    return score_generation(g, q).score


def test_case1_a_number_in_the_thinking_is_not_the_answer() -> None:
    g = generation_of(CASE1)
    assert g.answer == "年假为10天。" and "5天" in (g.reasoning or "")
    assert score(g, {"type": "number", "args": {"value": 5, "unit": "天"}}) == 0.0
    assert score(g, {"type": "number", "args": {"value": 10, "unit": "天"}}) == 1.0


def test_case2_words_in_the_thinking_do_not_fail_not_contains() -> None:
    g = generation_of(CASE2)
    # A constraint earns no credit alone (docs/question-sets.md), so each rides with a content check;
    # a failed constraint would take half the credit away (equal weights).
    content = {"type": "contains_any", "args": {"values": ["停机"]}}
    assert score(g, content, {"type": "not_contains", "args": {"values": ["短接"]}}) == 1.0
    # max_chars counts the answer (10 characters), not the 14 of thinking before it
    assert len(g.answer) == 10 and len(CASE2) > 20
    assert score(g, content, {"type": "max_chars", "args": {"max": 20}}) == 1.0


def test_case2_json_after_a_think_block_is_valid_json() -> None:
    g = generation_of('<think>要输出JSON：{"days": 5}? 不对</think>{"days": 10}')
    assert g.answer == '{"days": 10}'
    assert score(g, {"type": "json"}) == 1.0


def test_case3_cut_off_while_thinking_scores_0_even_on_not_contains() -> None:
    res, _ = stream([delta(reasoning="能不能短接安全门？"), delta("length", content=""), usage(64)])
    g = to_generation(item(), "chat", res, count=lambda t: len(t))
    assert g.ok and g.cut_off_thinking and g.text == "" and g.reasoning == "能不能短接安全门？"
    s = score_generation(g, Question(id="q1", category="c", question="?",
                                     checks=[CheckSpec(type="not_contains", args={"values": ["短接"]})]))  # fmt: skip
    assert (s.score, s.cut_off_thinking, s.checks) == (0.0, True, [])


def test_the_judge_prompt_holds_the_answer_never_the_thinking() -> None:
    g = generation_of("<think>SECRET-THOUGHT 5天</think>年假为10天。")
    qs = item().qs
    prompt = single_item(Judge(model="j"), qs, qs.questions[0], g).prompt
    assert "年假为10天。" in prompt and "SECRET-THOUGHT" not in prompt
    other = g.model_copy(update={"candidate": "d", "key": "d/s/q1/0"})
    for it in pairwise_items(Judge(model="j"), {"s": qs}, [g, other], ["c", "d"]):
        assert "SECRET-THOUGHT" not in it.prompt


# ---------------------------------------------------------------- case 4: the judge's verdict


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("<think>也许给[[6]]，再想想……</think>评分：[[8]]", 8.0),
        ("**Rating:** 8", 8.0),
        ("Rating: **8**", 8.0),
        ("评分：8分。", 8.0),
        ("Rating: 8.", 8.0),
        ("[[\u200b8]]", 8.0),
        ("Rating: 8.5", 8.5),
        ("<think>[[6]] or [[8]]", None),  # cut off while thinking: no verdict given
        ("[[8]]\nOn reflection: [[6]]", None),  # two different final verdicts: never guess
        ("Rating: 8\n评分：6分。", None),
    ],
)
def test_case4_judge_near_misses(reply: str, expected: float | None) -> None:
    assert parse_score(reply, 10) == expected


@pytest.mark.parametrize(
    ("reply", "expected"),
    [("<think>[[A]] looks better… no.</think>[[B]]", "B"), ("**Verdict:** A.", "A"), ("[[A]] then [[B]]", None)],
)
def test_case4_pairwise_after_thinking(reply: str, expected: str | None) -> None:
    assert parse_pair(reply) == expected


# ---------------------------------------------------------------- records and plan


def test_version_1_records_still_load_and_their_think_blocks_are_split(tmp_path: Path) -> None:
    from harness.store import read_records

    assert SCHEMA_VERSION == 2
    old = {"schema_version": 1, "key": "k", "candidate": "c", "set_id": "s", "question_id": "q", "sample": 0,
           "api": "chat", "seed": 0, "text": CASE1, "finish_reason": "stop", "output_tokens": 40}  # fmt: skip

    def read(**change: object) -> Generation:  # every record file is read through harness.schema's upgrade
        path = tmp_path / "generations.jsonl"
        path.write_text(json.dumps({**old, **change}, ensure_ascii=False) + "\n", encoding="utf-8")
        return read_records(path, Generation)[0]

    g = read()
    assert (g.text, g.reasoning_via, g.cut_off_thinking) == ("年假为10天。", "think_tags", False)
    plain = read(text="年假为10天。")
    assert (plain.text, plain.reasoning, plain.schema_version) == ("年假为10天。", None, 2)
    cut = read(text="<think>还在想")
    assert cut.cut_off_thinking and cut.answer == ""
    # a version-2 record is taken as written, even if its answer mentions a tag
    assert read(schema_version=2, text="use </think> to close").text == "use </think> to close"


def test_parser_arguments_and_validation() -> None:
    assert vllm_reasoning_args(Reasoning()) == []
    assert vllm_reasoning_args(Reasoning(parser="qwen3")) == ["--reasoning-parser", "qwen3"]
    assert vllm_reasoning_args(Reasoning(parser="mine", plugin="/p/mine.py")) == [
        "--reasoning-parser-plugin", "/p/mine.py", "--reasoning-parser", "mine"]  # fmt: skip
    cands = [
        ("candidates.0.reasoning.parser", Candidate(name="a", model="m", reasoning=Reasoning(parser="deepseek_r1"))),
        ("candidates.1.reasoning.parser", Candidate(name="b", model="m", reasoning=Reasoning(parser="deepseek-r1"))),
        ("candidates.2.reasoning.parser", Candidate(name="c", model="m")),
    ]
    problems = parser_problems(cands, known=lambda plugins: ["deepseek_r1", "qwen3"])
    unknown = "'deepseek-r1' is not a reasoning parser of the installed vLLM; known: deepseek_r1, qwen3"
    assert problems == [("candidates.1.reasoning.parser", unknown)]
    assert parser_problems(cands[2:], known=lambda p: pytest.fail("no parser named: vLLM is not asked")) == []


# ---------------------------------------------------------------- figures


def answers_of(rows: list[dict]) -> pd.DataFrame:
    base = {"candidate": "m", "variant": "on", "ok": True, "score": 1.0, "reasoning": "t", "reasoning_tokens": 0,
            "answer_tokens": 10, "token_split": "tokenizer", "ttfat_ms": 100.0, "answer_ms": 50.0, "cut_off": False,
            "output_tokens": 10, "e2e_ms": 150.0, "ttft_ms": 90.0}  # fmt: skip
    return pd.DataFrame([{**base, **r} for r in rows])


def test_reasoning_summary_figures() -> None:
    served = answers_of([
        {"reasoning_tokens": 100, "output_tokens": 110, "ttfat_ms": 1000.0, "e2e_ms": 1500.0, "score": 1.0},
        {"reasoning_tokens": 300, "output_tokens": 310, "ttfat_ms": 3000.0, "e2e_ms": 3500.0, "score": 1.0},
        {"reasoning_tokens": 64, "output_tokens": 64, "answer_tokens": 0, "ttfat_ms": None, "answer_ms": None,
         "e2e_ms": 800.0, "cut_off": True, "score": 0.0},
        {"variant": "off", "reasoning": None, "reasoning_tokens": 0, "token_split": None, "ttfat_ms": 200.0,
         "output_tokens": 20, "e2e_ms": 400.0, "score": 0.5},
        {"variant": "off", "ok": False, "reasoning": None, "score": 0.0, "output_tokens": None, "e2e_ms": None},
    ])  # fmt: skip
    variants = [
        Variant(name="on", kind="zero_shot", thinking=True),
        Variant(name="off", kind="zero_shot", thinking=False),
    ]
    (row,) = reasoning_summary(served, ["m"], variants).to_dict("records")
    assert row["thinking_answers"] == 3 and row["cut_off"] == 1
    # thinking figures are over the answers with thinking allowed: the three of variant "on" ("off" would dilute them)
    assert row["cut_off_share"] == pytest.approx(1 / 3)
    assert row["thinking_tok_p50"] == pytest.approx(100.0)  # 64, 100, 300
    assert row["ttfat_p50_ms"] == pytest.approx(2000.0)  # 1000 and 3000 (the cut-off answer has none)
    assert row["token_split"] == "tokenizer"
    assert row["score_thinking_on"] == pytest.approx(2 / 3) and row["score_thinking_off"] == pytest.approx(0.25)
    assert row["tokens_thinking_on"] == pytest.approx((110 + 310 + 64) / 3) and row["tokens_thinking_off"] == 20
    assert row["e2e_p50_ms_thinking_on"] == pytest.approx(1500.0) and row["e2e_p50_ms_thinking_off"] == 400.0
    assert cut_off_advice(pd.DataFrame([row]), 64) == [
        "m: 33% of its answers with thinking allowed were cut off while thinking (max_tokens 64); they score 0. "
        "Raise sampling.max_tokens so the thinking can finish, or switch thinking off."
    ]
    assert cut_off_advice(pd.DataFrame([{**row, "cut_off_share": 0.05}]), 64) == []
    off_only = reasoning_summary(served[served.variant == "off"], ["m"], variants).iloc[0]
    assert off_only.thinking_answers == 0 and off_only.cut_off_share is None  # thinking off: nothing to measure


def test_dollars_per_thousand_acceptable_answers() -> None:
    answers = answers_of([{"score": 1.0}, {"score": 0.6}, {"score": 0.2}, {"score": 0.0}, {"score": None}])
    assert acceptable_share(answers, "m", 0.5) == pytest.approx(2 / 4)  # unscored answers are left out
    assert usd_per_1k_acceptable(0.30, 0.5) == pytest.approx(0.60)
    assert usd_per_1k_acceptable(0.30, 0.0) is None and usd_per_1k_acceptable(None, 0.5) is None


def test_a_question_costs_its_thinking_tokens() -> None:
    # $2/GPU-h x 1 GPU at 1,000 tok/s = $0.5556 per 1M tokens; 2,000 tokens an answer -> $1.111 per 1k questions
    row = cost_row(2.0, 1, 1000.0, 4.0, 0.0, tokens_per_answer=2000.0)
    assert row["usd_per_1k_questions"] == pytest.approx(2 / (1000 * 3600) * 1e6 * 2000 * 1000 / 1e6)
    assert cost_row(2.0, 1, 1000.0, 4.0, 0.0)["usd_per_1k_questions"] == pytest.approx(2 * (1000 / 4) / 3600)


def test_ttfat_constraint_rules_a_candidate_out() -> None:
    row = {"rubric_mean": 0.8, "ttft_p95_ms": 900.0, "ttfat_p95_ms": 12000.0}
    assert violations(row, Constraints(max_p95_ttft_ms=1000, max_p95_ttfat_ms=10000), 1) == [
        "p95 time to first answer token 12,000 ms > 10,000 ms"
    ]
    assert violations(row, Constraints(max_p95_ttft_ms=800), 1) == ["p95 time to first token 900 ms > 800 ms"]


def test_a_zero_reasoning_count_beside_thinking_text_is_not_a_count() -> None:
    # vLLM reports reasoning_tokens 0 for parsers that do not count them (ReasoningParser's default)
    assert split_tokens(30, "some thinking", "answer", 0, lambda t: len(t.split())) == (2, 28, "tokenizer")
    assert split_tokens(30, "", "answer", 0, None) == (0, 30, None)


def test_a_run_written_before_schema_2_still_scores_and_reports(tmp_path: Path) -> None:

    from harness.report.drilldown import page_drilldown
    from harness.report.render import build_report
    from harness.scoring.stage import score_run
    from harness.store import read_records
    from harness_bench.synthetic_run import write_synthetic_run

    run = write_synthetic_run(tmp_path / "run", 2, 6, 1, seed=1)
    lines = (run / "generations.jsonl").read_text(encoding="utf-8").splitlines()
    old = []
    for i, line in enumerate(lines):  # as schema 1 wrote them: no thinking fields, thinking left inside text
        rec = {k: v for k, v in json.loads(line).items() if k not in V2_FIELDS} | {"schema_version": 1}
        if i == 0:
            rec["text"] = "<think>secret 5 thoughts</think>" + rec["text"]
        old.append(json.dumps(rec, ensure_ascii=False))
    (run / "generations.jsonl").write_text("\n".join(old) + "\n", encoding="utf-8")
    first = json.loads(lines[0])

    score_run(run)
    gens = read_records(run / "generations.jsonl", Generation)
    assert gens[0].text == first["text"] and gens[0].reasoning == "secret 5 thoughts"
    assert all(g.schema_version == SCHEMA_VERSION for g in gens)  # upgraded on reading (harness.schema)
    html = build_report(run, tmp_path / "report").read_text(encoding="utf-8")
    assert 'id="models-table"' in html and 'id="thinking-table"' in html  # the old thinking is shown apart
    thoughts = [a["r"][0] for q in page_drilldown(html)["questions"] for cell in q["answers"] for a in cell if "r" in a]
    assert thoughts == ["secret 5 thoughts"]  # in the drill-down data, folded under the answer


V2_FIELDS = {"reasoning", "reasoning_via", "reasoning_tokens", "answer_tokens", "token_split", "ttfat_ms",
             "cut_off_thinking"}  # fmt: skip


def test_plan_reasoning_block_resolves_the_plugin_and_names_a_missing_one(tmp_path: Path) -> None:
    from harness.inputs.plan import load_plan
    from harness.validation import InputError
    from tests.support.files import DATA, write_yaml

    (tmp_path / "parsers").mkdir()
    (tmp_path / "parsers" / "mine.py").write_text("# registers 'mine'\n", encoding="utf-8")
    mine = {"parser": "mine", "plugin": "parsers/mine.py"}
    base = {"name": "p", "question_sets": [str(DATA / "sets" / "mini_en.yaml")],
            "candidates": [{"name": "a", "model": "org/model", "reasoning": mine}],
            "variants": [{"name": "on", "kind": "zero_shot", "thinking": True}]}  # fmt: skip
    lp = load_plan(write_yaml(tmp_path / "plan.yaml", base))
    assert lp.plan.candidates[0].reasoning.plugin == str((tmp_path / "parsers" / "mine.py").resolve())
    assert lp.plan.variants[0].thinking is True
    base["candidates"][0]["reasoning"]["plugin"] = "parsers/gone.py"  # type: ignore[index]
    with pytest.raises(InputError) as exc:
        load_plan(write_yaml(tmp_path / "plan.yaml", base))
    assert [(p.field, p.message) for p in exc.value.problems] == [
        ("candidates[0].reasoning.plugin", "reasoning parser plugin parsers/gone.py not found")
    ]
    base["candidates"][0]["reasoning"] = {"parser": "qwen3", "effort": "high"}  # type: ignore[index]
    with pytest.raises(InputError) as exc:
        load_plan(write_yaml(tmp_path / "plan.yaml", base))
    assert exc.value.problems[0].field == "candidates[0].reasoning.effort"  # extra keys are refused


@pytest.mark.parametrize(
    ("chunks", "score", "raw", "thinking"),
    [
        ([delta("stop", content="<think>也许[[6]]</think>评分：[[8]]")], 8.0, "评分：[[8]]", "也许[[6]]"),  # no parser
        ([delta(reasoning="[[6]]?"), delta("stop", content="**Rating:** 8")], 8.0, "**Rating:** 8", "[[6]]?"),
        ([delta(reasoning="[[6]] or [[7]]…"), delta("length", content="")], None, "", "[[6]] or [[7]]…"),  # cut off
    ],
)
def test_a_thinking_judge_is_graded_on_its_verdict_not_its_thinking(
    chunks: list[dict], score: float | None, raw: str, thinking: str
) -> None:
    from harness.scoring.judge.stage import ask as judge_ask

    qs = item().qs
    g = generation_of("年假为10天。")
    judge = Judge(model="j")
    it = single_item(judge, qs, qs.questions[0], g)

    model = ScriptedModel(lambda n, request: httpx.Response(200, stream=sse_stream(chunks)))

    async def go() -> Judgment:
        async with model.client(base_url="http://judge/v1", model="j") as c:
            return await judge_ask(c, "chat", it, judge)

    j = asyncio.run(go())
    assert (j.score, j.raw, j.reasoning, j.parsed) == (score, raw, thinking, score is not None)
    assert j.attempts == (1 if score is not None else 2)  # an unparsed reply is asked once more, never guessed


def test_a_model_that_thinks_ten_times_the_tokens_for_three_points_is_weighed_per_question() -> None:
    from harness.records import Weights
    from harness.rollup.decision import COST_PER_QUESTION, DecisionRule, recommend

    rows = [{"candidate": c, "set_id": "s", "question_id": f"q{i}", "category": "c", "score": s, "weight": 1.0}
            for c, s0 in (("plain", 0.70), ("thinker", 0.73)) for i, s in enumerate([s0] * 10)]  # fmt: skip
    models = pd.DataFrame({
        "candidate": ["plain", "thinker"], "rubric_mean": [0.70, 0.73], "usd_per_mtok": [1.0, 1.0],
        "usd_per_1k_questions": [0.3, 3.0],  # 300 vs 3,000 output tokens an answer at $1 per 1M tokens
        "e2e_p95_ms": [1000.0, 1000.0], "server_error": [None, None], "thinking_tok_p50": [0.0, 2700.0],
    })  # fmt: skip
    weights = Weights(quality=0.5, cost=0.5, latency=0.0, stability=0.0)
    per_token = recommend(models, pd.DataFrame(rows), DecisionRule(weights, Constraints(), k=1, resamples=200))
    # per token they cost the same, so the thinker (0.5 x 0.73 + 0.5 x 1) beats plain (0.5 x 0.70 + 0.5 x 1)
    assert per_token.recommended == "thinker" and per_token.table.set_index("candidate").loc["plain", "dominated_by"]
    per_question = recommend(
        models, pd.DataFrame(rows), DecisionRule(weights, Constraints(), 1, 200, 0), COST_PER_QUESTION
    )
    # per question plain costs a tenth: 0.5 x 0.70 + 0.5 x 1 = 0.85 against 0.5 x 0.73 + 0.5 x 0.1 = 0.415
    t = per_question.table.set_index("candidate")
    assert per_question.recommended == "plain" and t.loc["plain", "overall"] == pytest.approx(0.85)
    assert t.loc["thinker", "overall"] == pytest.approx(0.415) and t.pareto.all()  # both on the frontier
    assert "$3.0000 per 1,000 questions, thinking included" in per_token.reason  # said of a thinker recommended
    assert "thinking included" not in per_question.reason  # and not of a model that does not think
