"""make bench-report: roll-up and report of 20 models x 2,000 questions x 5 samples in < 15 s, < 1.5 GiB, page < 25 MB.

A synthetic run of that size (200,000 scored answers, ``harness_bench/synthetic_run.py``)
is written to a temporary folder, untimed. Then a fresh Python process runs
``harness.report.render.build_report`` on it, as ``harness report`` would: the
wall time of that whole process (interpreter start, imports, roll-up, HTML), its
peak resident memory and the size of the page it writes (``index.html``, one
self-contained file) are the figures judged against the targets. They are printed
and written to ``results/bench/report_scale.json``; the exit code is 1 when a
target is missed. The process's CPU seconds (user + system) are printed beside the
wall time: on a busy machine the wall time grows with the load, the CPU time hardly.

Measuring memory: the peak RSS comes from ``os.wait4`` for the report process
alone. Linux carries the parent's peak RSS into a child at ``exec`` (the
child's ``ru_maxrss`` starts at the parent's high-water mark), so this script
imports nothing heavy and generates the run in a child process of its own.

    .venv/bin/python scripts/bench_report.py                       # the full size
    .venv/bin/python scripts/bench_report.py --models 3 --questions 100 --samples 3
    .venv/bin/python scripts/bench_report.py --profile             # + the top cumulative entries (not judged)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SYNTHETIC = REPO / "scripts" / "synthetic_run.py"
RESULT = REPO / "results" / "bench" / "report_scale.json"
TARGET_WALL_S = 15.0
TARGET_RSS_GIB = 1.5
TARGET_PAGE_MB = 25.0
"""Targets (issue 19): wall seconds, peak RSS in GiB (2**30 bytes), index.html in MB (10**6 bytes)."""
KIB_PER_GIB = 1024**2

REPORT_CHILD = """
import cProfile, json, sys, time
t0 = time.perf_counter()
from pathlib import Path
from harness.report.render import build_report
t1 = time.perf_counter()
run_dir, out_dir, result, profile = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
if profile:
    prof = cProfile.Profile()
    index = prof.runcall(build_report, run_dir, out_dir)
    prof.dump_stats(profile)
else:
    index = build_report(run_dir, out_dir)
t2 = time.perf_counter()
with open(result, "w") as f:
    json.dump({"import_s": t1 - t0, "build_report_s": t2 - t1, "index": str(index)}, f)
"""
"""Runs in the measured process: imports and ``build_report`` timed apart, optionally under cProfile."""


def child_env() -> dict[str, str]:
    """The harness importable from the repository whatever the working directory."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def generate(run_dir: Path, args: argparse.Namespace) -> float:
    """Write the synthetic run in a child process (keeps this process small); return seconds taken."""
    started = time.perf_counter()
    cmd = [sys.executable, str(SYNTHETIC), str(run_dir), "--models", str(args.models),
           "--questions", str(args.questions), "--samples", str(args.samples), "--seed", str(args.seed)]  # fmt: skip
    subprocess.run(cmd, check=True, env=child_env(), cwd=REPO, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def run_report(run_dir: Path, out_dir: Path, work: Path, profile: Path | None) -> dict[str, Any]:
    """Run ``build_report`` in a fresh process; its wall time, CPU seconds and own peak RSS (from wait4)."""
    result = work / "child.json"
    cmd = [sys.executable, "-c", REPORT_CHILD, str(run_dir), str(out_dir), str(result), str(profile or "")]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=child_env(), cwd=REPO)
    _, status, usage = os.wait4(proc.pid, 0)
    wall_s = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: keep Popen from waiting again
    if proc.returncode != 0:
        raise RuntimeError(f"the report process failed with exit code {proc.returncode}")
    inner = json.loads(result.read_text(encoding="utf-8"))
    cpu_s = usage.ru_utime + usage.ru_stime
    return {"wall_s": wall_s, "cpu_s": cpu_s, "peak_rss_gib": usage.ru_maxrss / KIB_PER_GIB, **inner}


def cpu_model() -> str:
    """The CPU's model name as ``lscpu`` gives it, with its widest vector unit (``AMD EPYC, AVX-512``);
    from /proc/cpuinfo, the platform's processor elsewhere."""
    try:
        info = dict(
            line.split(":", 1) for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines() if ":" in line
        )
    except OSError:
        return platform.processor() or "unknown"
    name = info.get("model name\t", "").strip() or platform.processor() or "unknown"
    flags = info.get("flags\t\t", "").split()
    return name + (", AVX-512" if "avx512f" in flags else ", AVX2" if "avx2" in flags else "")


def dir_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def misses(figures: dict[str, Any]) -> list[str]:
    """The targets missed, in words: wall time, peak RSS and page size, each must stay below its target."""
    out = []
    if figures["wall_s"] >= TARGET_WALL_S:
        out.append(f"wall time {figures['wall_s']:.1f} s >= {TARGET_WALL_S:g} s")
    if figures["peak_rss_gib"] >= TARGET_RSS_GIB:
        out.append(f"peak RSS {figures['peak_rss_gib']:.2f} GiB >= {TARGET_RSS_GIB:g} GiB")
    if figures["index_html_mb"] >= TARGET_PAGE_MB:
        out.append(f"index.html {figures['index_html_mb']:.1f} MB >= {TARGET_PAGE_MB:g} MB")
    return out


def print_profile(path: Path, top: int) -> None:
    print(f"\ntop {top} by cumulative time (cProfile inflates the totals):")
    pstats.Stats(str(path)).strip_dirs().sort_stats("cumulative").print_stats(top)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--models", type=int, default=20)
    p.add_argument("--questions", type=int, default=2000, help="questions over all sets")
    p.add_argument("--samples", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=RESULT, help="where the figures go (JSON)")
    p.add_argument("--keep", action="store_true", help="keep the run and report folders and print where")
    p.add_argument("--profile", action="store_true", help="run the report under cProfile; targets are not judged")
    p.add_argument("--top", type=int, default=15, help="profile entries to print")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    answers = args.models * args.questions * args.samples
    work = Path(tempfile.mkdtemp(prefix="bench-report-"))
    run_dir, out_dir = work / "run", work / "report"
    try:
        print(f"generating {args.models} models x {args.questions} questions x {args.samples} samples "
              f"= {answers:,} answers ...", flush=True)  # fmt: skip
        generate_s = generate(run_dir, args)
        print(f"generated in {generate_s:.1f} s (not timed); run files {dir_mb(run_dir):.0f} MB", flush=True)
        profile = work / "report.prof" if args.profile else None
        figures = run_report(run_dir, out_dir, work, profile)
        index_mb = (out_dir / "index.html").stat().st_size / 1e6
        failed = [] if args.profile else misses({**figures, "index_html_mb": index_mb})
        record = {
            "models": args.models, "questions": args.questions, "samples": args.samples, "answers": answers,
            "seed": args.seed, "generate_s": round(generate_s, 2),
            "wall_s": round(figures["wall_s"], 2), "cpu_s": round(figures["cpu_s"], 2),
            "import_s": round(figures["import_s"], 2),
            "build_report_s": round(figures["build_report_s"], 2),
            "peak_rss_gib": round(figures["peak_rss_gib"], 3), "index_html_mb": round(index_mb, 2),
            "targets": {"wall_s": TARGET_WALL_S, "peak_rss_gib": TARGET_RSS_GIB, "index_html_mb": TARGET_PAGE_MB},
            "profiled": args.profile, "passed": not failed, "failed": failed,
            "host": {"platform": platform.platform(), "cpu": cpu_model(), "cpu_count": os.cpu_count(),
                     "load_avg_1m": round(os.getloadavg()[0], 2), "python": platform.python_version()},
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }  # fmt: skip
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        print(f"answers        {answers:,}")
        print(f"wall           {figures['wall_s']:.1f} s  (imports {figures['import_s']:.1f} s, "
              f"build_report {figures['build_report_s']:.1f} s; target < {TARGET_WALL_S:g} s)")  # fmt: skip
        print(f"CPU            {figures['cpu_s']:.1f} s  (user + system; load average {os.getloadavg()[0]:.1f} "
              f"on {os.cpu_count()} CPUs, {cpu_model()})")  # fmt: skip
        print(f"peak RSS       {figures['peak_rss_gib']:.2f} GiB  (target < {TARGET_RSS_GIB:g} GiB)")
        print(f"index.html     {index_mb:.1f} MB  (target < {TARGET_PAGE_MB:g} MB)")
        print(f"figures in {args.out}")
        if profile:
            print_profile(profile, args.top)
            print("\n(profiled: targets not judged)")
        if args.keep:
            print(f"kept: run {run_dir}, report {out_dir}")
        for miss in failed:
            print(f"FAILED target: {miss}")
        return 1 if failed else 0
    except (subprocess.CalledProcessError, RuntimeError) as exc:
        print(f"bench-report: {exc}", file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
