"""Readings without a time of their own, delivered in one burst after a restart, are all kept.

Before: they were stamped on arrival and the store keys a series on the millisecond, so a burst
collapsed (10 queued values on a plain topic were stored as 4). The test clock stands still, so here
every message of the burst arrives "in the same millisecond", the worst case.
"""

from __future__ import annotations

from pathlib import Path

from gateway import contract
from gateway.app import Gateway
from gateway.clock import ManualClock
from gateway.config import Config, parse_config
from gateway.model import Decoded, Reading
from gateway.stamps import ArrivalStamps
from gateway.store.influx import InfluxStore
from tests.faults.conftest import FAULT_DEVICES, flood
from tests.gateway.ingest_helpers import SITE, Publisher
from tests.gateway.ingest_helpers import stored_values as values
from tests.influxdb import Influxd, unique_database  # fixture influxd_server: tests/faults/conftest.py
from tests.mosquitto import Mosquitto
from tests.waiting import COMMIT_WINDOW, wait_for

N = 300


def test_a_burst_queued_during_a_restart_is_stored_message_for_message(
        config: Config, mosquitto: Mosquitto, clock: ManualClock) -> None:
    gw = Gateway(config, clock=clock)
    gw.start()  # subscribes with a persistent session, so the broker queues for it while it is away
    pub = Publisher(mosquitto.port)
    try:
        pub.wait_gateway()
        gw.stop()
        messages: list[tuple[str, bytes]] = []
        for i in range(N):
            messages.append(("boiler/temp", f"{50 + i / 100:.2f}".encode()))
            messages.append((contract.state_topic(SITE, "fridge-1"), contract.encode_state({"temperature": i / 100})))
            messages.append(("zigbee2mqtt/z-fridge", f'{{"temperature": {i / 100}, "humidity": 50}}'.encode()))
            messages.append((contract.state_topic(SITE, "water"), contract.encode_state({"total_l": 1000.0 + i})))
        flood(pub, messages)
        gw = Gateway(config, clock=clock)
        gw.start()
        wait_for(lambda: len(values(gw, "water", "total_l", clock)) == N, timeout=60, what="the whole burst")
        assert gw.ingest.wait_idle(10)
        assert values(gw, "boiler", "temperature", clock) == [50 + i / 100 for i in range(N)]
        assert values(gw, "fridge-1", "temperature", clock) == [i / 100 for i in range(N)]
        assert values(gw, "z-fridge", "temperature", clock) == [i / 100 for i in range(N)]
        assert values(gw, "z-fridge", "humidity_pct", clock) == [50.0] * N  # one message, one stamp
        assert values(gw, "water", "total_l", clock) == [1000.0 + i for i in range(N)]
        assert sum(values(gw, "water", "usage_l", clock)) == N - 1  # each litre counted once
        z = gw.store.query("z-fridge", "temperature", clock.now() - 60, clock.now() + 60)
        h = gw.store.query("z-fridge", "humidity_pct", clock.now() - 60, clock.now() + 60)
        assert [r.ts for r in z] == [r.ts for r in h]
    finally:
        gw.stop()
        pub.close()


def test_arrival_stamps_keep_a_devices_own_times_and_are_strictly_increasing() -> None:
    stamps = ArrivalStamps()
    now = 1_790_000_000.0004
    seen = []
    for _ in range(5):
        d = Decoded(readings=[Reading(now, "a", "temperature", 1.0), Reading(now - 10, "a", "humidity_pct", 2.0)])
        stamps.restamp(d, now)
        assert d.readings[1].ts == now - 10  # the device's own time is left alone: a redelivery overwrites
        seen.append(round(d.readings[0].ts * 1000))
    assert seen == [round(now * 1000) + i for i in range(5)]
    later = Decoded(readings=[Reading(now + 1, "a", "temperature", 1.0)])
    stamps.restamp(later, now + 1)
    assert round(later.readings[0].ts * 1000) == round((now + 1) * 1000)  # past the burst: the arrival ms again


def test_a_timestamp_less_burst_keeps_every_message_on_influxdb(
        tmp_path: Path, mosquitto: Mosquitto, influxd_server: Influxd, clock: ManualClock) -> None:
    # InfluxDB keys a point on (measurement, tags, time) at precision=ms: the same collision as SQLite's.
    cfg = parse_config({
        "site": {"id": SITE},
        "mqtt": {"url": mosquitto.url, "client_id": "houqin-influx-burst"},
        "storage": {"dir": str(tmp_path / "data"), "commit_interval": COMMIT_WINDOW, "timeseries": "influxdb"},
        "influxdb": {"url": influxd_server.url, "database": unique_database()},
        "devices": FAULT_DEVICES,
    })
    n = 100
    with Gateway(cfg, clock=clock) as gw:
        store = gw.store
        assert isinstance(store, InfluxStore)
        pub = Publisher(mosquitto.port, client_id="influx-burst-pub")
        try:
            pub.wait_gateway()
            flood(pub, [("boiler/temp", f"{50 + i / 100:.2f}".encode()) for i in range(n)]
                  + [(contract.state_topic(SITE, "fridge-1"), contract.encode_state({"temperature": i / 100}))
                     for i in range(n)])
            wait_for(lambda: store.status().sent >= 2 * n, timeout=30, tick=store.kick, what="every point sent")
            assert values(gw, "boiler", "temperature", clock) == [50 + i / 100 for i in range(n)]
            assert values(gw, "fridge-1", "temperature", clock) == [i / 100 for i in range(n)]
        finally:
            pub.close()
