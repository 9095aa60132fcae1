"""The manifest as a typed record (:class:`harness.manifest_records.RunManifest`): old layouts load into it,
the file it writes reads as before, and keys a newer harness wrote are kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.records import Judgment
from harness.rundir import RunDir, load_manifest, require_manifest, save_manifest
from harness.schema import RecordError
from harness.scoring.judge.stage import migrate_single_judge
from harness.store import write_records

OLD_JUDGE = {"name": "old-judge", "model": "org/judge-7b", "family": "llama", "params": 7_000_000_000,
             "fingerprint": "f0", "asked": 12, "judging_s": 90.5, "error": None}  # fmt: skip

# A manifest as a harness before schema 2 and before judge panels wrote it: no schema_version 2,
# one "judge" entry instead of "judges".
OLD_MANIFEST: dict[str, Any] = {
    "schema_version": 1,
    "created_at": 1700000000.5,
    "plan_path": "/plans/old.yaml",
    "plan_fingerprint": "abc",
    "plan": {"name": "old", "candidates": [{"name": "m1", "model": "org/m1"}], "sampling": {"questions_per_set": 2}},
    "question_sets": {"s1": {"path": "/sets/s1.yaml", "sha256": "beef", "questions": 3}},
    "seeds": {"base": 7, "per_sample": [7, 8]},
    "versions": {"harness": "0.0.9", "vllm": None},
    "host": {"hostname": "h", "cpu_count": 8, "memory_gib": 31.2, "gpus": [{"name": "L4", "memory_gib": 22.5}]},
    "git": {"commit": "c0ffee", "dirty": False},
    "candidates": {"m1": {"model": "org/m1", "api": "chat", "server_start_s": 41.5, "error": None}},
    "sessions": [{"started_at": 1700000001.0, "versions": {"harness": "0.0.9"}, "git": {"commit": "c0ffee"}}],
    "judge": OLD_JUDGE,
}


def write(run: Path, data: dict[str, Any]) -> None:
    run.mkdir(parents=True, exist_ok=True)
    (run / "manifest.json").write_text(json.dumps(data), encoding="utf-8")


def written(run: Path) -> dict[str, Any]:
    data = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_an_old_manifest_with_one_judge_loads_into_the_typed_record(tmp_path: Path) -> None:
    write(tmp_path, OLD_MANIFEST)
    m = require_manifest(tmp_path)
    assert m.schema_version == 2  # brought up from 1
    assert (m.created_at, m.plan_path, m.plan_name, m.questions_per_set) == (1700000000.5, "/plans/old.yaml", "old", 2)
    assert (m.question_sets["s1"].sha256, m.question_sets["s1"].questions) == ("beef", 3)
    assert (m.seeds.base, m.seeds.per_sample) == (7, [7, 8])
    assert (m.host.cpu_count, m.host.memory_gib, m.host.gpus[0]["name"]) == (8, 31.2, "L4")
    assert (m.git.commit, m.git.dirty) == ("c0ffee", False)
    assert (m.candidates["m1"].api, m.candidates["m1"].server_start_s) == ("chat", 41.5)
    assert m.served_model("m1") == "org/m1" and m.served_model("gone") is None
    assert m.sessions[0].git.commit == "c0ffee" and m.sessions[0].git.dirty is None  # not recorded then
    # the single judge moved under "judges", named as its entry names it; its verdicts still carry no name
    assert m.legacy_judge == "old-judge" and list(m.judges) == ["old-judge"]
    judge = m.judges["old-judge"]
    assert (judge.model, judge.params, judge.asked, judge.judging_s) == ("org/judge-7b", 7_000_000_000, 12, 90.5)


def test_a_judge_entry_without_a_name_is_the_judge_named_judge(tmp_path: Path) -> None:
    write(tmp_path, {**OLD_MANIFEST, "judge": {"model": "org/j"}})
    m = require_manifest(tmp_path)
    assert m.legacy_judge == "judge" and m.judges["judge"].model == "org/j"


def test_renaming_the_old_judges_verdicts_drops_legacy_judge_from_the_file(tmp_path: Path) -> None:
    write(tmp_path, OLD_MANIFEST)
    rd = RunDir(tmp_path)
    verdict = Judgment(key="single/m1/s1/q1/0/t0", kind="single", set_id="s1", question_id="q1", sample=0,
                       candidates=["m1"], prompt_version="v1", seed=7, score=6.0, parsed=True)  # fmt: skip
    write_records(rd.judgments, [verdict, verdict.model_copy(update={"judge": "new-judge"})])
    manifest = load_manifest(tmp_path)
    assert manifest is not None
    save_manifest(tmp_path, migrate_single_judge(rd, manifest))
    assert [j.judge for j in rd.read_judgments() or []] == ["old-judge", "new-judge"]  # the named one kept its name
    data = written(tmp_path)
    assert "judge" not in data and "legacy_judge" not in data
    assert data["judges"] == {"old-judge": OLD_JUDGE}
    assert require_manifest(tmp_path).legacy_judge is None


def test_a_round_trip_writes_the_file_as_it_was_and_keeps_a_newer_harness_keys(tmp_path: Path) -> None:
    current = json.loads(json.dumps({k: v for k, v in OLD_MANIFEST.items() if k != "judge"}))  # a deep copy
    current.update(schema_version=2, from_the_future={"x": 1})
    current["candidates"]["m1"]["tokenizer_sha"] = "ab12"
    write(tmp_path, current)
    manifest = require_manifest(tmp_path)
    save_manifest(tmp_path, manifest)
    # same keys, same values: nothing added (no "judges", "fleet", "question_sets_removed": never written)
    assert written(tmp_path) == current


def test_a_field_of_the_wrong_type_names_the_file_and_the_field(tmp_path: Path) -> None:
    write(tmp_path, {**OLD_MANIFEST, "seeds": {"base": 7, "per_sample": "seven"}})
    with pytest.raises(RecordError, match=r"manifest\.json: seeds\.per_sample: .*new --run-dir"):
        load_manifest(tmp_path)
