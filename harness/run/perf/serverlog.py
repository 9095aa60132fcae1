"""Facts a vLLM server states in its log at start-up: weight memory, load time, KV cache capacity.

Pure parsers over the log text, for both builds. The wording is vLLM's own
(checked against 0.32.0's source and a real CPU-build log; older wordings are
kept where they differ):

- GPU build, model runner: ``Model loading took 0.25 GiB memory and 1.913 seconds``
  (0.6-0.11: ``Model loading took 0.2512 GiB and 1.913 seconds``; v0 before 0.6:
  ``Loading model weights took 0.2512 GB``, a GiB value despite the unit).
  The CPU build's model runner does not log weight memory at all.
- Both builds, weight loader: ``Loading weights took 1.76 seconds`` and
  ``Checkpoint size: 0.25 GiB`` (size on disk, not memory).
- KV cache memory: ``Available KV cache memory: 60.5 GiB`` (GPU);
  ``Explicitly set (1.0/19.09) GiB for KV cache on node 0.`` or ``Auto set (...)`` (CPU).
- KV capacity, one line since 0.2x: ``CPU KV cache size: 46,592 tokens, Maximum concurrency
  for 2,048 tokens per request: 22.75x`` (``GPU ...`` on CUDA); earlier two lines,
  ``GPU KV cache size: 46,592 tokens`` and ``Maximum concurrency for 2,048 tokens per request: 22.75x``.
- Periodic stats: ``Engine 000: ... Running: 8 reqs, Waiting: 0 reqs, CPU KV cache usage: 4.4%, ...``.

The harness appends every start of a candidate's server to one log, so only the
last start in the text is read.
"""

from __future__ import annotations

import re
from pathlib import Path

from harness.perf_records import ServerLogFacts

_START = re.compile(r"non-default args:|vLLM API server version")
_PROC = re.compile(r"^\((?P<proc>[^)]*?)\s+pid=(?P<pid>\d+)\)")
_VERSION = re.compile(r"(?:version|LLM engine \(v)\s*(?P<v>\d+\.\d+\.\d+[\w.+-]*)")
_MODEL_LOADING = re.compile(r"Model loading took (?P<gib>[\d.]+) GiB(?: memory)? and (?P<s>[\d.]+) seconds")
_MODEL_WEIGHTS_V0 = re.compile(r"Loading model weights took (?P<gib>[\d.]+) GB")
_LOADING_WEIGHTS = re.compile(r"Loading weights took (?P<s>[\d.]+) seconds")
_CHECKPOINT = re.compile(r"Checkpoint size: (?P<gib>[\d.]+) GiB")
_KV_MEMORY = re.compile(
    r"Available KV cache memory: (?P<gib>[\d.]+) GiB"
    r"|(?:Explicitly|Auto) set \((?P<cpu_gib>[\d.]+)/[\d.]+\) GiB for KV cache"
    r"|reserved (?P<res_gib>[\d.]+) GiB memory for KV Cache"
)
_KV_SIZE = re.compile(r"(?P<dev>\b[A-Z]+(?: \+ host)?) KV cache size: (?P<tokens>[\d,]+) tokens")
_MAX_CONCURRENCY = re.compile(r"Maximum concurrency for (?P<len>[\d,]+) tokens per request: (?P<x>[\d.]+)x")
_STATS = re.compile(r"Running: (?P<run>\d+) reqs, Waiting: (?P<wait>\d+) reqs.*?\bKV cache usage: (?P<pct>[\d.]+)%")


def _num(s: str) -> float:
    return float(s.replace(",", ""))


def last_start(text: str) -> str:
    """The part of a log from the last server start on (all of it when no start line is found)."""
    starts = [m.start() for m in _START.finditer(text)]
    if not starts:
        return text
    begin = text.rfind("\n", 0, starts[-1]) + 1
    return text[begin:]


def _per_process(lines: list[str], pattern: re.Pattern[str]) -> list[re.Match[str]]:
    """First match per logging process (workers log once each; lines without a pid count on their own)."""
    seen: set[str] = set()
    out = []
    for i, line in enumerate(lines):
        m = pattern.search(line)
        if m is None:
            continue
        p = _PROC.match(line)
        key = p["pid"] if p else f"line {i}"
        if key not in seen:
            seen.add(key)
            out.append(m)
    return out


def parse_server_log(text: str) -> ServerLogFacts:
    """Facts from the last server start in a vLLM server log (pure)."""
    seg = last_start(text)
    lines = seg.splitlines()

    def first(pattern: re.Pattern[str]) -> re.Match[str] | None:
        return next((m for ln in lines if (m := pattern.search(ln))), None)

    loading = _per_process(lines, _MODEL_LOADING) or _per_process(lines, _MODEL_WEIGHTS_V0)
    weights = sum(float(m["gib"]) for m in loading) if loading else None
    times = [float(m["s"]) for m in loading if "s" in m.groupdict()] or [
        float(m["s"]) for m in _per_process(lines, _LOADING_WEIGHTS)
    ]
    versions = _VERSION.findall(seg) or _VERSION.findall(text)
    kv_mem, kv_size, conc, ckpt = first(_KV_MEMORY), first(_KV_SIZE), first(_MAX_CONCURRENCY), first(_CHECKPOINT)
    stats = [m for ln in lines if (m := _STATS.search(ln))]
    return ServerLogFacts(
        vllm_version=versions[-1] if versions else None,
        weights_gib=weights,
        load_s=max(times) if times else None,
        checkpoint_gib=float(ckpt["gib"]) if ckpt else None,
        kv_cache_gib=float(next(g for g in kv_mem.groups() if g is not None)) if kv_mem else None,
        kv_cache_device=kv_size["dev"] if kv_size else None,
        kv_cache_tokens=int(_num(kv_size["tokens"])) if kv_size else None,
        max_concurrency=float(conc["x"]) if conc else None,
        max_concurrency_len=int(_num(conc["len"])) if conc else None,
        peak_kv_cache_usage_pct=max(float(m["pct"]) for m in stats) if stats else None,
        peak_requests_running=max(int(m["run"]) for m in stats) if stats else None,
        peak_requests_waiting=max(int(m["wait"]) for m in stats) if stats else None,
    )


def read_server_log(path: Path) -> ServerLogFacts:
    """Facts from a server log file; an unreadable or missing file gives a record of Nones."""
    try:
        return parse_server_log(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return ServerLogFacts()
