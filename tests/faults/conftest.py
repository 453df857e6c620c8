"""Fixtures of the fault suite: a gateway with a z2m and a plain device beside the native ones, on a real broker."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.app import Gateway
from gateway.clock import ManualClock
from gateway.config import Config
from tests.gateway.ingest_helpers import DEVICES, Publisher, site_config
from tests.influxdb import influxd_server  # noqa: F401  (fixture)
from tests.mosquitto import Mosquitto

#: The native devices of the ingest tests, a Zigbee2MQTT sensor and a plain topic.
FAULT_DEVICES: list[dict[str, Any]] = [
    *DEVICES,
    {"id": "z-fridge", "kind": "fridge", "format": "zigbee2mqtt", "topic": "zigbee2mqtt/z-fridge"},
    {"id": "boiler", "kind": "thermometer", "format": "plain", "topic": "boiler/temp", "metric": "temperature"},
    {"id": "kitchen-power", "kind": "power_meter", "format": "shelly", "topic": "shellypro4pm-kitchen"},
]


@pytest.fixture
def clock() -> ManualClock:
    """Test time: it moves only when a test moves it, so arrival stamps of a burst are all alike."""
    return ManualClock(round(time.time(), 3))


@pytest.fixture
def config(tmp_path: Path, mosquitto: Mosquitto) -> Config:
    """The site's config, on the test's broker and data directory."""
    return site_config(tmp_path, mosquitto.url, FAULT_DEVICES)


@pytest.fixture
def gateway(config: Config, clock: ManualClock) -> Iterator[Gateway]:
    """A started gateway."""
    gw = Gateway(config, clock=clock)
    gw.start()
    yield gw
    gw.stop()


@pytest.fixture
def pub(mosquitto: Mosquitto, gateway: Gateway) -> Iterator[Publisher]:
    """A publisher that has seen the gateway come online."""
    p = Publisher(mosquitto.port)
    p.wait_gateway()
    yield p
    p.close()



def flood(pub: Publisher, messages: list[tuple[str, bytes]]) -> None:
    """Publish at QoS 1 without waiting for each ack, then wait for the broker to take the last."""
    link = pub.link
    for topic, payload in messages[:-1]:
        assert link.publish(topic, payload)
    topic, payload = messages[-1]
    assert link.publish(topic, payload, wait=30)
