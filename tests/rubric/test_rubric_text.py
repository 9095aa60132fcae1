"""Issue 26 §2 and §4 for the text checks: declines read by meaning, denials after the phrase,
former and asker's figures, and words the question already holds.

Every expected value is what a careful grader says of the answer, reasoned case by case (the
comment says why where it is not plain).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness import rubric
from harness.inputs.questions import load_question_set
from harness.records import CheckSpec
from harness.rubric.checks_text import denial_core
from harness.rubric.declines import decline
from harness.rubric.disowning import possibility_at
from harness.rubric.registry import Evidence
from harness.rubric.text import negated_after, nfkc


def run(check: dict, answer: str, question: str = "") -> bool:
    args = {k: v for k, v in check.items() if k != "type"}
    spec = CheckSpec(type=check["type"], args=args)
    return rubric.run_check(spec, answer, Evidence(question=question) if question else None).passed


# ---------------------------------------------------------------------------------------------
# §4 Declines, by meaning
# ---------------------------------------------------------------------------------------------

DECLINES = [
    # the examples
    ("这个我不太清楚", ""),
    ("资料里没写", ""),
    ("I have no idea", ""),
    ("文中未给出具体天数", ""),
    # other ways of not knowing / not found / not stated / cannot determine
    ("我也不确定。", ""),
    ("没有查到相关规定。", ""),
    ("制度里没提。", ""),
    ("文件中没有相关规定。", ""),
    ("无法从资料中得知。", ""),
    ("无法根据现有资料确定。", ""),
    ("具体天数不详。", ""),
    ("这个问题超出了资料的范围。", ""),
    ("抱歉，我不知道。", ""),
    ("说实话我也说不准。", ""),
    ("资料中没有提到婚假的规定。", "员工结婚可以休几天婚假？"),
    ("关于婚假的具体天数，资料中没有提到。", "婚假有几天？"),
    ("制度中没有规定婚假天数，需咨询人力资源部。", ""),  # a referral after the decline is no answer
    ("I'm not certain.", ""),
    ("The document doesn't say.", ""),
    ("There is no information about Saturday delivery in the help center.", ""),
    ("I couldn't find anything on that.", ""),
    ("I'm afraid I don't know the exact figure.", ""),
    ("It's unclear from the policy whether Saturday counts.", ""),
    ("Sorry, I can't determine that from the material provided.", ""),
    ("That is not specified in the handbook. Please contact HR.", ""),
    # no clause with what it would be about between; not said; silent on; says nothing about
    ("员工手册中并无宠物补贴的相关条款。", "公司对员工养宠物有补贴吗？"),
    ("制度里没有关于宠物补贴的任何条款。", ""),
    ("资料只提到可以休陪产假，没说几天。", "陪产假有几天？"),
    ("文件里没讲清楚。", ""),
    ("The handbook doesn't cover gym memberships.", "Does the company reimburse gym memberships?"),
    ("The documents are silent on gym memberships.", ""),
    (
        "The policy lists bereavement leave for immediate family only; it says nothing about cousins.",
        "How many days of bereavement leave do I get for a cousin?",
    ),
    ("The FAQ makes no mention of pets.", ""),
    # a contrast followed by a referral leaves the decline standing
    ("我不清楚，不过您可以咨询人力资源部。", ""),
    ("I'm not sure, but you could check with HR.", ""),
    # a side fact with a figure does not answer a yes/no question
    (
        "The help center does not say whether Saturday delivery is available; it only states Express takes "
        "1-2 business days. The customer should contact support to confirm.",
        "Do you offer Saturday delivery for Express orders?",
    ),
]

NOT_DECLINES = [
    # the examples: a referral addressed to the user, a double negation, a condition
    ("不清楚的可以咨询HR", ""),
    ("制度并非没有规定。", ""),
    ("If you're not sure, ask HR.", ""),
    ("如果您不确定，可以查看员工手册。", ""),
    # more of each kind
    ("婚假3天。不清楚的地方可以咨询HR。", ""),
    ("不确定的话，请以员工手册为准。", ""),
    ("制度不是没有规定，婚假为3天。", ""),
    ("Not sure? Ask HR.", ""),
    ("Customers who are not sure which plan to pick can start with Starter.", ""),
    ("If anything is unclear, contact support.", ""),
    ("您不知道吗？婚假3天。", ""),
    ("员工不清楚流程时，应先询问直属主管。", ""),
    # "不知道" about something else: the answer commits to a figure for what was asked
    ("婚假3天。具体哪天开始我不知道，请问HR", ""),
    ("婚假3天。具体哪天开始我不知道，请问HR", "婚假有几天？"),
    ("Refunds take 5-7 business days. I don't know when yours was issued, though.", "How long do refunds take?"),
    # a decline of a side point beside the yes/no that was asked
    ("可以。具体天数我不清楚。", "试用期员工能请年假吗？"),
    ("Yes, you can. I'm not sure about the exact number of days.", "Can probation staff take annual leave?"),
    # a made-up figure beside the decline is an answer (abstains wants no invented figure)
    ("资料中没有提到婚假天数，一般为3天。", "婚假有几天？"),
    # answers that use the words in another sense
    ("The warranty does not cover water damage.", ""),
    ("Refunds take 5-7 business days. Please contact support if it has not arrived.", ""),
    ("标签字迹不清楚的，判为不合格。", "标签字迹不清楚怎么判？"),  # words of the question, not a decline
    ("存在不确定因素时应暂停生产。", ""),
    # a concession: the decline goes on with "but" and a claim
    (
        "I'm not sure about other perks, but gym memberships are reimbursed at 50%.",
        "Does the company reimburse gym memberships?",
    ),
    (
        "Not sure what you mean by 'weekday', but Monday to Friday overtime is paid at 1.5x.",
        "How is weekday overtime paid?",
    ),
    (
        "It's not specified for smaller orders, but above $10,000 the finance director signs off.",
        "Who approves a purchase order above $10,000?",
    ),
    ("资料没写，不过一般公司每月补贴100元。", "公司对员工养宠物有补贴吗？"),
    # a decline of a side point: a question word shared (怎么), "other", a clause of its own
    ("工作日加班按1.5倍计发；周末怎么算我不知道。", "工作日加班费怎么算？"),
    ("It's 1.5 times the hourly wage; not sure why people think it's double.", "How is weekday overtime paid?"),
    (
        "The finance director. Not sure about orders in other currencies.",
        "Who approves a purchase order above $10,000?",
    ),
    ("1.5倍。其他情况我不清楚。", "工作日加班费怎么算？"),
    # "does not cover" answers a question about cover
    ("The policy does not cover flood damage.", "Does the policy cover flood damage?"),
    ("婚假3天。", ""),
]


@pytest.mark.parametrize(("answer", "question"), DECLINES)
def test_declines(answer: str, question: str) -> None:
    assert decline(answer, (), question), answer
    assert run({"type": "abstains"}, answer, question)
    assert not run({"type": "answers"}, answer, question)


@pytest.mark.parametrize(("answer", "question"), NOT_DECLINES)
def test_not_declines(answer: str, question: str) -> None:
    assert decline(answer, (), question) is None, answer
    assert not run({"type": "abstains"}, answer, question)
    assert run({"type": "answers"}, answer, question)


def test_extra_phrases_follow_the_same_rules() -> None:
    check = {"type": "abstains", "phrases": ["超出制度范围"]}
    assert run(check, "这个问题超出制度范围。")
    assert not run(check, "如果超出制度范围，请咨询HR；婚假3天。")  # under a condition, and a figure


def test_faithful_reads_the_decline_by_meaning() -> None:
    spec = CheckSpec(type="faithful")
    material = "年假：工作满1年不满10年的，年假5天。"
    lacks = Evidence(material, False, "员工结婚可以休几天婚假？")
    assert rubric.run_check(spec, "资料里没写婚假。", lacks).passed
    assert not rubric.run_check(spec, "不清楚的可以咨询HR，婚假3天。", lacks).passed


# ---------------------------------------------------------------------------------------------
# §2 Negation after the phrase
# ---------------------------------------------------------------------------------------------

AFTER = [
    # (answer, phrase, denied after it?)
    ("您说的3个月不对", "3个月", True),
    ("退款申请不予受理", "退款", True),
    ("Refunds are not possible", "refund", True),
    ("3个月这个说法是错的", "3个月", True),
    ("Refunds? Not available.", "refund", True),
    ("5天是错误的", "5天", True),
    ("5天的说法不正确，应为10天。", "5天", True),
    ("短接是不允许的。", "短接", True),
    ("年假是5天吗？不是，是10天。", "5天", True),
    ("短接可以吗？不可以，必须停机报修。", "短接", True),
    ("Refunds aren't available for monthly plans.", "refund", True),
    ("5 days is wrong; it is 10 days.", "5 days", True),
    ("Cash refunds will not be issued.", "refund", True),
    # not denials
    ("退款不需要发票", "退款", False),  # 不需要 takes its own object
    ("3个月不到就离职", "3个月", False),  # a bound
    ("退款申请不予受理", "受理", False),  # the match is the end of the text: nothing after it
    ("5天内不予受理", "5天", False),  # a time limit, not a denial of 5天
    ("退款不予受理的情况包括逾期申请。", "退款", False),  # a relative clause
    ("Refunds do not require a receipt.", "refund", False),
    ("Can I get a refund? Not after 30 days.", "refund", False),  # a limit, not "no refund"
    ("5 days is enough.", "5 days", False),
    # a short complement between the subject and its denial; a denial answering a question
    ("Refunds after 10 days are never granted for monthly plans.", "refund", True),
    ("Refunds past 30 days are not available.", "refund", True),
    ("Refundable? Unfortunately not; the deposit is kept.", "refundable", True),
    ("A refund at this point? I'm afraid that's not something we can do.", "refund", True),
    ("Paid? Sadly, no.", "paid", True),
    ("退款？恐怕不行了。", "退款", True),
    ("带薪吗？很遗憾，不是的，是无薪假。", "带薪", True),
    ("复检？不需要，直接入库。", "复检", True),
    # not denials: another sentence, a relative clause, a limit after the question
    ("Refunds take 5 days. It is not possible to speed them up.", "refund", False),
    ("Refunds for customers who are not eligible go to credit.", "refund", False),
    ("Paid? Not after the first month.", "paid", False),
    ("退款？可以，7天内。", "退款", False),
]


@pytest.mark.parametrize(("answer", "phrase", "denied"), AFTER)
def test_negated_after(answer: str, phrase: str, denied: bool) -> None:
    src = nfkc(answer)
    end = src.casefold().index(phrase.casefold()) + len(phrase)
    assert negated_after(src, end) is denied


Q_LEAVE = "试用期员工能不能请年假？"
Q_HOLE = "安装孔实测3.25 mm，合格吗？"
CONTAINS = [
    # (check, answer, question, passes)
    ({"type": "contains_any", "values": ["3个月"]}, "您说的3个月不对，试用期是6个月。", "", False),
    ({"type": "contains_any", "values": ["退款"]}, "退款申请不予受理。", "", False),
    ({"type": "contains_any", "values": ["refund"]}, "Refunds are not possible.", "", False),
    ({"type": "contains_any", "values": ["refund"]}, "Refunds? Not available.", "", False),
    ({"type": "contains_any", "values": ["退款"]}, "退款不需要发票，原路退回。", "", True),
    ({"type": "contains_all", "values": ["3个月", "离职"]}, "3个月不到就离职的，不发年终奖。", "", True),
    ({"type": "not_contains", "values": ["5天"]}, "5天是错误的，应为10天。", "", True),
    ({"type": "not_contains", "values": ["短接"]}, "短接？绝对不行。", "", True),
    # §2 words the question already holds earn nothing
    ({"type": "contains_any", "values": ["不能"]}, "试用期员工能不能请年假，要看入职时间。", Q_LEAVE, False),
    ({"type": "contains_any", "values": ["不能"]}, "试用期员工不能请年假。", Q_LEAVE, True),
    ({"type": "contains_any", "values": ["不能"]}, "试用期能不能请年假？不能。", Q_LEAVE, True),
    ({"type": "contains_any", "values": ["不能"]}, "能不能请要看工龄。", "", False),  # A-not-A asks, denies nothing
    ({"type": "contains_any", "values": ["不可以"]}, "可不可以报销要看发票。", "", False),
    ({"type": "contains_any", "values": ["没有"]}, "有没有年假要看工龄。", "", False),
    ({"type": "contains_any", "values": ["合格"]}, "安装孔实测3.25 mm，合格吗？要看公差。", Q_HOLE, False),
    ({"type": "contains_any", "values": ["合格"]}, "合格。上限是3.25 mm。", Q_HOLE, True),
    ({"type": "contains_any", "values": ["需要干燥"]}, "PA66需要干燥，80℃烘4小时。", "PA66需要干燥吗？", True),
    (
        {"type": "contains_any", "values": ["refund"]},
        "Can I get a refund after 30 days? That depends.",
        "Can I get a refund after 30 days?",
        False,
    ),
    (
        {"type": "contains_any", "values": ["refund"]},
        "You can get a refund within 14 days.",
        "Can I get a refund after 30 days?",
        True,
    ),
    # not_contains: an old, former or asker's figure mentioned in passing is not claimed
    ({"type": "not_contains", "values": ["5天"]}, "原来的规定是5天，2024年起调整为10天。", "", True),
    ({"type": "not_contains", "values": ["5天"]}, "您说的5天是旧规定，现在是10天。", "听说年假是5天？", True),
    ({"type": "not_contains", "values": ["5天"]}, "不是5天，是10天。", "听说年假是5天？", True),
    ({"type": "not_contains", "values": ["5天"]}, "由5天调整为10天。", "", True),
    ({"type": "not_contains", "values": ["5天"]}, "以前是5天，现在是10天。", "", True),
    ({"type": "not_contains", "values": ["5天"]}, "5天已经废止，现行为10天。", "", True),
    ({"type": "not_contains", "values": ["5 days"]}, "It used to be 5 days; it is now 10 days.", "", True),
    ({"type": "not_contains", "values": ["5 days"]}, "The 5 days you mentioned is the old rule.", "", True),
    ({"type": "not_contains", "values": ["5天"]}, "年假是5天。", "听说年假是5天？", False),  # affirms it
    ({"type": "not_contains", "values": ["5天"]}, "您说的5天没错。", "听说年假是5天？", False),  # confirms it
    ({"type": "not_contains", "values": ["5天"]}, "依旧是5天。", "", False),  # 依旧 = still
    ({"type": "not_contains", "values": ["5天"]}, "原来是10天，现在是5天。", "", False),  # 5天 is the current one
    (
        {"type": "not_contains", "values": ["可以自己复位"]},
        "排除故障后可以自己复位继续生产。",
        "急停按钮被按下后，操作员排除故障后可以自己复位继续生产吗？",
        False,  # the answer says yes in the question's words: not_contains reads no echo
    ),
    # regex is left alone: a pattern is the author's exact format
    ({"type": "regex", "pattern": "不能"}, "能不能请要看工龄。", "试用期员工能不能请年假？", True),
]


@pytest.mark.parametrize(("check", "answer", "question", "passes"), CONTAINS)
def test_contains_reads_claims(check: dict, answer: str, question: str, passes: bool) -> None:
    assert run(check, answer, question) is passes


@pytest.mark.parametrize(
    ("value", "core"),
    [
        ("无法退款", "退款"),
        ("不予受理", "受理"),
        ("不需要复检", "复检"),
        ("not refundable", "refundable"),
        ("non-refundable", "refundable"),
        ("no refund", "refund"),
        ("can't be refunded", "refunded"),
        ("不能", None),  # too short to find alone
        ("refund", None),
        ("5天", None),
    ],
)
def test_denial_core(value: str, core: str | None) -> None:
    assert denial_core(value) == core


def test_a_denying_value_holds_for_a_denied_core() -> None:
    check = {"type": "contains_any", "values": ["not refundable"]}
    question = "Is the deposit refundable or non-refundable?"
    assert run(check, "Refundable? Unfortunately not; the deposit is kept.", question)
    # the question's "non-refundable" echoed, and the asker's, deny nothing
    assert not run(check, "Is the deposit refundable or non-refundable? Let me check the policy for you.", question)
    assert not run(
        check,
        "You asked whether the deposit is refundable or non-refundable: it is refundable within 14 days.",
        question,
    )
    # negation: false reads values as written only
    assert not run({**check, "negation": False}, "Refundable? Unfortunately not.", question)


def test_negation_false_counts_every_occurrence() -> None:
    check = {"type": "not_contains", "values": ["5天"], "negation": False}
    assert not run(check, "原来的规定是5天，2024年起调整为10天。")


# ---------------------------------------------------------------------------------------------
# harness validate: a value the question holds
# ---------------------------------------------------------------------------------------------

SET = """id: s
title: s
language: zh
questions:
  - id: q1
    category: c
    question: 试用期员工能不能请年假？
    checks:
      - type: contains_any
        values: [[不能, 不可以]]
      - type: any_of
        checks:
          - {type: contains_all, values: [年假]}
          - {type: number, value: 5}
  - id: q2
    category: c
    question: 年假有几天？
    checks:
      - type: contains_any
        values: [5天]
"""


def test_validate_warns_when_a_value_is_in_the_question(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(SET, encoding="utf-8")
    _, warnings = load_question_set(f, display="s.yaml")
    text = [str(w) for w in warnings if "appears in the question" in str(w)]
    assert len(text) == 2, text
    assert text[0].startswith("s.yaml:9: questions[0].checks[0]: warning: the value '不能' appears in the question")
    assert "'年假'" in text[1] and "questions[0].checks[1].checks[0]" in text[1]


# ---------------------------------------------------------------------------------------------
# linear in answer length
# ---------------------------------------------------------------------------------------------


def _seconds(check: dict, answer: str, question: str) -> float:
    t = time.perf_counter()
    run(check, answer, question)
    return time.perf_counter() - t


@pytest.mark.parametrize(
    "check",
    [
        {"type": "contains_any", "values": ["不能", "5天"]},
        {"type": "contains_any", "values": ["无法退款", "no refund", "不可以"]},
        {"type": "not_contains", "values": ["5天"]},
        {"type": "abstains"},
    ],
)
def test_long_answers_stay_linear(check: dict) -> None:
    unit = (
        "试用期员工能不能请年假？原来是5天，不清楚的可以咨询HR。不是5天吗？退款？可以，但I'm not sure, but refunds ok. "
    )
    question = "试用期员工能不能请年假？"
    small = _seconds(check, unit * 250, question)
    large = _seconds(check, unit * 2500, question)  # about 80,000 characters
    assert large < 1.5 and large < 25 * max(small, 1e-3)


# ---------------------------------------------------------------------------------------------
# Held-out kinds: a denial or former marker a clause away, "Not for X", a possibility, yes/no by meaning
# ---------------------------------------------------------------------------------------------

Q_INSTALL = "Can I install personal software on my work laptop?"
Q_INSTALL_ZH = "工作电脑上可以装私人软件吗？"
Q_MFA = "Is multi-factor authentication mandatory for remote access?"
Q_MFA_ZH = "远程访问必须开启多因素认证吗？"
Q_RAM = "How much RAM does the standard developer laptop have?"
NOT_ALLOWED = {"type": "contains_any", "values": ["not allowed", "not permitted", "prohibited", "forbidden"]}
ZH_NO = {"type": "contains_any", "values": ["不可以", "不能"]}
MANDATORY = {"type": "contains_any", "values": ["mandatory", "required", "compulsory", "must"]}
ZH_MUST = {"type": "contains_any", "values": ["必须", "强制"]}
NOT_90 = {"type": "not_contains", "values": ["90天"]}
NOT_90_EN = {"type": "not_contains", "values": ["90 days"]}
NOT_14 = {"type": "not_contains", "values": ["14 days"]}
NOT_14_ZH = {"type": "not_contains", "values": ["14天"]}
NOT_32 = {"type": "not_contains", "values": ["32GB"]}
PAID = {"type": "contains_any", "values": ["paid"]}
HAS_32 = {"type": "contains_any", "values": ["32 GB"]}
NOT_REFUNDABLE = {"type": "contains_any", "values": ["not refundable"]}
Q_DEPOSIT = "Is the deposit refundable?"
HELD_OUT = [
    # (check, answer, question, passes): a denial after the phrase in other words
    (NOT_90, "60天内交，对了，90天是错误的说法。", "", True),
    (NOT_90, "网上流传的90天，这个说法不准确，应为60天。", "", True),
    (NOT_90, "90天是不对的说法。", "", True),
    (NOT_90, "90天是误解，实际是60天。", "", True),
    (NOT_90_EN, "Submit within 60 days; 90 days is an outdated figure.", "", True),
    (NOT_90_EN, "The 90 days figure is outdated.", "", True),
    (NOT_90_EN, "It is 60 days. 90 days, which some people quote, is incorrect.", "", True),
    (NOT_90_EN, "90 days is a common misconception; it is 60.", "", True),
    (NOT_90_EN, "90 days is no longer valid.", "", True),
    (NOT_90, "90天是正确的说法。", "", False),  # affirmed
    (NOT_90, "90天并不是错误的说法。", "", False),  # the judgement is itself denied
    (NOT_90_EN, "90 days is the correct figure.", "", False),
    (NOT_90_EN, "90 days is not wrong.", "", False),
    # a former value marked a clause away, or reported as hearsay
    (NOT_14, "Within 7 days. The 14 days you may have heard of was the old rule.", "", True),
    (NOT_14, "Within 7 days. The 14 days that some people quote is the previous policy.", "", True),
    (NOT_14, "Within 7 days; the 14 days mentioned on the old website was the former limit.", "", True),
    (NOT_14, "The 14 days which appears in older manuals has been replaced by 7.", "", True),
    (NOT_14_ZH, "7天内。您听说的那个14天是以前的规定。", "", True),
    (NOT_14_ZH, "7天内。大家常说的14天，是旧版制度里的。", "", True),
    (NOT_14, "The 14 days you mentioned is correct.", "", False),  # confirmed past the relative clause
    (NOT_14, "Claims must be filed within 14 days that follow delivery.", "", False),
    (NOT_14_ZH, "大家常说的14天是对的。", "", False),
    # "Not for X": a denial when X is the asked case, a limit otherwise
    (MANDATORY, "Mandatory? Not for remote access via the office VDI.", Q_MFA, False),
    (MANDATORY, "Required? Not for remote access.", Q_MFA, False),
    (MANDATORY, "Required? Not for contractors; employees must use it.", Q_MFA, True),
    (PAID, "Paid? Not during probation.", "Is leave paid during probation?", False),
    (PAID, "Paid? Not during probation.", "Is parental leave paid?", True),
    ({"type": "contains_any", "values": ["not mandatory"]}, "Mandatory? Not for remote access.", Q_MFA, True),
    # a possibility is not the current value, unless the question asks for it
    (HAS_32, "16 GB of memory, upgradable to 32 GB on request.", Q_RAM, False),
    (HAS_32, "16 GB, upgradable to 32 GB.", "How far can the RAM be upgraded?", True),
    (
        {"type": "not_contains", "values": ["32 GB"]},
        "It ships with 16 GB, which can be extended to 32 GB.",
        Q_RAM,
        True,
    ),
    (NOT_32, "标配16GB内存，最多可扩展到32GB。", "", True),
    (NOT_32, "标配16GB内存，可升级到32GB。", "", True),
    (NOT_32, "可选配32GB内存，标配16GB。", "", True),
    (NOT_32, "标配32GB内存。", "", False),
    (NOT_32, "内存已升级到32GB。", "", False),  # done, not possible
    # yes/no by meaning: a bare no, one refusal for another
    (NOT_ALLOWED, "No.", Q_INSTALL, True),
    (NOT_ALLOWED, "No, you need IT approval first.", Q_INSTALL, True),
    (NOT_ALLOWED, "Installing personal software is prohibited.", Q_INSTALL, True),
    (NOT_ALLOWED, "Personal software cannot be installed on work laptops.", Q_INSTALL, True),
    (NOT_ALLOWED, "不行。", Q_INSTALL, True),
    (NOT_ALLOWED, "No problem, go ahead.", Q_INSTALL, False),
    (NOT_ALLOWED, "Yes, from the company portal.", Q_INSTALL, False),
    (NOT_ALLOWED, "I cannot say; ask IT.", Q_INSTALL, False),  # the speaker's: a decline
    (NOT_ALLOWED, "No.", "Isn't personal software allowed on work laptops?", False),  # a no to a negative question
    (ZH_NO, "不行。", Q_INSTALL_ZH, True),
    (ZH_NO, "禁止安装私人软件。", Q_INSTALL_ZH, True),
    (ZH_NO, "No, it is not permitted.", Q_INSTALL_ZH, True),
    (ZH_NO, "不。公司规定只能装授权软件。", Q_INSTALL_ZH, True),
    (ZH_NO, "可以，但不得超过3个。", Q_INSTALL_ZH, False),  # a bound
    (ZH_NO, "我不能确定，请咨询IT。", Q_INSTALL_ZH, False),
    (ZH_NO, "可以，通过软件中心安装。", Q_INSTALL_ZH, False),
    # a requirement said as a ban on doing without; a bare yes to the question's own predicate
    (MANDATORY, "Remote access without MFA is not permitted.", Q_MFA, True),
    (MANDATORY, "You cannot connect remotely without MFA.", Q_MFA, True),
    (MANDATORY, "Yes.", Q_MFA, True),
    (MANDATORY, "Yes, for all remote logins.", Q_MFA, True),
    (MANDATORY, "No.", Q_MFA, False),
    (MANDATORY, "Remote access works without MFA as well.", Q_MFA, False),
    (ZH_MUST, "没有开启MFA就不能远程登录。", Q_MFA_ZH, True),
    (ZH_MUST, "未开启多因素认证的，一律不允许远程访问。", Q_MFA_ZH, True),
    (ZH_MUST, "是的。", Q_MFA_ZH, True),
    (ZH_MUST, "不需要，VPN就够了。", Q_MFA_ZH, False),
    ({"type": "contains_any", "values": ["不能"]}, "是的。", "试用期能不能请年假？", False),  # 能不能 asks 能
    (NOT_REFUNDABLE, "No.", Q_DEPOSIT, True),
    (NOT_REFUNDABLE, "Yes, within 14 days.", Q_DEPOSIT, False),
]


@pytest.mark.parametrize(("check", "answer", "question", "passes"), HELD_OUT)
def test_held_out_kinds(check: dict, answer: str, question: str, passes: bool) -> None:
    assert run(check, answer, question) is passes


@pytest.mark.parametrize(
    ("answer", "figure", "question", "possible"),
    [
        ("It ships with 16 GB of memory, upgradable to 32 GB on request.", "32", Q_RAM, True),
        ("It ships with 16 GB of memory, upgradable to 32 GB on request.", "16", Q_RAM, False),
        ("16 GB; it can be expanded up to 64 GB.", "64", "", True),
        ("It supports up to 64 GB.", "64", "", True),
        ("The printer supports 600 dpi.", "600", "", False),
        ("内存16GB，最多可扩展到32GB。", "32", "", True),
        ("内存已升级到32GB。", "32", "", False),
        ("内存16GB，最多可扩展到32GB。", "32", "内存最多能扩展到多少？", False),  # the question asks for it
    ],
)
def test_possibility_at(answer: str, figure: str, question: str, possible: bool) -> None:
    assert possibility_at(nfkc(answer), nfkc(answer).index(figure), question) is possible


@pytest.mark.parametrize(
    ("values", "answer", "question", "quoted", "counts_for"),
    [
        (["not allowed"], "No.", "Can I install personal software?", "'No'", "not allowed"),
        (["不可以"], "不能报", "加班餐能报销吗？", "'不能'", "不可以"),
        (
            ["not allowed"],
            "Only up to the second level, so no.",
            "Can visitors go to the third level?",
            "'so no'",
            "not allowed",
        ),
        (["不能"], "访客只能到二层，所以不行。", "访客可以上三层吗？", "'所以不行'", "不能"),
        (
            ["mandatory"],
            "Remote access without MFA is not permitted.",
            "Is MFA mandatory for remote access?",
            "without MFA is not permitted",
            "mandatory",
        ),
        (["无法退款"], "退款这种情况是不行的", "可以退款吗？", "'退款这种情况是不行的'", "无法退款"),
    ],
)
def test_an_explanation_quotes_what_the_answer_said(
    values: list[str], answer: str, question: str, quoted: str, counts_for: str
) -> None:
    """A value matched through its meaning is explained by the answer's own words, never as if the
    answer had said the value: "No." is "found 'No' (a refusal, counts for: not allowed)"."""
    spec = CheckSpec(type="contains_any", args={"values": values})
    result = rubric.run_check(spec, answer, Evidence(question=question, reference=""))
    assert result.passed
    assert quoted in result.explanation and f"counts for: {counts_for}" in result.explanation
    assert not result.explanation.startswith("found: ")


def test_a_value_said_as_written_is_found_plainly() -> None:
    spec = CheckSpec(type="contains_any", args={"values": ["不能"]})
    result = rubric.run_check(spec, "不能报。", Evidence(question="加班餐能报销吗？", reference=""))
    assert result.explanation == "found: 不能"
