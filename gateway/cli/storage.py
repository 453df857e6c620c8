"""``houqin storage``: look after the stores (``compact``, ``status``, ``recover``; more plug in below).

To add a subcommand, write ``_add_NAME(storage_sub)`` that adds its parser to the ``storage``
subparsers and sets ``func=handler(args) -> int``, and list it in ``SUBCOMMANDS``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import TypeAlias

from gateway.cli.common import add_config_option, config_from_args
from gateway.cli.storage_recover import add_recover
from gateway.cli.storage_status import add_status
from gateway.errors import StoreError

SubParsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def register(sub: SubParsers) -> None:
    """Add ``houqin storage`` and its subcommands."""
    p = sub.add_parser("storage", help="look after the time-series store (compact, ...)")
    storage_sub = p.add_subparsers(dest="storage_command", metavar="SUBCOMMAND")
    for add in SUBCOMMANDS:
        add(storage_sub)
    p.set_defaults(func=lambda _args: _usage(p))


def _usage(p: argparse.ArgumentParser) -> int:
    p.print_help(sys.stderr)
    return 2


def _add_compact(storage_sub: SubParsers) -> None:
    p = storage_sub.add_parser(
        "compact",
        help="apply retention, optimise and shrink the SQLite time-series store (the nightly job does this too)",
    )
    add_config_option(p)
    p.set_defaults(func=compact)


def compact(args: argparse.Namespace) -> int:
    """Run the SQLite store's maintenance now, showing progress and the size before and after."""
    cfg = config_from_args(args)
    if cfg is None:
        return 1
    if cfg.storage.timeseries != "sqlite":
        print(
            f"[storage] timeseries = {cfg.storage.timeseries!r}: compact only applies to the SQLite store;"
            " InfluxDB applies its own retention policy",
            file=sys.stderr,
        )
        return 1
    from gateway.store.sqlite import TIMESERIES_DB_NAME, SqliteStore

    path = cfg.storage.path / TIMESERIES_DB_NAME
    if not path.exists():
        print(f"no time-series database at {path}; check [storage] dir or start the gateway once", file=sys.stderr)
        return 1
    retention = cfg.storage.retention
    print(f"compacting {path} (keep raw {retention.raw}, 5-minute {retention.rollup_5m}, "
          f"hourly {retention.rollup_1h})", file=sys.stderr)
    try:
        with SqliteStore(path, retention=retention.retention()) as store:
            report = store.maintenance(time.time(), progress=_progress(), vacuum=True)
        if sys.stderr.isatty():
            sys.stderr.write("\n")
    except StoreError as e:
        print(f"compact failed: {e}", file=sys.stderr)
        return 1
    print(f"deleted: {report.deleted_raw} raw row(s), {report.deleted_5m} 5-minute row(s), "
          f"{report.deleted_1h} hourly row(s)")
    print(f"size: {_mb(report.size_before)} before, {_mb(report.size_after)} after")
    return 0


def _progress() -> Callable[[str], None]:
    tty = sys.stderr.isatty()

    def show(msg: str) -> None:
        # On a terminal, rewrite one line; in a log, one line per step.
        sys.stderr.write(f"\r\033[K{msg}" if tty else f"{msg}\n")
        sys.stderr.flush()

    return show


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


#: The ``storage`` subcommands, each adding its own parser.
SUBCOMMANDS: tuple[Callable[[SubParsers], None], ...] = (_add_compact, add_status, add_recover)
