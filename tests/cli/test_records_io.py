"""Record files and manifests a run cannot trust: torn, corrupt, or from another harness version.

Every command that reads a run (run, score, report, judge, compare) stops with one line
that names the file and the line, exit 2, and no traceback. ``schema_version`` is read:
a newer one is refused, older ones are upgraded in one place (harness/schema.py).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from harness import schema
from harness.cli import main
from harness.records import SCHEMA_VERSION, Generation
from harness.schema import RecordError, upgrade, upgrade_step
from harness.store import read_records
from tests.support.fake_server import ANSWER, chunk, finished_run, sse_bytes
from tests.support.files import write_yaml

BODY = sse_bytes(chunk(ANSWER, "stop"), "[DONE]")


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished run (two answers) against a fake endpoint; tests work on copies."""
    return finished_run(tmp_path_factory.mktemp("finished"), BODY)


@pytest.fixture
def run(finished: Path, tmp_path: Path) -> Iterator[Path]:
    shutil.copytree(finished, tmp_path / "r")
    # the plan names its set relative to itself; the manifest names it absolutely: point it at the copy
    manifest = json.loads((tmp_path / "r" / "run" / "manifest.json").read_text("utf-8"))
    manifest["plan_path"] = str(tmp_path / "r" / "plan.yaml")
    for meta in manifest["question_sets"].values():
        meta["path"] = str(tmp_path / "r" / "set.yaml")
    (tmp_path / "r" / "run" / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    plan = yaml.safe_load((tmp_path / "r" / "plan.yaml").read_text("utf-8"))
    plan["judge"] = {"model": "j", "modes": ["single"], "endpoint": {"base_url": "http://127.0.0.1:9/v1"}}
    write_yaml(tmp_path / "r" / "judge_plan.yaml", plan)  # the judge is not part of the fingerprint
    yield tmp_path / "r"


def commands(root: Path) -> dict[str, list[str]]:
    run_dir, plan = str(root / "run"), str(root / "plan.yaml")
    return {
        "run": ["run", plan, "--run-dir", run_dir, "--quiet", "--no-report"],
        "score": ["score", run_dir],
        "report": ["report", run_dir, "--out", str(root / "rep")],
        "judge": ["judge", run_dir, "--config", str(root / "judge_plan.yaml"), "--quiet"],
        "compare": ["compare", run_dir, run_dir],
    }


def one_line_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 2
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    (line,) = out.err.strip().splitlines()
    return line


@pytest.mark.parametrize("command", ["run", "score", "report", "judge", "compare"])
def test_a_corrupt_record_line_stops_every_command_with_file_and_line(
    run: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    gens = run / "run" / "generations.jsonl"
    first, second = gens.read_text("utf-8").splitlines()
    gens.write_text(first[:40] + "\n" + second + "\n", "utf-8")  # line 1 torn mid-record, then a good line
    line = one_line_exit_2(commands(run)[command], capsys)
    assert line.startswith(f"error: {gens}:1: not a complete JSON record ("), line
    assert "remove or repair that line" in line


@pytest.mark.parametrize("command", ["run", "score", "report", "judge", "compare"])
def test_a_corrupt_manifest_stops_every_command_with_file_and_line(
    run: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = run / "run" / "manifest.json"
    text = json.dumps(json.loads(path.read_text("utf-8")), indent=2)
    path.write_text(text[: len(text) // 2], "utf-8")  # cut in half: a disk that filled up
    line = one_line_exit_2(commands(run)[command], capsys)
    assert line.startswith(f"error: {path}:") and "not valid JSON" in line, line


def test_a_record_of_a_newer_harness_is_refused(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gens = run / "run" / "generations.jsonl"
    lines = gens.read_text("utf-8").splitlines()
    rec = json.loads(lines[1])
    rec["schema_version"] = SCHEMA_VERSION + 1
    gens.write_text(lines[0] + "\n" + json.dumps(rec, ensure_ascii=False) + "\n", "utf-8")
    line = one_line_exit_2(commands(run)["score"], capsys)
    assert line == (
        f"error: {gens}:2: written by a newer harness (schema_version {SCHEMA_VERSION + 1}; "
        f"this one reads up to {SCHEMA_VERSION}); upgrade the harness to read it"
    )


def test_a_manifest_of_a_newer_harness_is_refused(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = run / "run" / "manifest.json"
    manifest = json.loads(path.read_text("utf-8"))
    manifest["schema_version"] = SCHEMA_VERSION + 5
    path.write_text(json.dumps(manifest), "utf-8")
    line = one_line_exit_2(commands(run)["report"], capsys)
    assert f"{path}: written by a newer harness (schema_version {SCHEMA_VERSION + 5};" in line


def test_a_record_that_is_not_an_object_or_lacks_a_field_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "generations.jsonl"
    path.write_text("[1, 2]\n", "utf-8")
    with pytest.raises(RecordError, match=r"generations.jsonl:1: a record must be a JSON object, not list"):
        read_records(path, Generation)
    path.write_text('\n{"key": "a/s/q/0"}\n', "utf-8")
    with pytest.raises(RecordError, match=r"generations.jsonl:2: not a valid Generation record \(candidate: "):
        read_records(path, Generation)
    path.write_bytes(b'{"key": "\xff"}\n')
    with pytest.raises(RecordError, match=r"generations.jsonl:1: not UTF-8 text"):
        read_records(path, Generation)


def test_a_torn_last_line_is_still_skipped_quietly(run: Path) -> None:
    gens = run / "run" / "generations.jsonl"
    gens.write_text(gens.read_text("utf-8") + '{"schema_version": 1, "key": "oth', "utf-8")
    assert len(read_records(gens, Generation)) == 2
    assert main(commands(run)["score"]) == 0


def test_older_records_are_upgraded_step_by_step_in_one_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schema, "UPGRADES", {})

    @upgrade_step(1)
    def rename(kind: str, data: dict) -> dict:
        data["text"] = data.pop("answer")
        return data

    @upgrade_step(3)
    def tag(kind: str, data: dict) -> dict:
        return {**data, "kind": kind}

    old = {"schema_version": 1, "answer": "5天"}
    # 1 -> 2 renames, 2 -> 3 has no step (fields only added), 3 -> 4 tags
    assert upgrade("Generation", old, "x:1", current=4) == {"schema_version": 4, "text": "5天", "kind": "Generation"}
    assert old == {"schema_version": 1, "answer": "5天"}  # the caller's dict is left alone
    assert upgrade("Generation", {"text": "a"}, "x:1", current=1) == {"text": "a"}  # no version: version 1
    with pytest.raises(RecordError, match="x:1: schema_version 'two' is not a version number"):
        upgrade("Generation", {"schema_version": "two"}, "x:1")
