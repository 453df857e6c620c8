"""The running gateway's lock: ``gateway.lock`` in the storage folder, held (flock) while ``houqin run`` runs.

``houqin restore`` refuses while it is held, so databases are never swapped under a live gateway.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from gateway.errors import ConfigError, HouqinError

LOCK_NAME = "gateway.lock"


class AlreadyRunning(HouqinError, RuntimeError):
    """Another gateway holds the storage folder."""


@contextlib.contextmanager
def hold(storage: Path) -> Iterator[None]:
    """Hold the lock for the block; AlreadyRunning naming the other process's pid."""
    path = storage / LOCK_NAME
    try:
        storage.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as e:
        raise ConfigError([f"[storage] dir = {str(storage)!r}: cannot hold {LOCK_NAME} there ({e}); choose a "
                           "writable directory"]) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyRunning(f"another gateway (pid {_pid(path) or '?'}) uses {storage}; stop it first "
                                 "(systemctl stop houqin)") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)


def holder(storage: Path) -> int | None:
    """The pid of the gateway holding ``storage`` (0 when its pid is unknown); None when none runs."""
    path = storage / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _pid(path) or 0
    finally:
        os.close(fd)
    return None


def _pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None
