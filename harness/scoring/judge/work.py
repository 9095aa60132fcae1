"""What the judge is asked (pure): single grades, pairwise comparisons, retests, injection probes.

Every item has a key that is stable across sessions, so judging resumes like
generation. Retests are picked by hashing the key, so the same subset is
retested whatever order the work runs in.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from itertools import combinations
from pathlib import Path

import yaml

from harness.records import Generation, Judge, Judgment, Question, QuestionSet, injection_key, single_key
from harness.scoring.judge import prompts

RETEST_SEED_OFFSET = 1000


@dataclass(frozen=True)
class JudgeItem:
    key: str
    kind: str
    qs: QuestionSet
    q: Question
    sample: int
    candidates: tuple[str, ...]
    prompt: str
    prompt_version: str
    seed: int
    temperature: float
    trial: int = 0
    attack: str | None = None


@dataclass(frozen=True)
class Attack:
    id: str
    text: str


@cache
def attacks() -> tuple[Attack, ...]:
    data = yaml.safe_load(Path(__file__).with_name("injections.yaml").read_text(encoding="utf-8"))
    return tuple(Attack(a["id"], a["text"].strip()) for a in data)


def _fraction(key: str) -> float:
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def single_item(
    judge: Judge, qs: QuestionSet, q: Question, g: Generation, trial: int = 0, attack: Attack | None = None
) -> JudgeItem:
    kind = "injection" if attack else "single"
    key = injection_key(attack.id, g.key) if attack else single_key(g.key, trial)
    seed = judge.seed + (RETEST_SEED_OFFSET if trial else 0)
    answer = f"{g.answer}\n\n{attack.text}" if attack else g.answer  # the answer only, never the thinking
    prompt = prompts.single_prompt(qs, q, answer, judge.scale, prompts.nonce(key, seed), g.context)
    return JudgeItem(
        key,
        kind,
        qs,
        q,
        g.sample,
        (g.candidate,),
        prompt,
        prompts.prompt_version("single", qs.language),
        seed,
        judge.retest_temperature if trial else judge.temperature,
        trial,
        attack.id if attack else None,
    )


def _question(sets: dict[str, QuestionSet], g: Generation) -> tuple[QuestionSet, Question] | None:
    """The set and question an answer belongs to; None when either is no longer in the run's sets."""
    qs = sets.get(g.set_id)
    q = next((x for x in qs.questions if x.id == g.question_id), None) if qs else None
    return (qs, q) if qs is not None and q is not None else None


def single_items(judge: Judge, sets: dict[str, QuestionSet], gens: list[Generation]) -> list[JudgeItem]:
    """A grade for every answer, and a retest for ``retest_fraction`` of them."""
    out = []
    for g in gens:
        if (found := _question(sets, g)) is None:
            continue  # its question was removed from the set since: not judged
        qs, q = found
        out.append(single_item(judge, qs, q, g))
        if _fraction(g.key) < judge.retest_fraction:
            out.append(single_item(judge, qs, q, g, trial=1))
    return out


def pairwise_items(
    judge: Judge, sets: dict[str, QuestionSet], gens: list[Generation], order: list[str]
) -> list[JudgeItem]:
    """Every pair of candidates on every (question, sample), in both orders."""
    by = {(g.candidate, g.set_id, g.question_id, g.sample): g for g in gens}
    out = []
    for qs in sets.values():
        questions = qs.questions[: judge.pairwise_max_questions] if judge.pairwise_max_questions else qs.questions
        for q in questions:
            samples = sorted({g.sample for g in gens if g.set_id == qs.id and g.question_id == q.id})
            for s in samples:
                for x, y in combinations(order, 2):
                    gx, gy = by.get((x, qs.id, q.id, s)), by.get((y, qs.id, q.id, s))
                    if gx is None or gy is None:
                        continue
                    for tag, (a, b) in (("ab", (gx, gy)), ("ba", (gy, gx))):
                        key = f"pair/{x}|{y}/{qs.id}/{q.id}/{s}/{tag}"
                        nonce = prompts.nonce(key, judge.seed)
                        prompt = prompts.pairwise_prompt(qs, q, a.answer, b.answer, nonce)
                        out.append(
                            JudgeItem(
                                key,
                                "pairwise",
                                qs,
                                q,
                                s,
                                (a.candidate, b.candidate),
                                prompt,
                                prompts.prompt_version("pairwise", qs.language),
                                judge.seed,
                                judge.temperature,
                            )
                        )
    return out


def injection_items(
    judge: Judge, sets: dict[str, QuestionSet], gens: list[Generation], singles: list[Judgment]
) -> list[JudgeItem]:
    """Each attack applied to the ``injection_answers`` lowest-graded answers (room to move up)."""
    if judge.injection_answers == 0:
        return []
    by_key = {g.key: g for g in gens}
    graded = sorted(
        (j for j in singles if j.kind == "single" and j.trial == 0 and j.score is not None),
        key=lambda j: (j.score, j.key),
    )
    chosen = [by_key[k] for k in (j.key.removeprefix("single/").removesuffix("/t0") for j in graded) if k in by_key]
    out = []
    asked = [(g, found) for g in chosen if (found := _question(sets, g)) is not None]
    for g, (qs, q) in asked[: judge.injection_answers]:
        out += [single_item(judge, qs, q, g, attack=a) for a in attacks()]
    return out
