"""vLLM's Prometheus ``/metrics``: a pure parser and a poller for the generation phase.

``prometheus_client``'s parser reads the text exposition format; the harness picks
the few series it needs. Counters and request counts are summed over label sets (one per engine
and model name, several under data parallelism); KV cache usage is averaged over
them, since each engine reports the fraction of its own cache. vLLM before v0.10
named the usage ``vllm:gpu_cache_usage_perc``; the newer name wins when both appear.

``/metrics`` is not behind vLLM's API key (its middleware guards only ``/v1``,
``/v2``, ``/inference`` and ``/cohere``; checked on 0.32.0), but the poller sends
the key anyway, as a proxy in front of a shared endpoint may ask for it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from pydantic import BaseModel

from harness.perf_records import MetricsSummary
from harness.run.perf.periodic import Periodic
from harness.server.model_server import ModelServer, ScrapeError

KV_USAGE = "vllm:kv_cache_usage_perc"
KV_USAGE_OLD = "vllm:gpu_cache_usage_perc"
RUNNING = "vllm:num_requests_running"
WAITING = "vllm:num_requests_waiting"
PROMPT_TOKENS = "vllm:prompt_tokens_total"
GENERATION_TOKENS = "vllm:generation_tokens_total"
CACHE_CONFIG = "vllm:cache_config_info"

Series = list[tuple[dict[str, str], float]]


def parse_prometheus(text: str) -> dict[str, Series]:
    """Every sample of a Prometheus text exposition, by exact sample name (pure).

    ``prometheus_client``'s parser reads it (escapes, ``NaN``/``+Inf``, timestamps). It
    refuses a whole text for one line it cannot read; then each line is read alone and
    the unreadable ones are skipped, so one odd line from a proxy or a newer server does
    not blank the scrape. Comment lines (``# HELP``, ``# TYPE``) carry no samples.
    """
    out: dict[str, Series] = {}
    try:
        samples = [s for fam in text_string_to_metric_families(text) for s in fam.samples]
    except ValueError:
        samples = [s for line in text.splitlines() for s in _line_samples(line)]
    for s in samples:
        out.setdefault(s.name, []).append((dict(s.labels), float(s.value)))
    return out


def _line_samples(line: str) -> list[Sample]:
    """The samples of one exposition line read alone; none when it is not a sample line."""
    if not line.strip() or line.lstrip().startswith("#"):
        return []
    try:
        return [s for fam in text_string_to_metric_families(line + "\n") for s in fam.samples]
    except ValueError:
        return []


class VllmMetrics(BaseModel):
    """One scrape of ``/metrics``; None for a series the server did not expose."""

    kv_cache_usage_frac: float | None = None
    """KV cache in use, 0..1 (``vllm:kv_cache_usage_perc``, despite its name a fraction)."""
    num_requests_running: int | None = None
    num_requests_waiting: int | None = None
    prompt_tokens_total: float | None = None
    """Counter since server start."""
    generation_tokens_total: float | None = None
    """Counter since server start."""
    kv_cache_size_tokens: int | None = None
    """From ``vllm:cache_config_info`` labels, where the version exposes them."""
    kv_cache_max_concurrency: float | None = None
    """From ``vllm:cache_config_info``: requests of max model length the KV cache holds at once."""
    num_gpu_blocks: int | None = None
    """From ``vllm:cache_config_info`` (the CPU build reports its cache blocks here too)."""
    block_size: int | None = None


def _sum(series: Series | None) -> float | None:
    vals = [v for _, v in series or [] if not math.isnan(v)]
    return sum(vals) if vals else None


def _mean(series: Series | None) -> float | None:
    vals = [v for _, v in series or [] if not math.isnan(v)]
    return sum(vals) / len(vals) if vals else None


def _int(v: float | str | None) -> int | None:
    try:
        return int(float(v)) if v is not None else None
    except ValueError:  # "None" in an info label
        return None


def _float(v: str | None) -> float | None:
    try:
        return float(v) if v is not None else None
    except ValueError:
        return None


def parse_vllm_metrics(text: str) -> VllmMetrics:
    """The series the harness needs from one ``/metrics`` text (pure)."""
    series = parse_prometheus(text)
    usage = _mean(series.get(KV_USAGE)) if KV_USAGE in series else _mean(series.get(KV_USAGE_OLD))
    info = series.get(CACHE_CONFIG, [({}, 0.0)])[0][0]
    return VllmMetrics(
        kv_cache_usage_frac=usage,
        num_requests_running=_int(_sum(series.get(RUNNING))),
        num_requests_waiting=_int(_sum(series.get(WAITING))),
        prompt_tokens_total=_sum(series.get(PROMPT_TOKENS)),
        generation_tokens_total=_sum(series.get(GENERATION_TOKENS)),
        kv_cache_size_tokens=_int(info.get("kv_cache_size_tokens")),
        kv_cache_max_concurrency=_float(info.get("kv_cache_max_concurrency")),
        num_gpu_blocks=_int(info.get("num_gpu_blocks")),
        block_size=_int(info.get("block_size")),
    )


@dataclass(frozen=True, slots=True)
class Scrape:
    t_s: float
    """Seconds since the poller started."""
    metrics: VllmMetrics | None
    error: str | None = None


def _peak(values: Sequence[float | int | None]) -> float | int | None:
    vals = [v for v in values if v is not None]
    return max(vals) if vals else None


def summarize_metrics(scrapes: Sequence[Scrape]) -> MetricsSummary:
    """Peaks and counter growth over a phase's scrapes (pure)."""
    ok = [s.metrics for s in scrapes if s.metrics is not None]
    errors = [s.error for s in scrapes if s.error]

    def growth(name: str) -> float | None:
        vals = [getattr(m, name) for m in ok if getattr(m, name) is not None]
        return vals[-1] - vals[0] if vals else None

    running, waiting = _peak([m.num_requests_running for m in ok]), _peak([m.num_requests_waiting for m in ok])
    return MetricsSummary(
        scrapes=len(scrapes),
        failed_scrapes=len(errors),
        last_error=errors[-1] if errors else None,
        duration_s=scrapes[-1].t_s - scrapes[0].t_s if scrapes else 0.0,
        peak_kv_cache_usage_frac=_peak([m.kv_cache_usage_frac for m in ok]),
        peak_requests_running=int(running) if running is not None else None,
        peak_requests_waiting=int(waiting) if waiting is not None else None,
        prompt_tokens=growth("prompt_tokens_total"),
        generation_tokens=growth("generation_tokens_total"),
        kv_cache_size_tokens=next((m.kv_cache_size_tokens for m in ok if m.kv_cache_size_tokens), None),
        kv_cache_max_concurrency=next((m.kv_cache_max_concurrency for m in ok if m.kv_cache_max_concurrency), None),
    )


class MetricsPoller(Periodic):
    """Scrapes ``server``'s ``/metrics`` (:attr:`~harness.server.model_server.ModelServer.metrics_url`) every
    ``interval_s`` in a thread while the ``with`` block runs.

    A scrape is taken on entry and on exit too, so counter growth covers the whole phase.
    """

    thread_name = "metrics-poller"

    def __init__(self, server: ModelServer, interval_s: float = 1.0, timeout_s: float = 5.0) -> None:
        super().__init__(interval_s)
        self.url = server.metrics_url
        self._reader = server.metrics_reader(timeout_s)
        self._scrapes: list[Scrape] = []

    @property
    def scrapes(self) -> list[Scrape]:
        with self._lock:
            return list(self._scrapes)

    def scrape_once(self) -> Scrape:
        t = self._elapsed_s()
        try:
            s = Scrape(t_s=t, metrics=parse_vllm_metrics(self._reader.text()))
        except ScrapeError as exc:
            s = Scrape(t_s=t, metrics=None, error=str(exc))
        with self._lock:
            self._scrapes.append(s)
        return s

    def take(self) -> Scrape:
        return self.scrape_once()

    def _close(self) -> None:
        self._reader.close()

    def summary(self) -> MetricsSummary:
        return summarize_metrics(self.scrapes)
