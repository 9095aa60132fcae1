"""Prompt variants: few-shot for chat and base models, roles, retrieved context, keys, faithfulness, gains."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.inputs.plan import load_plan
from harness.inputs.prompts import Framing, build_request, few_shot_examples, plain_prompt, system_text
from harness.inputs.questions import load_question_set
from harness.inputs.variants import framings, generation_key
from harness.records import FewShotExample, Generation, Plan, Question, QuestionSet, Sampling, Variant
from harness.rollup.stability import question_stability
from harness.rollup.strategy import variant_table
from harness.run.generate import plan_work
from harness.scoring.stage import score_generation
from tests.support.files import DATA

SET = QuestionSet(
    id="hr", title="t", language="zh",
    questions=[
        Question(id="a1", category="年假", question="入职3年有几天年假？", reference="5天。"),
        Question(id="a2", category="年假", question="年假怎么申请？", reference="提前3个工作日在系统申请。"),
        Question(id="o1", category="加班", question="工作日加班怎么算？", reference="1.5倍工资。"),
        Question(id="o2", category="加班", question="周末加班怎么算？"),  # no reference: never an example
    ],
)  # fmt: skip


def test_few_shot_examples_prefer_the_same_category_and_never_the_question_itself() -> None:
    q = SET.questions[0]
    ex = few_shot_examples(SET, q, 2)
    assert [e.question for e in ex] == ["年假怎么申请？", "工作日加班怎么算？"]
    assert all(e.question != q.question for e in few_shot_examples(SET, q, 10))
    assert len(few_shot_examples(SET, q, 10)) == 2  # o2 has no reference
    given = SET.model_copy(update={"few_shot": [FewShotExample(question="示例？", answer="示例答案。")]})
    assert few_shot_examples(given, q, 3) == (FewShotExample(question="示例？", answer="示例答案。"),)


def test_few_shot_chat_request_alternates_user_and_assistant_turns() -> None:
    q = SET.questions[0]
    framing = Framing(system="你是本公司人事制度助手", examples=few_shot_examples(SET, q, 2))
    req = build_request("chat", SET, q, Sampling(), 7, framing)
    roles = [m["role"] for m in req.messages or []]
    assert roles == ["system", "user", "assistant", "user", "assistant", "user"]
    assert req.messages[1]["content"] == "年假怎么申请？" and req.messages[2]["content"] == "提前3个工作日在系统申请。"
    assert req.messages[-1]["content"] == q.question and req.seed == 7


def test_few_shot_for_a_base_model_is_plain_text_blocks_ending_in_an_open_answer() -> None:
    q = SET.questions[0]
    framing = Framing(system="你是本公司人事制度助手", examples=few_shot_examples(SET, q, 1))
    req = build_request("completions", SET, q, Sampling(), 0, framing)
    assert req.prompt == (
        "【角色】你是本公司人事制度助手\n\n"
        "问题：年假怎么申请？\n回答：提前3个工作日在系统申请。\n\n"
        "问题：入职3年有几天年假？\n回答："
    )
    assert req.stop and "\n问题：" in req.stop  # the base model stops before inventing the next question


def test_context_goes_before_the_question_once_labelled() -> None:
    q = SET.questions[0]
    framing = Framing(context="参考资料：\n[1] (年假) 员工每年享有5天带薪年假。", context_ids=("mini_zh#1",))
    chat = build_request("chat", SET, q, Sampling(), 0, framing).messages[-1]["content"]  # type: ignore[index]
    assert chat.startswith("请根据以下资料回答问题。\n\n参考资料：\n[1]") and chat.endswith("问题：入职3年有几天年假？")
    assert "【资料】" not in chat
    assert plain_prompt(SET, q, framing).startswith("参考资料：\n[1]")


def test_system_text_picks_the_language() -> None:
    v = Variant(name="role", kind="system_prompt", system_prompt={"zh": "你是助手", "en": "You are an assistant"})
    assert system_text(v, "zh") == "你是助手" and system_text(v, "en-GB") == "You are an assistant"
    with pytest.raises(ValueError, match="needs system_prompt"):
        Variant(name="role", kind="system_prompt")


def test_with_context_retrieves_the_source_passage() -> None:
    path = DATA / "sets" / "mini_zh.yaml"
    qs, _ = load_question_set(path)
    framed = framings([Variant(name="with_context", kind="with_context", top_k=1)], [(path, qs)])
    for q in qs.questions:
        f = framed[("with_context", qs.id, q.id)]
        assert len(f.context_ids) == 1 and f.context and q.source
        assert q.source in f.context, (q.id, f.context)


def test_two_documents_of_one_stem_in_a_set_keep_apart_ids(tmp_path: Path) -> None:
    # a company keeps policy.md (the wiki) beside policy.txt (an export of the old intranet): both were
    # cut into policy#1, so a question's passage id named either file, and retrieval counted them as one
    (tmp_path / "policy.md").write_text("# 年假\n入职满一年可休年假 5 天。", encoding="utf-8")
    (tmp_path / "policy.txt").write_text("病假需提供医院证明，每年带薪病假 10 天。", encoding="utf-8")
    (tmp_path / "rules.md").write_text("# 加班\n加班需主管审批。", encoding="utf-8")
    sick = Question(id="sick", category="c", question="带薪病假每年有几天？", reference="10 天")
    qs = QuestionSet(
        id="hr", title="t", language="zh", documents=["policy.md", "policy.txt", "rules.md"], questions=[sick]
    )
    framed = framings([Variant(name="with_context", kind="with_context", top_k=3)], [(tmp_path / "hr.yaml", qs)])
    ids = framed[("with_context", "hr", "sick")].context_ids
    assert ids[0] == "policy.txt#1"  # the sick-leave passage, by its whole file name
    assert set(ids) <= {"policy.md#1", "policy.txt#1", "rules#1"}  # a stem no other file shares keeps stem#n


def _plan(tmp_path: Path, variants: list) -> Path:
    import yaml

    plan = {"name": "p", "candidates": [{"name": "a", "model": "org/m"}, {"name": "b", "model": "org/m"}],
            "question_sets": [str(DATA / "sets" / "mini_zh.yaml")], "sampling": {"samples": 2},
            "variants": variants}  # fmt: skip
    (tmp_path / "plan.yaml").write_text(yaml.safe_dump(plan, allow_unicode=True), encoding="utf-8")
    return tmp_path / "plan.yaml"


def test_plan_work_covers_every_variant_with_unique_keys(tmp_path: Path) -> None:
    lp = load_plan(_plan(tmp_path, ["zero_shot", "with_context", {"name": "few", "kind": "few_shot", "shots": 1}]))
    work = plan_work(lp)
    assert len(work) == 2 * 3 * 2 * 2  # candidates x variants x questions x samples
    assert len({w.key for w in work}) == len(work)
    assert generation_key("a", "mini_zh", "leave", 0) == "a/mini_zh/leave/0"  # the default variant keeps old keys
    ctx = [w for w in work if w.variant == "with_context"]
    assert all(w.key.endswith("/with_context") and w.framing.context_ids for w in ctx)
    few = [w for w in work if w.variant == "few"]
    assert all(len(w.framing.examples) == 1 for w in few)
    with pytest.raises(Exception, match="duplicate"):
        Plan.model_validate({**lp.plan.model_dump(), "variants": ["zero_shot", "zero_shot"]})


def test_scoring_records_faithfulness_and_retrieval_hits() -> None:
    qs, _ = load_question_set(DATA / "sets" / "mini_zh.yaml")
    q = qs.questions[1]  # 工作日加班按几倍工资计算？ source in the doc
    base = {"candidate": "a", "set_id": qs.id, "question_id": q.id, "sample": 0, "api": "chat", "seed": 0}
    given = "参考资料：\n[1] (加班) 工作日加班按1.5倍工资计算。"
    good = Generation(key="k1", variant="with_context", text="按1.5倍。", context=given, context_ids=["x#1"], **base)
    bad = Generation(key="k2", variant="with_context", text="按3倍。", context=given, context_ids=["x#1"], **base)
    closed = Generation(key="k3", text="按3倍。", **base)
    s_good, s_bad, s_closed = (score_generation(g, q) for g in (good, bad, closed))
    assert s_good.context_hit is True and s_good.faithfulness and s_good.faithfulness.passed
    assert s_bad.faithfulness and not s_bad.faithfulness.passed and s_bad.score == 0
    assert s_closed.faithfulness is None and s_closed.context_hit is None and s_closed.variant == "zero_shot"
    missed = good.model_copy(update={"context": "参考资料：\n[1] (年假) 员工每年享有5天带薪年假。", "text": "按2倍。"})
    s_missed = score_generation(missed, q)
    assert s_missed.context_hit is False and not s_missed.faithfulness.passed  # type: ignore[union-attr]


def test_variant_gains_are_paired_and_the_top_gainer_is_named() -> None:
    rng = np.random.default_rng(0)
    base = rng.random(40) * 0.5
    rows = []
    for cand, gain in (("small_gain", 0.02), ("big_gain", 0.4)):
        for variant, shift in (("zero_shot", 0.0), ("with_context", gain)):
            for i, s in enumerate(base):
                rows.append({"candidate": cand, "variant": variant, "set_id": "s", "question_id": f"q{i}",
                             "category": "c", "weight": 1.0, "sample": 0, "text": "t", "ok": True,
                             "score": min(1.0, s + shift + (rng.normal(0, 0.01) if variant != "zero_shot" else 0)),
                             "faithful": 1.0 if variant == "with_context" else None,
                             "context_hit": True if variant == "with_context" else None})  # fmt: skip
    answers = pd.DataFrame(rows)
    variants = [Variant(name="zero_shot", kind="zero_shot"), Variant(name="with_context", kind="with_context")]
    s = variant_table(answers, question_stability(answers, 0.5, 1), ["small_gain", "big_gain"], variants, 500, 0)
    t = s.table.set_index(["candidate", "variant"])
    assert t.loc[("big_gain", "with_context"), "gain"] == pytest.approx(0.4, abs=0.01)
    assert t.loc[("big_gain", "with_context"), "gain_significant"]
    assert pd.isna(t.loc[("big_gain", "zero_shot"), "gain"])
    assert t.loc[("big_gain", "with_context"), "context_hit"] == 1.0
    assert s.top_gainers["with_context"][0] == "big_gain" and s.top_gainers["with_context"][2]


def test_variant_gains_are_holm_adjusted_over_the_table() -> None:
    # 40 questions; zero_shot scores 0.5 for everyone; with_context adds 0.1 (a), 0.2 (b) or
    # nothing (c) to every question. A constant positive difference is only matched by a sign
    # flip that keeps all 40 signs alike (chance 2^-39 per resample), so with 30 resamples the
    # raw p of a and b is (1 + 0) / (1 + 30) = 1/31 ≈ 0.032 (significant alone); c's zero
    # difference is matched by every flip: p = 31/31 = 1. Holm over the three gains: sorted
    # 1/31, 1/31, 1 -> 3 * 1/31, max(3/31, 2 * 1/31), max(3/31, 1 * 1) = 3/31, 3/31, 1;
    # 3/31 ≈ 0.097 > 0.05, so no gain is significant once adjusted.
    rows = []
    for cand, gain in (("a", 0.1), ("b", 0.2), ("c", 0.0)):
        for variant, shift in (("zero_shot", 0.0), ("with_context", gain)):
            for i in range(40):
                rows.append({"candidate": cand, "variant": variant, "set_id": "s", "question_id": f"q{i}",
                             "category": "c", "weight": 1.0, "sample": 0, "text": "t", "ok": True,
                             "score": 0.5 + shift, "faithful": None, "context_hit": None})  # fmt: skip
    answers = pd.DataFrame(rows)
    variants = [Variant(name="zero_shot", kind="zero_shot"), Variant(name="with_context", kind="with_context")]
    s = variant_table(answers, question_stability(answers, 0.5, 1), ["a", "b", "c"], variants, 30, 0)
    t = s.table.set_index(["candidate", "variant"]).loc[(slice(None), "with_context"), :]
    assert list(t.gain_p) == pytest.approx([1 / 31, 1 / 31, 1.0])
    assert list(t.gain_p_holm) == pytest.approx([3 / 31, 3 / 31, 1.0])
    assert list(t.gain_significant) == [False, False, False]
    assert s.top_gainers["with_context"] == ("b", pytest.approx(0.2), False)
