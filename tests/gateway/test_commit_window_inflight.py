"""A commit window that holds as many messages as the broker lets be in flight commits at once: the broker sends
no more until they are acknowledged, so waiting out ``commit_interval`` drained a backlog (after a restart, an
outage) one broker window per interval. Stopping commits the open window."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gateway.app import Gateway
from gateway.clock import ManualClock
from gateway.config import parse_config
from gateway.deadletters import DeadLetters
from gateway.eventsdb import EventsDB
from gateway.ingest import Ingest
from gateway.model import CommittedBatch
from gateway.mosquitto.site import MAX_INFLIGHT
from gateway.mqtt_link import RECEIVE_MAXIMUM, InboundMessage
from gateway.store.sqlite import SqliteStore
from tests.gateway.ingest_helpers import SITE, Publisher
from tests.mosquitto import Mosquitto
from tests.waiting import wait_for


class CommittedBatchCounter:
    """Counts the readings ingest tells (as they arrive, before their commit)."""

    def __init__(self, told: list[int]) -> None:
        self.told = told

    def on_batch(self, batch: CommittedBatch) -> None:
        self.told.append(len(batch.readings))


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_a_backlog_larger_than_the_in_flight_window_is_committed_without_waiting_the_interval(
        tmp_path: Path, protocol: str) -> None:
    (tmp_path / "mq").mkdir()
    # The broker as `houqin mqtt setup` configures it (MQTT 3.1.1 has no receive maximum: the broker's own window).
    broker = Mosquitto(tmp_path / "mq", extra=f"max_inflight_messages {MAX_INFLIGHT}")
    broker.start()
    cfg = parse_config({"site": {"id": SITE}, "mqtt": {"url": broker.url, "client_id": "gw", "protocol": protocol},
                        "storage": {"dir": str(tmp_path / "data"), "commit_interval": "60s"},
                        "devices": [{"id": "fridge-1", "kind": "fridge"}]})
    n = RECEIVE_MAXIMUM + 50
    pub = Publisher(broker.port)
    try:
        gw = Gateway(cfg)
        gw.start()  # subscribes once: the broker keeps the session and queues for it while it is away
        pub.wait_gateway()
        gw.stop()
        t0 = time.time() - n
        for i in range(n):
            pub.state("fridge-1", {"temperature": 4.0}, ts=t0 + i, seq=i + 1)
        gw = Gateway(cfg)
        told: list[int] = []
        gw.ingest.add_observer(CommittedBatchCounter(told))
        gw.start()
        try:
            wait_for(lambda: gw.ingest.stats()["acked"] >= RECEIVE_MAXIMUM, timeout=30,
                     what="the first broker window committed and acknowledged (the interval is 60 s)")
            # what was acknowledged was committed first (a window may hold our own birth message too)
            stored = gw.store.query("fridge-1", "temperature", t0 - 1, t0 + n)
            assert len(stored) >= RECEIVE_MAXIMUM - 10
            assert [r.value for r in stored] == [4.0] * len(stored)
            wait_for(lambda: sum(told) == n, timeout=30, what="the rest of the backlog in the open window")
        finally:
            gw.stop()  # commits the open window (the rest of the backlog) before it returns
        store = SqliteStore(cfg.storage.path / "timeseries.db")
        try:
            assert len(store.query("fridge-1", "temperature", t0 - 1, t0 + n)) == n
        finally:
            store.close()
    finally:
        pub.close()
        broker.stop()


def test_stopping_commits_and_acknowledges_the_open_window(tmp_path: Path) -> None:
    # Before, stop() left a writer waiting out a long window: it gave up after its timeout with nothing committed.
    t0 = 1_790_000_000.0
    clock = ManualClock(t0)
    db = EventsDB(tmp_path / "events.db")
    store = SqliteStore(tmp_path / "ts.db")
    cfg = parse_config({"site": {"id": "kg"}, "mqtt": {"url": "mqtt://127.0.0.1:1"},
                        "storage": {"dir": str(tmp_path), "commit_interval": "60s"},
                        "devices": [{"id": "fridge", "kind": "fridge"}]})
    ing = Ingest(cfg, store, db, DeadLetters(db, clock), clock)
    told: list[int] = []
    ing.add_observer(CommittedBatchCounter(told))
    ing.start()
    acks: list[int] = []
    try:
        for i in range(3):
            ing.on_message(InboundMessage("houqin/kg/fridge/state", f'{{"temperature": 4.5, "ts": {t0 + i}}}'.encode(),
                                          1, False, i + 1, lambda m, q: acks.append(m)))
        wait_for(lambda: sum(told) == 3, what="the readings in the open window")
        assert acks == []
    finally:
        ing.stop()
    try:
        assert acks == [1, 2, 3]
        assert [r.value for r in store.query("fridge", "temperature", t0, t0 + 10)] == [4.5, 4.5, 4.5]
    finally:
        store.close()
        db.close()
