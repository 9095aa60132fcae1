"""One candidate on its running server: the context a measurement phase works in.

The load sweep (:mod:`harness.run.perf.sweep`) and the SLO capacity search
(:mod:`harness.run.perf.capacity_run`) take one :class:`Served` instead of a list of
parameters; :meth:`harness.run.candidate.CandidateRun.on` builds it for a candidate's run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.inputs.plan import LoadedPlan
from harness.records import Api
from harness.server.client import TokenCounter
from harness.server.model_server import ModelServer
from harness.server.tokenizer import token_counter


@dataclass(frozen=True)
class Served:
    """``candidate`` of ``lp`` answering on ``server`` through ``api``; records go to ``run_dir``."""

    lp: LoadedPlan
    candidate: str
    server: ModelServer
    api: Api
    run_dir: Path
    """The run directory, or the candidate's part directory in a fleet."""
    log: Callable[[str], None]
    show_progress: bool = True
    done_dir: Path | None = None
    """Where records already complete are also looked for (the run directory, when ``run_dir`` is a part)."""

    @property
    def count_tokens(self) -> TokenCounter | None:
        """The candidate's output-token counter for servers that send no usage (its tokenizer loads on first use)."""
        return token_counter(self.lp, next(c for c in self.lp.plan.candidates if c.name == self.candidate))

    @property
    def finished_in(self) -> tuple[Path, ...]:
        """Every directory whose records count as done."""
        return (self.run_dir, *([self.done_dir] if self.done_dir else []))
