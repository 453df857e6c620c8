"""The tests' stand-in for a full disk: SQLite's page limit on the one connection that writes a file."""

from __future__ import annotations

import sqlite3

#: SQLite's largest page limit: no limit, in effect.
NO_LIMIT = 1073741823


def fill(conn: sqlite3.Connection) -> None:
    """No page beyond those in use: the next write that needs one fails with "database or disk is full"."""
    conn.execute(f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0]}")


def make_room(conn: sqlite3.Connection) -> None:
    """Space again."""
    conn.execute(f"PRAGMA max_page_count = {NO_LIMIT}")
