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
