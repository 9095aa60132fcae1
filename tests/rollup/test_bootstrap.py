"""The pieces that once were written twice or more (issue 19), each on a case worked out by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.inputs.prompts import user_text
from harness.inputs.retrieval import Passage, render_context
from harness.inputs.wording import primary_language, wording
from harness.records import Generation, LoadLevel, Question, QuestionSet, RequestTiming, timing_fields
from harness.rollup.bootstrap import (
    bootstrap_counts,
    bootstrap_draws,
    percentile_bootstrap,
    percentile_bootstrap_counts,
    resample_counts,
)
from harness.rubric.checks_format import count_sentences
from harness.rubric.text import sentences
from harness.run.client import Result
from harness.run.generate import WorkItem, to_generation
from harness.run.perf.loadgen import timing
from harness.store import sha256_file

# ---------------------------------------------------------------- percentile bootstrap


def test_bootstrap_percentiles_of_two_equal_questions() -> None:
    # Two questions scoring 0 and 1, equal weights: a resample of two draws has mean 0, 0.5
    # or 1 with probability 1/4, 1/2, 1/4. The 30th and 70th percentiles (level 0.4) both
    # fall inside the middle half, so both bounds are 0.5; at level 0.95 the 2.5th and
    # 97.5th percentiles are the extremes 0 and 1.
    values, weights = np.array([0.0, 1.0]), np.array([1.0, 1.0])
    (middle,) = percentile_bootstrap(values, weights, bootstrap_draws(2, 4000, 0), level=0.4)
    assert (middle.low, middle.high) == (0.5, 0.5)
    (wide,) = percentile_bootstrap(values, weights, bootstrap_draws(2, 4000, 0))
    assert (wide.low, wide.high) == (0.0, 1.0)


def test_bootstrap_weights_count_per_draw() -> None:
    # Weights 3 and 1; each draw picks a question with probability 1/2 (weights do not
    # change the draws, only the mean of what was drawn). Both draws of question 0 give 0
    # (p = 1/4), one of each gives (3 * 0 + 1 * 1) / (3 + 1) = 0.25 (p = 1/2), both of
    # question 1 give 1 (p = 1/4). The 30th and 70th percentiles (level 0.4) fall in the
    # middle half: 0.25, where equal weights would give 0.5.
    (b,) = percentile_bootstrap(np.array([0.0, 1.0]), np.array([3.0, 1.0]), bootstrap_draws(2, 4000, 1), level=0.4)
    assert (b.low, b.high) == (0.25, 0.25)


def test_bootstrap_columns_share_draws_which_are_the_seeds_first() -> None:
    # A column that is twice another has, draw for draw, twice its mean, so twice its bounds
    # (when the two are resampled with the same rows). The draws are the first
    # integers(0, n, (resamples, n)) of default_rng(seed), so a paired test that draws its
    # sign flips next from the same generator continues from where they leave it.
    x = np.random.default_rng(7).random(9)
    a, b = percentile_bootstrap(np.column_stack([x, 2 * x]), np.ones(9), bootstrap_draws(9, 300, 3))
    assert (b.low, b.high) == pytest.approx((2 * a.low, 2 * a.high))
    assert np.array_equal(bootstrap_draws(9, 300, 3), np.random.default_rng(3).integers(0, 9, size=(300, 9)))


def test_bootstrap_by_counts_equals_explicit_resampling() -> None:
    # The plain definition: resample r takes rows draws[r] (with repeats), its statistic is
    # sum(v[rows] * w[rows]) / sum(w[rows]); the bounds are numpy's linear percentiles of those.
    # The count-matrix product adds the same terms in another order: equal to within rounding
    # (1e-12 is thousands of times the float64 error of a 500-term sum of values in [0, 3]).
    rng = np.random.default_rng(11)
    values = np.column_stack([rng.random(500), rng.integers(0, 2, 500).astype(float), 3 * rng.random(500)])
    weights = rng.choice([0.5, 1.0, 2.0], 500)
    draws = bootstrap_draws(500, 700, 5)
    bounds = percentile_bootstrap(values, weights, draws, level=0.9)
    for j, b in enumerate(bounds):
        boot = [(values[rows, j] * weights[rows]).sum() / weights[rows].sum() for rows in draws]
        low, high = np.percentile(boot, [5, 95])
        assert abs(b.low - low) < 1e-12 and abs(b.high - high) < 1e-12
    # The roll-up's cached counts are those of the same draws: the same bounds, to the last digit.
    cached = percentile_bootstrap_counts(values, weights, bootstrap_counts(500, 700, 5), level=0.9)
    assert [(b.low, b.high) for b in cached] == [(b.low, b.high) for b in bounds]


def test_resample_counts_count_each_row_per_resample() -> None:
    # Resample 0 draws rows 2, 2, 0: row 0 once, row 2 twice; resample 1 draws 1, 1, 1.
    counts = resample_counts(np.array([[2, 2, 0], [1, 1, 1]]))
    assert counts.tolist() == [[1.0, 0.0, 2.0], [0.0, 3.0, 0.0]]


def test_bootstrap_refuses_one_question() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        percentile_bootstrap(np.array([1.0]), np.array([1.0]), np.zeros((10, 1), dtype=int))


# ---------------------------------------------------------------- file hash


def test_sha256_file_matches_the_fips_test_vectors(tmp_path: Path) -> None:
    # FIPS 180-2 examples: "abc", and one million "a" (several read chunks).
    (tmp_path / "abc").write_bytes(b"abc")
    (tmp_path / "million").write_bytes(b"a" * 1_000_000)
    assert sha256_file(tmp_path / "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert sha256_file(tmp_path / "million") == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"


# ---------------------------------------------------------------- language tags and context labels


@pytest.mark.parametrize(("tag", "primary"), [("zh", "zh"), ("zh-Hans-CN", "zh"), ("ZH-TW", "zh"), ("en-GB", "en"),
                                              ("ja", "ja")])  # fmt: skip
def test_primary_language(tag: str, primary: str) -> None:
    assert primary_language(tag) == primary


def test_one_table_owns_both_context_labels_and_the_prompts_keep_their_text() -> None:
    # The set's shared context and the retrieved passages had two labels in two modules;
    # the candidates' prompts must read exactly as before the table took both over.
    qs = QuestionSet(id="s", title="t", language="zh-CN", context="加班按1.5倍计。",
                     questions=[Question(id="q", category="c", question="周末加班怎么算？")])  # fmt: skip
    assert (
        user_text(qs, qs.questions[0])
        == "请根据以下资料回答问题。\n\n【资料】\n加班按1.5倍计。\n\n问题：周末加班怎么算？"
    )
    passage = Passage(id="d#1", doc="d.md", heading=None, text="周末加班按2倍计。")
    assert render_context([passage], "zh-CN") == "参考资料：\n[1] 周末加班按2倍计。"
    assert render_context([passage], "fr") == "Reference material:\n[1] 周末加班按2倍计。"  # any other: English
    assert wording("de").context_label == wording("en").retrieved_label == "Reference material:"


# ---------------------------------------------------------------- sentences


def test_sentences_keep_their_ends_and_concatenate_back() -> None:
    text = "他说：“好。”然后走了！Pay 1.5 times. e.g\n2. Next"
    pieces = sentences(text)
    assert "".join(pieces) == text
    # after 。 the closing ” stays with its sentence; "1.5" is no end; ". " ends before the space
    assert pieces == ["他说：“好。”", "然后走了！", "Pay 1.5 times.", " e.g\n", "2.", " Next"]


def test_count_sentences_and_passage_chunks_share_the_splitter() -> None:
    # Of the six pieces above, "2." holds no letter (a list number): five sentences; the
    # abbreviation "e.g." does not end one, so "e.g. this" stays a single sentence.
    assert count_sentences("他说：“好。”然后走了！Pay 1.5 times. e.g\n2. Next") == 5
    assert count_sentences("Use e.g. this one. Then stop.") == 2


# ---------------------------------------------------------------- one timing shape


def test_every_request_carries_the_one_timing_shape() -> None:
    # The client's Result is a RequestTiming; Generation declares the same fields (in its own
    # order, for its JSON keys) with the same types and defaults, so neither can drift.
    assert issubclass(Result, RequestTiming)
    for name, spec in RequestTiming.model_fields.items():
        mine = Generation.model_fields[name]
        assert (mine.annotation, mine.get_default(call_default_factory=True)) == (
            spec.annotation, spec.get_default(call_default_factory=True)), name  # fmt: skip


def test_a_result_becomes_a_generation_and_a_sweep_timing_with_the_same_figures() -> None:
    r = Result(text="5天。", ttft_ms=12.5, e2e_ms=40.0, itl_ms=[10.0, 17.5], prompt_tokens=30, output_tokens=3,
               output_tokens_source="server", started_at=1.0, attempts=1)  # fmt: skip
    q = Question(id="q1", category="c", question="?")
    g = to_generation(WorkItem("c/s/q1/0", "c", QuestionSet(id="s", title="t", language="zh", questions=[q]), q, 0, 0),
                      "chat", r)  # fmt: skip
    expected = {"ttft_ms": 12.5, "e2e_ms": 40.0, "itl_ms": [10.0, 17.5], "prompt_tokens": 30, "output_tokens": 3,
                "error": None, "output_tokens_source": "server"}  # fmt: skip
    assert timing_fields(g) == timing_fields(r) == expected
    level = LoadLevel(candidate="c", level_id="c1", kind="concurrency", value=1, started_at=0, wall_s=1,
                      requests=[timing(r)])  # fmt: skip
    assert level.model_dump()["requests"] == [expected]  # the sweep's record holds the timings only
