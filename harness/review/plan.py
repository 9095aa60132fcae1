"""``harness review plan``: which answers of a run to grade first (the review queue), as text or JSON.

Loads the run as the report does (:func:`harness.report.load.load_report_data`) and orders its answers with
:func:`harness.report.review_data.report_queue` (:mod:`harness.rollup.review_queue` says how).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.report.load import load_report_data
from harness.report.review_data import report_queue
from harness.rollup.review_queue import ReviewQueue


def plan_review(run_dir: Path, n: int, seed: int | None = None, overlap: int = 0) -> tuple[str, ReviewQueue]:
    """The run's plan name and its first ``n`` answers to grade. Raises what :func:`load_report_data` raises
    (``RunDirError`` for a directory that is not a scored run) and ``ValueError`` for a negative ``n``/``overlap``."""
    data = load_report_data(run_dir)
    return data.plan.name, report_queue(data, n, seed, overlap)


def queue_json(run: str, queue: ReviewQueue) -> dict[str, Any]:
    """The queue as ``--json`` prints it: ``{run, seed, answers, reviewed, items: [{position, key, candidate,
    variant, set_id, question_id, sample, reasons, reviewed_by}]}`` (position from 1)."""
    return {
        "run": run, "seed": queue.seed, "answers": queue.answers, "reviewed": queue.reviewed,
        "items": [{"position": i, "key": it.key, "candidate": it.candidate, "variant": it.variant,
                   "set_id": it.set_id, "question_id": it.question_id, "sample": it.sample,
                   "reasons": list(it.reasons), "reviewed_by": it.reviewed_by}
                  for i, it in enumerate(queue.items, 1)],
    }  # fmt: skip


def queue_text(run: str, queue: ReviewQueue) -> str:
    """The queue as lines: a header with how much of the run is reviewed, then ``position  key  reasons``."""
    lines = [f"{run}: {queue.reviewed} of {queue.answers} answers reviewed; "
             f"the first {len(queue.items)} to grade (seed {queue.seed}):"]  # fmt: skip
    width = max((len(it.key) for it in queue.items), default=0)
    for i, it in enumerate(queue.items, 1):
        seen = f" (reviewed by {it.reviewed_by})" if it.reviewed_by else ""
        lines.append(f"{i:>4}  {it.key:<{width}}  {', '.join(it.reasons)}{seen}")
    return "\n".join(lines) + "\n"
