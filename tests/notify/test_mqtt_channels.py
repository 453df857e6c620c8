"""Buzzer/LED commands and retained alert state over a real Mosquitto."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gateway import contract
from gateway.clock import ManualClock
from tests.mosquitto import Mosquitto
from tests.notify.receivers import Collector, WebhookServer, gateway_link
from tests.rules.site import FRI_2AM, Site, config
from tests.waiting import wait_for

RULES: list[dict[str, Any]] = [
    {"id": "fridge-warm", "kind": "threshold", "devices": ["kitchen-fridge"], "above": 8.0, "for": "0s",
     "severity": "critical", "notify": "local"},
    {"id": "leak", "kind": "water_leak", "devices": ["sink-leak"], "notify": "local"},
]
NOTIFY = {"channels": {"buzzer": {"type": "buzzer", "device": "gate"},
                       "lamp": {"type": "led", "device": "kitchen-fridge", "output": "red_led"},
                       "bus": {"type": "mqtt"}},
          "chains": {"local": {"steps": [{"channels": ["buzzer", "lamp", "bus"]}]}}}


def test_buzzer_led_and_retained_state(tmp_path: Path, mosquitto: Mosquitto) -> None:
    link = gateway_link(mosquitto.port)
    sub = Collector(mosquitto.port, "houqin/kg/#", "sub-1")
    site = Site(config(tmp_path, RULES, NOTIFY), ManualClock(FRI_2AM), publisher=link)
    buzzer = contract.set_topic("kg", "gate")
    lamp = contract.set_topic("kg", "kitchen-fridge")
    state = contract.alerts_topic("kg", "fridge-warm", "kitchen-fridge")
    try:
        site.reading("kitchen-fridge", "temperature", 9.0)
        site.reading("sink-leak", "water_leak", 1.0)
        leak_state = contract.alerts_topic("kg", "leak", "sink-leak")
        # Both states published before a late subscriber comes (else one may reach it live, not retained).
        wait_for(lambda: len(sub.on(buzzer)) == 2 and len(sub.on(state)) == 1 and len(sub.on(leak_state)) == 1,
                 what="commands and states")
        assert [json.loads(p) for p in sub.on(buzzer)] == [{"buzzer": "on"}, {"buzzer": "on"}]
        assert json.loads(sub.on(lamp)[0]) == {"red_led": "on"}
        body: dict[str, Any] = json.loads(sub.on(state)[0])
        assert body["state"] == "active" and body["severity"] == "critical" and body["value"] == 9.0
        # A late subscriber sees the open alert as retained state.
        late = Collector(mosquitto.port, contract.alerts_topic("kg", "+", "+"), "sub-2")
        wait_for(lambda: len(late.messages) == 2, what="retained states")
        assert all(retain for _, _, retain in late.messages)
        late.close()
        fridge = site.service.list(rule="fridge-warm")[0]
        site.service.ack(fridge.id, "Cook Zhang", "door closed")
        wait_for(lambda: len(sub.on(state)) == 2, what="acknowledged state")
        assert json.loads(sub.on(state)[1])["state"] == "acknowledged"
        # The leak alert still needs the buzzer: it stays on.
        assert json.loads(sub.on(buzzer)[-1]) == {"buzzer": "on"}
        site.reading("sink-leak", "water_leak", 0.0)
        wait_for(lambda: json.loads(sub.on(buzzer)[-1]) == {"buzzer": "off"}, what="buzzer off")
        site.reading("kitchen-fridge", "temperature", 5.0)
        wait_for(lambda: sub.on(state)[-1:] == [b""], what="retained state cleared")
        late = Collector(mosquitto.port, contract.alerts_topic("kg", "#"), "sub-3")
        marker = contract.alerts_topic("kg", "marker", "x")
        wait_for(lambda: (link.publish(marker, b"1", wait=5), bool(late.on(marker)))[1], what="marker")
        # Retained messages come right after subscribing, before the marker: none are left.
        assert {t for t, _, _ in late.messages} == {marker}
        late.close()
    finally:
        site.close()
        sub.close()
        link.stop()


def test_broker_down_is_a_failed_delivery_not_a_crash(tmp_path: Path, mosquitto: Mosquitto) -> None:
    link = gateway_link(mosquitto.port)
    notify = {**NOTIFY, "attempts": 2, "backoff": "0.01s"}
    site = Site(config(tmp_path, RULES, notify), ManualClock(FRI_2AM), publisher=link)
    try:
        mosquitto.stop()
        wait_for(lambda: not link.connected, what="disconnect")
        site.reading("kitchen-fridge", "temperature", 9.0)
        wait_for(lambda: site.alerting.dispatcher.stats()["buzzer"].gave_up == 1, what="gave up")
        assert site.service.list(open_only=True)[0].state == "active"
    finally:
        site.close()
        link.stop()


def test_restart_turns_the_buzzer_back_on_without_messaging_people(tmp_path: Path, mosquitto: Mosquitto,
                                                                   hook: WebhookServer) -> None:
    link = gateway_link(mosquitto.port)
    sub = Collector(mosquitto.port, contract.set_topic("kg", "gate"), "sub-restart")
    notify = {"channels": {"buzzer": {"type": "buzzer", "device": "gate"},
                           "group": {"type": "webhook", "format": "generic", "url": hook.url("/g")}},
              "chains": {"local": {"steps": [{"channels": ["buzzer", "group"]}]}}}
    cfg = config(tmp_path, RULES, notify)
    clock = ManualClock(FRI_2AM)
    try:
        site = Site(cfg, clock, publisher=link)
        site.reading("kitchen-fridge", "temperature", 9.0)
        wait_for(lambda: len(sub.messages) == 1 and len(hook.received) == 1, what="first notification")
        site.close()
        again = Site(cfg, clock, publisher=link)
        try:
            wait_for(lambda: len(sub.messages) == 2, what="buzzer restored")
            assert json.loads(sub.messages[-1][1]) == {"buzzer": "on"}
            again.advance(600)
            assert len(hook.received) == 1  # people are not messaged again
        finally:
            again.close()
    finally:
        sub.close()
        link.stop()
