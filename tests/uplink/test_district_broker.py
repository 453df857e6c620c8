"""`houqin district mqtt-setup` against a real Mosquitto run from its files: each site only under its own prefix."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.cli import main
from tests.mosquitto_setup.broker import connect
from tests.uplink.central import CentralBroker


@pytest.fixture
def central(tmp_path: Path) -> Iterator[CentralBroker]:
    c = CentralBroker(tmp_path, ["sun-kg", "moon-kg"])
    c.start()
    yield c
    c.stop()


def test_a_site_publishes_under_its_own_prefix_only(central: CentralBroker) -> None:
    reader = central.credentials["reader"]
    with connect(central.port, reader["username"], reader["password"]) as watcher:
        assert watcher.rc == 0
        watcher.subscribe("houqin/#")
        user, pw = central.login("sun-kg")
        with connect(central.tls_port, user, pw, ca=central.ca) as sun:
            assert sun.rc == 0, "the site's login over TLS with the district's CA is accepted"
            sun.publish("houqin/moon-kg/uplink/alerts", b"forged")  # another site's prefix: dropped
            sun.publish("houqin/sun-kg/uplink/alerts", b"mine")
            got = watcher.next(5)
            assert got == ("houqin/sun-kg/uplink/alerts", b"mine")
            assert watcher.next(1) is None  # the forged one never arrived
            sun.subscribe("houqin/#")
            assert sun.next(1) is None, "a site reads nothing of the others"


def test_anonymous_plain_and_wrong_passwords_are_refused(central: CentralBroker) -> None:
    with connect(central.tls_port, ca=central.ca) as anon:
        assert anon.rc != 0
    user, _ = central.login("sun-kg")
    with connect(central.tls_port, user, "wrong", ca=central.ca) as bad:
        assert bad.rc != 0
    moon_user, moon_pw = central.login("moon-kg")
    with connect(central.tls_port, user, moon_pw, ca=central.ca) as swapped:
        assert swapped.rc != 0, "one site's password does not open another site's login"
    assert moon_user != user


def test_rerun_keeps_passwords_and_files(central: CentralBroker, tmp_path: Path) -> None:
    before = {p.name: p.read_bytes() for p in central.dir.iterdir()}
    rc = main(["district", "mqtt-setup", "--config", str(central.toml), "--dir", str(central.dir), "--host",
               "127.0.0.1", "--port", str(central.port), "--tls-port", str(central.tls_port),
               "--pid-file", str(tmp_path / "none.pid")])
    assert rc == 0
    assert {p.name: p.read_bytes() for p in central.dir.iterdir()} == before
    assert stat.S_IMODE((central.dir / "credentials.json").stat().st_mode) == 0o600
    acl = (central.dir / "acl").read_text()
    assert "user site-sun-kg\ntopic write houqin/sun-kg/#\n" in acl


def test_a_bad_district_toml_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    toml = tmp_path / "district.toml"
    toml.write_text('name = "x"\n[[sites]]\nid = "Bad Id"\n', encoding="utf-8")
    assert main(["district", "mqtt-setup", "--config", str(toml), "--dir", str(tmp_path / "d")]) == 1
    assert "sites.0.id" in capsys.readouterr().err
