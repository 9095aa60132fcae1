"""A measurement taken on entry, every ``interval_s`` in a daemon thread, and on exit.

The memory sampler and the /metrics poller share this life cycle: even a short
phase gets a first and a last reading, and one failed reading never ends the
measurement.
"""

from __future__ import annotations

import contextlib
import threading
import time
from types import TracebackType
from typing import Self


class Periodic:
    thread_name = "periodic-measurement"

    def __init__(self, interval_s: float) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, got {interval_s}")
        self.interval_s = interval_s
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = 0.0

    def take(self) -> object:
        """One reading; subclasses store it."""
        raise NotImplementedError

    def _open(self) -> None:
        """Before the first reading."""

    def _close(self) -> None:
        """After the last reading."""

    def _on_error(self, exc: Exception) -> None:
        """A reading in the thread failed; the next one is still taken."""

    def _elapsed_s(self) -> float:
        return time.monotonic() - self._t0

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.take()
            except Exception as exc:  # keep measuring: one bad read must not end the phase's record
                self._on_error(exc)

    def __enter__(self) -> Self:
        self._open()
        self._t0 = time.monotonic()
        self.take()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with contextlib.suppress(Exception):
            self.take()  # the last instant of the phase
        self._close()
