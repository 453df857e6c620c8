"""``houqin alerts [--open] [--json]`` and ``houqin ack ALERT_ID --by NAME --note TEXT``."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING

from gateway.alerts.model import Alert
from gateway.cli.common import add_config_option, config_from_args, open_events_db
from gateway.cli.lang import cli_locale, pad, say
from gateway.clock import SystemClock
from gateway.config import Config
from gateway.i18n import tr
from gateway.rules.detail import what_words, where_words

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
    db = open_events_db(cfg, args)
    return None if db is None else (cfg, AlertService(AlertStore(db), SystemClock()))


def _time(ts: float | None, cfg: Config) -> str:
    return datetime.fromtimestamp(ts, cfg.site.tz).strftime("%Y-%m-%d %H:%M") if ts is not None else "-"


class _Words:
    """An alert's rule, device, state and severity as the notifications say them (names, not ids)."""

    def __init__(self, cfg: Config, locale: str) -> None:
        from gateway.alerting import device_labels
        self.rules = {r.id: r for r in cfg.rules}
        self.devices = device_labels(cfg)
        self.locale = locale

    def what(self, a: Alert) -> str:
        """The rule's name or condition."""
        return what_words(a, self.rules.get(a.rule), self.locale)

    def where(self, a: Alert) -> str:
        """The device's (or patrol route's) name."""
        return where_words(a, self.devices.get(a.device, a.device))

    def state(self, a: Alert) -> str:
        """未处理, 已确认, 已解除."""
        return tr(self.locale, a.state)

    def severity(self, a: Alert) -> str:
        """严重, 重要, ..."""
        return tr(self.locale, a.severity)


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
        print(say(args, "no open alerts" if args.open else "no alerts"))
        return 0
    words = _Words(cfg, cli_locale(args))
    print(f"{'ID':>5}  {pad(say(args, 'STATE'), 8)} {pad(say(args, 'SEVERITY'), 8)} "
          f"{pad(say(args, 'OPENED'), 16)} {pad(say(args, 'DEVICE'), 24)} {pad(say(args, 'ALERT'), 30)} "
          f"{say(args, 'ACKED BY / CLEARED')}")
    for a in alerts:
        tail = a.acked_by or ""
        if a.cleared_at is not None:
            tail += " " + say(args, "cleared {time}", time=_time(a.cleared_at, cfg))
        print(f"{a.id:>5}  {pad(words.state(a), 8)} {pad(words.severity(a), 8)} {_time(a.opened_at, cfg):<16} "
              f"{pad(words.where(a), 24)} {pad(words.what(a), 30)} {tail.strip()}".rstrip())
    return 0


def run_ack(args: argparse.Namespace) -> int:
    """Acknowledge one alert."""
    from gateway.alerts.model import AlertNotFoundError, AlertStateError
    if not args.note.strip():
        # The note is the corrective action an inspector reads on the sheet; an empty one says nothing.
        print(say(args, 'error: say what was done: --note "moved the food to the spare fridge"'), file=sys.stderr)
        return 1
    opened = _service(args)
    if opened is None:
        return 1
    cfg, service = opened
    try:
        a = service.ack(args.alert_id, args.by, args.note)
    except (AlertNotFoundError, AlertStateError) as e:
        print(say(args, "error: {error}", error=e.text(cli_locale(args))), file=sys.stderr)
        return 1
    words = _Words(cfg, cli_locale(args))
    print(say(args, "alert {id} ({what} on {where}) acknowledged by {name}; state: {state}", id=a.id,
              what=words.what(a), where=words.where(a), name=a.acked_by, state=words.state(a)))
    return 0
