"""Which option(s) a multiple-choice answer commits to (pure; the ``choice`` check is in ``checks_format``).

An answer commits to an option by stating it (选A, 答案是 B, answer: D, 选AC), by being
only a label (B, AC, 乙), by mentioning a label, or by restating an option's text that
the question lists ("A. 3天 B. 5天 …" and the answer "年假是5天"), or most of an option's content
in its order, in other words (:func:`paraphrased`). A correction replaces
what came before it: the pick right after the last correction cue (不对/其实/我倾向/
actually/I meant/final answer …) within :data:`LOOKAHEAD` characters is the answer.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_right
from dataclasses import dataclass

from harness.rubric.text import negated_at, nfkc, normalize, normalize_with_map, sentences

CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩"
ZH_LABELS = "甲乙丙丁戊己庚辛壬癸"
LETTERS = "ABCDEFGHIJ"
LABEL = r"[A-Ja-j①-⑩甲乙丙丁戊己庚辛壬癸]"
"""One option label: a letter A-J, a circled number ①-⑩, or a heavenly stem 甲-癸 (甲 = A = ①)."""
LOOKAHEAD = 120
"""Characters after a correction cue that may hold the corrected pick: bounded, so linear."""
MAX_CUES = 20
"""Correction cues read, from the last one back; an answer's final say is near its end."""

_ZH = r"[甲乙丙丁戊己庚辛壬癸](?![\u4e00-\u9fff](?<![项吧是为对和或与及还跟以都也]))"
"""A stem label is not part of a word: 乙 in 选乙 / 乙项 / 甲和丙, not in 乙方 or 甲醇."""
_OPT = rf"(?:[A-Ja-j①-⑩]|{_ZH})"
# "answer is a bit..." is not option A; "Answer: I think it is C" is not option I
_OPT_EN = rf"(?:[A-HJb-hj①-⑩]|a(?=\s*(?:$|[)\].,;:!?$*]))|[Ii](?!'|\s+[a-z])|{_ZH})"
_OR = r"或者|或是|或|还是|\bor\b"
_SEP = rf"\s*(?:{_OR}|和|与|以及|及|跟|、|/|&|,|\band\b|\bplus\b)\s*"
_DECOR = r"[\s$*_`'\"“”‘’「」【】\[]*"
"""Marks around a stated pick: ANSWER: $B$, 答案：**B**, [C]."""
_EMPH = r"[*_`]*"
"""Emphasis around each listed label: **A** and **C**."""
_RUN = r"[A-J]{2,10}|[甲乙丙丁戊己庚辛壬癸]{2,10}(?![\u4e00-\u9fff])"
"""Labels written together for a multi-select answer: AC, 甲丙 (capitals only: "bad" is a word)."""


def _listed(opt: str) -> str:
    """One option, a list of them (A或B, A and C) or a run (AC)."""
    return rf"{_DECOR}\(?({opt}(?:{_EMPH}{_SEP}{_EMPH}{opt})*|{_RUN})\)?(?![A-Za-z])"


_STRONG = [
    re.compile(rf"(?:正确答案|答案|正确选项|应选|选项\s*(?:是|为|:))\s*(?:是|为|:)?{_listed(_OPT)}"),
    re.compile(rf"(?:选|选择)\s*{_listed(_OPT)}"),
    re.compile(rf"(?i:answers?|correct options?|correct answers?)\s*(?:is|are|:)?{_listed(_OPT_EN)}"),
    re.compile(rf"(?i:options?)\s+{_listed(_OPT_EN)}"),
]
_TERMINAL = re.compile(r"[\s$*_`'\"”’」】\])）]*(?:$|[。.!！?？;；\n])")
"""What may follow a list of picks that is a hedge (答案是A，B。); anything else after a comma
starts a new clause about other options (答案是B，A是干扰项 / The answer is B, A requires ...)."""
_HEDGE = re.compile(rf"(?i)\beither\b|{LABEL}\s*(?:{_OR})\s*{LABEL}|都可以|都行|皆可")
"""Options offered as alternatives: a hedge even where several options are right."""
_CUE = re.compile(
    r"(?i)不对(?=[\s,，。.!！…—-])|不是(?=[\s,，。.!！…—-])|不(?=\s*[,，。.!！…—-])|说错了|错了|更正|纠正|修正|改为|改成|改选|"
    r"应该是|应该选|应当选|应当是|应为|应选|其实|哦不|噢不|啊不|我倾向于?|倾向于|我选|我会选|还是选|"
    r"最终答案|最终选|最终|最后答案|最后选|重新考虑后?|再想想|再想一下|等等|等一下|"
    r"重新(?:看|读|算|核对|检查|审题)|再(?:看|读|算|核对|检查)|仔细(?:看|读|想)|核对|复核|想了想|"
    r"\bactually\b|\bsorry\b|\bi mean(?:t)?\b|\bcorrection\b|\bon second thoughts?\b|\bon reflection\b|"
    r"\bwait\b|\bfinal answer\b|\bi(?:'d| would|'ll| will) (?:go with|pick|choose|say)\b|\bgoing with\b|"
    r"\b(?:i'm )?lean(?:ing)? towards?\b|\bi (?:choose|pick)\b|\breconsider\w*|\bi change my answer\b|"
    r"\bscratch that\b|\blet me correct\b|\bi was wrong\b|\bmy (?:mistake|bad)\b|\bno wait\b|"
    r"\bno\b(?=\s*[,—–-])|\bre-?(?:read|check|think|calculat)\w*|\blooking (?:again|closer)\b|\bdouble-?check\w*|"
    r"\bon (?:a )?(?:closer|second) look\b|\bso\b|\btherefore\b|\bthus\b|\bhence\b|所以|因此|综上|故"
)
"""What corrects or settles an earlier pick ("选A。不对，应该选C", "D……不，是C", "Answer: A… sorry, I meant C",
"A? Wait…, so D"), or says the answer was looked at again ("重新看了一下", "on rereading")."""
_FILLER = re.compile(
    r"(?i)\s+|[,，:：—–\-…\.。!！、~～]+|no\b|oh\b|it'?s\b|it is\b|is\b|the\b|answers?\b|options?\b|"
    r"i think\b|with\b|should be\b|be\b|to\b|choice\b|just\b|only\b|simply\b|merely\b|"
    r"只有|仅有|只选|仅选|只|仅|就|"
    r"我觉得|我认为|应该是|应该选|应该|应当|应选|应为|正确答案|答案|选项|选择|选|是|为|改为|改成|改|"
    r"哦|噢|啊|呃|嗯|不对|不是|于|的"
)
"""Words between a correction cue and the pick it names: ", no —", "it's", "应该是", "just", "只选"
(the corrected pick replaces the earlier list: "A and C — no, just A" is A)."""
_COMMITS = re.compile(
    r"\s*(?:$|[。.!！?？;；,，、)）\]」】…—\-\n*$]|(?i:because|since|as\b|is\s+(?:the\s+)?(?:correct|right|answer|best|better))"
    r"|(?i:only|alone)\b|项|选项|吧|更|最|正确|因为|对)"
)
"""What may follow a label right after a correction cue: "我倾向D。" and "no, A only" commit to it,
"其实A也有道理" does not."""
_NAMED = re.compile(
    rf"(?i:是|为|选|选择|\bis\b|\bit'?s\b|\bbe\b|\bpick\b|\bchoose\b|\bwith\b|[:：])\s*{_listed(_OPT_EN)}"
)
"""A pick named by a copula or verb a few words after a correction cue: "不对，重新看了一下是B",
"Actually, after rereading the policy it's B"."""
NAMED_REACH = 40
"""Characters after a correction cue in which such a named pick counts (a few words, one clause or two)."""
_VERB_AFTER_LABEL = (
    r"(?:is|was|would|could|should|seems|looks|and|or|but|because|since|as|for|too|also|only|alone|then|if|still|"
    r"makes|fits|applies|covers|wins|matches|it)\b"
)
"""Words that follow a label, not the article A: "A is right", "A and C", "A because ..."."""
_DASHES = str.maketrans({"—": ",", "–": ","})
"""A dash ends a clause for negation: "not A — B" does not deny B."""


def choice_index(token: str) -> int:
    """A=1, B=2 ...; ①=1 ...; 甲=1, 乙=2 ... (so ①, A and 甲 name the same option)."""
    token = token.strip().upper()
    if token in CIRCLED:
        return CIRCLED.index(token) + 1
    if token in ZH_LABELS:
        return ZH_LABELS.index(token) + 1
    return ord(token) - ord("A") + 1


def labels(spec: str) -> list[str]:
    """The labels in a written answer key: "AC", "A, C", "甲丙", "B" -> ["A", "C"] ..."""
    return [ch for ch in spec if ch.upper() in LETTERS or ch in CIRCLED or ch in ZH_LABELS]


@dataclass(frozen=True)
class Committed:
    """What an answer picks: option indexes (1 = A), how they were found, and what makes them void."""

    picks: frozenset[int]
    how: str
    hedged: bool = False
    """Offered as alternatives (A或C, either A or C): no commitment, even to several."""
    contradiction: str = ""
    """A stated letter followed by another option's text ("选A，5天" where 5天 is B)."""


# --------------------------------------------------------------------------
# Options listed in the question
# --------------------------------------------------------------------------

_MARK = re.compile(
    r"\(\s*([A-J甲乙丙丁戊己庚辛壬癸])\s*\)|(?:^|(?<=[\s:?。；;，,)]))([A-J甲乙丙丁戊己庚辛壬癸])\s*[.、:)]"
    r"|(?:^|(?<=[\s:?]))([a-j])\)"
)
"""An option's label in the question: "A. ", "A、", "(A)", "A)", "a)", "A:", "甲：", "甲、" (after NFKC), also
right after a bracket: "（多选）A. …"."""
_OPTION_END = re.compile(r"[。？！?!]|(?<!\d)\.(?=\s|$)")
"""Where an option's text ends at the latest: the question's next sentence is not part of it
("丁：员工请假。请回答甲、乙、丙、丁之一" ends at 请假)."""


@functools.lru_cache(maxsize=256)
def question_options(question: str) -> tuple[str, ...]:
    """The options' texts the question lists, in label order ("A. 3天 B. 5天" -> ("3天", "5天")).

    The longest run of labels from A (or 甲) that counts up; () when fewer than two."""
    text = nfkc(question)
    run: list[re.Match[str]] = []
    best: list[re.Match[str]] = []
    for m in _MARK.finditer(text):
        idx = choice_index(m.group(1) or m.group(2) or m.group(3))
        if idx == len(run) + 1:
            run.append(m)
        elif idx == 1:
            run = [m]
        if len(run) >= len(best):
            best = list(run)
    if len(best) < 2:
        return ()
    out = []
    for k, m in enumerate(best):
        stop = best[k + 1].start() if k + 1 < len(best) else len(text)
        line_end = text.find("\n", m.end(), stop)
        body = text[m.end() : line_end if line_end >= 0 else stop]
        end = _OPTION_END.search(body)
        out.append((body[: end.start()] if end else body).strip(" \t;；。,，"))
    return tuple(out)


def _digit_cut(src: str, start: int, end: int) -> bool:
    """The match cuts a number or a word: 3天 in 13天, 10 in 100, "up" in "cup"."""
    before = src[start - 1] if start > 0 else ""
    after = src[end] if end < len(src) else ""
    if src[start].isdigit() and (before.isdigit() or before == "."):
        return True
    if src[start].isascii() and src[start].isalpha() and before.isascii() and before.isalpha():
        return True
    return src[end - 1].isdigit() and after.isdigit()


def restated(answer: str, options: tuple[str, ...], valid: int) -> dict[int, int]:
    """Options whose text the answer states, not denied, each with its first position.

    An option's text inside another option's longer text does not count (3天 in 13天 by the
    number rule, 5天 in "5天以上" when that is an option too)."""
    src = nfkc(answer)
    neg = src.translate(_DASHES)
    hay, index = normalize_with_map(answer)
    spans: dict[int, list[tuple[int, int]]] = {}
    for i, text in enumerate(options[:valid], start=1):
        needle = normalize(text)
        if not needle:
            continue
        pos = hay.find(needle)
        while pos != -1:
            start, end = index[pos], index[pos + len(needle) - 1] + 1
            if not _digit_cut(src, start, end):
                spans.setdefault(i, []).append((start, end))
            pos = hay.find(needle, pos + 1)
    out: dict[int, int] = {}
    for i, own in spans.items():
        longer = sorted(
            s
            for j, other in spans.items()
            if len(normalize(options[j - 1])) > len(normalize(options[i - 1]))
            for s in other
        )
        starts = [s for s, _ in longer]
        for start, end in own:
            k = bisect_right(starts, start) - 1
            inside = any(longer[x][1] >= end for x in range(max(0, k - 3), k + 1))
            if not inside and not negated_at(neg, start):
                out.setdefault(i, start)
                break
    return out


# --------------------------------------------------------------------------
# An option restated in other words
# --------------------------------------------------------------------------

PARAPHRASE_SHARE = 0.7
"""Share of an option's content units that a restatement must hold, in the option's order."""
PARAPHRASE_MARGIN = 1.5
"""How much more the picked option's evidence must weigh than any other option's (else no pick)."""
_UNIT = re.compile(r"[\u4e00-\u9fff]|\d+(?:\.\d+)?|[a-z]+")
_ZH_FUNCTION = set("的了是在和与及或并也都就先再将请被让向从之后而则应该需须")
_ZH_NEAR = str.maketrans("至于為", "到在为")
"""Characters that say the same in an option and its restatement: 预冷至设定温度 = 预冷到设定温度."""
_EN_FUNCTION = frozenset(
    re.findall(
        r"\w+",
        "a an the to for of and or in on at by with from is are be it its this that these those your you "
        "our we they them their as then first next finally also any all",
    )
)
_DENIED_CLAUSE = re.compile(
    r"(?i)不要|不能|不可|不应|不得|不是|不用|不必|无需|而非|并非|禁止|严禁|切勿|别|勿|"
    r"\b(?:not|never|no|don'?t|doesn'?t|shouldn'?t|cannot|can'?t|won'?t|instead of|rather than)\b"
)
"""A clause holding one of these denies what it says ("不要先压把", "rather than a refund"): not a restatement."""
_CLAUSE_CUT = re.compile(r"[,;:!?、，。；：！？\n]|(?<!\d)\.(?!\d)")


def _stem(word: str) -> str:
    """Word stem: "photos" -> "photo", "asked" -> "ask", "issuing" -> "issu": crude, and the same on both sides."""
    for suffix, keep in (("ing", 3), ("ed", 3), ("es", 3), ("s", 3)):
        if word.endswith(suffix) and len(word) - len(suffix) >= keep and not word.endswith("ss"):
            return word[: -len(suffix)]
    return word


def _units(text: str) -> list[str]:
    """Content units of a text: each Chinese character, each number, each English word stem
    (function words such as 的/了/先/再/后/应, "the", "for", "then" left out; 至 read as 到)."""
    out = []
    for u in _UNIT.findall(text.translate(_ZH_NEAR)):
        if u in _ZH_FUNCTION or u in _EN_FUNCTION:
            continue
        out.append(_stem(u) if u[0].isascii() and u[0].isalpha() else u)
    return out


def _lcs(option: list[str], stream: list[str]) -> int:
    """Longest common subsequence of a short ``option`` and ``stream``, bit-parallel: one step per
    unit of ``stream`` (Crochemore et al., "A fast and practical bit-vector algorithm for the
    longest common subsequence problem", 2001)."""
    masks: dict[str, int] = {}
    for k, u in enumerate(option):
        masks[u] = masks.get(u, 0) | (1 << k)
    full = (1 << len(option)) - 1
    v = full
    for u in stream:
        m = masks.get(u)
        if m:
            v = ((v + (v & m)) | (v & ~m)) & full
    return len(option) - bin(v).count("1")


def paraphrased(answer: str, options: tuple[str, ...], valid: int) -> tuple[int, str]:
    """The option an answer restates in its own words, with how well; (0, "") when none clearly.

    Per sentence (clauses that deny are left out), the longest in-order match of each option's
    content units (:func:`_units`). An option qualifies when the match holds at least
    :data:`PARAPHRASE_SHARE` of its units (3 at least, and every number it has); its weight is
    the match length times that share. The heaviest qualifying option is the pick when it weighs
    :data:`PARAPHRASE_MARGIN` times any other option; ties and near-ties are no pick. One pass
    per option over the answer: linear in its length."""
    texts = [_units(nfkc(t).casefold()) for t in options[:valid]]
    best = [0] * len(texts)
    kept: list[str] = []
    for sentence in sentences(nfkc(answer).casefold()):
        stream = [
            u for clause in _CLAUSE_CUT.split(sentence) if not _DENIED_CLAUSE.search(clause) for u in _units(clause)
        ]
        kept.extend(u for u in stream if u[0].isdigit())
        for i, units in enumerate(texts):
            if units:
                best[i] = max(best[i], _lcs(units, stream))
    numbers = set(kept)
    weight = []
    for units, got in zip(texts, best, strict=True):
        share = got / len(units) if units else 0.0
        weight.append(got * share)
    order = sorted(range(len(texts)), key=lambda i: -weight[i])
    top = order[0] if order else -1
    # three units at least, or two words (two Chinese characters in order are too easily met)
    enough = best[top] >= 3 or (best[top] == len(texts[top]) == 2 and texts[top][0].isascii()) if top >= 0 else False
    if not enough or best[top] < PARAPHRASE_SHARE * len(texts[top]):
        return 0, ""
    if any(u[0].isdigit() and u not in numbers for u in texts[top]):
        return 0, ""
    if len(order) > 1 and weight[order[1]] * PARAPHRASE_MARGIN > weight[top]:
        return 0, ""
    return top + 1, f"{best[top]}/{len(texts[top])}"


# --------------------------------------------------------------------------
# Picks
# --------------------------------------------------------------------------


def _tokens(m: re.Match[str], text: str) -> list[str]:
    """The options a match lists; a comma list followed by more words keeps only its first part."""
    listed = m.group(1)
    if "," in listed and not _TERMINAL.match(text, m.end()):
        listed = listed.split(",")[0]
    if re.fullmatch(_RUN, listed):
        return list(listed)
    return [t.strip("()*_`") for t in re.split(_SEP, listed) if t.strip("()*_`")]


def _valid(tokens: list[str], n: int) -> set[int]:
    return {i for i in (choice_index(t) for t in tokens) if 1 <= i <= n}


def _stated(text: str, neg: str, n: int) -> tuple[set[int], list[re.Match[str]]]:
    """Picks of the first stated form that names any, leaving out denied ones (不选A, not A)."""
    for pattern in _STRONG:
        out: set[int] = set()
        found = []
        for m in pattern.finditer(text):
            if not negated_at(neg, m.start()):
                got = _valid(_tokens(m, text), n)
                if got:
                    out |= got
                    found.append(m)
        if out:
            return out, found
    return set(), []


def _head(window: str, n: int, options: tuple[str, ...]) -> set[int]:
    """The pick a correction names right away: "，应该选C", ", no — B.", "我倾向D", "应该是5天"."""
    at = 0
    for _ in range(12):
        m = _FILLER.match(window, at)
        if not m or m.end() == at:
            break
        at = m.end()
    m = re.compile(_listed(_OPT_EN)).match(window, at)
    if m and _COMMITS.match(window, m.end()):
        return _valid(_tokens(m, window), n)
    for m in _NAMED.finditer(window, at, at + NAMED_REACH):
        if _COMMITS.match(window, m.end()):
            return _valid(_tokens(m, window), n)
    rest = normalize(window[at : at + 60])
    texts = [normalize(t) for t in options[:n]]
    hits = [i for i, t in enumerate(texts, start=1) if t and rest.startswith(t) and not _cuts(rest, t)]
    # the longest text that starts here: 13天 over 1 when both are options
    return {max(hits, key=lambda i: len(texts[i - 1]))} if hits else set()


def _cuts(rest: str, t: str) -> bool:
    return t[-1].isdigit() and rest[len(t) : len(t) + 1].isdigit()


def _corrected(text: str, neg: str, n: int, options: tuple[str, ...]) -> Committed | None:
    """The pick after the last correction cue that names one within :data:`LOOKAHEAD` characters."""
    cues = list(_CUE.finditer(text))
    for cue in reversed(cues[-MAX_CUES:]):
        end = min(len(text), cue.end() + LOOKAHEAD)
        window, wneg = text[cue.end() : end], neg[cue.end() : end]
        picks = _head(window, n, options) or _stated(window, wneg, n)[0]
        if picks:
            return Committed(frozenset(picks), f"after {cue.group(0).strip()!r}", bool(_HEDGE.search(window)))
    return None


def commitment(answer: str, n: int, question: str = "") -> Committed:
    """What ``answer`` commits to among ``n`` options; ``question`` lists their texts, if known.

    Order: the pick after a correction; a stated pick; a bare label; labels mentioned; an
    option's text restated. A stated letter wins over restated text, unless another
    option's text follows it within the same clause ("选A，5天"): a contradiction.
    """
    text = nfkc(answer) if not any(c in answer for c in CIRCLED) else answer
    neg = text.translate(_DASHES)
    options = question_options(question) if question else ()
    fixed = _corrected(text, neg, n, options)
    if fixed:
        return fixed
    picks, found = _stated(text, neg, n)
    if picks:
        hedged = any(_offered(text, m) for m in found)
        return Committed(frozenset(picks), "stated", hedged, _contradiction(text, found, picks, options, n))
    hedged = bool(_HEDGE.search(text))
    bare = re.sub(r"[\s()（）.。:：、,，$*]", "", text)
    if bare and (re.fullmatch(_RUN, bare) or re.fullmatch(LABEL, bare)):
        got = _valid(list(bare), n)
        if got:
            return Committed(frozenset(got), "bare label")
    # capitals only ("a" is a word); not the C of °C (℃ reads as °C after NFKC); not the pronoun I,
    # not the article A ("A return authorization form.")
    # a stem stands alone or after a connective: 甲或乙, 甲和丙, 甲、乙 (not the 乙 of 甲乙方)
    loose = (
        rf"(?<![A-Za-z°])(?!I(?:'|\s+[a-z])|A\s+(?!{_VERB_AFTER_LABEL})[a-z])"
        rf"([{LETTERS[:n]}{CIRCLED}]|(?:(?<![\u4e00-\u9fff])|(?<=[或和与及跟])|(?<=还是)){_ZH})(?![A-Za-z])"
    )
    mentioned = {choice_index(m.group(1)) for m in re.finditer(loose, text) if not negated_at(neg, m.start())}
    mentioned = {i for i in mentioned if i <= n}
    if mentioned:
        return Committed(frozenset(mentioned), "mentioned", hedged)
    said = restated(answer, options, n) if options else {}
    if not said and options:
        pick, how = paraphrased(answer, options, n)
        if pick:
            return Committed(frozenset({pick}), f"restated in other words ({how} of {options[pick - 1]})")
    return Committed(frozenset(said), "restated: " + ", ".join(options[i - 1] for i in sorted(said)), hedged)


def _offered(text: str, m: re.Match[str]) -> bool:
    """A stated list offered as alternatives: 答案是A或C, either A or C, A、C都可以."""
    before, after = text[max(0, m.start() - 12) : m.start()], text[m.end() : m.end() + 6]
    return bool(
        re.search(_OR, m.group(1))
        or re.search(r"(?i)\beither\b", before)
        or re.match(r"\s*(?:都可以|都行|皆可)", after)
    )


def _contradiction(text: str, found: list[re.Match[str]], picks: set[int], options: tuple[str, ...], n: int) -> str:
    """Another option's text right after a stated pick, in the same clause: "选A，即5天"."""
    if not options:
        return ""
    for m in found:
        tail = re.split(r"[。.!！?？;；\n]", text[m.end() : m.end() + 16])[0]
        other = set(restated(tail, options, n)) - picks
        if other:
            i = min(other)
            return f"states {LETTERS[min(picks) - 1]} but restates option {LETTERS[i - 1]} ({options[i - 1]})"
    return ""
