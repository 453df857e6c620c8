"""Ingest's meter totals, per-device ``seq`` and last-seen times, kept in the store's own file with the readings.

A meter total stamped on arrival and its usage were committed to the time-series store while the meter
state that says "counted" went to the events database in a second transaction: a crash between the two
brought the message again under a new stamp and its usage was stored twice. The state now lives in the
file that takes the readings (``timeseries.db`` for SQLite, ``outbox.db`` for InfluxDB) and is written
in the same transaction, so readings, usage and state are committed together or not at all.

The tables are the ones the events database used (``meter_state``, ``device_seq``); a one-row table
``ingest_state`` says the state lives here, so ingest reads the events database's copy once, at the
first start after the upgrade (``gateway.meters.load_ingest_state``).

The devices' last-seen times (``device_seen``) are kept in memory and saved here every few minutes in one
write of its own just after a commit window's, whose WAL pages the kernel has not written back yet: in
the events database each save was a synchronous commit, about 16 KiB on the card. Older releases kept
them in the events database's ``device_status``; readers take the later of the two
(``gateway.device_status``).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Final

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS meter_state (
    device TEXT NOT NULL, metric TEXT NOT NULL, total REAL NOT NULL, ts REAL NOT NULL,
    PRIMARY KEY (device, metric)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS device_seq (device TEXT PRIMARY KEY, seq INTEGER NOT NULL, ts REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ingest_state (only INTEGER PRIMARY KEY CHECK (only = 1));
CREATE TABLE IF NOT EXISTS device_seen (
    device TEXT PRIMARY KEY, last_seen REAL NOT NULL, last_data REAL
) WITHOUT ROWID;
"""

MeterRow = tuple[str, str, float, float]
"""(device, metric, last accepted total, its ts)."""
SeqRow = tuple[str, int, float]
"""(device, last seq, its ts)."""
SeenRow = tuple[str, float, float | None]
"""(device, receive time of its last message of any kind, of its last real reading or event or None)."""


@dataclass(frozen=True, slots=True)
class IngestState:
    """Meter, seq and last-seen rows to commit (only the changed ones); when loaded, every meter and seq row."""

    meters: tuple[MeterRow, ...] = ()
    seqs: tuple[SeqRow, ...] = ()
    seen: tuple[SeenRow, ...] = ()


def save(conn: sqlite3.Connection, state: IngestState) -> None:
    """Upsert the rows and mark the file as holding the state (call inside the batch's transaction)."""
    conn.execute("INSERT OR IGNORE INTO ingest_state (only) VALUES (1)")
    save_seqs(conn, state.seqs)
    if state.meters:
        conn.executemany(
            "INSERT INTO meter_state (device, metric, total, ts) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (device, metric) DO UPDATE SET total = excluded.total, ts = excluded.ts",
            state.meters)
    if state.seen:
        # never back in time: a save may carry times older than one an earlier release or run saved
        conn.executemany(
            "INSERT INTO device_seen (device, last_seen, last_data) VALUES (?, ?, ?) ON CONFLICT (device) "
            "DO UPDATE SET last_seen = max(last_seen, excluded.last_seen), "
            "last_data = max(coalesce(last_data, excluded.last_data), coalesce(excluded.last_data, last_data))",
            state.seen)


def save_seqs(conn: sqlite3.Connection, rows: tuple[SeqRow, ...]) -> None:
    """Upsert seq rows (also the events database's own seq table, see ``gateway.ingest``)."""
    if rows:
        conn.executemany("INSERT INTO device_seq (device, seq, ts) VALUES (?, ?, ?) "
                         "ON CONFLICT (device) DO UPDATE SET seq = excluded.seq, ts = excluded.ts", rows)


def load(conn: sqlite3.Connection) -> IngestState | None:
    """All meter and seq rows (ingest needs no times: ``read_seen``), or None when this file holds no state yet."""
    if conn.execute("SELECT 1 FROM ingest_state").fetchone() is None:
        return None
    return IngestState(read_meters(conn), read_seqs(conn))


def read_meters(conn: sqlite3.Connection) -> tuple[MeterRow, ...]:
    """Every meter row of ``conn``'s ``meter_state`` table."""
    return tuple((d, m, float(t), float(ts)) for d, m, t, ts in
                 conn.execute("SELECT device, metric, total, ts FROM meter_state"))


def read_seqs(conn: sqlite3.Connection) -> tuple[SeqRow, ...]:
    """Every seq row of ``conn``'s ``device_seq`` table."""
    return tuple((d, int(s), float(ts)) for d, s, ts in conn.execute("SELECT device, seq, ts FROM device_seq"))


def read_seen(conn: sqlite3.Connection) -> tuple[SeenRow, ...]:
    """Every row of ``conn``'s ``device_seen`` table."""
    return tuple((d, float(seen), None if data is None else float(data)) for d, seen, data in
                 conn.execute("SELECT device, last_seen, last_data FROM device_seen"))
