"""The night baseline's trend: a leak that grows every night shows as a slope per day in the numbers and on
the printed report (the other tests only ever saw a flat baseline, slope 0)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from gateway.reports.render import Renderer
from gateway.reports.weekly import WeeklyBuilder, parse_week
from gateway.store.sqlite import SqliteStore
from tests.reports.series import local_ts, make_config, write_meter

TZ = "Asia/Shanghai"


def test_a_growing_leak_has_a_rising_trend(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, tz=TZ, reports={"tariff": {"water": {"kind": "flat", "price": 4.0}}})
    store = SqliteStore(tmp_path / "data" / "timeseries.db")
    monday = local_ts(date(2026, 11, 16), 0, 0, TZ)  # 2026-W47

    def step(ts: float) -> float:  # 12 L/h; from W47 a leak adding 6 L/h more every day (0 on Monday)
        day = int((ts - monday) // 86400) if ts >= monday else -1
        return 1.0 + (6.0 * day / 12 if day > 0 else 0.0)

    try:
        write_meter(store, cfg, "water", "total_l", local_ts(date(2026, 11, 9), 0, 0, TZ), monday + 7 * 86400, step)
        report = WeeklyBuilder(cfg, store).build(parse_week("2026-W47", cfg.site.tz), monday + 7 * 86400, "en")
    finally:
        store.close()
    water = next(m for m in report.meters if m.device == "water")
    assert [d.night_baseline for d in water.days] == pytest.approx([12.0, 18.0, 24.0, 30.0, 36.0, 42.0, 48.0])
    assert water.baseline_slope == pytest.approx(6.0)
    assert water.baseline_avg == pytest.approx(30.0) and water.baseline_prev == pytest.approx(12.0)
    assert report.findings[0].kind == "baseline_rising"
    html = Renderer("en", cfg.site.tz, "KG").weekly_html(report)
    assert "Trend this week: 6.00 L/h per day." in html
    zh = Renderer("zh-CN", cfg.site.tz, "KG").weekly_html(report)
    assert "6.00 L/h" in zh and "Trend this week" not in zh
