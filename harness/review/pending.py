"""The answers still waiting for a person: the default review queue until a planned one exists."""

from __future__ import annotations

from pathlib import Path

from harness.records import Plan
from harness.rundir import RunDir, require_manifest


def unreviewed_keys(run_dir: Path, n: int | None = None) -> list[str]:
    """Keys of the answers of the plan's decision variant that no one has graded, in run order.

    Run order is the order of the run's answers file; failed answers (no text) are left out.
    ``n`` keeps the first ``n``. Raises :class:`~harness.rundir.RunDirError` when ``run_dir`` is not a run.
    """
    plan = Plan.model_validate(require_manifest(run_dir)["plan"])
    rd = RunDir(run_dir)
    graded = {g.key for g in rd.read_reviews()}
    keys = [g.key for g in rd.iter_generations() if g.variant == plan.decision_variant and g.ok and g.key not in graded]
    return keys if n is None else keys[:n]
