"""Write a synthetic run directory (:mod:`harness_bench.synthetic_run`), from a checkout.

python scripts/synthetic_run.py RUN_DIR --models 20 --questions 2000 --samples 5 --seed 0
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's harness and harness_bench

from harness_bench.synthetic_run import main

if __name__ == "__main__":
    sys.exit(main())
