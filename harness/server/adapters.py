"""LoRA adapters on their base's server: one vLLM start for a base and all its adapters.

The base's server gets ``--enable-lora --lora-modules NAME=DIR ... --max-lora-rank R`` (each adapter
is named by its candidate's name), and an adapter's requests send that name as ``model``. Served
one after another, the generation loop asks a base's adapters right after the base, and
:class:`AdapterHost` keeps the base's server up between them; an adapter served alone (a resumed run
whose base is done, or side by side on a fleet) starts its base's server itself.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from harness.inputs.families import adapters_of, lora_server_args
from harness.records import Candidate

if TYPE_CHECKING:
    from harness.inputs.plan import LoadedPlan
    from harness.server.model_server import ModelServer


def family_root(plan_candidates: list[Candidate], cand: Candidate) -> Candidate:
    """The candidate whose server ``cand`` is asked on: its base for an adapter, else itself."""
    if cand.adapter is None or cand.base is None:
        return cand
    return next(c for c in plan_candidates if c.name == cand.base)


def served_candidate(lp: LoadedPlan, cand: Candidate) -> Candidate:
    """What to start for ``cand``: its family root, with the LoRA flags of the root's adapters added.

    A candidate without adapters comes back unchanged (the same object), so its command line is as before.
    """
    root = family_root(lp.plan.candidates, cand)
    adapters = adapters_of(lp.plan, root.name)
    if not adapters:
        return root
    flags = lora_server_args([(a.name, (lp.base_dir / str(a.adapter)).resolve()) for a in adapters])
    vllm = root.vllm.model_copy(update={"extra_args": [*root.vllm.extra_args, *flags]})
    return root.model_copy(update={"vllm": vllm})


def order_families(todo: list[tuple[Candidate, list]]) -> list[tuple[Candidate, list]]:  # type: ignore[type-arg]
    """``todo`` with each base's adapters moved right after it (others keep their order)."""
    adapters = [t for t in todo if t[0].adapter is not None]
    placed = {id(t) for t in adapters}
    out = []
    for item in todo:
        if id(item) in placed:
            continue
        out.append(item)
        out.extend(t for t in adapters if t[0].base == item[0].name)
    done = {id(t) for t in out}
    return out + [t for t in adapters if id(t) not in done]


@dataclass
class AdapterHost:
    """A family's server kept up between its members, so N adapters cost one server start."""

    hold_for: str | None = None
    """The family root whose server the next candidate will use (set by the loop before each candidate)."""
    root: str | None = None
    server: ModelServer | None = None
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    def lend(self, cand: Candidate) -> ModelServer | None:
        """The held server, addressed as ``cand``'s adapter, when ``cand`` is an adapter of the held root."""
        if self.server is None or cand.adapter is None or cand.base != self.root:
            return None
        return replace(self.server, model=cand.name, start_s=None)

    def keep(self, root: str, server: ModelServer, serving: contextlib.ExitStack) -> bool:
        """Take over ``serving`` (which stops ``server``) when the next candidate needs ``root``'s server."""
        if self.hold_for != root or not server.managed or (self.server is not None and self.root == root):
            return False
        self.close()
        self.root, self.server = root, replace(server, model=root)
        self.stack.push(serving.pop_all())
        return True

    def release_unless(self, cand: Candidate) -> None:
        """Stop the held server unless ``cand`` is one of its adapters."""
        if self.server is not None and not (cand.adapter is not None and cand.base == self.root):
            self.close()

    def close(self) -> None:
        self.root, self.server = None, None
        self.stack.close()
