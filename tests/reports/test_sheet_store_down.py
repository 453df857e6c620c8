"""The cold-storage sheet while the time-series store is down: one log line per outage, "data unavailable"
on the sheet (never a reassuring 0 minutes out of range), no frozen day, and back to numbers after."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path

import pytest

from gateway.clock import ManualClock
from gateway.errors import StoreError
from gateway.eventsdb import EventsDB
from gateway.model import Reading
from gateway.reports.render import Renderer, sheet_csv
from gateway.reports.sheet import FREEZE_AFTER, ColdSheet
from gateway.store.sqlite import SqliteStore
from tests.reports.series import local_ts, make_config, write_temps

TZ = "Asia/Shanghai"
DAY = date(2026, 11, 19)


class FlakyStore(SqliteStore):
    """A real SQLite store whose reads fail like an unreachable InfluxDB while ``down`` is set."""

    down = False

    def query(self, device: str, metric: str, start: float, end: float) -> list[Reading]:
        if self.down:
            raise StoreError("InfluxDB at http://127.0.0.1:8086 is unreachable: connection refused")
        return super().query(device, metric, start, end)


def test_store_down_logs_once_and_the_sheet_says_data_unavailable(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cfg = make_config(tmp_path, tz=TZ, locale="zh-CN")
    store = FlakyStore(tmp_path / "data" / "timeseries.db")
    db = EventsDB(tmp_path / "data" / "events.db")
    clock = ManualClock(local_ts(DAY + timedelta(days=1), 9, 0, TZ))  # past the freeze time of DAY
    assert clock.now() >= local_ts(DAY + timedelta(days=1), 0, 0, TZ) + FREEZE_AFTER
    try:
        write_temps(store, "fridge", local_ts(DAY, 0, 0, TZ), local_ts(DAY, 23, 59, TZ), lambda ts: 4.0)
        sheet = ColdSheet(cfg, store, db, clock)
        store.down = True
        caplog.set_level(logging.INFO, logger="gateway.reports.sheet")
        for _ in range(3):  # the page refreshing during the outage
            lines = sheet.day(DAY)
        assert len(lines) == 3  # fridge, sample fridge, freezer
        assert all(x.unavailable and not x.frozen and not x.ok for x in lines)
        records = [r for r in caplog.records if r.name == "gateway.reports.sheet"]
        assert [(r.levelno, r.exc_info) for r in records] == [(logging.ERROR, None)]
        assert "cannot be read" in records[0].getMessage() and "unreachable" in records[0].getMessage()

        renderer = Renderer("zh-CN", cfg.site.tz, "Sunshine KG")
        html = renderer.sheet_html(lines, DAY, cfg.reports.sheet.check_labels)
        assert html.count("数据暂不可用") == 3 and "无读数" not in html
        month = renderer.sheet_month_html(sheet.month(DAY.year, DAY.month, device="fridge"), DAY.year, DAY.month,
                                          cfg.reports.sheet.check_labels)
        assert "数据暂不可用" in month
        assert "data unavailable" in sheet_csv(lines, cfg.site.tz, cfg.reports.sheet.check_labels)
        assert next(x for x in lines if x.device == "fridge").as_dict()["unavailable"] is True

        caplog.clear()
        store.down = False
        [fridge] = sheet.day(DAY, device="fridge")
        assert not fridge.unavailable and fridge.frozen and fridge.readings > 0 and fridge.min == 4.0
        assert "数据暂不可用" not in renderer.sheet_html([fridge], DAY, cfg.reports.sheet.check_labels)
        assert [r.levelno for r in caplog.records if r.name == "gateway.reports.sheet"] == [logging.INFO]
        # a second outage is logged again, once
        caplog.clear()
        store.down = True
        sheet.day(DAY + timedelta(days=1))
        sheet.day(DAY + timedelta(days=1))
        assert [r.levelno for r in caplog.records if r.name == "gateway.reports.sheet"] == [logging.ERROR]
    finally:
        store.close()
        db.close()
