"""Text normalisation and negation cues for Chinese and English answers (pure).

``normalize`` folds what should not change a match: full-width and half-width
forms (NFKC turns ＡＢ１２ into AB12 and ℃ into °C), case, white space and
punctuation. Negation is detected by cue words right before a match, so
"不可以" does not count as "可以" and "not 5 days" not as "5 days"; a cue that
negates a bound ("must not exceed 2 hours", like "不得超过2小时") leaves the
number stated.
"""

from __future__ import annotations

import functools
import re
import unicodedata

SPACE = re.compile(r"\s+")

SENTENCE_END = re.compile(r"[。！？；!?;]+[」』”’\"')）\]]*|\.(?=\s|$)|\n")
"""A sentence ends after 。！？；!?; (with the closing quotes and brackets that follow), at a
newline, or at an English full stop before white space or the end. "1.5" is not an end."""


def sentences(text: str) -> list[str]:
    """``text`` cut after each sentence end; the pieces keep their end marks and concatenate back to ``text``.

    White space after an English full stop starts the next piece; a piece may hold no word
    (a lone newline, a list number such as "1."), which each caller filters in its own way.
    """
    out, start = [], 0
    for m in SENTENCE_END.finditer(text):
        out.append(text[start : m.end()])
        start = m.end()
    out.append(text[start:])
    return [piece for piece in out if piece]


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"))
"""Zero-width spaces and joiners, word joiner, BOM, soft hyphen: invisible, so never part of a match."""


@functools.lru_cache(maxsize=64)
def nfkc(text: str) -> str:
    """NFKC without invisible characters: 年假为5\u200b天 reads as 年假为5天."""
    return unicodedata.normalize("NFKC", text.translate(_INVISIBLE))


def is_punct(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P") or ch in "~`^|"


def _numeric_mark(text: str, i: int) -> bool:
    """A decimal point or time colon between digits (1.5, 10:30) is kept; a thousands comma is not."""
    return text[i] in ".:" and 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit()


Term = str | list[str]
"""A phrase, or a list of synonyms any of which counts (a ``contains_*`` value, a ``sequence`` step)."""


def check_terms(terms: list[Term], what: str) -> list[Term]:
    """``terms`` as an argument validator keeps them: each a phrase or a non-empty list of synonyms,
    each holding a word; ValueError naming ``what`` (values, a step) otherwise."""
    for term in terms:
        names = [term] if isinstance(term, str) else term
        if not names or any(not normalize(n) for n in names):
            raise ValueError(f"{what} and each of its synonyms must hold a word (not be empty or punctuation only)")
    return terms


@functools.lru_cache(maxsize=8192)
def normalize(text: str, case_sensitive: bool = False) -> str:
    """NFKC, case-fold, drop white space and punctuation (keeping 1.5 and 10:30 intact)."""
    return _normalize_with_map(text, case_sensitive)[0]


@functools.lru_cache(maxsize=16)
def normalize_with_map(text: str, case_sensitive: bool = False) -> tuple[str, list[int]]:
    """Like :func:`normalize`, and for each output character its index in ``nfkc(text)``.

    Cached: every phrase of every check is looked for in the same answer (read-only result)."""
    return _normalize_with_map(text, case_sensitive)


def _normalize_with_map(text: str, case_sensitive: bool) -> tuple[str, list[int]]:
    src = nfkc(text)
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(src):
        if ch.isspace() or (is_punct(ch) and not _numeric_mark(src, i)):
            continue
        folded = ch if case_sensitive else ch.casefold()
        out.append(folded)
        index.extend([i] * len(folded))
    return "".join(out), index  # cached: treat as read-only


# Cues that, right before a phrase, deny it. Chinese cues attach directly
# ("不可以"); English cues are whole words within the three words before.
ZH_NEGATION = (
    "并不是", "并非", "而非", "而不是", "不是", "不应是", "不应该是", "不等于", "不为",
    "不得", "不要", "不能", "不可以", "不可", "不允许", "不准", "不许", "不应该", "不应", "不该",
    "不予", "无法", "不再", "不需要", "不需", "无需", "无须", "毋须", "不用", "不必", "不会",
    "禁止", "严禁", "切勿", "请勿", "没有", "没", "未", "无", "非", "不", "别", "勿",
)  # fmt: skip
ZH_NOT_CUES = re.compile(
    r"分别|区别|差别|类别|级别|性别|个别|派别|特别|告别|道别|送别|离别|临别|识别|鉴别|辨别|判别|甄别|别人|别的|别处|别名|别称"
    r"|未来|非常|非凡|除非|是非|莫非|无论|无数|无比|淹没|埋没|出没|沉没|吞没|湮没|没收"
    r"|不仅|不但|不断|不久|不少|不错|不过|不管|不论|不同|不如|不一会"
)
"""Words that hold a cue character and deny nothing: 分别为5天 (respectively), 未来将采用 (future),
非常建议 (very), 无论设为多少 (whatever), 不仅要 (not only), 不如选 (better choose). 无需 (no need)
and 毫无 stay cues: they deny."""
EN_NEGATION = {"not", "no", "non", "never", "cannot", "can't", "don't", "doesn't", "isn't", "aren't",
               "won't", "shouldn't", "mustn't", "without", "nor", "neither"}  # fmt: skip
EN_NEGATION_PHRASES = ("instead of", "rather than")
# "not exceed 5", "never above 180", "no more than 5": the cue denies crossing a bound that is
# still stated
EN_BOUND = {"exceed", "exceeds", "exceeding", "surpass", "over", "above", "below", "under", "beyond",
            "within", "before", "after", "until", "than", "least", "most"}  # fmt: skip
_WORD = re.compile(r"[a-z']+")


def _en_cue(word: str) -> bool:
    return word in EN_NEGATION or word.endswith("n't")


# "Do not set it to 250 °C", "不要设成二百五十度": a denied instruction to use a figure reaches it
ZH_SET_VERBS = ("设置为", "设置成", "设定为", "设定成", "设为", "设成", "设到", "设置", "设定", "设", "调到",
                "调成", "调为", "调至", "调", "改为", "改成", "定为", "写成", "写为", "填写", "填", "使用", "采用",
                "用", "选择", "选")  # fmt: skip
ZH_BOUND = ("超过", "超出", "高于", "低于", "少于", "多于", "大于", "小于", "以上", "以下", "不足", "超")
EN_SET_VERBS = {"set", "use", "choose", "select", "enter", "put", "adjust", "change", "pick", "type",
                "apply",
                "configure", "write", "fill", "go"}  # fmt: skip
# "can't miss the refund deadline", "不要忘记": a cue before a verb that itself denies affirms what follows
EN_DENYING_VERBS = {"miss", "forget", "lose", "skip", "ignore", "neglect", "fail", "avoid", "deny", "refuse",
                    "overlook", "omit", "only", "just", "merely", "simply"}  # fmt: skip
EN_NO_NEED = {"need", "needs", "necessary", "required", "have", "has"}
"""After a cue and before "to": "no need to", "don't have to", "not necessary to" deny the verb's object."""
ZH_NO_NEED = ("不需要", "不需", "无需", "无须", "毋须", "不用", "不必")
"""Cues that deny a verb's object with the verb between: 不用交班主任, 无需再检查剪切销."""
_ZH_NO_NEED_GAP = re.compile(r"[\u4e00-\u9fff]{1,4}")
_ZH_NOT_VERB = re.compile(r"[的地得就即便可也而才但都能会]")
"""In that gap these start another predicate ("无需审批即可退款": 退款 is allowed) or a modifier."""
ZH_DOUBLE = ("并不是", "不是", "并非", "没有", "不得", "不能", "不", "非", "未必")
"""A cue right after one of these is a double negation: 并不是不可以 = 可以, 不得不 = must."""
REACH = 80
"""Characters before a match that can hold its negation: reading no further keeps every check linear."""
CLAUSE = re.compile(r"[,.;:!?、，。；：！？\n]")


def negated_at(text: str, i: int) -> bool:
    """:func:`negated_before` for a match at ``text[i]``, reading only the last :data:`REACH` characters."""
    return negated_before(text[max(0, i - REACH) : i])


def _zh_negated(tail: str) -> bool:
    tail = ZH_NOT_CUES.sub(lambda m: "□" * len(m.group(0)), tail)
    for cue in ZH_NEGATION:
        if tail.endswith(cue):
            return not _double(tail[: -len(cue)])
        # allow one filler character between cue and match: 不是约5天, 未作规定
        if len(tail) > len(cue) and tail[:-1].endswith(cue) and tail[-1] in "约作再太为是能":
            return not _double(tail[: -len(cue) - 1])
    clause = CLAUSE.split(tail)[-1]
    for cue in ZH_NO_NEED:
        at = clause.rfind(cue)
        gap = clause[at + len(cue) :] if at >= 0 else ""
        verb = gap and _ZH_NO_NEED_GAP.fullmatch(gap) and not _ZH_NOT_VERB.search(gap)
        if verb and not any(b in gap for b in ZH_BOUND):
            return not _double(clause[:at])
    for cue in ZH_NEGATION:
        at = clause.rfind(cue)
        gap = clause[at + len(cue) :] if at >= 0 else ""
        # 不要设成 / 千万不要把温度设成 250: the verb of setting stands right before the figure
        plain = "的" not in gap and not any(b in gap for b in ZH_BOUND)
        if at >= 0 and 0 < len(gap) <= 8 and gap.endswith(ZH_SET_VERBS) and plain:
            return not _double(clause[:at])
    return False


def _double(before_cue: str) -> bool:
    return before_cue.endswith(ZH_DOUBLE)


def _en_negated(tail: str) -> bool:
    clause = re.split(r"[,.;:!?]", tail[-60:])[-1]  # "No, refunds..." is not a negation
    words = _WORD.findall(clause)[-8:]
    cues = [i for i, w in enumerate(words) if _en_cue(w)]
    if not cues:
        return False
    after = words[cues[-1] + 1 :]
    if any(w in EN_BOUND for w in after) or any(w in EN_DENYING_VERBS for w in after[:2]):
        return False
    if len(after) <= 2:  # "not 5", "not a refund", "not get a refund"
        return True
    if after[0] in EN_NO_NEED and after[1] == "to":  # "no need to check the", "don't have to sign a"
        return len(after) <= 5 and after[2] not in EN_DENYING_VERBS
    return len(after) <= 5 and after[0] in EN_SET_VERBS  # "do not set it to 250"


@functools.lru_cache(maxsize=8192)
def negated_before(prefix: str) -> bool:
    """True when ``prefix`` (the text just before a match) ends with a negation cue, or denies
    an instruction to use what follows ("不要设成", "do not set it to"); a double negation
    (并不是不, can't miss) and "not only" are not denials."""
    tail = nfkc(prefix[-REACH:]).casefold().rstrip()
    if _zh_negated(SPACE.sub("", tail)) or _en_negated(tail):
        return True
    return any(tail.endswith(p) for p in EN_NEGATION_PHRASES)


def cjk_ratio(text: str) -> tuple[int, int]:
    """(CJK characters, Latin letters) in ``text``."""
    cjk = latin = 0
    for ch in nfkc(text):
        if "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf":
            cjk += 1
        elif ch.isascii() and ch.isalpha():
            latin += 1
    return cjk, latin


# --------------------------------------------------------------------------------------------
# Denied after the phrase, superseded, attributed to the asker: mentioned, not claimed
# --------------------------------------------------------------------------------------------

AFTER_REACH = 40
"""Characters after a match read for a denial that follows it; reading no further keeps checks linear."""
CLAUSE_END_AHEAD = r"(?=$|[,.;:!?、，。；：！？\n…])"
# What may stand between the phrase and a denial that follows: its head noun (退款申请), a
# pointer to it as a claim (3个月这个说法), an adverb (也, 其实).
ZH_AFTER_GAP = (
    r"(?:的|这个|这一|这种|这条|这项|该|此)?(?:说法|规定|数字|数据|答案|选项|申请|要求|理解|信息|版本|请求|情况)?"
    r"(?:也|都|均|一律|概|则|就|其实|实际上|恐怕|目前|现在|现已|已经|已|绝对|根本|完全|肯定|当然|决|绝)?"
)
# A denial of the phrase as a whole: a judgement that it is false (是错的, 不对), or a negated
# verb whose subject or object it is (不予受理, 不可行). Each ends its clause: 退款不需要发票
# denies the 发票 (需要 takes an object), and 3个月不到 is a bound, not a denial.
_ZH_DENIAL = (
    r"(?:(?:是|为)?(?:并|都|均|一律|概|也|将|就|则)?"
    r"(?:不予以|不予|不被|不会被|不会|不能被|不能|不可|不再|无法|未被|未获|不获|没有被|没被|不)"
    r"(?:受理|办理|退还|退回|退|报销|批准|支持|提供|接受|允许|认可|适用|成立|存在|可行|可能|行|可以"
    r"|对|正确|准确|属实|有效|生效|通过|同意|发放|给予|采纳|采用|成立)"
    r"|(?:是|就是|这是|属于|纯属)?(?:一种|一个|个)?(?:错的|错误的|错误|错了|有误|误传|谣言|谣传|传言|误解|误会|误区"
    r"|不实|不对的|不正确的|不准确的|过时的|过时了|过时)(?:的)?(?:说法|数字|数据|规定|信息|理解|答案|版本|消息|标准)?"
    r"|并非如此|不是这样的?|不是的)"
    r"(?:的|了|啊|哦|呢|哈|呀)*"
)
_ZH_AFTER = re.compile(ZH_AFTER_GAP + _ZH_DENIAL + CLAUSE_END_AHEAD)
_EN_FILLER = (
    r"(?:\s*\b(?:requests?|applications?|claims?|figure|option|answer|rule|policy|is|are|was|were|will|would|"
    r"shall|can|ca|wo|do|does|be|been|here|now|currently|actually|also|unfortunately|generally|simply|sadly|"
    r"strictly|then|that|this|just|really|all|that's|it's|i'm|i\s+am|afraid|sorry|always)\b)*"
)
_EN_DENIAL = (
    r"\s*\b(?:not\s+(?:be\s+)?(?:possible|available|allowed|permitted|accepted|supported|offered|provided|granted|"
    r"given|issued|correct|right|true|valid|applicable|approved|processed|an\s+option|the\s+case)"
    r"|not\s+(?:something|anything)\s+(?:that\s+)?(?:we|i|you|they|the\s+company)\s+(?:can|could|will|would|do)"
    r"|(?:(?:an?|the)\s+(?:common\s+|widespread\s+|popular\s+)?)?(?:incorrect|wrong|false|invalid|inaccurate|mistaken|untrue"
    r"|outdated|out\s+of\s+date|obsolete|misconception|myth|mistake|misunderstanding)"
    r"|impossible|unavailable|prohibited|forbidden|rejected|never\s+(?:be\s+)?(?:issued"
    r"|given|granted|offered|allowed|approved|accepted|possible|available)"
    r"|no\s+longer\s+(?:valid|true|correct|accurate|applicable|current|in\s+force|the\s+case))\b"
)
# A short complement may stand between the subject and its negated predicate: "Refunds after 10
# days are never granted"; a relative clause may not ("refunds for customers who are not eligible").
_EN_GAP = (
    r"(?:\s+(?!(?:who|which|that|if|when|whenever|unless|where|whose|but|and|or|because|since|so)\b)"
    r"[\w'$%-]+(?:\.\d+)?){1,5}?(?=\s+(?:is|are|was|were|will|would|shall|can|could|do|does|may|must)\b)"
)
_EN_AFTER = re.compile(rf"(?:{_EN_GAP})?{_EN_FILLER}{_EN_DENIAL}")
# After a question ("Refunds?", "年假是5天吗？") a bare denial answers it: "No.", "不是，是10天"
_BARE_DENIAL = re.compile(
    r"(?:答|答案|回答|很遗憾|遗憾的是|抱歉|不好意思|恐怕)?[,，]?"
    r"(?:no|nope|not\s+at\s+all|not\s+really|不是|不对|不|没有|否|不可以|不能|不行|错|不可能|当然不|当然不行|不需要|不用|不必|无需)"
    r"(?:的|了|啊|哦|呢|呀)*" + CLAUSE_END_AHEAD
)
_EN_BARE_DENIAL = re.compile(
    r"\s*(?:(?:unfortunately|sadly|regrettably|sorry|i'm\s+afraid|i\s+am\s+afraid|afraid)\s*,?\s*)?"
    r"(?:no|nope|not|not\s+at\s+all|not\s+really|no\s+way|never|definitely\s+not|certainly\s+not)" + CLAUSE_END_AHEAD
)
_SENTENCE_MARK = re.compile(r"[。！？!?\n]|\.(?=\s|$)")


def after_window(text: str, end: int, reach: int = AFTER_REACH) -> str:
    """``text[end:]`` up to ``reach`` characters, NFKC, case-folded, n't spelled out; cut at the
    last clause mark when the window stops inside a clause (the clause end is not seen)."""
    window = nfkc(text[end : end + reach]).casefold()
    window = re.sub(r"n't\b", " not", window.replace("cannot", "can not"))
    if end + reach < len(text):
        last = max(window.rfind(c) for c in ",.;:!?、，。；：！？\n")
        window = window[: last + 1] if last >= 0 else ""
    return window


# "网上流传的90天，这个说法不准确", "大家常说的14天，是旧版制度里的": a clause that opens with a pointer back
# to the phrase (这个说法) or has no subject of its own (是…, 已…) judges the phrase
ZH_POINTER_AFTER_COMMA = re.compile(
    r"^[,，、](?=(?:这个|这一|这种|这条|这项|该|此)(?:说法|规定|数字|数据|信息|版本|标准)|(?:是|已经|已|早已|早就|纯属|属于)(?!否))"
)
_EN_REPORTER = (
    r"(?:you|you've|people|some\s+people|many\s+people|others|someone|some|everyone|colleagues|your\s+colleagues"
    r"|customers|friends)"
)
_EN_REPORTED = re.compile(
    r"(?:\s*,?\s*(?:(?:that|which)\s+)?(?P<who>" + _EN_REPORTER + r")\s+(?:[\w']+\s+){0,3}?"
    r"(?:heard|hear|mentioned|mention|said|say|quoted|quote|cited|cite|read|saw|seen|see|were\s+told|was\s+told"
    r"|told|remember|recall|found|think|thought|believe|expected|expect)"
    r"(?:\s+(?:of|about|before|earlier|online|elsewhere|somewhere|there|around))*"
    r"|\s*,?\s*(?:mentioned|quoted|cited|listed|stated|given|shown|printed|written|posted|published|circulating"
    r"|floating\s+around)(?:\s+(?:in|on|by|at|around|online|elsewhere|earlier|before)(?:\s+[\w'-]+){0,4}?)?"
    r"|\s*,\s*which\s+(?:[\w'-]+\s+){0,5}?[\w'-]+\s*(?=,)"
    r"|\s+(?:that|which)\s+(?:[\w'-]+\s+){0,5}?[\w'-]+"
    r")\s*,?\s*(?=(?:is|was|are|were|has|have|had|used|no\s+longer)\b)"
)
"""A relative clause right after a phrase that reports it ("the 14 days you may have heard of", "14 days,
which some people quote,", "the 14 days mentioned on the old website"): the main clause's predicate
follows it and judges the phrase."""


def past_relative(text: str, end: int) -> tuple[int, bool] | None:
    """Where the predicate starts after a reporting relative clause that follows ``text[end]``, and
    whether a person reports the phrase (you, people: hearsay, not a source); None without one.

    Reads 80 characters; the clause must end right before a copula ("… was the old rule")."""
    window = text[end : end + 80].casefold()
    m = _EN_REPORTED.match(window)
    if m is None:
        return None
    return end + m.end(), m.group("who") is not None


def _denied_here(window: str, raw: str) -> bool:
    squeezed = ZH_POINTER_AFTER_COMMA.sub("", SPACE.sub("", window))
    return bool(_ZH_AFTER.match(squeezed) or _EN_AFTER.match(raw))


def _raw_window(text: str, start: int) -> str:
    """``text[start:]`` up to ``AFTER_REACH + 20`` characters, NFKC, case-folded, n't spelled out, not
    cut: an English denial ends at a word boundary, it need not end its clause."""
    raw = nfkc(text[start : start + AFTER_REACH + 20]).casefold()
    return re.sub(r"n't\b", " not", raw.replace("cannot", "can not"))


def _skip_word_rest(window: str) -> str:
    return window[len(window) - len(window.lstrip("abcdefghijklmnopqrstuvwxyz'")) :]  # the rest of a word: refund|s


_EN_NOT_CASE = re.compile(
    r"\s*(?:no\s*,?\s*)?not\s+(?:for|in|on|at|to|with|during|within|after|before|until|beyond|past|once|if|unless|when"
    r"|while|under|over|via|from|by|outside|inside)\s+([^,.;:!?\n]{1,60})"
)
_CASE_STOP = frozenset(
    ("the", "a", "an", "of", "via", "your", "my", "our", "their", "its", "this", "that", "these", "those", "any",
     "all", "and", "or", "to", "for", "in", "on", "at", "by", "with")
)  # fmt: skip


def asked_case(case: str, question: str) -> bool:
    """Whether ``case`` ("remote access via the office VDI") names the case the question asks about: at
    least half of its words (less articles and prepositions) are the question's (a 5-letter stem will do)."""
    words = [w for w in re.findall(r"[a-z0-9]+", case.casefold()) if w not in _CASE_STOP]
    asked = set(re.findall(r"[a-z0-9]+", question.casefold()))
    stems = {w[:5] for w in asked if len(w) >= 5}
    hits = sum(1 for w in words if w in asked or (len(w) >= 5 and w[:5] in stems))
    return bool(words) and 2 * hits >= len(words)


def negated_after(text: str, end: int, question: str = "") -> bool:
    """True when what follows a match ending at ``text[end]`` denies it, in the same clause
    ("您说的3个月不对", "退款申请不予受理", "Refunds are not possible", "Refunds after 10 days are
    never granted", "5天是错误的"), or answers a question holding it with a denial ("Refunds? Not
    available.", "Refundable? Unfortunately not.", "A refund at this point? I'm afraid that's not
    something we can do.", "年假是5天吗？不是，是10天").

    Reads at most :data:`AFTER_REACH` characters to the question mark and as many after it. Not
    denials: a negated verb with its own object ("退款不需要发票" denies the 发票), a bound
    ("3个月不到就离职"), a limit to a case other than the one ``question`` asks about ("Mandatory?
    Not for contractors." to "Is MFA mandatory for remote access?"; without a question every "Not
    for/after X" is a limit). "Mandatory? Not for remote access via the office VDI." to that question
    denies it: X is the asked case (:func:`asked_case`).
    """
    if _denied_here(_skip_word_rest(after_window(text, end)), _skip_word_rest(_raw_window(text, end))):
        return True
    rel = past_relative(text, end)
    if rel is not None and _EN_AFTER.match(_raw_window(text, rel[0])):
        return True
    m = _SENTENCE_MARK.search(text, end, end + AFTER_REACH)
    if m is None or m.group(0) not in "？?":
        return False
    nxt = after_window(text, m.end()).lstrip()
    raw = _raw_window(text, m.end())
    if _EN_BARE_DENIAL.match(raw) or _BARE_DENIAL.match(SPACE.sub("", nxt)):
        return True
    case = _EN_NOT_CASE.match(raw)
    if case is not None:  # "Mandatory? Not for remote access." denies it for the case asked about
        return bool(question) and asked_case(case.group(1), question)
    return _denied_here(nxt, raw)
