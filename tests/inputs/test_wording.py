"""Language tags and the one table of context labels (harness/inputs/wording.py), as the prompts use them."""

from __future__ import annotations

import pytest

from harness.inputs.prompts import user_text
from harness.inputs.retrieval import Passage, render_context
from harness.inputs.wording import primary_language, wording
from harness.records import Question, QuestionSet


@pytest.mark.parametrize(("tag", "primary"), [("zh", "zh"), ("zh-Hans-CN", "zh"), ("ZH-TW", "zh"), ("en-GB", "en"),
                                              ("ja", "ja")])  # fmt: skip
def test_primary_language(tag: str, primary: str) -> None:
    assert primary_language(tag) == primary


def test_one_table_owns_both_context_labels_and_the_prompts_keep_their_text() -> None:
    # The set's shared context and the retrieved passages had two labels in two modules;
    # the candidates' prompts must read exactly as before the table took both over.
    qs = QuestionSet(id="s", title="t", language="zh-CN", context="加班按1.5倍计。",
                     questions=[Question(id="q", category="c", question="周末加班怎么算？")])  # fmt: skip
    assert (
        user_text(qs, qs.questions[0])
        == "请根据以下资料回答问题。\n\n【资料】\n加班按1.5倍计。\n\n问题：周末加班怎么算？"
    )
    passage = Passage(id="d#1", doc="d.md", heading=None, text="周末加班按2倍计。")
    assert render_context([passage], "zh-CN") == "参考资料：\n[1] 周末加班按2倍计。"
    assert render_context([passage], "fr") == "Reference material:\n[1] 周末加班按2倍计。"  # any other: English
    assert wording("de").context_label == wording("en").retrieved_label == "Reference material:"
