"""One timing shape (RequestTiming) for the client's result, the recorded answer and the sweep's request."""

from __future__ import annotations

from harness.records import Generation, LoadLevel, Question, QuestionSet, RequestTiming, timing_fields
from harness.run.generate import WorkItem, to_generation
from harness.run.perf.loadgen import timing
from harness.server.client import Result


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
