"""Training data out (export-sft) and contamination in (n-gram overlap with the evaluated questions)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from harness.inputs.contamination import EvalText, check_contamination, conversation_text, ngrams, tokens
from harness.inputs.questions import load_question_set
from harness.inputs.sft import read_sft, sft_examples
from harness.records import QuestionSet
from tests.support.files import HARNESS, REPO

EN = REPO / "question_sets" / "customer_support_en.yaml"
ZH = REPO / "question_sets" / "hr_policy_zh.yaml"


def _set(path: Path) -> QuestionSet:
    return load_question_set(path)[0]


def _eval_texts(qs: QuestionSet) -> list[EvalText]:
    return [EvalText(qs.id, q.id, q.question, q.reference) for q in qs.questions]


# ------------------------------------------------------------------ export-sft


def test_sft_examples_come_from_documents_not_questions() -> None:
    qs = _set(EN)
    doc = "# Help\n\n## Refunds\n\nRefunds take 5-7 business days.\n\n## Shipping\n\nWe ship in 2 days.\n"
    examples = sft_examples(qs, {"help.md": doc})
    # One passage per section (each is far below the chunk size), no few-shot examples in this set.
    assert [e.source for e in examples] == ["doc:help#1", "doc:help#2"]
    system, user, assistant = examples[0].messages
    assert (system["role"], user["role"], assistant["role"]) == ("system", "user", "assistant")
    assert user["content"] == 'What does "help" say about "Refunds"?'
    assert assistant["content"] == "Refunds take 5-7 business days."
    questions = {q.question for q in qs.questions}
    assert not any(m["content"] in questions for e in examples for m in e.messages)


def test_questions_are_exported_only_when_asked() -> None:
    qs = _set(EN)
    with_q = sft_examples(qs, {}, include_questions=True)
    assert [e.source for e in with_q] == [f"question:{q.id}" for q in qs.questions if q.reference]
    assert with_q[0].messages[1]["content"] == qs.questions[0].question
    assert with_q[0].messages[2]["content"] == qs.questions[0].reference
    assert sft_examples(qs, {}) == []


def test_export_sft_cli_writes_chat_jsonl_per_set(tmp_path: Path) -> None:
    out = tmp_path / "sft"
    done = subprocess.run([*HARNESS, "export-sft", str(EN), str(ZH), "--out", str(out)],
                          capture_output=True, text=True, cwd=REPO)  # fmt: skip
    assert done.returncode == 0, done.stderr
    files = sorted(p.name for p in out.glob("*.jsonl"))
    assert files == [f"{_set(EN).id}.jsonl", f"{_set(ZH).id}.jsonl"]
    first = json.loads((out / files[0]).read_text(encoding="utf-8").splitlines()[0])
    assert list(first) == ["messages"]
    assert [m["role"] for m in first["messages"]] == ["system", "user", "assistant"]
    conversations = read_sft(out)
    assert len(conversations) == sum(int(line) for line in _counts(done.stdout))
    # Nothing of the evaluated questions: the check below finds no question copied.
    found = check_contamination([conversation_text(c) for c in conversations], _eval_texts(_set(EN)))
    assert found.flagged == []


def _counts(stdout: str) -> list[str]:
    """The example counts the CLI prints, one ``<set>: <n> examples`` line per set."""
    return [line.split(": ")[1].split()[0] for line in stdout.splitlines() if " examples" in line]


def test_read_sft_names_the_bad_line(tmp_path: Path) -> None:
    f = tmp_path / "t.jsonl"
    f.write_text('{"messages": []}\n{"text": "x"}\n')
    with pytest.raises(ValueError, match=r"t.jsonl:2: a chat JSONL line needs a `messages` list"):
        read_sft(f)


# ------------------------------------------------------------------ contamination


def test_tokens_split_cjk_by_character_and_drop_punctuation() -> None:
    assert tokens("年假 5天，Ｐｒｏ-Plan!") == ["年", "假", "5", "天", "pro", "plan"]
    assert ngrams(["a", "b", "c"], 2) == {("a", "b"), ("b", "c")}
    assert ngrams(["a"], 2) == set()


def test_a_planted_overlap_of_three_questions_is_found_and_named() -> None:
    qs = _set(EN)
    docs = {name: (EN.parent / "docs" / name).read_text(encoding="utf-8") for name in ["customer_support_en.md"]}
    clean = [conversation_text(e.messages) for e in sft_examples(qs, docs)]
    q = {x.id: x for x in qs.questions}
    planted = [
        # 1. verbatim, as the user turn of an example
        f"{q['billing-002'].question}\nNo, they need Pro.",
        # 2. embedded in a longer text, with different case and punctuation
        "Customer said: " + q["refund-002"].question.upper().replace("?", "!!") + " Agent: yes.",
        # 3. a near duplicate: the question with its last two words changed
        " ".join(q["billing-001"].question.split()[:-2]) + " every year?",
    ]
    found = check_contamination(clean + planted, _eval_texts(qs))
    assert found.flagged == [(qs.id, "billing-001"), (qs.id, "billing-002"), (qs.id, "refund-002")]
    by_id = {o.question_id: o for o in found.overlaps if o.field == "question"}
    assert (by_id["billing-002"].kind, by_id["billing-002"].example) == ("exact", len(clean))
    assert (by_id["refund-002"].kind, by_id["refund-002"].example) == ("exact", len(clean) + 1)
    # billing-001 has 23 tokens, so 16 8-grams; changing the last 2 tokens ("12 months") into
    # "every year" breaks the 2 grams that end in them: 14 of 16 remain.
    near = by_id["billing-001"]
    assert (near.kind, near.example) == ("near", len(clean) + 2)
    assert near.share == pytest.approx(14 / 16)


def test_a_question_sharing_under_half_its_ngrams_is_not_flagged() -> None:
    item = EvalText("s", "q", "one two three four five six seven eight nine ten eleven twelve")
    # The training text holds the first 10 tokens: grams 1..3 of 5 (share 0.6) -> near.
    assert check_contamination(["one two three four five six seven eight nine ten"], [item]).flagged == [("s", "q")]
    # The first 9 tokens: grams 1..2 of 5 (0.4) -> not flagged.
    assert check_contamination(["one two three four five six seven eight nine"], [item]).flagged == []


def test_a_reference_in_the_training_data_flags_nothing_but_is_listed() -> None:
    reference = "annual subscriptions can be refunded in full within fourteen days of the charge"
    item = EvalText("s", "q", "Can I get my money back after my plan renewed ten days ago?", reference)
    found = check_contamination([f"Policy: {reference}."], [item])
    assert found.flagged == [] and found.reference_only == [("s", "q")]
    assert [(o.field, o.kind) for o in found.overlaps] == [("reference", "exact")]


def test_short_texts_are_not_checked() -> None:
    # "几天" is 2 tokens, under n // 2 = 4: it occurs in any leave policy by chance.
    found = check_contamination(["年假有几天"], [EvalText("s", "q", "几天？", "5天")])
    assert found.overlaps == []


def test_a_chinese_question_copied_into_training_data_is_found() -> None:
    qs = _set(ZH)
    target = qs.questions[0]
    found = check_contamination([f"用户：{target.question}\n助手：见制度。"], _eval_texts(qs))
    assert found.flagged == [(qs.id, target.id)]
