"""The ``houqin`` command line: one module per command, each exposing ``register(subparsers)``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from types import ModuleType

from gateway.cli import (
    alerts,
    backup,
    check_config,
    dead_letters,
    demo_launch,
    district,
    docs,
    doctor,
    gate,
    mqtt,
    query,
    report,
    run,
    sensors,
    storage,
    tail,
    uplink,
    user,
)
from gateway.errors import StoreError

#: Command modules, in the order ``--help`` lists them; each defines ``register(subparsers)`` which adds its
#: parser and sets ``func=handler(args) -> int``. They import only what registering needs: a handler imports
#: its heavy parts when it runs, so ``houqin sensors`` on a small board loads no rules, alerts or dashboard.
COMMANDS: tuple[ModuleType, ...] = (
    run,
    demo_launch,
    check_config,
    query,
    tail,
    dead_letters,
    sensors,
    alerts,
    storage,
    user,
    report,
    mqtt,
    district,
    uplink,
    docs,
    backup,
    doctor,
    gate,
)


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every command that is installed."""
    parser = argparse.ArgumentParser(
        prog="houqin",
        description="Houqin (后勤): safety and savings gateway for a school's logistics office.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``houqin`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        # httpx logs every request at INFO: a line per InfluxDB write batch would flood the journal (and
        # the SD card) and bury the output of `houqin query` / `storage status`; -v shows them.
        logging.getLogger("httpx").setLevel(logging.WARNING)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
        return 130
    except StoreError as e:
        # A store that cannot be read (InfluxDB down, a broken file) is a message for people, not a traceback.
        print(f"error: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # Output piped into e.g. `head` which has exited: stop quietly, as Unix tools do.
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
