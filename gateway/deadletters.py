"""Dead letters: every refused message, kept with its topic, reason and a bounded excerpt, and counted.

Each is logged once per (device, reason) so a broken sensor publishing every second cannot flood the
log; the table and the per-reason counters tell the rest.
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
#: Distinct (device, reason) pairs remembered for log-once; past it the memory is reset.
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
        self._logged: set[tuple[str | None, str]] = set()
        self._since_prune = 0

    def record(self, topic: str, reason: str, payload: bytes, device: str | None = None,
               detail: str = "") -> None:
        """Store a refused message, count it, and log it if it is the first of its (device, reason)."""
        self.write(topic, reason, payload, device, detail)
        self.note(topic, reason, device, detail)

    def write(self, topic: str, reason: str, payload: bytes, device: str | None = None, detail: str = "") -> None:
        """Only insert the row, with this thread's connection (inside the caller's transaction, if any).

        Call ``note`` once that transaction is committed, so a rolled-back batch is not counted twice.
        """
        self._db.conn().execute(
            "INSERT INTO dead_letters (ts, topic, device, reason, detail, excerpt) VALUES (?, ?, ?, ?, ?, ?)",
            (self._clock.now(), topic, device, reason, detail[:500], excerpt(payload)),
        )

    def note(self, topic: str, reason: str, device: str | None = None, detail: str = "") -> None:
        """Count a written dead letter and log it if it is the first of its (device, reason)."""
        with self._lock:
            self._counts[reason] += 1
            key = (device, reason)
            first = key not in self._logged
            if first:
                if len(self._logged) >= _LOGGED_MAX:
                    self._logged.clear()
                self._logged.add(key)
            self._since_prune += 1
            prune = self._since_prune >= _PRUNE_EVERY
            if prune:
                self._since_prune = 0
        if first:
            log.warning("refused a message from %s on %s: %s%s (further ones are only counted; "
                        "see `houqin dead-letters`)", device or "an unknown device", topic, reason,
                        f" ({detail})" if detail else "")
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
