"""Config problems an installer actually makes: each one named on its own line, in config words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.cli import main
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
        'houqin.toml: sensors[0].type: missing; add type = "..." (see docs/configuration.md)',
        'houqin.toml: sensors[1].type = "pulsee": must be one of "ds18b20", "pulse", "contact", '
        '"button", "relay", "buzzer", "led", "card_reader"',
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
    assert any("rule 'warm'" in p and '"nobody"' in p for p in got)
    assert any("[reports.samples] notify = 'kitchen'" in p for p in got)
    assert any("sensors[0]" in p and "is a fridge" in p for p in got)
    assert not any("litres_per_pulse" in p for p in got), "no meter factor asked of a fridge"
    assert any("sensors[1]" in p and "'no-such-gate' is not in [[devices]]" in p for p in got)
    assert all(p.startswith("houqin.toml: ") and "(top level)" not in p and "\n" not in p for p in got)


def test_tls_files_must_exist_and_need_mqtts(tmp_path: Path) -> None:
    got = problems(site(mqtt={"url": "mqtts://broker.local", "ca_file": str(tmp_path / "nope.pem")}))
    assert got == [f'houqin.toml: mqtt.ca_file = "{tmp_path / "nope.pem"}": no such file; give the path of a PEM file']
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    # certificates with a plain mqtt:// URL used to be ignored silently: the link ran unencrypted
    (got,) = problems(site(mqtt={"url": "mqtt://broker.local", "ca_file": str(ca)}))
    assert got.startswith("houqin.toml: mqtt: ca_file given but url is not mqtts://")
    assert parse_config(site(mqtt={"url": "mqtts://broker.local", "ca_file": str(ca)})).mqtt.ca_file == str(ca)


def test_run_with_tls_files_the_link_cannot_load_says_so_without_a_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
    cfg = tmp_path / "houqin.toml"
    cfg.write_text(f'[site]\nid = "kg"\n[mqtt]\nurl = "mqtts://127.0.0.1:1"\nca_file = "{ca}"\n'
                   f'[storage]\ndir = "{tmp_path / "data"}"\n', encoding="utf-8")
    assert main(["--lang", "en", "run", "--config", str(cfg)]) == 1
    err = capsys.readouterr().err
    assert "cannot start" in err and "[mqtt] ca_file" in err and "Traceback" not in err


def test_a_problem_in_a_long_list_names_the_entry_by_its_id() -> None:
    devices = [{"id": f"fridge-{i}", "kind": "fridge"} for i in range(12)]
    devices[9]["kind"] = "fridgee"
    (got,) = problems(site(devices=devices))
    assert got.startswith('houqin.toml: devices[9].kind = "fridgee": must be one of "fridge", ')
    assert got.endswith("(in the [[devices]] entry with id = 'fridge-9')")
    (got,) = problems(site(devices=[{"id": "Bad Id", "kind": "fridge"}]))
    assert "entry with id" not in got  # the bad id itself is the key named


ALL_AT_ONCE = """\
[site]
id = "kg"

[mqtt]
url = "mqtt://127.0.0.1"
keepalive = "30"

[[devices]]
id = "kitchen-fridge"
kind = "fridge"

[[devices]]
id = "kitchen-fridge"
kind = "fridge"

[[rules]]
id = "fridge-warm"
kind = "threshold"
devices = ["kitchen-frige*"]
above = "8"
severity = "urgent"
notify = "kitchn"

[notify.channels.group]
type = "webhook"
format = "generic"
url = "http://127.0.0.1:9/hook"

[notify.chains.kitchen]
steps = [{ channels = ["group"] }]
"""


def test_check_config_lists_type_errors_and_references_in_one_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # It took four runs: the references came only once every type error was fixed.
    path = tmp_path / "houqin.toml"
    path.write_text(ALL_AT_ONCE, encoding="utf-8")
    assert main(["--lang", "en", "check-config", str(path)]) == 1
    err = capsys.readouterr().err
    lines = [line.removeprefix("  - ") for line in err.splitlines() if line.startswith("  - ")]
    assert all(line.startswith(f"{path}: ") for line in lines)
    body = "\n".join(line.removeprefix(f"{path}: ") for line in lines)
    assert 'mqtt.keepalive = "30": must be a whole number written without quotes: keepalive = 30' in body
    assert 'rules[0].threshold.above = "8": must be a number written without quotes: above = 8' in body
    assert ('rules[0].threshold.severity = "urgent": must be one of "critical", "major", "minor" or "warning"'
            in body)
    assert 'devices[1].id = "kitchen-fridge": used twice' in body
    assert 'rules[0].notify = "kitchn" (rule \'fridge-warm\'): names no chain' in body and "one of: kitchen" in body
    assert 'rules[0].devices entry "kitchen-frige*"' in body and "(configured: kitchen-fridge)" in body
    assert "None" not in body and len(lines) == 6


@pytest.mark.parametrize(("section", "value", "expected"), [
    ({"mqtt": {"keepalive": "30"}}, None, 'mqtt.keepalive = "30": must be a whole number written without quotes'),
    ({"mqtt": {"keepalive": 30.5}}, None, "mqtt.keepalive = 30.5: must be a whole number"),
    ({"homeassistant": {"discovery": "yes"}}, None, 'homeassistant.discovery = "yes": must be true or false'),
    ({"rules": [{"id": "r", "kind": "threshold", "devices": ["*"], "above": "8"}]}, None,
     'rules[0].threshold.above = "8": must be a number written without quotes: above = 8'),
])
def test_numbers_and_booleans_in_quotes_are_refused(section: dict[str, Any], value: Any, expected: str) -> None:
    got = problems(site(devices=[{"id": "f", "kind": "fridge"}], **section))
    assert any(expected in p for p in got), got
