"""Per-format device options in the config, and the topics each decoder subscribes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.config import DeviceSettings, parse_config
from gateway.decoders import esphome, plain, shelly, tasmota, zigbee2mqtt
from gateway.errors import ConfigError


def _config(**device: Any) -> dict[str, Any]:
    return {"site": {"id": "kg"}, "devices": [{"id": "d1", "kind": "thermometer", **device}]}


def _dev(**kw: Any) -> DeviceSettings:
    return DeviceSettings.model_validate({"id": "d1", "kind": "thermometer", **kw})


def test_plain_without_metric_is_refused_with_the_fix() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(_config(format="plain", topic="boiler/temp"), "houqin.toml")
    text = str(err.value)
    assert "houqin.toml" in text and "metric = \"temperature\"" in text


def test_unknown_metric_is_refused_listing_the_metrics() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(_config(format="plain", topic="boiler/temp", metric="temp"), "houqin.toml")
    text = str(err.value)
    assert 'devices[0].metric = "temp"' in text and "humidity_pct" in text


def test_entity_mapped_to_unknown_metric_is_refused() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(_config(format="esphome", topic="esp-x", entities={"probe": {"metric": "kwh"}}))
    assert "entity 'probe' maps to 'kwh'" in str(err.value)


def test_entity_scale_must_be_positive() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(_config(format="esphome", topic="esp-x", entities={"e": {"metric": "energy_wh", "scale": 0}}))
    assert "scale" in str(err.value)


@pytest.mark.parametrize(
    ("module", "settings", "expected"),
    [
        (tasmota, {"topic": "kitchen-fridge"}, ["tele/kitchen-fridge/SENSOR", "tele/kitchen-fridge/LWT"]),
        (tasmota, {"topic": "tele/kitchen-fridge/SENSOR"}, ["tele/kitchen-fridge/SENSOR", "tele/kitchen-fridge/LWT"]),
        (tasmota, {"topic": "school/kitchen/tele/SENSOR"}, ["school/kitchen/tele/SENSOR", "school/kitchen/tele/LWT"]),
        (zigbee2mqtt, {"topic": "zigbee2mqtt/door"}, ["zigbee2mqtt/door", "zigbee2mqtt/door/availability"]),
        (shelly, {"topic": "shellyplus1pm-a8"},
         ["shellyplus1pm-a8/status/+", "shellyplus1pm-a8/events/rpc", "shellyplus1pm-a8/online"]),
        (shelly, {"topic": "shellyplus1pm-a8/status/switch:0"},
         ["shellyplus1pm-a8/status/+", "shellyplus1pm-a8/events/rpc", "shellyplus1pm-a8/online"]),
        (shelly, {"topic": "shellies/shellyht-1"},
         ["shellies/shellyht-1/relay/+/power", "shellies/shellyht-1/relay/+/energy", "shellies/shellyht-1/emeter/+/+",
          "shellies/shellyht-1/sensor/+", "shellies/shellyht-1/online"]),
        (esphome, {"topic": "esp-freezer"},
         ["esp-freezer/sensor/+/state", "esp-freezer/binary_sensor/+/state", "esp-freezer/status"]),
        (esphome, {"topic": "esp-freezer/sensor/t/state"}, ["esp-freezer/sensor/t/state", "esp-freezer/status"]),
        (plain, {"topic": "boiler/temp", "metric": "temperature"}, ["boiler/temp"]),
    ],
)
def test_topics(module: Any, settings: dict[str, Any], expected: list[str]) -> None:
    device = _dev(format=module.FORMAT, **settings)
    assert module.topics(device, "kg") == expected


def test_two_probes_sharing_a_topic_each_get_only_their_reading() -> None:
    payload = (b'{"DS18B20-1":{"Id":"000008BD38BF","Temperature":3.1},'
               b'"DS18B20-2":{"Id":"000008BD9714","Temperature":-19.4},"TempUnit":"C"}')
    fridge = _dev(id="fridge", format="tasmota", topic="tele/coldroom/SENSOR", probe="000008BD38BF")
    freezer = _dev(id="freezer", format="tasmota", topic="tele/coldroom/SENSOR", probe="000008BD9714")
    a = tasmota.decode(fridge, "tele/coldroom/SENSOR", payload, 1.0e9)
    b = tasmota.decode(freezer, "tele/coldroom/SENSOR", payload, 1.0e9)
    assert [(r.device, r.value) for r in a.readings] == [("fridge", 3.1)]
    assert [(r.device, r.value) for r in b.readings] == [("freezer", -19.4)]


def test_device_clock_far_off_is_replaced_by_now() -> None:
    device = _dev(format="shelly", topic="shellyhtg3-office")
    now = 1795138260.0
    for ts, expected in ((1795138250.5, 1795138250.5), (946684800.0, now), (now + 3600, now)):
        body = json.dumps({"method": "NotifyStatus", "params": {"ts": ts, "temperature:0": {"tC": 19.8}}}).encode()
        decoded = shelly.decode(device, "shellyhtg3-office/events/rpc", body, now)
        assert [r.ts for r in decoded.readings] == [expected]


def test_switch_temperature_is_never_a_room_temperature() -> None:
    device = _dev(format="shelly", topic="shellyplus1pm-a8", kind="fridge")
    body = b'{"id":0,"output":true,"temperature":{"tC":48.1,"tF":118.6}}'
    decoded = shelly.decode(device, "shellyplus1pm-a8/status/switch:0", body, 1.0e9)
    assert decoded.readings == []
