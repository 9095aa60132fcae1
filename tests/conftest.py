"""Shared fixtures. The real vLLM server (CPU build) starts once per session: ``smol_server``.

Helpers the tests import live in tests/support/ (tests/README.md says which to use when).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.records import Candidate
from harness.server.model_server import ModelServer
from harness.server.vllm_server import start_vllm
from tests.support.files import SMOL, need_model
from tests.support.vllm import CPU_VLLM


@pytest.fixture(scope="session")
def smol_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModelServer]:
    """SmolLM2-135M-Instruct on a real vLLM server, shared by the whole session."""
    model = need_model(SMOL)
    log = tmp_path_factory.mktemp("server") / "smol.vllm.log"
    cand = Candidate(name="smol-session", model=str(model), vllm=CPU_VLLM)
    with start_vllm(str(model), cand, log, timeout_s=600) as server:
        yield server
