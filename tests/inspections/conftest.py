"""A site with UV lamps on plugs, on real SQLite files, a manual clock and generated power series."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gateway.alerts import AlertService, AlertStore
from gateway.clock import ManualClock
from gateway.config import Config, parse_config
from gateway.eventsdb import EventsDB
from gateway.inspections.build import build_disinfection
from gateway.inspections.watch import DisinfectionWatch
from gateway.model import CommittedBatch, Reading
from gateway.store.sqlite import SqliteStore
from tests.waiting import COMMIT_WINDOW

TZ = ZoneInfo("Asia/Shanghai")
MONDAY = date(2026, 11, 2)


def ts(d: date, hour: int, minute: int = 0) -> float:
    """Local time in the site's zone as Unix seconds."""
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=TZ).timestamp()


def site_config(tmp_path: Path, **disinfection: Any) -> Config:
    """Rooms class-1 (plug uv-1, lamp at 998 h) and class-2 (no plug); the session window 18:00-24:00."""
    return parse_config({
        "site": {"id": "kg", "name": "阳光幼儿园", "locale": "en"},
        "storage": {"dir": str(tmp_path / "data"), "commit_interval": COMMIT_WINDOW},
        "dashboard": {"bind": "127.0.0.1", "port": 0},
        "devices": [{"id": "uv-1", "kind": "uv_lamp", "name": "小一班紫外灯"},
                    {"id": "water", "kind": "water_meter"}],
        "inspections": {"disinfection": {
            "window": "18:00-24:00",
            "rooms": [{"id": "class-1", "name": "小一班", "plug": "uv-1", "lamp_hours_before": 998},
                      {"id": "class-2", "name": "小二班"}],
            **disinfection}},
    })


class UvSite:
    """The record and its watch on real files; ``run`` moves the clock like ingest and the ticker would."""

    def __init__(self, tmp_path: Path, **disinfection: Any) -> None:
        self.cfg = site_config(tmp_path, **disinfection)
        (tmp_path / "data").mkdir(exist_ok=True)
        self.store = SqliteStore(tmp_path / "data" / "timeseries.db")
        self.db = EventsDB(tmp_path / "data" / "events.db")
        self.clock = ManualClock(ts(MONDAY, 0))
        self.alerts = AlertService(AlertStore(self.db), self.clock)
        self.record = build_disinfection(self.cfg, self.db, self.clock)
        self.watch = DisinfectionWatch(self.record, self.store, self.alerts, self.clock, "en")

    def run(self, until: float, on: list[tuple[float, float]], every: float = 300.0, tick: float = 1800.0) -> None:
        """Plug uv-1 reports every ``every`` s and at each switch (30 W inside ``on``, 0.4 W outside); the watch
        sees each reading as ingest would and ticks every ``tick`` s."""
        t0 = self.clock.now()
        times = {t0 + k * every for k in range(int((until - t0) // every) + 1)}
        times |= {t for span in on for t in span if t0 <= t <= until}
        pending: list[Reading] = []
        next_tick = t0
        for t in sorted(times):
            if next_tick <= t:
                self._commit(pending)  # what arrived before the tick is stored, as ingest commits in batches
                pending = []
            while next_tick <= t:
                self.clock.set(next_tick)
                self.watch.tick(next_tick)
                next_tick += tick
            self.clock.set(t)
            pending.append(Reading(t, "uv-1", "power_w", 30.0 if any(a <= t < b for a, b in on) else 0.4))
        self._commit(pending)
        self.clock.set(until)
        self.watch.tick(until)

    def _commit(self, readings: list[Reading]) -> None:
        if readings:
            self.store.write(readings)
            for r in readings:  # the alarm judges each reading at its own time
                self.watch.on_batch(CommittedBatch((r,)))

    def close(self) -> None:
        self.store.close()
        self.db.close()


@pytest.fixture
def uv(tmp_path: Path) -> Iterator[UvSite]:
    site = UvSite(tmp_path)
    yield site
    site.close()
