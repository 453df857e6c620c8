"""``houqin gate keygen``: make the site's gate command key (relay commands, card list, heartbeat are signed)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.cli.common import add_config_option, config_from_args
from gateway.signing import KeyFileError, key_path, read_key, write_key


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the command."""
    p = sub.add_parser("gate", help="the gate's command key")
    gate_sub = p.add_subparsers(dest="gate_command", required=True)
    k = gate_sub.add_parser("keygen", help="make the gate command key the gateway and the agents share, if missing")
    add_config_option(k)
    k.add_argument("--file", type=Path, default=None,
                   help="where to write it (default: [gate] command_key_file, else <[storage] dir>/gate.key)")
    k.set_defaults(func=keygen)


def keygen(args: argparse.Namespace) -> int:
    """Write a new key unless one is there (never replaced: every agent would refuse the gateway's commands)."""
    path: Path | None = args.file
    if path is None:
        cfg = config_from_args(args)
        if cfg is None:
            return 1
        path = key_path(cfg.gate.command_key_file, cfg.storage.path)
    try:
        made = write_key(path)
        read_key(path)
    except (OSError, KeyFileError) as e:
        print(f"houqin gate keygen: {e}", file=sys.stderr)
        return 1
    print(f"{path}: {'new key written (mode 0600)' if made else 'a key is there already; kept'}")
    return 0
