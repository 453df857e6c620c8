"""A store that cannot commit (full) stops acknowledging, so the broker keeps the data; nothing is dead-lettered.

The disk is "filled" with SQLite's page limit on the store's writer connection (``tests.disk``); its background
checkpoint failing meanwhile is told once, not with a traceback every second.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from gateway.app import Gateway
from gateway.clock import ManualClock
from gateway.config import Config
from gateway.model import Reading
from gateway.store.sqlite import SqliteStore
from tests.disk import fill, make_room
from tests.gateway.ingest_helpers import Publisher
from tests.gateway.ingest_helpers import stored_values as values
from tests.mosquitto import Mosquitto
from tests.waiting import wait_for

N = 300


def test_a_full_store_keeps_messages_unacked_until_it_can_commit(config: Config, mosquitto: Mosquitto,
                                                                  clock: ManualClock) -> None:
    gw = Gateway(config, clock=clock)
    gw.start()
    pub = Publisher(mosquitto.port)
    try:
        pub.wait_gateway()
        t = clock.now() - N
        pub.state("fridge-1", {"temperature": 4.0}, ts=t - 1, seq=1)
        wait_for(lambda: values(gw, "fridge-1", "temperature", clock) == [4.0], what="the first reading")
        store = gw.store
        assert isinstance(store, SqliteStore)
        with store._wlock:
            fill(store._writer)
        for i in range(N):
            pub.state("fridge-1", {"temperature": 4.0 + (i % 10) / 10}, ts=t + i, seq=2 + i)
        wait_for(lambda: gw.ingest.stats()["commit_failing_since"] is not None, what="a failed commit")
        stats = gw.ingest.stats()
        assert stats["acked"] < stats["received"]  # not acknowledged: the broker keeps them
        assert stats["oldest_unacked"] is not None and stats["oldest_unacked"] <= clock.now()
        assert gw.dead_letters.counts() == {}  # and nothing dead-lettered: the readings are good
        gw.stop()

        gw = Gateway(config, clock=clock)  # space again (a fresh connection has no page limit)
        gw.start()
        wait_for(lambda: len(values(gw, "fridge-1", "temperature", clock)) == N + 1, timeout=60,
                 what="every reading the broker kept")
        assert gw.ingest.wait_idle(10)
        assert gw.ingest.stats()["commit_failing_since"] is None
        assert gw.ingest.stats()["oldest_unacked"] is None
        assert gw.dead_letters.counts() == {}
    finally:
        gw.stop()
        pub.close()


def test_a_failing_checkpoint_is_told_once_not_every_second(tmp_path: Path,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    # Before: the checkpoint ticker logged an 8-line traceback every second while the disk was full.
    store = SqliteStore(tmp_path / "ts.db")
    try:
        store.write([Reading(1_790_000_000.0, "fridge-1", "temperature", 4.0)])
        broken = sqlite3.connect(":memory:")
        broken.close()
        healthy, store._ckpt_conn = store._ckpt_conn, broken  # every checkpoint now fails, as on a full disk
        caplog.set_level(logging.INFO, logger="gateway")
        for _ in range(10):
            assert store.checkpoint() == 0
        store._ckpt_conn = healthy
        store.checkpoint()
        lines = [r for r in caplog.records if r.name == "gateway.store.sqlite"]
        assert [r.exc_info for r in lines] == [None, None]
        assert "cannot checkpoint" in lines[0].getMessage() and "works again" in lines[1].getMessage()
    finally:
        store.close()


def test_a_meter_total_retried_after_a_full_store_counts_its_usage_once(config: Config, mosquitto: Mosquitto,
                                                                        clock: ManualClock) -> None:
    # Before: the retry wrote the window prepared for the failed attempt, while that attempt had put the meter
    # state back to the last commit's: the next total counted the retried window's litres a second time.
    gw = Gateway(config, clock=clock)
    gw.start()
    pub = Publisher(mosquitto.port)
    try:
        pub.wait_gateway()
        t = clock.now() - 100
        pub.state("water", {"total_l": 1000.0}, ts=t, seq=1)
        wait_for(lambda: gw.ingest.stats()["readings"] == 1, what="the meter's first total")
        store = gw.store
        assert isinstance(store, SqliteStore)
        with store._wlock:
            fill(store._writer)
        for i in range(1, 41):
            pub.state("water", {"total_l": 1000.0 + 10 * i}, ts=t + i, seq=1 + i)
        wait_for(lambda: gw.ingest.stats()["commit_errors"] >= 1, what="a failed commit")
        with store._wlock:
            make_room(store._writer)
        wait_for(lambda: gw.ingest.stats()["readings"] == 1 + 2 * 40, what="the window committed on a retry")
        pub.state("water", {"total_l": 1500.0}, ts=t + 50, seq=50)
        wait_for(lambda: gw.ingest.stats()["readings"] == 1 + 2 * 41, what="the next total")
        assert gw.ingest.wait_idle(10)
        assert gw.ingest.stats()["acked"] == gw.ingest.stats()["received"]
        usage = values(gw, "water", "usage_l", clock)
        assert sum(usage) == 500.0 and usage[-1] == 100.0
    finally:
        gw.stop()
        pub.close()
