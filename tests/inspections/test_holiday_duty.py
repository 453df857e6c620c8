"""Alerts during a holiday go to the person on duty first, then escalate along their own chain as usual: the
gateway as ``build_gateway`` wires it, a real HTTP receiver and SMTP server, an injected clock."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from gateway.app import Site, build_gateway
from gateway.clock import ManualClock
from gateway.config import parse_config
from gateway.model import CommittedBatch, Reading
from tests.inspections.conftest import ts
from tests.notify.receivers import SmtpServer, WebhookServer
from tests.waiting import COMMIT_WINDOW, wait_for

OCT2 = date(2026, 10, 2)
OCT9 = date(2026, 10, 9)  # a school day after the holiday: nobody on duty


def _gateway(tmp_path: Path, hook: WebhookServer, smtp: SmtpServer, clock: ManualClock) -> Site:
    raw: dict[str, Any] = {
        "site": {"id": "kg", "locale": "zh-CN"},
        "mqtt": {"url": "mqtt://127.0.0.1:1"},
        "storage": {"dir": str(tmp_path / "data"), "commit_interval": COMMIT_WINDOW},
        "calendar": {"holidays": ["2026-10-01..2026-10-07"]},
        "devices": [{"id": "kitchen-fridge", "kind": "fridge", "name": "厨房冰箱"}],
        "rules": [{"id": "fridge-warm", "kind": "threshold", "devices": ["kitchen-fridge"], "above": 8.0,
                   "clear_below": 7.0, "for": "10m", "notify": "kitchen"}],
        "notify": {
            "channels": {
                "kitchen-group": {"type": "webhook", "format": "generic", "url": hook.url("/kitchen")},
                "zhao-phone": {"type": "webhook", "format": "generic", "url": hook.url("/zhao")},
                "principal-mail": {"type": "email", "host": "127.0.0.1", "port": smtp.port, "security": "none",
                                   "from": "houqin@kg.example", "to": ["principal@kg.example"]}},
            "chains": {"kitchen": {"steps": [{"after": "0m", "channels": ["kitchen-group"]},
                                             {"after": "15m", "channels": ["principal-mail"]}]},
                       "duty-zhao": {"steps": [{"after": "0m", "channels": ["zhao-phone"]}]}},
            "backoff": "0.01s"},
        "inspections": {"holidays": {"duty": {"2026-10-01..2026-10-03": "赵师傅"},
                                     "duty_chains": {"赵师傅": "duty-zhao"}, "duty_first": "10m"}},
    }
    return build_gateway(parse_config(raw), clock=clock)


def _warm(gw: Site, clock: ManualClock, minutes: int) -> None:
    """The fridge at 9.5 °C each minute, time moving as the scheduler moves it."""
    for _ in range(minutes):
        gw.alerting.on_batch(CommittedBatch((Reading(clock.now(), "kitchen-fridge", "temperature", 9.5),)))
        clock.advance(60)
        gw.alerting.tick()


def _advance(gw: Site, clock: ManualClock, minutes: int) -> None:
    for _ in range(minutes):
        clock.advance(60)
        gw.alerting.tick()


def test_the_person_on_duty_is_told_first_then_the_usual_chain(tmp_path: Path, hook: WebhookServer,
                                                                 smtp: SmtpServer) -> None:
    clock = ManualClock(ts(OCT2, 3))
    gw = _gateway(tmp_path, hook, smtp, clock)
    gw.alerting.dispatcher.start()
    try:
        _warm(gw, clock, 11)
        wait_for(lambda: [r.body["event"] for r in hook.at("/zhao")] == ["opened"], what="the person on duty")
        [alert] = gw.alerting.service.list(open_only=True)
        assert hook.at("/kitchen") == [] and smtp.messages == []
        _advance(gw, clock, 9)  # the person on duty has 10 minutes before the kitchen is told
        assert hook.at("/kitchen") == []
        _advance(gw, clock, 1)
        wait_for(lambda: len(hook.at("/kitchen")) == 1, what="the alert's own chain, after the person on duty")
        assert smtp.messages == []
        _advance(gw, clock, 15)  # then the kitchen chain's own 15 minutes to the principal
        wait_for(lambda: len(smtp.messages) == 1, what="the principal's mail")
        assert smtp.messages[0]["To"] == "principal@kg.example"
        notes = [e.note for e in gw.alerting.service.timeline(alert.id) if e.what == "notified"]
        assert notes[0].endswith("zhao-phone") and "kitchen-group" in notes[1] and "principal-mail" in notes[2]

        # After the holiday nobody is on duty: the kitchen chain alone, at once.
        gw.alerting.service.ack(alert.id, "张阿姨", "已移到备用冰箱")
        gw.alerting.on_batch(CommittedBatch((Reading(clock.now(), "kitchen-fridge", "temperature", 5.0),)))
        _advance(gw, clock, 1)
        # everyone told hears it is resolved, the person on duty too
        wait_for(lambda: [r.body["event"] for r in hook.at("/zhao")] == ["opened", "resolved"], what="resolved")
        wait_for(lambda: [r.body["event"] for r in hook.at("/kitchen")] == ["escalated", "resolved"], what="resolved")
        clock.set(ts(OCT9, 3))
        _warm(gw, clock, 11)
        wait_for(lambda: [r.body["event"] for r in hook.at("/kitchen")][-1] == "opened", what="the kitchen at once")
        assert [r.body["event"] for r in hook.at("/zhao")] == ["opened", "resolved"]
    finally:
        gw.alerting.dispatcher.stop()
        gw.close()
