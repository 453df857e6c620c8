"""The nightly maintenance component: runs once a night after 03:30 local, survives restarts."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from gateway.app import build_gateway
from gateway.clock import ManualClock
from gateway.config import parse_config
from gateway.model import Reading
from gateway.store.nightly import NightlyMaintenance
from gateway.store.retention import Retention
from gateway.store.sqlite import SqliteStore
from tests.store.timeline import SHANGHAI, D


def at(day: int, hour: int, minute: int = 0) -> float:
    return datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI).timestamp()


def test_runs_once_a_night_after_half_past_three_local(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "ts.db", retention=Retention(raw=2 * D))
    store.write([Reading(at(1, 0) + 600 * i, "m", "usage_l", 1.0) for i in range(6 * 144)])  # six days
    clock = ManualClock(at(5, 3, 29))
    job = NightlyMaintenance(store, clock, SHANGHAI)
    assert job.tick() is None  # 03:29: not yet
    clock.set(at(5, 3, 31))
    first = job.tick()
    assert first is not None
    assert first.deleted_raw == 2 * 144 + 3 * 6  # everything before 3 March 03:00 local
    assert job.tick() is None  # once a night
    clock.set(at(5, 23, 59))
    assert job.tick() is None
    # A restart the same night does not run it again: the last run is kept in the store.
    again = NightlyMaintenance(store, clock, SHANGHAI)
    assert again.tick() is None
    clock.set(at(6, 3, 30))
    second = again.tick()
    assert second is not None and second.deleted_raw == 144
    assert store.last_maintenance() == at(6, 3, 30)
    store.close()


def test_a_failing_run_is_logged_and_retried(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "ts.db")
    clock = ManualClock(at(5, 4))
    job = NightlyMaintenance(store, clock, SHANGHAI)
    store.close()
    assert job.tick() is None  # the store is closed: logged, not raised
    reopened = SqliteStore(tmp_path / "ts.db")
    job.store = reopened
    assert job.tick() is not None
    reopened.close()


def test_the_gateway_maintains_only_its_sqlite_store(tmp_path: Path) -> None:
    cfg = parse_config({"site": {"id": "kg"}, "storage": {"dir": str(tmp_path / "data")}})
    site = build_gateway(cfg, clock=ManualClock())
    try:
        assert site.nightly is not None and site.nightly.store is site.store and site.nightly.tz == SHANGHAI
    finally:
        site.close()


class _CountingStore(SqliteStore):
    """Counts reads of the last run: each read after a commit writes the WAL index's page to the card."""

    reads = 0

    def last_maintenance(self) -> float | None:
        self.reads += 1
        return super().last_maintenance()


def test_the_store_is_read_only_when_a_run_looks_due(tmp_path: Path) -> None:
    store = _CountingStore(tmp_path / "ts.db")
    clock = ManualClock(at(5, 3, 31))
    job = NightlyMaintenance(store, clock, SHANGHAI)
    assert job.tick() is not None and store.reads == 1
    for minute in range(1, 24 * 60 - 2):  # every minute until just before the next night's run
        clock.set(at(5, 3, 31) + 60 * minute)
        assert job.tick() is None
    assert store.reads == 1
    # Someone ran it by hand (another process) at the night's time, just before this tick:
    store.maintenance(at(6, 3, 30))
    clock.set(at(6, 3, 31))
    assert job.tick() is None  # read once, as it looked due, and not run a second time
    assert store.reads == 2
    clock.set(at(6, 3, 32))
    assert job.tick() is None and store.reads == 2
    clock.set(at(7, 3, 30))
    assert job.tick() is not None and store.reads == 3
    store.close()
