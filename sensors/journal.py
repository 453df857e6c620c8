"""A meter's running pulse total on disk: survives kill -9 and power cuts, never counts a pulse twice.

The file is append-only; each record is the absolute total (``"183245 1a2b3c4d\\n"``, with a CRC-32 of
the number), so replaying it can never double-count and a torn last record is simply skipped.

* Every pulse is ``write()``-n at once (it reaches the kernel's page cache, which a killed process
  cannot lose), and the file is ``fsync``-ed once ``sync_every`` pulses are pending (by the agent's
  tick, ``maybe_sync``, not on the pin's callback thread: an fsync can take tens of milliseconds on an
  SD card and would delay the next edges) and before every total the agent publishes: a published
  total is always on the card first (write-ahead), so after a restart the total never goes back.
* Worst case on a power cut: the pulses since the last fsync, about ``sync_every`` (10 litres of water
  at 1 L/pulse by default) are lost; none is ever counted twice.
* SD-card writes are bounded: at most one fsync per ``sync_every`` pulses plus one per publish interval
  in which pulses arrived (none when the meter is idle); the file is compacted to one record (write to a
  temporary file, fsync, atomic rename, fsync the directory) when it passes ``max_bytes``.
"""

from __future__ import annotations

import os
import threading
import zlib
from pathlib import Path


def _record(total: int) -> bytes:
    text = str(total)
    return f"{text} {zlib.crc32(text.encode()):08x}\n".encode()


def _recover(data: bytes) -> int:
    best = 0
    for line in data.split(b"\n"):
        parts = line.split(b" ")
        if len(parts) != 2 or not parts[0].isdigit():
            continue
        if f"{zlib.crc32(parts[0]):08x}".encode() != parts[1]:
            continue
        best = max(best, int(parts[0]))
    return best


class PulseJournal:
    """The durable pulse total of one meter in ``path``."""

    def __init__(self, path: Path, sync_every: int = 10, max_bytes: int = 64 * 1024) -> None:
        self.path = path
        self.sync_every = sync_every
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._tmp()
        if tmp.exists():
            tmp.unlink()  # a compaction cut short; the journal itself is intact (rename is atomic)
        data = path.read_bytes() if path.exists() else b""
        self._total = _recover(data)
        self._unsynced = 0
        self._fd = self._open()
        self._size = os.fstat(self._fd).st_size
        if data and not data.endswith(b"\n"):
            self._append(b"\n")  # end a torn record so the next one is not glued to it
        if self._size == 0:
            self._append(_record(self._total))
            os.fsync(self._fd)

    def _tmp(self) -> Path:
        return self.path.with_name(self.path.name + ".tmp")

    def _open(self) -> int:
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def _append(self, rec: bytes) -> None:
        os.write(self._fd, rec)
        self._size += len(rec)

    @property
    def total(self) -> int:
        """Pulses counted so far (including those not yet fsync-ed)."""
        with self._lock:
            return self._total

    def add(self, n: int = 1) -> int:
        """Count ``n`` pulses; returns the new total (written to the page cache before returning)."""
        with self._lock:
            self._total += n
            self._append(_record(self._total))
            self._unsynced += n
            return self._total

    def maybe_sync(self) -> bool:
        """fsync when ``sync_every`` pulses are pending; returns whether it did."""
        with self._lock:
            if self._unsynced < self.sync_every:
                return False
            self._sync_locked()
            return True

    def sync(self) -> int:
        """Make the total durable (fsync if anything is pending; compact when large); returns it."""
        with self._lock:
            self._sync_locked()
            return self._total

    def _sync_locked(self) -> None:
        if self._unsynced:
            os.fsync(self._fd)
            self._unsynced = 0
        if self._size > self.max_bytes:
            self._compact_locked()

    def _compact_locked(self) -> None:
        tmp = self._tmp()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, _record(self._total))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        os.close(self._fd)
        self._fd = self._open()
        self._size = os.fstat(self._fd).st_size

    def close(self) -> None:
        """Sync and close the file."""
        with self._lock:
            if self._fd >= 0:
                self._sync_locked()
                os.close(self._fd)
                self._fd = -1
