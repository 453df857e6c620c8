"""One SQLite connection per thread: reused within a thread, separate across threads, all closed at once."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from gateway.sqlite_threads import ThreadConnections


def test_one_connection_per_thread_and_close_all(tmp_path: Path) -> None:
    conns = ThreadConnections(lambda: sqlite3.connect(tmp_path / "x.db", check_same_thread=False))
    mine = conns.get()
    assert conns.get() is mine
    theirs: list[sqlite3.Connection] = []
    t = threading.Thread(target=lambda: theirs.append(conns.get()))
    t.start()
    t.join()
    assert theirs and theirs[0] is not mine
    conns.close_all()
    for c in (mine, theirs[0]):
        with pytest.raises(sqlite3.ProgrammingError):
            c.execute("SELECT 1")
    fresh = conns.get()
    assert fresh is not mine and fresh.execute("SELECT 1").fetchone() == (1,)
    conns.close_all()


def test_a_thread_that_ends_closes_its_connection(tmp_path: Path) -> None:
    # The dashboard's worker threads come and go; every one of them used to leave its connection (and page cache) open.
    conns = ThreadConnections(lambda: sqlite3.connect(tmp_path / "x.db", check_same_thread=False))
    used: list[sqlite3.Connection] = []
    for _ in range(20):
        t = threading.Thread(target=lambda: used.append(conns.get()))
        t.start()
        t.join()
    assert conns.open_count() == 0
    for c in used:
        with pytest.raises(sqlite3.ProgrammingError):
            c.execute("SELECT 1")
    mine = conns.get()
    assert conns.open_count() == 1 and mine.execute("SELECT 1").fetchone() == (1,)
    conns.close_all()
    assert conns.open_count() == 0
