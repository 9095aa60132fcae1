"""Format checks: JSON with a schema, multiple choice, length, sentences, language."""

from __future__ import annotations

import json
import re
from typing import Any, Literal

import jsonschema
from pydantic import Field, field_validator

from harness.rubric.registry import Args, Outcome, check
from harness.rubric.text import cjk_ratio, negated_at, nfkc, sentences

# --------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------

_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\n?(.*?)```", re.DOTALL)


FORMATS = jsonschema.FormatChecker()
"""The ``format`` keywords a schema may use, and each one is checked (JSON Schema leaves
``format`` unchecked by default: ``{"date": "next tuesday"}`` would pass ``format: date``)."""
_RFC3339_TIME = r"\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})"


@FORMATS.checks("date-time")
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    m = re.fullmatch(rf"(\d{{4}}-\d{{2}}-\d{{2}})[Tt ]({_RFC3339_TIME})", value)
    return m is not None and FORMATS.conforms(m.group(1), "date") and _time(m.group(2))


@FORMATS.checks("time")
def _time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    m = re.fullmatch(r"(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|([+-])(\d{2}):(\d{2}))", value)
    return m is not None and int(m.group(1)) < 24 and int(m.group(2)) < 60 and int(m.group(3)) < 61


def _formats(schema: object) -> set[str]:
    if isinstance(schema, dict):
        own = {schema["format"]} if isinstance(schema.get("format"), str) else set()
        return own.union(*(_formats(v) for k, v in schema.items() if k not in ("enum", "const", "default")))
    if isinstance(schema, list):
        return set().union(*(_formats(v) for v in schema))
    return set()


class JsonArgs(Args):
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    """A JSON Schema (draft 2020-12 unless ``$schema`` says otherwise); every ``format`` is checked."""

    @field_validator("schema_")
    @classmethod
    def _valid_schema(cls, schema: dict[str, Any] | None) -> dict[str, Any] | None:
        if schema is not None:
            try:
                jsonschema.validators.validator_for(schema, jsonschema.Draft202012Validator).check_schema(schema)
            except jsonschema.SchemaError as exc:
                raise ValueError(f"invalid JSON Schema: {exc.message}") from None
            unknown = sorted(_formats(schema) - set(FORMATS.checkers))
            if unknown:
                known = ", ".join(sorted(FORMATS.checkers))
                raise ValueError(f"format {', '.join(unknown)} cannot be checked here (checked: {known})")
        return schema


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _loads(text: str) -> Any:
    """Strict JSON: NaN and Infinity, which Python would accept, are not JSON (and pass any bound)."""
    return json.loads(text, parse_constant=_no_constant)


def extract_json(answer: str) -> tuple[Any, str] | None:
    """The answer parsed as JSON, or its first fenced block that parses; with where it came from."""
    text = answer.strip()
    try:
        return _loads(text), "whole answer"
    except ValueError:
        pass
    for m in _FENCE.finditer(answer):
        try:
            return _loads(m.group(1)), "fenced block"
        except ValueError:
            continue
    return None


@check("json", JsonArgs)
def json_check(answer: str, args: JsonArgs) -> Outcome:
    """The answer, or a fenced block in it, is JSON that satisfies ``schema``.

    ``schema: {type: object, required: [temp_c], properties: {temp_c: {type: number}}}``
    """
    found = extract_json(answer)
    if found is None:
        return Outcome(0.0, False, "no valid JSON (whole answer or a ```json block)")
    data, where = found
    if args.schema_ is None:
        return Outcome(1.0, True, f"valid JSON ({where})")
    cls = jsonschema.validators.validator_for(args.schema_, jsonschema.Draft202012Validator)
    errors = sorted(cls(args.schema_, format_checker=FORMATS).iter_errors(data), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        at = "/".join(str(p) for p in e.path) or "(root)"
        return Outcome(0.0, False, f"JSON ({where}) fails schema at {at}: {e.message}"[:200])
    return Outcome(1.0, True, f"JSON ({where}) satisfies the schema")


# --------------------------------------------------------------------------
# Multiple choice
# --------------------------------------------------------------------------

_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩"
_OPT = r"[A-Ja-j①-⑩]"
# "answer is a bit..." is not option A; "Answer: I think it is C" is not option I
_OPT_EN = r"(?:[A-HJb-hj]|a(?=\s*(?:$|[)\].,;:!?$*]))|[Ii](?!'|\s+[a-z]))"
_SEP = r"\s*(?:或|和|与|及|、|/|,|\bor\b|\band\b)\s*"
_DECOR = r"[\s$*_`'\"“”‘’「」【】\[]*"
"""Marks around a stated pick: ANSWER: $B$, 答案：**B**, [C]."""


def _listed(opt: str) -> str:
    """One option or a list of them (A或B, A and B): a hedge picks all of them."""
    return rf"{_DECOR}\(?({opt}(?:{_SEP}{opt})*)\)?(?![A-Za-z])"


_STRONG = [
    rf"(?:答案|正确答案|正确选项|应选|选项)\s*(?:是|为|：|:)?{_listed(_OPT)}",
    rf"(?:选|选择)\s*{_listed(_OPT)}",
    rf"(?i:answer|correct option|correct answer)\s*(?:is|:)?{_listed(_OPT_EN)}",
    rf"(?i:option)\s+{_listed(_OPT_EN)}",
]
_TERMINAL = re.compile(r"[\s$*_`'\"”’」】\])）]*(?:$|[。.!！?？;；\n])")
"""What may follow a list of picks that is a hedge (答案是A，B。); anything else after a comma
starts a new clause about other options (答案是B，A是干扰项 / The answer is B, A requires ...)."""
_REVISION = re.compile(
    r"(?i)reconsider\w*|on second thought|correction|i change my answer|更正|改选|修正|重新考虑|再想想|纠正"
)
"""A final answer after reconsidering replaces the first one."""


def choice_index(token: str) -> int:
    """A=1, B=2 ...; ①=1, ②=2 ... (so ① and A name the same option)."""
    token = token.strip().upper()
    if token in _CIRCLED:
        return _CIRCLED.index(token) + 1
    return ord(token) - ord("A") + 1


def _tokens(m: re.Match[str], text: str) -> list[str]:
    """The options a match lists; a comma list followed by more words keeps only its first part."""
    listed = m.group(1)
    if "," in listed and not _TERMINAL.match(text, m.end()):
        listed = listed.split(",")[0]
    return [t.strip("()") for t in re.split(_SEP, listed) if t.strip("()")]


def _picks(pattern: str, text: str, letters: str) -> set[int]:
    """Options named by ``pattern``'s matches, leaving out denied ones (不选A, not A)."""
    out: set[int] = set()
    for m in re.finditer(pattern, text):
        if negated_at(text, m.start()):
            continue
        out |= {choice_index(t) for t in _tokens(m, text) if t.upper() in letters or t in _CIRCLED}
    return out


def extract_choice(answer: str, letters: str) -> tuple[set[int], str]:
    """Option indexes the answer picks, and how they were found."""
    text = nfkc(answer) if not any(c in answer for c in _CIRCLED) else answer
    revisions = list(_REVISION.finditer(text))
    if revisions:
        tail = text[revisions[-1].end() :]
        picks, how = _extract(tail, letters)
        if picks:
            return picks, f"{how}, after reconsidering"
    return _extract(text, letters)


def _extract(text: str, letters: str) -> tuple[set[int], str]:
    for pattern in _STRONG:
        picks = _picks(pattern, text, letters)
        if picks:
            return picks, "stated"
    bare = re.sub(r"[\s()（）.。:：、$*]", "", text)
    if len(bare) == 1 and (bare.upper() in letters or bare in _CIRCLED):
        return {choice_index(bare)}, "bare letter"
    # capitals only ("a" is a word); not the C of °C (℃ reads as °C after NFKC); not the pronoun I
    loose = rf"(?<![A-Za-z°])(?!I(?:'|\s+[a-z]))([{letters}{_CIRCLED}])(?![A-Za-z])"
    return _picks(loose, text, letters), "mentioned"


class ChoiceArgs(Args):
    answer: str = Field(pattern=r"^[A-Ja-j①-⑩]$")
    """The right option: a letter A-J or a circled number ①-⑩ (①=A)."""
    options: int = Field(default=4, ge=2, le=10)


@check("choice", ChoiceArgs)
def choice(answer: str, args: ChoiceArgs) -> Outcome:
    """Multiple choice: the picked option (选A, 答案是 B, (C), ②, answer: D) is ``answer``.

    A stated pick (答案/选/answer/option) wins over letters merely mentioned; denied
    options (不选A, not A) do not count; two different picks (A或B) fail.
    """
    letters = "ABCDEFGHIJ"[: args.options]
    picks, how = extract_choice(answer, letters)
    want = choice_index(args.answer)
    name = lambda i: letters[i - 1] if i <= len(letters) else str(i)  # noqa: E731
    if not picks:
        return Outcome(0.0, False, "no option picked")
    if len(picks) > 1:
        return Outcome(0.0, False, f"picks several options: {', '.join(name(i) for i in sorted(picks))}")
    got = picks.pop()
    if got == want:
        return Outcome(1.0, True, f"picked {name(got)} ({how})")
    return Outcome(0.0, False, f"picked {name(got)}, expected {name(want)}")


# --------------------------------------------------------------------------
# Length, sentences, language
# --------------------------------------------------------------------------


class MaxArgs(Args):
    max: int = Field(ge=1)


@check("max_chars", MaxArgs, constraint=True)
def max_chars(answer: str, args: MaxArgs) -> Outcome:
    """At most ``max`` characters as written, not counting white space (a Chinese character,
    a full-width letter and …… each count 1 a character)."""
    n = sum(not ch.isspace() for ch in answer)
    return Outcome(float(n <= args.max), n <= args.max, f"{n} characters (max {args.max})")


_ABBREVIATION = re.compile(r"(?i)\b(?:e\.g|i\.e|mr|mrs|ms|dr|vs|approx|cf)\.")


def count_sentences(answer: str) -> int:
    """Parts between sentence ends that hold a word: a list number ("1.") is not a sentence."""
    text = _ABBREVIATION.sub("abbr", nfkc(answer))
    return sum(1 for part in sentences(text) if any(ch.isalpha() for ch in part))


@check("max_sentences", MaxArgs, constraint=True)
def max_sentences(answer: str, args: MaxArgs) -> Outcome:
    """At most ``max`` sentences (split at 。！？!?；; new lines and '. '; not at 1.5, e.g., Mr.;
    a list number such as "1." on its own is not a sentence)."""
    n = count_sentences(answer)
    return Outcome(float(n <= args.max), n <= args.max, f"{n} sentences (max {args.max})")


class LanguageArgs(Args):
    expected: Literal["zh", "en"]
    min_ratio: float = Field(default=0.6, gt=0, le=1)
    """Share of the answer's text that must be in the expected script (see ``CJK_WEIGHT``)."""


CJK_WEIGHT = 3
"""A Chinese character weighs as much as 3 Latin letters (about what it carries), so a
Chinese answer that names LOTO, MPa or PA66-GF30 is still Chinese."""


@check("language", LanguageArgs, constraint=True)
def language(answer: str, args: LanguageArgs) -> Outcome:
    """The answer is mostly in the expected language: Chinese characters (each weighing 3)
    against Latin letters; digits and punctuation do not count."""
    cjk, latin = cjk_ratio(answer)
    cjk *= CJK_WEIGHT
    if cjk + latin == 0:
        return Outcome(0.0, False, "no letters to judge")
    share = (cjk if args.expected == "zh" else latin) / (cjk + latin)
    ok = share >= args.min_ratio
    return Outcome(float(ok), ok, f"{share:.0%} {args.expected} (min {args.min_ratio:.0%})")
