"""The plan fingerprint: what decides the answers, and nothing that a harness upgrade adds."""

from __future__ import annotations

from pathlib import Path

from harness.inputs.plan import load_plan
from harness.inputs.plan_changes import plan_changes
from harness.records import Plan
from harness.run.manifest import plan_fingerprint
from tests.support.files import DATA, write_yaml


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


# ---------------------------------------------------------------- what changed between two plans (issue 28)


def _p(*candidates: dict, sets: tuple[str, ...] = ("s.yaml",), **extra: object) -> Plan:
    return Plan.model_validate({"name": "p", "candidates": list(candidates), "question_sets": list(sets), **extra})


EP_A = {"name": "a", "model": "org/a", "endpoint": {"base_url": "http://h:8000/v1", "api_key_env": "K1"}}


def test_a_moved_endpoint_is_a_connection_detail_not_a_change_of_candidate() -> None:
    moved = {**EP_A, "endpoint": {"base_url": "http://h:8001/v1", "api_key_env": "K2"}}
    ch = plan_changes(_p(EP_A).model_dump(mode="json"), _p(moved))
    assert ch.refused == [] and ch.same_answers
    assert ch.connection == ["candidates[0].endpoint.base_url: http://h:8000/v1 -> http://h:8001/v1",
                             "candidates[0].endpoint.api_key_env: K1 -> K2"]  # fmt: skip


def test_a_price_or_declared_memory_is_report_time_a_model_is_refused() -> None:
    before = _p(EP_A).model_dump(mode="json")
    priced = {**EP_A, "price_per_gpu_hour_usd": 2.5, "endpoint": {**EP_A["endpoint"], "gpu_memory_gib": 30}}
    ch = plan_changes(before, _p(priced))
    assert ch.refused == [] and ch.report_only == ["candidates[0].price_per_gpu_hour_usd: 0.0 -> 2.5",
                                                   "candidates[0].endpoint.gpu_memory_gib: (none) -> 30.0"]  # fmt: skip
    ch = plan_changes(before, _p({**EP_A, "model": "org/b"}))
    assert ch.refused == ["candidates[0].model: org/a -> org/b"]


def test_renamed_reordered_added_removed_candidates_and_sets() -> None:
    b = {"name": "b", "model": "org/b"}
    before = _p(EP_A, b, sets=("s.yaml", "t.yaml")).model_dump(mode="json")
    assert not plan_changes(before, _p(b, EP_A, sets=("t.yaml", "s.yaml"))).any  # order is no change
    ch = plan_changes(before, _p({**b, "name": "b2"}, EP_A, sets=("s.yaml", "u.yaml")))
    assert (ch.added_candidates, ch.removed_candidates) == (["b2"], ["b"])  # a rename: one out, one in
    assert (ch.added_sets, ch.removed_sets) == (["u.yaml"], ["t.yaml"])
    assert ch.refused == [] and not ch.same_answers


def test_a_set_named_from_another_folder_is_the_same_set(tmp_path: Path) -> None:
    before = _p(EP_A, sets=("sets/s.yaml",)).model_dump(mode="json")
    (tmp_path / "elsewhere").mkdir()
    ch = plan_changes(before, _p(EP_A, sets=("../sets/s.yaml",)), tmp_path, tmp_path / "elsewhere")
    assert not ch.any  # tmp/sets/s.yaml both times


def test_a_field_a_later_harness_added_with_its_default_is_no_change() -> None:
    saved = _p(EP_A).model_dump(mode="json")
    del saved["review"], saved["candidates"][0]["reasoning"]  # as a run made before these fields existed
    assert not plan_changes(saved, _p(EP_A)).any
