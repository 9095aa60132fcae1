"""The authoring guide's examples are real: every YAML block validates, every check has one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from harness import rubric
from harness.inputs.questions import load_question_set
from tests.support.files import REPO

GUIDE = REPO / "docs" / "question-sets.md"
BLOCKS = re.findall(r"```yaml\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.DOTALL)


def _types(checks: list) -> set[str]:
    out = set()
    for c in checks:
        out.add(c["type"])
        out |= _types(c.get("checks", []))
    return out


def _as_set(block: str) -> dict | None:
    data = yaml.safe_load(block)
    if isinstance(data, list) and data and all(isinstance(c, dict) and "type" in c for c in data):
        return {"id": "doc", "title": "doc", "language": "zh",
                "questions": [{"id": "q", "category": "c", "question": "?", "checks": data}]}  # fmt: skip
    if isinstance(data, dict) and "questions" in data:
        return data
    return None


def test_guide_has_an_example_of_every_check() -> None:
    shown: set[str] = set()
    for block in BLOCKS:
        data = _as_set(block)
        if data:
            for q in data["questions"]:
                shown |= _types(q.get("checks") or [])
    assert set(rubric.REGISTRY) <= shown, f"no example for {set(rubric.REGISTRY) - shown}"


EXAMPLES = [(i, d) for i, d in enumerate(_as_set(b) for b in BLOCKS) if d is not None]


def test_guide_has_examples() -> None:
    assert len(EXAMPLES) >= len(rubric.REGISTRY)


@pytest.mark.parametrize("data", [d for _, d in EXAMPLES], ids=[f"block{i}" for i, _ in EXAMPLES])
def test_every_example_validates(tmp_path: Path, data: dict) -> None:
    f = tmp_path / "doc.yaml"
    f.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    load_question_set(f)  # raises InputError with file:line problems if the example is wrong


# ---------------------------------------------------------------- test files the docs name

TEST_PATH = re.compile(r"(?<![\w/.])((?:scripts/)?tests/[\w/]+\.py)(?:::(\w+))?")
"""``tests/<folder>/test_x.py`` or ``scripts/tests/test_x.py``, optionally ``::test_name``."""


def named_tests(text: str) -> list[tuple[str, str | None]]:
    """(path, test name or None) of every test file a text names."""
    return [(m[1], m[2]) for m in TEST_PATH.finditer(text)]


def docs_and_sources() -> list[Path]:
    """The files that may name a test: the README, docs/, the Makefile, and the modules of the harness and scripts."""
    found = [REPO / "README.md", REPO / "Makefile", REPO / "tests" / "README.md", REPO / "lm_eval_tasks" / "README.md"]
    found += sorted((REPO / "docs").glob("*.md")) + sorted((REPO / "configs").glob("*.yaml"))
    for folder in ("harness", "harness_bench", "scripts"):
        found += sorted((REPO / folder).rglob("*.py"))
    return found


def test_named_tests_reads_paths_and_test_names() -> None:
    text = "see `tests/e2e/test_e2e.py::test_ctrl_c` and scripts/tests/test_gpu_check.py (not foo/tests/x.py)"
    assert named_tests(text) == [("tests/e2e/test_e2e.py", "test_ctrl_c"), ("scripts/tests/test_gpu_check.py", None)]


def test_every_test_the_docs_name_exists() -> None:
    missing = []
    for doc in docs_and_sources():
        for path, name in named_tests(doc.read_text(encoding="utf-8")):
            target = REPO / path
            if not target.is_file():
                missing.append(f"{doc.relative_to(REPO)}: {path}")
            elif name and f"def {name}(" not in target.read_text(encoding="utf-8"):
                missing.append(f"{doc.relative_to(REPO)}: {path}::{name}")
    assert missing == []
