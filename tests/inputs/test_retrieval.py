"""Chunking, tokenizing and BM25 ranking for ``with_context`` (harness/inputs/retrieval.py); no server.

The retrieval cases are a small HR policy written here, with questions whose answering section is
known, so a ranking regression shows as a named question that lost its passage.
"""

from __future__ import annotations

import itertools
import random
import time
from pathlib import Path

import pytest

from harness.inputs.retrieval import (
    Bm25Index,
    Passage,
    chunk_document,
    context_passages,
    load_documents,
    render_context,
    source_rank,
    tokenize,
)
from harness.inputs.variants import context_hit
from harness.records import Question

POLICY_MD = """\
# 员工手册

本手册适用于公司全体正式员工。

## 年假

员工累计工作已满1年不满10年的，每年享有带薪年假5天；已满10年不满20年的，年假10天；已满20年的，年假15天。

当年未休完的年假可以顺延至次年3月31日，逾期作废。

## 病假

员工因病需要休息的，应在当天上午10点前向直属主管请假，并在返岗后3个工作日内补交二级以上医院出具的病假证明。

病假期间按本人基本工资的80%发放工资。

## 加班

### 工作日加班

工作日延长工作时间的，按本人小时工资的1.5倍支付加班费。每月加班累计不得超过36小时。

### 休息日加班

休息日安排加班的，优先安排调休；无法调休的，按工资的2倍支付加班费。

### 法定节假日

法定节假日安排加班的，按工资的3倍支付加班费，不安排调休。

## 调休

调休须提前2个工作日在OA系统提交申请，经部门负责人批准后生效。调休应在加班发生后6个月内使用完毕。

## 差旅报销

出差结束后30天内，员工应通过报销系统提交差旅费用报销单，并附上发票原件。

住宿标准：一线城市每晚不超过600元，其他城市每晚不超过400元。

## 试用期

新员工试用期为3个月，试用期工资不低于转正工资的80%。
"""

HANDBOOK_EN = """\
# Leave

## Annual leave

Full-time employees accrue 20 days of paid annual leave per calendar year. Up to 5 unused days may be
carried over into the first quarter of the next year.

## Sick leave

Employees who are ill must notify their manager before 10 am. A doctor's note is required for absences
longer than 3 consecutive days.

# Expenses

## Travel

Submit travel expense claims within 30 days of returning, with original receipts attached. Hotel costs
are reimbursed up to 150 dollars per night.

## Equipment

Laptops are replaced every 4 years. Report lost or stolen equipment to IT security within 24 hours.
"""


@pytest.fixture(scope="module")
def policy() -> list[Passage]:
    return chunk_document(POLICY_MD, "hr_policy.md")


@pytest.fixture(scope="module")
def policy_index(policy: list[Passage]) -> Bm25Index:
    return Bm25Index(policy)


# ---------------------------------------------------------------- chunking


def test_markdown_sections_keep_heading_path(policy: list[Passage]) -> None:
    headings = [p.heading for p in policy]
    assert headings[0] is None  # the text under the document's one title: the title is not a topic
    assert "加班 > 法定节假日" in headings
    assert "加班 > 工作日加班" in headings
    # A level-2 heading after a level-3 one pops back up the path.
    assert "调休" in headings
    assert all(p.heading is not None for p in policy[1:])
    assert all(not p.text.startswith("#") for p in policy)
    holiday = next(p for p in policy if p.heading == "加班 > 法定节假日")
    assert holiday.text == "法定节假日安排加班的，按工资的3倍支付加班费，不安排调休。"


def test_ids_are_stable_and_sequential(policy: list[Passage]) -> None:
    assert [p.id for p in policy] == [f"hr_policy#{n}" for n in range(1, len(policy) + 1)]
    assert {p.doc for p in policy} == {"hr_policy.md"}
    assert chunk_document(POLICY_MD, "hr_policy.md") == policy
    # The id is built from the file's stem, wherever the file is.
    assert chunk_document(POLICY_MD, "docs/hr_policy.md")[0].id == "hr_policy#1"


def test_short_paragraphs_of_a_section_share_a_passage(policy: list[Passage]) -> None:
    sick = [p for p in policy if p.heading == "病假"]
    assert len(sick) == 1
    assert "\n\n病假期间按本人基本工资的80%发放工资。" in sick[0].text


def test_long_paragraph_splits_at_sentence_ends_only() -> None:
    sentences = [f"第{i}条规定员工在第{i}种情形下应当履行相应的审批手续并保留记录。" for i in range(1, 13)]
    text = "## 审批\n\n" + "".join(sentences)
    passages = chunk_document(text, "rules.md", max_chars=100)
    assert len(passages) > 1
    assert all(len(p.text) <= 100 for p in passages)
    assert all(p.text.endswith("。") for p in passages)
    assert all(p.heading == "审批" for p in passages)
    # Nothing lost, nothing repeated, every sentence whole in exactly one passage.
    assert "".join(p.text for p in passages) == "".join(sentences)
    for s in sentences:
        assert sum(s in p.text for p in passages) == 1


def test_paragraph_that_fits_is_not_split_across_passages() -> None:
    first = "甲" * 60 + "。"
    second = "乙乙乙。" * 15  # 60 chars, four-char sentences
    passages = chunk_document(f"{first}\n\n{second}", "a.txt", max_chars=100)
    assert [p.text for p in passages] == [first, second]


def test_overlap_repeats_trailing_sentences() -> None:
    sentences = [f"这是第{i}句话，内容用来测试重叠。" for i in range(1, 9)]
    passages = chunk_document("".join(sentences), "o.txt", max_chars=50, overlap_sentences=1)
    assert len(passages) > 2
    for prev, nxt in itertools.pairwise(passages):
        last = next(s for s in reversed(sentences) if prev.text.endswith(s))
        assert nxt.text.startswith(last)
    assert passages[-1].text.endswith(sentences[-1])


def test_single_sentence_longer_than_max_is_hard_split() -> None:
    sentence = "这是一句没有任何标点而且非常非常长的句子" * 10 + "。"
    passages = chunk_document(sentence, "long.txt", max_chars=50)
    assert all(len(p.text) <= 50 for p in passages)
    assert "".join(p.text for p in passages) == sentence


def test_plain_text_without_headings() -> None:
    text = "第一条 公司实行标准工时制度。\n\n第二条 每日工作8小时，每周工作40小时。\r\n\r\n第三条 另有规定的除外。"
    passages = chunk_document(text, "rules.txt", max_chars=30)
    assert [p.heading for p in passages] == [None, None, None]
    assert passages[1].text == "第二条 每日工作8小时，每周工作40小时。"
    assert passages[0].id == "rules#1"


def test_english_splits_at_period_space_not_decimals() -> None:
    text = "Overtime is paid at 1.5 times the hourly rate. " * 3 + "Approval by a manager is required first."
    passages = chunk_document(text, "en.md", max_chars=100)
    assert all(len(p.text) <= 100 for p in passages)
    assert all(p.text.endswith(".") for p in passages)
    assert all("1.5 times" in p.text for p in passages[:-1])


def test_hash_lines_in_code_fences_are_not_headings() -> None:
    text = "# Guide\n\n## Setup\n\n```sh\n# install first\npip install x\n```\n"
    passages = chunk_document(text, "setup.md")
    assert [p.heading for p in passages] == ["Setup"]
    assert "# install first" in passages[0].text


def test_empty_and_heading_only_documents_give_no_passages() -> None:
    assert chunk_document("", "e.md") == []
    assert chunk_document("# 标题\n\n## 小节\n", "e.md") == []


def test_bad_chunk_arguments() -> None:
    with pytest.raises(ValueError, match="max_chars"):
        chunk_document("文本。", "x.md", max_chars=0)


# ---------------------------------------------------------------- loading


def test_load_documents_utf8_with_and_without_bom(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_bytes("\ufeff# 年假\n带薪年假5天。".encode())
    (tmp_path / "b.txt").write_text("病假。", encoding="utf-8")
    docs = load_documents([tmp_path / "a.md", tmp_path / "b.txt"])
    assert docs == {"a.md": "# 年假\n带薪年假5天。", "b.txt": "病假。"}


def test_load_documents_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.md"
    with pytest.raises(ValueError, match=r"missing\.md.*not found"):
        load_documents([missing])
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes("年假制度".encode("gbk"))
    with pytest.raises(ValueError, match=r"gbk\.txt.*not UTF-8"):
        load_documents([gbk])
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.md").write_text("x", encoding="utf-8")
    (tmp_path / "a.md").write_text("y", encoding="utf-8")
    with pytest.raises(ValueError, match=r"also named 'a\.md'"):
        load_documents([tmp_path / "a.md", tmp_path / "sub" / "a.md"])


# ---------------------------------------------------------------- tokenizing


def test_tokenize_chinese_words_and_numbers_with_units() -> None:
    terms = tokenize("工作日加班按1.5倍支付加班费，每周不超过40小时，试用期3个月")
    for t in ["加班", "加班费", "1.5", "倍", "40", "小时", "试用期", "3", "月"]:
        assert t in terms
    assert "，" not in terms and "," not in terms


def test_tokenize_drops_stopwords_punctuation_and_whitespace() -> None:
    terms = tokenize("年假的天数是多少？ What is the policy of the company?")
    assert "的" not in terms and "是" not in terms and "多少" not in terms
    assert "the" not in terms and "is" not in terms and "of" not in terms
    assert "policy" in terms and "company" in terms
    assert all(t.strip() and t not in "？?" for t in terms)


def test_tokenize_normalises_full_width_and_case() -> None:
    assert tokenize("加班费按１．５倍支付，ＯＡ系统") == tokenize("加班费按1.5倍支付,oa系统")
    assert "1.5" in tokenize("１．５倍")
    assert tokenize("Annual LEAVE") == ["annual", "leave"]


def test_tokenize_empty() -> None:
    assert tokenize("") == []
    assert tokenize("，。！ ？的了") == []


# ---------------------------------------------------------------- ranking

ZH_TOP1 = [
    ("工作满5年有几天带薪年假？", "年假"),
    ("没休完的年假能留到明年吗", "年假"),
    ("生病请假需要交什么证明？", "病假"),
    ("工作日加班费怎么算", "加班 > 工作日加班"),
    ("法定节假日加班按几倍工资", "加班 > 法定节假日"),
    ("调休需要提前几天申请？", "调休"),
    ("出差回来多久内要提交报销单？", "差旅报销"),
    ("新员工试用期多长", "试用期"),
]
# Paraphrases that share fewer words with their passage: in the top two is enough.
ZH_TOP2 = [
    ("周末上班有没有加班费", "加班 > 休息日加班"),
    ("去北京出差住酒店一晚能报多少钱", "差旅报销"),
]


@pytest.mark.parametrize(("query", "heading"), ZH_TOP1)
def test_chinese_query_finds_its_passage_first(policy_index: Bm25Index, query: str, heading: str) -> None:
    results = policy_index.search(query, k=3)
    assert results, query
    assert results[0][0].heading == heading, [(p.heading, round(s, 2)) for p, s in results]


@pytest.mark.parametrize(("query", "heading"), ZH_TOP2)
def test_chinese_paraphrase_in_top_two(policy_index: Bm25Index, query: str, heading: str) -> None:
    results = policy_index.search(query, k=2)
    assert heading in [p.heading for p, _ in results], [(p.heading, round(s, 2)) for p, s in results]


def test_results_best_first_and_bounded_by_k(policy_index: Bm25Index) -> None:
    results = policy_index.search("加班费", k=3)
    assert len(results) == 3
    scores = [s for _, s in results]
    assert scores == sorted(scores, reverse=True)
    assert all(s > 0 for s in scores)


def test_k_larger_than_corpus_returns_only_matching_passages(policy: list[Passage], policy_index: Bm25Index) -> None:
    results = policy_index.search("加班", k=1000)
    assert 0 < len(results) < len(policy)
    assert all("加班" in f"{p.heading}{p.text}" for p, _ in results)
    assert policy_index.search("加班", k=0) == []
    with pytest.raises(ValueError):
        policy_index.search("加班", k=-1)


def test_query_with_no_known_term_returns_nothing(policy_index: Bm25Index) -> None:
    assert policy_index.search("量子计算机的发展前景", k=3) == []
    assert policy_index.search("的了是？", k=3) == []
    assert policy_index.search("", k=3) == []


def test_empty_corpus() -> None:
    assert Bm25Index([]).search("年假", k=3) == []
    only_stopwords = [Passage("x#1", "x.md", None, "的了是。")]
    assert Bm25Index(only_stopwords).search("年假", k=3) == []


def test_ties_keep_passage_order() -> None:
    same = [Passage(f"d#{n}", "d.md", None, "年假五天。") for n in range(1, 6)]
    index = Bm25Index([Passage("d#0", "d.md", None, "病假证明。"), *same])
    assert [p.id for p, _ in index.search("年假", k=5)] == [f"d#{n}" for n in range(1, 6)]


def test_heading_is_searchable() -> None:
    passages = [
        Passage("p#1", "p.md", "病假", "需提供医院出具的证明。"),
        Passage("p#2", "p.md", "年假", "每年五天。"),
    ]
    assert Bm25Index(passages).search("病假", k=1)[0][0].id == "p#1"


def test_english_corpus() -> None:
    index = Bm25Index(chunk_document(HANDBOOK_EN, "handbook.md"))
    cases = [
        ("How many days of annual leave do I get?", "Leave > Annual leave"),
        ("Do I need a doctor's note when ill?", "Leave > Sick leave"),
        ("Deadline for travel expense claims", "Expenses > Travel"),
        ("My laptop was stolen, who do I tell?", "Expenses > Equipment"),
    ]
    for query, heading in cases:
        results = index.search(query, k=2)
        assert results and results[0][0].heading == heading, (query, [(p.heading, s) for p, s in results])


# ---------------------------------------------------------------- hit check and rendering


def _hit(passages: list[Passage], source: str, language: str = "zh") -> bool | None:
    """Whether the context the harness renders from ``passages`` holds ``source`` (what scoring records)."""
    q = Question(id="q", category="c", question="?", source=source, checks=[])
    return context_hit(render_context(passages, language), q)


def test_context_hit_on_text_or_heading(policy_index: Bm25Index) -> None:
    got = [p for p, _ in policy_index.search("法定节假日加班按几倍工资", k=2)]
    assert _hit(got, "法定节假日")
    assert _hit(got, "加班>法定节假日")  # heading path, spacing ignored
    assert _hit(got, "按工资的３倍 支付加班费")  # full-width digit, stray space
    assert not _hit(got, "试用期为3个月")
    assert not _hit([], "法定节假日")


def test_context_hit_english_is_case_insensitive() -> None:
    p = Passage("h#1", "h.md", "Leave > Sick leave", "A doctor's note is required.")
    assert _hit([p], "sick leave", "en")
    assert _hit([p], "Doctor's  note", "en")


def test_render_context() -> None:
    passages = [
        Passage("p#1", "p.md", "加班 > 法定节假日", "按工资的3倍支付加班费。"),
        Passage("p#2", "p.md", None, "本手册适用于全体员工。"),
    ]
    assert render_context(passages, "zh") == (
        "参考资料：\n[1] (加班 > 法定节假日) 按工资的3倍支付加班费。\n[2] 本手册适用于全体员工。"
    )
    assert render_context(passages, "zh-CN").startswith("参考资料：\n")
    assert render_context(passages[1:], "en") == "Reference material:\n[1] 本手册适用于全体员工。"
    assert render_context([], "zh") == ""


def test_a_passage_opening_with_a_table_has_it_on_the_line_after_its_heading() -> None:
    # "[1] (3 Preventive maintenance) | Equipment | Task |" would read the heading as a cell of the header row
    table = "| Equipment | Task |\n| --- | --- |\n| P-450 | Oil change |"
    passages = [
        Passage("pm#1", "pm.pdf", "3 Preventive maintenance", table),
        Passage("pm#2", "pm.pdf", "4 Safety", "Lock out the press first.\n\n| Step | Who |\n| --- | --- |"),
        Passage("pm#3", "pm.pdf", None, table),
    ]
    context = render_context(passages, "en")
    assert context.splitlines()[:5] == [
        "Reference material:",
        "[1] (3 Preventive maintenance)",
        "| Equipment | Task |",
        "| --- | --- |",
        "| P-450 | Oil change |",
    ]
    # text first, table later: unchanged; no heading: the mark alone, as before
    assert "\n[2] (4 Safety) Lock out the press first.\n" in context
    assert "\n[3] | Equipment | Task |\n" in context
    # the passages still split at their marks, and a source in a header row or a heading is found
    got = context_passages(context, 3)
    assert got[0] == "[1] (3 Preventive maintenance)\n" + table
    assert got[1].startswith("[2] (4 Safety)") and got[2] == "[3] " + table
    assert source_rank(context, 3, "Preventive maintenance") == 1
    assert source_rank(context, 3, "Step | Who") == 2


def test_context_passages_and_the_rank_of_the_source() -> None:
    passages = [
        Passage("p#1", "p.md", "年假", "员工每年享有5天带薪年假。"),
        Passage("p#2", "p.md", "加班 > 法定节假日", "按工资的3倍支付加班费。\n[3] 不是第三段，只是正文里的编号。"),
        Passage("p#3", "p.md", None, "病假须提供医院证明。"),
    ]
    context = render_context(passages, "zh")
    got = context_passages(context, 3)
    # "\n[3] " first occurs inside p#2's own text, so p#2 ends there and the rest counts as the third passage
    assert got[0] == "[1] (年假) 员工每年享有5天带薪年假。"
    assert got[1] == "[2] (加班 > 法定节假日) 按工资的3倍支付加班费。"
    assert got[2].startswith("[3] 不是第三段") and got[2].endswith("病假须提供医院证明。")
    assert source_rank(context, 3, "法定节假日") == 2  # in the heading path of the second passage
    assert source_rank(context, 3, "带薪年假") == 1
    assert source_rank(context, 3, "试用期") is None
    assert source_rank(context, 3, " ") is None  # blank: matches nothing
    assert source_rank(None, 3, "年假") is None
    # a phrase that runs across two passages is in neither: no rank, though the whole text holds it
    assert source_rank(context, 3, "带薪年假。[2]") is None
    assert context_passages(context, 1) == [context[context.index("[1]") :]]  # fewer marks asked: the rest in one


# ---------------------------------------------------------------- scale (timing is printed, not asserted)


def test_two_thousand_passages(capsys: pytest.CaptureFixture[str]) -> None:
    """2,000 distinct passages of ~100 characters: three policy sentences each, shuffled, with a number."""
    rng = random.Random(0)
    sentences = [s + "。" for p in chunk_document(POLICY_MD, "hr.md") for s in p.text.split("。") if s.strip()]
    passages = [
        Passage(
            f"big#{n}",
            "big.md",
            f"第{n // 10}章 > 第{n}节",
            "".join(rng.sample(sentences, 3)) + f"共{rng.randint(1, 999)}天。",
        )
        for n in range(1, 2001)
    ]
    tokenize("预热")  # jieba's dictionary load (~1 s) is a one-off, not part of indexing
    t0 = time.perf_counter()
    index = Bm25Index(passages)
    t1 = time.perf_counter()
    for query, _ in ZH_TOP1:
        assert index.search(query, k=3)
    t2 = time.perf_counter()
    with capsys.disabled():
        print(
            f"\n2000 passages: index {1000 * (t1 - t0):.0f} ms, search {1000 * (t2 - t1) / len(ZH_TOP1):.1f} ms/query"
        )


def test_several_level_one_headings_are_topics_not_a_title() -> None:
    text = "# 年假\n员工每年享有5天年假。\n\n# 加班\n工作日加班按1.5倍计算。\n"
    assert [p.heading for p in chunk_document(text, "two.md")] == ["年假", "加班"]


def test_a_blank_source_matches_no_context() -> None:
    # "" is a substring of every text: a blank source must not count every passage as a hit (issue 28)
    from harness.records import Question

    blank = Question(id="q", category="c", question="年假几天？", source="  ")
    assert context_hit("[1] (第三章 年假) 员工每年享有5天年假。", blank) is False
