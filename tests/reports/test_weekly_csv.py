"""The weekly CSV carries what the page shows: per day, the totals with comparisons, the average per hour of
day and the findings (the hourly profile and the findings were missing)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from gateway.reports.render import weekly_csv
from gateway.reports.weekly import WeeklyBuilder, parse_week
from tests.reports.test_weekly import build_site


def test_weekly_csv_has_the_hourly_profile_and_findings(tmp_path: Path) -> None:
    cfg, store = build_site(tmp_path)
    try:
        week = parse_week("2026-W01", cfg.site.tz)
        report = WeeklyBuilder(cfg, store).build(week, week.end + 3600)
    finally:
        store.close()
    rows = list(csv.DictReader(io.StringIO(weekly_csv(report).lstrip("\ufeff"))))
    water = next(r for r in rows if r["device"] == "water" and r["day"] == "total")
    # Hour 10: five open days at 120 L/h, the holiday's 12 L and Sunday's 12 + 900 L, over 7 days (test_weekly).
    assert float(water["h10"]) == pytest.approx((5 * 120 + 12 + 912) / 1000 / 7, abs=0.0005)
    assert float(water["h03"]) == pytest.approx(0.012)
    assert water["findings"].split(" | ") == [
        "Water main used on Sunday 4 Jan: 2.1 m³ (¥6.26), school closed; 1.8 m³ more than usual"]
    power = next(r for r in rows if r["device"] == "power" and r["day"] == "total")
    assert float(power["h12"]) == pytest.approx((5 * 1.0 + 2 * 0.2) / 7, abs=0.0005)
    day = next(r for r in rows if r["device"] == "water" and r["day"] == "2026-01-04")
    assert day["h10"] == "" and day["findings"] == "" and day["use"] == "2.088"
