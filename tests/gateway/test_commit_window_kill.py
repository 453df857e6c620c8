"""kill -9 of `houqin run` while a commit window is open, or between its two commits: after a restart every
reading is there once and no usage is doubled."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from gateway.eventsdb import EVENTS_DB_NAME
from tests.gateway.ingest_helpers import Publisher, write_config
from tests.gateway.test_cli import start_run, stored
from tests.mosquitto import Mosquitto
from tests.waiting import wait_for


def test_kill_9_inside_an_open_commit_window_loses_and_doubles_nothing(tmp_path: Path, mosquitto: Mosquitto) -> None:
    data = tmp_path / "data"
    # A long window, so the kill surely lands while the messages wait in it, received but uncommitted.
    config = write_config(tmp_path / "houqin.toml", data, mosquitto.url, commit_interval="60s")
    log = tmp_path / "run.log"
    proc = start_run(config, log)
    pub = Publisher(mosquitto.port)
    n = 40
    t0 = time.time() - n
    try:
        pub.wait_gateway(30)
        for i in range(n):
            pub.state("water", {"total_l": 100.0 + 3 * i}, ts=t0 + i, seq=i + 1)
        assert stored(data, "water", "total_l") == []  # all of them are in the open window
        proc.kill()
        proc.wait(10)
        write_config(config, data, mosquitto.url)  # a short window for the restart
        pub.gateway_online = False
        proc = start_run(config, log)
        pub.wait_gateway(30)
        wait_for(lambda: len(stored(data, "water", "total_l")) >= n, timeout=60, what="every reading after restart")
        assert stored(data, "water", "total_l") == [100.0 + 3 * i for i in range(n)]
        assert stored(data, "water", "usage_l") == [3.0] * (n - 1)
    finally:
        pub.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_kill_9_between_the_store_commit_and_the_events_commit_doubles_no_usage(
        tmp_path: Path, mosquitto: Mosquitto) -> None:
    """A total without its own ts is stamped on arrival: a redelivery brings it under a new stamp.

    Before, the meter state was committed to the events database after the readings and usage were
    committed to the time-series store; a kill between the two stored the usage again under the new
    stamp (usage 30 L counted twice). The events database is held locked here, so ingest waits exactly
    there (the message's dead letter goes to the events database) when the gateway is killed.
    """
    data = tmp_path / "data"
    config = write_config(tmp_path / "houqin.toml", data, mosquitto.url)
    log = tmp_path / "run.log"
    proc = start_run(config, log)
    pub = Publisher(mosquitto.port)
    lock: sqlite3.Connection | None = None
    try:
        pub.wait_gateway(30)
        pub.state("water", {"total_l": 100.0})
        wait_for(lambda: stored(data, "water", "total_l") == [100.0], timeout=30, what="the first total")
        lock = sqlite3.connect(data / EVENTS_DB_NAME, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")  # like a long alert commit: ingest's events-DB commit waits
        pub.state("water", {"total_l": 130.0, "temperature": 900.0})  # 900 °C is dead-lettered
        wait_for(lambda: stored(data, "water", "total_l") == [100.0, 130.0], timeout=30,
                 what="the readings committed to the time-series store")
        proc.kill()
        proc.wait(10)
        lock.execute("ROLLBACK")
        pub.gateway_online = False
        proc = start_run(config, log)
        pub.wait_gateway(30)
        pub.state("water", {"total_l": 140.0})  # after the redelivered one
        wait_for(lambda: stored(data, "water", "total_l")[-1:] == [140.0], timeout=60, what="the last total")
        assert sum(stored(data, "water", "usage_l")) == 40.0
    finally:
        if lock is not None:
            lock.close()
        pub.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_kill_9_after_the_store_commit_stores_a_reading_stamped_on_arrival_once(
        tmp_path: Path, mosquitto: Mosquitto) -> None:
    """Seqs of readings with their own time are saved only every few minutes (a redelivery overwrites its
    own row); a reading stamped on arrival would come back under a new stamp, so its seq commits with it."""
    data = tmp_path / "data"
    config = write_config(tmp_path / "houqin.toml", data, mosquitto.url)
    log = tmp_path / "run.log"
    proc = start_run(config, log)
    pub = Publisher(mosquitto.port)
    lock: sqlite3.Connection | None = None
    t0 = time.time() - 60
    try:
        pub.wait_gateway(30)
        pub.state("fridge-1", {"temperature": 3.0}, ts=t0, seq=1)  # its own time: its seq waits
        wait_for(lambda: stored(data, "fridge-1", "temperature") == [3.0], timeout=30, what="the first reading")
        lock = sqlite3.connect(data / EVENTS_DB_NAME, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")  # ingest's events-DB commit (the dead letter) waits: nothing is acked
        pub.state("fridge-1", {"temperature": 4.0, "humidity_pct": 140.0}, seq=2)  # stamped on arrival
        wait_for(lambda: stored(data, "fridge-1", "temperature") == [3.0, 4.0], timeout=30,
                 what="the reading committed to the time-series store")
        proc.kill()
        proc.wait(10)
        lock.execute("ROLLBACK")
        pub.gateway_online = False
        proc = start_run(config, log)
        pub.wait_gateway(30)
        pub.state("fridge-1", {"temperature": 5.0}, seq=3)  # after the redelivered one
        wait_for(lambda: stored(data, "fridge-1", "temperature")[-1:] == [5.0], timeout=60, what="the last reading")
        pub.state("fridge-1", {"temperature": 3.0}, ts=t0, seq=1)  # the first again: overwrites itself
        pub.state("fridge-1", {"temperature": 6.0}, seq=4)
        wait_for(lambda: stored(data, "fridge-1", "temperature")[-1:] == [6.0], timeout=60, what="the next reading")
        assert stored(data, "fridge-1", "temperature") == [3.0, 4.0, 5.0, 6.0]
    finally:
        if lock is not None:
            lock.close()
        pub.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
