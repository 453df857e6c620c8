"""Checklists with an injected clock and real SQLite: when each is due (daily, weekly, before a holiday), the
devices' evidence beside an item, a "pass" the sensors contradict warned before saving, photos checked, the
overdue alert through its chain, and records that are never edited."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.alerts import AlertService, AlertStore
from gateway.calendar import SchoolCalendar, parse_days
from gateway.clock import ManualClock
from gateway.config import Config, parse_config
from gateway.contract import state_value
from gateway.eventsdb import EventsDB
from gateway.inspections.checklist_watch import OVERDUE_RULE, ChecklistWatch
from gateway.inspections.checklists import ChecklistError, Checklists, Contradicted, ItemResult
from gateway.inspections.schedule import is_due
from gateway.model import Reading
from gateway.store.sqlite import SqliteStore
from tests.inspections.conftest import MONDAY, ts
from tests.waiting import COMMIT_WINDOW

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 200
KITCHEN_DAILY: dict[str, Any] = {
    "id": "kitchen-daily", "name": "厨房每日检查", "role": "kitchen", "window": "07:00-09:00", "notify": "kitchen",
    "items": [{"id": "fridge", "text": "冰箱温度正常", "devices": ["fridge-1"]},
              {"id": "door", "text": "库房门已关好", "devices": ["store-door"]},
              {"id": "water", "text": "夜间无用水", "devices": ["water"]},
              {"id": "gas", "text": "燃气阀已关"}]}


def config(tmp_path: Path) -> Config:
    return parse_config({
        "site": {"id": "kg", "locale": "en"},
        "storage": {"dir": str(tmp_path / "data"), "commit_interval": COMMIT_WINDOW},
        "dashboard": {"bind": "127.0.0.1", "port": 0},
        "calendar": {"holidays": ["2026-11-06"]},
        "devices": [{"id": "fridge-1", "kind": "fridge", "name": "冷藏冰箱"},
                    {"id": "store-door", "kind": "door", "name": "库房门"},
                    {"id": "water", "kind": "water_meter", "name": "总水表"}],
        "notify": {"channels": {"hook": {"type": "webhook", "format": "generic", "url": "http://127.0.0.1:9/"}},
                   "chains": {"kitchen": {"steps": [{"channels": ["hook"]}]}}},
        "inspections": {"checklists": [
            KITCHEN_DAILY,
            {"id": "playground", "name": "大型玩具周查", "schedule": "weekly", "weekday": "mon",
             "window": "08:00-10:00",
             "items": [{"id": "slide", "text": "滑梯无松动"}]},
            {"id": "closing", "name": "放假前关闭检查", "schedule": "before_holiday", "window": "15:00-18:00",
             "items": [{"id": "power", "text": "电源已关"}]}]},
    })


class Kitchen:
    def __init__(self, tmp_path: Path) -> None:
        self.cfg = config(tmp_path)
        (tmp_path / "data").mkdir(exist_ok=True)
        self.store = SqliteStore(tmp_path / "data" / "timeseries.db")
        self.db = EventsDB(tmp_path / "data" / "events.db")
        self.clock = ManualClock(ts(MONDAY, 7, 30))
        self.alerts = AlertService(AlertStore(self.db), self.clock)
        self.checklists = Checklists(self.cfg, self.db, self.clock, self.store)
        self.watch = ChecklistWatch(self.checklists, self.alerts, self.clock, "en")

    def readings(self, fridge: float, door: str, night_l: float) -> None:
        """The last 24 hours of the fridge (4 °C, then ``fridge`` for the last 20 min), the door, the meter."""
        now = self.clock.now()
        rs = [Reading(now - k * 300, "fridge-1", "temperature", 4.0 if k > 4 else fridge) for k in range(288, -1, -1)]
        rs += [Reading(now - 7200, "store-door", "contact", state_value("contact", "closed")),
               Reading(now - 600, "store-door", "contact", state_value("contact", door))]
        rs += [Reading(ts(MONDAY, 2, 0), "water", "usage_l", night_l / 2),
               Reading(ts(MONDAY, 3, 0), "water", "usage_l", night_l / 2)]
        self.store.write(rs)

    def close(self) -> None:
        self.store.close()
        self.db.close()


@pytest.fixture
def k(tmp_path: Path) -> Iterator[Kitchen]:
    kitchen = Kitchen(tmp_path)
    yield kitchen
    kitchen.close()


ALL_PASS = {i: ItemResult(True) for i in ("fridge", "door", "water", "gas")}


def test_when_checklists_are_due(k: Kitchen) -> None:
    cal = SchoolCalendar(k.cfg.calendar, k.cfg.site.tz)
    holidays = parse_days(k.cfg.calendar.holidays)
    days = [MONDAY + timedelta(days=i) for i in range(-7, 14)]
    daily, weekly, closing = k.cfg.inspections.checklists

    def due(c: Any) -> list[str]:
        return [d.isoformat() for d in days if is_due(c, d, cal, holidays)]

    assert due(weekly) == ["2026-10-26", "2026-11-02", "2026-11-09"]
    # Friday 6 November is a holiday: the closing check is due on Thursday, not before an ordinary weekend.
    assert due(closing) == ["2026-11-05"]
    assert "2026-11-06" not in due(daily) and "2026-11-07" not in due(daily) and "2026-11-05" in due(daily)


def test_evidence_beside_the_items(k: Kitchen) -> None:
    k.readings(fridge=4.5, door="closed", night_l=36.0)
    ev = k.checklists.evidence(k.cfg.inspections.checklists[0], "zh-CN")
    (fridge,), (door,), (water,) = ev["fridge"], ev["door"], ev["water"]
    assert fridge.name == "冷藏冰箱" and fridge.lines[0] == "最近 24 小时：4.0 至 4.5 °C，当前 4.5 °C"
    assert fridge.contradicts is None and door.contradicts is None
    assert door.lines == ["关闭，自 11-02 05:30 起"]  # closed at both readings
    assert water.lines == ["昨夜 00:00-05:00：36.0 L"]
    assert ev["gas"] == []


def test_a_pass_the_sensors_contradict_is_warned_before_it_is_saved(k: Kitchen) -> None:
    k.readings(fridge=9.5, door="open", night_l=0.0)
    with pytest.raises(Contradicted) as e:
        k.checklists.submit("kitchen-daily", ALL_PASS, by="李阿姨", locale="zh-CN")
    assert set(e.value.items) == {"fridge", "door"}
    assert "冷藏冰箱 当前 9.5 °C，超出范围" in str(e.value) and "库房门 现在是开着的" in str(e.value)
    assert k.checklists.history("kitchen-daily") == []
    run = k.checklists.submit("kitchen-daily", ALL_PASS, by="李阿姨", confirm=True)
    assert [(r.item, r.passed, r.warned) for r in run.results] == [
        ("fridge", True, True), ("door", True, True), ("water", True, False), ("gas", True, False)]
    assert run.results[0].evidence[0]["contradicts"] == "冷藏冰箱 is at 9.5 °C now, outside its range"
    assert run.due_day == MONDAY and not run.late


def test_fails_need_a_note_and_every_item_an_answer(k: Kitchen) -> None:
    k.readings(fridge=4.0, door="closed", night_l=0.0)
    with pytest.raises(ChecklistError) as e:
        k.checklists.submit("kitchen-daily", {"fridge": ItemResult(False), "gas": ItemResult(True)}, by="李阿姨")
    assert "库房门已关好; 夜间无用水" in str(e.value) and "冰箱温度正常: say what is wrong" in str(e.value)
    run = k.checklists.submit("kitchen-daily", {**ALL_PASS, "gas": ItemResult(False, "阀门漏气，已报修")}, by="李阿姨")
    assert [r.item for r in run.failed] == ["gas"]


def test_photos_are_checked_and_kept_on_disk(k: Kitchen) -> None:
    k.readings(fridge=4.0, door="closed", night_l=0.0)
    with pytest.raises(ChecklistError, match="JPEG or PNG"):
        k.checklists.submit("kitchen-daily", {**ALL_PASS, "gas": ItemResult(True, photo=b"GIF89a....")}, by="li")
    with pytest.raises(ChecklistError, match="larger than 2048 KB"):
        k.checklists.submit("kitchen-daily", {**ALL_PASS, "gas": ItemResult(True, photo=PNG + b"\0" * 2 ** 21)},
                            by="li")
    run = k.checklists.submit("kitchen-daily", {**ALL_PASS, "gas": ItemResult(True, photo=PNG)}, by="li")
    name = run.results[3].photo
    assert name is not None and name.endswith(".png")
    path = k.checklists.photo_path(name)
    assert path is not None and path.read_bytes() == PNG
    assert k.checklists.photo_path("../events.db") is None


def test_overdue_alert_through_its_chain_and_ended_when_done(k: Kitchen) -> None:
    k.clock.set(ts(MONDAY, 8, 59))
    k.readings(fridge=4.0, door="closed", night_l=0.0)
    assert k.watch.tick() == []
    k.clock.set(ts(MONDAY, 9, 0))
    assert set(k.watch.tick()) == {"kitchen-daily"}  # the playground check is due by 10:00
    (alert,) = k.alerts.list(rule=OVERDUE_RULE)
    assert alert.chain == "kitchen" and alert.device == "kitchen-daily"
    assert alert.detail == "厨房每日检查 of 2026-11-02 not done by 09:00"
    k.clock.set(ts(MONDAY, 9, 20))
    run = k.checklists.submit("kitchen-daily", ALL_PASS, by="李阿姨")
    assert run.late
    k.watch.tick()
    assert k.alerts.get(alert.id).state == "cleared"


def test_records_are_never_edited(k: Kitchen) -> None:
    k.readings(fridge=4.0, door="closed", night_l=0.0)
    run = k.checklists.submit("kitchen-daily", ALL_PASS, by="li")
    with pytest.raises(sqlite3.DatabaseError, match="never edited"):
        k.db.conn().execute("UPDATE checklist_results SET passed = 0 WHERE run_id = ?", (run.id,))
    with pytest.raises(sqlite3.DatabaseError, match="never deleted"):
        k.db.conn().execute("DELETE FROM checklist_runs")
    # a correction is a new run for the same day; the latest counts
    again = k.checklists.submit("kitchen-daily", {**ALL_PASS, "gas": ItemResult(False, "复查发现阀门未关严")}, by="li")
    assert k.checklists.latest("kitchen-daily", MONDAY) == again and len(k.checklists.history("kitchen-daily")) == 2
