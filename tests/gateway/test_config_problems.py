"""Config problems an installer actually makes: each one named on its own line, in config words."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.config import parse_config
from gateway.errors import ConfigError


def problems(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as err:
        parse_config(raw, "houqin.toml")
    return err.value.problems


def site(**more: Any) -> dict[str, Any]:
    return {"site": {"id": "kg"}, **more}


@pytest.mark.parametrize("topic", ["zigbee2mqtt/#", "tele/+/SENSOR", "t/#/x", "", " tele/x/SENSOR"])
def test_a_device_topic_the_broker_would_refuse_is_a_config_error(topic: str) -> None:
    # such a topic used to pass check-config and then break every subscription at connect
    got = problems(site(devices=[{"id": "a", "kind": "fridge", "format": "tasmota", "topic": topic}]))
    assert len(got) == 1 and got[0].startswith("houqin.toml: devices[0].topic")
    assert "exact MQTT topic" in got[0] or "not empty" in got[0]


def test_a_sensor_without_or_with_a_wrong_type_says_which_key() -> None:
    got = problems(site(sensors=[{"pin": 17}, {"type": "pulsee", "pin": 18}]))
    assert got == [
        'houqin.toml: sensors[0].type: missing; add type = "..." (see the config reference in README.md)',
        "houqin.toml: sensors[1].type = 'pulsee': not allowed; use one of 'ds18b20', 'pulse', 'contact', "
        "'button', 'relay', 'buzzer', 'led', 'card_reader'",
    ]
    assert not any("discriminator" in p or "tag" in p for p in got)


def test_problems_across_sections_are_all_listed_each_on_its_own() -> None:
    raw = site(
        devices=[{"id": "fridge", "kind": "fridge"}],
        sensors=[{"type": "pulse", "device": "fridge", "pin": 17, "meter": "water"},
                 {"type": "contact", "device": "no-such-gate", "pin": 22}],
        rules=[{"id": "warm", "kind": "threshold", "devices": ["fridge"], "above": 8.0, "notify": "nobody"}],
        reports={"samples": {"notify": "kitchen"}},
    )
    got = problems(raw)
    assert any("rule 'warm'" in p and "'nobody'" in p for p in got)
    assert any("[reports.samples] notify = 'kitchen'" in p for p in got)
    assert any("sensors[0]" in p and "is a fridge" in p for p in got)
    assert not any("litres_per_pulse" in p for p in got), "no meter factor asked of a fridge"
    assert any("sensors[1]" in p and "'no-such-gate' is not in [[devices]]" in p for p in got)
    assert all(p.startswith("houqin.toml: ") and "(top level)" not in p and "\n" not in p for p in got)
