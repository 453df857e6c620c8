"""Short-lived cache of what pages and the API compute from the stores, dropped as soon as data changes.

Fifty guards' tablets and office browsers asking for the Overview within the same second need one
computation, not fifty. An entry is used only while the data version it was computed at is still
current (the live hub bumps it on every committed batch, alert change and gate change) and for at
most ``ttl`` seconds, so a page is never older than the newest data by more than that and an alert
shows at once.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

T = TypeVar("T")

#: How long a result may be reused while no new data arrived (seconds).
TTL_S = 2.0
#: Results kept at most (least recently used go first).
MAX_ENTRIES = 64


class Versioned:
    """A counter bumped whenever data the dashboard shows may have changed (thread-safe enough: an int)."""

    def __init__(self) -> None:
        self.version = 0

    def bump(self) -> None:
        """Something changed: every cached result computed before is stale."""
        self.version += 1


class ResultCache:
    """Results per key, valid for the data version they were computed at and at most ``ttl`` seconds.

    ``ttl`` 0 turns caching off (a dashboard that is not told about new data must not cache).
    ``clock`` is monotonic seconds (injectable for tests).
    """

    def __init__(self, data: Versioned, ttl: float = TTL_S, max_entries: int = MAX_ENTRIES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._data = data
        self.ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._items: OrderedDict[Hashable, tuple[int, float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._inflight: dict[Hashable, asyncio.Future[Any]] = {}
        self.hits = 0
        self.misses = 0

    def _lookup(self, key: Hashable, version: int, now: float, through_changes: bool) -> tuple[bool, Any]:
        with self._lock:
            item = self._items.get(key)
            if item is not None and (through_changes or item[0] == version) and now - item[1] < self.ttl:
                self._items.move_to_end(key)
                self.hits += 1
                return True, item[2]
            self.misses += 1
            return False, None

    def _store(self, key: Hashable, version: int, now: float, value: Any) -> None:
        with self._lock:
            self._items[key] = (version, now, value)
            self._items.move_to_end(key)
            while len(self._items) > self._max:
                self._items.popitem(last=False)

    async def aget(self, key: Hashable, compute: Callable[[], T], *, through_changes: bool = False) -> T:
        """Like ``get`` for a route: a miss is computed in a worker thread, so a slow query never stalls
        the event loop (every other page and live stream), and only once for callers arriving meanwhile."""
        if self.ttl <= 0:
            return await run_in_threadpool(compute)
        version, now = self._data.version, self._clock()
        found, value = self._lookup(key, version, now, through_changes)
        if found:
            hit: T = value
            return hit
        running = self._inflight.get(key)  # only touched on the event loop
        if running is not None:
            shared: T = await asyncio.shield(running)
            return shared
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        future.add_done_callback(lambda f: f.cancelled() or f.exception())  # no "never retrieved" warning
        self._inflight[key] = future
        try:
            result = await run_in_threadpool(compute)
        except BaseException as e:
            future.set_exception(e)
            raise
        finally:
            del self._inflight[key]
        self._store(key, version, now, result)
        future.set_result(result)
        return result

    def get(self, key: Hashable, compute: Callable[[], T], *, through_changes: bool = False) -> T:
        """The cached result for ``key``, or ``compute()`` (stored for the next callers).

        ``through_changes``: reuse it for the whole ``ttl`` even when data changed meanwhile (for
        results where a second or two behind is fine and the live stream fills in, like chart series).
        """
        if self.ttl <= 0:
            return compute()
        version, now = self._data.version, self._clock()
        found, cached = self._lookup(key, version, now, through_changes)
        if found:
            hit: T = cached
            return hit
        value = compute()  # outside the lock: a slow store never blocks other keys
        self._store(key, version, now, value)
        return value

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._items.clear()
