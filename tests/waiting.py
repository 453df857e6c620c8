"""Bounded polling for tests: wait until a real broker, server or thread has delivered something."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(cond: Callable[[], bool], what: str = "condition", timeout: float = 15.0,
             tick: Callable[[], None] | None = None, every: float = 0.02) -> None:
    """Poll ``cond`` until true, else fail naming ``what``; ``tick`` (if given) moves test time meanwhile."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        if tick is not None:
            tick()
        time.sleep(every)


#: ``[storage] commit_interval`` of the tests' real gateways: a test waits for its readings, not for the 10 s window
#: that spares a Pi's SD card (the tests of the window itself set their own).
COMMIT_WINDOW = "0.2s"
