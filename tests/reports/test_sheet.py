"""The daily cold-storage sheet: check readings, min/max with times, minutes out of range, alerts with
corrective actions, frozen days that outlive raw readings, corrections as new records, retention."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest

from gateway.alerts import AlertService, AlertStore
from gateway.alerts.store import OpenRequest
from gateway.clock import ManualClock
from gateway.errors import ConfigError
from gateway.eventsdb import EventsDB
from gateway.reports.sheet import ColdSheet, SheetError
from gateway.store.sqlite import SqliteStore
from tests.reports.series import local_ts, make_config, write_temps

TZ = "Asia/Shanghai"
DAY = date(2026, 11, 19)


def fridge_temp(ts: float) -> float:
    if local_ts(DAY, 10, 0, TZ) <= ts < local_ts(DAY, 10, 20, TZ):
        return 10.0  # 20 minutes warm
    if ts == local_ts(DAY, 3, 0, TZ):
        return 2.5
    return 4.0


def test_sheet_day_numbers_alerts_freeze_and_corrections(tmp_path: Path) -> None:
    rules = [{"id": "fridge-warm", "kind": "threshold", "devices": ["fridge"], "above": 8.0, "for": "10m"}]
    cfg = make_config(tmp_path, tz=TZ, rules=rules)
    store = SqliteStore(tmp_path / "data" / "timeseries.db")
    db = EventsDB(tmp_path / "data" / "events.db")
    clock = ManualClock(local_ts(DAY, 23, 0, TZ))
    try:
        write_temps(store, "fridge", local_ts(DAY, 0, 0, TZ), local_ts(DAY, 23, 0, TZ), fridge_temp)
        alerts = AlertService(AlertStore(db), clock)
        clock.set(local_ts(DAY, 10, 10, TZ))
        a = alerts.raise_alert(OpenRequest("fridge-warm", "fridge", "threshold", "major", None, "temperature", 10.0,
                                           "temperature=10.0", local_ts(DAY, 10, 0, TZ)))
        clock.set(local_ts(DAY, 10, 15, TZ))
        alerts.ack(a.id, "li", "door was left open; closed it, food checked with a probe: 6 °C")
        clock.set(local_ts(DAY, 23, 0, TZ))

        sheet = ColdSheet(cfg, store, db, clock)
        line = next(x for x in sheet.day(DAY) if x.device == "fridge")
        assert [(c.at, c.value, c.ts) for c in line.checks] == [
            ("08:00", 4.0, local_ts(DAY, 8, 0, TZ)), ("14:00", 4.0, local_ts(DAY, 14, 0, TZ))]
        assert (line.min, line.min_at) == (2.5, local_ts(DAY, 3, 0, TZ))
        assert (line.max, line.max_at) == (10.0, local_ts(DAY, 10, 0, TZ))
        assert line.minutes_out == 20.0
        assert (line.low, line.high) == (None, 8.0)  # from the threshold rule
        assert line.readings == 23 * 60
        [al] = line.alerts
        assert (al.acked_by, al.action) == ("li", "door was left open; closed it, food checked with a probe: 6 °C")
        assert not line.frozen  # the day is not over
        freezer = next(x for x in sheet.day(DAY) if x.device == "freezer")
        assert freezer.readings == 0 and freezer.min is None and freezer.checks[0].value is None

        # An hour after the day ends the numbers are frozen; they outlive the raw readings.
        clock.set(local_ts(date(2026, 11, 20), 1, 0, TZ))
        assert next(x for x in sheet.day(DAY) if x.device == "fridge").frozen
        empty = SqliteStore(tmp_path / "other.db")
        later = ColdSheet(cfg, empty, db, clock)
        frozen = next(x for x in later.day(DAY) if x.device == "fridge")
        empty.close()
        assert (frozen.minutes_out, frozen.max, frozen.readings, frozen.frozen) == (20.0, 10.0, 1380, True)
        assert frozen.alerts[0].action is not None

        # Corrections are new records with who and why; the original stays, and edits are refused.
        with pytest.raises(SheetError, match="why"):
            sheet.correct("fridge", DAY, "check@08:00", "08:00 4.2 °C", "", "li")
        c = sheet.correct("fridge", DAY, "check@08:00", "08:00 4.2 °C", "probe thermometer read at 08:00", "li")
        again = next(x for x in sheet.day(DAY) if x.device == "fridge")
        assert again.checks[0].value == 4.0 and [x.id for x in again.corrections] == [c.id]
        assert again.corrections[0].by == "li" and again.corrections[0].reason.startswith("probe")
        with pytest.raises(sqlite3.DatabaseError, match="never edited"):
            db.conn().execute("UPDATE cold_sheet_days SET data='{}'")
        with pytest.raises(sqlite3.DatabaseError, match="never edited"):
            db.conn().execute("UPDATE cold_sheet_corrections SET value='x'")

        # The month view has a line per device per day up to today.
        month = sheet.month(2026, 11)
        assert len([x for x in month if x.device == "fridge"]) == 20

        # Kept 12 months: nothing goes at 364 days, the day goes after 400 (the default keep).
        clock.set(local_ts(date(2027, 11, 18), 12, 0, TZ))
        assert sheet.purge() == 0
        clock.set(local_ts(date(2027, 12, 25), 12, 0, TZ))
        assert sheet.purge() >= 2
        left = db.conn().execute("SELECT count(*) FROM cold_sheet_days WHERE day = ?", (DAY.isoformat(),)).fetchone()
        assert left[0] == 0
    finally:
        store.close()
        db.close()


def test_keep_shorter_than_a_year_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="365d"):
        make_config(tmp_path, reports={"sheet": {"keep": "180d"}})
    with pytest.raises(ConfigError, match="not a time of day"):
        make_config(tmp_path, reports={"sheet": {"check_times": ["8am"]}})


def test_scheduler_freezes_finished_days_once_a_day(tmp_path: Path) -> None:
    from gateway.reports.scheduler import ReportScheduler
    from gateway.reports.service import Reports

    cfg = make_config(tmp_path, tz=TZ)
    store = SqliteStore(tmp_path / "data" / "timeseries.db")
    db = EventsDB(tmp_path / "data" / "events.db")
    clock = ManualClock(local_ts(date(2026, 11, 20), 0, 30, TZ))
    try:
        write_temps(store, "fridge", local_ts(DAY, 0, 0, TZ), local_ts(DAY, 23, 59, TZ), fridge_temp, every=300)
        sched = ReportScheduler(Reports(cfg, store, db, clock), clock)
        assert sched.daily_due(clock.now()) is False  # before 01:00: late readings may still come
        clock.set(local_ts(date(2026, 11, 20), 1, 5, TZ))
        assert sched.daily_due(clock.now()) is True
        assert sched.daily_due(clock.now()) is False  # once a day
        frozen = db.conn().execute("SELECT device, day FROM cold_sheet_days WHERE day = ?", (DAY.isoformat(),))
        assert {r[0] for r in frozen} == {"fridge", "sample-fridge", "freezer"}
        row = db.conn().execute("SELECT data FROM cold_sheet_days WHERE device='fridge' AND day=?",
                                (DAY.isoformat(),)).fetchone()
        assert '"minutes_out": 20.0' in row[0]
    finally:
        store.close()
        db.close()


def test_a_day_is_not_frozen_while_the_store_cannot_be_read(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, tz=TZ)
    store = SqliteStore(tmp_path / "data" / "timeseries.db")
    db = EventsDB(tmp_path / "data" / "events.db")
    clock = ManualClock(local_ts(date(2026, 11, 21), 9, 0, TZ))
    try:
        write_temps(store, "fridge", local_ts(DAY, 0, 0, TZ), local_ts(DAY, 23, 59, TZ), fridge_temp, every=300)
        store.close()  # reads now fail: the sheet shows nothing for now, and freezes nothing
        down = ColdSheet(cfg, store, db, clock)
        line = down.day(DAY, "fridge")[0]
        assert line.readings == 0 and not line.frozen
        store = SqliteStore(tmp_path / "data" / "timeseries.db")
        line = ColdSheet(cfg, store, db, clock).day(DAY, "fridge")[0]
        assert line.frozen and line.minutes_out == 20.0
    finally:
        store.close()
        db.close()
