"""``houqin storage recover``: move a damaged database aside (time-stamped, never overwritten) and start afresh.

Checks the events database and, with the SQLite backend, the time-series database (SQLite's
``quick_check``); each damaged one is renamed to ``NAME.damaged-YYYYmmddTHHMMSSZ`` with its WAL
files and a fresh, empty one is created in its place. Sound files are left alone unless named with
``--force``. Stop the gateway first. Restoring from a backup keeps the history; this does not.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.cli.common import add_config_option, config_from_args
from gateway.errors import StoreError

if TYPE_CHECKING:
    from gateway.config import Config

#: The databases ``recover`` looks after, by the name given on the command line.
WHICH = ("events", "timeseries")


def add_recover(storage_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``houqin storage recover``."""
    p = storage_sub.add_parser(
        "recover", help="move a damaged events.db or timeseries.db aside (kept, time-stamped) and start a fresh one")
    add_config_option(p)
    p.add_argument("which", nargs="?", choices=[*WHICH, "all"], default="all",
                   help="which database to check (default: all)")
    p.add_argument("--force", action="store_true", help="move the database(s) aside even if they look sound")
    p.set_defaults(func=recover)


def files(cfg: Config, which: str) -> list[tuple[str, Path]]:
    """(name, path) of each database to look after."""
    from gateway.eventsdb import EVENTS_DB_NAME
    from gateway.store.sqlite import TIMESERIES_DB_NAME

    out = []
    for name in WHICH if which == "all" else (which,):
        if name == "timeseries" and cfg.storage.timeseries != "sqlite":
            continue  # InfluxDB looks after its own files
        out.append((name, cfg.storage.path / (EVENTS_DB_NAME if name == "events" else TIMESERIES_DB_NAME)))
    return out


def recover(args: argparse.Namespace) -> int:
    """Check each database; move the damaged ones aside and create fresh ones. 0 when all are sound now."""
    from gateway.store.damage import check, move_aside

    cfg = config_from_args(args)
    if cfg is None:
        return 1
    for name, path in files(cfg, str(args.which)):
        if not path.exists():
            print(f"{path}: not there; the gateway creates it at start")
            continue
        problem = check(path)
        if problem is None and not args.force:
            print(f"{path}: sound, left as it is")
            continue
        kept = move_aside(path)
        try:
            _fresh(name, path)
        except StoreError as e:
            print(f"moved {path} aside to {kept}, but could not create a fresh one: {e}", file=sys.stderr)
            return 1
        why = f"damaged ({problem})" if problem is not None else "moved as asked (--force)"
        print(f"{path}: {why}; kept as {kept}, and a fresh, empty {path.name} started in its place")
    return 0


def _fresh(name: str, path: Path) -> None:
    if name == "events":
        from gateway.eventsdb import EventsDB

        EventsDB(path).close()
    else:
        from gateway.store.sqlite import SqliteStore

        SqliteStore(path).close()
