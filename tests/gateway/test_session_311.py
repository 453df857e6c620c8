"""MQTT 3.1.1 (``protocol = "3.1.1"``, clean_session=False) on a real Mosquitto: what the broker queued
for the gateway while it was stopped is stored after it starts again, once."""

from __future__ import annotations

import time
from pathlib import Path

from gateway.app import Gateway
from gateway.clock import ManualClock
from gateway.config import parse_config
from tests.gateway.ingest_helpers import SITE, Publisher, wait_for
from tests.mosquitto import Mosquitto
from tests.waiting import COMMIT_WINDOW


def test_queued_while_stopped_is_stored_after_restart(tmp_path: Path, mosquitto: Mosquitto) -> None:
    cfg = parse_config({"site": {"id": SITE},
                        "mqtt": {"url": mosquitto.url, "client_id": "houqin-311-gw", "protocol": "3.1.1"},
                        "storage": {"dir": str(tmp_path / "data"), "commit_interval": COMMIT_WINDOW},
                        "devices": [{"id": "water", "kind": "water_meter"}]})
    clock = ManualClock(round(time.time(), 3))
    t0 = clock.now() - 100

    def totals(gw: Gateway) -> list[float]:
        return [r.value for r in gw.store.query("water", "total_l", t0 - 1, clock.now() + 1)]

    gw = Gateway(cfg, clock=clock)
    gw.start()
    pub = Publisher(mosquitto.port)
    try:
        pub.wait_gateway()
        assert gw.link.settings.protocol == "3.1.1"
        pub.state("water", {"total_l": 100.0}, ts=t0, seq=1)
        wait_for(lambda: totals(gw) == [100.0], what="the first total")
        gw.stop()
        for i in range(1, 21):  # the gateway is away: its session queues these
            pub.state("water", {"total_l": 100.0 + i}, ts=t0 + i, seq=i + 1)
        gw = Gateway(cfg, clock=clock)
        gw.start()
        wait_for(lambda: len(totals(gw)) == 21, timeout=30, what="every queued total")
        assert gw.ingest.wait_idle(10)
        assert totals(gw) == [100.0 + i for i in range(21)]
        assert [r.value for r in gw.store.query("water", "usage_l", t0 - 1, clock.now() + 1)] == [1.0] * 20
    finally:
        pub.close()
        gw.stop()
