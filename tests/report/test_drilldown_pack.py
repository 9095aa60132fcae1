"""The drill-down's document packed into the page (gzip + base64) and read back, without a browser.

The browser side (``DecompressionStream`` unpacking it) is tested in test_report_browser.py.
"""

from __future__ import annotations

import base64
import gzip
import json
import math
import re

import pytest

from harness.report.drilldown import pack, page_drilldown, unpack

HEADER = {"models": ["a", "b"], "threshold": 0.6, "categories": ["c"], "sets": ["s"]}
QUESTIONS = [
    {"set": "s", "id": "q1", "answers": [[{"s": 0, "t": "外派员工可结转的年假为9天"}], []]},
    {"set": "s", "id": "q2", "answers": [[{"s": 0, "t": "</script><script>alert(1)</script><!--"}], []]},
]


def test_pack_round_trips_in_order_and_is_plain_gzip() -> None:
    packed = pack(HEADER, iter(QUESTIONS))  # a stream of questions, as the report gives it
    assert unpack(packed) == {**HEADER, "questions": QUESTIONS}
    # Any gzip reader opens it (the browser's DecompressionStream("gzip") among them), and it is compact UTF-8 JSON.
    text = gzip.decompress(base64.b64decode(packed)).decode("utf-8")
    assert text == json.dumps({**HEADER, "questions": QUESTIONS}, ensure_ascii=False, separators=(",", ":"))


def test_packed_text_cannot_close_its_script_element_and_is_deterministic() -> None:
    packed = pack(HEADER, QUESTIONS)
    assert re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", packed)  # base64 only: no '<', so no '</script>'
    assert pack(HEADER, QUESTIONS) == packed  # no time stamp in the gzip header: same run, same page


def test_no_questions_still_make_a_document() -> None:
    assert unpack(pack(HEADER, [])) == {**HEADER, "questions": []}


def test_a_number_json_cannot_hold_is_refused() -> None:
    with pytest.raises(ValueError):
        pack(HEADER, [{"id": "q", "w": math.nan}])


def test_page_drilldown_finds_the_document_and_names_a_page_without_one() -> None:
    page = f'<p>x</p><script type="application/gzip" id="drill-data">{pack(HEADER, QUESTIONS)}</script>'
    assert page_drilldown(page)["questions"][1]["id"] == "q2"
    with pytest.raises(ValueError, match="no packed drill-down"):
        page_drilldown('<script type="application/json" id="drill-data">{}</script>')


def test_a_graded_call_adds_little_beyond_the_call_itself() -> None:
    # Each answer of a run with graded calls carries its calls (harness.report.calls.answer_entry); at 200,000
    # answers every byte counts. A right call: its outcome, the call as streamed, its pairing, and nothing more:
    # '{"o":"right","m":[["' + name + '","' + arguments (quotes escaped) + '",null]],"p":[[0,0,true,[]]]}'
    # is 52 characters of frame around the name and the escaped arguments.
    from harness.records import CallGrade, CallPair, ExpectedCall, ToolCallMade
    from harness.report.calls import answer_entry

    args = '{"employee_id": "E2051", "leave_type": "病假"}'
    grade = CallGrade(outcome="right", expects="calls", made=1, parsed=True, reason="the expected calls, with the "
                      "expected arguments", pairs=[CallPair(expected=0, made=0, same_function=True)])  # fmt: skip
    made = {"schema_version": 1, "key": "k", "tool_calls": [ToolCallMade(name="get_leave_balance", arguments=args)],
            "tool_steps": []}  # fmt: skip
    expected = [ExpectedCall(name="get_leave_balance", arguments={"employee_id": "E2051", "leave_type": "病假"})]
    entry = json.dumps(answer_entry(grade, made, expected), ensure_ascii=False, separators=(",", ":"))  # type: ignore[arg-type]
    assert len(entry) == 52 + len("get_leave_balance") + len(json.dumps(args, ensure_ascii=False)) - 2
    assert "why" not in entry  # a right grade's reason is left out


def test_passages_shared_by_answers_are_packed_once() -> None:
    # Three candidates answered one question with the same two passages (as one variant's retrieval gives
    # them). The question's JSON holds each passage's text once (px) and each answer two indices, so a
    # 2,000-character passage costs ~2,000 characters, not 6,000: under 2,000 + the short one + 400 of frame.
    import pandas as pd

    from harness.records import Question, QuestionSet
    from harness.report.drilldown import drilldown_questions

    long_text, short = "模" * 2000, ("wiki#1", "wiki.md", None, None, "点检")
    given = (("sop#2", "sop.pdf", "3 工艺参数", 2, long_text), short)
    names = ["a", "b", "c"]
    n = len(names)
    answers = pd.DataFrame({
        "candidate": names, "set_id": ["s"] * n, "question_id": ["q"] * n, "key": [f"{m}/s/q/0" for m in names],
        "sample": [0] * n, "text": ["60 ℃"] * n, "ok": [True] * n, "error": [None] * n, "score": [1.0] * n,
        "context_ids": [["sop#2", "wiki#1"]] * n, "context_hit": [True] * n, "faithful": [None] * n,
        "faithful_why": [None] * n,
        "reasoning": [None] * n, "reasoning_tokens": [None] * n, "cut_off": [False] * n, "checks": [[]] * n,
    })  # fmt: skip
    stability = pd.DataFrame({"set_id": ["s"] * n, "question_id": ["q"] * n, "candidate": names,
                              "status": ["stable right"] * n, "c": [1] * n, "n": [1] * n,
                              "score": [1.0] * n})  # fmt: skip
    one = Question(id="q", category="c", question="?")
    sets = {"s": QuestionSet(id="s", title="t", language="zh", questions=[one])}
    passages = {f"{m}/s/q/0": given for m in names}
    (q,) = drilldown_questions(sets, names, answers, stability, {}, None, passages)
    assert q["px"] == [list(p) for p in given]
    assert [a["p"] for cell in q["answers"] for a in cell] == [[0, 1]] * 3
    (bare,) = drilldown_questions(sets, names, answers, stability, {}, None, None)
    added = len(json.dumps(q, ensure_ascii=False)) - len(json.dumps(bare, ensure_ascii=False))
    assert 2000 < added < 2000 + 400


def test_answer_passages_reads_each_passage_once_and_an_older_line_as_none(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Two answers got the same passage: one tuple, shared. A line written before passages were recorded
    # (no "passages" key at all) is an answer given none, not an error.
    from harness.records import Generation, GivenPassage
    from harness.report.load import answer_passages
    from harness.rundir import GENERATIONS

    given = [GivenPassage(id="sop#2", doc="sop.pdf", heading="3 工艺参数", page=2, text="| ABS | 模具温度 | 60 ℃ |")]
    lines = []
    for cand in ("a", "b", "old"):
        g = Generation(key=f"{cand}/s/q/0", candidate=cand, set_id="s", question_id="q", sample=0, api="chat",
                       seed=0, passages=given if cand != "old" else [])  # fmt: skip
        record = json.loads(g.model_dump_json())
        if cand == "old":
            del record["passages"]
        lines.append(json.dumps(record, ensure_ascii=False))
    (tmp_path / GENERATIONS).write_text("\n".join(lines) + "\n", encoding="utf-8")
    got = answer_passages(tmp_path)
    assert got == {"a/s/q/0": (("sop#2", "sop.pdf", "3 工艺参数", 2, "| ABS | 模具温度 | 60 ℃ |"),),
                   "b/s/q/0": (("sop#2", "sop.pdf", "3 工艺参数", 2, "| ABS | 模具温度 | 60 ℃ |"),)}  # fmt: skip
    assert got["a/s/q/0"][0] is got["b/s/q/0"][0]


def test_every_drill_column_of_a_plan_with_variants_names_its_variant() -> None:
    from harness.report.render import drill_labels

    # the trial's plan: variants [zero_shot, with_context], decide_on with_context. The deciding variant's
    # answers keep the plain name in the served frames (and in #model= links), so its key stays plain, but its
    # heading must name the variant too: before, it read "qwen" beside "qwen · zero_shot"
    keys, labels = drill_labels(["qwen", "smol"], ["zero_shot", "with_context"], "with_context")
    assert keys == ["qwen · zero_shot", "qwen", "smol · zero_shot", "smol"]
    assert labels == ["qwen · zero_shot", "qwen · with_context (decides)",
                      "smol · zero_shot", "smol · with_context (decides)"]  # fmt: skip
    # decide_on left out: the first variant decides, and says so
    assert drill_labels(["qwen"], ["zero_shot", "few_shot"], "zero_shot")[1] == [
        "qwen · zero_shot (decides)", "qwen · few_shot"]  # fmt: skip
    # one variant: a column per candidate, named by the candidate alone
    assert drill_labels(["qwen", "smol"], ["zero_shot"], "zero_shot") == (["qwen", "smol"], ["qwen", "smol"])


def test_the_header_carries_a_heading_per_column_and_refuses_a_miscount() -> None:
    from harness.report.drilldown import drilldown_header

    header = drilldown_header({}, ["a", "a · zero_shot"], 0.6, ["a · ctx (decides)", "a · zero_shot"], 1)
    assert (header["models"], header["labels"], header["samples"]) == (
        ["a", "a · zero_shot"], ["a · ctx (decides)", "a · zero_shot"], 1)  # fmt: skip
    assert drilldown_header({}, ["a"], 0.6)["labels"] == ["a"]  # no headings given: the keys
    with pytest.raises(ValueError, match="1 column labels for 2 drill-down columns"):
        drilldown_header({}, ["a", "b"], 0.6, ["a"])


def test_each_answer_carries_the_rank_of_the_passage_holding_the_source() -> None:
    # Two answers to one question, both given passages [p1, p2, p3]: the first found the source in p2 (rank 2),
    # the second missed it. Ranks with a gap sit in a float column (2.0, NaN): the page needs 2 and None.
    import pandas as pd

    from harness.records import Question, QuestionSet
    from harness.report.drilldown import drilldown_questions
    from harness.rollup.frames import RANK_COLUMN

    names = ["a", "b"]
    answers = pd.DataFrame({
        "candidate": names, "set_id": ["s"] * 2, "question_id": ["q"] * 2, "key": ["a/s/q/0", "b/s/q/0"],
        "sample": [0] * 2, "text": ["x"] * 2, "ok": [True] * 2, "error": [None] * 2, "score": [1.0] * 2,
        "context_ids": [["p1", "p2", "p3"]] * 2, "context_hit": [True, False], "faithful": [None] * 2,
        "faithful_why": [None] * 2, "reasoning": [None] * 2, "reasoning_tokens": [None] * 2, "cut_off": [False] * 2,
        "checks": [[]] * 2, RANK_COLUMN: [2, None],
    })  # fmt: skip
    assert answers[RANK_COLUMN].dtype == float
    stability = pd.DataFrame({"set_id": ["s"] * 2, "question_id": ["q"] * 2, "candidate": names,
                              "status": ["stable right"] * 2, "c": [1] * 2, "n": [1] * 2,
                              "score": [1.0] * 2})  # fmt: skip
    sets = {
        "s": QuestionSet(id="s", title="t", language="en", questions=[Question(id="q", category="c", question="?")])
    }
    (q,) = drilldown_questions(sets, names, answers, stability, {})
    assert [cell[0]["cx"] for cell in q["answers"]] == [
        [["p1", "p2", "p3"], True, None, None, 2], [["p1", "p2", "p3"], False, None, None, None]]  # fmt: skip
    # a run where no answer found its source has no rank column: every rank None
    (bare,) = drilldown_questions(sets, names, answers.drop(columns=[RANK_COLUMN]), stability, {})
    assert [cell[0]["cx"][4] for cell in bare["answers"]] == [None, None]
