"""``houqin uplink status``: what waits for the district (central store and broker), since when, the last error.

Exit status: 0 healthy (or no uplink), 1 configuration error, 3 when something was dropped, the oldest
unsent item is older than ``[uplink] outage_alert_after``, or an outbox cannot be read.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import TYPE_CHECKING, Any

from gateway.cli.common import add_config_option, config_from_args
from gateway.cli.storage_status import known, outbox
from gateway.values import format_duration

if TYPE_CHECKING:
    from gateway.config import Config


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``houqin uplink status``."""
    p = sub.add_parser("uplink", help="the uplink to the district: what waits, since when, the last error")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    s = actions.add_parser("status", help="outbox depth, age of the oldest unsent item, drops, last error")
    add_config_option(s)
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.set_defaults(func=status)


def status(args: argparse.Namespace) -> int:
    """Print the uplink's backlog; 3 when it needs attention."""
    cfg = config_from_args(args)
    if cfg is None:
        return 1
    info = collect(cfg, time.time())
    if args.json:
        print(json.dumps(info, ensure_ascii=False, sort_keys=True))
    else:
        for line in describe(info):
            print(line)
    return 0 if info["healthy"] else 3


def collect(cfg: Config, now: float) -> dict[str, Any]:
    """The status as a dict: ``enabled``, ``healthy`` and one entry per configured outbox (what ``--json`` prints)."""
    from gateway.uplink.sender import MQTT_OUTBOX_NAME
    from gateway.uplink.store import STORE_OUTBOX_NAME

    up = cfg.uplink
    info: dict[str, Any] = {"enabled": up.enabled, "site": cfg.site.id}
    parts = []
    if up.store is not None:
        info["store"] = {"url": up.store.safe_url, **outbox(cfg.storage.path / STORE_OUTBOX_NAME, now)}
        parts.append(info["store"])
    if up.broker is not None:
        info["broker"] = {"url": f"{'mqtts' if up.broker.tls else 'mqtt'}://{up.broker.host}:{up.broker.port}",
                          **outbox(cfg.storage.path / MQTT_OUTBOX_NAME, now)}
        parts.append(info["broker"])
    info["healthy"] = not any(p["dropped"] or p["read_error"] or (p["oldest_unsent_age_s"] or 0)
                              >= up.outage_alert_after for p in parts)
    return info


def describe(info: dict[str, Any]) -> list[str]:
    """Lines for people."""
    if not info["enabled"]:
        return ["uplink:        off (no [uplink.broker] or [uplink.store] in the config)"]
    lines = [f"uplink of site {info['site']}:"]
    for name, label in (("store", "central store "), ("broker", "central broker")):
        p = info.get(name)
        if p is None:
            continue
        age = p["oldest_unsent_age_s"]
        oldest = f"oldest {format_duration(age)} ago" if age is not None else "none"
        lines += [
            f"{label}: {p['url']}",
            f"  waiting:       {p['read_error'] or str(p['depth']) + f' ({oldest})'}",
            f"  sent:          {known(p['sent'])}   dropped (outbox full): {known(p['dropped'])}",
            f"  last error:    {p['last_error'] or '-'}",
        ]
    if not info["healthy"]:
        lines.append("ATTENTION:     an outbox cannot be read, data was dropped, or the district has been "
                     "unreachable for long")
    return lines
