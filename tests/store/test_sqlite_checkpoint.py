"""The SQLite store checkpoints its WAL on a background connection, never inside the writer's commit."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from gateway.model import Reading
from gateway.store.sqlite import SqliteStore
from tests.waiting import wait_for

T0 = 1_790_000_000.0


def test_writes_reach_the_database_file_through_the_background_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "ts.db"
    with SqliteStore(path, checkpoint_every=0.5) as store:  # the default waits a minute (fewer page copies)
        empty = path.stat().st_size
        # A few hundred pages: below SQLite's own auto-checkpoint threshold (1000), so only the
        # background thread can have copied them into the file.
        for b in range(10):
            store.write([Reading(T0 + b * 1000 + i, f"fridge-{i % 4}", "temperature", 4.0 + i % 7)
                         for i in range(1000)])
        wait_for(lambda: path.stat().st_size > empty, what="the background checkpoint to grow the file")
        # The writer itself never checkpoints (its commits would carry the copying and syncing).
        assert store._writer.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
        assert len(store.query("fridge-1", "temperature", T0, T0 + 10_000)) == 2500
    with SqliteStore(path) as again:  # everything committed is there after a reopen
        assert len(again.query("fridge-1", "temperature", T0, T0 + 10_000)) == 2500


def test_checkpoint_after_close_does_nothing(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "ts.db")
    store.write([Reading(T0, "fridge-1", "temperature", 4.0)])
    assert store.checkpoint() >= 1
    store.close()
    assert store.checkpoint() == 0


def test_a_checkpoint_past_the_threshold_lets_the_next_write_start_the_wal_over(tmp_path: Path) -> None:
    path = tmp_path / "ts.db"
    wal = tmp_path / "ts.db-wal"
    with SqliteStore(path) as store:
        b = 0
        while wal.stat().st_size < 1100 * 4096 and b < 400:  # past 1000 frames of 4 KiB pages
            store.write([Reading(T0 + b * 100 + i, f"fridge-{i % 4}", "temperature", 4.0) for i in range(100)])
            b += 1
        assert store.checkpoint() > 0
        store.write([Reading(T0 - 1, "fridge-1", "temperature", 5.0)])
        other = sqlite3.connect(path)
        try:
            log_frames = other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
        finally:
            other.close()
        assert log_frames < 100  # the WAL started over instead of growing
