"""The embedded time-series store: one SQLite file with raw readings and 5-minute and hourly rollups.

Layout, chosen for a Raspberry Pi's SD card:

- ``series`` maps (device, metric) to a small integer id and keeps the latest sample.
- ``raw`` holds ``(hour, series_id, ts_ms, value)`` in a WITHOUT ROWID table keyed by (hour, series_id,
  ts_ms), ``hour`` being ``ts_ms // 3_600_000``: hour-major, so new hours are appended at the end of the
  B-tree (each page written once, full) instead of into the middle of every series' run of rows, where
  each page split rewrote three neighbouring pages (measured: 4x the bytes of the rows themselves); within
  an hour a series' rows are together, so a query seeks once per hour of its range. Writing the same
  timestamp again overwrites.
- ``rollup_5m`` and ``rollup_1h`` hold count, sum, min, max, first and last (with their times) per
  bucket, keyed the same way by (hour, series_id, bucket). A write recomputes exactly the buckets it
  touched (5-minute ones from raw, hourly ones from 5-minute ones), inside the same transaction, so an
  overwrite never leaves a rollup stale.

The inbox (when ``fold_every`` > 0, as the gateway runs it): a commit appends its readings in arrival
order to ``inbox``, a rowid table with no other index, so it writes one or two pages however many series
it holds; ``fold`` moves the inbox into ``raw``, the rollups and ``series`` in one transaction every
``fold_every`` seconds (and before maintenance; a stop leaves it to the next run), so the tables' pages are
written once per fold rather than once per commit, and the WAL is checkpointed after it. With a whole number of hours
as ``fold_every`` the timed fold runs just after the hour turns and moves the hours that are over, so an
hour's rows reach ``raw`` in one piece, appended. Every query merges the
inbox (a row there overrides the stored one of the same time): the windows of an aggregate that the
inbox touches are computed from raw and inbox rows, the others from the rollups as before.

Durability: WAL with ``synchronous=NORMAL``. A commit is in the WAL (the OS page cache) when
``write`` returns, so killing the process loses nothing committed; only a power cut can lose the last
commits since the WAL was last synced (the database itself stays consistent). That trade spares the
card an fsync per batch; alerts and audit records, which must survive a power cut, live in the
events database with ``synchronous=FULL``.

Threads: ``write`` and ``maintenance`` run on one writer connection (serialised by a lock); every
other thread that queries gets its own read connection, which WAL lets read while the writer writes.
The writer's auto-checkpoint is off: a background thread started by the first write checkpoints the
WAL once a minute (sooner under heavy ingest) on its own connection (``checkpoint``), so no write
carries a checkpoint and a page rewritten by many commits reaches the database file once a minute.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from datetime import tzinfo
from pathlib import Path
from typing import Final, get_args

from gateway.errors import StoreError
from gateway.model import Reading
from gateway.sqlite_threads import ThreadConnections
from gateway.store import ingest_state
from gateway.store.base import Aggregate, Bucket, SeriesInfo, StoreHealth
from gateway.store.damage import damaged, is_damage
from gateway.store.retention import MaintenanceReport, Retention
from gateway.store.windows import to_ms, window_edges
from gateway.ticker import Ticker

log = logging.getLogger(__name__)

#: File name of the time-series database inside ``[storage] dir``.
TIMESERIES_DB_NAME: Final = "timeseries.db"
#: 2: ingest's meter and seq state (``gateway.store.ingest_state``) moved here from the events database; the inbox.
#: 3: raw and the rollups keyed hour-major (see the module docstring); older files are rebuilt once at open.
#: 4: the devices' last-seen times (``device_seen``, ``gateway.store.ingest_state``).
SCHEMA_VERSION: Final = 4
#: Page size of a new time-series database, in bytes (see ``SqliteStore._connect``).
PAGE_SIZE: Final = 1024
#: Page cache of each reading thread's connection, in KiB.
READER_CACHE_KB: Final = 2048
FIVE_MIN_MS: Final = 300_000
HOUR_MS: Final = 3_600_000
#: Rollup tables from coarsest to finest, with their bucket size; ``aggregate`` tries them in order.
ROLLUPS: Final = (("rollup_1h", HOUR_MS), ("rollup_5m", FIVE_MIN_MS))
_FNS: Final = frozenset(get_args(Aggregate))
#: Pages returned to the file system per transaction (16 MB of 4 KiB pages), so ingest waits little.
VACUUM_STEP_PAGES: Final = 4096
#: Seconds between background WAL checkpoints. Each one syncs the WAL and copies every page changed since
#: the last into the database file: once a minute a page rewritten by every commit is copied (and synced)
#: once, not sixty times, which is most of what the store writes to an SD card.
CHECKPOINT_EVERY_S: Final = 60.0
#: Rows written after which the checkpoint does not wait for ``CHECKPOINT_EVERY_S`` (bounds the WAL
#: under heavy ingest, such as a broker redelivering a day of readings).
CHECKPOINT_AFTER_ROWS: Final = 50_000
#: Inbox rows past which the fold does not wait for its interval (bounds the inbox each query merges): over an
#: hour at 30 readings a second, so at the rates a site has the hourly fold is what moves them.
FOLD_AFTER_ROWS: Final = 150_000
#: Seconds after the hour turns before the timed fold moves the hour that ended: room for the last commit
#: window and a broker's redelivery of that hour's readings.
FOLD_GRACE_S: Final = 60.0
#: How often the background thread looks whether a checkpoint is due.
CHECKPOINT_CHECK_S: Final = 1.0
#: WAL frames past which a checkpoint also makes the WAL start over (SQLite's auto-checkpoint default).
RESTART_AFTER_FRAMES: Final = 1000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS inbox (series_id INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY,
    device TEXT NOT NULL,
    metric TEXT NOT NULL,
    last_ts INTEGER,
    last_value REAL,
    UNIQUE (device, metric)
);
"""

_RAW_SCHEMA = """
CREATE TABLE IF NOT EXISTS raw (
    hour INTEGER NOT NULL,
    series_id INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (hour, series_id, ts)
) WITHOUT ROWID;
"""

_ROLLUP_SCHEMA = """
CREATE TABLE IF NOT EXISTS {table} (
    hour INTEGER NOT NULL,
    series_id INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    n INTEGER NOT NULL,
    sum REAL NOT NULL,
    min REAL NOT NULL,
    max REAL NOT NULL,
    first_ts INTEGER NOT NULL,
    first_v REAL NOT NULL,
    last_ts INTEGER NOT NULL,
    last_v REAL NOT NULL,
    PRIMARY KEY (hour, series_id, bucket)
) WITHOUT ROWID;
"""

# Buckets touched by the current write, in the rollups' key order (so recomputed rows are appended in it);
# temp tables live in memory (temp_store=MEMORY).
_DIRTY_SCHEMA = """
CREATE TEMP TABLE IF NOT EXISTS dirty_5m (h INTEGER NOT NULL, sid INTEGER NOT NULL, b INTEGER NOT NULL,
    PRIMARY KEY (h, sid, b)) WITHOUT ROWID;
CREATE TEMP TABLE IF NOT EXISTS dirty_1h (h INTEGER NOT NULL, sid INTEGER NOT NULL, b INTEGER NOT NULL,
    PRIMARY KEY (h, sid, b)) WITHOUT ROWID;
"""

_RECOMPUTE_5M = f"""
INSERT OR REPLACE INTO rollup_5m (hour, series_id, bucket, n, sum, min, max, first_ts, first_v, last_ts, last_v)
SELECT h, sid, b, n, s, mn, mx,
       fts, (SELECT value FROM raw WHERE hour = h AND series_id = sid AND ts = fts),
       lts, (SELECT value FROM raw WHERE hour = h AND series_id = sid AND ts = lts)
FROM (SELECT d.h AS h, d.sid AS sid, d.b AS b, count(*) AS n, sum(r.value) AS s, min(r.value) AS mn,
             max(r.value) AS mx, min(r.ts) AS fts, max(r.ts) AS lts
      FROM dirty_5m AS d CROSS JOIN raw AS r
        ON r.hour = d.h AND r.series_id = d.sid AND r.ts >= d.b AND r.ts < d.b + {FIVE_MIN_MS}
      GROUP BY d.h, d.sid, d.b)
"""

_RECOMPUTE_1H = f"""
INSERT OR REPLACE INTO rollup_1h (hour, series_id, bucket, n, sum, min, max, first_ts, first_v, last_ts, last_v)
SELECT h, sid, b, n, s, mn, mx,
       fts, (SELECT first_v FROM rollup_5m WHERE hour = h AND series_id = sid AND bucket = fts - fts % {FIVE_MIN_MS}),
       lts, (SELECT last_v FROM rollup_5m WHERE hour = h AND series_id = sid AND bucket = lts - lts % {FIVE_MIN_MS})
FROM (SELECT d.h AS h, d.sid AS sid, d.b AS b, sum(q.n) AS n, sum(q.sum) AS s, min(q.min) AS mn,
             max(q.max) AS mx, min(q.first_ts) AS fts, max(q.last_ts) AS lts
      FROM dirty_1h AS d CROSS JOIN rollup_5m AS q
        ON q.hour = d.h AND q.series_id = d.sid AND q.bucket >= d.b AND q.bucket < d.b + {HOUR_MS}
      GROUP BY d.h, d.sid, d.b)
"""

# Per aggregate: (expression over raw rows r, expression over rollup rows q). SQLite gives bare
# columns the values of the row that holds the min()/max(), which is how first/last pick theirs.
_RAW_EXPR: Final = {
    "sum": "sum(r.value)",
    "mean": "avg(r.value)",
    "min": "min(r.value)",
    "max": "max(r.value)",
    "count": "count(*)",
    "last": "r.value, max(r.ts)",
    "first": "r.value, min(r.ts)",
}
_ROLLUP_EXPR: Final = {
    "sum": "sum(q.sum)",
    "mean": "sum(q.sum) / sum(q.n)",
    "min": "min(q.min)",
    "max": "max(q.max)",
    "count": "sum(q.n)",
    "last": "q.last_v, max(q.last_ts)",
    "first": "q.first_v, min(q.first_ts)",
}

#: Per aggregate, the value of a window that is exactly one rollup bucket.
_ONE_BUCKET: Final = {
    "sum": "q.sum",
    "mean": "q.sum / q.n",
    "min": "q.min",
    "max": "q.max",
    "count": "q.n",
    "last": "q.last_v",
    "first": "q.first_v",
}
_BUCKET_MS: Final = dict(ROLLUPS)

ProgressFn = Callable[[str], None]


class SqliteStore:
    """The embedded time-series store in one SQLite file (see the module docstring)."""

    def __init__(self, path: Path | str, *, retention: Retention | None = None,
                 checkpoint_every: float = CHECKPOINT_EVERY_S, fold_every: float = 0.0) -> None:
        self.path = Path(path)
        self.retention = retention or Retention()
        self._wlock = threading.Lock()
        self._readers = ThreadConnections(self._open_reader)
        self._closed = False
        self._ids: dict[tuple[str, str], int] = {}
        self._writer = self._connect(create=True)
        try:
            self._init_schema()
            series = self._writer.execute("SELECT id, device, metric FROM series").fetchall()
        except sqlite3.DatabaseError as e:
            self._writer.close()
            if is_damage(e):
                raise damaged(self.path, "time-series database", e) from None
            raise StoreError(f"cannot read the time-series database {self.path}: {e}") from None
        except BaseException:
            self._writer.close()
            raise
        self._skipped_old = 0
        for sid, device, metric in series:
            self._ids[(device, metric)] = sid
        # The writer never checkpoints inside its commit: SQLite's auto-checkpoint ran in whichever write
        # crossed 1000 WAL pages, copying and syncing them while ingest (and the alert behind it) waited.
        # A background connection checkpoints instead (PASSIVE: it never blocks the writer), started by
        # the first write so read-only users (``houqin query``) get no thread.
        self._writer.execute("PRAGMA wal_autocheckpoint=0")
        self._ckpt_lock = threading.Lock()
        self._ckpt_conn: sqlite3.Connection | None = None
        self._ckpt_error: str | None = None  # the last checkpoint failure told, until one succeeds
        self._checkpoint_every = checkpoint_every
        self._rows_since_ckpt = 0
        self._last_ckpt = time.monotonic()
        self._fold_every = fold_every  # 0: no inbox, every write goes to raw and the rollups at once
        self._next_fold = self._fold_time_after(time.time())
        self._inbox_rows = int(self._writer.execute("SELECT count(*) FROM inbox").fetchone()[0])
        if self._inbox_rows and fold_every <= 0:
            # Without an inbox in use, rows left there by an earlier run would shadow later writes of their times.
            self.fold()
        self._checkpointer = Ticker(self._checkpoint_if_due, CHECKPOINT_CHECK_S, "houqin-store-checkpoint")

    # -- connections ---------------------------------------------------------------------------

    def _connect(self, *, create: bool) -> sqlite3.Connection:
        try:
            new_file = create and (not self.path.exists() or self.path.stat().st_size == 0)
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), timeout=30, check_same_thread=False, isolation_level=None)
            if new_file:
                # Small pages: a commit rewrites the inbox's last page, and with 1 KiB pages that is a quarter
                # of the bytes (measured: 118 -> 61 bytes of WAL per reading at 90 readings a commit); no
                # pointer-map pages to keep up to date as the inbox grows (another 16-20%). Freed pages stay for
                # reuse; maintenance rewrites the file when too many are free. Only on a new file: both are
                # fixed once the file exists (older files keep 4 KiB pages and incremental vacuum).
                conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
                conn.execute("PRAGMA auto_vacuum=NONE")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA temp_store=MEMORY")
            # Debian (and so Raspberry Pi OS) builds SQLite with secure_delete on: every deleted row's page
            # rewritten with zeros, each fold's whole inbox once more. Readings are not personal data.
            conn.execute("PRAGMA secure_delete=OFF")
            # 8 MB for the writer: an hour's fold at 30 readings a second dirties about 3 MB (raw appended, the
            # rollups); a bigger cache only fills with old pages over months and stays resident.
            conn.execute("PRAGMA cache_size=-8000")
            conn.execute("PRAGMA journal_size_limit=33554432")  # a big batch's WAL shrinks back to 32 MB
        except (sqlite3.Error, OSError) as e:
            if is_damage(e):
                raise damaged(self.path, "time-series database", e) from None
            raise StoreError(
                f"cannot open the time-series database {self.path}: {e}; check that [storage] dir exists and is"
                " writable and that the file is a Houqin time-series database (move it away to start afresh)"
            ) from None
        return conn

    def _reader(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreError(f"time-series store {self.path} is closed")
        return self._readers.get()

    def _open_reader(self) -> sqlite3.Connection:
        conn = self._connect(create=False)
        conn.execute("PRAGMA query_only=1")
        # Every thread that reads has its own connection (the dashboard's pool has up to 40): a small page cache
        # each, or their caches add up to hundreds of MB on a Pi. The kernel's page cache holds the file anyway.
        conn.execute(f"PRAGMA cache_size=-{READER_CACHE_KB}")
        return conn

    def _init_schema(self) -> None:
        c = self._writer
        version = c.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer Houqin (schema {version} > {SCHEMA_VERSION}); upgrade Houqin"
            )
        if version == SCHEMA_VERSION:
            # Already set up: a reader (``houqin query``) must not take the write lock the service holds;
            # only this connection's temp tables are needed.
            c.executescript(_DIRTY_SCHEMA)
            return
        if version and "hour" not in {row[1] for row in c.execute("PRAGMA table_info(raw)")}:
            self._rebuild_hour_major()
        rollups = "".join(_ROLLUP_SCHEMA.format(table=t) for t, _ in ROLLUPS)
        # Every statement is IF NOT EXISTS: the same script sets up a new file and upgrades an older one.
        script = _SCHEMA + _RAW_SCHEMA + ingest_state.SCHEMA + rollups + _DIRTY_SCHEMA
        try:
            # IMMEDIATE waits (busy_timeout) for a running writer instead of failing at the upgrade.
            c.executescript(f"BEGIN IMMEDIATE; {script} PRAGMA user_version={SCHEMA_VERSION}; COMMIT;")
        except sqlite3.Error as e:
            raise StoreError(f"cannot set up the time-series database {self.path}: {e}") from None

    def _rebuild_hour_major(self) -> None:
        """Schema 3: copy raw and the rollups from the series-major tables of schema 1 and 2 to hour-major ones.

        One transaction (a stop midway leaves the old tables as they were), hour by hour in key order so
        the new tables are appended, never sorted in memory.
        """
        c = self._writer
        log.warning("rebuilding %s hour by hour, once, so each reading costs fewer writes to the SD card;"
                    " a large store takes minutes", self.path)
        tables = (("raw", "ts", _RAW_SCHEMA), *((t, "bucket", _ROLLUP_SCHEMA.format(table=t)) for t, _ in ROLLUPS))
        try:
            c.execute("BEGIN IMMEDIATE")
            for table, col, schema in tables:
                c.execute(f"ALTER TABLE {table} RENAME TO old_{table}")
                c.execute(schema)
                cols = [row[1] for row in c.execute(f"PRAGMA table_info(old_{table})")]
                # Every series id the table holds (a damaged file may lack some in ``series``): walked once.
                c.execute("DROP TABLE IF EXISTS temp.old_ids")
                c.execute(f"CREATE TEMP TABLE old_ids AS SELECT DISTINCT series_id AS id FROM old_{table} ORDER BY 1")
                # The next hour holding rows: one seek per series.
                next_ts = (f"SELECT min((SELECT min({col}) FROM old_{table} WHERE series_id = s.id AND {col} >= ?))"
                           f" FROM temp.old_ids AS s")
                first = c.execute(next_ts, (0,)).fetchone()[0]
                last = c.execute(f"SELECT max((SELECT max({col}) FROM old_{table} WHERE series_id = s.id))"
                                 f" FROM temp.old_ids AS s").fetchone()[0]
                told = 0
                at = first
                while at is not None:
                    hour = int(at) // HOUR_MS
                    c.execute(
                        f"INSERT INTO {table} (hour, {', '.join(cols)}) SELECT ?1, {', '.join('o.' + k for k in cols)}"
                        f" FROM temp.old_ids AS s CROSS JOIN old_{table} AS o ON o.series_id = s.id"
                        f" AND o.{col} >= ?1 * {HOUR_MS} AND o.{col} < (?1 + 1) * {HOUR_MS} ORDER BY s.id, o.{col}",
                        (hour,),
                    )
                    done = 100 * (int(at) - first) // max(1, last - first)
                    if done >= told + 10:
                        told = done
                        log.warning("rebuilding %s: %s %d%%", self.path, table, done)
                    at = c.execute(next_ts, ((hour + 1) * HOUR_MS,)).fetchone()[0]
                c.execute(f"DROP TABLE old_{table}")
            c.execute("COMMIT")
        except sqlite3.Error as e:
            if c.in_transaction:
                c.execute("ROLLBACK")
            raise StoreError(f"cannot rebuild the time-series database {self.path}: {e}; free some space on the"
                             " disk (it needs about the database's size again) and start again") from None
        log.warning("rebuilt %s", self.path)

    def _meta(self, key: str) -> str | None:
        row = self._writer.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    # -- writing -------------------------------------------------------------------------------

    def write(self, readings: Sequence[Reading], state: ingest_state.IngestState | None = None) -> None:
        """Store a batch in one transaction; a (device, metric, ts) already stored is overwritten.

        ``state`` (ingest's meter and seq rows) is written in the same transaction. Readings older than
        the raw retention horizon already applied are skipped (their rollups
        could no longer be recomputed exactly) and counted in ``skipped_old``.
        """
        if not readings and state is None:
            return
        rows: list[tuple[int, int, float]] = []
        with self._wlock:
            if self._closed:
                raise StoreError(f"time-series store {self.path} is closed")
            self._checkpointer.start()  # no-op once running
            c = self._writer
            new_keys: list[tuple[str, str]] = []
            try:
                c.execute("BEGIN IMMEDIATE")
                ids = self._ids
                # Read inside the transaction: `houqin storage compact` may have moved it meanwhile.
                horizon = int(self._meta("raw_horizon_ms") or 0)
                skipped = 0
                for r in readings:
                    key = (r.device, r.metric)
                    sid = ids.get(key)
                    if sid is None:
                        sid = c.execute(
                            "INSERT INTO series (device, metric) VALUES (?, ?) ON CONFLICT (device, metric)"
                            " DO UPDATE SET device = excluded.device RETURNING id",
                            key,
                        ).fetchone()[0]
                        ids[key] = sid
                        new_keys.append(key)
                    value = float(r.value)
                    if not (math.isfinite(r.ts) and r.ts >= 0 and math.isfinite(value)):
                        raise ValueError(
                            f"reading {r.device}/{r.metric} at ts={r.ts} value={r.value!r} cannot be stored:"
                            " the time must be after 1970 and the value a finite number"
                        )
                    ts = round(r.ts * 1000)
                    if ts < horizon:
                        skipped += 1
                        continue
                    rows.append((sid, ts, value))
                if self._fold_every > 0:
                    c.executemany("INSERT INTO inbox (series_id, ts, value) VALUES (?, ?, ?)", rows)
                else:
                    self._insert(c, rows)
                if state is not None:
                    ingest_state.save(c, state)
                c.execute("COMMIT")
                self._rows_since_ckpt += len(rows)
                if self._fold_every > 0:
                    self._inbox_rows += len(rows)
            except BaseException as e:
                if c.in_transaction:
                    c.execute("ROLLBACK")
                for key in new_keys:
                    self._ids.pop(key, None)
                if is_damage(e):  # not acked, so kept by the broker; but it will not heal by waiting
                    raise damaged(self.path, "time-series database", e) from None
                if isinstance(e, sqlite3.Error):
                    raise StoreError(f"writing {len(readings)} readings to {self.path} failed: {e}") from None
                raise
            if skipped:
                self._skipped_old += skipped
                log.warning(
                    "skipped %d reading(s) older than the raw retention horizon of %s", skipped, self.path
                )

    def _insert(self, c: sqlite3.Connection, rows: list[tuple[int, int, float]]) -> None:
        if not rows:
            return
        # In the tables' key order, so a new hour is appended page after page (stable: of two writes of one
        # time in a batch the later still wins).
        rows = sorted(rows, key=lambda r: (r[1] // HOUR_MS, r[0], r[1]))
        c.executemany(
            "INSERT INTO raw (hour, series_id, ts, value) VALUES (?2 / 3600000, ?1, ?2, ?3)"
            " ON CONFLICT (hour, series_id, ts) DO UPDATE SET value = excluded.value",
            rows,
        )
        recompute5 = self._append_5m(c, rows)
        dirty1 = {(ts // HOUR_MS, sid, ts - ts % HOUR_MS) for sid, ts, _ in rows}
        c.execute("DELETE FROM dirty_5m")
        c.execute("DELETE FROM dirty_1h")
        c.executemany("INSERT INTO dirty_5m (h, sid, b) VALUES (?, ?, ?)",
                      sorted((b // HOUR_MS, sid, b) for sid, b in recompute5))
        c.executemany("INSERT INTO dirty_1h (h, sid, b) VALUES (?, ?, ?)", sorted(dirty1))
        if recompute5:
            c.execute(_RECOMPUTE_5M)
        c.execute(_RECOMPUTE_1H)
        latest: dict[int, tuple[int, float]] = {}
        for sid, ts, value in rows:
            cur = latest.get(sid)
            if cur is None or ts >= cur[0]:
                latest[sid] = (ts, value)
        c.executemany(
            "UPDATE series SET last_ts = ?1, last_value = ?2 WHERE id = ?3 AND (last_ts IS NULL OR last_ts <= ?1)",
            [(ts, v, sid) for sid, (ts, v) in latest.items()],
        )

    @staticmethod
    def _append_5m(c: sqlite3.Connection, rows: list[tuple[int, int, float]]) -> set[tuple[int, int]]:
        """Fold rows that only extend their 5-minute bucket into its rollup; return the buckets to recompute.

        Recomputing a bucket scans all its raw rows, so under a steady stream every small batch paid for
        the whole bucket so far (up to 75,000 rows per series at 1000 msg/s over 4 fridges), the largest
        CPU cost of a write. Rows all later than the bucket's last one cannot have overwritten anything,
        so adding them to the stored aggregates is exact; the sum is added value by value in time order,
        as SQLite's recompute does, so it is bit-identical. Anything else (an overwrite, an older row, a
        timestamp twice in the batch, no rollup row yet) is recomputed from raw as before.
        """
        new: dict[tuple[int, int], list[tuple[int, float]]] = {}
        for sid, ts, value in rows:
            new.setdefault((sid, ts - ts % FIVE_MIN_MS), []).append((ts, value))
        recompute: set[tuple[int, int]] = set()
        folded: list[tuple[int, int, int, int, float, float, float, int, float, int, float]] = []
        for (sid, bucket), pts in new.items():
            pts.sort()
            cur = c.execute("SELECT n, sum, min, max, first_ts, first_v, last_ts FROM rollup_5m"
                            " WHERE hour = ? AND series_id = ? AND bucket = ?",
                            (bucket // HOUR_MS, sid, bucket)).fetchone()
            if cur is None or pts[0][0] <= cur[6] or any(a[0] == b[0] for a, b in itertools.pairwise(pts)):
                recompute.add((sid, bucket))
                continue
            n, total, lo, hi, first_ts, first_v, _ = cur
            for _, value in pts:
                total += value
            values = [v for _, v in pts]
            folded.append((bucket // HOUR_MS, sid, bucket, n + len(pts), total, min(lo, *values), max(hi, *values),
                           first_ts, first_v, pts[-1][0], pts[-1][1]))
        c.executemany("INSERT OR REPLACE INTO rollup_5m (hour, series_id, bucket, n, sum, min, max, first_ts,"
                      " first_v, last_ts, last_v) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", folded)
        return recompute

    def fold(self, before: float | None = None) -> int:
        """Move the inbox (its rows older than ``before``, Unix seconds, when given) into raw, the rollups and
        ``series`` in one transaction; rows moved."""
        where = "" if before is None else f" WHERE ts < {to_ms(before)}"
        with self._wlock:
            if self._closed:
                return 0
            c = self._writer
            try:
                c.execute("BEGIN IMMEDIATE")
                latest: dict[tuple[int, int], float] = {}
                for sid, ts, value in c.execute(f"SELECT series_id, ts, value FROM inbox{where} ORDER BY rowid"):
                    latest[(sid, ts)] = value  # a later write of the same time overwrites, as in raw
                horizon = int(self._meta("raw_horizon_ms") or 0)
                rows = [(sid, ts, v) for (sid, ts), v in latest.items() if ts >= horizon]
                self._insert(c, rows)
                # The few rows of the hour not over are put back: deleting the rest row by row would
                # rewrite every inbox page, where deleting all frees them unwritten.
                keep = [] if before is None else c.execute(
                    f"SELECT series_id, ts, value FROM inbox WHERE ts >= {to_ms(before)} ORDER BY rowid").fetchall()
                c.execute("DELETE FROM inbox")
                c.executemany("INSERT INTO inbox (series_id, ts, value) VALUES (?, ?, ?)", keep)
                c.execute("COMMIT")
            except BaseException as e:
                if c.in_transaction:
                    c.execute("ROLLBACK")
                if is_damage(e):
                    raise damaged(self.path, "time-series database", e) from None
                if isinstance(e, sqlite3.Error):
                    raise StoreError(f"moving the inbox of {self.path} into its tables failed: {e}") from None
                raise
            self._inbox_rows = len(keep)
            if len(rows) < len(latest):
                self._skipped_old += len(latest) - len(rows)
        return len(rows)

    def load_state(self) -> ingest_state.IngestState | None:
        """Ingest's meter and seq state as committed by ``write`` (not the times: ``seen``); None if never written."""
        with self._wlock:
            if self._closed:
                raise StoreError(f"time-series store {self.path} is closed")
            return ingest_state.load(self._writer)

    def seen(self) -> tuple[ingest_state.SeenRow, ...]:
        """Each device's last-seen times as ingest last saved them (see ``gateway.store.ingest_state``)."""
        try:
            return ingest_state.read_seen(self._reader())
        except sqlite3.Error as e:
            raise StoreError(f"cannot read the devices' last-seen times from {self.path}: {e}") from None

    @property
    def skipped_old(self) -> int:
        """Readings skipped since start because they were older than the raw retention horizon."""
        return self._skipped_old

    # -- reading -------------------------------------------------------------------------------

    def _sid(self, c: sqlite3.Connection, device: str, metric: str) -> int | None:
        row = c.execute("SELECT id FROM series WHERE device = ? AND metric = ?", (device, metric)).fetchone()
        return None if row is None else int(row[0])

    @staticmethod
    def _hour_span(c: sqlite3.Connection, table: str, s: int, e: int) -> tuple[int, int]:
        """The first and last hour that ``[s, e)`` and ``table``'s rows both touch (first > last: none)."""
        lo, hi = c.execute(f"SELECT min(hour), max(hour) FROM {table}").fetchone()
        if lo is None or e <= s:
            return 1, 0
        return max(int(s) // HOUR_MS, int(lo)), min((int(e) - 1) // HOUR_MS, int(hi))

    @staticmethod
    def _hours(c: sqlite3.Connection, table: str, s: int, e: int) -> str:
        """A subquery of the hours ``x`` that ``[s, e)`` and ``table``'s rows both touch; a query seeks each.

        Clipped to the table's first and last hour (two seeks), so "everything until 2100" is not a
        million empty seeks.
        """
        a, b = SqliteStore._hour_span(c, table, s, e)
        if a > b:
            return "(SELECT NULL AS x WHERE 0)"
        return f"(WITH RECURSIVE h(x) AS (SELECT {a} UNION ALL SELECT x + 1 FROM h WHERE x < {b}) SELECT x FROM h)"

    @staticmethod
    def _merged(c: sqlite3.Connection, sid: int, s: int, e: int) -> str:
        """A CTE ``merged(series_id, ts, value)``: a series' raw rows in ``[s, e)`` with its inbox rows over them."""
        sid, s, e = int(sid), int(s), int(e)  # literals in the SQL: all three are integers
        return (
            f"merged(series_id, ts, value) AS ("
            f"SELECT r.series_id, r.ts, r.value FROM {SqliteStore._hours(c, 'raw', s, e)} AS h CROSS JOIN raw AS r"
            f" ON r.hour = h.x AND r.series_id = {sid} AND r.ts >= {s} AND r.ts < {e}"
            f" WHERE r.ts NOT IN (SELECT ts FROM inbox WHERE series_id = {sid})"
            f" UNION ALL SELECT series_id, ts, value FROM inbox WHERE rowid IN"
            f" (SELECT max(rowid) FROM inbox WHERE series_id = {sid} AND ts >= {s} AND ts < {e} GROUP BY ts))"
        )

    @staticmethod
    def _inbox_span(c: sqlite3.Connection, sid: int) -> tuple[int, int] | None:
        """The first and last time of a series' rows in the inbox, if it has any."""
        lo, hi = c.execute("SELECT min(ts), max(ts) FROM inbox WHERE series_id = ?", (sid,)).fetchone()
        return None if lo is None else (int(lo), int(hi))

    def query(self, device: str, metric: str, start: float, end: float) -> list[Reading]:
        """Raw readings with ``start <= ts < end``, oldest first (the inbox's included)."""
        c = self._reader()
        sid = self._sid(c, device, metric)
        if sid is None:
            return []
        rows = c.execute(
            f"WITH {self._merged(c, sid, to_ms(start), to_ms(end))} SELECT ts, value FROM merged ORDER BY ts"
        ).fetchall()
        return [Reading(ts / 1000, device, metric, value) for ts, value in rows]

    def aggregate(
        self,
        device: str,
        metric: str,
        start: float,
        end: float,
        every: float,
        fn: Aggregate,
        tz: tzinfo | None = None,
    ) -> list[Bucket]:
        """Aggregates per window of ``every`` seconds (see ``TimeSeriesStore.aggregate``).

        Each window is answered from the coarsest rollup whose buckets tile it exactly, else from
        raw rows (see ``sources_for``).
        """
        return self._aggregate(device, metric, start, end, every, fn, tz, use_rollups=True)

    def aggregate_raw(
        self,
        device: str,
        metric: str,
        start: float,
        end: float,
        every: float,
        fn: Aggregate,
        tz: tzinfo | None = None,
    ) -> list[Bucket]:
        """Like ``aggregate`` but always from raw rows (the benchmark's baseline and a test oracle)."""
        return self._aggregate(device, metric, start, end, every, fn, tz, use_rollups=False)

    def sources_for(self, start: float, end: float, every: float, tz: tzinfo | None = None) -> dict[str, int]:
        """How many windows ``aggregate`` would answer from each table (a rollup table or ``"raw"``)."""
        s, e = to_ms(start), to_ms(end)
        out: dict[str, int] = {}
        for table, first, last, _ in self._plan(window_edges(s, e, to_ms(every), tz), s, e, use_rollups=True):
            out[table] = out.get(table, 0) + last - first + 1
        return out

    @staticmethod
    def _plan(edges: list[int], s: int, e: int, *, use_rollups: bool) -> list[tuple[str, int, int, bool]]:
        """Runs of consecutive windows ``(table, first, last, equal)`` and where each is read from.

        Each window comes from the coarsest rollup whose buckets tile it exactly (clipped to
        ``[s, e)``); only the clipped ends of an off-grid range (e.g. "the last 24 hours" in hourly
        windows) need a finer table. ``equal`` says the run's windows all have the same length.
        """
        n = len(edges) - 1
        step = edges[1] - edges[0]
        # Equal windows (no DST change inside) are the common case; checked at C speed.
        equal = edges == list(range(edges[0], edges[-1] + 1, step))
        if not use_rollups:
            return [("raw", 0, n - 1, equal)]

        def table_for(a: int, b: int) -> str:
            for name, size in ROLLUPS:
                if a % size == 0 and b % size == 0:
                    return name
            return "raw"

        if equal:
            middle = table_for(edges[0], edges[0] + step)  # every interior edge is on this grid
            tables = [table_for(max(edges[0], s), min(edges[1], e))]
            if n > 2:
                tables += [middle] * (n - 2)
            if n > 1:
                tables.append(table_for(edges[-2], min(edges[-1], e)))
        else:
            tables = [table_for(max(a, s), min(b, e)) for a, b in itertools.pairwise(edges)]
        runs: list[tuple[str, int, int, bool]] = []
        first = 0
        for i in range(1, n + 1):
            if i == n or tables[i] != tables[first]:
                runs.append((tables[first], first, i - 1, equal))
                first = i
        return runs

    def _aggregate(
        self,
        device: str,
        metric: str,
        start: float,
        end: float,
        every: float,
        fn: Aggregate,
        tz: tzinfo | None,
        *,
        use_rollups: bool,
    ) -> list[Bucket]:
        if fn not in _FNS:
            raise ValueError(f"aggregate {fn!r} is not known; use one of {sorted(_FNS)}")
        s, e = to_ms(start), to_ms(end)
        if e <= s:
            return []
        edges = window_edges(s, e, to_ms(every), tz)
        c = self._reader()
        sid = self._sid(c, device, metric)
        if sid is None:
            return []
        out: list[Bucket] = []
        runs = self._plan(edges, s, e, use_rollups=use_rollups)
        span = self._inbox_span(c, sid)
        if span is not None:
            runs = _with_inbox(runs, edges, span)
        for table, first, last, equal in runs:
            out += self._run(c, sid, fn, table, edges, max(edges[first], s), min(edges[last + 1], e), first, last,
                             equal)
        return out

    @staticmethod
    def _run(c: sqlite3.Connection, sid: int, fn: Aggregate, table: str, edges: list[int], s: int, e: int,
             first: int, last: int, equal: bool) -> list[Bucket]:
        """Aggregates of windows ``first..last`` (clipped to ``[s, e)``) read from ``table``."""
        if table == "merged":  # windows the inbox touches: raw and inbox rows together
            expr, count, alias, ts_col = _RAW_EXPR[fn], "count(*)", "r", "ts"
            with_ = SqliteStore._merged(c, sid, s, e)
            # Rows of [?4, ?5) in order of time: the merged rows are that already.
            rows = "merged AS r WHERE r.series_id = ?3 AND r.ts >= ?4 AND r.ts < ?5"
        else:
            expr, count, alias, ts_col = ((_RAW_EXPR[fn], "count(*)", "r", "ts") if table == "raw" else
                                          (_ROLLUP_EXPR[fn], "sum(q.n)", "q", "bucket"))
            with_ = ""
            # One seek per hour of the range: the tables are keyed (hour, series, time).
            rows = (f"{SqliteStore._hours(c, table, s, e)} AS h CROSS JOIN {table} AS {alias} ON {alias}.hour = h.x"
                    f" AND {alias}.series_id = ?3 AND {alias}.{ts_col} >= ?4 AND {alias}.{ts_col} < ?5")
        params: tuple[object, ...]
        step = edges[1] - edges[0]
        if equal and table not in ("raw", "merged") and step == _BUCKET_MS[table]:
            # One bucket per window (hourly windows from hourly rollups): read the rows, no grouping.
            sql = f"SELECT (q.bucket - ?1) / ?2, {_ONE_BUCKET[fn]}, q.n FROM {rows} ORDER BY q.bucket"
            params = (edges[0], step, sid, s, e)
        elif equal:
            # Equal windows: the window index is plain arithmetic.
            sql = (
                (f"WITH {with_} " if with_ else "") +
                f"SELECT ({alias}.{ts_col} - ?1) / ?2 AS i, {expr}, {count} FROM {rows} GROUP BY i ORDER BY i"
            )
            params = (edges[0], step, sid, s, e)
        elif table == "merged":
            # Windows of different lengths: join the list of windows, each a range over the merged rows.
            sql = (
                f"WITH {with_}, w(i, s, e) AS (SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?1))"
                f" SELECT w.i, {expr}, {count} FROM w CROSS JOIN merged AS r"
                f" ON r.series_id = ?2 AND r.ts >= w.s AND r.ts < w.e GROUP BY w.i ORDER BY w.i"
            )
            params = (json.dumps([(i, max(edges[i], s), min(edges[i + 1], e)) for i in range(first, last + 1)]), sid)
        else:
            # Windows of different lengths (a DST change inside): each window once per hour it spans, a seek each.
            sql = (
                f"WITH w(i, s, e, x) AS (SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?1))"
                f" SELECT w.i, {expr}, {count} FROM w CROSS JOIN {table} AS {alias}"
                f" ON {alias}.hour = w.x AND {alias}.series_id = ?2 AND {alias}.{ts_col} >= w.s"
                f" AND {alias}.{ts_col} < w.e GROUP BY w.i ORDER BY w.i"
            )
            lo, hi = SqliteStore._hour_span(c, table, s, e)
            windows = [(i, ws, we, x) for i in range(first, last + 1)
                       for ws, we in [(max(edges[i], s), min(edges[i + 1], e))]
                       for x in range(max(ws // HOUR_MS, lo), min((we - 1) // HOUR_MS, hi) + 1)]
            params = (json.dumps(windows), sid)
        # Rows are (window, value, [time of first/last,] count).
        return [
            Bucket(edges[row[0]] / 1000, edges[row[0] + 1] / 1000, float(row[1]), int(row[-1]))
            for row in c.execute(sql, params)
        ]

    def series(self, device: str | None = None) -> list[SeriesInfo]:
        """Every stored series (of one device when given) with its latest sample."""
        c = self._reader()
        # The inbox's latest row per series (the last written of equal times), over the folded one.
        sql = (
            "WITH i AS (SELECT series_id, ts, value FROM inbox WHERE rowid IN"
            " (SELECT max(rowid) FROM inbox GROUP BY series_id, ts)),"
            " il AS (SELECT series_id, max(ts) AS ts, value FROM i GROUP BY series_id)"
            " SELECT s.device, s.metric,"
            " CASE WHEN il.ts IS NOT NULL AND (s.last_ts IS NULL OR il.ts >= s.last_ts) THEN il.ts ELSE s.last_ts END,"
            " CASE WHEN il.ts IS NOT NULL AND (s.last_ts IS NULL OR il.ts >= s.last_ts) THEN il.value"
            " ELSE s.last_value END"
            " FROM series AS s LEFT JOIN il ON il.series_id = s.id"
            " WHERE (s.last_ts IS NOT NULL OR il.ts IS NOT NULL)"
        )
        params: tuple[str, ...] = ()
        if device is not None:
            sql += " AND s.device = ?"
            params = (device,)
        rows = c.execute(sql + " ORDER BY s.device, s.metric", params).fetchall()
        return [SeriesInfo(d, m, ts / 1000, v) for d, m, ts, v in rows]

    # -- maintenance ---------------------------------------------------------------------------

    def size_bytes(self) -> int:
        """Bytes on disk: the database file plus its WAL."""
        total = 0
        for p in (self.path, self.path.with_name(self.path.name + "-wal")):
            with contextlib.suppress(FileNotFoundError):
                total += p.stat().st_size
        return total

    def maintenance(self, now: float, progress: ProgressFn | None = None, *,
                    vacuum: bool | None = None) -> MaintenanceReport:
        """Apply retention as of ``now``, optimise, return free pages to the file system, checkpoint.

        Safe to call from any thread while ingest writes: it deletes and vacuums in small
        transactions so ingest is never held up for long. Cut-offs are rounded down to whole hours so
        no rollup bucket is left half-backed by raw rows. Free pages are returned when ``vacuum`` is
        True, or (None, the nightly job) only when over a quarter of the file is free and the file gives
        them back in steps: pages freed by one night's retention are reused by the next day's writes, and
        moving them would only wear the card. A file without incremental vacuum (new ones) is rewritten
        whole, so only when asked (``vacuum=True``: ``houqin storage compact``).
        """
        say = progress or (lambda _msg: None)
        say("moving the inbox into the tables")
        self.fold(before=now - now % 3600)  # the hours that are over, as the timed fold does
        before = self.size_bytes()
        deleted = {}
        for table, keep in (("raw", self.retention.raw), ("rollup_5m", self.retention.rollup_5m),
                            ("rollup_1h", self.retention.rollup_1h)):
            if keep is None:
                deleted[table] = 0
                continue
            cutoff = to_ms(now - keep)
            cutoff -= cutoff % HOUR_MS
            deleted[table] = self._delete_before(table, cutoff, say)
        with self._wlock:
            say("optimizing")
            self._writer.execute("PRAGMA optimize").fetchall()
            free, pages = self._free_pages()
        if free and (vacuum or (vacuum is None and free > pages // 4 and self._incremental())):
            # A file without incremental vacuum is rewritten whole, holding the write lock meanwhile: only when
            # asked (``houqin storage compact``), never by the nightly job behind the gateway's back.
            self._return_free_pages(free, say)
        # The checkpoint lock too: a background PASSIVE pass in progress makes TRUNCATE answer busy and
        # leave the whole WAL in place (seen as a store larger after maintenance than before).
        with self._ckpt_lock, self._wlock:
            say("checkpointing the write-ahead log")
            self._writer.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('maintained_at', ?)", (repr(float(now)),)
            )
            self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        after = self.size_bytes()
        return MaintenanceReport(deleted["raw"], deleted["rollup_5m"], deleted["rollup_1h"], before, after)

    def _incremental(self) -> bool:
        """Whether the file gives free pages back in steps (older files; see ``_connect``)."""
        with self._wlock:
            return bool(self._writer.execute("PRAGMA auto_vacuum").fetchone()[0] == 2)

    def _return_free_pages(self, free: int, say: ProgressFn) -> None:
        """Give free pages back to the file system: in steps where the file allows it, else by rewriting it."""
        if not self._incremental():
            say(f"rewriting the file to return {free} free page(s)")
            with self._ckpt_lock, self._wlock:
                # VACUUM builds the new file in a temporary one: on disk, not in memory (a Pi has less RAM
                # than the store has bytes). Ingest waits meanwhile; what it has not committed stays unacked.
                self._writer.execute("PRAGMA temp_store=FILE")
                try:
                    self._writer.execute("VACUUM")
                except sqlite3.Error as e:
                    raise StoreError(f"cannot rewrite {self.path} to return its free pages: {e}; it needs free space"
                                     " of about twice its size; the store works on as it is") from None
                finally:
                    self._writer.execute("PRAGMA temp_store=MEMORY")
                    self._writer.executescript(_DIRTY_SCHEMA)  # the temp tables went with temp_store's change
            return
        while free:
            with self._wlock:
                # Each step frees one page and execute() steps once; executescript() runs it to the end.
                self._writer.executescript(f"PRAGMA incremental_vacuum({VACUUM_STEP_PAGES});")
                left, _ = self._free_pages()
            say(f"returning free pages to the file system: {left} left")
            if left >= free:
                break
            free = left

    def last_maintenance(self) -> float | None:
        """The ``now`` of the last completed maintenance run (Unix seconds), None if never."""
        with self._wlock:
            value = self._meta("maintained_at")
        return None if value is None else float(value)

    def _free_pages(self) -> tuple[int, int]:
        c = self._writer
        return int(c.execute("PRAGMA freelist_count").fetchone()[0]), int(c.execute("PRAGMA page_count").fetchone()[0])

    def _delete_before(self, table: str, cutoff: int, say: ProgressFn) -> int:
        with self._wlock:
            if table == "raw":
                # Raise the horizon first, so no write recomputes a bucket whose raw rows are going.
                self._writer.execute(
                    "INSERT INTO meta (key, value) VALUES ('raw_horizon_ms', ?1) ON CONFLICT (key)"
                    " DO UPDATE SET value = max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
                    (str(cutoff),),
                )
            first = self._writer.execute(f"SELECT min(hour) FROM {table}").fetchone()[0]
        end = cutoff // HOUR_MS  # cutoff is on the hour: every hour before it goes whole
        total = 0
        if first is None or first >= end:
            say(f"{table}: 0 row(s) deleted")
            return 0
        # The oldest hours lead the key: each transaction deletes a day's run of rows at the table's start,
        # so ingest waits for one day at most.
        for a in range(int(first), end, 24):
            with self._wlock:
                c = self._writer
                c.execute("BEGIN IMMEDIATE")
                try:
                    cur = c.execute(f"DELETE FROM {table} WHERE hour >= ?1 AND hour < ?2", (a, min(a + 24, end)))
                    c.execute("COMMIT")
                except BaseException:
                    c.execute("ROLLBACK")
                    raise
            total += cur.rowcount
            say(f"{table}: day {(a - first) // 24 + 1}/{(end - first + 23) // 24}, {total} row(s) deleted")
        return total

    def _checkpoint_if_due(self) -> None:
        if self._fold_every > 0:
            # Checkpoint only after a fold: the pages of raw and the rollups were rewritten once, and the
            # inbox's pages, appended to by every commit, are copied once (FOLD_AFTER_ROWS bounds the WAL).
            now = time.time()
            full = self._inbox_rows >= FOLD_AFTER_ROWS
            if self._inbox_rows and (full or now >= self._next_fold):
                # On the hour grid: the hours that are over, so each reaches raw in one piece (appended).
                before = now - now % 3600 if not full and self._fold_every % 3600 == 0 else None
                try:
                    self.fold(before)
                except StoreError as e:
                    log.warning("%s; retrying in %.0f s", e, CHECKPOINT_CHECK_S)
                    return
                self._next_fold = self._fold_time_after(now)
                self._rows_since_ckpt = 0
                self._last_ckpt = time.monotonic()
                self.checkpoint()
            return
        if self._rows_since_ckpt and (self._rows_since_ckpt >= CHECKPOINT_AFTER_ROWS
                                      or time.monotonic() - self._last_ckpt >= self._checkpoint_every):
            self._rows_since_ckpt = 0
            self._last_ckpt = time.monotonic()
            self.checkpoint()

    def _fold_time_after(self, now: float) -> float:
        """When the timed fold is next due: the next multiple of ``fold_every`` (just after the hour turns)."""
        every = self._fold_every
        if every <= 0:
            return math.inf
        return (now // every + 1) * every + (FOLD_GRACE_S if every % 3600 == 0 else 0.0)

    def checkpoint(self) -> int:
        """Copy committed WAL frames into the database file without waiting for the writer; frames copied.

        Runs every ``CHECKPOINT_EVERY_S`` (or after ``CHECKPOINT_AFTER_ROWS``) on a background thread once
        the store has been written to.
        """
        with self._ckpt_lock:
            if self._closed:
                return 0
            try:
                row = self._checkpoint_once()
            except (sqlite3.Error, StoreError) as e:
                # Every second while the disk is full: one line when the trouble starts or changes, not a
                # traceback per tick (ingest's failing commits say the rest).
                if str(e) != self._ckpt_error:
                    self._ckpt_error = str(e)
                    log.warning("cannot checkpoint the WAL of %s: %s; retrying every %.0f s", self.path, e,
                                CHECKPOINT_EVERY_S)
                return 0
            if self._ckpt_error is not None:
                self._ckpt_error = None
                log.warning("checkpointing the WAL of %s works again", self.path)
        return 0 if row is None or row[2] < 0 else int(row[2])

    def health(self) -> StoreHealth:
        """Writable when the database file is (no outbox: a write goes straight to it)."""
        return StoreHealth("sqlite", os.access(self.path, os.W_OK))

    def _checkpoint_once(self) -> tuple[int, int, int] | None:
        if self._ckpt_conn is None:
            self._ckpt_conn = self._connect(create=False)
        conn = self._ckpt_conn
        row: tuple[int, int, int] | None = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if row is not None and row[1] >= RESTART_AFTER_FRAMES:
            # Under steady writes a pass beside the writer never ends with the whole WAL copied while
            # the writer is idle, so the WAL would never start over and would grow without bound
            # (measured: 7 MB/s at 250 commits/s). Copying the small remainder written during the
            # first pass while holding the write lock lets the next write restart the WAL; the
            # writer waits for that remainder only, not for the whole copy as with auto-checkpoint.
            with self._wlock:
                if not self._closed:
                    row = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return row

    def close(self) -> None:
        """Close every connection; later calls raise StoreError.

        The inbox stays in the file (queries merge it; the next run's timed fold moves it): folding it at
        every stop wrote an hour's pages for a few minutes of readings, and split the hour it stopped in.
        """
        self._checkpointer.stop()
        with self._ckpt_lock, self._wlock:
            if self._closed:
                return
            self._closed = True
            if self._ckpt_conn is not None:
                self._ckpt_conn.close()
            self._writer.close()
        self._readers.close_all()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _with_inbox(runs: list[tuple[str, int, int, bool]], edges: list[int],
                span: tuple[int, int]) -> list[tuple[str, int, int, bool]]:
    """``runs`` with the windows that hold a time in ``span`` (the inbox's rows) read from ``"merged"``."""
    lo, hi = span
    n = len(edges) - 1
    a = next((i for i in range(n) if edges[i + 1] > lo), n)  # first window ending after lo
    b = next((i for i in range(n - 1, -1, -1) if edges[i] <= hi), -1)  # last window starting at or before hi
    if a > b:
        return runs
    out: list[tuple[str, int, int, bool]] = []
    for table, first, last, equal in runs:
        for x, y, t in ((first, min(last, a - 1), table), (max(first, a), min(last, b), "merged"),
                        (max(first, b + 1), last, table)):
            if x <= y:
                if out and out[-1][0] == t == "merged" and out[-1][2] == x - 1:
                    out[-1] = (t, out[-1][1], y, equal and out[-1][3])
                else:
                    out.append((t, x, y, equal))
    return out
