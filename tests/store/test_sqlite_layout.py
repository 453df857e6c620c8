"""The SQLite store's hour-major layout: older files rebuilt with nothing lost, the hourly fold, pages written once."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

from gateway.model import Reading
from gateway.store.sqlite import SCHEMA_VERSION, SqliteStore
from tests.store.timeline import SHANGHAI, T0, D, H

# Schema 2's tables as Houqin 0.x wrote them: raw and the rollups keyed (series_id, time).
_V2_TABLES = """
CREATE TABLE raw (series_id INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL NOT NULL,
    PRIMARY KEY (series_id, ts)) WITHOUT ROWID;
""" + "".join(f"""
CREATE TABLE {t} (series_id INTEGER NOT NULL, bucket INTEGER NOT NULL, n INTEGER NOT NULL, sum REAL NOT NULL,
    min REAL NOT NULL, max REAL NOT NULL, first_ts INTEGER NOT NULL, first_v REAL NOT NULL, last_ts INTEGER NOT NULL,
    last_v REAL NOT NULL, PRIMARY KEY (series_id, bucket)) WITHOUT ROWID;
""" for t in ("rollup_5m", "rollup_1h"))
_ROLLUP_COLS = "series_id, bucket, n, sum, min, max, first_ts, first_v, last_ts, last_v"


def _readings(n_series: int, hours: float, step: float = 37.0) -> list[Reading]:
    rnd = random.Random(3)
    return [Reading(T0 + k * step + i * 0.25, f"fridge-{i}", "temperature", round(rnd.uniform(-20, 8), 2))
            for k in range(int(hours * H / step)) for i in range(n_series)]


def _answers(store: SqliteStore) -> list[object]:
    out: list[object] = [store.series()]
    for i in range(3):
        dev = f"fridge-{i}"
        out.append(store.query(dev, "temperature", T0 - D, T0 + 3 * D))
        for every, fn in ((300.0, "mean"), (H, "max"), (D, "count"), (7 * 60.0, "first")):
            out.append(store.aggregate(dev, "temperature", T0 + 600, T0 + 2 * D, every, fn))
        out.append(store.aggregate(dev, "temperature", T0, T0 + 2 * D, D, "sum", SHANGHAI))
    return out


def _as_schema_2(new: Path, old: Path) -> None:
    """Copy a store into a file with schema 2's layout (what an upgrade finds on disk)."""
    src = sqlite3.connect(new)
    dst = sqlite3.connect(old)
    dst.executescript(_V2_TABLES)
    for sql in src.execute("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name NOT IN"
                           " ('raw', 'rollup_5m', 'rollup_1h') AND sql IS NOT NULL"):
        dst.execute(sql[0])
    for (table,) in src.execute("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT IN"
                                " ('raw', 'rollup_5m', 'rollup_1h')"):
        rows = src.execute(f"SELECT * FROM {table}").fetchall()
        if rows:
            dst.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)
    dst.executemany("INSERT INTO raw VALUES (?, ?, ?)", src.execute("SELECT series_id, ts, value FROM raw"))
    for t in ("rollup_5m", "rollup_1h"):
        rows = src.execute(f"SELECT {_ROLLUP_COLS} FROM {t}")
        dst.executemany(f"INSERT INTO {t} VALUES ({', '.join('?' * 10)})", rows)
    dst.execute("PRAGMA user_version = 2")
    dst.commit()
    dst.close()
    src.close()


def test_a_schema_2_file_is_rebuilt_hour_major_with_every_row_and_the_same_answers(tmp_path: Path) -> None:
    readings = _readings(5, 30)
    with SqliteStore(tmp_path / "new.db", fold_every=3600) as store:
        store.write(readings[: len(readings) // 2])
        store.fold()
        store.write(readings[len(readings) // 2:])
        store.fold()
        expected = _answers(store)
    before = sqlite3.connect(tmp_path / "new.db").execute("SELECT count(*) FROM raw").fetchone()[0]
    _as_schema_2(tmp_path / "new.db", tmp_path / "old.db")
    with sqlite3.connect(tmp_path / "old.db") as c:  # a row left in the inbox by a gateway killed before its fold
        c.execute("INSERT INTO inbox SELECT id, ?, 2.5 FROM series WHERE device = 'fridge-4'",
                  (round((T0 + 2 * D) * 1000),))
        c.execute("INSERT INTO raw VALUES (99, ?, 1.0)", (round(T0 * 1000),))  # a damaged file: no series 99
    with SqliteStore(tmp_path / "old.db", fold_every=3600) as store:
        assert _answers(store)[1:] == expected[1:]
        assert store.query("fridge-4", "temperature", T0 + 2 * D, T0 + 3 * D)[0].value == 2.5
        store.write([Reading(T0 + 3 * D, "fridge-0", "temperature", 1.5)])  # and it goes on taking readings
        assert store.query("fridge-0", "temperature", T0 + 3 * D, T0 + 3 * D + 1)[0].value == 1.5
    c = sqlite3.connect(tmp_path / "old.db")
    assert c.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert "hour" in {row[1] for row in c.execute("PRAGMA table_info(raw)")}
    assert c.execute("SELECT count(*) FROM raw").fetchone()[0] == before + 1 == len(readings) + 1  # series 99's too
    assert c.execute("SELECT count(*) FROM inbox").fetchone()[0] == 2  # the one left there and the new one
    assert not c.execute("SELECT name FROM sqlite_schema WHERE name LIKE 'old_%'").fetchall()


def test_a_fold_on_the_hour_moves_the_hours_that_are_over_and_leaves_the_rest(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "ts.db", fold_every=3600) as store:
        store.write([Reading(T0 + t, "fridge", "temperature", float(t)) for t in range(0, 7200, 600)])
        store.write([Reading(T0 + 600, "fridge", "temperature", -1.0)])  # an overwrite waiting in the inbox
        answers = (store.query("fridge", "temperature", T0, T0 + 2 * H),
                   store.aggregate("fridge", "temperature", T0, T0 + 2 * H, H, "sum"))
        assert store.fold(before=T0 + H) == 6
        c = sqlite3.connect(tmp_path / "ts.db")
        assert c.execute("SELECT min(ts) FROM inbox").fetchone()[0] == round((T0 + H) * 1000)
        assert c.execute("SELECT count(*) FROM inbox").fetchone()[0] == 6
        assert c.execute("SELECT count(*) FROM raw").fetchone()[0] == 6
        assert (store.query("fridge", "temperature", T0, T0 + 2 * H),
                store.aggregate("fridge", "temperature", T0, T0 + 2 * H, H, "sum")) == answers
        assert answers[0][1].value == -1.0
        assert store.fold() == 6
        assert store.query("fridge", "temperature", T0, T0 + 2 * H) == answers[0]


def _wal_page_bytes(path: Path) -> int:
    """Bytes of pages in the WAL (its frames less their headers)."""
    page = sqlite3.connect(path).execute("PRAGMA page_size").fetchone()[0]
    wal = path.with_name(path.name + "-wal")
    return (wal.stat().st_size - 32) // (page + 24) * page if wal.exists() else 0


def test_an_hour_of_30_fridges_is_folded_in_about_as_many_pages_as_its_rows_fill(tmp_path: Path) -> None:
    # The series-major layout wrote 1.3 MB for this fold (each split rewrote its neighbours): 4.8x the rows.
    path = tmp_path / "ts.db"
    devices = [f"fridge-{i:02d}" for i in range(30)]
    with SqliteStore(path, fold_every=3600) as store:
        for hour in range(25):
            start = T0 + hour * H
            store.write([Reading(start + k * 10 + i * 0.01, d, "temperature", 4.0 + (k % 7) / 10)
                         for k in range(360) for i, d in enumerate(devices)])
            store.fold(before=start + H)
        store.write([Reading(T0 + 25 * H + k * 10 + i * 0.01, d, "temperature", 4.5)
                     for k in range(360) for i, d in enumerate(devices)])
        store._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert store.fold(before=T0 + 26 * H) == 10_800
        written = _wal_page_bytes(path)
    # 10,800 rows of about 25 bytes fill 270 kB; with both rollups and the B-tree's inner pages, about 450 kB.
    assert 270_000 < written <= 550_000, written


def test_rows_left_in_the_inbox_do_not_shadow_writes_once_the_inbox_is_off(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "ts.db", fold_every=3600) as store:
        store.write([Reading(T0, "fridge", "temperature", 4.0)])  # in the inbox; a stop leaves it there
    with SqliteStore(tmp_path / "ts.db", fold_every=0) as store:  # [storage] fold_interval = 0 from now on
        store.write([Reading(T0, "fridge", "temperature", 5.0)])
        assert [r.value for r in store.query("fridge", "temperature", T0, T0 + 1)] == [5.0]
