"""A daemon thread that calls ``tick()`` every so many seconds until stopped: the one loop behind every
component that lets time pass (alerting, reports, the gate, nightly store maintenance, the rule engine).

Tests do not start it: they move a ``ManualClock`` and call the component's ``tick(now)`` themselves.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Ticker:
    """Calls ``tick()`` every ``every`` seconds in a named daemon thread; a failing tick is logged, not fatal."""

    def __init__(self, tick: Callable[[], object], every: float, name: str, join_timeout: float = 10.0) -> None:
        self.tick = tick
        self.every = every
        self.name = name
        self.join_timeout = join_timeout
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """True while the thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start ticking (the first tick comes ``every`` seconds from now)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop ticking; waits up to ``join_timeout`` seconds for a tick in progress."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.join_timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.tick()
            except Exception:  # the thread must survive anything one tick runs into
                log.exception("%s: tick failed", self.name)
