"""``houqin alerts [--open] [--json]`` and ``houqin ack ALERT_ID --by NAME --note TEXT``."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING

from gateway.cli.common import add_config_option, config_from_args, open_events_db
from gateway.clock import SystemClock
from gateway.config import Config

if TYPE_CHECKING:
    from gateway.alerts.service import AlertService


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``alerts`` and ``ack``."""
    p = sub.add_parser("alerts", help="list alerts (newest first)")
    add_config_option(p)
    p.add_argument("--open", action="store_true", help="only alerts not cleared yet")
    p.add_argument("--json", action="store_true", help="one JSON object per line, times in Unix seconds")
    p.add_argument("--limit", type=int, default=None, help="at most this many")
    p.set_defaults(func=run_alerts)
    a = sub.add_parser("ack", help="acknowledge an alert, with the corrective action taken")
    add_config_option(a)
    a.add_argument("alert_id", type=int, metavar="ALERT_ID")
    a.add_argument("--by", required=True, help="who acknowledges")
    a.add_argument("--note", required=True, help="what was done (the corrective action)")
    a.set_defaults(func=run_ack)


def _service(args: argparse.Namespace) -> tuple[Config, AlertService] | None:
    """The config and the alert service of ``--config``; None, having said why, when either is missing."""
    from gateway.alerts.service import AlertService
    from gateway.alerts.store import AlertStore
    cfg = config_from_args(args)
    if cfg is None:
        return None
    db = open_events_db(cfg)
    return None if db is None else (cfg, AlertService(AlertStore(db), SystemClock()))


def _time(ts: float | None, cfg: Config) -> str:
    return datetime.fromtimestamp(ts, cfg.site.tz).strftime("%Y-%m-%d %H:%M") if ts is not None else "-"


def run_alerts(args: argparse.Namespace) -> int:
    """List alerts."""
    opened = _service(args)
    if opened is None:
        return 1
    cfg, service = opened
    alerts = service.list(open_only=args.open, limit=args.limit)
    if args.json:
        for a in alerts:
            print(json.dumps(a.summary(), ensure_ascii=False))
        return 0
    if not alerts:
        print("no open alerts" if args.open else "no alerts")
        return 0
    print(f"{'ID':>5}  {'STATE':<12} {'SEVERITY':<8} {'OPENED':<16} {'RULE':<20} {'DEVICE':<20} ACKED BY / CLEARED")
    for a in alerts:
        tail = a.acked_by or ""
        if a.cleared_at is not None:
            tail += f" cleared {_time(a.cleared_at, cfg)}"
        print(f"{a.id:>5}  {a.state:<12} {a.severity:<8} {_time(a.opened_at, cfg):<16} {a.rule:<20} "
              f"{a.device:<20} {tail.strip()}")
    return 0


def run_ack(args: argparse.Namespace) -> int:
    """Acknowledge one alert."""
    from gateway.alerts.model import AlertNotFoundError, AlertStateError
    if not args.note.strip():
        # The note is the corrective action an inspector reads on the sheet; an empty one says nothing.
        print('error: say what was done: --note "moved the food to the spare fridge"', file=sys.stderr)
        return 1
    opened = _service(args)
    if opened is None:
        return 1
    _, service = opened
    try:
        a = service.ack(args.alert_id, args.by, args.note)
    except (AlertNotFoundError, AlertStateError) as e:
        print(f"error: {e.args[0] if e.args else e}", file=sys.stderr)
        return 1
    print(f"alert {a.id} ({a.rule} on {a.device}) acknowledged by {a.acked_by}; state: {a.state}")
    return 0
