"""Format checks: JSON with a schema, multiple choice (read by ``choice``), length, sentences, language."""

from __future__ import annotations

import json
import re
from typing import Any, Literal

import jsonschema
from pydantic import Field, field_validator, model_validator

from harness.rubric.choice import LETTERS, choice_index, commitment, labels
from harness.rubric.registry import Args, Evidence, Outcome, check
from harness.rubric.text import cjk_ratio, nfkc, sentences

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

_LABELS = r"[A-Ja-j①-⑩甲乙丙丁戊己庚辛壬癸]"


class ChoiceArgs(Args):
    answer: str | None = Field(default=None, pattern=rf"^{_LABELS}(?:[\s,、]*{_LABELS})*$")
    """The right option: a letter A-J, a circled number ①-⑩ or a stem 甲-癸 (①=A=甲); several
    for a multi-select question ("AC", "A, C")."""
    answers: list[str] | None = Field(default=None, min_length=1)
    """The right options of a multi-select question, one label each: ``[A, C]``."""
    options: int = Field(default=4, ge=2, le=10)

    @model_validator(mode="after")
    def _one_key(self) -> ChoiceArgs:
        if (self.answer is None) == (self.answers is None):
            raise ValueError("give the right option as answer (B, or AC for several) or as answers: [A, C]")
        for label in self.answers or []:
            if not re.fullmatch(_LABELS, label):
                raise ValueError(f"{label!r} is not an option label (A-J, ①-⑩, 甲-癸)")
        if max(self.right) > self.options:
            raise ValueError(f"the right option is beyond the {self.options} options (set options:)")
        return self

    @property
    def right(self) -> frozenset[int]:
        """The right options' indexes (A = 1)."""
        return frozenset(choice_index(t) for t in (self.answers or labels(self.answer or "")))


def _names(picks: frozenset[int] | set[int]) -> str:
    return ", ".join(LETTERS[i - 1] for i in sorted(picks))


@check("choice", ChoiceArgs, uses_evidence=True)
def choice(answer: str, args: ChoiceArgs, evidence: Evidence | None = None) -> Outcome:
    """Multiple choice: the option(s) the answer commits to are ``answer`` (or ``answers``).

    Picks: 选A, 答案是 B, (C), ②, 选乙, answer: D, 选AC, A和C; the pick after a correction
    (选A。不对，应该选C); an option's text restated when the question lists the options
    (年假是5天 for "B. 5天"), or in other words, most of its content in order (先拔保险销，再对准火焰根部，
    最后压下压把 for "C. 拔保险销→对准火焰根部→压下压把"). Denied options (不选A, not A) do not count. One right option:
    several picks are a hedge and fail. Several right options: exactly that set passes; a
    right subset scores its share, any wrong pick or a hedge (A或C) scores 0.
    """
    right = args.right
    got = commitment(answer, args.options, evidence.question if evidence else "")
    if not got.picks:
        return Outcome(0.0, False, "no option picked")
    if got.contradiction:
        return Outcome(0.0, False, got.contradiction)
    if len(right) == 1:
        if len(got.picks) > 1:
            return Outcome(0.0, False, f"hedged: picks several options: {_names(got.picks)}")
        if got.picks == right:
            return Outcome(1.0, True, f"picked {_names(got.picks)} ({got.how})")
        return Outcome(0.0, False, f"picked {_names(got.picks)}, expected {_names(right)}")
    if got.hedged:
        return Outcome(0.0, False, f"hedged: offers {_names(got.picks)} as alternatives")
    if got.picks == right:
        return Outcome(1.0, True, f"picked {_names(got.picks)} ({got.how})")
    wrong = got.picks - right
    if wrong:
        return Outcome(0.0, False, f"picked {_names(got.picks)}: {_names(wrong)} is wrong (expected {_names(right)})")
    share = len(got.picks) / len(right)
    return Outcome(share, False, f"picked {_names(got.picks)}, misses {_names(right - got.picks)}")


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
