"""Which option(s) a multiple-choice answer commits to (pure; the ``choice`` check is in ``checks_format``).

An answer commits to an option by stating it (选A, 答案是 B, answer: D, 选AC), by being
only a label (B, AC, 乙), by mentioning a label, or by restating an option's text that
the question lists ("A. 3天 B. 5天 …" and the answer "年假是5天"). A correction replaces
what came before it: the pick right after the last correction cue (不对/其实/我倾向/
actually/I meant/final answer …) within :data:`LOOKAHEAD` characters is the answer.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_right
from dataclasses import dataclass

from harness.rubric.text import negated_at, nfkc, normalize, normalize_with_map

CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩"
ZH_LABELS = "甲乙丙丁戊己庚辛壬癸"
LETTERS = "ABCDEFGHIJ"
LABEL = r"[A-Ja-j①-⑩甲乙丙丁戊己庚辛壬癸]"
"""One option label: a letter A-J, a circled number ①-⑩, or a heavenly stem 甲-癸 (甲 = A = ①)."""
LOOKAHEAD = 120
"""Characters after a correction cue that may hold the corrected pick: bounded, so linear."""
MAX_CUES = 20
"""Correction cues read, from the last one back; an answer's final say is near its end."""

_ZH = r"[甲乙丙丁戊己庚辛壬癸](?![\u4e00-\u9fff](?<![项吧是为对和或与及还跟以]))"
"""A stem label is not part of a word: 乙 in 选乙 / 乙项 / 甲和丙, not in 乙方 or 甲醇."""
_OPT = rf"(?:[A-Ja-j①-⑩]|{_ZH})"
# "answer is a bit..." is not option A; "Answer: I think it is C" is not option I
_OPT_EN = rf"(?:[A-HJb-hj①-⑩]|a(?=\s*(?:$|[)\].,;:!?$*]))|[Ii](?!'|\s+[a-z])|{_ZH})"
_OR = r"或者|或是|或|还是|\bor\b"
_SEP = rf"\s*(?:{_OR}|和|与|以及|及|跟|、|/|&|,|\band\b|\bplus\b)\s*"
_DECOR = r"[\s$*_`'\"“”‘’「」【】\[]*"
"""Marks around a stated pick: ANSWER: $B$, 答案：**B**, [C]."""
_RUN = r"[A-J]{2,10}|[甲乙丙丁戊己庚辛壬癸]{2,10}(?![\u4e00-\u9fff])"
"""Labels written together for a multi-select answer: AC, 甲丙 (capitals only: "bad" is a word)."""


def _listed(opt: str) -> str:
    """One option, a list of them (A或B, A and C) or a run (AC)."""
    return rf"{_DECOR}\(?({opt}(?:{_SEP}{opt})*|{_RUN})\)?(?![A-Za-z])"


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
    r"(?i)不对(?=[\s,，。.!！…—-])|不是(?=[\s,，。.!！…—-])|说错了|错了|更正|纠正|修正|改为|改成|改选|"
    r"应该是|应该选|应当选|应当是|应为|应选|其实|哦不|噢不|啊不|我倾向于?|倾向于|我选|我会选|还是选|"
    r"最终答案|最终选|最终|最后答案|最后选|重新考虑后?|再想想|再想一下|等等|等一下|"
    r"\bactually\b|\bsorry\b|\bi mean(?:t)?\b|\bcorrection\b|\bon second thoughts?\b|\bon reflection\b|"
    r"\bwait\b|\bfinal answer\b|\bi(?:'d| would|'ll| will) (?:go with|pick|choose|say)\b|\bgoing with\b|"
    r"\b(?:i'm )?lean(?:ing)? towards?\b|\bi (?:choose|pick)\b|\breconsider\w*|\bi change my answer\b|"
    r"\bscratch that\b|\blet me correct\b|\bso\b|\btherefore\b|\bthus\b|\bhence\b|所以|因此|综上|故"
)
"""What corrects or settles an earlier pick ("选A。不对，应该选C", "Answer: A… sorry, I meant C", "A? Wait…, so D")."""
_FILLER = re.compile(
    r"(?i)\s+|[,，:：—–\-…\.。!！、~～]+|no\b|oh\b|it'?s\b|it is\b|is\b|the\b|answers?\b|options?\b|"
    r"i think\b|with\b|should be\b|be\b|to\b|choice\b|"
    r"我觉得|我认为|应该是|应该选|应该|应当|应选|应为|正确答案|答案|选项|选择|选|是|为|改为|改成|改|"
    r"哦|噢|啊|呃|嗯|不对|不是|于|的"
)
"""Words between a correction cue and the pick it names: ", no —", "it's", "应该是"."""
_COMMITS = re.compile(
    r"\s*(?:$|[。.!！?？;；,，、)）\]」】…—\-\n*$]|(?i:because|since|as\b|is\s+(?:the\s+)?(?:correct|right|answer|best|better))"
    r"|项|选项|吧|更|最|正确|因为|对)"
)
"""What may follow a label right after a correction cue: "我倾向D。" commits to D, "其实A也有道理" does not."""
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
    r"\(\s*([A-J甲乙丙丁戊己庚辛壬癸])\s*\)|(?:^|(?<=[\s:?。；;，,]))([A-J甲乙丙丁戊己庚辛壬癸])\s*[.、:)]"
)
"""An option's label in the question: "A. ", "A、", "(A)", "A)", "A:", "甲、" (after NFKC)."""


@functools.lru_cache(maxsize=256)
def question_options(question: str) -> tuple[str, ...]:
    """The options' texts the question lists, in label order ("A. 3天 B. 5天" -> ("3天", "5天")).

    The longest run of labels from A (or 甲) that counts up; () when fewer than two."""
    text = nfkc(question)
    run: list[re.Match[str]] = []
    best: list[re.Match[str]] = []
    for m in _MARK.finditer(text):
        idx = choice_index(m.group(1) or m.group(2))
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
        out.append(text[m.end() : line_end if line_end >= 0 else stop].strip(" \t;；。,，"))
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
# Picks
# --------------------------------------------------------------------------


def _tokens(m: re.Match[str], text: str) -> list[str]:
    """The options a match lists; a comma list followed by more words keeps only its first part."""
    listed = m.group(1)
    if "," in listed and not _TERMINAL.match(text, m.end()):
        listed = listed.split(",")[0]
    if re.fullmatch(_RUN, listed):
        return list(listed)
    return [t.strip("()") for t in re.split(_SEP, listed) if t.strip("()")]


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
    # capitals only ("a" is a word); not the C of °C (℃ reads as °C after NFKC); not the pronoun I
    loose = rf"(?<![A-Za-z°])(?!I(?:'|\s+[a-z]))([{LETTERS[:n]}{CIRCLED}]|(?<![\u4e00-\u9fff]){_ZH})(?![A-Za-z])"
    mentioned = {choice_index(m.group(1)) for m in re.finditer(loose, text) if not negated_at(neg, m.start())}
    mentioned = {i for i in mentioned if i <= n}
    if mentioned:
        return Committed(frozenset(mentioned), "mentioned", hedged)
    said = restated(answer, options, n) if options else {}
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
