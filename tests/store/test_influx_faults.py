"""Fault tests against a real influxd 1.6: outages, the outbox bound, refused points, bad credentials, restarts.

Counts are checked with InfluxQL sent straight to the server (``Influxd.count``), not through the
store under test.
"""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

from gateway.clock import ManualClock
from gateway.deadletters import DeadLetters
from gateway.eventsdb import EventsDB
from gateway.model import Reading
from gateway.store.influx import InfluxStore, StoreStatus
from gateway.store.influx_settings import InfluxSettings
from tests.influxdb import Influxd, unique_database  # fixtures influxd/influxd_server: tests/store/conftest.py
from tests.waiting import wait_for

T0 = 1_790_000_000.0  # 2026-09-21
SITE = "kg"


def settings(server: Influxd, db: str, **extra: object) -> InfluxSettings:
    return InfluxSettings(url=server.url, database=db, backoff_initial="1s", backoff_max="4s",  # type: ignore[arg-type]
                          timeout="5s", **extra)


def store_for(server: Influxd, tmp_path: Path, db: str, clock: ManualClock, *, start: bool = False,
              **extra: object) -> InfluxStore:
    return InfluxStore(settings(server, db, **extra), site=SITE, outbox_path=tmp_path / "outbox.db", clock=clock,
                       start=start, rng=random.Random(1))



def test_outage_during_a_stream_every_reading_arrives_exactly_once(influxd: Influxd, tmp_path: Path) -> None:
    db = unique_database()
    clock = ManualClock(T0)
    store = store_for(influxd, tmp_path, db, clock, start=True)
    written: list[Reading] = []
    stop = threading.Event()

    def stream() -> None:
        i = 0
        while not stop.is_set():
            batch = [Reading(T0 + i + k / 10, f"dev-{k}", "temperature", float(i)) for k in range(5)]
            store.write(batch)
            written.extend(batch)
            i += 1
            time.sleep(0.002)  # pacing only: a sensor stream, not a wait for a result

    def retry() -> None:
        clock.advance(5)  # past any backoff (at most 4 s)
        store.kick()

    writer = threading.Thread(target=stream)
    writer.start()
    try:
        wait_for(lambda: store.status().sent >= 200, "the first points to arrive")
        influxd.stop()
        # A stopping influxd may still answer 500 before it refuses connections: keep retrying.
        wait_for(lambda: store.status().reachable is False, "the store to notice the outage", tick=retry)
        during = len(written)
        wait_for(lambda: len(written) >= during + 200, "writes to go on while influxd is down")
        assert store.status().depth > 0
        influxd.start()
        clock.advance(10)  # past the longest backoff (4 s)
        store.kick()
        sent_before = store.status().sent
        wait_for(lambda: store.status().sent > sent_before, "sending to resume after the restart", tick=retry)
    finally:
        stop.set()
        writer.join()
    clock.advance(10)
    store.kick()
    wait_for(lambda: store.status().depth == 0, "the outbox to drain", tick=retry)
    st = store.status()
    assert st.reachable is True and st.dropped == 0 and st.rejected == 0
    assert st.sent >= len(written)  # points in flight at the outage may be sent twice: InfluxDB overwrites
    store.close()
    total = influxd.count(db, "houqin", "temperature")
    assert total == len(written)
    for k in range(5):
        assert influxd.count(db, "houqin", "temperature", f"\"device\" = 'dev-{k}'") == len(written) // 5


def test_outbox_bound_drops_the_oldest_and_says_so(influxd: Influxd, tmp_path: Path) -> None:
    db = unique_database()
    clock = ManualClock(T0)
    influxd.stop()
    store = store_for(influxd, tmp_path, db, clock, outbox_max_points=100)
    seen: list[StoreStatus] = []
    store.add_listener(seen.append)
    try:
        rs = [Reading(T0 + i, "fridge-1", "temperature", float(i)) for i in range(250)]
        for i in range(0, 250, 50):
            store.write(rs[i:i + 50])
            store.forwarder.pump()
            clock.advance(10)
        st = store.status()
        assert (st.depth, st.dropped, st.max_points) == (100, 150, 100)
        assert seen and seen[-1].dropped == 150
        assert st.reachable is False
        influxd.start()
        store.forwarder.pump()
        assert store.status().depth == 0
    finally:
        store.close()
    assert influxd.count(db, "houqin", "temperature") == 100
    first = influxd.query('SELECT first("temperature") FROM "houqin"', db)["results"][0]["series"][0]["values"][0]
    assert first == [int((T0 + 150) * 1000), 150.0]  # the oldest 150 were the ones dropped


def test_refused_point_is_dead_lettered_while_the_rest_arrive(influxd: Influxd, tmp_path: Path) -> None:
    db = unique_database()
    influxd.query(f'CREATE DATABASE "{db}"')
    # Someone wrote humidity_pct as a string in this shard: our float for it is a field type conflict (400).
    assert influxd.write(f'houqin,site={SITE},device=other humidity_pct="high" {int(T0 * 1000)}', db) == 204
    clock = ManualClock(T0)
    events = EventsDB(tmp_path / "events.db")
    dead = DeadLetters(events, clock)
    store = InfluxStore(settings(influxd, db), site=SITE, outbox_path=tmp_path / "outbox.db", clock=clock,
                        start=False, dead_letters=dead)
    try:
        rs = [Reading(T0 + 60 * i, "fridge-1", "temperature", 3.0) for i in range(30)]
        store.write([*rs[:17], Reading(T0 + 30, "fridge-1", "humidity_pct", 55.0), *rs[17:]])
        store.forwarder.pump()
        st = store.status()
        assert (st.depth, st.rejected, st.degraded) == (0, 1, False)
        assert influxd.count(db, "houqin", "temperature") == 30
        assert dead.counts() == {"influx_rejected": 1}
        device, detail = events.conn().execute("SELECT device, detail FROM dead_letters").fetchone()
        assert device == "fridge-1" and detail.startswith("400") and "field type conflict" in detail
    finally:
        store.close()
        events.close()


def test_wrong_credentials_degrade_storage_and_keep_the_points(tmp_path: Path) -> None:
    workdir = tmp_path / "influxd"
    workdir.mkdir()
    server = Influxd(workdir, auth=True)
    server.start()
    try:
        server.query("CREATE USER admin WITH PASSWORD 'right-one' WITH ALL PRIVILEGES")
        db = unique_database()
        clock = ManualClock(T0)
        store = store_for(server, tmp_path, db, clock, username="admin", password="wrong-one")
        seen: list[StoreStatus] = []
        store.add_listener(seen.append)
        try:
            store.write([Reading(T0, "fridge-1", "temperature", 4.0)])
            store.forwarder.pump()
            st = store.status()
            assert st.degraded and st.degraded_reason.startswith("InfluxDB refused the credentials (401")
            assert st.depth == 1 and seen[-1].degraded
        finally:
            store.close()
        # Fixed credentials (a restart with the corrected config): the same outbox is delivered.
        store = store_for(server, tmp_path, db, clock, username="admin", password="right-one")
        try:
            store.forwarder.pump()
            assert store.status().depth == 0 and not store.status().degraded
        finally:
            store.close()
        store = store_for(server, tmp_path, db, clock, username="admin", password="right-one")
        try:
            assert [r.value for r in store.query("fridge-1", "temperature", T0, T0 + 1)] == [4.0]
        finally:
            store.close()
    finally:
        server.stop()


def test_restart_resumes_from_the_outbox(influxd: Influxd, tmp_path: Path) -> None:
    db = unique_database()
    clock = ManualClock(T0)
    influxd.stop()
    store = store_for(influxd, tmp_path, db, clock)
    store.write([Reading(T0 + i, "wm", "total_l", 100.0 + i) for i in range(50)])
    store.forwarder.pump()
    assert store.status().depth == 50
    store.close()  # the gateway stops with points still queued

    influxd.start()
    store = store_for(influxd, tmp_path, db, clock)
    try:
        assert store.status().depth == 50
        store.forwarder.pump()
        assert store.status().depth == 0
        assert [r.value for r in store.query("wm", "total_l", T0, T0 + 50)] == [100.0 + i for i in range(50)]
    finally:
        store.close()
    assert influxd.count(db, "houqin", "total_l") == 50
