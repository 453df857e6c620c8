"""``houqin demo``: hands its arguments to the demo package, imported only when the demo runs.

Production code never imports ``demo`` (the simulator, the simulated history, the demo login); the
options are the demo's own parser's, so every argument, ``--help`` included, is passed on untouched.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the command."""
    # no prefix characters: "--dir", "-h" and the rest are not this parser's, they go to demo's
    p = sub.add_parser("demo", help="run a simulated kindergarten: embedded broker, sensors, storage",
                       add_help=False, prefix_chars="\0")
    p.add_argument("demo_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``houqin demo`` with the arguments after ``demo``."""
    from demo.command import main

    return main(args.demo_args)
