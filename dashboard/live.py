"""Live updates: committed readings, gate events and alert changes fanned out to server-sent-event clients.

Memory stays bounded whatever ingest does and however slow a client reads: with nobody connected a
batch costs one check; readings are coalesced to the newest value per (device, metric) both while
they wait for the event loop and in each client's backlog; everything else waits in bounded buffers
that lose their oldest entry (counted) when full. The ingest thread never waits for the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from dashboard.cache import Versioned
from gateway.alerts.model import Alert, AlertChange
from gateway.config import Config
from gateway.model import CommittedBatch

log = logging.getLogger(__name__)

#: Messages other than readings (events, availability, alerts) a client may fall behind by before it
#: loses the oldest; readings are coalesced per (device, metric) on top of this, so they never crowd
#: out an alert.
QUEUE_SIZE = 256
#: Messages waiting for the event loop (all clients together), readings coalesced the same way.
PENDING_SIZE = 1024

#: A key that coalesces (a reading's device and metric) or None (always kept, in order).
Key = Hashable | None


@dataclass(frozen=True)  # no slots: ``encode`` caches its frame in the instance dict
class LiveMessage:
    """One server-sent event: its type and JSON data."""

    event: str
    data: Mapping[str, Any]

    @cached_property
    def _frame(self) -> bytes:
        return f"event: {self.event}\ndata: {json.dumps(self.data, ensure_ascii=False)}\n\n".encode()

    def encode(self) -> bytes:
        """The ``text/event-stream`` frame, serialised once however many clients it goes to."""
        return self._frame


#: A waiting message, the area it concerns (None: everyone) and its coalescing key.
Item = tuple[LiveMessage, str | None, Key]


class Backlog:
    """Messages in order, keyed ones replaced by newer ones of the same key, at most ``limit`` others.

    Not thread-safe: the hub guards its own with a lock, a subscription's lives on the event loop.
    """

    def __init__(self, limit: int) -> None:
        self._items: OrderedDict[tuple[bool, Hashable], Item] = OrderedDict()
        self._limit = limit
        self._others = 0
        self._seq = 0
        self.dropped = 0
        self.coalesced = 0

    def __len__(self) -> int:
        return len(self._items)

    def add(self, msg: LiveMessage, area: str | None, key: Key = None) -> None:
        """Append ``msg`` (for ``area``); a keyed one replaces the waiting one with that key."""
        if key is not None:
            if self._items.pop((True, key), None) is not None:
                self.coalesced += 1
            # re-inserted at the end: the newest value arrives in its place among the events
            self._items[(True, key)] = (msg, area, key)
            return
        self._seq += 1
        self._items[(False, self._seq)] = (msg, area, None)
        self._others += 1
        if self._others > self._limit:
            for k in self._items:  # the oldest unkeyed message goes; keyed ones are coalesced already
                if not k[0]:
                    del self._items[k]
                    break
            self._others -= 1
            self.dropped += 1

    def pop(self) -> Item:
        """The oldest message with its area and key; raises KeyError when empty."""
        k, item = self._items.popitem(last=False)
        if not k[0]:
            self._others -= 1
        return item

    def drain(self) -> list[Item]:
        """Every message, oldest first, leaving the backlog empty."""
        items = list(self._items.values())
        self._items.clear()
        self._others = 0
        return items


def reading_key(device: str, metric: str) -> tuple[str, str]:
    """The coalescing key of a live reading."""
    return (device, metric)


class Subscription:
    """One connected client's backlog, filled and read on the server's event loop."""

    def __init__(self, hub: LiveHub, area_filter: frozenset[str] | None) -> None:
        self.areas = area_filter
        self._hub = hub
        self._backlog = Backlog(QUEUE_SIZE)
        self._ready = asyncio.Event()
        self._closed = False

    @property
    def dropped(self) -> int:
        """Messages this client lost by falling too far behind."""
        return self._backlog.dropped

    @property
    def waiting(self) -> int:
        """Messages not yet sent to this client."""
        return len(self._backlog)

    def wants(self, area: str | None) -> bool:
        """True when messages of ``area`` (None: for everyone) go to this client."""
        return area is None or self.areas is None or area in self.areas

    def put(self, msg: LiveMessage, key: Key = None) -> None:
        """Queue ``msg`` (on the loop); a keyed one replaces a waiting one with the same key."""
        self._backlog.add(msg, None, key)
        self._ready.set()

    def end(self) -> None:
        """The stream ends once what is queued has been sent (on the loop)."""
        self._closed = True
        self._ready.set()

    async def get(self) -> LiveMessage | None:
        """The next message, waiting for one; None when the stream ends."""
        while not len(self._backlog):
            if self._closed:
                return None
            self._ready.clear()
            await self._ready.wait()
        return self._backlog.pop()[0]

    def close(self) -> None:
        """Stop receiving."""
        self._hub.unsubscribe(self)


class LiveHub:
    """A BatchObserver and alert listener that forwards to subscribers on the server's event loop.

    ``on_batch``, ``on_alert_change`` and ``publish`` may run on any thread (ingest writer, alert
    service, request handlers): they put the message in one bounded, coalescing buffer and, if no
    flush is scheduled yet, schedule one on the loop; they never block on the loop or raise.
    """

    def __init__(self, config: Config, describe: Callable[[Alert], dict[str, Any]] | None = None) -> None:
        self._config = config
        self._describe = describe
        self._areas = {d.id: d.area for d in config.devices}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subs: set[Subscription] = set()
        self._lock = threading.Lock()
        self._pending = Backlog(PENDING_SIZE)
        self._flush_scheduled = False
        self.sent = 0
        #: Bumped on every batch, alert change and gate change: cached page data older than it is stale.
        self.changes = Versioned()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Attach to the server's event loop (in the app's lifespan)."""
        self._loop = loop

    def subscribe(self, areas: frozenset[str] | None = None) -> Subscription:
        """A new client; ``areas`` limits device messages to those areas (None: all)."""
        sub = Subscription(self, areas)
        with self._lock:
            self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Forget a client."""
        with self._lock:
            self._subs.discard(sub)

    @property
    def clients(self) -> int:
        """How many clients are connected."""
        with self._lock:
            return len(self._subs)

    def stats(self) -> dict[str, int]:
        """Counters: clients, messages waiting for the loop, dropped and coalesced there."""
        with self._lock:
            return {"clients": len(self._subs), "pending": len(self._pending), "dropped": self._pending.dropped,
                    "coalesced": self._pending.coalesced, "sent": self.sent}

    def close(self) -> None:
        """Tell every client the stream ends (server shutdown)."""
        loop = self._loop
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            if loop is None or loop.is_closed():
                continue
            if _on_loop(loop):
                sub.end()
            else:
                with contextlib.suppress(RuntimeError):  # loop closing during shutdown
                    loop.call_soon_threadsafe(sub.end)

    def _area(self, device: str) -> str:
        return self._areas.get(device, "other")

    def on_batch(self, batch: CommittedBatch) -> None:
        """BatchObserver: forward readings (newest per device and metric), events and availability."""
        self.changes.bump()
        if not self._subs:  # nobody watching: nothing to build or keep (read without the lock: a hint)
            return
        try:
            newest: dict[tuple[str, str], Any] = {}
            for r in batch.readings:
                k = reading_key(r.device, r.metric)
                old = newest.get(k)
                if old is None or r.ts >= old.ts:
                    newest[k] = r
            items: list[tuple[LiveMessage, str | None, Key]] = [
                (LiveMessage("reading", {"device": r.device, "metric": r.metric, "value": r.value, "ts": r.ts}),
                 self._area(r.device), k) for k, r in newest.items()]
            items += [(LiveMessage("event", {"device": e.device, "type": e.type, "ts": e.ts, "data": dict(e.data)}),
                       self._area(e.device), None) for e in batch.events]
            items += [(LiveMessage("availability", {"device": a.device, "online": a.online, "ts": a.ts}),
                       self._area(a.device), None) for a in batch.availability]
            self._enqueue(items)
        except Exception:  # an observer must never break ingest
            log.exception("live update failed")

    def on_alert_change(self, change: AlertChange) -> None:
        """Alert listener: forward the change with the alert's fields and area."""
        self.changes.bump()
        if not self._subs:
            return
        try:
            data = self._describe(change.alert) if self._describe else change.alert.as_dict()
            data["change"] = change.kind
            data["area"] = self._area(change.alert.device)
            self.publish(LiveMessage("alert", data), None)
        except Exception:
            log.exception("live alert update failed")

    def publish(self, msg: LiveMessage, area: str | None, key: Key = None) -> None:
        """Send to every subscriber interested in ``area`` (None: everyone); thread-safe.

        A ``key`` (e.g. ``reading_key(device, metric)``) lets a newer message replace a waiting one.
        """
        self.changes.bump()
        self._enqueue([(msg, area, key)])

    def _enqueue(self, items: Iterable[tuple[LiveMessage, str | None, Key]]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed() or not self._subs:
            return
        with self._lock:
            for msg, area, key in items:
                self._pending.add(msg, area, key)
            if self._flush_scheduled or not len(self._pending):
                return
            self._flush_scheduled = True
        try:
            loop.call_soon_threadsafe(self._flush)
        except RuntimeError:  # loop closing during shutdown
            with self._lock:
                self._flush_scheduled = False
                self._pending.drain()

    def _flush(self) -> None:
        """On the loop: hand what waits to each interested subscriber."""
        with self._lock:
            items = self._pending.drain()
            self._flush_scheduled = False
            subs = list(self._subs)
        for msg, area, key in items:
            for sub in subs:
                if sub.wants(area):
                    sub.put(msg, key)
            self.sent += 1


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
