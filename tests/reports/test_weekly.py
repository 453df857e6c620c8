"""Weekly utility numbers against hand-computed values: a counter reset, a holiday, a 调休 Saturday,
a tiered water tariff across a month boundary, a peak/valley power tariff, and a DST week."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from gateway.calendar import SchoolCalendar
from gateway.config import Config
from gateway.reports.findings import day_name
from gateway.reports.weekly import WeeklyBuilder, WeeklyReport, parse_week
from gateway.store.sqlite import SqliteStore
from tests.reports.series import local_ts, make_config, write_meter

TZ = "Asia/Shanghai"
CALENDAR = {"holidays": ["2026-01-01"], "makeup_workdays": ["2026-01-03"]}  # 元旦 Thursday, 调休 Saturday
TARIFFS = {
    "currency": "¥",
    # 阶梯水价: the first 30 m³ of a month at ¥3.00, the rest at ¥5.00.
    "water": {"kind": "tiered", "tiers": [{"up_to": 30, "price": 3.0}, {"price": 5.0}]},
    # 峰谷电价: peak 08-11 and 18-21 at ¥1.20, valley 23-07 at ¥0.30, otherwise ¥0.70.
    "power": {"kind": "peak_valley", "price": 0.7, "bands": [
        {"name": "peak", "from": "08:00", "to": "11:00", "price": 1.2},
        {"name": "peak", "from": "18:00", "to": "21:00", "price": 1.2},
        {"name": "valley", "from": "23:00", "to": "07:00", "price": 0.3}]},
}
SUNDAY_BURST = (date(2026, 1, 4), 10, 12, 75.0)  # 10:00-12:00 on Sunday 4 Jan: +75 L per 5 min = 1800 L


def build_site(tmp_path: Path, locale: str = "en", reports: dict[str, Any] | None = None,
               notify: dict[str, Any] | None = None, extra: dict[str, Any] | None = None
               ) -> tuple[Config, SqliteStore]:
    cfg = make_config(tmp_path, tz=TZ, locale=locale, calendar=CALENDAR, reports={"tariff": TARIFFS, **(reports or {})},
                      notify=notify, extra=extra)
    store = SqliteStore(tmp_path / "data" / "timeseries.db")
    cal = SchoolCalendar(cfg.calendar, TZ)
    burst_start = local_ts(SUNDAY_BURST[0], SUNDAY_BURST[1], 0, TZ)
    burst_end = local_ts(SUNDAY_BURST[0], SUNDAY_BURST[2], 0, TZ)

    def water(ts: float) -> float:  # 120 L/h open, 12 L/h closed, plus the Sunday burst
        return (10.0 if cal.is_open(ts) else 1.0) + (SUNDAY_BURST[3] if burst_start <= ts < burst_end else 0.0)

    def power(ts: float) -> float:  # 1000 W open, 200 W closed, in Wh per 5 minutes
        return (1000.0 if cal.is_open(ts) else 200.0) / 12

    start = local_ts(date(2025, 12, 1), 0, 0, TZ)  # Monday of 2025-W49: four weeks before 2026-W01
    end = local_ts(date(2026, 1, 5), 0, 0, TZ)
    reset = local_ts(date(2025, 12, 31), 12, 0, TZ) + 150  # the water meter is replaced on Wednesday noon
    write_meter(store, cfg, "water", "total_l", start, end, water, reset_at=reset)
    write_meter(store, cfg, "power", "energy_wh", start, end, power)
    return cfg, store


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WeeklyReport]:
    cfg, store = build_site(tmp_path_factory.mktemp("weekly"))
    week = parse_week("2026-W01", cfg.site.tz)
    yield WeeklyBuilder(cfg, store).build(week, week.end + 3600)
    store.close()


def test_water_week_across_counter_reset_holiday_and_makeup_saturday(report: WeeklyReport) -> None:
    water = next(m for m in report.meters if m.device == "water")
    # Open days: Mon, Tue, Wed, Fri and the 调休 Saturday (Thu is 元旦): 5 x 11 h = 55 h at 120 L/h = 6600 L.
    # Closed: 168 - 55 = 113 h at 12 L/h = 1356 L. Sunday burst 1800 L. Total 9756 L = 9.756 m³.
    assert water.total == pytest.approx(9.756)
    # Each earlier week: 55 h open, 113 h closed, no burst: 7956 L.
    assert water.last_week == pytest.approx(7.956)
    assert water.avg_4w == pytest.approx(7.956)
    assert water.vs_last_pct == pytest.approx((9756 - 7956) / 7956 * 100)
    by_day = {d.day: d for d in water.days}
    # An open day: 11 h x 120 + 13 h x 12 = 1476 L; the holiday 24 h x 12 = 288 L; Sunday 288 + 1800.
    assert [round(d.units * 1000) for d in water.days] == [1476, 1476, 1476, 288, 1476, 1476, 2088]
    assert by_day[date(2026, 1, 1)].open is False and by_day[date(2026, 1, 3)].open is True
    assert water.closed_units == pytest.approx((113 * 12 + 1800) / 1000)
    # Night baseline: 12 L/h every night, not rising.
    assert all(d.night_baseline == pytest.approx(12.0) for d in water.days)
    assert water.baseline_avg == pytest.approx(12.0) and water.baseline_prev == pytest.approx(12.0)
    assert water.baseline_slope == pytest.approx(0.0)
    # Tiered: December had 4 x 7.956 = 31.824 m³ before the week, so Mon-Wed (4.428 m³) cost ¥5.00;
    # January starts again in tier 1: Thu-Sun 5.328 m³ at ¥3.00. 22.14 + 15.984 = ¥38.124.
    assert water.cost == pytest.approx(4.428 * 5.0 + 5.328 * 3.0)
    assert by_day[date(2025, 12, 29)].cost == pytest.approx(1.476 * 5.0)
    assert by_day[date(2026, 1, 4)].cost == pytest.approx(2.088 * 3.0)
    # Per-hour profile: hour 10 has 5 open days x 120 + Thu x 12 + Sun (12 + 900) over 7 days.
    assert water.hourly[10] == pytest.approx((5 * 120 + 12 + 912) / 1000 / 7)
    assert water.hourly[3] == pytest.approx(12 / 1000)


def test_power_week_peak_valley(report: WeeklyReport) -> None:
    power = next(m for m in report.meters if m.device == "power")
    # Open day: 11 h x 1 kWh + 13 h x 0.2 kWh = 13.6 kWh; closed day 4.8 kWh. 5 open + 2 closed = 77.6 kWh.
    assert power.total == pytest.approx(77.6)
    # Open day cost: 00-07 valley 7 x 0.2 x 0.3 = 0.42; 07 flat 1 x 0.7; 08-11 peak 3 x 1.2 = 3.6;
    # 11-18 flat 7 x 0.7 = 4.9; 18-21 peak 0.6 x 1.2 = 0.72; 21-23 flat 0.4 x 0.7 = 0.28; 23 valley 0.06
    # = 10.68. Closed day: 0.2 x (8 x 0.3 + 6 x 1.2 + 10 x 0.7) = 3.32. Week: 5 x 10.68 + 2 x 3.32 = 60.04.
    assert power.cost == pytest.approx(60.04)
    # Closed hours: 13 h on each open day (0.42 + 0.72 + 0.28 + 0.06 = 1.48) and the two closed days.
    assert power.closed_units == pytest.approx(5 * 13 * 0.2 + 2 * 4.8)
    assert power.closed_cost == pytest.approx(5 * 1.48 + 2 * 3.32)
    assert power.last_week == pytest.approx(5 * 13.6 + 2 * 4.8)
    assert all(d.night_baseline == pytest.approx(200.0) for d in power.days)  # W


def test_findings_are_changes_from_the_sites_own_normal(report: WeeklyReport) -> None:
    # issue 12: the steady closed-hours load of the power meter (the same 200 W every week) is no finding, nor
    # is the holiday Thursday (its night base load only). The Sunday burst is a change from the Sundays before
    # (288 L): 1.8 m³ more, told once, not again as closed-hours use or as use above the average.
    kinds = [(f.kind, f.device) for f in report.findings]
    assert kinds == [("closed_day", "water")]
    assert [f.text for f in report.findings] == [
        "Water main used on Sunday 4 Jan: 2.1 m³ (¥6.26), school closed; 1.8 m³ more than usual"]
    water = next(m for m in report.meters if m.device == "water")
    assert report.findings[0].money == pytest.approx(1.8 * water.cost / water.total)


def test_a_change_in_the_weekend_base_load_is_a_finding_ranked_by_money(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, tz=TZ, reports={"tariff": {"power": {"kind": "flat", "price": 1.0},
                                                           "water": {"kind": "flat", "price": 4.0}}})
    store = SqliteStore(tmp_path / "data" / "timeseries.db")
    cal = SchoolCalendar(cfg.calendar, TZ)
    week = parse_week("2026-W10", cfg.site.tz)
    heater_on = week.days[5]  # Saturday of the week: a heater left on all weekend, 2 kW

    def power(ts: float) -> float:  # fridges: 560 W always (13.4 kWh a day), 3 kW more while open
        extra = 2000.0 if week.start <= ts < week.end and cal.local(ts).date() >= heater_on else 0.0
        return (560.0 + (3000.0 if cal.is_open(ts) else 0.0) + extra) / 12

    try:
        write_meter(store, cfg, "power", "energy_wh", week.shifted(-4).start, week.end, power)
        write_meter(store, cfg, "water", "total_l", week.shifted(-4).start, week.end, lambda ts: 1.0)
        steady = WeeklyBuilder(cfg, store).build(week.shifted(-1), week.start)
        changed = WeeklyBuilder(cfg, store).build(week, week.end)
    finally:
        store.close()
    assert [f.kind for f in steady.findings] == ["all_normal"]  # 13.4 kWh every weekend day: normal here
    # The weekend nights' base load rose too ("something is left on"), worth the most: first.
    assert [(f.kind, f.device) for f in changed.findings] == [
        ("baseline_rising", "power"), ("closed_day", "power"), ("closed_day", "power")]
    assert changed.findings[1].money == pytest.approx(48.0)  # 2 kW x 24 h at ¥1.00
    assert "48.0 kWh more than usual" in changed.findings[1].text


def test_sunday_finding_text_in_both_languages(tmp_path: Path) -> None:
    cfg, store = build_site(tmp_path, locale="zh-CN")
    try:
        week = parse_week("2026-W01", cfg.site.tz)
        from gateway.reports.findings import candidates

        rep = WeeklyBuilder(cfg, store).build(week, week.end)
        cal = SchoolCalendar(cfg.calendar, TZ)
        zh = [f.text for f in candidates(rep, cal, "zh-CN") if f.kind == "closed_day"]
        en = [f.text for f in candidates(rep, cal, "en") if f.kind == "closed_day"]
    finally:
        store.close()
    # Only Sunday: the holiday Thursday used its night baseline (12 L/h x 24 h) and nothing more.
    assert en == ["Water main used on Sunday 4 Jan: 2.1 m³ (¥6.26), school closed; 1.8 m³ more than usual"]
    assert zh == ["Water main 在1月4日 星期日用了 2.1 m³（¥6.26），学校当天不开放；比平常多 1.8 m³"]
    assert day_name(date(2026, 1, 4), "zh-CN") == "1月4日 星期日"
    assert all("学校" in f.text or "基线" in f.text or "平均" in f.text for f in rep.findings)


def test_dst_week_has_a_25_hour_sunday(tmp_path: Path) -> None:
    tz = "Europe/Berlin"
    cfg = make_config(tmp_path, tz=tz, reports={"tariff": {"water": {"kind": "flat", "price": 2.5}}})
    store = SqliteStore(tmp_path / "data" / "timeseries.db")
    try:
        start = local_ts(date(2026, 10, 12), 0, 0, tz)  # 2026-W42
        end = local_ts(date(2026, 10, 26), 0, 0, tz)  # after 2026-W43, whose Sunday 25 Oct has 25 hours
        write_meter(store, cfg, "water", "total_l", start, end, lambda ts: 1.0)  # 12 L/h, always
        week = parse_week("2026-W43", cfg.site.tz)
        rep = WeeklyBuilder(cfg, store).build(week, week.end)
    finally:
        store.close()
    water = next(m for m in rep.meters if m.device == "water")
    assert [round(d.units * 1000) for d in water.days] == [288] * 6 + [300]
    assert water.total == pytest.approx(169 * 12 / 1000)
    assert water.last_week == pytest.approx(168 * 12 / 1000)
    assert water.cost == pytest.approx(2.028 * 2.5)
    assert water.days[-1].night_baseline == pytest.approx(12.0)  # 02:00-03:00 twice: two hours, not one of 24 L
    power = next(m for m in rep.meters if m.device == "power")
    assert not power.has_data and power.total == 0 and power.last_week is None


def test_parse_week_errors() -> None:
    from zoneinfo import ZoneInfo

    with pytest.raises(ValueError, match="ISO week"):
        parse_week("2026-47", ZoneInfo(TZ))
    with pytest.raises(ValueError, match="no week 53"):
        parse_week("2025-W53", ZoneInfo(TZ))
