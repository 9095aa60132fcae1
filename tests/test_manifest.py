"""The plan fingerprint: what decides the answers, and nothing that a harness upgrade adds."""

from __future__ import annotations

from pathlib import Path

from conftest import DATA, write_yaml

from harness.inputs.plan import load_plan
from harness.run.manifest import plan_fingerprint


def _plan(tmp: Path, name: str, candidate: dict, sampling: dict | None = None) -> Path:
    return write_yaml(tmp / f"{name}.yaml", {
        "name": "p", "candidates": [{"name": "m", "model": "org/m", **candidate}],
        "question_sets": [str(DATA / "sets" / "mini_en.yaml")], "sampling": sampling or {"max_tokens": 16},
    })  # fmt: skip


def test_a_default_written_out_or_left_out_is_the_same_plan(tmp_path: Path) -> None:
    """A field added later with a default (dtype: auto, reasoning parser none) must not orphan older runs."""
    bare = plan_fingerprint(load_plan(_plan(tmp_path, "a", {})))
    spelled = plan_fingerprint(load_plan(_plan(tmp_path, "b", {"vllm": {"dtype": "auto", "tensor_parallel_size": 1}})))
    assert bare == spelled


def test_what_decides_the_answers_changes_the_fingerprint(tmp_path: Path) -> None:
    base = plan_fingerprint(load_plan(_plan(tmp_path, "a", {})))
    assert plan_fingerprint(load_plan(_plan(tmp_path, "b", {"vllm": {"dtype": "float32"}}))) != base
    assert plan_fingerprint(load_plan(_plan(tmp_path, "c", {}, {"max_tokens": 32}))) != base
