"""Home Assistant discovery: configs built from the config, published retained through a real Mosquitto."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway import contract
from gateway.app import build_gateway
from gateway.config import Config, parse_config
from gateway.errors import ConfigError
from gateway.homeassistant import ALERT_TEMPLATE, HomeAssistantDiscovery, discovery_messages
from gateway.model import Availability, CommittedBatch, Reading
from gateway.mqtt_link import InboundMessage, LinkSettings, MqttLink
from tests.mosquitto import Mosquitto
from tests.waiting import COMMIT_WINDOW, wait_for

SITE = "kg"


def _config(tmp_path: Path, url: str = "mqtt://127.0.0.1:1", rules: bool = False) -> Config:
    raw: dict[str, Any] = {
        "site": {"id": SITE},
        "mqtt": {"url": url, "client_id": "houqin-ha-test-gw"},
        "storage": {"dir": str(tmp_path / "data"), "commit_interval": COMMIT_WINDOW},
        "homeassistant": {"discovery": True},
        "devices": [
            {"id": "kitchen-fridge", "kind": "fridge", "name": "厨房冰箱", "format": "tasmota",
             "topic": "tele/kitchen-fridge/SENSOR", "location": "厨房"},
            {"id": "store-door", "kind": "door", "format": "zigbee2mqtt", "topic": "zigbee2mqtt/store-door"},
            {"id": "main-power", "kind": "power_meter", "format": "shelly", "topic": "shellypro3em-main"},
            {"id": "sink-leak", "kind": "leak", "format": "esphome", "topic": "esp-kitchen"},
            {"id": "reader", "kind": "card_reader"},
        ],
    }
    if rules:
        raw["rules"] = [{"id": "fridge-warm", "kind": "threshold", "devices": ["kitchen-*"], "above": 8,
                         "for": "10m", "name": "冰箱温度过高", "severity": "critical"}]
    return parse_config(raw)


def _by_topic(messages: list[tuple[str, bytes, bool]]) -> dict[str, dict[str, Any]]:
    return {t: json.loads(p) for t, p, _ in messages}


def test_discovery_configs_for_readings_and_alerts(tmp_path: Path) -> None:
    messages = discovery_messages(_config(tmp_path))
    assert all(retain for _, _, retain in messages)
    configs = _by_topic(messages)
    fridge = configs["homeassistant/sensor/houqin_kg/kitchen-fridge_temperature/config"]
    assert fridge["device_class"] == "temperature" and fridge["unit_of_measurement"] == "°C"
    assert fridge["state_class"] == "measurement"
    assert fridge["state_topic"] == contract.mirror_topic(SITE, "kitchen-fridge", "state")
    assert fridge["value_template"] == "{{ value_json.temperature }}"
    assert [a["topic"] for a in fridge["availability"]] == [
        contract.gateway_availability_topic(SITE), contract.mirror_topic(SITE, "kitchen-fridge", "availability")]
    assert fridge["availability_mode"] == "all"
    assert fridge["device"]["name"] == "厨房冰箱" and fridge["device"]["suggested_area"] == "厨房"
    assert fridge["unique_id"] == "houqin_kg_kitchen-fridge_temperature"

    energy = configs["homeassistant/sensor/houqin_kg/main-power_energy_wh/config"]
    assert (energy["device_class"], energy["unit_of_measurement"], energy["state_class"]) == (
        "energy", "Wh", "total_increasing")
    door = configs["homeassistant/binary_sensor/houqin_kg/store-door_contact/config"]
    assert (door["device_class"], door["payload_on"], door["payload_off"]) == ("door", "open", "closed")
    battery = configs["homeassistant/sensor/houqin_kg/store-door_battery_pct/config"]
    assert battery["entity_category"] == "diagnostic"
    leak = configs["homeassistant/binary_sensor/houqin_kg/sink-leak_water_leak/config"]
    assert (leak["device_class"], leak["payload_on"]) == ("moisture", "leak")
    assert not any("reader" in t for t in configs), "a card reader has no readings to show"
    assert len({c["unique_id"] for c in configs.values()}) == len(configs)


def test_discovery_configs_for_alert_states(tmp_path: Path) -> None:
    configs = _by_topic(discovery_messages(_config(tmp_path, rules=True)))
    alert = configs["homeassistant/binary_sensor/houqin_kg/kitchen-fridge_alert_fridge-warm/config"]
    assert alert["state_topic"] == contract.alerts_topic(SITE, "fridge-warm", "kitchen-fridge")
    assert alert["device_class"] == "problem" and alert["name"] == "冰箱温度过高"
    assert alert["value_template"] == ALERT_TEMPLATE
    assert alert["availability"] == [{"topic": contract.gateway_availability_topic(SITE)}]
    alerts = [t for t in configs if "_alert_" in t]
    assert alerts == ["homeassistant/binary_sensor/houqin_kg/kitchen-fridge_alert_fridge-warm/config"]
    assert len({c["unique_id"] for c in configs.values()}) == len(configs)


def test_alert_template_reads_the_alert_channel_payloads() -> None:
    import jinja2
    template = jinja2.Environment().from_string(ALERT_TEMPLATE)

    def render(payload: str) -> str:
        values: dict[str, Any] = {"value": payload}
        if payload:
            values["value_json"] = json.loads(payload)
        return str(template.render(**values))

    assert render('{"id":1,"state":"active","rule":"fridge-warm"}') == "ON"
    assert render('{"id":1,"state":"acknowledged"}') == "ON"
    assert render('{"id":1,"state":"cleared"}') == "OFF"
    assert render("") == "OFF"


def test_prefix_is_validated(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"site": {"id": SITE}, "homeassistant": {"discovery": True, "prefix": "ha/#"}})
    assert "homeassistant.prefix" in str(err.value)


class Collector:
    """A real MQTT subscriber that records the retained/live messages it receives."""

    def __init__(self, broker: Mosquitto, topic_filter: str, name: str) -> None:
        self.messages: dict[str, bytes] = {}
        self.lock = threading.Lock()
        self.link = MqttLink(LinkSettings("127.0.0.1", broker.port, name, persistent=False, manual_ack=False),
                             on_message=self._on, subscriptions=[topic_filter])

    def _on(self, msg: InboundMessage) -> None:
        with self.lock:
            self.messages[msg.topic] = msg.payload

    def get(self, topic: str) -> bytes | None:
        with self.lock:
            return self.messages.get(topic)



@pytest.fixture
def publisher(mosquitto: Mosquitto) -> Iterator[MqttLink]:
    link = MqttLink(LinkSettings("127.0.0.1", mosquitto.port, "houqin-ha-test-pub", persistent=False,
                                 manual_ack=False, reconnect_max_s=2))
    link.start()
    assert link.wait_connected(10)
    yield link
    link.stop()


def test_component_publishes_retained_configs_and_mirrors_readings(
        tmp_path: Path, mosquitto: Mosquitto, publisher: MqttLink) -> None:
    config = _config(tmp_path, mosquitto.url, rules="rules" in Config.model_fields)
    expected = {t: p for t, p, _ in discovery_messages(config)}
    component = HomeAssistantDiscovery(config, publisher, poll_s=0.05)
    component.start()
    try:
        wait_for(lambda: component.published >= len(expected), "discovery published")
        component.on_batch(CommittedBatch(
            readings=(Reading(1795138260.0, "kitchen-fridge", "temperature", 4.3),
                      Reading(1795138260.0, "store-door", "contact", 1.0),
                      Reading(1795138260.0, "store-door", "battery_pct", 97.0),
                      Reading(1795138260.0, "store-door", "humidity_pct", 40.0)),
            availability=(Availability(1795138261.0, "main-power", False),),
        ))
        # A subscriber arriving later gets everything retained.
        late = Collector(mosquitto, "#", "houqin-ha-test-late")
        late.link.start()
        try:
            wait_for(lambda: all(late.get(t) == p for t, p in expected.items()), "retained discovery configs")
            fridge_state = contract.mirror_topic(SITE, "kitchen-fridge", "state")
            door_state = contract.mirror_topic(SITE, "store-door", "state")
            wait_for(lambda: late.get(fridge_state) is not None and late.get(door_state) is not None, "states")
            assert json.loads(late.get(fridge_state) or b"") == {"temperature": 4.3, "ts": 1795138260.0}
            door = json.loads(late.get(door_state) or b"")
            assert door["contact"] == "open" and door["battery_pct"] == 97.0
            assert late.get(contract.mirror_topic(SITE, "kitchen-fridge", "availability")) == b"online"
            wait_for(lambda: late.get(contract.mirror_topic(SITE, "main-power", "availability")) == b"offline",
                     "offline mirrored")
            learned = "homeassistant/sensor/houqin_kg/store-door_humidity_pct/config"
            assert json.loads(late.get(learned) or b"")["device_class"] == "humidity", "metric seen at run time"
        finally:
            late.link.stop()
    finally:
        component.stop()


def test_configs_are_published_again_after_the_broker_restarts(
        tmp_path: Path, mosquitto: Mosquitto, publisher: MqttLink) -> None:
    config = _config(tmp_path, mosquitto.url)
    component = HomeAssistantDiscovery(config, publisher, poll_s=0.05)
    component.start()
    try:
        wait_for(lambda: component.published > 0, "first discovery")
        topic = "homeassistant/sensor/houqin_kg/kitchen-fridge_temperature/config"
        # Somebody deletes a retained config (or the broker lost its store), then the broker restarts.
        assert publisher.publish(topic, b"", retain=True, wait=5)
        first = component.published
        mosquitto.stop()
        mosquitto.start()
        wait_for(lambda: component.published > first, "discovery republished after reconnect", timeout=30)
        late = Collector(mosquitto, "homeassistant/#", "houqin-ha-test-late2")
        late.link.start()
        try:
            wait_for(lambda: bool(late.get(topic)), "the deleted config is back")
        finally:
            late.link.stop()
    finally:
        component.stop()


def test_gateway_with_discovery_mirrors_a_tasmota_reading(tmp_path: Path, mosquitto: Mosquitto,
                                                          publisher: MqttLink) -> None:
    config = _config(tmp_path, mosquitto.url)
    watcher = Collector(mosquitto, "#", "houqin-ha-test-watch")
    watcher.link.start()
    gw = build_gateway(config)
    gw.start()
    try:
        assert gw.link.wait_connected(10)
        wait_for(lambda: watcher.get("homeassistant/sensor/houqin_kg/kitchen-fridge_temperature/config")
                 is not None, "discovery through the gateway's link")
        state = contract.mirror_topic(SITE, "kitchen-fridge", "state")

        def mirrored() -> bool:
            # Re-publish until the gateway's subscription is in place; retained state shows the value.
            publisher.publish("tele/kitchen-fridge/SENSOR",
                              b'{"Time":"2026-11-20T08:00:00","DS18B20":{"Temperature":39.2},"TempUnit":"F"}')
            raw = watcher.get(state)
            return raw is not None and json.loads(raw).get("temperature") is not None

        wait_for(mirrored, "the Tasmota reading mirrored for Home Assistant")
        assert json.loads(watcher.get(state) or b"")["temperature"] == pytest.approx(4.0)
    finally:
        gw.stop()
        watcher.link.stop()
