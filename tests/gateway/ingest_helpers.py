"""Helpers for ingest end-to-end tests: a site config, a publisher on the real broker, bounded waits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway import contract
from gateway.app import Gateway
from gateway.clock import Clock
from gateway.config import Config, parse_config
from gateway.mqtt_link import LinkSettings, MqttLink
from tests.mosquitto import free_port
from tests.waiting import COMMIT_WINDOW, wait_for

SITE = "kg"

DEVICES: list[dict[str, Any]] = [
    {"id": "fridge-1", "kind": "fridge"},
    {"id": "water", "kind": "water_meter"},
    {"id": "power", "kind": "power_meter"},
    {"id": "gate", "kind": "gate"},
    {"id": "reader", "kind": "card_reader"},
    {"id": "sink-leak", "kind": "leak"},
    {"id": "pulse-water", "kind": "water_meter", "litres_per_pulse": 0.5},
]


def site_config(tmp_path: Path, mqtt_url: str, devices: list[dict[str, Any]] | None = None,
                client_id: str = "houqin-test-gw") -> Config:
    raw = {
        "site": {"id": SITE, "name": "Test KG"},
        "mqtt": {"url": mqtt_url, "client_id": client_id},
        "storage": {"dir": str(tmp_path / "data"), "commit_interval": COMMIT_WINDOW},
        "devices": DEVICES if devices is None else devices,
    }
    return parse_config(raw)


def write_config(path: Path, cfg_dir: Path, mqtt_url: str, client_id: str = "houqin-test-gw",
                 commit_interval: str = COMMIT_WINDOW) -> Path:
    lines = [
        "[site]", f'id = "{SITE}"', "",
        "[mqtt]", f'url = "{mqtt_url}"', f'client_id = "{client_id}"', "",
        "[storage]", f'dir = "{cfg_dir}"', f'commit_interval = "{commit_interval}"', "",
        "[dashboard]", 'bind = "127.0.0.1"', f"port = {free_port()}", "",
    ]
    for d in DEVICES:
        lines.append("[[devices]]")
        for k, v in d.items():
            lines.append(f"{k} = {v!r}".replace("'", '"'))
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path



class Publisher:
    """A real MQTT client publishing at QoS 1, which can wait until the gateway has subscribed."""

    def __init__(self, port: int, client_id: str = "test-publisher", protocol: str = "5") -> None:
        self.gateway_online = False
        self.link = MqttLink(
            LinkSettings("127.0.0.1", port, client_id, protocol=protocol, persistent=False, manual_ack=False),
            on_message=self._on_message,
            subscriptions=[contract.gateway_availability_topic(SITE)],
        )
        self.link.start()
        assert self.link.wait_connected(10), "publisher could not connect"

    def _on_message(self, msg: Any) -> None:
        self.gateway_online = msg.payload == b"online"

    def wait_gateway(self, timeout: float = 15.0) -> None:
        """The gateway publishes "online" after subscribing, so once seen its subscriptions are active."""
        wait_for(lambda: self.gateway_online, "the gateway to come online", timeout)

    def state(self, device: str, payload: bytes | dict[str, Any], **kw: Any) -> None:
        if isinstance(payload, dict):
            payload = contract.encode_state(payload, **kw)
        self.send(contract.state_topic(SITE, device), payload)

    def send(self, topic: str, payload: bytes | str) -> None:
        assert self.link.publish(topic, payload, qos=1, wait=10), f"publish to {topic} failed"

    def close(self) -> None:
        self.link.stop()


def stored_values(gw: Gateway, device: str, metric: str, clock: Clock) -> list[float]:
    """Stored values of one series within a day either side of the test clock, oldest first."""
    now = clock.now()
    return [r.value for r in gw.store.query(device, metric, now - 86400, now + 86400)]
