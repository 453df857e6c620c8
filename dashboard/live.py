"""Live updates: committed readings, gate events and alert changes fanned out to server-sent-event clients."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gateway.alerts.model import Alert, AlertChange
from gateway.config import AREA_OF_KIND, Config
from gateway.model import CommittedBatch

log = logging.getLogger(__name__)

#: Messages a slow client may fall behind by before it loses the oldest.
QUEUE_SIZE = 256


@dataclass(frozen=True, slots=True)
class LiveMessage:
    """One server-sent event: its type and JSON data."""

    event: str
    data: Mapping[str, Any]

    def encode(self) -> bytes:
        """The ``text/event-stream`` frame."""
        return f"event: {self.event}\ndata: {json.dumps(self.data, ensure_ascii=False)}\n\n".encode()


class Subscription:
    """One connected client's queue."""

    def __init__(self, hub: LiveHub, area_filter: frozenset[str] | None) -> None:
        self.queue: asyncio.Queue[LiveMessage | None] = asyncio.Queue(QUEUE_SIZE)
        self.areas = area_filter
        self._hub = hub
        self.dropped = 0

    def close(self) -> None:
        """Stop receiving."""
        self._hub.unsubscribe(self)


class LiveHub:
    """A BatchObserver and alert listener that forwards to subscribers on the server's event loop.

    ``on_batch`` and ``on_alert_change`` run on other threads (ingest writer, alert service), so
    they only hand the message to the loop with ``call_soon_threadsafe``; they never block or raise.
    """

    def __init__(self, config: Config, describe: Callable[[Alert], dict[str, Any]] | None = None) -> None:
        self._config = config
        self._describe = describe
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subs: set[Subscription] = set()
        self._lock = threading.Lock()
        self.sent = 0

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

    def close(self) -> None:
        """Tell every client the stream ends (server shutdown)."""
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            self._deliver_to(sub, None)

    def _area(self, device: str) -> str:
        d = self._config.device(device)
        return AREA_OF_KIND[d.kind] if d else "other"

    def on_batch(self, batch: CommittedBatch) -> None:
        """BatchObserver: forward readings, events and availability."""
        try:
            for r in batch.readings:
                self.publish(LiveMessage("reading", {"device": r.device, "metric": r.metric, "value": r.value,
                                                     "ts": r.ts}), self._area(r.device))
            for e in batch.events:
                self.publish(LiveMessage("event", {"device": e.device, "type": e.type, "ts": e.ts,
                                                   "data": dict(e.data)}), self._area(e.device))
            for a in batch.availability:
                self.publish(LiveMessage("availability", {"device": a.device, "online": a.online, "ts": a.ts}),
                             self._area(a.device))
        except Exception:  # an observer must never break ingest
            log.exception("live update failed")

    def on_alert_change(self, change: AlertChange) -> None:
        """Alert listener: forward the change with the alert's fields and area."""
        try:
            data = self._describe(change.alert) if self._describe else change.alert.as_dict()
            data["change"] = change.kind
            data["area"] = self._area(change.alert.device)
            self.publish(LiveMessage("alert", data), None)
        except Exception:
            log.exception("live alert update failed")

    def publish(self, msg: LiveMessage, area: str | None) -> None:
        """Send to every subscriber interested in ``area`` (None: everyone); thread-safe."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with self._lock:
            targets = [s for s in self._subs if area is None or s.areas is None or area in s.areas]
        if targets:
            with contextlib.suppress(RuntimeError):  # loop closing during shutdown
                loop.call_soon_threadsafe(self._fanout, targets, msg)

    def _fanout(self, targets: list[Subscription], msg: LiveMessage) -> None:
        for sub in targets:
            self._deliver_to(sub, msg)
        self.sent += 1

    def _deliver_to(self, sub: Subscription, msg: LiveMessage | None) -> None:
        loop = self._loop
        if loop is None:
            return
        def put() -> None:
            if sub.queue.full():
                # a stalled client loses its oldest message rather than holding memory
                sub.queue.get_nowait()
                sub.dropped += 1
            sub.queue.put_nowait(msg)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            put()
        else:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(put)
