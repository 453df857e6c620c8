"""`houqin doctor` against a real Mosquitto started from the files `houqin mqtt setup` wrote."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.backup.snapshot import make_backup
from gateway.cli import main
from gateway.doctor import check_clock, check_services
from gateway.eventsdb import EventsDB
from tests.mosquitto import Mosquitto
from tests.mosquitto_setup.broker import SiteBroker, free_port, logins


class Install:
    """Broker files from `houqin mqtt setup`, the broker running from them, a data folder and a fresh backup."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.dir = tmp / "mosquitto-houqin"
        self.data = tmp / "data"
        self.usb = tmp / "usb"
        self.port, self.tls_port = free_port(), free_port()
        self.broker = SiteBroker(tmp, self.dir)
        self.config = tmp / "houqin.toml"
        self.write_config(f"mqtt://127.0.0.1:{self.port}")
        assert main(["mqtt", "setup", "--config", str(self.config), "--dir", str(self.dir), "--port",
                     str(self.port), "--tls-port", str(self.tls_port), "--host", "localhost", "--host", "127.0.0.1",
                     "--pid-file", str(self.broker.pid_file)]) == 0
        self.data.mkdir(parents=True)
        EventsDB(self.data / "events.db").close()
        make_backup(self.data, self.usb, secrets=[], now=time.time())

    def write_config(self, url: str, locale: str = "en") -> None:
        self.config.write_text(f'[site]\nid = "kg"\nlocale = "{locale}"\n[mqtt]\nurl = "{url}"\n'
                               f'[storage]\ndir = "{self.data}"\n[backup]\ndir = "{self.usb}"\n'
                               '[[devices]]\nid = "esp-freezer"\nkind = "freezer"\n')

    def doctor(self, *extra: str) -> tuple[int, list[dict[str, str]]]:
        import contextlib
        import io

        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            rc = main(["doctor", "--config", str(self.config), "--credentials", str(self.dir / "credentials.json"),
                       "--json", *extra])
        return rc, json.loads(buf.getvalue())


@pytest.fixture
def install(tmp_path: Path) -> Iterator[Install]:
    s = Install(tmp_path)
    s.broker.start(s.port)
    yield s
    s.broker.stop()


def by_id(found: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {f["check"]: f for f in found}


def test_a_locked_broker_is_green(install: Install) -> None:
    _, found = install.doctor()
    f = by_id(found)
    for check in ("broker", "anonymous", "acl", "tls", "tls_handshake", "backup"):
        assert f[check]["status"] == "ok", f[check]
    assert "accepts the gateway's login" in f["broker"]["message"]
    assert f["clock"]["status"] in ("ok", "warn", "unknown")


def test_the_login_in_the_url_wins_and_a_wrong_one_is_reported(install: Install) -> None:
    user = logins(install.dir)["gateway"]["username"]
    install.write_config(f"mqtt://{user}:wrong@127.0.0.1:{install.port}")
    rc, found = install.doctor()
    assert rc == 1
    broker = by_id(found)["broker"]
    assert broker["status"] == "fail" and "refuses the gateway's login" in broker["message"]


def test_chinese_when_the_site_is(install: Install, capsys: pytest.CaptureFixture[str]) -> None:
    install.write_config(f"mqtt://127.0.0.1:{install.port}", locale="zh-CN")
    main(["doctor", "--config", str(install.config), "--credentials", str(install.dir / "credentials.json")])
    out = capsys.readouterr().out
    assert "匿名连接已被拒绝" in out and "代理证书有效期至" in out


def test_an_open_broker_and_a_missing_stick_need_attention(mosquitto: Mosquitto, tmp_path: Path) -> None:
    install = Install(tmp_path)  # broker files written, but the broker answering is an open one
    install.write_config(f"mqtt://127.0.0.1:{mosquitto.port}")
    (install.usb).rename(tmp_path / "stick-out")
    rc, found = install.doctor()
    f = by_id(found)
    assert rc == 1
    assert f["anonymous"]["status"] == "fail" and "anonymous" in f["anonymous"]["message"]
    assert f["backup"]["status"] == "fail" and "missing" in f["backup"]["message"]
    # On an open broker a device's login can send a command: the ACL spot check says so.
    assert f["acl"]["status"] == "fail" and "/set" in f["acl"]["message"]


def test_clock_and_services_read_systemd_tools() -> None:
    def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
        answer = "yes\n" if argv[0] == "timedatectl" else ("active\n" if "houqin.service" in argv else "failed\n")
        return subprocess.CompletedProcess(argv, 0, answer, "")

    assert check_clock(run).status == "ok"
    assert check_clock(lambda argv: None).status == "unknown"
    states = {c.id: c.status for c in check_services(run)}
    assert states == {"service:mosquitto.service": "fail", "service:houqin.service": "ok",
                      "service:houqin-sensors.service": "fail"}


def test_write_rate_of_a_running_gateway_is_measured_from_its_own_counters(tmp_path: Path) -> None:
    from gateway.doctor import WRITE_RATE_WARN, check_write_rate
    from gateway.runlock import hold

    assert check_write_rate(tmp_path).status == "unknown"  # nothing holds the folder: no gateway runs
    with hold(tmp_path):  # this process is "the gateway": what it writes while doctor samples is counted
        blob = tmp_path / "blob"

        def write_while_sampling(seconds: float) -> None:
            with blob.open("wb") as f:
                f.write(b"x" * (WRITE_RATE_WARN * 4))
                f.flush()
                import os

                os.fsync(f.fileno())

        busy = check_write_rate(tmp_path, sample_s=1.0, sleep=write_while_sampling)
        quiet = check_write_rate(tmp_path, sample_s=1.0, sleep=lambda _s: None)
    assert busy.status == "warn" and "kB/s" in str(busy.values["rate"])
    assert quiet.status == "ok"
