"""The 48-hour discard reminder is not lost when the kitchen's robot is down: sent again 10 minutes later."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from gateway.clock import ManualClock
from gateway.eventsdb import EventsDB
from gateway.reports.scheduler import RETRY_AFTER, ReportScheduler
from gateway.reports.service import Reports
from gateway.store.sqlite import SqliteStore
from tests.notify.receivers import WebhookServer
from tests.reports.series import local_ts, make_config

TZ = "Asia/Shanghai"


def test_failed_reminder_is_sent_again(tmp_path: Path, hook: WebhookServer) -> None:
    notify = {"channels": {"kitchen": {"type": "webhook", "format": "wecom", "style": "markdown",
                                       "url": hook.url("/remind")}}}
    cfg = make_config(tmp_path, tz=TZ, notify=notify, reports={"samples": {"remind_channels": ["kitchen"]}})
    store = SqliteStore(tmp_path / "data" / "timeseries.db")
    db = EventsDB(tmp_path / "data" / "events.db")
    clock = ManualClock(local_ts(date(2026, 11, 19), 12, 0, TZ))
    try:
        rep = Reports(cfg, store, db, clock)
        lunch, _ = rep.ledger.register("2026-11-19", "lunch", [("番茄炒蛋", "150")], "sample-fridge", "王师傅", by="li")
        sched = ReportScheduler(rep, clock)
        hook.status = 500
        clock.set(lunch.taken_at + 48 * 3600 + 1)
        assert sched.samples_due(clock.now()) == [lunch.id]  # recorded as due; the robot answered 500
        hook.status = 200
        clock.advance(RETRY_AFTER / 2)
        assert sched.samples_due(clock.now()) == [] and len(hook.received) == 1  # waits before trying again
        clock.advance(RETRY_AFTER / 2)
        assert sched.samples_due(clock.now()) == []
        assert len(hook.received) == 2
        assert f"#{lunch.id} 2026-11-19 lunch" in hook.received[1].body["markdown"]["content"]
        clock.advance(RETRY_AFTER)
        sched.samples_due(clock.now())
        assert len(hook.received) == 2  # sent once it got through
    finally:
        store.close()
        db.close()
