"""``houqin backup --to DIR [--keep N]`` and ``houqin restore FROM``: consistent, verified copies of every database."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.cli.common import add_config_option, config_from_args

if TYPE_CHECKING:
    pass


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``backup`` and ``restore``."""
    b = sub.add_parser("backup", help="copy every database (online, consistent) and the secret files, verified")
    add_config_option(b)
    b.add_argument("--to", type=Path, default=None, metavar="DIR",
                   help="folder to write the backup into (default: [backup] dir)")
    b.add_argument("--keep", type=int, default=None, metavar="N",
                   help="keep the newest N backups in DIR (default: [backup] keep)")
    b.add_argument("--verify", type=Path, default=None, metavar="FOLDER",
                   help="only check an existing backup folder")
    b.set_defaults(func=_backup)

    r = sub.add_parser("restore", help="restore a backup into a stopped install (replaced files are kept aside)")
    add_config_option(r)
    r.add_argument("source", type=Path, metavar="FROM", help="the backup folder (houqin-YYYYMMDDTHHMMSSZ)")
    r.set_defaults(func=_restore)


def _backup(args: argparse.Namespace) -> int:
    from gateway.backup.job import secrets_of
    from gateway.backup.snapshot import BackupError, make_backup, prune, verify
    if args.verify is not None:
        problems = verify(args.verify)
        for p in problems:
            print(f"problem: {p}", file=sys.stderr)
        print(f"{args.verify}: " + ("sound" if not problems else f"{len(problems)} problem(s)"))
        return 1 if problems else 0
    cfg = config_from_args(args)
    if cfg is None:
        return 1
    to = args.to or (Path(cfg.backup.dir) if cfg.backup.dir else None)
    if to is None:
        print("error: say where: --to DIR, or [backup] dir in the config", file=sys.stderr)
        return 2
    keep = args.keep if args.keep is not None else cfg.backup.keep
    try:
        backup = make_backup(cfg.storage.path, to, secrets=secrets_of(cfg), now=time.time(), site=cfg.site.id)
        removed = prune(to, keep)
    except (BackupError, OSError) as e:
        print(f"error: backup failed: {e}", file=sys.stderr)
        return 1
    print(f"{backup.path}: {', '.join(backup.databases)}"
          + (f" and {', '.join(backup.secrets)}" if backup.secrets else "") + " (verified)")
    for old in removed:
        print(f"removed the old backup {old} (keeping {keep})")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from gateway.backup.restore import restore
    from gateway.backup.snapshot import BackupError
    cfg = config_from_args(args)
    if cfg is None:
        return 1
    try:
        done = restore(args.source, cfg.storage.path, now=time.time())
    except (BackupError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for restored, replaced in done.files:
        print(f"restored {restored}" + (f" (replaced; the old one is {replaced})" if replaced else ""))
    print("start the gateway again: sudo systemctl start houqin houqin-sensors")
    return 0
