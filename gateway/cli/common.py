"""Helpers shared by CLI commands: the --config option, loading it, printing errors."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.config import Config, default_config_path, load_config
from gateway.errors import ConfigError


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
