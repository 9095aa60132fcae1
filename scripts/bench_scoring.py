"""make bench-scoring: rubric scoring speed on 100,000 answers and on one 80,000-character answer.

1. Bulk: 100,000 answers (references of the sample sets, cut, repeated and mixed with
   off-topic text, 20-600 characters) are scored against their questions' rubrics with
   ``score_answer``, as ``harness score`` does. Reported: answers per second (CPU time).
2. Runaway: one 80,000-character answer (a reference repeated, as a generation that loops
   until ``max_tokens`` looks) is scored by every check of every sample question, and by
   each check type alone. Reported: the slowest single check and the whole rubric set.
   Every check reads an answer in linear time (a negation is read at most
   ``text.REACH`` characters back; the normalised answer is computed once), so this stays
   in seconds; before, ``not_contains`` alone took 27 s.
3. Linearity: the whole rubric set on the long answer and on one a quarter as long; the
   ratio of the two times is ~4 when scoring is linear in answer length (16 if quadratic).

Every check is given its question and reference (``Evidence``), as the scoring stage does:
the checks that read the question (echoes, the asked unit, options) are timed on that path.

Times are CPU seconds of this process (``time.process_time``), so other work on a shared
machine does not inflate them. Written to ``results/bench/scoring.json``; exit 1 when a
target is missed.

    .venv/bin/python scripts/bench_scoring.py [--answers 100000] [--chars 80000]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from harness import rubric  # noqa: E402
from harness.inputs.questions import load_question_set, rubric_evidence  # noqa: E402

RESULT = REPO / "results" / "bench" / "scoring.json"
TARGET_BULK_ANSWERS_PER_S = 1_000.0
TARGET_LONG_CHECK_S = 2.0
TARGET_LINEAR_RATIO = 6.0
"""Time on the long answer / time on one a quarter as long: 4 when linear; above 6 is a finding."""
OFF_TOPIC = [
    "Ping yu, a traditional Chinese medicine doctor, lived in the mountains.",
    "今天天气很好，我们去公园散步吧。",
]


def _questions() -> list:
    out = []
    for path in sorted((REPO / "question_sets").glob("*.yaml")):
        qs, _ = load_question_set(path, str(path))
        out += [q for q in qs.questions if q.checks]
    return out


def _answer(rng: random.Random, q, questions: list) -> str:  # type: ignore[no-untyped-def]
    ref = q.reference or q.question
    kind = rng.random()
    if kind < 0.5:
        return ref
    if kind < 0.7:
        return ref[: rng.randint(1, max(1, len(ref)))]
    if kind < 0.85:
        other = rng.choice(questions)
        return f"{other.reference or other.question} {rng.choice(OFF_TOPIC)}"
    return (ref + " ") * rng.randint(2, 6)


def _long(questions: list, chars: int, evidence: dict, per_check: dict[str, float]) -> float:  # type: ignore[type-arg]
    """CPU seconds to run every check of every question on a ``chars``-long answer (its reference
    repeated); the slowest time of each check type goes into ``per_check``."""
    t0 = time.process_time()
    for q in questions:
        unit = (q.reference or q.question) + "\n"
        long = (unit * (chars // len(unit) + 1))[:chars]
        for spec in q.checks:
            t = time.process_time()
            rubric.run_check(spec, long, evidence[id(q)])
            per_check[spec.type] = max(per_check.get(spec.type, 0.0), time.process_time() - t)
    return time.process_time() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--answers", type=int, default=100_000)
    ap.add_argument("--chars", type=int, default=80_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    questions = _questions()
    rng = random.Random(args.seed)
    pairs = [(q, _answer(rng, q, questions)) for q in (rng.choice(questions) for _ in range(args.answers))]

    evidence = {id(q): rubric_evidence(q) for q in questions}
    t0 = time.process_time()
    for q, answer in pairs:
        rubric.score_answer(q.checks, answer, evidence[id(q)])
    bulk_s = time.process_time() - t0
    per_s = args.answers / bulk_s if bulk_s > 0 else float("inf")

    per_check: dict[str, float] = {}
    long_total_s = _long(questions, args.chars, evidence, per_check)
    quarter_s = _long(questions, args.chars // 4, evidence, {})
    ratio = long_total_s / quarter_s if quarter_s > 0 else float("inf")
    slowest = max(per_check.items(), key=lambda kv: kv[1])

    result = {
        "answers": args.answers,
        "bulk_cpu_s": round(bulk_s, 2),
        "answers_per_s": round(per_s, 1),
        "long_answer_chars": args.chars,
        "long_answer_all_rubrics_cpu_s": round(long_total_s, 2),
        "long_answer_rubrics": len(questions),
        "quarter_answer_all_rubrics_cpu_s": round(quarter_s, 2),
        "long_over_quarter_ratio": round(ratio, 2),
        "slowest_check_on_long_answer": {"type": slowest[0], "cpu_s": round(slowest[1], 3)},
        "per_check_type_max_cpu_s": {k: round(v, 3) for k, v in sorted(per_check.items())},
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"scoring {args.answers:,} answers: {bulk_s:.1f} s CPU, {per_s:,.0f} answers/s "
          f"(target >= {TARGET_BULK_ANSWERS_PER_S:,.0f})")  # fmt: skip
    print(f"one {args.chars:,}-character answer through {len(questions)} rubrics: {long_total_s:.1f} s CPU; "
          f"slowest check {slowest[0]} {slowest[1]:.2f} s (target <= {TARGET_LONG_CHECK_S} s)")  # fmt: skip
    print(f"the same on {args.chars // 4:,} characters: {quarter_s:.1f} s CPU; ratio {ratio:.2f} "
          f"(4 when linear in answer length; target <= {TARGET_LINEAR_RATIO:g})")  # fmt: skip
    print(f"wrote {RESULT.relative_to(REPO)}")
    ok = per_s >= TARGET_BULK_ANSWERS_PER_S and slowest[1] <= TARGET_LONG_CHECK_S and ratio <= TARGET_LINEAR_RATIO
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
