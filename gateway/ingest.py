"""Ingest: MQTT message -> route -> decode -> validate -> queue -> one writer thread -> commit -> ack.

``on_message`` runs on the MQTT network thread: it routes the topic to its device(s), decodes and
validates, and puts the result on a bounded queue (when the queue is full it waits: backpressure to
the broker, which holds what we have not acked). One writer thread takes batches off the queue,
drops duplicates by ``seq``, turns meter totals into usage, writes the readings to the time-series
store together with the meter state and the seqs a redelivery needs (one transaction:
``gateway.store.ingest_state``; see ``_commit`` for the seqs that are saved later),
then commits dead letters, events and availability to the events database, and only THEN acks every
message of the batch in order and tells the observers. A crash anywhere before the ack means the broker
delivers again; every write is idempotent, so nothing is doubled. A crash between the two commits finds
the readings' seq and meter state committed with them (the redelivered readings are duplicates, or a
total without usage) and the events' seq, kept in the events database and written only by messages
that carry events, not yet moved (the events are stored).

Every message ends committed or dead-lettered, then acked: whatever routing, a decoder or the
validator raises becomes a dead letter (a message left unacked would hold a place in the broker's
receive window for good). A store that cannot commit is retried and nothing is acked meanwhile.
Readings stamped on arrival get a millisecond of their own per device (``gateway.stamps``), once per
message, so a retried commit writes the same stamps.
"""

from __future__ import annotations

import collections
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
from gateway.kinds import KINDS
from gateway.listeners import Listeners
from gateway.meters import Meters, SeqFilter, load_ingest_state
from gateway.model import Availability, BatchObserver, CommittedBatch, Decoded, Event, Reading
from gateway.mqtt_link import RECEIVE_MAXIMUM, topic_matches
from gateway.stamps import ArrivalStamps
from gateway.store import ingest_state
from gateway.store.ingest_state import IngestState
from gateway.validate import Refusal, check_size, check_topic, validate

if TYPE_CHECKING:
    from gateway.config import Config, DeviceSettings
    from gateway.deadletters import DeadLetters
    from gateway.eventsdb import EventsDB
    from gateway.mqtt_link import InboundMessage
    from gateway.store.base import TimeSeriesStore

log = logging.getLogger(__name__)

#: Messages waiting for the writer; past it ``on_message`` waits (the broker holds the rest).
QUEUE_SIZE = 20_000
#: Most messages committed in one transaction (and at most the broker's in-flight window, see ``Ingest``).
MAX_BATCH = 2000
#: Topics remembered with their routes (each at most ``contract.MAX_TOPIC_CHARS``: a few MB at most).
_ROUTE_CACHE_MAX = 4096
#: Seconds between saves of what is kept in memory between commits (``Ingest._save_status``): the
#: devices' last-seen times (a page written per reading is what wears an SD card out) and the seqs of
#: readings with their own time (see ``Ingest._commit``).
STATUS_SAVE_S = 300.0
#: Characters of an exception's text kept in a dead letter's detail.
_ERROR_CHARS = 200
_RETRY_MAX_S = 30.0


@dataclass(slots=True)
class _Part:
    """What one message carried for one device (several devices may share a topic)."""

    device: str | None
    settings: DeviceSettings | None
    decoded: Decoded | None
    refusals: list[Refusal]
    stamped: bool = False  # some of its readings are stamped on arrival (a redelivery would get a new stamp)


@dataclass(slots=True)
class _Item:
    msg: InboundMessage
    received: float
    parts: list[_Part] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Flush:
    """Put on the queue by ``wait_idle``: close the commit window and save the last-seen times now."""

    ticket: int


@dataclass(slots=True)
class _Prepared:
    """A commit window's messages turned into rows (duplicates dropped, meters applied), not yet written."""

    readings: list[Reading] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    avail: list[Availability] = field(default_factory=list)
    seen: dict[str, float] = field(default_factory=dict)
    #: Devices that sent a real reading or event (not only availability or refused values).
    data: dict[str, float] = field(default_factory=dict)
    # (topic, reason, payload, device, detail, configured device?), written inside the events-DB transaction
    dead: list[tuple[str, str, bytes, str | None, str, bool]] = field(default_factory=list)
    duplicates: int = 0
    seqs_due: bool = False  # a reading stamped on arrival moved a seq: the seq state commits with it
    ignored: int = 0  # parts of configured devices that carried nothing to store and were not refused
    broken: bool = False  # preparing a message raised: the commit prepares the window again, message by message


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
        # A window holding as many messages as the broker lets be in flight to us closes at once: the broker sends
        # no more until they are acked, so waiting out the interval only stalled (a backlog drained one window's
        # worth per commit_interval).
        self._max_batch = min(max_batch, RECEIVE_MAXIMUM)
        # SimpleQueue (C, no locks in Python) bounded by hand: the hot path puts one item per message.
        self._q: queue.SimpleQueue[_Item | _Flush] = queue.SimpleQueue()
        self._interval = config.storage.commit_interval
        self._urgent_devices = {d.id for d in config.devices if _urgent_kind(d.kind)}
        self._seen: dict[str, float] = {}  # last-seen times not yet saved (see _save_status)
        self._data: dict[str, float] = {}  # last real reading or event times not yet saved (likewise)
        self._status_saved = time.monotonic()
        self._flushes_asked = 0
        self._flushes_done = 0
        self._queue_size = queue_size
        self._queued = 0  # only the network thread writes it
        self._done = 0  # only the writer thread writes it
        self._idle = threading.Condition()
        self._observers: Listeners[[CommittedBatch]] = Listeners("observer", log_once=True)
        self._meters = Meters()
        self._seqs = SeqFilter()  # committed with the readings, in the store
        self._event_seqs = SeqFilter()  # committed with the events, in the events database
        self._stamps = ArrivalStamps()
        self._bugs_logged: set[tuple[str, str]] = set()  # (where, exception type): one traceback each
        self._failing_since: float | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._last_commit: float | None = None
        self._unacked: collections.deque[float] = collections.deque()  # arrival times, oldest first (FIFO)
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
        #: A configured native device's topic -> (its settings, the channel): parsed once, not per message.
        self._native_topics: dict[str, tuple[DeviceSettings, str]] = {}

    # -- wiring ----------------------------------------------------------------------------------
    def subscriptions(self) -> list[str]:
        """Every topic filter the gateway must subscribe to (native wildcards and device topics)."""
        return list(self._filters)

    def add_observer(self, observer: BatchObserver) -> None:
        """Be told of every committed batch (on the writer thread: be quick, never raise)."""
        self._observers.add(observer.on_batch)

    def start(self) -> None:
        """Load the meter and seq state and start the writer thread."""
        self._load_state()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._writer, name="houqin-ingest-writer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Commit one more batch of what is queued and stop the writer (the rest is redelivered next start)."""
        self._stopping.set()
        if self._thread is not None:
            self._q.put(_Flush(0))  # wakes a writer waiting in an open window: it commits it now, not at its end
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("ingest writer did not finish within %.0f s; unacked messages will be redelivered",
                            timeout)
            self._thread = None

    def wait_idle(self, timeout: float) -> bool:
        """Commit the open window now; block until everything queued is committed, acked and told to
        observers and the last-seen times are saved, or ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            with self._idle:
                self._flushes_asked += 1
                ticket = self._flushes_asked
            self._q.put(_Flush(ticket))  # closes the commit window now and saves the last-seen times
            with self._idle:
                while self._flushes_done < ticket:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self._idle.wait(min(remaining, 0.1))
                if self._done >= self._queued:
                    return True
            # A message counted before the flush but queued after it (on_message counts, then puts) opened
            # a window of its own behind the flush: close that one too, rather than wait out its interval.
            if time.monotonic() >= deadline:
                return False

    def stats(self) -> dict[str, Any]:
        """Counters for /metrics and the CLI: messages, readings, refusals per reason, queue depth.

        ``ignored`` counts message parts of configured devices that carried nothing to store (a
        Shelly's Wi-Fi status); ``commit_failing_since`` is when commits started failing, or None;
        ``oldest_unacked`` is when the oldest message not yet acknowledged arrived (None when all are).
        """
        with self._lock:
            c = dict(self._counts)
            last = self._last_commit
            oldest = self._unacked[0] if self._unacked else None
        refused = self._dead.counts()
        return {
            "received": self._queued,
            "messages": c.get("messages", 0),
            "readings": c.get("readings", 0),
            "events": c.get("events", 0),
            "duplicates": c.get("duplicates", 0),
            "ignored": c.get("ignored", 0),
            "refused": refused,
            "refused_total": sum(refused.values()),
            "batches": c.get("batches", 0),
            "acked": c.get("acked", 0),
            "commit_errors": c.get("commit_errors", 0),
            "queue_depth": self._q.qsize(),
            "queue_size": self._queue_size,
            "route_cache": len(self._route_cache),
            "last_commit": last,
            "commit_failing_since": self._failing_since,
            "oldest_unacked": oldest,
        }

    # -- network thread --------------------------------------------------------------------------
    def on_message(self, msg: InboundMessage) -> None:
        """Route, decode and validate one message, then queue it for the writer (network thread).

        Whatever routing, a decoder or the validator raises, the message is queued as a dead letter:
        a message left unacked would hold a place in the broker's receive window for good.
        """
        now = self._clock.now()
        item = _Item(msg, now)
        try:
            self._route(item, now)
        except Exception as e:
            self._log_bug("routing", e)
            # Parts already decoded (other devices on a shared topic) are complete and kept.
            item.parts.append(_Part(None, None, None, [Refusal("internal_error", _describe(e))]))
        while self._q.qsize() >= self._queue_size:  # backpressure: the broker holds what we have not acked
            if self._stopping.wait(0.01):
                return  # not acked: the broker delivers it again after the restart
        self._queued += 1
        with self._lock:
            self._unacked.append(item.received)
        self._q.put(item)

    def _route(self, item: _Item, now: float) -> None:
        msg = item.msg
        topic = msg.topic
        too_long = check_topic(topic)
        if too_long is not None:  # before anything keys on it: the route cache, the log, the dead letters
            item.parts.append(_Part(None, None, None, [too_long]))
            return
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

    def _native_part(self, topic: str, payload: bytes, now: float, too_large: Refusal | None) -> _Part:
        known = self._native_topics.get(topic)
        if known is None:
            parts = contract.parse_topic(topic)
            if parts is None:
                return _Part(None, None, None, [Refusal("bad_topic", "expected houqin/{site}/{device}/{channel}")])
            found = self._native.get(parts.device)
            if found is None:
                other = self._other.get(parts.device)
                detail = (f"device {parts.device!r} is configured with format {other.format!r}, not native" if other
                          else f"device {parts.device!r} is not in [[devices]] of the config; add it there")
                return _Part(parts.device, None, None, [Refusal("unknown_device", detail)])
            # Only configured devices' topics (a few per device): topics made up by others are never kept.
            known = self._native_topics[topic] = (found, parts.channel)
        settings, channel = known
        if too_large is not None:
            return _Part(settings.id, settings, None, [too_large])
        if channel == "set":
            return _Part(settings.id, settings, None, [])  # our own commands: nothing to store
        try:
            decoded = native_decoder.decode_channel(settings.id, channel, payload, now)
            kept, refusals = validate(decoded, now)
        except DecodeError as e:
            return _Part(settings.id, settings, None, [Refusal(e.reason, e.detail)])
        except Exception as e:  # a decoder bug refuses the message, never ingest
            self._log_bug("decoder native", e)
            return _Part(settings.id, settings, None, [Refusal("decoder_error", _describe(e))])
        return _Part(settings.id, settings, kept, refusals)

    def _decode_part(self, settings: DeviceSettings, dec: Decoder, topic: str, payload: bytes, now: float,
                     too_large: Refusal | None) -> _Part:
        if too_large is not None:
            return _Part(settings.id, settings, None, [too_large])
        try:
            decoded = dec.decode(settings, topic, payload, now)
            kept, refusals = validate(decoded, now)
        except DecodeError as e:
            return _Part(settings.id, settings, None, [Refusal(e.reason, e.detail)])
        except Exception as e:  # a decoder bug refuses the message, never ingest
            self._log_bug(f"decoder {settings.format}", e)
            return _Part(settings.id, settings, None, [Refusal("decoder_error", _describe(e))])
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
                    self._save_status(force=True)
                    return
                self._save_status(force=False, every=2 * STATUS_SAVE_S)  # a commit's to share is likelier
                continue
            prepared = _Prepared()
            batch, flush = self._gather(first, prepared)
            if not batch:  # a flush (wait_idle) with nothing queued
                self._save_status(force=True)
                self._flushed(flush)
                continue
            stopping = self._stopping.is_set()
            committed = self._commit_with_retry(batch, prepared)
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
                for _ in batch:
                    self._unacked.popleft()
            # Readings were told as they came (``_take``), unless preparing the window failed.
            readings = committed.readings if prepared.broken else ()
            if readings or committed.events or committed.availability:
                self._observers.tell(CommittedBatch(readings, committed.events, committed.availability))
            self._save_status(force=stopping or flush is not None)
            self._batch_done(len(batch))  # before the flush is marked done: wait_idle then finds the batch counted
            self._flushed(flush)
            if stopping:
                return  # what is still queued is not acked: the broker delivers it again next start

    def _gather(self, first: _Item | _Flush, prepared: _Prepared) -> tuple[list[_Item], _Flush | None]:
        """One commit window of messages: until ``commit_interval`` after the first, a full batch (at most the
        broker's in-flight window, ``RECEIVE_MAXIMUM``), a
        message that must not wait (see ``_urgent``) or a flush asked for by ``wait_idle``.

        Each message is prepared as it comes (``_take``), and its readings told to the observers then,
        before the commit: an alert on a reading does not wait for the window to close.
        """
        q = self._q
        batch: list[_Item] = []
        if isinstance(first, _Flush):
            return batch, first
        batch.append(first)
        self._take(first, prepared)
        # An urgent message takes only what is queued already and waits for nothing.
        deadline = 0.0 if self._urgent(first) else time.monotonic() + self._interval
        while len(batch) < self._max_batch:
            try:
                remaining = deadline - time.monotonic()
                item = q.get(timeout=remaining) if remaining > 0 else q.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, _Flush):
                return batch, item
            batch.append(item)
            self._take(item, prepared)
            if self._urgent(item):
                deadline = 0.0
            if self._stopping.is_set():
                deadline = 0.0
        return batch, None

    def _take(self, item: _Item, prepared: _Prepared) -> None:
        """Stamp and prepare one message of the open window and tell the observers of its readings.

        Told before the commit: a crash before it brings the message again, and the observers (rules hold
        and release idempotently) may see its readings twice. Events and availability, which open doors
        and are urgent (they close the window at once), are told after the commit.
        """
        received = item.received
        for part in item.parts:  # once per message, not per commit attempt: a retry writes the same stamps
            if part.decoded is not None:
                for r in part.decoded.readings:  # a loop, not any(genexpr): its generator showed in the profile
                    if r.ts == received:
                        part.stamped = True
                        break
                self._stamps.restamp(part.decoded, received)
        if prepared.broken:
            return
        before = len(prepared.readings)
        try:
            self._prepare(item, prepared)
        except Exception:  # the commit prepares the window again (from the committed state) and dead-letters it
            prepared.broken = True
            return
        if len(prepared.readings) > before:
            self._observers.tell(CommittedBatch(tuple(prepared.readings[before:])))

    def _flushed(self, flush: _Flush | None) -> None:
        if flush is not None:
            with self._idle:
                self._flushes_done = max(self._flushes_done, flush.ticket)
                self._idle.notify_all()

    def _urgent(self, item: _Item) -> bool:
        """Whether a message must be committed (and told to the gate and the rules) at once.

        Card reads, buttons, availability and the contacts of gates, doors and leak sensors open doors
        or raise alarms: the commit window is for the many readings nobody waits for.
        """
        for part in item.parts:
            d = part.decoded
            if d is not None and (d.events or d.availability or part.device in self._urgent_devices):
                return True
        return False

    def _save_status(self, *, force: bool, every: float = STATUS_SAVE_S) -> None:
        """Save what is kept in memory between commits, at most every ``every`` seconds unless ``force``.

        The devices' last-seen (and last-data) times and the seqs not committed with their readings (see
        ``_commit``), in one small write to the store of its own. The writer calls it just after a commit
        window's, whose WAL and WAL-index pages the kernel has not written back yet, so it adds a page or two
        to the card instead of a commit's four or more; when idle it waits twice as long for one to share.
        """
        if not (self._seen or self._data or self._seqs.dirty) or not (
                force or time.monotonic() - self._status_saved >= every):
            return
        seen, self._seen = self._seen, {}
        data, self._data = self._data, {}
        rows = tuple((device, max(seen.get(device, 0.0), data.get(device, 0.0)), data.get(device))
                     for device in seen.keys() | data.keys())
        seqs = self._seqs.take_dirty()
        try:
            self._store.write([], IngestState(seqs=seqs, seen=rows))
        except Exception as e:
            # A status is no reading: all of it is kept for the next try, in _RETRY_MAX_S (not at every turn
            # of the writer's loop: a warning each time would be a log write to the card five times a second).
            for device, ts in seen.items():
                self._seen[device] = max(ts, self._seen.get(device, ts))
            for device, ts in data.items():
                self._data[device] = max(ts, self._data.get(device, ts))
            self._seqs.keep_dirty(seqs)
            self._status_saved = time.monotonic() - every + _RETRY_MAX_S
            log.warning("could not save the devices' last-seen times and seq numbers (retrying in %.0f s): %s",
                        _RETRY_MAX_S, e)
            return
        self._status_saved = time.monotonic()

    def _commit_with_retry(self, batch: list[_Item], prepared: _Prepared) -> CommittedBatch | None:
        delay = 0.5
        attempts = 0
        first: _Prepared | None = None if prepared.broken else prepared
        while True:
            try:
                try:
                    # A retry prepares again: a failed commit put the committed meter and seq state back, so the
                    # window prepared for it would leave a meter behind its committed total (usage counted twice).
                    attempt, first = first, None
                    committed = self._commit(batch, attempt)
                except Exception as e:
                    if _store_failure(e):
                        raise
                    with self._lock:
                        self._counts["commit_errors"] += 1
                    committed = self._commit_one_by_one(batch)
                if self._failing_since is not None:
                    log.warning("commits work again after %d failed attempt(s)", attempts)
                    self._failing_since = None
                return committed
            except Exception as e:  # database locked, disk full, store down or corrupt: wait, never drop
                attempts += 1
                with self._lock:
                    self._counts["commit_errors"] += 1
                if self._failing_since is None:
                    self._failing_since = self._clock.now()
                # Nothing is acked meanwhile, so the broker keeps the data. One line per attempt, no
                # traceback, and attempts back off to one per _RETRY_MAX_S.
                log.error("could not commit %d message(s) (attempt %d): %s; not acknowledging them, retrying "
                          "in %.0f s", len(batch), attempts, e, delay)
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
                if _store_failure(e):
                    raise
                self._log_bug("commit", e)
                part = item.parts[0] if item.parts else None
                self._dead.record(item.msg.topic, "internal_error", item.msg.payload,
                                  part.device if part else None, _describe(e),
                                  configured=part is not None and part.settings is not None)
                continue
            readings.extend(c.readings)
            events.extend(c.events)
            avail.extend(c.availability)
        return CommittedBatch(tuple(readings), tuple(events), tuple(avail))

    def _batch_done(self, n: int) -> None:
        with self._idle:
            self._done += n
            self._idle.notify_all()

    def _prepare(self, item: _Item, p: _Prepared) -> None:
        """Turn one message into rows: drop duplicates by seq, apply the meters (moves their state)."""
        msg = item.msg
        for part in item.parts:
            device = part.device
            if device is not None and (part.settings is not None):
                p.seen[device] = item.received
            configured = part.settings is not None
            for ref in part.refusals:
                p.dead.append((msg.topic, ref.reason, msg.payload, device, ref.detail, configured))
            d = part.decoded
            if d is None or not (d.readings or d.events or d.availability):
                if d is not None and not part.refusals:
                    p.ignored += 1  # e.g. a Shelly's Wi-Fi status: knowingly not stored, but counted
                continue  # a refused message (or part) moves no state: not the seq, not a meter
            if d.seq is not None and device is not None:
                # Readings and events each have their seq, committed with them (see the module).
                ts = _ts_of(d, item.received)
                has_events = bool(d.events or d.availability)
                old_readings = bool(d.readings) and self._seqs.is_duplicate(device, d.seq, ts)
                old_events = has_events and self._event_seqs.is_duplicate(device, d.seq, ts)
                if (old_readings or not d.readings) and (old_events or not has_events):
                    p.duplicates += 1
                    continue
                if old_events:  # stored before a crash between the two commits
                    d = Decoded(d.readings, [], [], d.seq)
                elif old_readings:
                    d = Decoded([], d.events, d.availability, d.seq)
            if d.readings:
                if part.stamped and d.seq is not None:
                    p.seqs_due = True
                rs, refusals = self._meters.apply(part.settings, d.readings)
                p.readings.extend(rs)
                if rs and device is not None:
                    p.data[device] = item.received
                for ref in refusals:
                    p.dead.append((msg.topic, ref.reason, msg.payload, device, ref.detail, configured))
            p.events.extend(d.events)
            if d.events and device is not None:
                p.data[device] = item.received
            p.avail.extend(d.availability)

    def _commit(self, batch: list[_Item], prepared: _Prepared | None = None) -> CommittedBatch:
        conn = self._db.conn()
        # The events-DB write lock is taken only after the time-series write: held across the store's
        # write (rollups included) it made every alert commit (AlertStore, same file) wait out the whole
        # batch, the largest part of the alert-latency tail under load. Safe because nothing is acked
        # before both commits: if the events-DB commit fails, the messages come again and the store
        # overwrites the same (series, ts) rows; meter and seq state are reloaded below.
        try:
            if prepared is None:
                self._load_state()  # what the last commit left, not what a failed attempt moved
                prepared = _Prepared()
                for item in batch:
                    self._prepare(item, prepared)
            p = prepared
            readings, events, avail, seen, dead = p.readings, p.events, p.avail, p.seen, p.dead
            duplicates, ignored = p.duplicates, p.ignored
            # Everything that depends on a message's content is turned into rows before the first write,
            # so a message that cannot be committed fails here, with nothing of it in either store.
            event_rows = [(e.ts, e.device, e.type, json.dumps(dict(e.data), sort_keys=True, ensure_ascii=False,
                                                              default=str)) for e in events]
            # The seq state is committed with the window only when a redelivery would not overwrite itself:
            # a reading stamped on arrival (it would get a new stamp) or a meter total (its usage would
            # count again). Readings with their own time overwrite their own rows when the broker brings
            # them again, so their seqs are saved every STATUS_SAVE_S (see _save_status): a state older than
            # the readings lets such a redelivery through as new (stored again, the same row) and never
            # drops a new message, while a window's commit writes its inbox page and nothing else.
            seqs = self._seqs.dirty and (p.seqs_due or self._meters.dirty)
            if readings or self._meters.dirty or seqs:
                state = IngestState(self._meters.take_dirty(), self._seqs.take_dirty() if seqs else ())
                self._store.write(readings, state if state.meters or state.seqs else None)
            # Nothing is written to the events database for a window that changed nothing in it.
            if dead or event_rows or avail or self._event_seqs.dirty:
                conn.execute("BEGIN IMMEDIATE")
                for topic, reason, payload, device, detail, _ in dead:
                    self._dead.write(topic, reason, payload, device, detail)
                if event_rows:
                    conn.executemany("INSERT OR IGNORE INTO device_events (ts, device, type, data) VALUES (?, ?, ?, ?)",
                                     event_rows)
                if avail:
                    conn.executemany(
                        "INSERT INTO device_status (device, last_seen, online, online_since) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT (device) DO UPDATE SET online = excluded.online, "
                        # a retained "online" delivered again on resubscribe is not a new "since"
                        "online_since = CASE WHEN online IS excluded.online THEN online_since "
                        "ELSE excluded.online_since END",
                        [(a.device, a.ts, int(a.online), a.ts) for a in avail])
                ingest_state.save_seqs(conn, self._event_seqs.take_dirty())
                conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._load_state()
            raise
        for device, ts in seen.items():  # saved every STATUS_SAVE_S (see _save_status)
            if ts > self._seen.get(device, 0.0):
                self._seen[device] = ts
        for device, ts in p.data.items():  # saved with the last-seen times
            if ts > self._data.get(device, 0.0):
                self._data[device] = ts
        for topic, reason, _, device, detail, configured in dead:  # counted only once committed
            self._dead.note(topic, reason, device, detail, configured=configured)
        with self._lock:
            c = self._counts
            c["messages"] += sum(1 for item in batch if item.parts)
            c["readings"] += len(readings)
            c["events"] += len(events)
            c["duplicates"] += duplicates
            c["ignored"] += ignored
            c["batches"] += 1
            self._last_commit = self._clock.now()
        return CommittedBatch(tuple(readings), tuple(events), tuple(avail))

    def _load_state(self) -> None:
        """(Re)load the committed meter and seq state (the store's, and the events database's event seqs)."""
        conn = self._db.conn()
        state = load_ingest_state(self._store, conn)
        self._meters.restore(state.meters)
        self._seqs.restore(state.seqs)
        self._event_seqs.restore(ingest_state.read_seqs(conn))

    def _log_bug(self, where: str, e: BaseException) -> None:
        """Log a traceback once per (place, exception type): a bug, not a line per bad message."""
        key = (where, type(e).__name__)
        if key in self._bugs_logged:
            return
        self._bugs_logged.add(key)  # bounded: places times exception types
        log.error("%s raised %s (dead-lettered as %s; further ones are only counted)", where,
                  _describe(e), "decoder_error" if where.startswith("decoder") else "internal_error", exc_info=e)


def _urgent_kind(kind: str) -> bool:
    """Kinds whose readings open doors or raise alarms: gates, doors (their contact) and leak sensors."""
    k = KINDS.get(kind)
    return k is not None and (k.contact or "water_leak" in k.metrics)


def _store_failure(e: BaseException) -> bool:
    """A store that cannot commit (locked, full, unreachable, corrupt) rather than a bad message.

    Such a batch is retried and not acknowledged, however long it takes: dead-lettering it would
    lose good readings. ``sqlite3.DatabaseError`` itself (not its subclasses) is a damaged file.
    """
    return isinstance(e, sqlite3.OperationalError | OSError) or type(e) is sqlite3.DatabaseError


def _describe(e: BaseException) -> str:
    """An exception as a bounded one-line detail for a dead letter."""
    text = str(e).replace("\n", " ")
    return f"{type(e).__name__}: {text[:_ERROR_CHARS]}" if text else type(e).__name__


def _ts_of(d: Decoded, default: float) -> float:
    if d.readings:
        return d.readings[0].ts
    if d.events:
        return d.events[0].ts
    return default
