"""``houqin docs config``: write the configuration reference (Markdown) from the settings models."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the command."""
    p = sub.add_parser("docs", help="write reference documentation generated from the code")
    what = p.add_subparsers(dest="docs_what", metavar="WHAT", required=True)
    c = what.add_parser("config", help="the configuration reference (docs/configuration.md)")
    c.add_argument("-o", "--output", type=Path, default=None, help="write to this file instead of stdout")
    c.set_defaults(func=run_config)


def run_config(args: argparse.Namespace) -> int:
    """Print the reference, or write it to ``--output``."""
    from gateway.config_reference import render

    text = render()
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
    return 0
