"""`houqin mqtt setup` against a real Mosquitto started from the files it wrote (ports moved to free ones)."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.cli import main
from tests.mosquitto_setup.broker import SiteBroker, connect, free_port, logins

CONFIG = """
[site]
id = "kg"
[mqtt]
url = "mqtt://127.0.0.1:1883"
[[devices]]
id = "fridge-1"
kind = "fridge"
[[devices]]
id = "gate-relay"
kind = "relay"
[[devices]]
id = "esp-freezer"
kind = "freezer"
[[devices]]
id = "tas-fridge"
kind = "fridge"
format = "tasmota"
topic = "tele/tas-fridge/SENSOR"
[[devices]]
id = "zb-door"
kind = "door"
format = "zigbee2mqtt"
topic = "zigbee2mqtt/door"
[[devices]]
id = "zb-leak"
kind = "leak"
format = "zigbee2mqtt"
topic = "zigbee2mqtt/leak"
[[sensors]]
type = "ds18b20"
probes = { "28-0316a2799bff" = "fridge-1" }
[[sensors]]
type = "relay"
device = "gate-relay"
pin = 17
"""


class Site:
    """The generated folder, the running broker and its ports."""

    def __init__(self, tmp: Path) -> None:
        self.config = tmp / "houqin.toml"
        self.config.write_text(CONFIG, encoding="utf-8")
        self.dir = tmp / "broker-files"
        self.port, self.tls_port = free_port(), free_port()
        self.broker = SiteBroker(tmp, self.dir)

    def setup(self, *extra: str) -> int:
        return main(["mqtt", "setup", "--config", str(self.config), "--dir", str(self.dir), "--port", str(self.port),
                     "--tls-port", str(self.tls_port), "--host", "localhost", "--host", "127.0.0.1",
                     "--pid-file", str(self.broker.pid_file), *extra])

    def login(self, who: str) -> tuple[str, str]:
        entry = logins(self.dir)[who]
        return entry["username"], entry["password"]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    s = Site(tmp_path)
    assert s.setup() == 0
    s.broker.start(s.port)
    yield s
    s.broker.stop()


def test_anonymous_and_wrong_passwords_are_refused(site: Site) -> None:
    with connect(site.port) as anonymous:
        assert anonymous.rc != 0
    user, _ = site.login("gateway")
    with connect(site.port, user, "not-the-password") as wrong:
        assert wrong.rc != 0
    with connect(site.port, *site.login("gateway")) as gateway:
        assert gateway.rc == 0


def test_a_device_writes_only_its_own_topics_and_only_the_gateway_commands(site: Site) -> None:
    with connect(site.port, *site.login("gateway")) as gateway, \
            connect(site.port, *site.login("esp-freezer")) as freezer, \
            connect(site.port, *site.login("local")) as agent:
        assert gateway.rc == freezer.rc == agent.rc == 0
        gateway.subscribe("houqin/kg/+/state")
        agent.subscribe("houqin/kg/gate-relay/set")
        # Another device's readings and a gate command from a device go nowhere ...
        freezer.publish("houqin/kg/fridge-1/state", b'{"temperature": 30}')
        freezer.publish("houqin/kg/gate-relay/set", b'{"relay": "pulse"}')
        # ... its own reading arrives (and, after it, nothing else was delivered first).
        freezer.publish("houqin/kg/esp-freezer/state", b'{"temperature": -18}')
        assert gateway.next() == ("houqin/kg/esp-freezer/state", b'{"temperature": -18}')
        assert agent.next(timeout=0.5) is None
        # The gateway's command reaches the relay's agent.
        gateway.publish("houqin/kg/gate-relay/set", b'{"relay": "pulse"}')
        assert agent.next() == ("houqin/kg/gate-relay/set", b'{"relay": "pulse"}')
        # The agent may speak for its own devices, not for others.
        agent.publish("houqin/kg/esp-freezer/state", b'{"temperature": 9}')
        agent.publish("houqin/kg/fridge-1/state", b'{"temperature": 4}')
        assert gateway.next() == ("houqin/kg/fridge-1/state", b'{"temperature": 4}')


def test_a_bridge_shares_one_login_and_stays_in_its_namespace(site: Site) -> None:
    assert site.login("zb-door") == site.login("zb-leak")
    with connect(site.port, *site.login("gateway")) as gateway, \
            connect(site.port, *site.login("zb-door")) as bridge:
        gateway.subscribe("#")
        bridge.publish("houqin/kg/fridge-1/state", b'{"temperature": 30}')
        bridge.publish("tele/tas-fridge/SENSOR", b"{}")
        bridge.publish("zigbee2mqtt/leak", b'{"water_leak": false}')
        assert gateway.next() == ("zigbee2mqtt/leak", b'{"water_leak": false}')


def test_tls_with_the_site_ca_works_and_an_untrusting_client_fails(site: Site, tmp_path: Path) -> None:
    with connect(site.tls_port, *site.login("esp-freezer"), ca=site.dir / "ca.crt", tls_host="localhost") as ok:
        assert ok.rc == 0
    other = tmp_path / "other-ca.crt"
    from datetime import UTC, datetime

    from gateway.mosquitto.tls import make_ca

    other.write_bytes(make_ca("elsewhere", datetime.now(UTC)).cert)
    with connect(site.tls_port, *site.login("esp-freezer"), ca=other, tls_host="localhost") as refused:
        assert refused.rc != 0


def test_rotation_reloads_without_dropping_the_gateways_session(site: Site) -> None:
    old_user, old_password = site.login("esp-freezer")
    with connect(site.port, *site.login("gateway"), client_id="houqin-gateway-kg", clean=False) as gateway:
        gateway.subscribe("houqin/#")
        assert main(["mqtt", "rotate", "esp-freezer", "--dir", str(site.dir),
                     "--pid-file", str(site.broker.pid_file)]) == 0
        new_user, new_password = site.login("esp-freezer")
        assert new_user == old_user and new_password != old_password
        with connect(site.port, old_user, old_password) as stale:
            assert stale.rc != 0
        with connect(site.port, new_user, new_password) as fresh:
            assert fresh.rc == 0
            fresh.publish("houqin/kg/esp-freezer/state", b'{"temperature": -19}')
        assert gateway.next() == ("houqin/kg/esp-freezer/state", b'{"temperature": -19}')
        assert gateway.disconnects == 0


def test_remove_and_add_device(site: Site) -> None:
    args = ["--config", str(site.config), "--dir", str(site.dir), "--pid-file", str(site.broker.pid_file)]
    user, password = site.login("esp-freezer")
    assert main(["mqtt", "remove", "esp-freezer", *args]) == 0
    with connect(site.port, user, password) as removed:
        assert removed.rc != 0
    assert "esp-freezer" not in logins(site.dir)
    assert site.setup() == 0  # a rerun does not give a removed device its login back
    assert "esp-freezer" not in logins(site.dir)
    assert main(["mqtt", "add-device", "esp-freezer", *args]) == 0
    with connect(site.port, *site.login("esp-freezer")) as back:
        assert back.rc == 0


def test_a_rerun_changes_nothing_and_secrets_are_private(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    before = {p.name: p.read_bytes() for p in site.dir.iterdir()}
    capsys.readouterr()
    assert site.setup() == 0
    assert "nothing changed" in capsys.readouterr().out
    assert {p.name: p.read_bytes() for p in site.dir.iterdir()} == before
    for name in ("credentials.json", "ca.key"):
        assert stat.S_IMODE((site.dir / name).stat().st_mode) == 0o600
    for name in ("passwd", "acl", "server.key"):
        assert stat.S_IMODE((site.dir / name).stat().st_mode) & 0o007 == 0
    conf = (site.dir / "houqin.conf").read_text()
    assert "allow_anonymous false" in conf
    for line in conf.splitlines():
        if line.split(" ")[0] in ("password_file", "acl_file", "cafile", "certfile", "keyfile"):
            assert line.split(" ", 1)[1].startswith(str(site.dir))
