"""Dead letters: every refused message, kept with its topic, reason and a bounded excerpt, and counted.

Whatever a publisher sends, what is kept and logged is bounded: topic, device name, detail and excerpt
are cut to a few hundred characters, and the log gets at most one line per configured device and
reason per ``LOG_EVERY_S`` (a broken sensor publishing every second cannot flood it) and, for
everything else (unknown devices and topics, which an attacker can vary at will), one counted summary
per ``LOG_EVERY_S``. The table and the per-reason counters tell the rest.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import dataclass

from gateway.clock import Clock
from gateway.eventsdb import EventsDB

log = logging.getLogger(__name__)

#: Characters of the payload kept in ``excerpt``.
EXCERPT_CHARS = 200
#: Dead letters older than this are pruned (they explain recent trouble, not history).
RETENTION_S = 30 * 86400.0
#: Characters of the topic, the device name and the detail kept in a dead letter (and a log line).
TOPIC_CHARS = 200
DEVICE_CHARS = 64
DETAIL_CHARS = 500
#: A configured device's refusals of one reason are logged at most once per this many seconds.
LOG_EVERY_S = 3600.0
#: Distinct (device, reason) pairs remembered for the log interval; past it the memory is reset.
_LOGGED_MAX = 10_000
_PRUNE_EVERY = 1000


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One refused message as stored."""

    ts: float
    topic: str
    device: str | None
    reason: str
    detail: str
    excerpt: str


def cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ``…`` marking the cut."""
    return text if len(text) <= limit else text[:limit] + "…"


def excerpt(payload: bytes, limit: int = EXCERPT_CHARS) -> str:
    """The first ``limit`` characters, undecodable bytes shown as ``\\xNN``, ``…`` when cut."""
    head = payload[: limit * 4]  # never decode a megabyte to show 200 characters
    text = head.decode("utf-8", errors="backslashreplace")
    if len(text) > limit or len(payload) > len(head):
        return text[:limit] + "…"
    return text


class DeadLetters:
    """The dead-letter table of the events database, with in-memory counters per reason.

    ``record`` writes with the calling thread's connection, so a dead letter recorded inside a
    transaction (as ingest's writer does) is committed together with that transaction.
    """

    def __init__(self, events_db: EventsDB, clock: Clock) -> None:
        self._db = events_db
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._logged: dict[tuple[str, str], float] = {}  # (configured device, reason) -> when last logged
        self._unknown: Counter[str] = Counter()  # refusals of unknown devices and topics since the summary
        self._unknown_since: float | None = None
        self._since_prune = 0

    def record(self, topic: str, reason: str, payload: bytes, device: str | None = None,
               detail: str = "", *, configured: bool = True) -> None:
        """Store a refused message, count it, and log it as ``note`` does."""
        self.write(topic, reason, payload, device, detail)
        self.note(topic, reason, device, detail, configured=configured)

    def write(self, topic: str, reason: str, payload: bytes, device: str | None = None, detail: str = "") -> None:
        """Only insert the row, with this thread's connection (inside the caller's transaction, if any).

        Call ``note`` once that transaction is committed, so a rolled-back batch is not counted twice.
        """
        self._db.conn().execute(
            "INSERT INTO dead_letters (ts, topic, device, reason, detail, excerpt) VALUES (?, ?, ?, ?, ?, ?)",
            (self._clock.now(), cut(topic, TOPIC_CHARS), None if device is None else cut(device, DEVICE_CHARS),
             reason, cut(detail, DETAIL_CHARS), excerpt(payload)),
        )

    def note(self, topic: str, reason: str, device: str | None = None, detail: str = "", *,
             configured: bool = True) -> None:
        """Count a written dead letter and log it, within the bounds of the module docstring.

        ``configured`` says ``device`` is one of the config's; refusals of anything else are logged
        only as a counted summary, since their names are the publisher's to vary.
        """
        now = self._clock.now()
        line = summary = None
        with self._lock:
            self._counts[reason] += 1
            if configured and device is not None:
                key = (device, reason)
                last = self._logged.get(key)
                if last is None or now - last >= LOG_EVERY_S:
                    if last is None and len(self._logged) >= _LOGGED_MAX:
                        self._logged.clear()
                    self._logged[key] = now
                    line = (device, cut(topic, TOPIC_CHARS), reason, cut(detail, DETAIL_CHARS))
            else:
                if self._unknown_since is None:
                    self._unknown_since = now - LOG_EVERY_S  # the first one is told at once
                self._unknown[reason] += 1
                if now - self._unknown_since >= LOG_EVERY_S:
                    summary = dict(self._unknown)
                    self._unknown.clear()
                    self._unknown_since = now
            self._since_prune += 1
            prune = self._since_prune >= _PRUNE_EVERY
            if prune:
                self._since_prune = 0
        if line is not None:
            log.warning("refused a message from %s on %s: %s%s (further ones within %.0f min are only counted; "
                        "see `houqin dead-letters`)", line[0], line[1], line[2],
                        f" ({line[3]})" if line[3] else "", LOG_EVERY_S / 60)
        if summary is not None:
            log.warning("refused %d message(s) from unknown devices or topics (%s); further ones are counted and "
                        "summed up here every %.0f min; see `houqin dead-letters`", sum(summary.values()),
                        ", ".join(f"{r}: {n}" for r, n in sorted(summary.items())), LOG_EVERY_S / 60)
        if prune:
            self._db.conn().execute("DELETE FROM dead_letters WHERE ts < ?", (self._clock.now() - RETENTION_S,))

    def counts(self) -> dict[str, int]:
        """Dead letters per reason since this process started."""
        with self._lock:
            return dict(self._counts)

    def stored_counts(self, since: float = 0.0) -> dict[str, int]:
        """Dead letters per reason in the table since ``since`` (Unix s)."""
        rows = self._db.conn().execute(
            "SELECT reason, count(*) FROM dead_letters WHERE ts >= ? GROUP BY reason", (since,))
        return {str(r): int(n) for r, n in rows}

    def recent(self, since: float = 0.0, limit: int = 100) -> list[DeadLetter]:
        """The most recent dead letters since ``since``, oldest first, at most ``limit``."""
        rows = self._db.conn().execute(
            "SELECT ts, topic, device, reason, detail, excerpt FROM dead_letters WHERE ts >= ? "
            "ORDER BY id DESC LIMIT ?", (since, limit)).fetchall()
        return [DeadLetter(*row) for row in reversed(rows)]
