"""``houqin check-config``: validate the config and print every problem at once."""

from __future__ import annotations

import argparse
import sys

from gateway.cli.common import add_config_option, config_from_args
from gateway.cli.lang import say
from gateway.errors import ConfigError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the command."""
    p = sub.add_parser("check-config", help="validate the config file and list every problem")
    add_config_option(p)
    p.add_argument("path", nargs="?", default=None, help="config file (same as --config)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Exit 0 when the config is valid, 1 otherwise."""
    if args.path:
        args.config = args.path
    cfg = config_from_args(args)
    if cfg is None:
        return 1
    print(say(args, "ok: site {site}, {n} device(s), broker {broker}", site=repr(cfg.site.id), n=len(cfg.devices),
              broker=cfg.mqtt.url.split("@")[-1]))
    if cfg.gate.id_numbers == "encrypted":
        # The key lives outside the config (environment or a 0600 file); the service refuses to start
        # without it, so say so now. A warning: systemd may give the service an environment this shell lacks.
        from gateway.gate.crypto import load_key

        try:
            load_key(cfg.gate.id_key_env, cfg.gate.id_key_file)
        except ConfigError as e:
            print(say(args, "warning: {error} (the gateway will not start without it; under systemd give it with "
                            "Environment= or EnvironmentFile=)", error=e), file=sys.stderr)
    return 0
