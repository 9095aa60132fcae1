"""A client's figures against the known truth of :mod:`harness_bench.truth_server` (pure).

A client reports, per request, its start (``time.perf_counter`` s), TTFT and the ITL gaps
(ms) and the text it received; the server reports, per request, its arrival, the
scheduled and the real send time of every chunk, on the same clock. The client's
reception of chunk ``k`` is ``start + TTFT + sum(ITL[:k])``; its *lag* is that minus the
chunk's real send time (the time a chunk sat in buffers or waited for the client's loop).
The server's own *lateness* (real send minus schedule) is reported apart, so a slow server
is not blamed on the client: a client's TTFT/ITL *error* is its percentile minus the same
percentile of what the server really did (first real send minus arrival; gaps between real
sends) for the requests it answered; the error against the configured values is kept beside
it. Requests are matched by the ``<rid>`` the first chunk carries.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from harness.timing import percentile
from harness_bench.truth_server import Timing

if TYPE_CHECKING:
    from harness.run.perf.loadgen import Level

RID = re.compile(r"<(\d+)>")


@dataclass(frozen=True)
class Answer:
    """What a client measured for one request (ms; ``start_s`` on ``time.perf_counter``)."""

    start_s: float
    ttft_ms: float | None
    itl_ms: Sequence[float]
    text: str
    output_tokens: int | None
    ok: bool = True


@dataclass(frozen=True)
class ServedRecord:
    """The truth server's record of one request (perf_counter s)."""

    rid: int
    arrival: float
    scheduled: Sequence[float]
    sent: Sequence[float]


@dataclass
class Figures:
    """One tool at one level against the truth; times in ms, throughput in output tokens/s."""

    tool: str
    level_id: str
    requests: int
    completed: int
    out_tok_per_s: float
    ideal_tok_per_s: float
    share_of_ideal: float
    ttft_ms: dict[str, float | None] = field(default_factory=dict)
    itl_ms: dict[str, float | None] = field(default_factory=dict)
    ttft_err_ms: dict[str, float | None] = field(default_factory=dict)
    """Measured minus the server's real TTFT (first real send minus arrival), percentile by percentile."""
    itl_err_ms: dict[str, float | None] = field(default_factory=dict)
    """Measured minus the server's real gaps between sends, percentile by percentile."""
    ttft_nominal_err_ms: dict[str, float | None] = field(default_factory=dict)
    """Measured minus the configured TTFT (includes the server's own lateness)."""
    itl_nominal_err_ms: dict[str, float | None] = field(default_factory=dict)
    lag_ms: dict[str, float | None] = field(default_factory=dict)
    """Client reception minus the chunk's real send time, over every matched chunk."""
    server_late_ms: dict[str, float | None] = field(default_factory=dict)
    """Real send minus scheduled send, over every chunk the server sent."""
    send_delay_ms: dict[str, float | None] = field(default_factory=dict)
    """Server arrival minus the client's start: the time the request took to get out."""
    matched: int = 0


def _pcts(values: Sequence[float], ps: Sequence[int] = (50, 99)) -> dict[str, float | None]:
    return {f"p{p}": percentile(values, p) for p in ps}


def _minus(a: dict[str, float | None], b: dict[str, float | None]) -> dict[str, float | None]:
    return {k: (v - w if v is not None and (w := b.get(k)) is not None else None) for k, v in a.items()}


def ideal_tok_per_s(kind: str, value: float, requests: int, t: Timing) -> float:
    """Output tok/s of a client with no overhead against a server exactly on schedule.

    Concurrency ``c``: ``ceil(N/c)`` waves of one request's duration ``TTFT + (n-1) ITL``.
    Rate ``r`` (Poisson): the expected span of the arrivals, ``(N-1)/r``, plus one duration.
    """
    duration_s = (t.ttft_ms + (t.tokens - 1) * t.itl_ms) / 1000
    wall = math.ceil(requests / value) * duration_s if kind == "concurrency" else (requests - 1) / value + duration_s
    return requests * t.tokens / wall


def chunk_lags_ms(answer: Answer, served: ServedRecord) -> list[float]:
    """Per chunk: the client's reception minus the real send time (ms); as many as both have."""
    if answer.ttft_ms is None:
        return []
    received = answer.start_s * 1000 + answer.ttft_ms + np.concatenate([[0.0], np.cumsum(answer.itl_ms)])
    n = min(len(received), len(served.sent))
    return (received[:n] - np.asarray(served.sent[:n]) * 1000).tolist()


def figures(tool: str, level: Level, answers: Sequence[Answer], served: Sequence[ServedRecord], wall_s: float,
            truth: Timing) -> Figures:  # fmt: skip
    """The figures of one tool's run of one level (``wall_s``: first send to last answer)."""
    by_rid = {s.rid: s for s in served}
    ok = [a for a in answers if a.ok and a.ttft_ms is not None]
    lags: list[float] = []
    delays: list[float] = []
    real_ttft: list[float] = []
    real_itl: list[float] = []
    matched = 0
    for a in ok:
        m = RID.search(a.text)
        s = by_rid.get(int(m.group(1))) if m else None
        if s is None:
            continue
        matched += 1
        lags += chunk_lags_ms(a, s)
        delays.append((s.arrival - a.start_s) * 1000)
        if s.sent:
            real_ttft.append((s.sent[0] - s.arrival) * 1000)
            real_itl += (np.diff(np.asarray(s.sent)) * 1000).tolist()
    late = [(x - y) * 1000 for s in served for x, y in zip(s.sent, s.scheduled, strict=False)]
    ttfts = [a.ttft_ms for a in ok if a.ttft_ms is not None]
    itls = [x for a in ok for x in a.itl_ms]
    tokens = sum(a.output_tokens or 0 for a in ok)
    out = tokens / wall_s if wall_s > 0 else 0.0
    ideal = ideal_tok_per_s(level.kind, level.value, len(answers), truth)
    ttft, itl = _pcts(ttfts), _pcts(itls)
    rttft, ritl = _pcts(real_ttft), _pcts(real_itl)
    return Figures(
        tool=tool, level_id=level.id, requests=len(answers), completed=len(ok), out_tok_per_s=out,
        ideal_tok_per_s=ideal, share_of_ideal=out / ideal, ttft_ms=ttft, itl_ms=itl,
        ttft_err_ms=_minus(ttft, rttft), itl_err_ms=_minus(itl, ritl),
        ttft_nominal_err_ms={k: (v - truth.ttft_ms if v is not None else None) for k, v in ttft.items()},
        itl_nominal_err_ms={k: (v - truth.itl_ms if v is not None else None) for k, v in itl.items()},
        lag_ms=_pcts(lags), server_late_ms=_pcts(late), send_delay_ms=_pcts(delays), matched=matched,
    )  # fmt: skip


LAG_BOUND_MS = {"p50": 1.0, "p99": 5.0}
"""The client lag a load generator must stay within (issue 20: p50 <= 1 ms, p99 <= 5 ms)."""
ON_TIME_MS = 5.0
"""The fake server kept its schedule at a level when its lateness p99 is at most this (ms)."""
TOLERANCE_MS = 0.1
"""Errors closer than this (ms) count as equal: below the scheduler's noise on one machine."""
SHARE_TOLERANCE = 0.005
"""Throughput shares of the ideal closer than this count as equal."""

COMPARED = (("ttft_err_ms", "p50"), ("ttft_err_ms", "p99"), ("itl_err_ms", "p50"), ("itl_err_ms", "p99"))


@dataclass(frozen=True)
class Verdict:
    """One level over its rounds: is ``tool`` at least as close to the truth as ``reference``?

    Each figure is the median over the rounds of each tool. ``no_worse`` maps a figure
    (``ttft_err_ms.p50`` …, ``share_of_ideal``) to True when the tool's absolute error is
    no larger than the reference's (within :data:`TOLERANCE_MS`, :data:`SHARE_TOLERANCE`).
    """

    level_id: str
    rounds: int
    chunks_per_s: float
    """The ideal chunk rate of the level (one token per chunk: the ideal output tok/s)."""
    no_worse: dict[str, bool]
    lag_ms: dict[str, float | None]
    lag_within_bound: bool
    server_late_p99_ms: float | None
    server_on_time: bool

    @property
    def all_no_worse(self) -> bool:
        return all(self.no_worse.values())


def _median(values: Sequence[float | None]) -> float | None:
    vs = [v for v in values if v is not None]
    return float(np.median(vs)) if vs else None


def verdicts(rows: Sequence[Figures], tool: str = "harness", reference: str = "vllm") -> list[Verdict]:
    """Per level (in first-seen order) the verdict of ``tool`` against ``reference`` over the rounds in ``rows``.

    A level missing either tool is left out. Lag and server lateness are ``tool``'s runs'
    medians; the server is on time when the median over both tools' runs of its lateness
    p99 is at most :data:`ON_TIME_MS`.
    """
    out = []
    for level_id in dict.fromkeys(r.level_id for r in rows):
        mine = [r for r in rows if r.level_id == level_id and r.tool == tool]
        ref = [r for r in rows if r.level_id == level_id and r.tool == reference]
        if not mine or not ref:
            continue
        no_worse = {}
        for name, p in COMPARED:
            a = _median([getattr(r, name).get(p) for r in mine])
            b = _median([getattr(r, name).get(p) for r in ref])
            no_worse[f"{name}.{p}"] = a is not None and (b is None or abs(a) <= abs(b) + TOLERANCE_MS)
        share_a = _median([r.share_of_ideal for r in mine]) or 0.0
        share_b = _median([r.share_of_ideal for r in ref]) or 0.0
        no_worse["share_of_ideal"] = abs(1 - share_a) <= abs(1 - share_b) + SHARE_TOLERANCE
        lag = {p: _median([r.lag_ms.get(p) for r in mine]) for p in LAG_BOUND_MS}
        within = all(v is not None and v <= LAG_BOUND_MS[p] for p, v in lag.items())
        late = _median([r.server_late_ms.get("p99") for r in mine + ref])
        out.append(Verdict(level_id, len(mine), mine[0].ideal_tok_per_s, no_worse, lag, within, late,
                           late is not None and late <= ON_TIME_MS))  # fmt: skip
    return out
