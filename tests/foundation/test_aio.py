"""``aio.run``: a stop signal always stops, whatever state the work is in when it arrives."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from harness import aio


def test_a_signal_the_work_absorbs_still_stops_the_run() -> None:
    # The work swallows its cancellation and returns normally (as a gather with
    # return_exceptions, or a task finishing in the same loop turn, can): the signal
    # must still end the run with KeyboardInterrupt, not be lost.
    async def absorbs() -> str:
        try:
            os.kill(os.getpid(), signal.SIGINT)
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            return "finished anyway"
        return "not cancelled"

    # As in a terminal: a session started in the background has SIGINT ignored, which aio.run keeps.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt, match=f"signal {int(signal.SIGINT)}"):
            aio.run(absorbs())
    finally:
        signal.signal(signal.SIGINT, previous)


def test_an_inherited_ignore_is_kept() -> None:
    # nohup'd or backgrounded, a signal the parent ignored stays ignored: the work runs to its end.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)

    async def signalled() -> str:
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.sleep(0.05)
        return "ran to its end"

    try:
        assert aio.run(signalled()) == "ran to its end"
    finally:
        signal.signal(signal.SIGINT, previous)


def test_work_without_a_signal_returns_its_result_and_restores_the_handler() -> None:
    before = signal.getsignal(signal.SIGINT)

    async def quick() -> int:
        await asyncio.sleep(0)
        return 7

    assert aio.run(quick()) == 7
    assert signal.getsignal(signal.SIGINT) is before
