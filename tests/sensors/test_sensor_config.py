from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import load_config
from gateway.errors import ConfigError
from sensors.config import PulseSettings, parse_pin
from tests.sensors.helpers import make_config

DEVICES = [
    {"id": "fridge", "kind": "fridge"},
    {"id": "water", "kind": "water_meter", "litres_per_pulse": 1.0},
    {"id": "power", "kind": "power_meter"},
    {"id": "gate", "kind": "gate"},
]


def test_pins_in_every_form() -> None:
    assert parse_pin(17) == 17
    assert parse_pin("GPIO17") == 17
    assert parse_pin("board11") == 17
    for bad in (40, "BOARD1", "pin seven", True):
        with pytest.raises(ValueError):
            parse_pin(bad)


def test_valid_sensors_parse() -> None:
    cfg = make_config(
        [
            {"type": "ds18b20", "probes": {"28-0316a2799bff": "fridge"}, "interval": "1m"},
            {"type": "pulse", "device": "water", "pin": 17, "meter": "water"},
            {"type": "pulse", "device": "power", "pin": "GPIO27", "meter": "electricity", "wh_per_pulse": 1},
            {"type": "contact", "device": "gate", "pin": 22},
            {"type": "button", "device": "gate", "pin": 23},
            {"type": "relay", "device": "gate", "pin": 24},
            {"type": "buzzer", "device": "gate", "pin": 25},
            {"type": "card_reader", "device": "gate", "reader": "keyboard", "path": "/dev/input/event0"},
        ],
        DEVICES,
    )
    assert len(cfg.sensors) == 8
    assert cfg.sensors[0].interval == 60.0  # type: ignore[union-attr]
    water = cfg.sensors[1]
    assert isinstance(water, PulseSettings) and water.bounce_s == 0.025
    power = cfg.sensors[2]
    assert isinstance(power, PulseSettings) and power.pin == 27 and power.bounce_s == 0.010


def test_every_problem_named(tmp_path: Path) -> None:
    f = tmp_path / "houqin.toml"
    f.write_text("""
[site]
id = "kg"
[[devices]]
id = "water"
kind = "water_meter"
[[devices]]
id = "gate"
kind = "gate"
[[sensors]]
type = "pulse"
device = "water"
pin = 17
meter = "water"
[[sensors]]
type = "contact"
device = "gate"
pin = "BOARD11"
[[sensors]]
type = "button"
device = "back-door"
pin = 5
[[sensors]]
type = "ds18b20"
probes = {"28-0316a2799bff" = "gate"}
""")
    with pytest.raises(ConfigError) as e:
        load_config(f)
    text = str(e.value)
    assert "needs litres_per_pulse" in text
    assert "pin GPIO17 is already used by sensors[0]" in text
    assert "'back-door' is not in [[devices]]" in text
    assert "a ds18b20 sensor can feed only" in text


def test_bad_entries_named() -> None:
    with pytest.raises(ConfigError) as e:
        make_config([{"type": "ds18b20", "probes": {"28-xyz": "fridge"}},
                     {"type": "pulse", "device": "water", "pin": 99, "meter": "water"},
                     {"type": "laser", "device": "gate"}], DEVICES)
    text = str(e.value)
    assert "not a DS18B20 1-Wire id" in text
    assert "GPIO99 does not exist" in text
    assert "sensors[2]" in text


def test_one_wire_pin_clash_and_shared_bus() -> None:
    make_config([{"type": "ds18b20", "probes": {"28-0316a2799bff": "fridge"}},
                 {"type": "ds18b20", "probes": {"28-0316a2799bfe": "fridge2"}}],
                [*DEVICES, {"id": "fridge2", "kind": "freezer"}])
    with pytest.raises(ConfigError, match="GPIO4 is already used"):
        make_config([{"type": "ds18b20", "probes": {"28-0316a2799bff": "fridge"}},
                     {"type": "contact", "device": "gate", "pin": 4}], DEVICES)
