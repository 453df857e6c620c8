"""The weekly report must not mislead (issue 12): no "nothing unusual" for a week without data, a week in
progress compared with the same part of earlier weeks, a future week refused, the average naming its weeks,
and the robots' Markdown with the link, through a real HTTP receiver."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.clock import ManualClock
from gateway.eventsdb import EventsDB
from gateway.reports.scheduler import ReportScheduler
from gateway.reports.service import Reports
from gateway.reports.weekly import WeeklyBuilder, parse_week
from gateway.store.sqlite import SqliteStore
from tests.dashboard.helpers import login_ok
from tests.notify.receivers import WebhookServer
from tests.reports.dash import make_report_site
from tests.reports.series import local_ts, make_config, write_meter

TZ = "Asia/Shanghai"


def test_a_fresh_install_sends_no_report_and_the_page_says_there_is_no_data(tmp_path: Path,
                                                                            hook: WebhookServer) -> None:
    notify = {"channels": {"group": {"type": "webhook", "format": "wecom", "url": hook.url("/wecom")}}}
    cfg = make_config(tmp_path, tz=TZ, locale="zh-CN", notify=notify,
                      reports={"weekly": {"day": "mon", "at": "08:00", "channels": ["group"]}})
    store = SqliteStore(tmp_path / "data" / "timeseries.db")
    db = EventsDB(tmp_path / "data" / "events.db")
    clock = ManualClock(local_ts(date(2026, 12, 7), 8, 1, TZ))  # the first Monday after the install
    try:
        reports = Reports(cfg, store, db, clock)
        ReportScheduler(reports, clock).tick()
        report = reports.weekly()
        md = reports.renderer().weekly_markdown(report)
        [row] = db.conn().execute("SELECT result FROM report_deliveries WHERE report='weekly'").fetchall()
    finally:
        store.close()
        db.close()
    assert hook.received == []  # nobody was told "本周没有异常"
    assert row[0].startswith("not sent")
    assert "本周没有收到读数：无法判断本周情况。" in md and "没有异常" not in md
    assert [f.kind for f in report.findings] == ["no_data"]


def steady_site(tmp_path: Path) -> tuple[SqliteStore, WeeklyBuilder]:
    cfg = make_config(tmp_path, tz=TZ, reports={"tariff": {"water": {"kind": "flat", "price": 4.0}}})
    store = SqliteStore(tmp_path / "data" / "timeseries.db")
    this = parse_week("2026-W10", cfg.site.tz)
    # 12 L/h, always; three earlier weeks only (a site installed three weeks before) and this week to Wednesday noon.
    write_meter(store, cfg, "water", "total_l", this.shifted(-3).start, local_ts(date(2026, 3, 4), 12, 0, TZ),
                lambda ts: 1.0)
    return store, WeeklyBuilder(cfg, store)


def test_a_week_in_progress_is_compared_with_the_same_days_and_says_it_is_not_over(tmp_path: Path) -> None:
    store, builder = steady_site(tmp_path)
    try:
        now = local_ts(date(2026, 3, 4), 12, 0, TZ)  # Wednesday noon
        week = parse_week("2026-W10", builder.tz)
        report = builder.build(week, now)
        from gateway.reports.render import Renderer

        md = Renderer("en", builder.tz, "KG").weekly_markdown(report)
        zh = Renderer("zh-CN", builder.tz, "KG").weekly_markdown(report)
        with pytest.raises(ValueError, match="has not begun"):
            builder.build(week.shifted(1), now)
    finally:
        store.close()
    water = next(m for m in report.meters if m.device == "water")
    assert not report.complete
    assert water.total == pytest.approx(2.5 * 24 * 12 / 1000)
    assert water.last_week == pytest.approx(water.total)  # the same 2.5 days, not a whole week ("▼ 64%")
    assert water.vs_last_pct == pytest.approx(0.0)
    assert "The week is not over: counted until 03-04 12:00" in md
    assert "本周尚未结束：统计到 03-04 12:00" in zh
    # Three weeks had data: the average says so.
    assert water.avg_weeks == 3
    assert "vs average of the last 3 weeks" in md and "4-week" not in md
    assert [f.kind for f in report.findings] == ["all_normal"]


def test_a_future_week_is_refused_on_the_page(tmp_path: Path) -> None:
    site = make_report_site(tmp_path)
    try:
        with TestClient(site.app) as c:
            login_ok(c, "zhao")
            future = c.get("/reports/weekly?week=2026-W05")  # the site's clock is in 2026-W02
            assert future.status_code == 400 and "has not begun" in future.text
            assert c.get("/reports/weekly?week=2026-W02").status_code == 200  # this week, so far
    finally:
        site.close()


def test_a_robot_in_text_style_gets_the_report_as_markdown_with_the_link(tmp_path: Path,
                                                                         hook: WebhookServer) -> None:
    from tests.reports.test_weekly import build_site

    notify = {"channels": {"wecom": {"type": "webhook", "format": "wecom", "url": hook.url("/wecom")},
                           "ding": {"type": "webhook", "format": "dingtalk", "url": hook.url("/ding")},
                           "json": {"type": "webhook", "format": "generic", "url": hook.url("/json")}}}
    weekly = {"channels": ["wecom", "ding", "json"], "link": "http://houqin.local:8080"}
    cfg, store = build_site(tmp_path, reports={"weekly": weekly}, notify=notify)
    db = EventsDB(tmp_path / "data" / "events.db")
    clock = ManualClock(local_ts(date(2026, 1, 5), 9, 0, TZ))
    try:
        reports = Reports(cfg, store, db, clock)
        results = reports.send_weekly(reports.weekly(parse_week("2026-W01", cfg.site.tz)))
    finally:
        store.close()
        db.close()
    assert results == {"wecom": None, "ding": None, "json": None}
    link = "http://houqin.local:8080/reports/weekly?week=2026-W01"
    [w] = hook.at("/wecom")
    assert w.body["msgtype"] == "markdown" and f"({link})" in w.body["markdown"]["content"]
    [d] = hook.at("/ding")
    assert d.body["msgtype"] == "markdown" and f"({link})" in d.body["markdown"]["text"]
    [j] = hook.at("/json")
    assert j.body["text"].endswith(f"Full report: {link}")  # plain text writes the link out
