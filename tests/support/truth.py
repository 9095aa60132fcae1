"""The truth server (harness_bench/truth_server.py) in a process of its own, for the load generator's tests.

Use it where a figure must be known before the run: it streams on a fixed timing (``--ttft-ms``,
``--itl-ms``, ``--tokens``, ``--max-running``) and says at ``/truth`` when each chunk was scheduled
and sent, so a measured TTFT or throughput is checked against the truth, not against itself. It runs
in its own process so its event loop is not the client's under test. For exact bytes, faults and fixed answers, use
:func:`tests.support.fake_server.fake_server` (in-process, far quicker to start).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

from harness.server.vllm_server import free_port
from tests.support.files import REPO


@contextlib.contextmanager
def truth_server(*flags: str) -> Iterator[str]:
    """The truth server (harness_bench/truth_server.py) in a process of its own with ``flags``; its root URL."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "harness_bench.truth_server", "--port", str(port), *flags],
                            stdout=subprocess.DEVNULL, cwd=REPO)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/truth", timeout=2).read()
            break
        except OSError:
            time.sleep(0.1)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait()
