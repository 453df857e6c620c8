"""A refused card never excuses a forced opening, even from a reader whose events carry no decision."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway.app import build_gateway
from gateway.clock import ManualClock
from gateway.config import parse_config
from gateway.model import CommittedBatch, Event, Reading
from tests.gate.helpers import DEVICES, WED_10
from tests.waiting import COMMIT_WINDOW


def _gateway(tmp_path: Path) -> Any:
    raw: dict[str, Any] = {
        "site": {"id": "kg", "locale": "en"},
        "mqtt": {"url": "mqtt://127.0.0.1:1"},
        "storage": {"dir": str(tmp_path / "data"), "commit_interval": COMMIT_WINDOW},
        "devices": DEVICES,
        "gate": {"readers": [{"device": "reader", "relay": "gate", "direction": "in"}]},
        "rules": [{"id": "gate-forced", "kind": "gate_forced", "devices": ["gate"], "authorized_by": ["reader"],
                   "window": "10s", "grace": "0s", "severity": "critical"}],
    }
    clock = ManualClock(WED_10)
    gw = build_gateway(parse_config(raw), clock=clock)
    gw.gate.cards.add("04A1B2C3", "Li Na", "staff")
    return gw, clock


def _swipe_then_open(gw: Any, clock: ManualClock, uid: str) -> None:
    t = clock.now()
    gw.alerting.on_batch(CommittedBatch(readings=(Reading(t, "gate", "contact", 0.0),)))
    # the reader reports only what it read: the gateway's registry decides
    gw.alerting.on_batch(CommittedBatch(events=(Event(t + 1, "reader", "card", {"uid": uid}),)))
    clock.advance(3)
    gw.alerting.on_batch(CommittedBatch(readings=(Reading(t + 3, "gate", "contact", 1.0),)))
    clock.advance(5)
    gw.alerting.tick()


def test_unknown_card_then_opening_is_forced(tmp_path: Path) -> None:
    gw, clock = _gateway(tmp_path)
    try:
        _swipe_then_open(gw, clock, "DEADBEEF")
        alerts = gw.alerting.service.list(open_only=True)
        assert [(a.rule, a.device) for a in alerts] == [("gate-forced", "gate")]
    finally:
        gw.close()


def test_registered_card_then_opening_is_not_forced(tmp_path: Path) -> None:
    gw, clock = _gateway(tmp_path)
    try:
        _swipe_then_open(gw, clock, "04a1b2c3")
        assert gw.alerting.service.list(open_only=True) == []
    finally:
        gw.close()
