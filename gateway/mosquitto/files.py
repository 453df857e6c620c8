"""Writing the broker's files: atomically, with their modes, and only when their content changes."""

from __future__ import annotations

import contextlib
import grp
import os
from pathlib import Path


def write_if_changed(path: Path, data: bytes, mode: int, group: str | None = None) -> bool:
    """Write ``data`` to ``path`` (temp file + rename) unless it already holds it; True when written.

    ``group``: give the file to this group (e.g. ``mosquitto``, which reads the password file as itself on
    reload) when running as root and the group exists; otherwise the mode alone applies.
    """
    gid = _gid(group)
    try:
        same = path.read_bytes() == data
    except FileNotFoundError:
        same = False
    if same:
        os.chmod(path, mode)
        if gid is not None:
            os.chown(path, -1, gid)
        return False
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)  # the umask may have narrowed what os.open gave
        if gid is not None:
            os.chown(tmp, -1, gid)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return True


def _gid(group: str | None) -> int | None:
    if group is None or os.geteuid() != 0:
        return None
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        return None
