"""Whether an answer declines: says it does not know, or that the material does not say (pure).

A careful grader reads a decline by meaning, not by phrase. A decline cue — not knowing (我也不确定,
I have no idea), not found (没有查到, I couldn't find), not stated (资料里没写, 文中未给出具体天数,
the document doesn't say), cannot determine (无法从资料中得知) — counts when it is the answer's own
statement:

- not under a condition: "如果您不确定，可以查看员工手册", "If you're not sure, ask HR";
- not addressed to the user or a third party: "不清楚的可以咨询HR", "您不知道吗？", "customers who
  are not sure";
- not a double negation: "制度并非没有规定" says the policy does say;
- not words copied from the question ("标签字迹不清楚" restating "标签字迹不清楚怎么判？").

And the decline must be the answer's position on what was asked: an answer that commits to a figure
outside its declining clauses answers ("婚假3天。具体哪天开始我不知道，请问HR"), and a decline
about a side point beside a real claim ("可以。具体天数我不清楚。" to "试用期能请年假吗？") is an
answer too. A decline of the asked point (bare, "这个我不太清楚"; pointing at it, "this"; or sharing
the question's words or its asked quantity) is the position unless a figure is committed.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

from harness.rubric.disowning import echoed
from harness.rubric.numbers import find_numbers
from harness.rubric.text import nfkc, normalize, normalize_with_map

_NOT_CLAUSE = r"[^，,。；;！!？?\n]"
_ZH_DOCS = (
    r"资料|文中|文档|文件|原文|上下文|手册|规程|制度|指南|章程|细则|条例|规定|守则|规章"
    r"|知识库|材料|说明书|合同|协议|SOP"
)
"""Document nouns: what a "not in the material" decline names (手册里没有, the runbook doesn't say)."""
_ZH_CUES = (
    # not knowing
    r"(?:不太|不大|不是很|不是太|不很|并不|也不|还不|暂不|尚不|都不|实在不|真的不|不)"
    r"(?:知道|清楚|确定|了解|确认|记得|晓得|肯定)(?!性|因素|度)",
    # cannot tell, with where from: 无法从资料中得知
    r"(?:无法|没法|没办法|不能|难以|无从|未能|没能|不便)"
    rf"(?:(?:从|根据|依据|依照|按照|在|通过|就|由|凭){_NOT_CLAUSE}{{1,12}}?(?:中|里|内|来看|来说|上|看)?)?"
    r"(?:准确|具体|确切|明确|完全|直接)?(?:知道|得知|获知|知晓|确定|判断|回答|答复|确认|断定|判定|查到|找到"
    r"|提供具体|给出具体|给出确切|给出准确|告知|查证|核实|作答)",
    # not stated, not found
    r"(?:没有|没|未|并未|并没有|尚未|均未|都没有|都没|也没有|也没|也未|未曾|不曾)"
    r"(?:写明?|写到|提到|提及|提起|提过|提(?=$|[^\u4e00-\u9fff]|这|此|该|相关|具体)|说明|说到|讲到|讲明|规定"
    r"|明确|作出?规定|做出?规定|具体规定|明确规定|涉及|记载|载明|注明|指明|标明|列明|给出|找到|查到|检索到|搜到"
    r"|查询到|见(?:相关|有关|具体|明确|规定|说明|记载|提及)"
    r"|(?:相关|有关|具体|明确的?|这方面的?|此方面的?|这类|此类|该项?)的?"
    r"(?:规定|信息|内容|说明|条款|记载|资料|数据|记录|答案|描述|要求|标准|政策|表述)|这方面)",
    r"(?:找不到|查不到|查无|搜不到|检索不到)(?:相关|有关|具体|明确)?",
    # 没说几天, 没讲清楚: saying, with what is not said
    r"(?:没有|没|未|并未|并没有|都没|也没)(?:说|讲)(?=几|多少|多久|多长|具体|明|清|什么|哪|怎么|是否|有没有|$|[，,。；;！!？?\n])",
    # 并无宠物补贴的相关条款, 没有关于宠物补贴的规定: no clause, with what it would be about between
    rf"(?:并无|并没有|没有|无|未见|不含)(?:(?:关于|有关|涉及){_NOT_CLAUSE}{{1,12}}?的?(?:相关|有关|具体|明确)?"
    rf"|{_NOT_CLAUSE}{{1,12}}?的?(?:相关|有关|具体|明确)的?)(?:规定|条款|说明|记载|内容|信息|描述|表述)",
    r"(?:暂无|尚无|并无|没有任何|无)(?:相关|有关|具体|明确|此类|这方面)的?(?:规定|信息|内容|说明|记载|资料|数据|记录)",
    rf"(?:{_ZH_DOCS}|所给|给定|提供的(?:资料|信息|内容|材料))(?:里|中|内|里面|当中|上)?并?"
    r"(?:没有|未|无|不含|未见|找不到|查不到|没(?:说|讲|提|写|规定|涉及)(?!不|禁止))",
    # 规定里什么都没说, 条例对此一句也没提: nothing said
    r"(?:什么|任何|一句|一个字)(?:内容|信息)?(?:都|也)(?:没有?|未)(?:说|讲|提|写|规定|涉及)",
    rf"(?:超出|超过|超越)了?{_NOT_CLAUSE}{{0,8}}?范围|不在{_NOT_CLAUSE}{{0,8}}?范围|范围之外",
    r"只字未提|只字不提|一字未提|不得而知|不详|说不准|说不好|说不清|拿不准|不好说|很难说|无可奉告|未知(?=$|[，,。；;！!？?\n])",
)
_MATERIAL_EN = (
    r"(?:document|text|material|context|passage|article|source|polic|handbook|manual|guide|faq|page"
    r"|runbook|playbook|rulebook|sop\b|guideline|wiki|procedure|docs\b|instructions|memo|notice|contract|agreement"
    r"|rules?\b|regulations?\b|terms\b|code\s+of\s+conduct|bylaws?\b|charter\b"
    r"|information|help\s+cent|knowledge|record|table|spreadsheet|sheet|chart|datasheet|data\s+sheet|specification"
    r"|catalog|schedule|list\b|it\b|they\b|this\b)"
)
_EN_CUES = (
    r"\b(?:do\s+not|don't|did\s+not|didn't)\s+(?:really\s+|actually\s+)?(?:know\b|have\s+(?:that\s+|this\s+|any\s+"
    r"|the\s+|enough\s+|such\s+)?(?:information|info|data|details)\b)",
    r"(?:\bnot|n't)\s+(?:(?:entirely|completely|totally|quite|really|100%|very|fully|exactly)\s+)?"
    r"(?:sure|certain|aware)\b|\b(?:unsure|uncertain)\b",
    r"\bnothing\s+(?:on|about|regarding|concerning)\b|\bno\s+(?:idea|clue)\b|\bno\s+(?:\w+\s+)?(?:information|info|data|details|mention|record|indication)"
    r"\s+(?:about|on|regarding|of|in|for|is|was|available)\b|\bnothing\s+(?:in|about)\s+(?:the|this|that|your)\b",
    r"\b(?:cannot|can't|can\s+not|could\s+not|couldn't|unable\s+to|not\s+able\s+to|no\s+way\s+to)\s+(?:\w+\s+)?"
    r"(?:determine|tell|find|locate|confirm|verify|answer|say|know|be\s+determined|be\s+found|be\s+confirmed)\b",
    r"(?:\bnot|n't)\s+(?:\w+\s+)?(?:specified|stated|mentioned|documented|addressed|indicated|disclosed)\b",
    r"(?:\bnot|n't)\s+(?:\w+\s+)?(?:given|provided|listed|covered|included|described|defined|found|available)"
    r"\s+(?:in|by|within|anywhere\s+in)\s+(?:the\s+|this\s+|your\s+|any\s+|our\s+)?"
    rf"(?:provided\s+|given\s+|available\s+|attached\s+|supplied\s+)?{_MATERIAL_EN}",
    r"\b(?:is|are|was|were|remains?)\s+silent\s+(?:on|about|regarding|as\s+to|concerning)\b"
    r"|\b(?:says?|said|mentions?|states?|specifies|specify)\s+nothing\s+(?:about|on|regarding|of|concerning)\b"
    r"|\b(?:makes?|made)\s+no\s+mention\b|\bthere(?:'s|\s+is)\s+no\s+mention\b",
    r"\bunclear\b|\b(?:is|are|remains?)\s+unknown\b|\b(?:beyond|outside)\s+(?:the\s+|my\s+)?scope\b"
    r"|\b(?:hard|difficult|impossible)\s+to\s+(?:say|tell)\b",
    # there is no setting for PP in the material; no value for PP is given in the table; PP is not in the table
    r"\bthere(?:'s|\s+is|\s+are)\s+no\s+(?:[\w-]+\s+){0,5}?(?:in|within)\s+(?:the\s+|this\s+|these\s+|your\s+|any\s+"
    rf"|our\s+)?(?:[\w-]+\s+){{0,2}}?{_MATERIAL_EN}"
    r"|\bno\s+(?:[\w-]+\s+){0,5}?(?:is|are|was|were)\s+(?:given|listed|provided|specified|stated|mentioned|shown|included)"
    rf"\s+(?:in|by)\s+(?:the\s+|this\s+|any\s+|your\s+)?(?:[\w-]+\s+){{0,2}}?{_MATERIAL_EN}"
    r"|\bno\s+(?:[\w-]+\s+){0,5}?(?:is|are|was|were)\s+(?:specified|given|listed|stated|mentioned|documented)"
    r"(?=\s*(?:for\b|[.;,。；，]|$))"  # no mould temperature is specified for PP
    r"|\b(?:is|are|was|were)\s+not\s+(?:\w+\s+)?(?:in|on)\s+(?:the\s+|this\s+|that\s+|any\s+|your\s+)?"
    rf"(?:[\w-]+\s+){{0,2}}?{_MATERIAL_EN}",
)
_EN_UNSTATED = re.compile(
    r"\b(?:does\s+not|doesn't|do\s+not|don't|did\s+not|didn't)\s+(?:\w+\s+)?(?:say|state|mention|specify|address"
    r"|indicate|list|cover\s+(?:this|that|it)\b|(?:include|provide|give|contain)\s+(?:any\s+|this\s+|that\s+"
    r"|such\s+|the\s+)?(?:information|details|figure|number|answer))\b",
    re.IGNORECASE,
)
"""Not stated, when the material is the subject ("the policy doesn't say"; not "the warranty does
not cover water damage", an answer)."""
_EN_NOT_COVERED = re.compile(
    r"\b(?:document|text|material|context|passage|article|handbook|manual|guide|faq|page|source|record|polic(?:y|ie)"
    r"|runbook|playbook|rulebook|sop|guideline|wiki|procedure|contract|agreement|rule|regulation|term|bylaw"
    r"|charter|code\s+of\s+conduct)s?"
    r"(?:\s+\w+){0,3}?\s+(?:does\s+not|doesn't|do\s+not|don't|did\s+not|didn't)\s+(?:\w+\s+)?"
    r"(?:cover|address|discuss|deal\s+with|touch\s+on|go\s+into)\b",
    re.IGNORECASE,
)
"""Not covered, when a text is the subject: "The handbook doesn't cover gym memberships" declines.
To a question that asks what is covered ("Does the policy cover water damage?") it answers."""
_ASKS_COVER = re.compile(r"\bcover(?:s|ed|age)?\b", re.IGNORECASE)
_EN_LACKS = re.compile(
    r"\b(?:does\s+not|doesn't|do\s+not|don't|did\s+not|didn't)\s+(?:\w+\s+)?"
    r"(?P<verb>give|list|show|define|name|quote|contain|tabulate|record)\b"
    r"|\bonly\s+(?:lists?|gives?|covers?|includes?|mentions?|shows?|has|contains?)\b[^.;。；\d]{1,80}?,?\s*not\s+[^.;,。；，]{1,40}"
    r"|\b(?:has|have|contains?|lists?|gives?|shows?|specifies|mentions?|states?|includes?)\s+no\s+"
    r"(?!(?:restriction|limit|cap|ceiling|requirement|minimum|maximum|rule|ban|prohibition|penalty|fee|charge|deadline"
    r"|cost|objection|exception|waiting)s?\b)",
    re.IGNORECASE,
)
"""Not given, when the material is the subject: "The procedure does not give a mould temperature for PP", "The SOP
has no mould temperature for PP", "The table only lists ABS and PC, not PP". Verbs of information only: "the policy
does not provide a car allowance" states a rule, and "the policy has no cap on referrals" is an answer."""
_EN_DATA_LACKS = re.compile(
    r"\b(?:table|list|sheet|spreadsheet|chart|datasheet|procedure|sop|manual|specification|document|material|text"
    r"|passage|context|source)s?(?:\s+\w+){0,3}?\s+(?:does\s+not|doesn't|do\s+not|don't)\s+(?:\w+\s+)?include\b",
    re.IGNORECASE,
)
"""Not included, when a text that holds data is the subject: "The table does not include PP" (a policy that "does not
include" something states a rule)."""
_ASKS_WHETHER = re.compile(r"^\W*(?:does|do|did|is|are|was|were|can|could|will|would|has|have|should)\b", re.IGNORECASE)
CUES = re.compile("|".join(f"(?:{c})" for c in (*_ZH_CUES, *_EN_CUES)), re.IGNORECASE)

_CLAUSE_MARK = re.compile(r"[,;:!?，。；：！？\n]|\.(?=\s|$)")
_CONDITION = re.compile(
    r"如果|若|假如|倘若|要是|如若|万一|假使|一旦|只要|除非|如有|如您|如你|如需|如对|如遇|^如|当您|当你"
    r"|\bif\b|\bwhen\b|\bwhenever\b|\bunless\b|\bin\s+case\b|\bshould\s+you\b",
    re.IGNORECASE,
)
_NOT_OWN_AFTER = re.compile(
    r"^(?:的话|时|时候|的情况下|之时|者|吗|么|的(?!是|$|[。！？!?\n，,])"
    r"|(?:的)?(?:可以|可|请|就|再|先|应|需|要|务必)(?:直接)?(?:咨询|联系|问|查看|查阅|致电|参考|找|确认|向|拨打))"
)
_ADVICE = re.compile(r"(?:都|就|也)?(?:可以|可|请|需|应|要|务必|直接|先|能)")
"""What follows "…不知道…的，": advice to whoever does not know (可以问班主任), not the answer's own decline."""
_CONDITION_AFTER = re.compile(r"(?:的话|时|时候|的情况下|之时|的时候)$")
_DOUBLE = re.compile(r"(?:并非|不是|并不是|并没有|非|绝非|也不是|没有|不)(?:说)?$|\bnot\s+that\s+(?:i|we|it)?\s*$")
_ROLES_ZH = r"学生|员工|职工|客户|顾客|患者|病人|家长|乘客|旅客|用户|同事|新人|孩子|居民|会员|司机|住户"
_ROLES_EN = r"customers|employees|users|students|staff|patients|parents|passengers|colleagues|guests|members|drivers"
"""Third parties: "学生不知道研学安排的，可以问班主任" is about the students, not the answer's own decline."""
_PERSON = re.compile(
    r"我们|我|本人|笔者|您|你们|你|他们|她们|他|她|大家|有人|别人|对方|任何人"
    rf"|{_ZH_DOCS}|政策|条款|(?:{_ROLES_ZH})(?!{_ZH_DOCS}|守则|须知)"
    rf"|\b(?:i|i'm|i've|we|we're|me|my|our|you|you're|your|they|he|she|who|someone|anyone|{_ROLES_EN})\b"
    rf"|\b{_MATERIAL_EN}",
    re.IGNORECASE,
)
_OTHERS = re.compile(
    r"^(?:您|你们|你|他们|她们|他|她|大家|有人|别人|对方|任何人|you|you're|your|they|he|she|who|someone|anyone"
    rf"|{_ROLES_ZH}|{_ROLES_EN})$",
    re.IGNORECASE,
)
_REFERRAL = re.compile(
    r"咨询|联系|询问|请问|问一下|问问|建议(?:您|你)?问|致电|拨打|查阅|参阅|参考|查看|为准|核实|确认一下|\bcontact|\bask\b|\breach\s+out|\bcheck\s+with"
    r"|\bconsult|\brefer\s+to|\bcall\b|\bemail\b|\bsee\b|\bvisit\b",
    re.IGNORECASE,
)
_COURTESY = re.compile(
    r"^(?:很|非常|十分)?(?:抱歉|对不起|不好意思|您好|你好|谢谢|感谢)|希望.{0,6}帮助|^(?:sorry|i'm\s+sorry|apologies"
    r"|hello|hi|thanks|thank\s+you)\b|hope\s+(?:this|that)\s+helps",
    re.IGNORECASE,
)
_TOPIC = re.compile(r"^(?:关于|对于|至于|针对|就|regarding|as\s+for|about|concerning|on)\b|^(?:关于|对于|至于|针对)")
_DEICTIC = re.compile(
    r"这个|这一点|这点|此事|此项|该问题|这个问题|您的问题|这方面|此问题|这里|^$|\b(?:this|that|it|your\s+question)\b",
    re.IGNORECASE,
)
_QUANTITY = re.compile(
    r"几|多少|多久|多长|天数|数额|金额|期限|时长|比例|数字|数值|标准|上限|下限"
    r"|温度|压力|速度|转速|扭矩|力矩|间隔|周期|频率|重量|长度|电压|电流|容量|剂量|公差|偏差|锁模力"
    r"|\b(?:how\s+(?:many|much|long|often)|number|amount|figure|duration|limit|rate|price|cost|fee|temperature"
    r"|pressure|speed|torque|interval|frequency|weight|length|voltage|current|capacity|dose|dosage|tolerance"
    r"|deviation|setting)s?\b",
    re.IGNORECASE,
)
_FILLER = re.compile(
    rf"我们|我|本人|也|还|真的|实在|确实|暂时|目前|恐怕|可能|抱歉|对不起|{_ZH_DOCS}|里面|当中|"
    r"[里中上内的了呢啊哦是并都对]"
    r"|\b(?:i|i'm|we|am|are|is|really|honestly|afraid|sorry|the|a|an|it|does|do|did|sure|about|here|yet|quite|very"
    r"|runbook|playbook|rulebook|sop|guidelines?|wiki|procedure|manual|handbook|document|documentation|material"
    r"|policy|docs|notes|text|source|rules?|regulations?|terms|agreement|guidelines?|code|conduct|of)\b"
    r"|[\s\W\d]",
    re.IGNORECASE,
)
_ONLY_COVERS = re.compile(
    r"(?:只|仅|仅仅|只是)(?:规定|提到|提及|说明|写|列|涉及|给出|包括|包含)|\bonly\s+(?:states|says|mentions|lists|covers"
    r"|gives|provides|specifies|describes|addresses|talks\s+about)\b"
    r"|\b(?:lists|covers|mentions|names|describes|grants|gives)\s+[^.;,]{1,60}?\bonly\b",
    re.IGNORECASE,
)
"""The decline explains what the material does say instead: "it only states Express takes 1-2 business
days", "the policy lists bereavement leave for immediate family only", "制度只规定了年假5天"; a figure
there is not the answer's figure for what was asked."""
_LIST_MARK = re.compile(r"(?m)^\s*(?:\d{1,2}|[一二三四五六七八九十])[.)、．]")


class _Clauses:
    """Clause spans of ``src`` (cut at clause marks), found once: each lookup is a bisection."""

    def __init__(self, src: str) -> None:
        self.src = src
        self.ends = [m.end() for m in _CLAUSE_MARK.finditer(src)]
        self.starts = [0, *self.ends]
        if not self.ends or self.ends[-1] != len(src):
            self.ends.append(len(src))

    def index(self, pos: int) -> int:
        return bisect.bisect_right(self.starts, pos) - 1

    def span(self, k: int) -> tuple[int, int]:
        return self.starts[k], self.ends[k]

    def __len__(self) -> int:
        return len(self.ends)


def _cues(src: str, extra: Sequence[str], question: str = "") -> list[tuple[int, int]]:
    spans = [m.span() for m in CUES.finditer(src)]
    spans += [m.span() for m in _EN_UNSTATED.finditer(src) if _subject_is_material(src, m.start())]
    if not _ASKS_COVER.search(question):
        spans += [m.span() for m in _EN_NOT_COVERED.finditer(src)]
    whether = bool(_ASKS_WHETHER.search(question))  # "Does the policy include…?": "it does not include…" answers
    for m in (*_EN_LACKS.finditer(src), *_EN_DATA_LACKS.finditer(src)):
        verb = re.sub(r"(?:e?s)$", "", m.group().split()[-1 if m.re is _EN_DATA_LACKS else 0].casefold())
        if (m.re is _EN_DATA_LACKS or _subject_is_material(src, m.start())) and not (
            whether and re.search(rf"\b{re.escape(verb)}", question, re.IGNORECASE)
        ):
            spans.append(m.span())
    for phrase in extra:
        hay, index = normalize_with_map(src)
        needle = normalize(phrase)
        pos = hay.find(needle) if needle else -1
        while pos != -1:
            spans.append((index[pos], index[pos + len(needle) - 1] + 1))
            pos = hay.find(needle, pos + 1)
    return sorted(spans)


def _subject_is_material(src: str, start: int) -> bool:
    pre = _CLAUSE_MARK.split(src[max(0, start - 60) : start])[-1]
    found = list(re.finditer(rf"\b{_MATERIAL_EN}", pre, re.IGNORECASE))
    return bool(found)


def _own(src: str, clauses: _Clauses, start: int, end: int, question: str) -> bool:
    """Whether the cue ``src[start:end]`` is the answer's own statement (see the module doc)."""
    c_start, c_end = clauses.span(clauses.index(start))
    pre = src[max(c_start, start - 60) : start]
    post = src[end : min(c_end, end + 40)]
    if _CONDITION.search(pre) or _NOT_OWN_AFTER.match(post.strip()) or _DOUBLE.search(pre.strip()):
        return False
    if _CONDITION_AFTER.search(post.strip().rstrip(",;:!?，。；：！？")):
        return False  # 员工不清楚流程时 / 不确定的话
    if re.search(r"的\s*[,，]$", src[end:c_end]) and _ADVICE.match(src[c_end : c_end + 8].lstrip()):
        return False  # 不知道研学安排的，可以问班主任: those who do not know, advised
    if src[c_end - 1 : c_end] in ("？", "?") or re.search(r"[吗么]\s*[？?]?$", post.strip()):
        return False  # a question to the user: "您不知道吗？", "Not sure?"
    persons = _PERSON.findall(pre + src[start:end])  # a cue may open with its document: 员工|手册中并无
    if persons and _OTHERS.match(persons[-1]):
        return False
    if question and normalize(src[start:end]) in normalize(question):
        left = normalize(src[max(c_start, start - 3) : end])
        if echoed(src, start, end, question) or (
            len(left) >= len(normalize(src[start:end])) + 2 and left in normalize(question)
        ):
            return False
    return True


def _about_asked(src: str, clauses: _Clauses, k: int, start: int, end: int, question: str) -> bool:
    """Whether the declining clause ``k`` is about what was asked: it names nothing else (bare,
    or only "this"), or its scope (the clause with the clauses beside it in its sentence that make
    no claim of their own: "关于婚假的具体天数，资料中没有提到") shares the question's words, beyond
    its question words (怎么, 多少, what), or its asked quantity, and does not name something beside
    it ("other", 其他)."""
    c_start, c_end = clauses.span(k)
    rest = src[c_start:start] + " " + src[end:c_end]
    if not _FILLER.sub("", _DEICTIC.sub("", rest)):
        return True  # bare, or pointing at the question: "这个我不太清楚", "I'm not sure about this"
    if not question or _SIDE.search(rest):
        return False
    sentence = src[max(_scope_start(src, clauses, k), start - 160) : min(_scope_end(src, clauses, k), end + 160)]
    if _QUANTITY.search(question) and _QUANTITY.search(sentence):
        return True
    return _shares_words(f"{sentence} {src[start:end]}", question)  # a cue may name it: "only lists ABS, not PP"


_CODE = re.compile(r"(?<![A-Za-z0-9])[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*[A-Z0-9](?![A-Za-z0-9])")
"""A name written in capitals or as a code (PP, ABS, P-400, M4): short, but the very thing a question is about."""


def _shares_words(text: str, question: str) -> bool:
    """Whether ``text`` shares a Chinese two-character word (not a question word), an English word of four
    letters or more (not a stop word; plurals fold) or a name in capitals or a code (PP, P-400) with ``question``."""
    q = normalize(question)
    bigrams = {q[i : i + 2] for i in range(len(q) - 1) if all("\u4e00" <= ch <= "\u9fff" for ch in q[i : i + 2])}
    bigrams = {b for b in bigrams if not _INTERROGATIVE.search(b)}
    s = normalize(text)
    if any(s[i : i + 2] in bigrams for i in range(len(s) - 1)):
        return True
    words = {_stem(w) for w in re.findall(r"[a-z]{4,}", question.casefold()) if w not in _EN_STOP}
    if any(_stem(w) in words for w in re.findall(r"[a-z]{4,}", text.casefold())):
        return True
    codes = set(_CODE.findall(question))  # PP, ABS, P-400: a short name is still the asked thing's
    return bool(codes) and any(c in codes for c in _CODE.findall(text))


def _stem(word: str) -> str:
    """cousins -> cousin, policies -> polic: a plural shares the word."""
    return word[:-3] if word.endswith("ies") else word[:-1] if word.endswith("s") else word


_SIDE = re.compile(r"\b(?:other|others|else|another|besides)\b|其他|其它|别的|另外|以外|之外|此外", re.IGNORECASE)
"""A decline of what lies beside the question: "Not sure about orders in other currencies", "其他情况我不清楚"."""
_INTERROGATIVE = re.compile(r"[怎么什哪吗呢几谁]|多少|如何|是否|能否|可否|为何")
"""Question words: 周末怎么算 shares 怎么 with 工作日加班费怎么算 and is still about something else."""
_SENTENCE_MARK = "。！？!?\n"


def _scope_start(src: str, clauses: _Clauses, k: int) -> int:
    """Start of the clauses before ``k`` in its sentence that make no claim (a topic, "this"), 4 at most."""
    first = k
    while first > 0 and k - first < 4:
        a, b = clauses.span(first - 1)
        if src[b - 1 : b] in _SENTENCE_MARK or _substantive(src[max(a, b - 200) : b]):
            break
        first -= 1
    return clauses.span(first)[0]


def _scope_end(src: str, clauses: _Clauses, k: int) -> int:
    """End of the clauses after ``k`` in its sentence that make no claim, 4 at most."""
    last = k
    while last + 1 < len(clauses) and last - k < 4 and src[clauses.span(last)[1] - 1] not in _SENTENCE_MARK:
        a, b = clauses.span(last + 1)
        if _substantive(src[a : min(b, a + 200)]):
            break
        last += 1
    return clauses.span(last)[1]


_EN_STOP = {"what", "which", "when", "where", "does", "have", "that", "this", "with", "there", "about", "would",
            "could", "should", "your", "from", "they", "will", "many", "much", "long", "know"}  # fmt: skip


def _substantive(clause: str) -> bool:
    text = clause.strip()
    if not text or text[-1] in "？?" or _REFERRAL.search(text) or _COURTESY.search(text) or _TOPIC.match(text):
        return False
    if _ONLY_COVERS.search(text):
        return False  # what the material does say, explaining the decline
    cjk = sum("\u4e00" <= ch <= "\u9fff" for ch in text)
    return cjk >= 2 or len(re.findall(r"[A-Za-z]+", text)) >= 2 or bool(_FIGURE.search(text))


_FIGURE = re.compile(r"\d+(?:\.\d+)?\s*[^\d\s.,;:!?，。；：！？、)）\]]")
"""A figure with its unit ("1.5倍", "$50", "3 days") is a claim, however short; a list number ("1.") is not."""


def _commits_figure(src: str, answer: str, clauses: _Clauses, declining: set[int], question: str) -> bool:
    """Whether the answer states a figure outside its declining clauses, where a figure could answer:
    any question when it is unknown, a question that asks a quantity otherwise ("Do you offer
    Saturday delivery?" is not answered by "Express takes 1-2 business days")."""
    asks_amount = not question or bool(_QUANTITY.search(question))
    asked = {round(f.value, 6) for f in find_numbers(question)} if question else set()
    listed = {m.end() - 1 for m in _LIST_MARK.finditer(src)}
    for f in find_numbers(answer):
        k = clauses.index(f.start)
        if k in declining or f.end - 1 in listed or f.end in listed or round(f.value, 6) in asked:
            continue
        if src[max(0, f.start - 1) : f.start] == "第":
            continue  # an ordinal (第3条) is a reference, not a figure
        c_start, c_end = clauses.span(k)
        if _REFERRAL.search(src[c_start:c_end]) or _ONLY_COVERS.search(src[c_start:c_end]):
            continue  # a phone number, a section to read; what the material does cover instead
        if not asks_amount and not _shares_words(src[max(c_start, f.start - 80) : min(c_end, f.end + 80)], question):
            continue  # "Express takes 1-2 business days" does not answer "Do you offer Saturday delivery?"
        return True
    return False


_CONTRAST = re.compile(r"\b(?:but|however|though|yet)\b|但是|但|不过|可是|然而", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[。！？!?\n]|\.(?=\s|$)")


def _conceded(src: str, end: int) -> bool:
    """Whether the decline ending at ``src[end]`` is a concession: its sentence goes on with a contrast
    and a claim ("I'm not sure about other perks, but gym memberships are reimbursed at 50%", "Not sure
    what you mean by 'weekday', but Monday to Friday overtime is paid at 1.5x", "资料没写，不过一般
    是15天"). A referral after the contrast ("不清楚，但可以咨询HR") leaves the decline standing.
    Reads the sentence up to 160 characters on."""
    stop = _SENTENCE_END.search(src, end, end + 160)
    tail = src[end : stop.start() if stop else end + 160]
    m = _CONTRAST.search(tail)
    if m is None:
        return False
    claim = tail[m.end() :]
    return _substantive(claim) and not CUES.search(claim)


def decline(answer: str, extra: Sequence[str] = (), question: str = "") -> str | None:
    """The words the answer declines with, or None when it does not decline (module doc).

    ``extra``: further phrases that count as a decline cue (a check's ``phrases``), read by the
    same rules. ``question``: the question asked, "" when unknown.
    """
    src = nfkc(answer)
    clauses = _Clauses(src)
    own: list[tuple[int, int, int]] = []
    for start, end in _cues(src, extra, question):
        if _own(src, clauses, start, end, question) and not _conceded(src, end):
            own.append((clauses.index(start), start, end))
    if not own:
        return None
    declining = {k for k, _, _ in own}
    if _commits_figure(src, answer, clauses, declining, question):
        return None
    first = src[own[0][1] : own[0][2]]
    if any(_about_asked(src, clauses, k, s, e, question) for k, s, e in own):
        return first
    others = (clauses.span(k) for k in range(len(clauses)) if k not in declining)
    return None if any(_substantive(src[a:b]) for a, b in others) else first
