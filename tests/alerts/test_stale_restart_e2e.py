"""A silent sensor across a gateway restart, over a real Mosquitto with retained availability messages.

Zigbee2MQTT keeps ``{"state":"online"}`` retained; the broker redelivers it whenever the gateway subscribes
again. That is no reading: the open alert of a silent sensor must stay open (no "[已恢复]"), a sensor that went
quiet shortly before the restart must be reported with its last real reading as "最后收到数据", not the
restart time, and one problem must stay one alert. Card readers are quiet by nature and never "silent".
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from gateway.app import Site, build_gateway
from gateway.clock import ManualClock
from gateway.config import parse_config
from tests.gateway.ingest_helpers import Publisher, stored_values
from tests.mosquitto import Mosquitto
from tests.notify.receivers import WebhookServer
from tests.waiting import COMMIT_WINDOW, wait_for


def _z2m(device_id: str, name: str) -> dict[str, Any]:
    return {"id": device_id, "kind": "fridge", "name": name, "format": "zigbee2mqtt",
            "topic": f"zigbee2mqtt/{device_id}"}


def _config(tmp_path: Path, mosquitto: Mosquitto, hook: WebhookServer) -> dict[str, Any]:
    return {
        "site": {"id": "kg", "locale": "zh-CN"},
        "mqtt": {"url": mosquitto.url, "client_id": "houqin-e2e-stale"},
        "storage": {"dir": str(tmp_path / "data"), "commit_interval": COMMIT_WINDOW},
        "dashboard": {"enabled": False},
        "devices": [_z2m("fridge-a", "冷藏柜A"), _z2m("fridge-b", "冷藏柜B"),
                    {"id": "reader", "kind": "card_reader", "name": "门禁读卡器"},
                    {"id": "probe", "kind": "thermometer"}],
        "rules": [
            {"id": "silent", "kind": "stale", "devices": ["fridge-*", "reader"], "for": "3m", "notify": "kitchen"},
            # Evaluated in order after the redelivered availability: once it fires, those were evaluated too.
            {"id": "probe-hot", "kind": "threshold", "devices": ["probe"], "above": 50},
        ],
        "notify": {"channels": {"group": {"type": "webhook", "format": "generic", "url": hook.url("/kitchen")}},
                   "chains": {"kitchen": {"steps": [{"channels": ["group"]}]}}},
    }


def _events(hook: WebhookServer) -> list[tuple[str, str]]:
    return [(r.body["event"], r.body["alert"]["device"]) for r in hook.at("/kitchen")]


def _open(site: Site, rule: str) -> list[str]:
    return sorted(a.device for a in site.alerting.service.list(open_only=True) if a.rule == rule)


def test_retained_online_at_restart_neither_clears_nor_restarts_silence(
        tmp_path: Path, mosquitto: Mosquitto, hook: WebhookServer) -> None:
    cfg = parse_config(_config(tmp_path, mosquitto, hook))
    clock = ManualClock(round(time.time(), 3))
    pub = Publisher(mosquitto.port)
    for device in ("fridge-a", "fridge-b"):
        assert pub.link.publish(f"zigbee2mqtt/{device}/availability", b'{"state":"online"}', qos=1, retain=True,
                                wait=10)
    assert pub.link.publish("houqin/kg/reader/availability", b"online", qos=1, retain=True, wait=10)
    try:
        gw = build_gateway(cfg, clock=clock)
        gw.start()
        try:
            pub.wait_gateway()
            t0 = clock.now()
            pub.send("zigbee2mqtt/fridge-a", '{"temperature": 4.2}')
            pub.send("zigbee2mqtt/fridge-b", '{"temperature": 4.0}')
            # Stored means received, so stamped t0 (the retained availability alone can make the first batch):
            # only then may the clock move.
            wait_for(lambda: all(stored_values(gw.core, f, "temperature", clock) for f in ("fridge-a", "fridge-b")),
                     what="the first readings stored")
            wait_for(lambda: gw.alerting.engine.stats().batches >= 1 and gw.alerting.engine.stats().queued == 0,
                     what="the first readings evaluated")
            clock.advance(120)
            t_b = clock.now()
            pub.send("zigbee2mqtt/fridge-b", '{"temperature": 4.1}')
            pub.state("probe", {"temperature": 60.0})
            wait_for(lambda: _open(gw, "probe-hot") == ["probe"], what="the probe evaluated")
            clock.advance(61)  # fridge-a silent 3 min; fridge-b 61 s; the reader never sends: it is quiet by nature
            wait_for(lambda: _events(hook) == [("opened", "fridge-a")], what="fridge-a's alert")
            [first] = [r.body for r in hook.at("/kitchen")]
            assert abs(first["alert"]["since"] - t0) < 0.01
        finally:
            gw.stop()
        pub.gateway_online = False
        clock.advance(60)  # fridge-b silent 121 s at the restart

        again = build_gateway(cfg, clock=clock)
        again.start()
        try:
            pub.wait_gateway()
            restart = clock.now()
            pub.state("probe", {"temperature": 20.0})
            pub.state("probe", {"temperature": 61.0})  # after the retained availability in the gateway's queue
            wait_for(lambda: len([a for a in again.alerting.service.list() if a.rule == "probe-hot"]) == 2,
                     what="the redelivered availability and the probe evaluated")
            assert _open(again, "silent") == ["fridge-a"]
            clock.advance(60)  # fridge-b silent 181 s since its last reading, 60 s since the restart
            wait_for(lambda: _events(hook) == [("opened", "fridge-a"), ("opened", "fridge-b")],
                     what="fridge-b's alert")
            body = hook.at("/kitchen")[1].body
            assert abs(body["alert"]["since"] - t_b) < 0.01 and body["alert"]["since"] < restart
            heard = datetime.fromtimestamp(t_b, ZoneInfo("Asia/Shanghai")).strftime("%H:%M")
            assert "最后收到数据：" in body["text"] and heard in body["text"]

            clock.advance(600)  # still silent: still the same two alerts, no copies
            again.alerting.tick()
            assert _open(again, "silent") == ["fridge-a", "fridge-b"]
            assert len([a for a in again.alerting.service.list() if a.rule == "silent"]) == 2

            pub.send("zigbee2mqtt/fridge-a", '{"temperature": 4.3}')  # a real reading: recovered
            wait_for(lambda: ("resolved", "fridge-a") in _events(hook), what="fridge-a recovered")
            assert _open(again, "silent") == ["fridge-b"]
        finally:
            again.stop()
    finally:
        pub.close()
    assert _events(hook) == [("opened", "fridge-a"), ("opened", "fridge-b"), ("resolved", "fridge-a")]
