"""Where the tests find the repository, their data and the demo models, and how they write a YAML file.

``MODELS`` is ``$HARNESS_MODELS_DIR`` or ``models/`` in the checkout (``make models`` fills it);
``DATA`` is ``tests/data``; ``HARNESS`` is the command line that runs the CLI in a subprocess.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
MODELS = Path(os.environ.get("HARNESS_MODELS_DIR", REPO / "models"))
SMOL = MODELS / "smollm2-135m-instruct"
GEMMA = MODELS / "gemma-3-270m"
HARNESS = [sys.executable, "-m", "harness.cli"]


def need_model(path: Path) -> Path:
    """``path`` when it holds a model (its ``config.json``); fails the test with the fix otherwise."""
    if not (path / "config.json").exists():
        pytest.fail(f"demo model {path} is missing: run `make models` (make test does)")
    return path


def write_yaml(path: Path, data: object) -> Path:
    """Writes ``data`` as UTF-8 YAML in the order given; returns ``path``."""
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
