"""The gateway on a real Mosquitto that requires TLS and a password (from ``mqtts://user:pass@...``), a wrong
password, and a broker that is down when the gateway starts."""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from gateway import contract
from gateway.app import Gateway
from gateway.clock import ManualClock
from gateway.config import Config, parse_config
from gateway.link_settings import link_settings
from gateway.mqtt_link import MqttLink
from tests.gateway.ingest_helpers import SITE, wait_for
from tests.mosquitto import Mosquitto, free_port
from tests.waiting import COMMIT_WINDOW

USER = "houqin"
PASSWORD = "s@cret:pw"  # '@' and ':' must be percent-encoded in the URL
URL_PASSWORD = "s%40cret%3Apw"


def make_certs(d: Path) -> tuple[Path, Path, Path]:
    """A CA, and a server certificate for 127.0.0.1 signed by it: (ca, cert, key)."""
    ca_key, ca, key, csr, crt = d / "ca.key", d / "ca.pem", d / "server.key", d / "server.csr", d / "server.pem"
    run = lambda *a: subprocess.run(["openssl", *a], check=True, capture_output=True)  # noqa: E731
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out", str(ca), "-days", "2",
        "-subj", "/CN=houqin test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr), "-subj", "/CN=127.0.0.1")
    ext = d / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial", "-out", str(crt),
        "-days", "2", "-extfile", str(ext))
    return ca, crt, key


@pytest.fixture
def secure_broker(tmp_path: Path) -> Iterator[tuple[Mosquitto, Path]]:
    """Mosquitto with only a TLS listener, no anonymous clients, one user."""
    d = tmp_path / "secure"
    d.mkdir()
    ca, crt, key = make_certs(d)
    pwfile = d / "passwd"
    pwfile.touch(mode=0o600)
    subprocess.run(["mosquitto_passwd", "-b", str(pwfile), USER, PASSWORD], check=True, capture_output=True)
    broker = Mosquitto(d)
    broker.conf.write_text(
        f"listener {broker.port} 127.0.0.1\n"
        f"cafile {ca}\ncertfile {crt}\nkeyfile {key}\n"
        "allow_anonymous false\n"
        f"password_file {pwfile}\n"
        # as root, mosquitto drops to its own user, which cannot read files under pytest's 0700 tmp_path
        "user root\n"
        f"log_dest file {broker.log}\n")
    broker.start()
    yield broker, ca
    broker.stop()


def config(tmp_path: Path, url: str, ca: Path | None = None) -> Config:
    mqtt: dict[str, object] = {"url": url, "client_id": "houqin-test-gw"}
    if ca is not None:
        mqtt["ca_file"] = str(ca)
    return parse_config({"site": {"id": SITE}, "mqtt": mqtt,
                         "storage": {"dir": str(tmp_path / "data"), "commit_interval": COMMIT_WINDOW},
                         "devices": [{"id": "fridge-1", "kind": "fridge"}]})


def test_tls_and_password_from_the_url(tmp_path: Path, secure_broker: tuple[Mosquitto, Path]) -> None:
    broker, ca = secure_broker
    cfg = config(tmp_path, f"mqtts://{USER}:{URL_PASSWORD}@127.0.0.1:{broker.port}", ca)
    settings = link_settings(cfg)
    assert (settings.tls, settings.username, settings.password) == (True, USER, PASSWORD)
    clock = ManualClock(round(time.time(), 3))
    with Gateway(cfg, clock=clock) as gw:
        assert gw.link.wait_connected(15), f"gateway could not connect over TLS: see {broker.log}"
        # a sensor with the same credentials, over the same TLS listener
        pub = MqttLink(link_settings(cfg, client_id="test-sensor", persistent=False))
        pub.start()
        try:
            assert pub.wait_connected(10)
            assert pub.publish(contract.state_topic(SITE, "fridge-1"), contract.encode_state({"temperature": 4.3}),
                               wait=10)
            wait_for(lambda: [r.value for r in gw.store.query("fridge-1", "temperature", 0, clock.now() + 60)]
                     == [4.3], what="the reading sent over TLS")
        finally:
            pub.stop()


def test_wrong_password_is_refused_and_said(tmp_path: Path, secure_broker: tuple[Mosquitto, Path],
                                            caplog: pytest.LogCaptureFixture) -> None:
    broker, ca = secure_broker
    cfg = config(tmp_path, f"mqtts://{USER}:wrong@127.0.0.1:{broker.port}", ca)
    link = MqttLink(link_settings(cfg))
    with caplog.at_level(logging.DEBUG, logger="gateway.mqtt_link"):
        link.start()
        try:
            refusals = lambda: [r for r in caplog.records if "refused the connection" in r.getMessage()]  # noqa: E731
            wait_for(lambda: len(refusals()) >= 2, timeout=30, what="two refused attempts")
            assert not link.connected
            warned = [r for r in refusals() if r.levelno == logging.WARNING]
            assert len(warned) == 1, "a wrong password is said once, not at every retry"
            assert f"127.0.0.1:{broker.port}" in warned[0].getMessage() and "password" in warned[0].getMessage()
        finally:
            link.stop()


def test_plain_client_cannot_talk_to_the_tls_listener(tmp_path: Path, secure_broker: tuple[Mosquitto, Path]) -> None:
    broker, _ = secure_broker
    cfg = config(tmp_path, f"mqtt://{USER}:{URL_PASSWORD}@127.0.0.1:{broker.port}")
    link = MqttLink(link_settings(cfg))
    link.start()
    try:
        assert not link.wait_connected(3)  # this test fails if the secure listener accepted plain MQTT
    finally:
        link.stop()


def test_broker_down_at_start_is_said_once_then_connects_when_it_comes(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    cfg = config(tmp_path, f"mqtt://127.0.0.1:{port}")
    # retries a second apart (not doubling up to 30 s): the test counts retries and waits for the one that connects
    link = MqttLink(replace(link_settings(cfg), reconnect_max_s=1.0))
    # a helper link (the agent's will-only links) leaves saying it to the main link
    helper = MqttLink(replace(link_settings(cfg, client_id="will-only", persistent=False), quiet=True,
                              reconnect_max_s=1.0))
    (tmp_path / "late-broker").mkdir()
    broker = Mosquitto(tmp_path / "late-broker", port=port)
    caplog.set_level(logging.WARNING, logger="gateway.mqtt_link")
    caplog.set_level(logging.DEBUG, logger="houqin.paho")  # paho says each failed attempt at DEBUG
    link.start()
    helper.start()
    try:
        wait_for(lambda: sum("Connection failed" in r.getMessage() for r in caplog.records) >= 4, timeout=30,
                 what="two failed attempts of each link")
        told = [r for r in caplog.records if "cannot reach the MQTT broker" in r.getMessage()]
        assert len(told) == 1, "an unreachable broker must be said once per outage, not per retry"
        assert f"127.0.0.1:{port}" in told[0].getMessage() and "[mqtt] url" in told[0].getMessage()
        broker.start()
        assert link.wait_connected(45), "the link did not connect once the broker came up"
        assert helper.wait_connected(45)
    finally:
        helper.stop()
        link.stop()
        broker.stop()
