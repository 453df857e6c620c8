"""Opening an existing store (``houqin query`` beside the running service) needs no write lock."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from gateway.model import Reading
from gateway.store.sqlite import SqliteStore


def test_open_and_read_while_another_connection_holds_the_write_lock(tmp_path: Path) -> None:
    path = tmp_path / "timeseries.db"
    with SqliteStore(path) as service:
        service.write([Reading(1_790_000_000.0, "fridge", "temperature", 4.2)])
        writer = sqlite3.connect(str(path), timeout=0.1, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")  # the service in the middle of a commit
        try:
            with SqliteStore(path) as reader:
                got = reader.query("fridge", "temperature", 1_789_999_999.0, 1_790_000_001.0)
            assert [r.value for r in got] == [4.2]
        finally:
            writer.execute("ROLLBACK")
            writer.close()
