"""The whole path on InfluxDB: MQTT publish stream -> gateway ingest -> outbox -> real influxd, with an outage."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from gateway.app import Gateway
from gateway.clock import ManualClock
from gateway.config import parse_config
from gateway.store.influx import InfluxStore
from tests.gateway.ingest_helpers import SITE, Publisher
from tests.influxdb import Influxd, unique_database  # fixture influxd: tests/store/conftest.py
from tests.mosquitto import Mosquitto
from tests.waiting import COMMIT_WINDOW, wait_for


def test_influxd_outage_during_an_mqtt_stream_loses_and_doubles_nothing(
        tmp_path: Path, mosquitto: Mosquitto, influxd: Influxd) -> None:
    db = unique_database()
    clock = ManualClock(round(time.time(), 3))
    cfg = parse_config({
        "site": {"id": SITE},
        "mqtt": {"url": mosquitto.url, "client_id": "houqin-influx-gw"},
        "storage": {"dir": str(tmp_path / "data"), "commit_interval": COMMIT_WINDOW, "timeseries": "influxdb"},
        "influxdb": {"url": influxd.url, "database": db, "backoff_initial": "1s", "backoff_max": "4s",
                     "timeout": "5s"},
        "devices": [{"id": "fridge-1", "kind": "fridge"}, {"id": "water", "kind": "water_meter"}],
    })
    gw = Gateway(cfg, clock=clock)
    gw.start()
    store = gw.store
    assert isinstance(store, InfluxStore)

    def retry() -> None:
        clock.advance(5)  # past any backoff (at most 4 s)
        store.kick()

    pub = Publisher(mosquitto.port, client_id="influx-test-pub")
    n = 300
    t0 = clock.now() - 2 * n
    down, up = threading.Event(), threading.Event()

    def publish() -> None:
        # A third before the outage, a third while influxd is down, a third after it is back.
        for i in range(n):
            if i == n // 3:
                down.wait(60)
            if i == 2 * n // 3:
                up.wait(60)
            pub.state("fridge-1", {"temperature": float(i % 17) / 2}, ts=t0 + i, seq=i + 1)

    th = threading.Thread(target=publish)
    try:
        pub.wait_gateway()
        th.start()
        wait_for(lambda: store.status().sent >= 30, what="the first readings in InfluxDB")
        influxd.stop()
        down.set()
        # A stopping influxd may answer 500 before it refuses connections: keep retrying until it does.
        wait_for(lambda: store.status().reachable is False, what="the outage to be noticed", timeout=30, tick=retry)
        wait_for(lambda: gw.ingest.stats()["readings"] >= 2 * n // 3, what="ingest during the outage", timeout=30)
        assert store.status().depth > 0  # the outbox holds what InfluxDB could not take
        influxd.start()
        up.set()
        th.join(60)
        wait_for(lambda: gw.ingest.stats()["readings"] >= n, what="ingest to take every message", timeout=30)
        wait_for(lambda: store.status().depth == 0, what="the outbox to drain", timeout=30, tick=retry)
        st = store.status()
        assert (st.depth, st.dropped, st.rejected, st.reachable) == (0, 0, 0, True)
    finally:
        down.set()
        up.set()
        th.join(60) if th.is_alive() else None
        pub.close()
        gw.stop()
    where = "\"device\" = 'fridge-1' AND \"kind\" = 'fridge' AND \"site\" = 'kg'"
    assert influxd.count(db, "houqin", "temperature", where) == n
    assert influxd.count(db, "houqin", "temperature") == n


def test_outbox_overflow_in_a_running_gateway_raises_the_storage_alert(
        tmp_path: Path, mosquitto: Mosquitto, influxd: Influxd) -> None:
    from gateway.app import build_gateway
    from gateway.storage_alerts import RULE_DROPPED

    influxd.stop()  # InfluxDB is away for this whole test
    clock = ManualClock(round(time.time(), 3))
    cfg = parse_config({
        "site": {"id": SITE},
        "mqtt": {"url": mosquitto.url, "client_id": "houqin-influx-gw2"},
        "storage": {"dir": str(tmp_path / "data"), "commit_interval": COMMIT_WINDOW, "timeseries": "influxdb"},
        "influxdb": {"url": influxd.url, "database": unique_database(), "outbox_max_points": 20, "timeout": "2s"},
        "devices": [{"id": "fridge-1", "kind": "fridge"}],
    })
    gw = build_gateway(cfg, clock=clock)
    assert gw.storage_alerts is not None and gw.nightly is None  # InfluxDB keeps its own retention
    gw.start()
    pub = Publisher(mosquitto.port, client_id="influx-test-pub2")
    try:
        pub.wait_gateway()
        t0 = clock.now() - 100
        for i in range(50):
            pub.state("fridge-1", {"temperature": 4.0}, ts=t0 + i, seq=i + 1)
        wait_for(lambda: gw.ingest.stats()["readings"] >= 50, what="ingest to take every message", timeout=30)
        store = gw.store
        assert isinstance(store, InfluxStore)
        store.kick()
        service = gw.alerting.service
        wait_for(lambda: any(a.rule == RULE_DROPPED for a in service.list(open_only=True)),
                 what="the storage_dropped alert", timeout=30)
        st = store.status()
        assert (st.depth, st.dropped) == (20, 30)
    finally:
        pub.close()
        gw.stop()
