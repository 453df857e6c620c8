"""One SQLite connection per thread, written once (events database, alert store, time-series readers).

A ``sqlite3.Connection`` serialises its callers, so every thread that reads or writes gets its own,
opened on first use and closed when its thread ends (the dashboard's worker threads come and go: anyio
retires an idle one after seconds, and each kept connection held its page cache for good); closing closes
every live thread's at once.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import weakref
from collections.abc import Callable


class _Held:
    """A thread's connection, kept in its thread-local storage: dropped when the thread ends."""

    __slots__ = ("__weakref__", "conn")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn


class ThreadConnections:
    """Connections made by ``connect``, one per calling thread, all closed by ``close_all``."""

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect
        self._local = threading.local()
        self._all: set[sqlite3.Connection] = set()
        # Reentrant: a finalizer (``_ended``) may run inside a locked block, e.g. when close_all drops the locals.
        self._lock = threading.RLock()

    def get(self) -> sqlite3.Connection:
        """This thread's connection (opened now if it has none)."""
        held: _Held | None = getattr(self._local, "held", None)
        if held is None:
            conn = self._connect()
            held = _Held(conn)
            self._local.held = held
            with self._lock:
                self._all.add(conn)
            weakref.finalize(held, self._ended, conn)
        return held.conn

    def open_count(self) -> int:
        """Connections open now (one per live thread that used one)."""
        with self._lock:
            return len(self._all)

    def _ended(self, conn: sqlite3.Connection) -> None:
        """The thread that used ``conn`` ended (its thread-local storage went): close it."""
        with self._lock:
            if conn not in self._all:
                return  # closed by close_all already
            self._all.discard(conn)
        # A connection made for one thread only cannot be closed from another: it is freed when collected.
        with contextlib.suppress(sqlite3.Error):
            conn.close()

    def close_all(self) -> None:
        """Close every thread's connection; a later ``get`` opens a fresh one."""
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
            self._local = threading.local()  # forget the closed ones in every thread
