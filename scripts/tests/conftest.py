"""Tests of the scripts in scripts/ (`make test-scripts`, also run by `make bench`), apart from the harness suite.

The scripts are not a package: their folder goes on ``sys.path`` here, as running one puts it there.
"""

from __future__ import annotations

import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent.parent
REPO = SCRIPTS.parent
sys.path.insert(0, str(SCRIPTS))
