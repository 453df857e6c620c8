"""Ingest: MQTT message -> route -> decode -> validate -> queue -> one writer thread -> commit -> ack.

``on_message`` runs on the MQTT network thread: it routes the topic to its device(s), decodes and
validates, and puts the result on a bounded queue (when the queue is full it waits: backpressure to
the broker, which holds what we have not acked). One writer thread takes batches off the queue,
drops duplicates by ``seq``, turns meter totals into usage, writes the readings to the time-series
store, then commits dead letters, events, meter state and device status to the events database,
and only THEN acks every message of the batch in order and tells the observers. A crash anywhere
before the ack means the broker delivers again; every write is idempotent, so nothing is doubled.
"""

from __future__ import annotations

import json
import logging
import queue
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gateway import contract
from gateway.clock import Clock
from gateway.decoders import Decoder, registry
from gateway.decoders import native as native_decoder
from gateway.errors import DecodeError
from gateway.listeners import Listeners
from gateway.meters import Meters, SeqFilter
from gateway.model import Availability, BatchObserver, CommittedBatch, Decoded, Event, Reading
from gateway.mqtt_link import topic_matches
from gateway.validate import Refusal, check_size, validate

if TYPE_CHECKING:
    from gateway.config import Config, DeviceSettings
    from gateway.deadletters import DeadLetters
    from gateway.eventsdb import EventsDB
    from gateway.mqtt_link import InboundMessage
    from gateway.store.base import TimeSeriesStore

log = logging.getLogger(__name__)

#: Messages waiting for the writer; past it ``on_message`` waits (the broker holds the rest).
QUEUE_SIZE = 20_000
#: Most messages committed in one transaction.
MAX_BATCH = 2000
_ROUTE_CACHE_MAX = 50_000
_RETRY_MAX_S = 30.0


@dataclass(slots=True)
class _Part:
    """What one message carried for one device (several devices may share a topic)."""

    device: str | None
    settings: DeviceSettings | None
    decoded: Decoded | None
    refusals: list[Refusal]


@dataclass(slots=True)
class _Item:
    msg: InboundMessage
    received: float
    parts: list[_Part] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """When a device was last heard from and its last availability (None if it never said)."""

    device: str
    #: Receive time of its last message of any kind, availability included.
    last_seen: float
    online: bool | None
    online_since: float | None
    #: Receive time of its last real reading or event; None when none came (availability alone).
    last_data: float | None = None


def device_status(events_db: EventsDB) -> dict[str, DeviceStatus]:
    """Last-seen and availability of every device ingest has heard from."""
    rows = events_db.conn().execute("SELECT device, last_seen, online, online_since, last_data FROM device_status")
    return {d: DeviceStatus(d, seen, None if on is None else bool(on), since, data)
            for d, seen, on, since, data in rows}


class Ingest:
    """Routes, decodes, validates and commits MQTT messages; see the module docstring."""

    def __init__(self, config: Config, store: TimeSeriesStore, events_db: EventsDB, dead_letters: DeadLetters,
                 clock: Clock, *, queue_size: int = QUEUE_SIZE, max_batch: int = MAX_BATCH,
                 decoders: dict[str, Decoder] | None = None) -> None:
        self._site = config.site.id
        self._native_prefix = f"{contract.ROOT}/{self._site}/"
        self._own_topic = contract.gateway_availability_topic(self._site)
        self._store = store
        self._db = events_db
        self._dead = dead_letters
        self._clock = clock
        self._max_batch = max_batch
        # SimpleQueue (C, no locks in Python) bounded by hand: the hot path puts one item per message.
        self._q: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._queue_size = queue_size
        self._queued = 0  # only the network thread writes it
        self._done = 0  # only the writer thread writes it
        self._idle = threading.Condition()
        self._observers: Listeners[[CommittedBatch]] = Listeners("observer", log_once=True)
        self._meters = Meters()
        self._seqs = SeqFilter()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._last_commit: float | None = None
        decs = dict(decoders) if decoders is not None else dict(registry())
        self._native: dict[str, DeviceSettings] = {}
        self._other: dict[str, DeviceSettings] = {}
        self._routes: list[tuple[str, DeviceSettings, Decoder]] = []
        self._filters: list[str] = list(contract.subscriptions(self._site))
        for d in config.devices:
            if d.format == "native":
                self._native[d.id] = d
                continue
            self._other[d.id] = d
            dec = decs.get(d.format)
            if dec is None:
                log.error("device %s: format %r has no decoder installed; its messages are dead-lettered",
                          d.id, d.format)
                filters = [d.topic] if d.topic else []
            else:
                filters = dec.topics(d, self._site)
                for f in filters:
                    self._routes.append((f, d, dec))
            for f in filters:
                if f not in self._filters:
                    self._filters.append(f)
        self._route_cache: dict[str, list[tuple[DeviceSettings, Decoder]]] = {}

    # -- wiring ----------------------------------------------------------------------------------
    def subscriptions(self) -> list[str]:
        """Every topic filter the gateway must subscribe to (native wildcards and device topics)."""
        return list(self._filters)

    def add_observer(self, observer: BatchObserver) -> None:
        """Be told of every committed batch (on the writer thread: be quick, never raise)."""
        self._observers.add(observer.on_batch)

    def start(self) -> None:
        """Load the meter and seq state and start the writer thread."""
        conn = self._db.conn()
        self._meters.load(conn)
        self._seqs.load(conn)
        self._stopping.clear()
        self._thread = threading.Thread(target=self._writer, name="houqin-ingest-writer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Commit one more batch of what is queued and stop the writer (the rest is redelivered next start)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("ingest writer did not finish within %.0f s; unacked messages will be redelivered",
                            timeout)
            self._thread = None

    def wait_idle(self, timeout: float) -> bool:
        """Block until everything queued is committed, acked and told to observers, or ``timeout`` s."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._done < self._queued:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(min(remaining, 0.1))
        return True

    def stats(self) -> dict[str, Any]:
        """Counters for /metrics and the CLI: messages, readings, refusals per reason, queue depth."""
        with self._lock:
            c = dict(self._counts)
            last = self._last_commit
        refused = self._dead.counts()
        return {
            "received": self._queued,
            "messages": c.get("messages", 0),
            "readings": c.get("readings", 0),
            "events": c.get("events", 0),
            "duplicates": c.get("duplicates", 0),
            "refused": refused,
            "refused_total": sum(refused.values()),
            "batches": c.get("batches", 0),
            "acked": c.get("acked", 0),
            "commit_errors": c.get("commit_errors", 0),
            "queue_depth": self._q.qsize(),
            "queue_size": self._queue_size,
            "last_commit": last,
        }

    # -- network thread --------------------------------------------------------------------------
    def on_message(self, msg: InboundMessage) -> None:
        """Route, decode and validate one message, then queue it for the writer (network thread)."""
        now = self._clock.now()
        item = _Item(msg, now)
        topic = msg.topic
        too_large = check_size(msg.payload)
        if topic == self._own_topic:
            pass  # our own birth/will, matched by the native wildcard: nothing to store
        elif topic.startswith(self._native_prefix):
            item.parts.append(self._native_part(topic, msg.payload, now, too_large))
        else:
            routes = self._routes_for(topic)
            if not routes:
                item.parts.append(_Part(None, None, None, [Refusal("unknown_topic", "no configured device "
                                                                    "uses this topic")]))
            for settings, dec in routes:
                item.parts.append(self._decode_part(settings, dec, topic, msg.payload, now, too_large))
        while self._q.qsize() >= self._queue_size:  # backpressure: the broker holds what we have not acked
            if self._stopping.wait(0.01):
                return  # not acked: the broker delivers it again after the restart
        self._queued += 1
        self._q.put(item)

    def _native_part(self, topic: str, payload: bytes, now: float, too_large: Refusal | None) -> _Part:
        parts = contract.parse_topic(topic)
        if parts is None:
            return _Part(None, None, None, [Refusal("bad_topic", "expected houqin/{site}/{device}/{channel}")])
        settings = self._native.get(parts.device)
        if settings is None:
            other = self._other.get(parts.device)
            detail = (f"device {parts.device!r} is configured with format {other.format!r}, not native" if other
                      else f"device {parts.device!r} is not in [[devices]] of the config; add it there")
            return _Part(parts.device, None, None, [Refusal("unknown_device", detail)])
        if too_large is not None:
            return _Part(settings.id, settings, None, [too_large])
        if parts.channel == "set":
            return _Part(settings.id, settings, None, [])  # our own commands: nothing to store
        try:
            decoded = native_decoder.decode_channel(settings.id, parts.channel, payload, now)
        except DecodeError as e:
            return _Part(settings.id, settings, None, [Refusal(e.reason, e.detail)])
        kept, refusals = validate(decoded, now)
        return _Part(settings.id, settings, kept, refusals)

    def _decode_part(self, settings: DeviceSettings, dec: Decoder, topic: str, payload: bytes, now: float,
                     too_large: Refusal | None) -> _Part:
        if too_large is not None:
            return _Part(settings.id, settings, None, [too_large])
        try:
            decoded = dec.decode(settings, topic, payload, now)
        except DecodeError as e:
            return _Part(settings.id, settings, None, [Refusal(e.reason, e.detail)])
        except Exception as e:  # a decoder bug refuses the message, never ingest
            log.exception("decoder %s failed on %s", getattr(dec, "FORMAT", "?"), topic)
            return _Part(settings.id, settings, None, [Refusal("decoder_error", type(e).__name__)])
        kept, refusals = validate(decoded, now)
        return _Part(settings.id, settings, kept, refusals)

    def _routes_for(self, topic: str) -> list[tuple[DeviceSettings, Decoder]]:
        routes = self._route_cache.get(topic)
        if routes is None:
            routes = [(d, dec) for f, d, dec in self._routes if topic_matches(f, topic)]
            if len(self._route_cache) >= _ROUTE_CACHE_MAX:
                self._route_cache.clear()
            self._route_cache[topic] = routes
        return routes

    # -- writer thread ---------------------------------------------------------------------------
    def _writer(self) -> None:
        q = self._q
        while True:
            try:
                first = q.get(timeout=0.2)
            except queue.Empty:
                if self._stopping.is_set():
                    return
                continue
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    batch.append(q.get_nowait())
                except queue.Empty:
                    break
            stopping = self._stopping.is_set()
            committed = self._commit_with_retry(batch)
            if committed is None:
                return  # stopping without a commit: those messages stay unacked and come again
            try:
                for item in batch:
                    item.msg.ack()
            except Exception:  # link torn down under us: the broker redelivers, writes are idempotent
                log.warning("could not ack %d committed message(s); they will be delivered again", len(batch),
                            exc_info=True)
            with self._lock:
                self._counts["acked"] += len(batch)
            if committed.readings or committed.events or committed.availability:
                self._observers.tell(committed)
            self._batch_done(len(batch))
            if stopping:
                return  # what is still queued is not acked: the broker delivers it again next start

    def _commit_with_retry(self, batch: list[_Item]) -> CommittedBatch | None:
        delay = 0.5
        while True:
            try:
                try:
                    return self._commit(batch)
                except Exception as e:
                    if _transient(e):
                        raise
                    with self._lock:
                        self._counts["commit_errors"] += 1
                    return self._commit_one_by_one(batch)
            except Exception as e:  # database locked, disk full, store down: wait, never drop
                with self._lock:
                    self._counts["commit_errors"] += 1
                log.error("could not commit %d message(s): %s; retrying in %.0f s", len(batch), e, delay)
                if self._stopping.wait(delay):
                    self._batch_done(len(batch))
                    return None
                delay = min(delay * 2, _RETRY_MAX_S)

    def _commit_one_by_one(self, batch: list[_Item]) -> CommittedBatch:
        """A message that trips a bug must not stall ingest: commit singly, dead-letter the culprit."""
        readings: list[Reading] = []
        events: list[Event] = []
        avail: list[Availability] = []
        for item in batch:
            try:
                c = self._commit([item])
            except Exception as e:
                if _transient(e):
                    raise
                log.exception("could not commit a message on %s; dead-lettered as internal_error", item.msg.topic)
                device = item.parts[0].device if item.parts else None
                self._dead.record(item.msg.topic, "internal_error", item.msg.payload, device,
                                  f"{type(e).__name__}: {e}")
                continue
            readings.extend(c.readings)
            events.extend(c.events)
            avail.extend(c.availability)
        return CommittedBatch(tuple(readings), tuple(events), tuple(avail))

    def _batch_done(self, n: int) -> None:
        with self._idle:
            self._done += n
            self._idle.notify_all()

    def _commit(self, batch: list[_Item]) -> CommittedBatch:
        conn = self._db.conn()
        readings: list[Reading] = []
        events: list[Event] = []
        avail: list[Availability] = []
        seen: dict[str, float] = {}
        #: Devices that sent a real reading or event (not only availability or refused values).
        data: dict[str, float] = {}
        dead: list[tuple[str, str, bytes, str | None, str]] = []  # written inside the events-DB transaction
        duplicates = 0
        # The events-DB write lock is taken only after the time-series write: held across the store's
        # write (rollups included) it made every alert commit (AlertStore, same file) wait out the whole
        # batch, the largest part of the alert-latency tail under load. Safe because nothing is acked
        # before both commits: if the events-DB commit fails, the messages come again and the store
        # overwrites the same (series, ts) rows; meter and seq state are reloaded below.
        try:
            for item in batch:
                msg = item.msg
                for part in item.parts:
                    device = part.device
                    if device is not None and (part.settings is not None):
                        seen[device] = item.received
                    for ref in part.refusals:
                        dead.append((msg.topic, ref.reason, msg.payload, device, ref.detail))
                    d = part.decoded
                    if d is None:
                        continue
                    if d.seq is not None and device is not None and \
                            self._seqs.is_duplicate(device, d.seq, _ts_of(d, item.received)):
                        duplicates += 1
                        continue
                    if d.readings:
                        rs, refusals = self._meters.apply(part.settings, d.readings)
                        readings.extend(rs)
                        if rs and device is not None:
                            data[device] = item.received
                        for ref in refusals:
                            dead.append((msg.topic, ref.reason, msg.payload, device, ref.detail))
                    events.extend(d.events)
                    if d.events and device is not None:
                        data[device] = item.received
                    avail.extend(d.availability)
            if readings:
                self._store.write(readings)
            conn.execute("BEGIN IMMEDIATE")
            for topic, reason, payload, device, detail in dead:
                self._dead.write(topic, reason, payload, device, detail)
            if events:
                conn.executemany(
                    "INSERT OR IGNORE INTO device_events (ts, device, type, data) VALUES (?, ?, ?, ?)",
                    [(e.ts, e.device, e.type, json.dumps(dict(e.data), sort_keys=True, ensure_ascii=False,
                                                         default=str)) for e in events])
            if seen:
                conn.executemany(
                    "INSERT INTO device_status (device, last_seen) VALUES (?, ?) ON CONFLICT (device) "
                    "DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)", list(seen.items()))
            if data:
                conn.executemany(
                    "INSERT INTO device_status (device, last_seen, last_data) VALUES (?, ?, ?) ON CONFLICT (device) "
                    "DO UPDATE SET last_data = max(coalesce(last_data, 0), excluded.last_data)",
                    [(dev, ts, ts) for dev, ts in data.items()])
            if avail:
                conn.executemany(
                    "INSERT INTO device_status (device, last_seen, online, online_since) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (device) DO UPDATE SET online = excluded.online, "
                    # a retained "online" delivered again on resubscribe is not a new "since"
                    "online_since = CASE WHEN online IS excluded.online THEN online_since "
                    "ELSE excluded.online_since END",
                    [(a.device, a.ts, int(a.online), a.ts) for a in avail])
            self._meters.save(conn)
            self._seqs.save(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._meters.load(conn)
            self._seqs.load(conn)
            raise
        for topic, reason, _, device, detail in dead:  # counted only once committed
            self._dead.note(topic, reason, device, detail)
        with self._lock:
            c = self._counts
            c["messages"] += sum(1 for item in batch if item.parts)
            c["readings"] += len(readings)
            c["events"] += len(events)
            c["duplicates"] += duplicates
            c["batches"] += 1
            self._last_commit = self._clock.now()
        return CommittedBatch(tuple(readings), tuple(events), tuple(avail))


def _transient(e: BaseException) -> bool:
    """Errors worth waiting out (locked or full database, store unreachable) rather than a bad message."""
    return isinstance(e, sqlite3.OperationalError | OSError)


def _ts_of(d: Decoded, default: float) -> float:
    if d.readings:
        return d.readings[0].ts
    if d.events:
        return d.events[0].ts
    return default
