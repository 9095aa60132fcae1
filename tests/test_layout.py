"""The tests keep their layout (tests/README.md): unit tests by stage, the real-server tests apart, helpers in support/.

A test that starts or uses the real vLLM server (marker ``vllm``, fixture ``smol_server``) lives in
``e2e/`` and only there, so ``tests/<stage>/`` runs without a model; every folder is a package, so
same-named files in two folders both collect.
"""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent
FOLDERS = {
    "foundation", "rubric", "inputs", "server", "run", "scoring", "rollup", "report", "review", "compare", "cli", "e2e",
}  # fmt: skip
"""The folders that hold tests: the stages of harness/ (tests/README.md), then the end-to-end tests."""
TOP = {"test_architecture.py", "test_docs.py", "test_layout.py"}
"""Checks of the repository as a whole, at the top of tests/."""


def files_in(folder: Path) -> list[Path]:
    return sorted(folder.glob("test_*.py"))


def needs_a_real_server(path: Path) -> bool:
    """Whether a test file marks a test ``vllm`` or asks for the session server."""
    text = path.read_text(encoding="utf-8")
    return "mark.vllm" in text or "smol_server" in text


def test_every_test_file_is_in_a_stage_folder_or_a_repository_check() -> None:
    assert {p.name for p in files_in(TESTS)} == TOP
    folders = {p.parent.name for p in TESTS.rglob("test_*.py") if p.parent != TESTS and "data" not in p.parts}
    assert folders == FOLDERS
    assert files_in(TESTS / "support") == []  # support holds helpers, no tests


def test_every_folder_is_a_package() -> None:
    assert [f for f in sorted(FOLDERS | {"support"}) if not (TESTS / f / "__init__.py").is_file()] == []
    assert (TESTS / "__init__.py").is_file()


def test_real_server_tests_are_in_e2e_and_only_there() -> None:
    outside = [p.relative_to(TESTS) for f in FOLDERS - {"e2e"} for p in files_in(TESTS / f) if needs_a_real_server(p)]
    assert outside == []
    offline = [p.name for p in files_in(TESTS / "e2e") if not needs_a_real_server(p)]
    assert offline == []
