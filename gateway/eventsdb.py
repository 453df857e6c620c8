"""The events database: SQLite (WAL) holding the gateway's own records, migrated at start.

Migrations are the numbered files ``gateway/migrations/NNNN_name.sql``, applied once each, in order.
Number blocks by concern, so parallel work never collides: 0001-0009 foundation (ingest, dead
letters, meters), 0010-0019 alerts and notifications, 0020-0029 storage/outbox, 0030-0039 dashboard
(users, sessions, audit), 0040-0049 reports, samples and sheets, 0050-0059 gate (cards, visitors,
patrols, handover), 0060-0069 inspections (disinfection, checklists, hazards, repairs).
"""

from __future__ import annotations

import sqlite3
import time
from importlib import resources
from pathlib import Path

from gateway.errors import StoreError
from gateway.sqlite_threads import ThreadConnections
from gateway.store.damage import damaged, is_damage

EVENTS_DB_NAME = "events.db"


def connect(path: Path | str, *, durable: bool = True) -> sqlite3.Connection:
    """Open a connection in WAL mode; ``durable`` sets ``synchronous=FULL`` (safety and audit records)."""
    try:
        conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False, isolation_level=None)
    except sqlite3.Error as e:
        raise StoreError(f"cannot open the events database {path}: {e}; check [storage] dir") from None
    try:
        conn.execute("PRAGMA journal_mode=WAL")  # the first read of the file: a damaged one fails here
        conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
    except sqlite3.Error as e:
        conn.close()
        if is_damage(e):
            raise damaged(path, "events database", e) from None
        raise StoreError(f"cannot open the events database {path}: {e}; check [storage] dir") from None
    return conn


def migration_scripts() -> list[tuple[int, str, str]]:
    """Every migration shipped with the package as ``(number, name, sql)``, in order."""
    out = []
    for entry in resources.files("gateway.migrations").iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            out.append((int(name[:4]), name, entry.read_text(encoding="utf-8")))
    return sorted(out)


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply the migrations not applied yet, each in its own transaction; returns their names."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (number INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                 " applied_at REAL NOT NULL DEFAULT (unixepoch('subsec')))")
    done = {row[0] for row in conn.execute("SELECT number FROM schema_migrations")}
    applied = []
    for number, name, sql in migration_scripts():
        if number in done:
            continue
        try:
            conn.execute("BEGIN IMMEDIATE")
            for statement in _statements(sql):
                conn.execute(statement)
            # applied_at given explicitly: unixepoch('subsec') needs SQLite 3.42, Debian 12 ships 3.40.
            conn.execute("INSERT INTO schema_migrations (number, name, applied_at) VALUES (?, ?, ?)",
                         (number, name, time.time()))
            conn.execute("COMMIT")
        except sqlite3.Error as e:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if is_damage(e):
                raise  # the caller knows the file's name
            raise StoreError(f"migration {name} failed: {e}") from None
        applied.append(name)
    if applied:
        # The schema (a new file's whole database) goes into its file now, once: left in the WAL it was
        # copied at the first checkpoint, the service's stop, as if every reading of that run had written it.
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    return applied


def _statements(sql: str) -> list[str]:
    # sqlite3.complete_statement lets us split on ';' without breaking triggers.
    out, buf = [], ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out


class EventsDB:
    """The events database of one site: a migrated file and a connection per thread."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._conns = ThreadConnections(lambda: connect(self.path))
        try:
            migrate(self.conn())  # reads the schema: a damaged file is refused here, at start
        except sqlite3.DatabaseError as e:
            self.close()
            if is_damage(e):
                raise damaged(self.path, "events database", e) from None
            raise StoreError(f"cannot set up the events database {self.path}: {e}") from None

    def conn(self) -> sqlite3.Connection:
        """This thread's connection (autocommit: wrap writes that belong together in ``BEGIN``/``COMMIT``)."""
        return self._conns.get()

    def close(self) -> None:
        """Close every connection opened by any thread."""
        self._conns.close_all()
