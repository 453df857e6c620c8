"""Home Assistant alert sensors follow the alerts themselves, with no notification channel configured."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from gateway import contract
from gateway.app import build_gateway
from gateway.clock import ManualClock
from gateway.config import parse_config
from gateway.mqtt_link import InboundMessage, LinkSettings, MqttLink
from tests.gateway.ingest_helpers import SITE, Publisher, wait_for
from tests.mosquitto import Mosquitto
from tests.waiting import COMMIT_WINDOW

TOPIC = contract.alerts_topic(SITE, "fridge-warm", "fridge-1")


class Retained:
    """A real subscriber keeping the last payload per topic (b"" once a retained state is deleted)."""

    def __init__(self, port: int, name: str) -> None:
        self.last: dict[str, bytes] = {}
        self.lock = threading.Lock()
        self.link = MqttLink(LinkSettings("127.0.0.1", port, name, persistent=False, manual_ack=False),
                             on_message=self._on, subscriptions=[contract.alerts_topic(SITE, "#")])
        self.link.start()
        assert self.link.wait_connected(10)

    def _on(self, msg: InboundMessage) -> None:
        with self.lock:
            self.last[msg.topic] = msg.payload

    def state(self) -> str | None:
        with self.lock:
            payload = self.last.get(TOPIC)
        if payload is None:
            return None
        return str(json.loads(payload)["state"]) if payload else ""


def test_alert_sensor_follows_open_ack_clear_and_resyncs_a_stale_state(tmp_path: Path, mosquitto: Mosquitto) -> None:
    config = parse_config({
        "site": {"id": SITE},
        "mqtt": {"url": mosquitto.url, "client_id": "houqin-ha-alerts-gw"},
        "storage": {"dir": str(tmp_path / "data"), "commit_interval": COMMIT_WINDOW},
        "homeassistant": {"discovery": True},
        "devices": [{"id": "fridge-1", "kind": "fridge"}],
        # no notify chain, hence no mqtt channel: only the discovery component can publish the state
        "rules": [{"id": "fridge-warm", "kind": "threshold", "devices": ["fridge-*"], "above": 8.0}],
    })
    # a state left "active" on the broker by an earlier run whose alert cleared while it was away
    stale = Publisher(mosquitto.port, client_id="stale-writer")
    assert stale.link.publish(TOPIC, json.dumps({"id": 99, "state": "active"}), qos=1, retain=True, wait=10)
    stale.close()
    watcher = Retained(mosquitto.port, "ha-alert-watcher")
    wait_for(lambda: watcher.state() == "active", what="the stale retained state")
    clock = ManualClock(round(time.time(), 3))
    gw = build_gateway(config, clock=clock)
    gw.start()
    pub = Publisher(mosquitto.port)
    try:
        wait_for(lambda: watcher.state() == "", what="the stale alert state emptied at connect")
        pub.wait_gateway()
        pub.state("fridge-1", {"temperature": 9.5}, ts=clock.now())
        wait_for(lambda: watcher.state() == "active", what="the alert state published when it opens")
        with watcher.lock:
            body = json.loads(watcher.last[TOPIC])
        assert body["rule"] == "fridge-warm" and body["device"] == "fridge-1" and body["value"] == 9.5
        service = gw.alerting.service
        service.ack(body["id"], "王师傅", "moved the food to the other fridge")
        wait_for(lambda: watcher.state() == "acknowledged", what="the acknowledged state")
        clock.advance(60)
        pub.state("fridge-1", {"temperature": 4.0}, ts=clock.now())
        wait_for(lambda: watcher.state() == "", what="the state emptied when the alert clears")
    finally:
        pub.close()
        gw.stop()
        watcher.link.stop()
