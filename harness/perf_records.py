"""The perf records: what a candidate's server needed and used, and its SLO capacity (data shapes only).

Foundation, so the run stage writes them and the roll-up and report read them without
importing each other. The measuring code that fills them lives in the run stage
(``harness/run/perf/``: :mod:`~harness.run.perf.nvml` the memory summary,
:mod:`~harness.run.perf.metrics` the ``/metrics`` summary, :mod:`~harness.run.perf.serverlog`
the server log's facts, :mod:`~harness.run.perf.capacity_run` the capacity search); the
roll-up merges a run's sessions (:mod:`harness.rollup.sessions`).

``perf.jsonl`` holds one :class:`PerfRecord` per candidate per server session,
``capacity.jsonl`` one :class:`CapacityRecord` per searched candidate; both are read and
written through :class:`harness.rundir.RunDir`. Field names are the JSON keys of those files:
keep them, and their order, stable (older runs are read by the same names; a record of an
older shape is brought up to date in :mod:`harness.schema`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from harness.records import SCHEMA_VERSION, LevelCalls, Slo


class GpuSummary(BaseModel):
    """One GPU over a sampled phase (NVML)."""

    index: int
    """NVML device index."""
    name: str
    total_gib: float | None
    peak_used_gib: float | None
    """Device memory in use, by every process on the GPU (NVML does not split it by process)."""
    mean_util_pct: float | None
    mean_power_w: float | None
    energy_j: float | None
    """Power integrated over the samples (trapezoid rule); None when power was never readable."""


class MemorySummary(BaseModel):
    """A server session's memory, power and energy: NVML per GPU, or the server process tree's host memory."""

    schema_version: int = SCHEMA_VERSION
    source: Literal["nvml", "host"]
    """``nvml``: GPU figures are measured; ``host``: only the server's host memory is."""
    duration_s: float
    """From the first to the last sample."""
    samples: int
    gpus: list[GpuSummary] = []
    total_gib: float | None = None
    """Sum of the GPUs' memory sizes."""
    peak_used_gib: float | None = None
    """Highest sum of used memory over the GPUs at one sample."""
    mean_power_w: float | None = None
    """Sum of the GPUs' mean power."""
    energy_j: float | None = None
    """Sum of the GPUs' energy."""
    peak_rss_gib: float | None = None
    """Peak resident memory of the server process trees (shared pages count once per process)."""
    mean_rss_gib: float | None = None
    note: str | None = None
    """Why host memory was measured instead of NVML."""
    errors: list[str] = []
    """Readings that failed, each once (e.g. ``GPU 0 power: Not Supported``)."""
    sessions_not_merged: int = Field(default=0, exclude=True)
    """Merged records only (:func:`harness.rollup.sessions.merge_sessions`): sessions measured another
    way than the latest, left out of the merge. Never written."""


class MetricsSummary(BaseModel):
    """Peaks and counter growth of vLLM's ``/metrics`` over a server session's scrapes."""

    schema_version: int = SCHEMA_VERSION
    scrapes: int
    failed_scrapes: int = 0
    last_error: str | None = None
    duration_s: float = 0.0
    peak_kv_cache_usage_frac: float | None = None
    """Highest KV cache usage scraped, 0..1."""
    peak_requests_running: int | None = None
    peak_requests_waiting: int | None = None
    prompt_tokens: float | None = None
    """Counter growth from the first to the last scrape: the phase's prompt tokens."""
    generation_tokens: float | None = None
    kv_cache_size_tokens: int | None = None
    kv_cache_max_concurrency: float | None = None


class ServerLogFacts(BaseModel):
    """What one server start stated in its log; None for what its log does not say (every field None
    when there was no log)."""

    vllm_version: str | None = None
    weights_gib: float | None = None
    """Device memory taken by the weights, summed over workers (one per GPU); GPU build only."""
    load_s: float | None = None
    """Model loading time (longest worker): "Model loading took" (GPU) else "Loading weights took" (CPU)."""
    checkpoint_gib: float | None = None
    """Size of the checkpoint files on disk: a proxy for weight memory where it is not logged."""
    kv_cache_gib: float | None = None
    """Memory given to the KV cache (per worker)."""
    kv_cache_device: str | None = None
    """``GPU``, ``CPU``, ``XPU``... as vLLM names the KV cache pool."""
    kv_cache_tokens: int | None = None
    """Tokens the KV cache holds (one engine)."""
    max_concurrency: float | None = None
    """Requests of ``max_concurrency_len`` tokens the KV cache holds at once."""
    max_concurrency_len: int | None = None
    """Tokens per request in that statement: the max model length."""
    peak_kv_cache_usage_pct: float | None = None
    """Highest KV cache usage in the periodic stats lines (they come every 10 s, so short peaks are missed)."""
    peak_requests_running: int | None = None
    peak_requests_waiting: int | None = None


class PerfRecord(BaseModel):
    """What one candidate's server needed and used in one session (perf.jsonl)."""

    schema_version: int = SCHEMA_VERSION
    candidate: str
    started_at: float
    memory: MemorySummary | None = None
    """Sampler summary: NVML per GPU, or the server process tree's host memory; None: not measured."""
    metrics: MetricsSummary | None = None
    """Peaks read from the server's /metrics (KV cache usage, running requests); None: not measured."""
    server: ServerLogFacts = Field(default_factory=ServerLogFacts)
    """From the server log: weight memory, KV cache capacity (tokens), maximum concurrency."""


class CapacityPoint(BaseModel):
    """One probed point of an SLO capacity search, with one entry per repeated run in each list."""

    value: float
    """The load probed: concurrent requests, or requests/s (the record's ``kind``)."""
    met: list[bool]
    """Whether each run met the SLOs (a run cut short never does)."""
    goodput_req_per_s: list[float | None] = []
    """Each run's requests/s that met the SLOs."""
    out_tok_per_s: list[float | None] = []
    """Each run's output tokens/s."""
    order: int | None = None
    """1 for the first point probed (None in older records: they list points by value only)."""
    stopped: list[str | None] = []
    """Why each run was cut short, or None (empty in older records)."""
    calls: list[LevelCalls | None] = []
    """Each run's tool calls, graded (:class:`~harness.records.LevelCalls`; None: no request of the run was to a
    question that grades calls). Empty in older records and in a search of a plan without such questions."""


class CapacityRecord(BaseModel):
    """One candidate's SLO capacity found by the sweep's search (capacity.jsonl; harness/run/perf/capacity.py)."""

    schema_version: int = SCHEMA_VERSION
    candidate: str
    kind: Literal["concurrency", "rate"]
    estimate: float | None
    """The highest probed point most of whose runs met the SLOs; None when the first point failed."""
    lower: float | None
    """Highest point every run of which met the SLOs."""
    upper: float | None
    """Lowest point no run of which met the SLOs; None when the search reached its limit."""
    requests_per_s: float | None = None
    """Median over the estimate's runs of the requests/s that met the SLOs (goodput)."""
    out_tok_per_s: float | None = None
    """Median over the estimate's runs of the output tok/s."""
    points: list[CapacityPoint] = Field(default_factory=list)
    """Every probe, by value."""
    slo: Slo | None = None
    """The SLOs the runs were judged against (absent in older records: the plan's)."""
    call_accuracy: float | None = None
    """Call accuracy over the estimate's runs together (their right responses / their responses to questions
    with ``expect_call``); None without such responses (and in older records)."""
