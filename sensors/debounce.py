"""Debounce a digital input by stability time, driven by edges and an injected clock."""

from __future__ import annotations

import threading


class Debouncer:
    """Reports a level only once the raw input has held it for ``bounce`` seconds.

    gpiozero's own ``bounce_time`` ignores edges for a while after each one, which can swallow the final
    level of a chattering reed switch; a stability filter cannot, and it needs no timer thread: the
    next edge or ``settle(now)`` from the agent's tick decides.
    """

    def __init__(self, bounce: float, initial: bool, now: float) -> None:
        self.bounce = bounce
        self._stable = initial
        self._raw = initial
        self._raw_since = now
        self._lock = threading.Lock()

    @property
    def stable(self) -> bool:
        """The last debounced level."""
        return self._stable

    def edge(self, level: bool, now: float) -> list[tuple[bool, float]]:
        """Feed a raw level seen at ``now``; returns the levels this confirmed, with when each began."""
        with self._lock:
            out = self._settle(now)
            if level != self._raw:
                self._raw = level
                self._raw_since = now
            return out

    def settle(self, now: float) -> list[tuple[bool, float]]:
        """Confirm the raw level if it has been stable long enough; returns the new level or nothing."""
        with self._lock:
            return self._settle(now)

    def _settle(self, now: float) -> list[tuple[bool, float]]:
        if self._raw != self._stable and now - self._raw_since >= self.bounce:
            self._stable = self._raw
            return [(self._stable, self._raw_since)]
        return []
