"""A dashboard over a site with a known week of meters, a day of fridge readings and food samples."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from fastapi import FastAPI

from dashboard.app import create_app
from dashboard.context import DashboardContext
from gateway.alerts import AlertService, AlertStore
from gateway.alerts.store import OpenRequest
from gateway.clock import ManualClock
from gateway.config import Config
from gateway.eventsdb import EventsDB
from gateway.reports.samples import SampleLedger
from gateway.store.sqlite import SqliteStore
from tests.dashboard.helpers import PASSWORD, cheap_hasher, dashboard_services
from tests.reports.series import local_ts, write_temps
from tests.reports.test_weekly import TZ, build_site

SHEET_DAY = date(2026, 1, 5)
USERS = {"admin": "ada", "kitchen": "li", "facilities": "zhao", "viewer": "yuan", "guard": "wang"}


@dataclass
class ReportSite:
    config: Config
    store: SqliteStore
    db: EventsDB
    clock: ManualClock
    alerts: AlertService
    app: FastAPI

    @property
    def ctx(self) -> DashboardContext:
        ctx: DashboardContext = self.app.state.ctx
        return ctx

    def close(self) -> None:
        self.store.close()
        self.db.close()


def fridge(ts: float) -> float:
    if local_ts(SHEET_DAY, 10, 0, TZ) <= ts < local_ts(SHEET_DAY, 10, 20, TZ):
        return 9.6
    return 3.5


def make_report_site(tmp_path: Path, locale: str = "en") -> ReportSite:
    cfg, store = build_site(tmp_path, locale=locale, extra={"dashboard": {"bind": "127.0.0.1", "port": 0}})
    db = EventsDB(tmp_path / "data" / "events.db")
    clock = ManualClock(local_ts(SHEET_DAY, 11, 0, TZ))
    alerts = AlertService(AlertStore(db), clock)
    write_temps(store, "fridge", local_ts(SHEET_DAY, 0, 0, TZ), local_ts(date(2026, 1, 8), 0, 0, TZ), fridge)
    write_temps(store, "sample-fridge", local_ts(SHEET_DAY, 0, 0, TZ), local_ts(date(2026, 1, 8), 0, 0, TZ),
                lambda ts: 3.0)
    write_temps(store, "freezer", local_ts(SHEET_DAY, 0, 0, TZ), local_ts(date(2026, 1, 8), 0, 0, TZ),
                lambda ts: -20.0, every=300)
    clock.set(local_ts(SHEET_DAY, 10, 12, TZ))
    a = alerts.raise_alert(OpenRequest("fridge-warm", "fridge", "threshold", "major", None, "temperature", 9.6,
                                       "temperature=9.6", local_ts(SHEET_DAY, 10, 0, TZ)))
    clock.set(local_ts(SHEET_DAY, 10, 25, TZ))
    alerts.ack(a.id, "李阿姨", "门没关好，已关门；食品中心温度 5 °C，照常使用")
    clock.set(local_ts(SHEET_DAY, 11, 40, TZ))
    ledger = SampleLedger(cfg, db, clock, store)
    ledger.register(SHEET_DAY.isoformat(), "lunch", [("番茄炒蛋", "150"), ("红烧鸡块", "130"), ("米饭", "125")],
                    "sample-fridge", "王师傅", by="li")
    ledger.register(SHEET_DAY.isoformat(), "snack", [("水果", "100")], "sample-fridge", "王师傅", by="li")
    clock.set(local_ts(date(2026, 1, 7), 14, 0, TZ))  # both samples are past their 48 hours
    services = dashboard_services(cfg, db, clock, store, alerts)
    app = create_app(services, cfg.dashboard, hasher=cheap_hasher())
    site = ReportSite(cfg, store, db, clock, alerts, app)
    for role, name in USERS.items():
        site.ctx.accounts.add(name, role, PASSWORD, display_name={"li": "李阿姨"}.get(name, ""))
    return site
