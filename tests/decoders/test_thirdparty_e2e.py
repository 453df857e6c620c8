"""Off-the-shelf devices end to end: real Mosquitto -> the gateway's ingest -> the time-series store."""

from __future__ import annotations

import time
from pathlib import Path

from gateway import contract
from gateway.app import Gateway
from gateway.config import parse_config
from gateway.mqtt_link import LinkSettings, MqttLink
from tests.mosquitto import Mosquitto
from tests.waiting import COMMIT_WINDOW, wait_for


def test_shared_topics_reach_each_device(tmp_path: Path, mosquitto: Mosquitto) -> None:
    config = parse_config({
        "site": {"id": "kg"},
        "mqtt": {"url": mosquitto.url, "client_id": "houqin-3p-test-gw"},
        "storage": {"dir": str(tmp_path / "data"), "commit_interval": COMMIT_WINDOW},
        "devices": [
            {"id": "cold-fridge", "kind": "fridge", "format": "tasmota", "topic": "coldroom", "probe": "000008BD38BF"},
            {"id": "cold-freezer", "kind": "freezer", "format": "tasmota", "topic": "coldroom",
             "probe": "000008BD9714"},
            {"id": "store-door", "kind": "door", "format": "zigbee2mqtt", "topic": "zigbee2mqtt/storeroom-door"},
            {"id": "kitchen-power", "kind": "power_meter", "format": "shelly", "topic": "shellypro4pm-kitchen",
             "probe": "2"},
            {"id": "esp-freezer", "kind": "freezer", "format": "esphome", "topic": "esp-freezer"},
            {"id": "boiler", "kind": "thermometer", "format": "plain", "topic": "boiler/temp", "metric": "temperature"},
        ],
    })
    pub = MqttLink(LinkSettings("127.0.0.1", mosquitto.port, "houqin-3p-test-pub", persistent=False,
                                manual_ack=False))
    pub.start()
    assert pub.wait_connected(10)
    gw = Gateway(config)
    gw.start()
    try:
        assert gw.link.wait_connected(10)
        messages = [
            ("tele/coldroom/SENSOR", b'{"Time":"2026-11-20T08:00:00","DS18B20-1":{"Id":"000008BD38BF",'
             b'"Temperature":3.1},"DS18B20-2":{"Id":"000008BD9714","Temperature":-19.4},"TempUnit":"C"}'),
            ("zigbee2mqtt/storeroom-door", b'{"battery":97,"contact":false,"linkquality":128}'),
            ("shellypro4pm-kitchen/status/switch:0", b'{"id":0,"apower":5.0,"aenergy":{"total":10.0}}'),
            ("shellypro4pm-kitchen/status/switch:2", b'{"id":2,"apower":410.0,"aenergy":{"total":52311.4}}'),
            ("esp-freezer/sensor/wifi_signal/state", b"-67"),
            ("esp-freezer/sensor/freezer_temperature/state", b"-18.6"),
            ("boiler/temp", b"61.5"),
        ]

        def latest(device: str, metric: str) -> float | None:
            now = time.time()
            rows = gw.store.query(device, metric, now - 3600, now + 3600)
            return rows[-1].value if rows else None

        last_sent = [0.0]

        def all_stored() -> bool:
            done = all(latest(d, m) is not None for d, m in (
                ("cold-fridge", "temperature"), ("cold-freezer", "temperature"), ("store-door", "contact"),
                ("kitchen-power", "energy_wh"), ("esp-freezer", "temperature"), ("boiler", "temperature")))
            if not done and time.monotonic() - last_sent[0] > 0.5:
                # Publish again until the gateway's subscriptions are in place (same values: harmless).
                last_sent[0] = time.monotonic()
                for topic, payload in messages:
                    pub.publish(topic, payload)
            return done

        wait_for(all_stored, "readings of every third-party device in the store")
        assert latest("cold-fridge", "temperature") == 3.1
        assert latest("cold-freezer", "temperature") == -19.4
        assert latest("store-door", "contact") == contract.state_value("contact", "open")
        assert latest("store-door", "battery_pct") == 97.0
        assert latest("kitchen-power", "energy_wh") == 52311.4, "switch:0 belongs to no device here"
        assert latest("esp-freezer", "temperature") == -18.6
        assert latest("boiler", "temperature") == 61.5
        assert gw.dead_letters.counts() == {}, "nothing in these messages is bad"
    finally:
        gw.stop()
        pub.stop()
