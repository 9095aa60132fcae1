"""Running a stage's asyncio work so that Ctrl-C and SIGTERM stop it cleanly.

The CLI turns SIGTERM/SIGHUP into KeyboardInterrupt (``harness.server.vllm_server.install_signal_handlers``)
so that every ``finally`` runs and servers are stopped. Raised *inside* an event loop,
that exception lands in whichever task happened to run and escapes past
``asyncio.run``'s clean-up, which then logs "Task exception was never retrieved" /
"_GatheringFuture exception was never retrieved" tracebacks after the one-line
message. :func:`run` instead handles the signals on the loop (as ``asyncio.Runner``
does for SIGINT alone): it cancels the main task, lets every task finish its
cancellation (so an answer being written is written whole or not at all), and only
then raises KeyboardInterrupt in the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)``, but SIGINT/SIGTERM/SIGHUP cancel it and then raise KeyboardInterrupt.

    Off the main thread (where signals cannot be handled) it is plain ``asyncio.run``.
    """
    if threading.current_thread() is not threading.main_thread():
        return asyncio.run(coro)
    loop = asyncio.new_event_loop()
    main = loop.create_task(coro)
    received: list[int] = []
    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    previous = {sig: h for sig, h in previous.items() if h is not signal.SIG_IGN}  # nohup's SIGHUP stays ignored

    def stop(sig: int) -> None:
        received.append(sig)
        main.cancel()

    try:
        for sig in previous:
            loop.add_signal_handler(sig, stop, sig)
        try:
            result = loop.run_until_complete(main)
        except asyncio.CancelledError:
            if received:
                raise KeyboardInterrupt(f"signal {received[0]}") from None
            raise
        if received:  # it came as the work was ending, or the work absorbed the cancellation: still a stop
            raise KeyboardInterrupt(f"signal {received[0]}")
        return result
    finally:
        try:
            _cancel_rest(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            for sig, handler in previous.items():
                loop.remove_signal_handler(sig)
                with contextlib.suppress(TypeError, ValueError):
                    signal.signal(sig, handler)
            asyncio.set_event_loop(None)
            loop.close()


def _cancel_rest(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel every task still pending and wait for them, retrieving their exceptions (no 'never retrieved')."""
    rest = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in rest:
        task.cancel()
    if rest:
        loop.run_until_complete(asyncio.gather(*rest, return_exceptions=True))
