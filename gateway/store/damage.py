"""Damaged SQLite files: telling damage from a passing failure, naming the file and the fix, moving it aside.

A damaged file (not a database, a malformed page) never heals by waiting, so start-up refuses it
with one line that names the file, what is wrong and the fix; ``houqin storage recover`` moves it
aside under a time-stamped name (never overwriting anything) so a fresh one can start.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from gateway.errors import DamagedStoreError

#: Files SQLite keeps beside a database in WAL mode; they belong to it and move with it.
SIDE_FILES = ("-wal", "-shm")
#: Words of SQLite's messages for a damaged file (sqlite3 raises a plain DatabaseError for them).
_DAMAGE_WORDS = ("malformed", "not a database", "corrupt")


def is_damage(e: BaseException) -> bool:
    """True when ``e`` says the file itself is damaged, rather than locked, full or unreachable."""
    if not isinstance(e, sqlite3.DatabaseError) or isinstance(e, sqlite3.IntegrityError):
        return False
    text = str(e).lower()
    return type(e) is sqlite3.DatabaseError or any(w in text for w in _DAMAGE_WORDS)


def damaged(path: Path | str, what: str, e: BaseException) -> DamagedStoreError:
    """The one-line error for a damaged file: which file, what is wrong, and the fix."""
    return DamagedStoreError(
        f"the {what} {path} is damaged ({e}); restore it from a backup, or run `houqin storage recover` to move "
        "it aside (kept under a time-stamped name) and start a fresh one", str(path))


def check(path: Path) -> str | None:
    """What is wrong with the database file at ``path`` (SQLite's ``quick_check``), or None when it is sound.

    Reads the whole file: for ``houqin storage recover``, not for every start.
    """
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error as e:
        return str(e)
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as e:
        return str(e)
    finally:
        conn.close()
    problems = [str(r[0]) for r in rows if r and r[0] != "ok"]
    return "; ".join(problems[:3]) or None


def move_aside(path: Path, now: float | None = None) -> Path:
    """Rename ``path`` (and its WAL files) to ``NAME.damaged-YYYYmmddTHHMMSSZ``; never overwrites a file.

    Returns the new name of the database file.
    """
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))
    n = 0
    while True:
        suffix = f".damaged-{stamp}" + (f"-{n}" if n else "")
        targets = [(path.with_name(path.name + side), path.with_name(path.name + suffix + side))
                   for side in ("", *SIDE_FILES)]
        if not any(dst.exists() for _, dst in targets):
            break
        n += 1
    for src, dst in targets:
        if src.exists():
            os.link(src, dst)  # fails rather than overwrite, should a file of that name appear meanwhile
            os.unlink(src)
    return targets[0][1]
