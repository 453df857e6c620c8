"""Helpers shared by CLI commands: the --config option, loading it, opening the stores, printing errors."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.config import Config, default_config_path, load_config
from gateway.errors import ConfigError, HouqinError
from gateway.eventsdb import EVENTS_DB_NAME, EventsDB
from gateway.values import parse_duration

if TYPE_CHECKING:
    from gateway.store.base import TimeSeriesStore


def add_config_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--config PATH`` (default ``$HOUQIN_CONFIG`` or ``/etc/houqin/houqin.toml``)."""
    parser.add_argument("--config", type=Path, default=None,
                        help="config file (default: $HOUQIN_CONFIG or /etc/houqin/houqin.toml)")


def config_from_args(args: argparse.Namespace) -> Config | None:
    """Load the config named by ``--config``; on error print every problem and return None."""
    path = args.config or default_config_path()
    try:
        return load_config(path)
    except ConfigError as e:
        print(f"configuration error ({len(e.problems)} problem(s)):", file=sys.stderr)
        for p in e.problems:
            print(f"  - {p}", file=sys.stderr)
        return None


def since_from_args(args: argparse.Namespace) -> float | None:
    """``--since`` (e.g. ``2h``) in seconds; None, having said why, when it is not a duration."""
    try:
        return parse_duration(args.since)
    except ValueError as e:
        print(f"--since: {e}", file=sys.stderr)
        return None


def open_events_db(cfg: Config) -> EventsDB | None:
    """The installation's events database; None, having said why, when it is not there or cannot be opened."""
    path = cfg.storage.path / EVENTS_DB_NAME
    if not path.exists():
        print(f"no events database at {path}; has the gateway run with [storage] dir = {str(cfg.storage.path)!r}?",
              file=sys.stderr)
        return None
    try:
        return EventsDB(path)
    except HouqinError as e:
        print(f"cannot open {path}: {e}", file=sys.stderr)
        return None


def open_store(cfg: Config) -> TimeSeriesStore | None:
    """The configured time-series store; None, having said why, when it cannot be opened."""
    from gateway.app import build_store  # every backend: only for commands that read data
    from gateway.store.sqlite import TIMESERIES_DB_NAME

    path = cfg.storage.path / TIMESERIES_DB_NAME
    if cfg.storage.timeseries == "sqlite" and not path.exists():
        # opening would create an empty store (owned by whoever ran the command, maybe root) where the
        # service will write
        print(f"no time-series database at {path}; has the gateway run with [storage] dir = "
              f"{str(cfg.storage.path)!r}?", file=sys.stderr)
        return None
    try:
        return build_store(cfg)
    except HouqinError as e:
        print(f"cannot open the store: {e}", file=sys.stderr)
        return None
