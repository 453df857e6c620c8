"""The food-sample ledger: registration checks, a fridge warm for 20 minutes flags its samples and alerts
at once, a short blip does not, the 48-hour reminder, who discarded, corrections as new records."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from gateway.alerts import AlertService, AlertStore
from gateway.clock import ManualClock
from gateway.eventsdb import EventsDB
from gateway.model import CommittedBatch, Reading
from gateway.reports.samples import SAMPLE_RULE, SampleError, SampleLedger, SampleWatch
from gateway.store.sqlite import SqliteStore
from tests.reports.series import local_ts, make_config

TZ = "Asia/Shanghai"
DAY = date(2026, 11, 19)
LUNCH = [("番茄炒蛋", "150"), ("红烧肉", "130"), ("米饭", "100")]


class Kitchen:
    def __init__(self, tmp_path: Path) -> None:
        self.cfg = make_config(tmp_path, tz=TZ)
        self.store = SqliteStore(tmp_path / "data" / "timeseries.db")
        self.db = EventsDB(tmp_path / "data" / "events.db")
        self.clock = ManualClock(local_ts(DAY, 12, 0, TZ))
        self.alerts = AlertService(AlertStore(self.db), self.clock)
        self.ledger = SampleLedger(self.cfg, self.db, self.clock, self.store, self.alerts)
        self.watch = SampleWatch(self.ledger, self.alerts, "en")

    def temps(self, device: str, minutes: int, value: float, others: float = 4.0) -> None:
        """One reading a minute of ``device`` (and ``others`` for the other fridge), committed and observed
        like ingest does, moving the clock."""
        other = "fridge" if device == "sample-fridge" else "sample-fridge"
        for _ in range(minutes):
            batch = (Reading(self.clock.now(), device, "temperature", value),
                     Reading(self.clock.now(), other, "temperature", others))
            self.store.write(batch)
            self.watch.on_batch(CommittedBatch(batch))
            self.clock.advance(60)

    def close(self) -> None:
        self.store.close()
        self.db.close()


@pytest.fixture
def k(tmp_path: Path) -> Kitchen:
    kitchen = Kitchen(tmp_path)
    yield kitchen  # type: ignore[misc]
    kitchen.close()


def test_register_checks_and_warns(k: Kitchen) -> None:
    s, warnings = k.ledger.register(DAY.isoformat(), "lunch", LUNCH, "sample-fridge", "王师傅", by="li")
    assert warnings == ["米饭: 100 g is under 125 g"]
    assert [d.grams for d in s.dishes] == [150, 130, 100] and s.staff == "王师傅" and s.registered_by == "li"
    assert s.due_at == s.taken_at + 48 * 3600 and s.status(k.clock.now()) == "keeping"
    with pytest.raises(SampleError) as e:
        k.ledger.register("19/11/2026", "brunch", [("汤", "abc")], "freezer", " ", by="li")
    msg = str(e.value)
    for part in ("YYYY-MM-DD", "meal 'brunch'", "fridge 'freezer'", "staff", "not a number"):
        assert part in msg
    with pytest.raises(SampleError) as zh:
        k.ledger.register("2026/11/19", "lunch", [("汤", "0")], "sample-fridge", "王师傅", by="li", locale="zh-CN")
    assert str(zh.value) == "日期 '2026/11/19'：请按 YYYY-MM-DD 填写; 菜品 汤：克数必须大于 0"
    _, zh_warn = k.ledger.register(DAY.isoformat(), "lunch", [("米饭", "100")], "sample-fridge", "王师傅", by="li",
                                   locale="zh-CN")
    assert zh_warn == ["米饭：100 克，不足 125 克"]
    with pytest.raises(SampleError, match="at least one dish"):
        k.ledger.register(DAY.isoformat(), "lunch", [("", "")], "sample-fridge", "王师傅", by="li")


def test_fridge_warm_for_20_minutes_flags_and_alerts_at_once(k: Kitchen) -> None:
    lunch, _ = k.ledger.register(DAY.isoformat(), "lunch", LUNCH, "sample-fridge", "王师傅", by="li")
    other, _ = k.ledger.register(DAY.isoformat(), "lunch", LUNCH[:1], "fridge", "王师傅", by="li")
    k.temps("sample-fridge", 60, 4.0)
    k.temps("fridge", 5, 9.0)  # a 5-minute door opening in the other fridge: under the 10-minute grace
    assert k.alerts.list() == []
    k.temps("sample-fridge", 10, 9.5)
    assert k.ledger.get(lunch.id).flagged is None  # 9 minutes from the first warm reading: not yet
    k.temps("sample-fridge", 1, 9.5)
    # At 10 minutes the sample is flagged and the alert is open, while the fridge is still warm.
    flagged = k.ledger.get(lunch.id).flagged
    assert flagged is not None and "9.5 °C for 10 min" in (flagged.value or "")
    [alert] = k.alerts.list(open_only=True)
    assert (alert.rule, alert.device, alert.kind, alert.severity) == (SAMPLE_RULE, "sample-fridge",
                                                                       "sample_excursion", "critical")
    assert json.loads(alert.detail)["samples"][0][0] == lunch.id and alert.latch  # data: words when shown
    k.temps("sample-fridge", 9, 9.5)  # 20 minutes warm in all
    k.temps("sample-fridge", 30, 4.0)
    assert k.alerts.get(alert.id).state == "active"  # latched until someone acknowledges
    ok, text = k.ledger.verdict(k.ledger.get(lunch.id), "en")
    assert not ok and text.startswith("compromised: ") and "20 min up to 9.5 °C" in text
    ok2, text2 = k.ledger.verdict(k.ledger.get(other.id), "en")
    assert ok2 and text2 == "0–8 °C so far (1 of 48 h)"
    assert k.ledger.get(other.id).flagged is None
    # Without readings the 48 hours are not proven, even with no excursion.
    quiet, _ = k.ledger.register(DAY.isoformat(), "dinner", LUNCH, "sample-fridge", "王师傅", by="li")
    k.clock.advance(3 * 3600)
    ok3, text3 = k.ledger.verdict(k.ledger.get(quiet.id), "zh-CN")
    assert not ok3 and text3 == "无法证明：冰箱有 2.8 小时没有读数"
    assert k.ledger.get(lunch.id).status(k.clock.now()) == "compromised"


def test_48h_reminder_discard_and_corrections(k: Kitchen) -> None:
    s, _ = k.ledger.register(DAY.isoformat(), "lunch", LUNCH, "sample-fridge", "王师傅", by="li")
    k.clock.advance(47 * 3600)
    assert k.ledger.due_reminders() == []
    with pytest.raises(SampleError, match="must be kept until 2026-11-21 12:00"):
        k.ledger.discard(s.id, "王师傅")
    k.clock.advance(3600)
    [due] = k.ledger.due_reminders()
    assert due.id == s.id and k.ledger.due_reminders() == []  # reminded once
    assert k.ledger.get(s.id).status(k.clock.now()) == "due"
    k.clock.advance(600)
    done = k.ledger.discard(s.id, "张阿姨", "bin")
    assert done.discarded is not None and done.discarded.by == "张阿姨" and done.discarded.ts == k.clock.now()
    with pytest.raises(SampleError, match="already discarded by 张阿姨"):
        k.ledger.discard(s.id, "王师傅")
    fixed = k.ledger.correct(s.id, "staff", "王建国", "full name for the inspection", "li")
    assert fixed.staff == "王师傅" and fixed.current()["staff"] == "王建国"
    assert [e.what for e in fixed.events] == ["due", "discarded", "corrected"]
    with pytest.raises(sqlite3.DatabaseError, match="never edited"):
        k.db.conn().execute("UPDATE food_samples SET staff = 'x'")
    assert [x.id for x in k.ledger.month(2026, 11)] == [s.id] and k.ledger.month(2026, 12) == []
    # Kept at least 12 months.
    k.clock.advance(364 * 86400)
    assert k.ledger.purge() == 0
    k.clock.advance(40 * 86400)
    assert k.ledger.purge() == 1 and k.ledger.month(2026, 11) == []
