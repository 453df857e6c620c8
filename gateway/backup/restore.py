"""``houqin restore``: put a verified backup back into a stopped install, keeping what it replaces aside."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from gateway import runlock
from gateway.backup.snapshot import SECRETS, BackupError, give_to_owner_of, load, verify


@dataclass
class Restored:
    """What a restore did: (restored file, the file it replaced or None), and where the replaced ones are."""

    files: list[tuple[Path, Path | None]] = field(default_factory=list)
    aside: Path | None = None


def service_active(unit: str = "houqin.service") -> bool:
    """True when systemd says the unit runs (False without systemctl)."""
    if shutil.which("systemctl") is None:
        return False
    try:
        r = subprocess.run(["systemctl", "is-active", "--quiet", unit], timeout=10, check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0


def refuse_if_running(storage: Path) -> None:
    """BackupError when a gateway uses ``storage`` (its lock is held, or houqin.service is active)."""
    pid = runlock.holder(storage)
    if pid is not None or service_active():
        who = f"pid {pid}" if pid else "houqin.service"
        raise BackupError(f"the gateway runs ({who}) and uses {storage}; stop it first: "
                          "sudo systemctl stop houqin houqin-sensors")


def restore(source: Path, storage: Path, *, now: float) -> Restored:
    """Restore the databases and secret files of the backup ``source`` into ``storage`` (gateway stopped)."""
    refuse_if_running(storage)
    problems = verify(source)
    if problems:
        raise BackupError("the backup is not sound, nothing restored:\n  " + "\n  ".join(problems))
    backup = load(source)
    storage.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.fromtimestamp(now, dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = storage / f"replaced-{stamp}"
    done = Restored()

    def put(src: Path, dest: Path, companions: tuple[str, ...] = ()) -> None:
        replaced: Path | None = None
        before = dest.stat() if dest.exists() else None  # the restored file gets the replaced one's owner and mode
        for suffix in ("", *companions):  # a database's -wal and -shm belong to the old file: move them too
            old = dest.with_name(dest.name + suffix)
            if old.exists():
                aside.mkdir(mode=0o700, exist_ok=True)
                target = aside / old.name if dest.parent == storage else aside / SECRETS / old.name
                target.parent.mkdir(mode=0o700, exist_ok=True)
                shutil.move(old, target)
                replaced = replaced or target
                done.aside = aside
        tmp = dest.with_name(f".{dest.name}.restoring")
        shutil.copyfile(src, tmp)
        os.chmod(tmp, 0o600 if before is None else before.st_mode & 0o777)
        if os.geteuid() == 0:
            owner = before or dest.parent.stat()
            os.chown(tmp, owner.st_uid, owner.st_gid)
        os.replace(tmp, dest)
        done.files.append((dest, replaced))

    for name in backup.databases:
        put(source / name, storage / name, ("-wal", "-shm"))
    for name, original in backup.secrets.items():
        dest = Path(original)
        dest.parent.mkdir(parents=True, exist_ok=True)
        put(source / SECRETS / name, dest)
    if done.aside is not None:
        give_to_owner_of(storage, done.aside)
    return done
