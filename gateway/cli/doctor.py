"""``houqin doctor [--json]``: is this install healthy? Broker, TLS, clock, disk, backups, services."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.cli.common import add_config_option, config_from_args
from gateway.mosquitto import DEFAULT_DIR
from gateway.mosquitto.credentials import FILE_NAME

if TYPE_CHECKING:
    pass

MARK = {"ok": "✓", "warn": "!", "fail": "✗", "unknown": "?"}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the command."""
    p = sub.add_parser("doctor", help="check the install: broker, TLS, clock, disk, backups, services "
                                      "(exit 1 when something needs attention)")
    add_config_option(p)
    p.add_argument("--credentials", type=Path, default=DEFAULT_DIR / FILE_NAME,
                   help=f"the broker's credentials.json from houqin mqtt setup ({DEFAULT_DIR / FILE_NAME}); its "
                        "folder holds the CA, the server certificate and houqin.conf")
    p.add_argument("--json", action="store_true", help="print the findings as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run every check, print them in the site's language, exit 1 when one warns or fails."""
    from gateway.doctor import BrokerFiles, needs_attention, run_all
    from gateway.i18n import tr
    cfg = config_from_args(args)
    if cfg is None:
        return 1
    checks = run_all(cfg, BrokerFiles(args.credentials.parent, args.credentials), now=time.time())
    locale = cfg.site.locale
    if args.json:
        print(json.dumps([{"check": c.id, "status": c.status, "message": tr(locale, c.message, **c.values)}
                          for c in checks], ensure_ascii=False, indent=2))
    else:
        for c in checks:
            print(f"{MARK[c.status]} {tr(locale, c.message, **c.values)}")
        print(tr(locale, "needs attention: see the lines marked ! and ✗") if needs_attention(checks)
              else tr(locale, "all good"))
    return 1 if needs_attention(checks) else 0
