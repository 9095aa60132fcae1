"""A thinking model on the real vLLM server (CPU build): the thinking is not the answer, end to end.

SmolLM2-135M thinks through ``configs/reasoning/chatml_thinking.jinja`` (the assistant turn opens
with ``<think>``, as DeepSeek-R1's and Qwen3's templates do) and vLLM separates the thinking with
``--reasoning-parser think_text`` from ``configs/reasoning/think_text_parser.py`` (vLLM's own
``<think>``-token parsers refuse the demo tokenizers). One session-scoped server serves them all.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.inputs.plan import load_plan
from harness.records import Candidate, Generation, Reasoning, Score
from harness.report import browser
from harness.report.render import build_report
from harness.run.session import run_session
from harness.scoring.stage import score_run
from harness.server.client import Request, Result
from harness.server.model_server import ModelServer
from harness.server.reasoning_parsers import installed_parsers, parser_problems, served_models
from harness.server.vllm_server import start_vllm, vllm_command
from harness.store import read_records
from tests.support.files import DATA, REPO, SMOL, need_model, write_yaml
from tests.support.vllm import CPU_VLLM

pytestmark = pytest.mark.vllm
KEY_ENV = "HARNESS_TEST_THINKING_KEY"
TEMPLATE = REPO / "configs" / "reasoning" / "chatml_thinking.jinja"
PLUGIN = REPO / "configs" / "reasoning" / "think_text_parser.py"


def thinking_candidate(name: str = "smol-thinking") -> Candidate:
    return Candidate(
        name=name, model=str(SMOL), vllm=CPU_VLLM, reasoning=Reasoning(parser="think_text", plugin=str(PLUGIN))
    )


@pytest.fixture(scope="session")
def thinking_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModelServer]:
    model = need_model(SMOL)
    log = tmp_path_factory.mktemp("thinking-server") / "smol-thinking.vllm.log"
    with start_vllm(str(model), thinking_candidate(), log, timeout_s=600, chat_template=TEMPLATE) as server:
        yield server


def ask(server: ModelServer, max_tokens: int, **extra: object) -> Result:
    import asyncio

    async def go() -> Result:
        async with server.client(timeout_s=300, retries=0) as c:
            msgs = [{"role": "user", "content": "How many hours are in two days?"}]
            return await c.generate(Request(api="chat", messages=msgs, max_tokens=max_tokens, **extra))  # type: ignore[arg-type]

    return asyncio.run(go())


def test_the_parser_is_passed_to_vllm_and_checked_against_it() -> None:
    cmd = vllm_command(str(SMOL), thinking_candidate(), 8000, TEMPLATE)
    assert cmd[cmd.index("--reasoning-parser") + 1] == "think_text"
    assert cmd[cmd.index("--reasoning-parser-plugin") + 1] == str(PLUGIN)
    known = installed_parsers([str(PLUGIN)])
    assert known is not None and {"think_text", "deepseek_r1", "qwen3", "granite"} <= set(known)
    wrong = thinking_candidate().model_copy(update={"reasoning": Reasoning(parser="think-text", plugin=str(PLUGIN))})
    assert [w for w, _ in parser_problems([("candidates.0.reasoning.parser", wrong)])] == [
        "candidates.0.reasoning.parser"
    ]


def test_a_finished_answer_keeps_its_thinking_apart(thinking_server: ModelServer) -> None:
    res = ask(thinking_server, 200)
    assert res.error is None and res.finish_reason == "stop" and res.reasoning_via == "parser"
    assert res.reasoning.strip() and res.text.strip() and not res.cut_off_thinking
    assert "<think>" not in res.text and "</think>" not in res.text and "</think>" not in res.reasoning
    # TTFT is the first token (thinking); the answer's first token comes after the thinking
    assert res.ttft_ms is not None and res.ttfat_ms is not None and res.e2e_ms is not None
    assert res.ttft_ms < res.ttfat_ms <= res.e2e_ms


def test_an_answer_cut_off_while_thinking(thinking_server: ModelServer) -> None:
    res = ask(thinking_server, 6)
    assert res.error is None and res.finish_reason == "length" and res.output_tokens == 6
    assert res.reasoning.strip() and res.text == "" and res.cut_off_thinking and res.ttfat_ms is None


def test_thinking_off_answers_at_once(thinking_server: ModelServer) -> None:
    res = ask(thinking_server, 60, chat_template_kwargs={"enable_thinking": False})
    assert res.error is None and res.reasoning == "" and res.reasoning_via is None and res.text.strip()


def test_run_scores_answers_only_counts_thinking_and_reports_it(
    tmp_path: Path, thinking_server: ModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, thinking_server.api_key or "")
    plan = write_yaml(tmp_path / "plan.yaml", {
        "name": "thinking-e2e",
        "candidates": [{
            "name": "smol-thinking", "model": "smol-thinking", "price_per_gpu_hour_usd": 0.1,
            "endpoint": {"base_url": thinking_server.base_url, "api_key_env": KEY_ENV, "model": thinking_server.model},
            "reasoning": {"tokenizer": str(SMOL)},  # served elsewhere: count thinking with the model's tokenizer
        }],
        "question_sets": [str(DATA / "sets" / "mini_zh.yaml"), str(DATA / "sets" / "mini_en.yaml")],
        "sampling": {"temperature": 0.0, "max_tokens": 96, "seed": 3},
        "variants": [{"name": "thinking", "kind": "zero_shot", "thinking": True},
                     {"name": "no_thinking", "kind": "zero_shot", "thinking": False}],
        "limits": {"concurrency": 4, "request_timeout_s": 300, "retries": 1},
        "perf": {"sweep": None},
    })  # fmt: skip
    run_dir = tmp_path / "run"
    (outcome,) = run_session(load_plan(plan), run_dir, show_progress=False)
    assert (outcome.failed, outcome.error) == (0, None)
    gens = read_records(run_dir / "generations.jsonl", Generation)
    thinking = [g for g in gens if g.variant == "thinking"]
    plain = [g for g in gens if g.variant == "no_thinking"]
    assert len(thinking) == len(plain) == 6 and all(g.schema_version == 2 for g in gens)
    assert all(g.reasoning is None and g.reasoning_tokens == 0 for g in plain)
    thought = [g for g in thinking if g.reasoning]
    assert thought, "the thinking template should make the model think"
    for g in thought:  # stored, counted with the tokenizer, and part of the output tokens
        assert g.reasoning_via == "parser" and g.token_split == "tokenizer"
        assert g.reasoning_tokens and g.reasoning_tokens > 0 and g.output_tokens
        assert g.reasoning_tokens + (g.answer_tokens or 0) == g.output_tokens
        assert "</think>" not in g.text and g.ttft_ms is not None

    score_run(run_dir)
    scores = {s.key: s for s in read_records(run_dir / "scores.jsonl", Score)}
    for g in gens:
        s = scores[g.key]
        assert s.cut_off_thinking == g.cut_off_thinking
        if g.cut_off_thinking:
            assert s.score == 0.0 and s.checks == []
        else:  # every check explains what it saw in the answer; nothing of the thinking reaches a check
            assert s.checks and all(c.explanation for c in s.checks)

    index = build_report(run_dir, tmp_path / "report")
    html = index.read_text(encoding="utf-8")
    assert 'id="thinking-table"' in html and 'id="thinking-switch-table"' in html
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    (m,) = summary["models"]
    # a question is priced on the decision variant's answers (the plan's first, thinking on), not both arms
    decided = [g for g in gens if g.variant == "thinking" and g.error is None]
    mean_tokens = sum(g.output_tokens or 0 for g in decided) / len(decided)
    assert m["mean_output_tokens"] == pytest.approx(mean_tokens)  # thinking tokens count in cost
    assert m["usd_per_1k_questions"] == pytest.approx(m["usd_per_mtok"] * mean_tokens / 1000)
    assert m["arm_usd_per_1k_questions"] == pytest.approx(m["usd_per_mtok"] * m["arm_output_tokens_mean"] / 1000)
    assert m["thinking_answers"] == len(thought) and m["cut_off"] == sum(g.cut_off_thinking for g in gens)
    assert m["thinking_tok_p50"] is not None and m["ttfat_p50_ms"] is not None
    dom = browser.dump_dom(index)
    assert "thinking (" in dom and "tokens)" in dom  # the drill-down folds the thinking under the answer
    png = browser.screenshot(index, tmp_path / "report" / "thinking.png", fragment="thinking", height_px=1400)
    assert png.exists() and browser.png_size(png)[0] == 1400


def test_every_parser_named_in_the_guide_is_known_to_the_installed_vllm() -> None:
    import re

    table = (REPO / "docs" / "reasoning.md").read_text(encoding="utf-8").split("### Parser names")[1].split("###")[0]
    named = set(re.findall(r"`([a-z0-9_]+)`", table)) - {"true", "false", "thinking", "enable_thinking"}
    assert {"qwen3", "deepseek_r1", "glm45", "openai_gptoss", "kimi_k2", "minimax_m2"} <= named
    known = installed_parsers()
    assert known is not None and named <= set(known), named - set(known or [])


def test_the_reasoning_shortlist_names_parsers_the_installed_vllm_knows() -> None:
    lp = load_plan(REPO / "configs" / "shortlist_reasoning_h100.yaml")
    assert parser_problems(served_models(lp.plan)) == []
    assert {c.reasoning.parser for c in lp.plan.candidates} == {
        "none",
        "qwen3",
        "deepseek_r1",
        "openai_gptoss",
        "glm45",
    }


def test_validate_names_an_unknown_parser_with_its_line(tmp_path: Path) -> None:
    import subprocess

    from tests.support.files import HARNESS

    plan = tmp_path / "plan.yaml"
    plan.write_text(
        f"name: p\nquestion_sets: [{DATA / 'sets' / 'mini_en.yaml'}]\ncandidates:\n"
        "  - name: a\n    model: org/model\n    reasoning:\n      parser: deepseek-r1\n",
        encoding="utf-8",
    )
    out = subprocess.run([*HARNESS, "validate", str(plan)], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 2, out.stderr
    (line,) = [ln for ln in out.stdout.splitlines() if "reasoning.parser" in ln]
    assert line.startswith(f"{plan}:7: candidates[0].reasoning.parser: 'deepseek-r1' is not a reasoning parser")
    assert "deepseek_r1" in line and "Traceback" not in out.stderr
