"""Helpers for gate tests: a site with a reader, a lock relay and a patrol route; bounded waits."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from gateway.config import Config, parse_config
from gateway.contract import cards_topic
from gateway.gate.service import Gate
from gateway.signing import Signer
from tests.waiting import COMMIT_WINDOW

TZ = ZoneInfo("Asia/Shanghai")
RELAY_PIN = 23

DEVICES: list[dict[str, Any]] = [
    {"id": "gate", "kind": "gate", "name": "Main gate"},
    {"id": "reader", "kind": "card_reader", "name": "Gate reader"},
    {"id": "exit-reader", "kind": "card_reader", "name": "Exit reader"},
    {"id": "kitchen-fridge", "kind": "fridge", "name": "Kitchen fridge"},
    {"id": "kitchen-reader", "kind": "card_reader", "name": "Kitchen checkpoint"},
]


def local(y: int, mo: int, d: int, h: int, mi: int = 0) -> float:
    """Unix time of a local (Asia/Shanghai) wall-clock time."""
    return datetime(y, mo, d, h, mi, tzinfo=TZ).timestamp()


#: Wednesday 2026-11-18 10:00 local: inside staff hours.
WED_10 = local(2026, 11, 18, 10)


def gate_config(tmp_path: Path, mqtt_url: str = "mqtt://127.0.0.1:1", *, sensors: bool = False,
                notify: dict[str, Any] | None = None, **gate: Any) -> Config:
    raw: dict[str, Any] = {
        "site": {"id": "kg", "name": "Test KG", "locale": "en"},
        "mqtt": {"url": mqtt_url, "client_id": "houqin-gate-gw"},
        "storage": {"dir": str(tmp_path / "data"), "commit_interval": COMMIT_WINDOW},
        "dashboard": {"bind": "127.0.0.1", "port": 0},
        "devices": DEVICES,
        "gate": {
            "readers": [{"device": "reader", "relay": "gate", "direction": "in"},
                        {"device": "exit-reader", "direction": "out"}],
            "relay_seconds": "3s",
            "patrols": [{"id": "night", "name": "Night round", "rounds": ["22:00-23:00"],
                         "notify": "guards" if notify else None,
                         "checkpoints": [{"id": "kitchen", "name": "Kitchen", "reader": "kitchen-reader",
                                          "devices": ["kitchen-fridge"]},
                                         {"id": "meter-room", "name": "Meter room", "tag": "TAG0001"}]}],
            **gate,
        },
    }
    if notify is not None:
        raw["notify"] = notify
    if sensors:
        raw["sensors"] = [{"type": "relay", "device": "gate", "pin": RELAY_PIN},
                          {"type": "card_reader", "device": "reader", "reader": "serial", "path": "/dev/ttyUSB9"}]
    return parse_config(raw)


def sealed_list(gate: Gate, now: float | None = None, key: bytes | None = None) -> bytes:
    """The card list as the gateway's link sends it: signed with the site's gate command key."""
    body = json.loads(gate.access.card_list_payload())
    return Signer(key or gate.access.command_key).seal(cards_topic(gate.site), body,
                                                       gate.clock.now() if now is None else now)
