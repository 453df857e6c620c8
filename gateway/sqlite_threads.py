"""One SQLite connection per thread, written once (events database, alert store, time-series readers).

A ``sqlite3.Connection`` serialises its callers, so every thread that reads or writes gets its own,
opened on first use; closing closes every thread's at once (a thread may have ended meanwhile).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable


class ThreadConnections:
    """Connections made by ``connect``, one per calling thread, all closed by ``close_all``."""

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def get(self) -> sqlite3.Connection:
        """This thread's connection (opened now if it has none)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def close_all(self) -> None:
        """Close every thread's connection; a later ``get`` opens a fresh one."""
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
            self._local = threading.local()  # forget the closed ones in every thread
