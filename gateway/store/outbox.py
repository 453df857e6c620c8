"""The durable outbox in front of InfluxDB: points committed to SQLite, removed only once acknowledged.

It lives in its own file ``outbox.db`` in ``[storage] dir`` rather than in the events database: every
reading is inserted and soon deleted, a churn that would bloat the events DB's WAL and contend with the
alert and audit writers for its single write lock; and an operator can inspect or, in an emergency,
delete the outbox without touching alerts or users.

Until the far end confirms a point this file is its only copy, as the embedded store's file is for its
readings, and it is written the same way (``gateway.store.sqlite``): WAL with ``synchronous=NORMAL`` (a killed
process loses nothing committed; a power cut can lose the last commits, never the file's consistency), no
fsync of every commit and no zeroing of every sent point's page, which is what wears an SD card. The uplink's
queue of alert transitions asks for ``sync_every_commit``: those must survive a power cut, as alerts do.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gateway.clock import Clock, SystemClock
from gateway.errors import StoreError
from gateway.store import ingest_state

OUTBOX_DB_NAME = "outbox.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS points (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    line TEXT NOT NULL,
    device TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    queued_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- Keys of what was queued (the uplink's alert transitions), committed with it: a catch-up skips these.
CREATE TABLE IF NOT EXISTS queued_keys (key TEXT PRIMARY KEY, queued_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS rejected (
    id INTEGER PRIMARY KEY,
    rejected_at REAL NOT NULL,
    device TEXT NOT NULL,
    line TEXT NOT NULL,
    status INTEGER NOT NULL,
    detail TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One queued point."""

    id: int
    line: str
    device: str
    ts_ms: int
    queued_at: float


@dataclass(frozen=True, slots=True)
class QueuedPoint:
    """A point to queue: its line protocol, the device (for dead letters) and its time in ms."""

    line: str
    device: str
    ts_ms: int


@dataclass(frozen=True, slots=True)
class OutboxCounts:
    """Depth and counters of an outbox, as stored."""

    depth: int
    oldest_queued_at: float | None
    oldest_ts_ms: int | None
    dropped: int
    rejected: int
    sent: int


class Outbox:
    """A bounded FIFO of line-protocol points in a SQLite file; safe to use from several threads."""

    def __init__(self, path: Path | str, *, max_points: int, clock: Clock | None = None,
                 sync_every_commit: bool = False) -> None:
        self.path = Path(path)
        self.max_points = max_points
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        try:
            self._conn = sqlite3.connect(str(self.path), timeout=30, check_same_thread=False, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            # FULL for what a power cut must not lose either (the uplink's alert transitions, as in the events
            # database); readings as the embedded store keeps them.
            self._conn.execute(f"PRAGMA synchronous={'FULL' if sync_every_commit else 'NORMAL'}")
            self._conn.execute("PRAGMA busy_timeout=30000")
            # Debian builds SQLite with secure_delete on: each sent point's page rewritten with zeros.
            self._conn.execute("PRAGMA secure_delete=OFF")
            self._conn.executescript(_SCHEMA + ingest_state.SCHEMA)
            self._depth = int(self._conn.execute("SELECT count(*) FROM points").fetchone()[0])
        except sqlite3.Error as e:
            raise StoreError(f"cannot open the InfluxDB outbox {self.path}: {e}; check [storage] dir") from None

    def put(self, points: Sequence[QueuedPoint], state: ingest_state.IngestState | None = None,
            keys: Sequence[str] = ()) -> int:
        """Commit points (and ingest's ``state``, and the ``keys`` naming them) durably; drop the oldest past the
        bound. Returns how many were dropped."""
        if not points and state is None:
            return 0
        now = self._clock.now()
        with self._lock:
            c = self._conn
            try:
                c.execute("BEGIN IMMEDIATE")
                c.executemany("INSERT INTO points (line, device, ts_ms, queued_at) VALUES (?, ?, ?, ?)",
                              [(p.line, p.device, p.ts_ms, now) for p in points])
                depth = self._depth + len(points)
                excess = depth - self.max_points
                dropped = 0
                if excess > 0:
                    cut = c.execute("SELECT id FROM points ORDER BY id LIMIT 1 OFFSET ?", (excess,)).fetchone()
                    dropped = c.execute("DELETE FROM points WHERE id < ?", (cut[0],)).rowcount
                    self._bump(c, "dropped", dropped)
                if state is not None:
                    ingest_state.save(c, state)
                c.executemany("INSERT OR IGNORE INTO queued_keys (key, queued_at) VALUES (?, ?)",
                              [(k, now) for k in keys])
                c.execute("COMMIT")
            except sqlite3.Error as e:
                if c.in_transaction:
                    c.execute("ROLLBACK")
                raise StoreError(f"cannot queue points in the outbox {self.path}: {e}") from None
            self._depth = depth - dropped
            return dropped

    def load_state(self) -> ingest_state.IngestState | None:
        """Ingest's meter and seq state as committed by ``put``; None if none was ever written here."""
        with self._lock:
            try:
                return ingest_state.load(self._conn)
            except sqlite3.Error as e:
                raise StoreError(f"cannot read ingest's state from the outbox {self.path}: {e}") from None

    def seen(self) -> tuple[ingest_state.SeenRow, ...]:
        """The devices' last-seen times saved by ``put`` (see ``gateway.store.ingest_state``)."""
        with self._lock:
            try:
                return ingest_state.read_seen(self._conn)
            except sqlite3.Error as e:
                raise StoreError(f"cannot read the devices' last-seen times from the outbox {self.path}: {e}") from None

    def peek(self, limit: int) -> list[OutboxRow]:
        """The oldest ``limit`` points, oldest first (they stay queued until ``remove``)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, line, device, ts_ms, queued_at FROM points ORDER BY id LIMIT ?", (limit,)
            ).fetchall()
        return [OutboxRow(*r) for r in rows]

    def remove(self, rows: Sequence[OutboxRow], *, sent: bool = True) -> int:
        """Delete a contiguous run of peeked rows (ids only grow, so an id range is exactly them)."""
        if not rows:
            return 0
        with self._lock:
            c = self._conn
            c.execute("BEGIN IMMEDIATE")
            n = c.execute("DELETE FROM points WHERE id BETWEEN ? AND ?", (rows[0].id, rows[-1].id)).rowcount
            if sent:
                self._bump(c, "sent", n)
            c.execute("COMMIT")
            self._depth -= n
            return int(n)

    def reject(self, row: OutboxRow, status: int, detail: str, *, keep: bool) -> None:
        """Remove a point InfluxDB refused; ``keep`` also stores it in the local ``rejected`` table."""
        with self._lock:
            c = self._conn
            c.execute("BEGIN IMMEDIATE")
            n = c.execute("DELETE FROM points WHERE id = ?", (row.id,)).rowcount
            if keep:
                c.execute("INSERT INTO rejected (rejected_at, device, line, status, detail) VALUES (?, ?, ?, ?, ?)",
                          (self._clock.now(), row.device, row.line, status, detail[:500]))
            self._bump(c, "rejected", 1)
            c.execute("COMMIT")
            self._depth -= n

    def queued_keys(self, keys: Sequence[str]) -> set[str]:
        """Those of ``keys`` that ``put`` committed (and ``forget_keys`` has not dropped)."""
        if not keys:
            return set()
        with self._lock:
            rows = self._conn.execute(f"SELECT key FROM queued_keys WHERE key IN ({', '.join('?' * len(keys))})",
                                      list(keys)).fetchall()
        return {k for (k,) in rows}

    def forget_keys(self, before: float) -> None:
        """Drop the keys queued before ``before`` (a catch-up looks back no further)."""
        with self._lock:
            self._conn.execute("DELETE FROM queued_keys WHERE queued_at < ?", (before,))

    def depth(self) -> int:
        """Points waiting to be sent."""
        with self._lock:
            return self._depth

    def counts(self) -> OutboxCounts:
        """Depth, the oldest waiting point, and the drop/reject/sent counters."""
        with self._lock:
            return read_counts(self._conn, depth=self._depth)  # count(*) of a full outbox would scan it

    def set_state(self, **values: str) -> None:
        """Persist small status values (last error, last success) so another process can show them."""
        with self._lock:
            self._conn.executemany("INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE "
                                   "SET value = excluded.value", list(values.items()))

    def state(self) -> dict[str, str]:
        """The persisted status values."""
        with self._lock:
            return dict(self._conn.execute("SELECT key, value FROM state").fetchall())

    def rejected(self, limit: int = 100) -> list[tuple[float, str, str, int, str]]:
        """Locally kept refused points, newest first: (rejected_at, device, line, status, detail)."""
        with self._lock:
            return self._conn.execute("SELECT rejected_at, device, line, status, detail FROM rejected "
                                      "ORDER BY id DESC LIMIT ?", (limit,)).fetchall()

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._conn.close()

    @staticmethod
    def _bump(c: sqlite3.Connection, name: str, n: int) -> None:
        c.execute("INSERT INTO counters (name, value) VALUES (?, ?) "
                  "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value", (name, n))


def read_counts(conn: sqlite3.Connection, depth: int | None = None) -> OutboxCounts:
    """Counts from an open outbox connection (the CLI reads a file another process owns this way)."""
    if depth is None:
        depth = int(conn.execute("SELECT count(*) FROM points").fetchone()[0])
    oldest = conn.execute("SELECT queued_at, ts_ms FROM points ORDER BY id LIMIT 1").fetchone()
    counters = dict(conn.execute("SELECT name, value FROM counters").fetchall())
    return OutboxCounts(
        depth=depth,
        oldest_queued_at=float(oldest[0]) if oldest else None,
        oldest_ts_ms=int(oldest[1]) if oldest else None,
        dropped=int(counters.get("dropped", 0)),
        rejected=int(counters.get("rejected", 0)),
        sent=int(counters.get("sent", 0)),
    )


#: Statuses meaning "these credentials are refused".
AUTH = frozenset({401, 403})


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the far end answered a send of outbox rows: an HTTP-like status (0 when unreachable) and its message."""

    status: int
    detail: str = ""

    @property
    def ok(self) -> bool:
        """True for 2xx (InfluxDB answers 204)."""
        return 200 <= self.status < 300


def error_text(text: str) -> str:
    """The message of an error answer (JSON ``error``/``message``, else the text), at most 500 characters."""
    try:
        doc = json.loads(text)
    except ValueError:
        return text.strip()[:500]
    if isinstance(doc, dict):
        return str(doc.get("error") or doc.get("message") or text)[:500]
    return text.strip()[:500]
