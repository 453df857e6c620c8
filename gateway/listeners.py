"""One registry of listeners: parts add callbacks, the owner tells them all of a change.

A listener runs on the telling thread, so it must be quick; one that raises is logged (once, when asked)
and never breaks the change nor the other listeners.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, ParamSpec

log = logging.getLogger(__name__)

P = ParamSpec("P")


class Listeners(Generic[P]):
    """Callbacks told of one kind of change, in the order they were added (safe to use from any thread)."""

    def __init__(self, what: str, *, log_once: bool = False) -> None:
        #: What the listeners are, for the log (e.g. "alert listener").
        self.what = what
        self._log_once = log_once
        self._items: tuple[Callable[P, None], ...] = ()
        self._failed: set[int] = set()
        self._lock = threading.Lock()

    def add(self, listener: Callable[P, None]) -> None:
        """Tell ``listener`` of every change from now on."""
        with self._lock:
            self._items = (*self._items, listener)  # a new tuple: tell() reads it without the lock

    def __len__(self) -> int:
        return len(self._items)

    def tell(self, *args: P.args, **kwargs: P.kwargs) -> None:
        """Call every listener with these arguments; a failing one is logged, not raised."""
        for listener in self._items:
            try:
                listener(*args, **kwargs)
            except Exception:
                if not self._log_once:
                    log.exception("%s %r failed", self.what, listener)
                elif id(listener) not in self._failed:  # once per listener, not per change
                    self._failed.add(id(listener))
                    log.exception("%s %r failed (further failures are not logged)", self.what, listener)
