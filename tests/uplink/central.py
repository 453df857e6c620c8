"""The district's central side for tests: a real Mosquitto from `houqin district mqtt-setup`, and a recorder on `#`."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from gateway.cli import main
from gateway.mqtt_link import InboundMessage, LinkSettings, MqttLink
from tests.mosquitto_setup.broker import SiteBroker, free_port
from tests.waiting import wait_for


def district_toml(sites: list[str]) -> str:
    out = ['name = "测试区教委"', ""]
    for i, s in enumerate(sites):
        out += ["[[sites]]", f'id = "{s}"', f'name = "幼儿园{i + 1}"', f"children = {100 + i}",
                f"floor_area_m2 = {1200.5 + i}", ""]
    return "\n".join(out)


class CentralBroker:
    """The generated folder and a Mosquitto run from it: TLS port for sites, loopback port for the reader."""

    def __init__(self, tmp: Path, sites: list[str]) -> None:
        self.toml = tmp / "district.toml"
        self.toml.write_text(district_toml(sites), encoding="utf-8")
        self.dir = tmp / "central-broker"
        self.port, self.tls_port = free_port(), free_port()
        rc = main(["district", "mqtt-setup", "--config", str(self.toml), "--dir", str(self.dir), "--host", "127.0.0.1",
                   "--port", str(self.port), "--tls-port", str(self.tls_port),
                   "--pid-file", str(tmp / "none.pid")])
        assert rc == 0
        self.credentials = json.loads((self.dir / "credentials.json").read_text())
        workdir = tmp / "central-broker-run"
        workdir.mkdir()
        self.broker = SiteBroker(workdir, self.dir)

    @property
    def ca(self) -> Path:
        return self.dir / "ca.crt"

    def login(self, site: str) -> tuple[str, str]:
        c = self.credentials["sites"][site]
        return c["username"], c["password"]

    def uplink_broker(self, site: str) -> dict[str, Any]:
        """The site's ``[uplink.broker]`` table: TLS with the district's CA and the site's own login."""
        user, pw = self.login(site)
        return {"url": f"mqtts://127.0.0.1:{self.tls_port}", "username": user, "password": pw,
                "ca_file": str(self.ca)}

    def start(self) -> None:
        self.broker.start(self.port)

    def stop(self) -> None:
        self.broker.stop()


class Recorder:
    """The district's reader, subscribed to ``#`` with a persistent session: every message, in arrival order."""

    def __init__(self, central: CentralBroker) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self._lock = threading.Lock()
        reader = central.credentials["reader"]
        self.link = MqttLink(LinkSettings("127.0.0.1", central.port, "district-recorder", username=reader["username"],
                                          password=reader["password"], persistent=True, manual_ack=False),
                             on_message=self._on, subscriptions=["houqin/#"])
        self.link.start()
        assert self.link.wait_connected(10), "the recorder could not connect to the central broker"

    def _on(self, msg: InboundMessage) -> None:
        with self._lock:
            self.messages.append((msg.topic, msg.payload, msg.retain))

    def on(self, topic: str) -> list[dict[str, Any]]:
        """JSON payloads received on ``topic``."""
        with self._lock:
            return [json.loads(p) for t, p, _ in self.messages if t == topic]

    def raw(self) -> bytes:
        """Every topic and payload received, as one blob to search."""
        with self._lock:
            return b"\n".join(t.encode() + b" " + p for t, p, _ in self.messages)

    def wait(self, topic: str, pred: Any, what: str, timeout: float = 20) -> list[dict[str, Any]]:
        wait_for(lambda: pred(self.on(topic)), what, timeout)
        return self.on(topic)

    def close(self) -> None:
        self.link.stop()


def transitions(payloads: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """(alert id, transition) in arrival order, a message received twice counted once (by its key)."""
    seen: set[str] = set()
    out = []
    for p in payloads:
        if p["key"] not in seen:
            seen.add(p["key"])
            out.append((p["alert"]["id"], p["transition"]))
    return out
