"""Readings to a real central store (Debian's influxd 1.x, Debian's VictoriaMetrics with deduplication) through
the uplink's outbox: every reading exactly once after an outage and after points sent twice; a long outage and
a full outbox raise alerts at the site."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from gateway.app import build_gateway
from gateway.clock import ManualClock
from gateway.config import parse_config
from gateway.model import Reading
from gateway.store.sqlite import SqliteStore
from gateway.uplink.service import RULE_DROPPED, RULE_OUTAGE
from tests.disk import fill, make_room
from tests.gateway.ingest_helpers import Publisher
from tests.influxdb import Influxd, unique_database
from tests.mosquitto import Mosquitto
from tests.victoriametrics import VictoriaMetrics
from tests.waiting import COMMIT_WINDOW, wait_for

SITE = "kg"
N = 60


def raw_config(tmp_path: Path, mosquitto: Mosquitto, store: dict[str, Any]) -> dict[str, Any]:
    return {"site": {"id": SITE}, "mqtt": {"url": mosquitto.url, "client_id": "houqin-central-store-gw"},
            "storage": {"dir": str(tmp_path / "data"), "commit_interval": COMMIT_WINDOW},
            "dashboard": {"enabled": False},
            "devices": [{"id": "fridge-1", "kind": "fridge"}, {"id": "water", "kind": "water_meter"}],
            "uplink": {"store": {"backoff_initial": "1s", "backoff_max": "2s", "timeout": "3s", **store},
                       "outage_alert_after": "30m"}}


@pytest.mark.parametrize("target", ["influxd", "victoria-metrics"])
def test_every_reading_once_at_the_centre_across_an_outage(
        tmp_path: Path, mosquitto: Mosquitto, request: pytest.FixtureRequest, target: str) -> None:
    server: Influxd | VictoriaMetrics = request.getfixturevalue("influxd" if target == "influxd"
                                                                else "victoriametrics")
    db = unique_database()
    clock = ManualClock(round(time.time(), 3))
    site = build_gateway(parse_config(raw_config(tmp_path, mosquitto, {"url": server.url, "api": "v1",
                                                                       "database": db})), clock=clock)
    central = site.core.central_store
    assert central is not None and site.uplink is not None
    uplink = site.uplink

    def retry() -> None:
        clock.advance(3)  # past the backoff
        central.kick()

    site.start()
    pub = Publisher(mosquitto.port, client_id="central-store-pub")
    t0 = round(time.time() - 2 * N, 3)
    try:
        pub.wait_gateway()
        for i in range(N // 2):
            pub.state("fridge-1", {"temperature": 3.0 + i % 5}, ts=t0 + i, seq=i + 1)
            pub.state("water", {"total_l": 1000.0 + i}, ts=t0 + i, seq=i + 1)
        wait_for(lambda: central.status().sent >= 10, "the first readings at the centre")
        server.stop()
        for i in range(N // 2, N):  # the centre is away: the site keeps ingesting, the outbox keeps the points
            pub.state("fridge-1", {"temperature": 3.0 + i % 5}, ts=t0 + i, seq=i + 1)
            pub.state("water", {"total_l": 1000.0 + i}, ts=t0 + i, seq=i + 1)
        # temperatures, totals and the usage derived from the totals (the first total only sets the baseline)
        wait_for(lambda: site.ingest.stats()["readings"] >= 3 * N - 1, "ingest during the outage")
        wait_for(lambda: central.status().reachable is False, "the outage noticed", tick=retry)
        assert site.store.query("fridge-1", "temperature", t0, t0 + N)[-1].ts == t0 + N - 1  # the site has it all
        # A long outage: an alert at the site once the oldest waiting point is older than outage_alert_after.
        clock.advance(31 * 60)
        uplink.tick()
        assert [a.rule for a in site.alerting.service.list(open_only=True)] == [RULE_OUTAGE]
        server.start()
        wait_for(lambda: central.status().depth == 0, "the outbox to drain", tick=retry, timeout=30)
        uplink.tick()
        assert site.alerting.service.list(open_only=True) == []
        # Points sent twice (a gateway killed between the central store's answer and the outbox's delete):
        # the centre keeps one of each.
        again = site.store.query("fridge-1", "temperature", t0, t0 + N)
        central.write(again)
        wait_for(lambda: central.status().depth == 0, "the repeated points sent", tick=retry)
    finally:
        pub.close()
        site.stop()
    usage = N - 1  # the first total only sets the meter's baseline
    if isinstance(server, VictoriaMetrics):
        counts = {dict(k)["__name__"]: v for k, v in server.counts('{site="kg"}').items()}
        assert counts == {"houqin_temperature": N, "houqin_total_l": N, "houqin_usage_l": usage}
        labels = next(dict(k) for k in server.counts('houqin_temperature{site="kg"}'))
        assert (labels["device"], labels["kind"], labels["db"]) == ("fridge-1", "fridge", db)
    else:
        assert server.count(db, "houqin", "temperature", "\"site\" = 'kg' AND \"device\" = 'fridge-1'") == N
        assert server.count(db, "houqin", "total_l", "\"site\" = 'kg'") == N
        assert server.count(db, "houqin", "usage_l", "\"site\" = 'kg'") == usage


def test_a_full_outbox_drops_the_oldest_counts_them_and_alerts(tmp_path: Path, mosquitto: Mosquitto) -> None:
    clock = ManualClock(round(time.time(), 3))
    raw = raw_config(tmp_path, mosquitto, {"url": "http://127.0.0.1:9", "api": "v1", "database": "houqin",
                                           "outbox_max_points": 5})
    site = build_gateway(parse_config(raw), clock=clock)
    central = site.core.central_store
    assert central is not None and site.uplink is not None
    site.start()
    try:
        t0 = clock.now() - 100
        central.write([Reading(t0 + i, "fridge-1", "temperature", 4.0) for i in range(8)])
        assert central.status().dropped == 3 and central.status().depth == 5
        site.uplink.tick()
        alerts = site.alerting.service.list()
        assert [(a.rule, a.state) for a in alerts] == [(RULE_DROPPED, "active")]
        assert alerts[0].value == 3
    finally:
        site.stop()


def test_a_commit_that_fails_at_either_store_leaves_each_reading_queued_once_for_the_centre(
        tmp_path: Path, mosquitto: Mosquitto) -> None:
    # Readings stamped on arrival: their seqs commit with the site's store, after which a redelivery is a
    # duplicate. Before, the site's store was written first: a failed central outbox (full here; a kill between
    # the two alike) kept the window from the centre for good.
    clock = ManualClock(round(time.time(), 3))
    raw = raw_config(tmp_path, mosquitto, {"url": "http://127.0.0.1:9", "api": "v1", "database": "houqin"})
    site = build_gateway(parse_config(raw), clock=clock)
    central = site.core.central_store
    local = site.core.store
    assert central is not None and isinstance(local, SqliteStore)
    site.start()
    pub = Publisher(mosquitto.port, client_id="central-store-full-pub")
    seq = 0

    def publish(n: int) -> None:
        nonlocal seq
        for _ in range(n):
            seq += 1
            pub.state("fridge-1", {"temperature": 4.0 + seq % 7}, seq=seq)

    def fails_then_commits(errors_before: int) -> None:
        wait_for(lambda: site.ingest.stats()["commit_errors"] > errors_before, "a failed commit")
        assert site.ingest.stats()["acked"] < site.ingest.stats()["received"]

    try:
        pub.wait_gateway()
        publish(1)
        wait_for(lambda: central.status().depth == 1, "the first reading queued")
        # The central outbox is full: nothing is acknowledged, and once it has room the window reaches it.
        with central.outbox._lock:
            fill(central.outbox._conn)
        publish(100)
        fails_then_commits(0)
        with central.outbox._lock:
            make_room(central.outbox._conn)
        assert site.ingest.wait_idle(30)
        assert central.status().depth == 101
        # The site's store is full: the window is retried until it has room, and queued for the centre once.
        with local._wlock:
            fill(local._writer)
        publish(100)
        fails_then_commits(site.ingest.stats()["commit_errors"])
        with local._wlock:
            make_room(local._writer)
        assert site.ingest.wait_idle(30)
        assert central.status().depth == 201
        assert len(local.query("fridge-1", "temperature", clock.now() - 60, clock.now() + 60)) == 201
        assert site.ingest.stats()["acked"] == site.ingest.stats()["received"]
    finally:
        pub.close()
        site.stop()
