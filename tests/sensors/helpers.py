"""Helpers for the agent tests: a fake 1-Wire sysfs tree and config builders."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gateway.config import Config, parse_config
from gateway.mqtt_link import InboundMessage, LinkSettings, MqttLink


def w1_text(milli: int, crc_ok: bool = True, scratch: str = "72 01 4b 46 7f ff 0e 10 57") -> str:
    """A ``w1_slave`` file as the kernel writes it."""
    return f"{scratch} : crc=57 {'YES' if crc_ok else 'NO'}\n{scratch} t={milli}\n"


class FakeW1:
    """A fake ``/sys/bus/w1/devices`` tree under tmp_path."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        (root / "w1_bus_master1").mkdir(exist_ok=True)

    def set(self, probe: str, milli: int, crc_ok: bool = True) -> None:
        d = self.root / probe
        d.mkdir(exist_ok=True)
        (d / "w1_slave").write_text(w1_text(milli, crc_ok))

    def set_raw(self, probe: str, text: str) -> None:
        d = self.root / probe
        d.mkdir(exist_ok=True)
        (d / "w1_slave").write_text(text)

    def remove(self, probe: str) -> None:
        d = self.root / probe
        (d / "w1_slave").unlink()
        d.rmdir()


def make_config(sensors: list[dict[str, Any]], devices: list[dict[str, Any]], url: str = "mqtt://127.0.0.1:1",
                site: str = "kg") -> Config:
    """A validated Config with these [[devices]] and [[sensors]]."""
    return parse_config({"site": {"id": site}, "mqtt": {"url": url}, "devices": devices, "sensors": sensors})


class Collector:
    """Subscribes with MqttLink and keeps (topic, decoded payload) in arrival order."""

    def __init__(self, port: int, topics: list[str], client_id: str = "test-collector") -> None:
        self.messages: list[tuple[str, Any]] = []
        self._lock = threading.Lock()
        self.link = MqttLink(LinkSettings("127.0.0.1", port, client_id, persistent=False, manual_ack=False),
                             on_message=self._on, subscriptions=topics)

    def _on(self, msg: InboundMessage) -> None:
        try:
            body: Any = json.loads(msg.payload)
        except ValueError:
            body = msg.payload.decode()
        with self._lock:
            self.messages.append((msg.topic, body))

    def start(self) -> Collector:
        self.link.start()
        assert self.link.wait_connected(10), "collector could not connect"
        return self

    def stop(self) -> None:
        self.link.stop()

    def snapshot(self) -> list[tuple[str, Any]]:
        with self._lock:
            return list(self.messages)

    def wait_for(self, pred: Callable[[list[tuple[str, Any]]], bool], timeout: float = 15.0) -> list[tuple[str, Any]]:
        """Bounded poll until ``pred(messages)`` holds; returns the messages or fails."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            snap = self.snapshot()
            if pred(snap):
                return snap
            time.sleep(0.05)
        raise AssertionError(f"condition not met in {timeout}s; got {self.snapshot()[-20:]}")


def states(messages: list[tuple[str, Any]], device: str) -> list[dict[str, Any]]:
    return [b for t, b in messages if t.endswith(f"/{device}/state")]


def availability(messages: list[tuple[str, Any]]) -> set[tuple[str, str]]:
    """(topic, online/offline) pairs seen."""
    return {(t, b) for t, b in messages if t.endswith("/availability") and isinstance(b, str)}


def events(messages: list[tuple[str, Any]], device: str) -> list[dict[str, Any]]:
    return [b for t, b in messages if t.endswith(f"/{device}/event")]


#: The gate command key of agents built without a gateway (the gateway's and the agent's must be the same).
TEST_KEY = bytes(range(32))


def signed(device: str, body: bytes | dict[str, Any], now: float, key: bytes = TEST_KEY, site: str = "kg") -> bytes:
    """A ``set`` command for ``device`` signed as the gateway signs it."""
    from gateway.contract import set_topic
    from gateway.signing import Signer

    return Signer(key).seal(set_topic(site, device), json.loads(body) if isinstance(body, bytes) else body, now)
