"""The hazard ledger and repairs with an injected clock: a failed checklist item opens a hazard, the owner
rectifies and asks to close it, the logistics head confirms, an overdue hazard alerts (critical when major)
and ends when closed, the ledger is per year; repairs taken and done, overdue after three days."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from gateway.inspections.checklists import ItemResult
from gateway.inspections.hazard_watch import HAZARD_RULE, HazardWatch
from gateway.inspections.ledger import Ledger, LedgerError
from tests.inspections.conftest import MONDAY, ts
from tests.inspections.test_checklists import ALL_PASS, PNG, Kitchen

DAY = 86400.0


@pytest.fixture
def k(tmp_path: Path) -> Iterator[Kitchen]:
    kitchen = Kitchen(tmp_path)
    yield kitchen
    kitchen.close()


def test_a_failed_checklist_item_opens_a_hazard(k: Kitchen) -> None:
    k.readings(fridge=4.0, door="closed", night_l=0.0)
    k.checklists.submit("kitchen-daily", {**ALL_PASS, "gas": ItemResult(False, "阀门漏气", PNG)}, by="李阿姨")
    (h,) = k.checklists.ledger.hazards()
    assert (h.place, h.description, h.level, h.owner, h.source) == ("厨房每日检查", "燃气阀已关: 阀门漏气", "general",
                                                                     "admin", "checklist")
    assert h.source_ref == "kitchen-daily 2026-11-02 gas" and h.photo is not None and h.status == "open"
    assert h.deadline == k.clock.now() + DAY  # immediate: within a day


def test_rectify_close_and_confirm(k: Kitchen) -> None:
    ledger = Ledger(k.cfg, k.db, k.clock)
    h = ledger.report_hazard("二楼楼梯", "扶手松动", "major", owner="zhao", by="ada", deadline=ts(MONDAY, 18))
    with pytest.raises(LedgerError, match="not possible"):
        ledger.hazard_step(h.id, "started", by="li", role="kitchen")  # not the owner
    assert ledger.hazard_step(h.id, "started", by="zhao", role="facilities").status == "in_progress"
    with pytest.raises(LedgerError, match="write what was done"):
        ledger.hazard_step(h.id, "close_requested", by="zhao", role="facilities")
    assert ledger.hazard_step(h.id, "close_requested", by="zhao", role="facilities",
                              note="已加固螺栓").status == "closing"
    with pytest.raises(LedgerError, match="not possible"):
        ledger.hazard_step(h.id, "closed", by="zhao", role="facilities")  # the head confirms, not the owner
    with pytest.raises(LedgerError, match="say why"):
        ledger.hazard_step(h.id, "reopened", by="ada", role="admin")
    assert ledger.hazard_step(h.id, "reopened", by="ada", role="admin", note="仍有晃动").status == "in_progress"
    ledger.hazard_step(h.id, "close_requested", by="zhao", role="facilities", photo=PNG)
    closed = ledger.hazard_step(h.id, "closed", by="ada", role="admin")
    assert closed.status == "closed" and [s.what for s in closed.steps] == [
        "started", "close_requested", "reopened", "close_requested", "closed"]
    with pytest.raises(sqlite3.DatabaseError, match="never edited"):
        k.db.conn().execute("UPDATE hazards SET level = 'general'")


def test_overdue_hazards_alert_and_end_when_closed(k: Kitchen) -> None:
    ledger = Ledger(k.cfg, k.db, k.clock)
    watch = HazardWatch(ledger, k.alerts, k.clock, "zh-CN")
    major = ledger.report_hazard("配电房", "电缆外皮破损", "major", owner="zhao", by="ada", deadline=ts(MONDAY, 12))
    minor = ledger.report_hazard("操场", "地垫翘起", "general", owner="zhao", by="ada", deadline=ts(MONDAY, 17))
    assert watch.tick(ts(MONDAY, 11, 59)) == []
    k.clock.set(ts(MONDAY, 12))
    assert watch.tick() == [major.id]
    (alert,) = k.alerts.list(rule=HAZARD_RULE)
    assert alert.severity == "critical" and alert.device == f"hazard-{major.id}"
    assert alert.detail == "重大隐患 配电房 已超过整改期限 2026-11-02 12:00：电缆外皮破损（责任人 zhao）"
    k.clock.set(ts(MONDAY, 17))
    assert watch.tick() == [major.id, minor.id]
    assert k.alerts.list(rule=HAZARD_RULE, device=f"hazard-{minor.id}")[0].severity == "major"
    ledger.hazard_step(major.id, "close_requested", by="zhao", role="facilities", note="已更换电缆")
    ledger.hazard_step(major.id, "closed", by="ada", role="admin")
    watch.tick()
    assert k.alerts.get(alert.id).state == "cleared"


def test_the_ledger_is_per_year(k: Kitchen) -> None:
    ledger = Ledger(k.cfg, k.db, k.clock)
    k.clock.set(ts(date(2026, 12, 30), 10))
    done = ledger.report_hazard("厨房", "灭火器过期", "general", owner="zhao", by="ada")
    ledger.hazard_step(done.id, "close_requested", by="zhao", role="facilities", note="已更换")
    ledger.hazard_step(done.id, "closed", by="ada", role="admin")
    left = ledger.report_hazard("门卫室", "插座烧黑", "general", owner="zhao", by="ada")
    k.clock.set(ts(date(2027, 1, 4), 10))
    assert ledger.hazards() == [] and [h.id for h in ledger.hazards(2026)] == [done.id, left.id]
    assert [h.id for h in ledger.open_hazards()] == [left.id]  # still open: it stays in front of the owner


def test_repairs_taken_done_and_overdue(k: Kitchen) -> None:
    ledger = Ledger(k.cfg, k.db, k.clock)
    with pytest.raises(LedgerError) as e:
        ledger.report_repair(" ", "", by="li", locale="zh-CN")
    assert str(e.value) == "地点：请写明在哪里; 内容：请写明什么坏了"
    r = ledger.report_repair("小一班卫生间", "水龙头关不紧", by="li", photo=PNG, alert_id=7)
    assert r.status == "open" and ledger.repair_for_alert(7) == r
    assert ledger.repair_step(r.id, "taken", by="zhao").taken_by == "zhao"
    assert not ledger.repair_overdue(r)
    k.clock.advance(3 * DAY)
    assert ledger.repair_overdue(ledger.repair(r.id))
    with pytest.raises(LedgerError, match="say what was done"):
        ledger.repair_step(r.id, "done", by="zhao")
    done = ledger.repair_step(r.id, "done", by="zhao", note="更换阀芯")
    assert done.status == "done" and not ledger.repair_overdue(done)
    with pytest.raises(LedgerError, match="not possible"):
        ledger.repair_step(r.id, "taken", by="zhao")


def test_nothing_is_ever_deleted(k: Kitchen) -> None:
    k.readings(fridge=4.2, door="closed", night_l=0.0)
    k.checklists.submit("kitchen-daily", ALL_PASS, by="li")
    ledger = k.checklists.ledger
    h = ledger.report_hazard("二楼楼梯", "扶手松动", "major", owner="zhao", by="ada")
    ledger.hazard_step(h.id, "started", by="zhao", role="facilities")
    r = ledger.report_repair("小一班卫生间", "水龙头关不紧", by="li")
    ledger.repair_step(r.id, "taken", by="zhao")
    c = k.db.conn()
    c.execute("INSERT INTO uv_lamp_changes (room, at, by) VALUES ('big-1', 1, 'zhao')")
    for table in ("checklist_runs", "checklist_results", "hazards", "hazard_events", "repairs", "repair_events",
                  "uv_lamp_changes"):
        with pytest.raises(sqlite3.DatabaseError, match="never deleted"):
            c.execute(f"DELETE FROM {table}")
    assert ledger.hazard(h.id).steps and ledger.repair(r.id).taken_by == "zhao"
