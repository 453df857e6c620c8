"""Secrets in their own files in the data directory, readable by the service's user alone (0600).

A key kept in a database is read by every tool that opens the database (backups, sqlite3, a curious
user when the modes are loose); a key file is one thing to protect, back up and rotate.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path

#: The approval-link signing key (gateway/gate/links.py).
APPROVAL_LINK_KEY = "approval-link.key"
#: The dashboard's device-cookie signing key (dashboard/throttle.py).
DEVICE_COOKIE_KEY = "dashboard-device.key"


def read_or_create(path: Path, make: Callable[[], str] = lambda: secrets.token_hex(32)) -> str:
    """The secret in ``path``; made with ``make`` and written 0600 (atomically, never overwritten) when absent."""
    try:
        text = path.read_text().strip()
        os.chmod(path, 0o600)  # a copy restored or made by hand with a loose mode is narrowed again
        if text:
            return text
    except FileNotFoundError:
        pass
    return write_new(path, make())


def write_new(path: Path, value: str) -> str:
    """Write ``value`` to ``path`` 0600 unless another process made it first; the value the file holds."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(value + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)  # fails when the file exists: the first writer wins, nobody overwrites
        except FileExistsError:
            return path.read_text().strip()
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return value
