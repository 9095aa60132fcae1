"""Results store durability and the pure roll-up statistics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness import timing as stats
from harness.records import Candidate, Generation, Perf, Phase, Question, QuestionSet, Score
from harness.rollup.frames import answers_frame, bootstrap_mean, model_summary, views
from harness.rollup.perf_summary import cost_frame
from harness.store import JsonlAppender, atomic_write_text, read_records, repair


def gen(
    key: str,
    cand: str = "a",
    q: str = "q1",
    sample: int = 0,
    error: str | None = None,
    tokens: int = 10,
) -> Generation:
    return Generation(key=key, candidate=cand, set_id="s", question_id=q, sample=sample, api="chat", seed=0,
                      text="" if error else "x", output_tokens=None if error else tokens,
                      ttft_ms=100.0, e2e_ms=1000.0, error=error)  # fmt: skip


def test_torn_last_line_is_ignored_then_repaired(tmp_path: Path) -> None:
    path = tmp_path / "g.jsonl"
    with JsonlAppender(path) as out:
        out.append(gen("k1"))
        out.append(gen("k2"))
    with path.open("a") as f:
        f.write(gen("k3").model_dump_json()[:25])  # a kill mid-write
    assert [g.key for g in read_records(path, Generation)] == ["k1", "k2"]
    assert repair(path) == 25
    with JsonlAppender(path) as out:
        out.append(gen("k3"))
    assert [g.key for g in read_records(path, Generation)] == ["k1", "k2", "k3"]


def test_atomic_write_leaves_no_temp_files(tmp_path: Path) -> None:
    atomic_write_text(tmp_path / "m.json", "{}")
    atomic_write_text(tmp_path / "m.json", '{"a": 1}')
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]
    assert (tmp_path / "m.json").read_text() == '{"a": 1}'


def test_atomic_write_gives_the_mode_an_ordinary_write_would(tmp_path: Path) -> None:
    """A report or manifest shared with another user must not come out owner-only (mkstemp's 0600)."""
    import os

    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "index.html", "<p>report</p>")
        (tmp_path / "plain.txt").write_text("x")
    finally:
        os.umask(old)
    assert (tmp_path / "index.html").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "plain.txt").stat().st_mode & 0o777 == 0o644


def test_percentiles_are_linear_interpolation() -> None:
    values = [10.0, 20.0, 30.0, 40.0]
    assert stats.percentile(values, 50) == pytest.approx(25.0)
    assert stats.percentile(values, 95) == pytest.approx(38.5)
    assert stats.percentile([], 50) is None


def test_tpot_and_cost() -> None:
    assert stats.tpot_ms(1100.0, 100.0, 11) == pytest.approx(100.0)
    assert stats.tpot_ms(1100.0, 100.0, 1) is None
    # $2/GPU-h, 2 GPUs, 1000 tok/s -> 4 / 3.6e6 * 1e6 = 1.111 $/1M tokens
    assert stats.usd_per_mtok(2.0, 2, 1000.0) == pytest.approx(1.1111, rel=1e-3)
    assert stats.usd_per_mtok(0.0, 1, 1000.0) is None


def test_bootstrap_interval_brackets_the_mean_and_is_reproducible() -> None:
    rng = np.random.default_rng(1)
    values = rng.uniform(size=40)
    weights = np.ones(40)
    a = bootstrap_mean(values, weights, 1000, seed=3)
    b = bootstrap_mean(values, weights, 1000, seed=3)
    assert a == b
    assert a.low is not None and a.high is not None and a.low < a.mean < a.high
    assert a.mean == pytest.approx(values.mean())
    assert bootstrap_mean(np.array([1.0]), np.array([1.0]), 100, 0).low is None


def test_model_summary_counts_failures_as_zero_and_uses_phase_time() -> None:
    qs = QuestionSet(id="s", title="t", language="en", questions=[
        Question(id="q1", category="c", question="?"),
        Question(id="q2", category="c", question="?", weight=3)])  # fmt: skip
    gens = [gen("a/s/q1/0"), gen("a/s/q2/0", q="q2", error="HTTP 500: boom")]
    scores = [
        Score(key="a/s/q1/0", candidate="a", set_id="s", question_id="q1", sample=0, score=1.0),
        Score(
            key="a/s/q2/0",
            candidate="a",
            set_id="s",
            question_id="q2",
            sample=0,
            score=0.0,
            error="HTTP 500: boom",
        ),
    ]
    answers = answers_frame(*views(gens, scores), {"s": qs})
    phases = [
        Phase(candidate="a", started_at=0.0, ended_at=2.0, requests=2),
        Phase(candidate="a", started_at=10.0, ended_at=12.0, requests=0),
    ]
    cands = [Candidate(name="a", model="m", price_per_gpu_hour_usd=1.0)]
    summary = model_summary(answers, phases, cands, 200, 0)
    row = summary.iloc[0]
    assert row.answers == 1 and row.failed == 1
    assert row.rubric_mean == pytest.approx(0.25)  # weights 1 and 3, the failed one scores 0
    assert row.wall_s == pytest.approx(2.0)  # the phase with no requests (a failed start) is not counted
    assert row.out_tok_per_s == pytest.approx(5.0)
    # No sweep: the cost is computed once, by cost_frame, at the generation phase's throughput.
    cost = cost_frame(cands, Perf(sweep=None), pd.DataFrame(), phases, summary).iloc[0]
    assert "usd_per_mtok" not in summary.columns and cost.cost_basis == "generation phase"
    assert cost.usd_per_mtok == pytest.approx(1.0 / (5.0 * 3600) * 1e6)


def test_a_projection_reads_what_the_whole_record_says_old_versions_and_defaults_included(tmp_path: Path) -> None:
    import json

    from harness.records import GENERATION_VIEW, GenerationView
    from harness.schema import RecordError
    from harness.store import iter_projected

    path = tmp_path / "generations.jsonl"
    current = gen("k1", tokens=7)
    no_default = json.loads(gen("k2").model_dump_json())
    del no_default["cut_off_thinking"]  # a field with a default, absent: the view needs it, the record fills it
    v1 = {"schema_version": 1, "key": "k3", "candidate": "a", "set_id": "s", "question_id": "q1", "sample": 0,
          "api": "chat", "seed": 0, "text": "<think>算一下</think>12天", "finish_reason": "stop"}  # fmt: skip
    lines = [current.model_dump_json(), json.dumps(no_default), json.dumps(v1, ensure_ascii=False)]
    path.write_text("\n".join(lines) + "\n" + '{"schema_version": 2, "key": "torn', encoding="utf-8")

    views_read = list(iter_projected(path, Generation, GENERATION_VIEW))
    records = read_records(path, Generation)
    assert [v["key"] for v in views_read] == ["k1", "k2", "k3"]
    for v, rec in zip(views_read, records, strict=True):  # each view is its record's fields, nothing else
        assert v == {k: getattr(rec, k) for k in GenerationView.__annotations__}
    assert views_read[0]["output_tokens"] == 7 and views_read[1]["cut_off_thinking"] is False
    assert (views_read[2]["text"], views_read[2]["reasoning"], views_read[2]["schema_version"]) == ("12天", "算一下", 2)

    path.write_text(lines[0] + "\nnot a record\n", encoding="utf-8")
    with pytest.raises(RecordError, match=r"generations.jsonl:2"):
        list(iter_projected(path, Generation, GENERATION_VIEW))
