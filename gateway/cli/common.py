"""Helpers shared by CLI commands: the --config option, loading it, opening the stores, printing errors."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.cli.lang import add_lang_option, cli_locale, say, translator
from gateway.config import Config, default_config_path, load_config
from gateway.errors import ConfigError, HouqinError
from gateway.eventsdb import EVENTS_DB_NAME, EventsDB
from gateway.i18n import tr
from gateway.values import parse_duration

if TYPE_CHECKING:
    from gateway.store.base import TimeSeriesStore


def add_config_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--config PATH`` (default ``$HOUQIN_CONFIG`` or ``/etc/houqin/houqin.toml``)."""
    parser.add_argument("--config", type=Path, default=None,
                        help="config file (default: $HOUQIN_CONFIG or /etc/houqin/houqin.toml)")
    add_lang_option(parser)


def config_from_args(args: argparse.Namespace) -> Config | None:
    """Load the config named by ``--config``; on error print every problem and return None."""
    path = args.config or default_config_path()
    try:
        return load_config(path, translator(args))
    except ConfigError as e:
        print(say(args, "configuration error ({n} problem(s)):", n=len(e.problems)), file=sys.stderr)
        for p in e.problems:
            print(f"  - {p}", file=sys.stderr)
        return None


def since_from_args(args: argparse.Namespace) -> float | None:
    """``--since`` (e.g. ``2h``) in seconds; None, having said why, when it is not a duration."""
    try:
        return parse_duration(args.since)
    except ValueError:
        print(say(args, "--since = {value}: not a duration; write e.g. 30m, 2h or 7d", value=repr(args.since)),
              file=sys.stderr)
        return None


def open_events_db(cfg: Config, args: argparse.Namespace | None = None) -> EventsDB | None:
    """The installation's events database; None, having said why, when it is not there or cannot be opened."""
    locale = cli_locale(args) if args is not None else cfg.site.locale
    path = cfg.storage.path / EVENTS_DB_NAME
    if not path.exists():
        print(tr(locale, "no events database at {path}; has the gateway run with [storage] dir = {dir}?",
                 path=path, dir=repr(str(cfg.storage.path))), file=sys.stderr)
        return None
    try:
        return EventsDB(path)
    except HouqinError as e:
        print(tr(locale, "cannot open {path}: {error}", path=path, error=e), file=sys.stderr)
        return None


def open_store(cfg: Config, args: argparse.Namespace | None = None) -> TimeSeriesStore | None:
    """The configured time-series store; None, having said why, when it cannot be opened."""
    from gateway.app import build_store  # every backend: only for commands that read data
    from gateway.store.sqlite import TIMESERIES_DB_NAME

    locale = cli_locale(args) if args is not None else cfg.site.locale
    path = cfg.storage.path / TIMESERIES_DB_NAME
    if cfg.storage.timeseries == "sqlite" and not path.exists():
        # opening would create an empty store (owned by whoever ran the command, maybe root) where the
        # service will write
        print(tr(locale, "no time-series database at {path}; has the gateway run with [storage] dir = {dir}?",
                 path=path, dir=repr(str(cfg.storage.path))), file=sys.stderr)
        return None
    try:
        return build_store(cfg)
    except HouqinError as e:
        print(tr(locale, "cannot open the store: {error}", error=e), file=sys.stderr)
        return None
