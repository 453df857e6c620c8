"""SQLite store specifics: which rollup answers, rollups equal raw answers through overwrites, reopen."""

from __future__ import annotations

import random
import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.errors import StoreError
from gateway.model import Reading
from gateway.store.sqlite import SqliteStore
from tests.store.timeline import BERLIN, SHANGHAI, T0, D, H


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    s = SqliteStore(tmp_path / "ts.db")
    yield s  # type: ignore[misc]
    s.close()


@pytest.mark.parametrize(
    ("start", "end", "every", "tz", "sources"),
    [
        (T0, T0 + D, H, None, {"rollup_1h": 24}),
        (T0, T0 + 7 * D, D, SHANGHAI, {"rollup_1h": 8}),  # local days straddle UTC days: 8 windows
        (datetime(2026, 3, 23, tzinfo=BERLIN).timestamp(), datetime(2026, 3, 30, tzinfo=BERLIN).timestamp(), D,
         BERLIN, {"rollup_1h": 7}),
        (T0, T0 + H, 300, None, {"rollup_5m": 12}),
        (T0, T0 + D, D, ZoneInfo("Asia/Kolkata"), {"rollup_5m": 2}),  # local midnight is hh:30 UTC
        (T0, T0 + H, 60, None, {"raw": 60}),
        # "The last 24 hours" in hourly windows: only the clipped ends need finer tables.
        (T0 + 300, T0 + 2 * H, H, None, {"rollup_5m": 1, "rollup_1h": 1}),
        (T0 + 90, T0 + D + 90, H, None, {"raw": 2, "rollup_1h": 23}),
        (T0, T0 + H + 30, H, None, {"rollup_1h": 1, "raw": 1}),
    ],
)
def test_each_window_comes_from_the_coarsest_exact_table(store: SqliteStore, start: float, end: float,
                                                         every: float, tz: ZoneInfo | None,
                                                         sources: dict[str, int]) -> None:
    assert store.sources_for(start, end, every, tz) == sources


def _stored_rollup(store: SqliteStore, table: str) -> list[tuple[int, int, float, float, float, float, float]]:
    conn = sqlite3.connect(store.path)
    try:
        rows = conn.execute(f"SELECT bucket, n, sum, min, max, first_v, last_v FROM {table} ORDER BY bucket")
        return rows.fetchall()
    finally:
        conn.close()


def test_overwrite_recomputes_the_rollup_buckets(store: SqliteStore) -> None:
    store.write([Reading(T0 + 60 * i, "m", "usage_l", 1.0) for i in range(10)])
    store.write([Reading(T0, "m", "usage_l", 7.0), Reading(T0 + 540, "m", "usage_l", 0.5)])
    assert _stored_rollup(store, "rollup_5m") == [
        (round(T0 * 1000), 5, 11.0, 1.0, 7.0, 7.0, 1.0),
        (round((T0 + 300) * 1000), 5, 4.5, 0.5, 1.0, 1.0, 0.5),
    ]
    assert _stored_rollup(store, "rollup_1h") == [(round(T0 * 1000), 10, 15.5, 0.5, 7.0, 7.0, 0.5)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rollup_answers_equal_raw_answers_through_overwrites_and_late_data(store: SqliteStore, seed: int) -> None:
    rng = random.Random(seed)
    start = datetime(2026, 3, 27, tzinfo=BERLIN).timestamp()  # spans Berlin's spring-forward day
    span = 4 * D
    written: dict[float, float] = {}
    for _ in range(12):
        batch = []
        for _ in range(rng.randint(1, 400)):
            ts = start + round(rng.uniform(0, span), 3)
            if written and rng.random() < 0.3:
                ts = rng.choice(list(written))  # overwrite something already stored
            value = round(rng.uniform(-20, 20), 2)
            batch.append(Reading(ts, "f", "temperature", value))
        rng.shuffle(batch)
        store.write(batch)
        for r in batch:
            written[r.ts] = r.value
    assert len(store.query("f", "temperature", start, start + span)) == len(written)
    cases = [(H, None), (300, None), (D, BERLIN), (D, SHANGHAI), (3 * H, BERLIN), (D, None)]
    for every, tz in cases:
        assert "raw" not in store.sources_for(start, start + span, every, tz)
        for fn in ("sum", "mean", "min", "max", "first", "last", "count"):
            fast = store.aggregate("f", "temperature", start, start + span, every, fn, tz)  # type: ignore[arg-type]
            slow = store.aggregate_raw("f", "temperature", start, start + span, every, fn, tz)  # type: ignore[arg-type]
            assert [(b.start, b.end, b.count) for b in fast] == [(b.start, b.end, b.count) for b in slow]
            assert [b.value for b in fast] == pytest.approx([b.value for b in slow]), (every, tz, fn)
            # And the oracle of the oracle: raw rows grouped in Python.
            if fn == "count":
                assert sum(b.count for b in slow) == len(written)


def test_off_grid_ranges_mix_tables_and_still_equal_raw(store: SqliteStore) -> None:
    rng = random.Random(7)
    store.write([Reading(T0 + 20 * i + rng.random(), "m", "usage_l", rng.uniform(0, 5)) for i in range(3 * 4320)])
    for start, end, every, tz in [(T0 + 1234.5, T0 + 2 * D + 777, H, None), (T0 + 301, T0 + 3 * D - 299, D, SHANGHAI),
                                  (T0 + 7, T0 + 5 * H, 900, BERLIN)]:
        assert len(store.sources_for(start, end, every, tz)) > 1
        for fn in ("sum", "mean", "min", "max", "first", "last", "count"):
            fast = store.aggregate("m", "usage_l", start, end, every, fn, tz)  # type: ignore[arg-type]
            slow = store.aggregate_raw("m", "usage_l", start, end, every, fn, tz)  # type: ignore[arg-type]
            assert [(b.start, b.end, b.count) for b in fast] == [(b.start, b.end, b.count) for b in slow]
            assert [b.value for b in fast] == pytest.approx([b.value for b in slow]), (start, fn)


def test_reopen_keeps_data_and_series_ids(tmp_path: Path) -> None:
    path = tmp_path / "ts.db"
    with SqliteStore(path) as s:
        s.write([Reading(T0, "a", "temperature", 1.0), Reading(T0, "b", "temperature", 2.0)])
    with SqliteStore(path) as s:
        s.write([Reading(T0 + 60, "a", "temperature", 3.0), Reading(T0 + 60, "c", "temperature", 4.0)])
        assert [r.value for r in s.query("a", "temperature", T0, T0 + H)] == [1.0, 3.0]
        assert [(x.device, x.last_value) for x in s.series()] == [("a", 3.0), ("b", 2.0), ("c", 4.0)]
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 0  # none: freed pages are reused (see _connect)
    assert conn.execute("PRAGMA page_size").fetchone()[0] == 1024
    conn.close()


@pytest.mark.parametrize(
    "bad", [Reading(T0, "f", "temperature", float("nan")), Reading(T0, "f", "temperature", float("inf")),
            Reading(-5.0, "f", "temperature", 1.0), Reading(float("nan"), "f", "temperature", 1.0)],
)
def test_bad_reading_refuses_the_whole_batch_and_names_it(store: SqliteStore, bad: Reading) -> None:
    good = Reading(T0 + 60, "g", "temperature", 1.0)
    with pytest.raises(ValueError, match="f/temperature"):
        store.write([good, bad])
    assert store.series() == []
    store.write([good])  # the store still works, and the series it had started is not half-made
    assert [x.device for x in store.series()] == ["g"]


def test_unknown_aggregate_and_closed_store(store: SqliteStore) -> None:
    with pytest.raises(ValueError, match="median"):
        store.aggregate("f", "temperature", T0, T0 + H, H, "median")  # type: ignore[arg-type]
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.write([Reading(T0, "f", "temperature", 1.0)])
    with pytest.raises(StoreError, match="closed"):
        store.query("f", "temperature", T0, T0 + H)


def test_unwritable_location_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match=r"\[storage\] dir"):
        SqliteStore(blocker / "ts.db")


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "ts.db"
    path.write_bytes(b"not a database at all, just text" * 200)
    with pytest.raises(StoreError, match=r"ts.db is damaged .*`houqin storage recover`"):
        SqliteStore(path)
