"""A holiday with a leak and a heater left on, found by the meters with an injected clock: the water figure,
the power against the learned closed-time base load, the person on duty named and their chain told; the
closing checklist due on the last school day before the holiday."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from gateway.alerts import AlertService, AlertStore
from gateway.calendar import SchoolCalendar, parse_days
from gateway.clock import ManualClock
from gateway.config import Config, parse_config
from gateway.eventsdb import EventsDB
from gateway.inspections.holiday_watch import HOLIDAY_RULE, HolidayWatch
from gateway.inspections.schedule import current_due
from gateway.model import Reading
from gateway.store.sqlite import SqliteStore
from tests.inspections.conftest import TZ, ts
from tests.waiting import COMMIT_WINDOW

OCT2 = date(2026, 10, 2)
STEP = 300.0


def config(tmp_path: Path) -> Config:
    return parse_config({
        "site": {"id": "kg", "locale": "zh-CN"},
        "storage": {"dir": str(tmp_path / "data"), "commit_interval": COMMIT_WINDOW},
        "calendar": {"holidays": ["2026-10-01..2026-10-07"]},
        "devices": [{"id": "water", "kind": "water_meter", "name": "总水表"},
                    {"id": "power", "kind": "power_meter", "name": "总电表"}],
        "notify": {"channels": {"hook": {"type": "webhook", "format": "generic", "url": "http://127.0.0.1:9/"}},
                   "chains": {"duty-zhao": {"steps": [{"channels": ["hook"]}]}}},
        "inspections": {
            "holidays": {"duty": {"2026-10-01..2026-10-03": "zhao", "2026-10-04..2026-10-07": "wang"},
                         "duty_chains": {"zhao": "duty-zhao"}},
            "checklists": [{"id": "closing", "name": "放假前关闭检查", "schedule": "before_holiday",
                            "window": "15:00-18:00", "items": [{"id": "water", "text": "总阀已关",
                                                                 "devices": ["water"]}]}]},
    })


class Holiday:
    def __init__(self, tmp_path: Path) -> None:
        self.cfg = config(tmp_path)
        (tmp_path / "data").mkdir(exist_ok=True)
        self.store = SqliteStore(tmp_path / "data" / "timeseries.db")
        self.db = EventsDB(tmp_path / "data" / "events.db")
        self.clock = ManualClock(ts(OCT2, 0))
        self.alerts = AlertService(AlertStore(self.db), self.clock)
        self.watch = HolidayWatch(self.cfg, self.store, self.alerts, self.clock)
        cal = SchoolCalendar(self.cfg.calendar, self.cfg.site.tz)
        # Two weeks before the holiday: 300 W whenever the school is closed, 3 kW when open; then the holiday
        # at its base load, except a heater left on (2.3 kW more) from 14:00 to 15:00 on 2 October; water
        # still except 40 L leaking from 03:00 to 04:00 that night.
        start, end = ts(date(2026, 9, 17), 0), ts(date(2026, 10, 3), 0)
        rs = []
        t = start
        while t < end:
            watts = 3000.0 if cal.is_open(t) else 300.0
            if ts(OCT2, 14) <= t < ts(OCT2, 15):
                watts += 2300.0
            rs.append(Reading(t, "power", "usage_wh", watts * STEP / 3600))
            leak = ts(OCT2, 3) <= t < ts(OCT2, 4)
            rs.append(Reading(t, "water", "usage_l", 40 / 12 if leak else 0.0))
            t += STEP
        self.store.write(rs)

    def close(self) -> None:
        self.store.close()
        self.db.close()


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Holiday]:
    site = Holiday(tmp_path)
    yield site
    site.close()


def test_a_holiday_with_a_leak_and_a_heater_left_on_is_found(h: Holiday) -> None:
    found = []
    for hour in range(1, 25):
        h.clock.set(ts(OCT2, 0) + hour * 3600 + 60)  # a minute into each hour, the last one is judged
        judged = datetime.fromtimestamp(h.clock.now() - 3660, TZ).hour
        found += [(judged, dev, round(v)) for dev, v in h.watch.tick()]
    assert found == [(3, "water", 40), (14, "power", 2600)]
    water, power = (h.alerts.list(rule=HOLIDAY_RULE, device=d)[0] for d in ("water", "power"))
    assert water.detail == "假期中仍在用水：总水表 在 10-02 03:00 起的一小时内用水 40 L（值班：zhao）"
    assert power.detail == ("假期中仍在用电：总电表 在 10-02 14:00 起的一小时内平均 2600 W（闭园基础负荷 300 W）"
                            "（值班：zhao）")
    assert water.chain == power.chain == "duty-zhao" and water.value == 40
    # the next hour back at the base load ends them
    assert water.state == "cleared" and power.state == "cleared"


def test_no_alert_at_the_base_load_or_outside_a_holiday(h: Holiday) -> None:
    h.clock.set(ts(OCT2, 6, 1))
    assert h.watch.tick() == []  # 05:00-06:00 on the holiday: base load, no water
    h.clock.set(ts(date(2026, 9, 29), 22, 1))
    assert HolidayWatch(h.cfg, h.store, h.alerts, h.clock).tick() == []  # an ordinary night


def test_the_closing_checklist_is_due_on_the_last_school_day_before(h: Holiday) -> None:
    (closing,) = h.cfg.inspections.checklists
    cal = SchoolCalendar(h.cfg.calendar, h.cfg.site.tz)
    days = parse_days(h.cfg.calendar.holidays)
    assert current_due(closing, date(2026, 9, 30), cal, days) == date(2026, 9, 30)  # Wednesday before 1 October
    assert current_due(closing, OCT2, cal, days) == date(2026, 9, 30)
    assert current_due(closing, date(2026, 9, 30) - timedelta(days=3), cal, days) is None


def test_the_holiday_page_proves_or_disproves_the_shutdown(h: Holiday) -> None:
    from fastapi.testclient import TestClient

    from dashboard.app import create_app
    from tests.dashboard.helpers import PASSWORD, cheap_hasher, dashboard_services, login_ok

    h.clock.set(ts(date(2026, 10, 3), 0, 30))
    app = create_app(dashboard_services(h.cfg, h.db, h.clock, h.store, h.alerts), h.cfg.dashboard,
                     hasher=cheap_hasher())
    app.state.ctx.accounts.add("zhao", "facilities", PASSWORD, locale="zh-CN")
    with TestClient(app) as c:
        login_ok(c, "zhao")
        body = c.get("/api/holidays").json()
        assert (body["first"], body["last"]) == ("2026-10-01", "2026-10-07")
        assert body["duty"]["2026-10-02"] == "zhao" and body["duty"]["2026-10-05"] == "wang"
        water, power = body["meters"]
        # two finished days: 40 L in one hour; 300 W for 48 hours plus 2.3 kW for one
        assert (water["name"], round(water["used"]), water["hours"], water["hours_over"]) == ("总水表", 40, 48, 1)
        assert (round(power["used"]), power["hours_over"], round(power["base_w"])) == (300 * 48 + 2300, 1, 300)
        assert power["worst_at"] == ts(OCT2, 14)
        page = c.get("/holidays").text
        assert "仍在使用" in page and "值班安排" in page and "wang" in page
