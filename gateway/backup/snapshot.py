"""One backup: a time-stamped folder of database copies made with SQLite's backup API, secrets, and a manifest.

A live WAL database is never copied as a file (a copy taken between the main file and its ``-wal`` is torn):
``sqlite3.Connection.backup`` copies a consistent snapshot while the gateway keeps writing. Every copy is
checked (``PRAGMA integrity_check`` and its SHA-256) before the folder gets its final name, so a half-written
or damaged backup never counts as one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from gateway.errors import HouqinError

#: The databases a gateway may keep in ``[storage] dir`` (events, SQLite time series, InfluxDB outbox).
DATABASES = ("events.db", "timeseries.db", "outbox.db")
PREFIX = "houqin-"
MANIFEST = "backup.json"
SECRETS = "secrets"


class BackupError(HouqinError, OSError):
    """A backup could not be written or is not sound."""


@dataclass(frozen=True, slots=True)
class Secret:
    """A file the gateway needs besides its databases (e.g. ``[gate] id_key_file``): where it lives."""

    name: str
    path: Path


@dataclass
class Backup:
    """A finished backup folder and what is in it."""

    path: Path
    created: float
    databases: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)


def _private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def copy_database(src: Path, dest: Path) -> None:
    """A consistent copy of a (possibly live) SQLite database, as one file without a journal, mode 0600."""
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    with contextlib.closing(sqlite3.connect(src, timeout=30)) as s, contextlib.closing(sqlite3.connect(dest)) as d:
        s.backup(d)  # every page in one step: one read transaction, a snapshot; WAL writers go on meanwhile
        d.execute("PRAGMA journal_mode=DELETE")  # the copy is a single file
    os.chmod(dest, 0o600)


def check_database(path: Path) -> str | None:
    """None when ``PRAGMA integrity_check`` finds the database sound; else what it found."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as c:
            rows = [r[0] for r in c.execute("PRAGMA integrity_check(20)")]
    except sqlite3.DatabaseError as e:
        return str(e)
    return None if rows == ["ok"] else "; ".join(str(r) for r in rows)


def give_to_owner_of(storage: Path, folder: Path) -> None:
    """Run as root (``sudo houqin backup``, ``restore``): ``folder`` and what is in it belong to the data folder's
    owner, the service's user, which must read, prune or chmod them (a root-owned 0700 backup made every later
    nightly one fail; a root-owned ``replaced-…`` folder in the data folder kept the gateway from starting)."""
    if os.geteuid() != 0:
        return
    owner = storage.stat()
    for path in (folder, *folder.rglob("*")):
        os.chown(path, owner.st_uid, owner.st_gid, follow_symlinks=False)


def make_backup(storage: Path, to: Path, *, secrets: list[Secret], now: float, site: str = "") -> Backup:
    """Write a verified backup of every database in ``storage`` and the ``secrets`` into a new folder of ``to``."""
    stamp = dt.datetime.fromtimestamp(now, dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    final = to / f"{PREFIX}{stamp}"
    work = to / f".partial-{PREFIX}{stamp}"
    _private_dir(to)
    if final.exists():
        raise BackupError(f"{final} exists already (two backups in one second); try again")
    shutil.rmtree(work, ignore_errors=True)
    _private_dir(work)
    try:
        backup = Backup(final, now)
        for name in DATABASES:
            src = storage / name
            if not src.exists():
                continue
            copy_database(src, work / name)
            problem = check_database(work / name)
            if problem:
                raise BackupError(f"the copy of {src} is not sound ({problem}); the disk of {to} may be failing")
            backup.databases[name] = _sha256(work / name)
        if not backup.databases:
            raise BackupError(f"no database in {storage}; is [storage] dir right?")
        for secret in secrets:
            _private_dir(work / SECRETS)
            dest = work / SECRETS / secret.name
            fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(secret.path.read_bytes())
            backup.secrets[secret.name] = str(secret.path)
        manifest = {"created": now, "site": site, "databases": backup.databases, "secrets": backup.secrets}
        fd = os.open(work / MANIFEST, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=2, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())
        give_to_owner_of(storage, work)
        work.rename(final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return backup


def load(path: Path) -> Backup:
    """Read a backup folder's manifest; BackupError when it is not a finished backup."""
    try:
        doc = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        return Backup(path, float(doc["created"]), dict(doc["databases"]), dict(doc.get("secrets", {})))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise BackupError(f"{path} is not a Houqin backup ({e}); give a folder named {PREFIX}... with a "
                          f"{MANIFEST}") from None


def verify(path: Path) -> list[str]:
    """Problems of a backup folder (empty when sound): every file as written, every database intact."""
    try:
        backup = load(path)
    except BackupError as e:
        return [str(e)]
    problems = []
    for name, digest in backup.databases.items():
        f = path / name
        if not f.exists():
            problems.append(f"{f}: missing")
        elif _sha256(f) != digest:
            problems.append(f"{f}: changed since the backup was written (damaged)")
        elif problem := check_database(f):
            problems.append(f"{f}: {problem}")
    for name in backup.secrets:
        if not (path / SECRETS / name).exists():
            problems.append(f"{path / SECRETS / name}: missing")
    return problems


def backups(to: Path) -> list[Path]:
    """The finished backup folders in ``to``, oldest first."""
    try:
        return sorted(p for p in to.iterdir() if p.is_dir() and p.name.startswith(PREFIX)
                      and (p / MANIFEST).exists())
    except FileNotFoundError:
        return []


def latest(to: Path) -> Backup | None:
    """The newest finished backup in ``to``."""
    for path in reversed(backups(to)):
        with contextlib.suppress(BackupError):
            return load(path)
    return None


def prune(to: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups; returns what was deleted."""
    old = backups(to)[:-keep] if keep > 0 else []
    for p in old:
        shutil.rmtree(p)
    return old
