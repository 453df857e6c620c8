"""The agent's offline spool: messages kept on disk, in order, while the broker is unreachable.

Bounded by ``max_messages``. When full, the oldest plain state messages (temperatures, contact,
availability) are dropped first, then the oldest meter totals except each meter's newest (a later
total carries all the usage of the dropped ones), and events (card reads, button presses, faults)
only as the very last resort. Every drop is counted per kind and kept in the spool file.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from pathlib import Path
from typing import cast

from sensors.messages import Kind, Outgoing

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    kind TEXT NOT NULL,
    retain INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_kind ON messages (kind, id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class Spool:
    """A FIFO of outgoing messages in an SQLite file (WAL, synchronous=FULL: spooled means on disk)."""

    def __init__(self, path: Path, max_messages: int = 100_000) -> None:
        if max_messages < 1:
            raise ValueError("max_messages must be at least 1")
        self.path = path
        self.max_messages = max_messages
        path.parent.mkdir(parents=True, exist_ok=True)
        # the agent's alone whatever the umask (its WAL and shm files take the database's mode)
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        os.chmod(path, 0o600)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._count = int(self._db.execute("SELECT COUNT(*) FROM messages").fetchone()[0])

    def __len__(self) -> int:
        with self._lock:
            return self._count

    def next_epoch(self) -> int:
        """A number one higher at every call, ever (the agent's ``seq`` epoch)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            row = self._db.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()
            epoch = (int(row[0]) if row else 0) + 1
            self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('epoch', ?)", (epoch,))
            self._db.execute("COMMIT")
            return epoch

    def append(self, messages: list[Outgoing]) -> None:
        """Store messages at the end, in order, durably; then enforce the bound."""
        if not messages:
            return
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT INTO messages (topic, payload, kind, retain) VALUES (?, ?, ?, ?)",
                    [(m.topic, m.payload, m.kind, int(m.retain)) for m in messages],
                )
                self._count += len(messages)
                if self._count > self.max_messages:
                    self._drop_locked(self._count - self.max_messages)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                self._count = int(self._db.execute("SELECT COUNT(*) FROM messages").fetchone()[0])
                raise

    def _drop_locked(self, excess: int) -> None:
        plans = [
            ("state", "SELECT id FROM messages WHERE kind IN ('state', 'availability') ORDER BY id LIMIT ?"),
            ("total", "SELECT id FROM messages WHERE kind = 'total' AND id NOT IN "
                      "(SELECT MAX(id) FROM messages WHERE kind = 'total' GROUP BY topic) ORDER BY id LIMIT ?"),
            ("event", "SELECT id FROM messages ORDER BY id LIMIT ?"),
        ]
        for label, query in plans:
            if excess <= 0:
                return
            ids = [r[0] for r in self._db.execute(query, (excess,))]
            if not ids:
                continue
            self._db.executemany("DELETE FROM messages WHERE id = ?", [(i,) for i in ids])
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = value + ?",
                (f"dropped_{label}", len(ids), len(ids)),
            )
            self._count -= len(ids)
            excess -= len(ids)
            (log.error if label == "event" else log.warning)(
                "offline spool full (%d messages): dropped the %d oldest %s message(s)",
                self.max_messages, len(ids), label)

    def head(self, n: int) -> list[tuple[int, Outgoing]]:
        """The ``n`` oldest messages with their ids (not removed)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, topic, payload, kind, retain FROM messages ORDER BY id LIMIT ?", (n,)).fetchall()
        return [(int(r[0]), Outgoing(r[1], bytes(r[2]), cast(Kind, r[3]), bool(r[4]))) for r in rows]

    def remove(self, ids: list[int]) -> None:
        """Delete messages the broker has acknowledged."""
        if not ids:
            return
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("DELETE FROM messages WHERE id = ?", [(i,) for i in ids])
            self._db.execute("COMMIT")
            self._count = int(self._db.execute("SELECT COUNT(*) FROM messages").fetchone()[0])

    def dropped(self) -> dict[str, int]:
        """Messages dropped at the bound, by kind (``state``, ``total``, ``event``), since the file was made."""
        with self._lock:
            rows = self._db.execute("SELECT key, value FROM meta WHERE key LIKE 'dropped_%'").fetchall()
        return {str(k).removeprefix("dropped_"): int(v) for k, v in rows}

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._db.close()
