"""A candidate's tokenizer, for the token counts a server does not give.

Two counts use it: output tokens for servers that send no ``usage`` (``vllm bench
serve`` does the same: it tokenizes the generated text), and thinking tokens when
the usage has no ``completion_tokens_details`` (:mod:`harness.server.token_split`). A count
made here is labelled ``tokenizer`` in the records and the report; without a
tokenizer it stays unknown, never 0.
"""

from __future__ import annotations

from functools import cache

from harness.inputs.plan import LoadedPlan, resolve_model
from harness.records import Candidate
from harness.server.client import TokenCounter


def tokenizer_ref(lp: LoadedPlan, cand: Candidate) -> str | None:
    """Where a candidate's tokenizer is: ``reasoning.tokenizer``, the endpoint's ``tokenizer``, else its
    model (a local folder, or a hub id found in the local cache); None: nowhere."""
    if cand.reasoning.tokenizer:
        local = resolve_model(lp.base_dir, cand.reasoning.tokenizer)
        return str(local) if local is not None else cand.reasoning.tokenizer
    if cand.endpoint is not None:
        tok = cand.endpoint.tokenizer
        if tok is None:  # an endpoint named by a local model folder: that folder's tokenizer
            local = resolve_model(lp.base_dir, cand.model)
            return str(local) if local is not None and local.is_dir() else None
        local = resolve_model(lp.base_dir, tok)
        return str(local) if local is not None else tok
    local = resolve_model(lp.base_dir, cand.model)
    return str(local) if local is not None else cand.model


@cache
def _load(ref: str) -> TokenCounter:
    """A counter for the tokenizer at ``ref``; one that answers None when it cannot be loaded (offline hub id)."""
    try:
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(ref, local_files_only=True)  # offline: a hub id from the cache
    except Exception:  # a tokenizer that cannot be had leaves counts unknown; it must not fail the answer
        return lambda text: None

    def count(text: str) -> int | None:
        return len(tok(text, add_special_tokens=False).input_ids)

    return count


def token_counter(lp: LoadedPlan, cand: Candidate) -> TokenCounter | None:
    """A counter that loads the candidate's tokenizer on first use (most servers send usage: never)."""
    ref = tokenizer_ref(lp, cand)
    if ref is None:
        return None

    def count(text: str) -> int | None:
        return _load(ref)(text)

    return count
