from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import load_config, parse_config
from gateway.errors import ConfigError

GOOD = """
[site]
id = "sunshine-kg"
name = "阳光幼儿园"

[mqtt]
url = "mqtts://gw:s%40cret@broker.local"

[storage]
dir = "/tmp/houqin-test"

[[devices]]
id = "kitchen-fridge"
kind = "fridge"
name = "厨房冰箱"

[[devices]]
id = "coldroom-probe-1"
kind = "cold_room"
format = "tasmota"
topic = "tele/coldroom/SENSOR"
"""


def test_good_config_loads_with_defaults(tmp_path: Path) -> None:
    f = tmp_path / "houqin.toml"
    f.write_text(GOOD, encoding="utf-8")
    cfg = load_config(f)
    assert cfg.site.timezone == "Asia/Shanghai"
    assert cfg.client_id == "houqin-gateway-sunshine-kg"
    addr = cfg.mqtt.address()
    got = (addr.host, addr.port, addr.tls, addr.username, addr.password)
    assert got == ("broker.local", 8883, True, "gw", "s@cret")
    assert cfg.device("kitchen-fridge") is not None
    assert cfg.device("kitchen-fridge").area == "cold_storage"  # type: ignore[union-attr]
    assert cfg.device("nope") is None


def test_every_problem_is_reported_at_once_naming_file_key_and_value() -> None:
    raw = {
        "site": {"id": "Bad Id", "timezone": "Mars/Base"},
        "mqtt": {"url": "http://broker"},
        "devices": [{"id": "a", "kind": "fridgee"}, {"id": "b", "kind": "fridge", "format": "tasmota"}],
        "colour": "blue",
    }
    with pytest.raises(ConfigError) as exc:
        parse_config(raw, "site.toml")
    problems = exc.value.problems
    text = "\n".join(problems)
    assert len(problems) == 6
    assert all(p.startswith("site.toml: ") for p in problems)
    assert 'site.id = "Bad Id"' in text
    assert 'site.timezone = "Mars/Base"' in text
    assert 'mqtt.url = "http://broker"' in text
    assert 'devices[0].kind = "fridgee": must be one of "fridge", "freezer"' in text
    assert "devices[1]" in text and "topic" in text
    assert "colour: unknown key" in text


def test_duplicate_device_ids_are_refused() -> None:
    raw = {"site": {"id": "kg"}, "devices": [{"id": "x", "kind": "door"}, {"id": "x", "kind": "gate"}]}
    with pytest.raises(ConfigError, match="used twice"):
        parse_config(raw)


def test_missing_file_and_bad_toml_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "absent.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[site\nid = 1", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


def test_check_config_cli_prints_every_problem_and_exits_nonzero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "houqin.toml"
    f.write_text('[site]\nid = "OK!"\n[[devices]]\nid = "d"\nkind = "toaster"\n', encoding="utf-8")
    assert main(["--lang", "en", "check-config", str(f)]) == 1
    err = capsys.readouterr().err
    assert "2 problem(s)" in err
    assert "site.id" in err and 'devices[0].kind = "toaster"' in err
    good = tmp_path / "good.toml"
    good.write_text(GOOD, encoding="utf-8")
    assert main(["--lang", "en", "check-config", "--config", str(good)]) == 0
    out = capsys.readouterr().out
    assert "2 device(s)" in out and "s@cret" not in out and "s%40cret" not in out
