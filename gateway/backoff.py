"""Retry delays written once: exponential, capped, with optional jitter, and a wait that ends on stop.

The sensor agent imports this module, so it stays standard library only.
"""

from __future__ import annotations

import random
import threading
import time


class Backoff:
    """Delays ``initial``, ``initial * factor``, ... up to ``cap`` seconds; ``reset()`` after a success.

    ``jitter`` (0 to 1) takes up to that fraction off each delay at random, so several gateways or
    channels retrying the same server do not retry in step; 0 gives the exact sequence.
    """

    def __init__(self, initial: float, cap: float, *, factor: float = 2.0, jitter: float = 0.0,
                 rng: random.Random | None = None) -> None:
        if initial < 0 or cap < initial or factor < 1 or not 0 <= jitter <= 1:
            raise ValueError(f"backoff {initial=}, {cap=}, {factor=}, {jitter=}: need 0 <= initial <= cap, "
                             "factor >= 1 and jitter in [0, 1]")
        self.initial = initial
        self.cap = cap
        self.factor = factor
        self.jitter = jitter
        self._rng = rng or random.Random()
        #: Failures since the last ``reset()``.
        self.failures = 0

    def delay(self, failures: int) -> float:
        """The delay after the ``failures``-th failure in a row (1 gives about ``initial``)."""
        exponent = min(max(failures, 1) - 1, 64)  # no float overflow after a very long outage
        base = min(self.cap, self.initial * self.factor ** exponent)
        return base * (1.0 - self.jitter * self._rng.random()) if self.jitter else base

    def next_delay(self) -> float:
        """Count a failure and return how long to wait before the next try."""
        self.failures += 1
        return self.delay(self.failures)

    def wait(self, stop: threading.Event | None = None) -> bool:
        """Count a failure and wait the next delay; True (at once) when ``stop`` is or becomes set."""
        delay = self.next_delay()
        if stop is None:
            time.sleep(delay)
            return False
        return stop.wait(delay)

    def reset(self) -> None:
        """A try succeeded: the next failure waits ``initial`` again."""
        self.failures = 0
