"""LoRA adapters on their base's server: one server start per family, requests name the adapter."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.inputs.plan import load_plan
from harness.records import Candidate
from harness.run.session import run_session
from harness.rundir import RunDir
from harness.server.adapters import AdapterHost, order_families, served_candidate
from harness.server.model_server import ModelServer
from tests.support.fake_server import Reply, chunk, fake_server, sse_bytes
from tests.support.files import write_yaml

SMOL = Path("/work/main/models/smollm2-135m-instruct")


def _adapter(folder: Path, r: int) -> Path:
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text(json.dumps({"r": r, "target_modules": ["q_proj", "v_proj"]}))
    return folder


def _plan(tmp: Path, base_url: str = "http://unused/v1") -> Path:
    """Candidates in the order a1 (adapter), b (base), q (another build), a2 (adapter)."""
    if not SMOL.is_dir():
        pytest.skip("demo model not prepared (make models)")
    _adapter(tmp / "ad1", 8)
    _adapter(tmp / "ad2", 4)
    write_yaml(tmp / "set.yaml", {"id": "s", "title": "T", "language": "en",
                                  "questions": [{"id": "q1", "category": "c", "question": "Days?"}]})  # fmt: skip
    model = str(SMOL)
    return write_yaml(tmp / "plan.yaml", {
        "name": "family", "question_sets": ["set.yaml"], "perf": {"sweep": None},
        "limits": {"retries": 0}, "sampling": {"max_tokens": 8},
        "candidates": [
            {"name": "a1", "model": model, "base": "b", "adapter": "./ad1"},
            {"name": "b", "model": model},
            {"name": "q", "model": model, "base": "b", "vllm": {"extra_args": ["--quantization", "fp8"]}},
            {"name": "a2", "model": model, "base": "b", "adapter": "./ad2"},
        ],
    })  # fmt: skip


def test_served_candidate_adds_every_adapter_of_the_base(tmp_path: Path) -> None:
    lp = load_plan(_plan(tmp_path))
    by = {c.name: c for c in lp.plan.candidates}
    for name in ("b", "a1", "a2"):  # an adapter starts its base's server, with all of the base's adapters
        served = served_candidate(lp, by[name])
        assert served.name == "b"
        modules = [f"a1={tmp_path / 'ad1'}", f"a2={tmp_path / 'ad2'}"]
        assert served.vllm.extra_args == ["--enable-lora", "--lora-modules", *modules, "--max-lora-rank", "8",
                                          "--max-loras", "2"]  # fmt: skip
    assert served_candidate(lp, by["q"]) is by["q"]  # a quantized build is served as itself


def test_order_families_puts_adapters_right_after_their_base() -> None:
    cands = [Candidate(name="a1", model="m", base="b", adapter="x"), Candidate(name="b", model="m"),
             Candidate(name="q", model="n", base="b"), Candidate(name="a2", model="m", base="b", adapter="y"),
             Candidate(name="z", model="m", base="gone", adapter="w")]  # fmt: skip
    todo: list[tuple[Candidate, list[Any]]] = [(c, []) for c in cands]
    assert [c.name for c, _ in order_families(todo)] == ["b", "a1", "a2", "q", "z"]


def test_adapter_host_lends_only_to_adapters_of_the_held_root() -> None:
    host = AdapterHost(hold_for="b")
    server = ModelServer("http://x/v1", "b", None, managed=True, start_s=3.0)
    stack = contextlib.ExitStack()
    stopped: list[str] = []
    stack.callback(stopped.append, "b")
    assert host.keep("b", server, stack)
    lent = host.lend(Candidate(name="a1", model="m", base="b", adapter="x"))
    assert lent is not None and (lent.model, lent.start_s, lent.base_url) == ("a1", None, "http://x/v1")
    assert host.lend(Candidate(name="q", model="n", base="b")) is None  # no adapter: its own server
    host.release_unless(Candidate(name="a2", model="m", base="b", adapter="y"))
    assert stopped == []
    host.release_unless(Candidate(name="q", model="n", base="b"))
    assert stopped == ["b"] and host.server is None


def test_a_base_and_its_adapters_share_one_server_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[tuple[str, ...]] = []
    body = sse_bytes(chunk("five", role=True), chunk(finish="stop"), "[DONE]")
    with fake_server(lambda n: Reply([(0.0, body)])) as srv:

        @contextlib.contextmanager
        def fake_start(model_ref: str, cand: Candidate, log_path: Path, timeout_s: float,
                       chat_template: Path | None = None) -> Iterator[ModelServer]:  # fmt: skip
            events.append(("start", cand.name, " ".join(cand.vllm.extra_args[:1])))
            try:
                yield ModelServer(srv.base_url, cand.name, None, managed=True, start_s=1.0)
            finally:
                events.append(("stop", cand.name))

        monkeypatch.setattr("harness.server.reach.start_vllm", fake_start)
        lp = load_plan(_plan(tmp_path, srv.base_url))
        outcomes = run_session(lp, tmp_path / "run", log=lambda m: None, show_progress=False)
        models = [json.loads(r)["model"] for r in srv.requests]
    # b, then its adapters a1 and a2 on b's server (no start of their own), then q on its own.
    assert events == [("start", "b", "--enable-lora"), ("stop", "b"), ("start", "q", "--quantization"), ("stop", "q")]
    assert [o.name for o in outcomes] == ["b", "a1", "a2", "q"] and not any(o.error for o in outcomes)
    assert models == ["b", "a1", "a2", "q"]  # each request names its adapter as the model
    phases = RunDir(tmp_path / "run").read_phases()
    assert [(p.candidate, p.server_start_s) for p in phases] == [("b", 1.0), ("a1", None), ("a2", None), ("q", 1.0)]
