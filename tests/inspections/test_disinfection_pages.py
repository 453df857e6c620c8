"""The disinfection pages and API through HTTP: roles, the phone form (CSRF, errors in Chinese), the month
record with its A4 print and CSV, the API's totals, a new lamp."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dashboard.app import create_app
from tests.dashboard.helpers import PASSWORD, cheap_hasher, dashboard_services, login_ok
from tests.inspections.conftest import MONDAY, UvSite, ts
from tests.inspections.test_disinfection import SAT, TUE, WEEK

USERS = {"admin": "ada", "guard": "wang", "kitchen": "li", "facilities": "zhao", "viewer": "yuan"}


@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[UvSite, TestClient]]:
    uv = UvSite(tmp_path)
    services = dashboard_services(uv.cfg, uv.db, uv.clock, uv.store, uv.alerts)
    app = create_app(services, uv.cfg.dashboard, hasher=cheap_hasher())
    for role, name in USERS.items():
        app.state.ctx.accounts.add(name, role, PASSWORD, display_name=f"{name}-师傅",
                                   locale="zh-CN" if role == "facilities" else "en")
    with TestClient(app) as client:
        yield uv, client
    uv.close()


def test_facilities_sees_the_month_in_chinese_and_prints_it(web: tuple[UvSite, TestClient]) -> None:
    uv, c = web
    uv.run(ts(SAT, 12, 0), WEEK)
    login_ok(c, "zhao")
    page = c.get("/disinfection", params={"room": "class-1", "month": "2026-11"})
    assert page.status_code == 200
    html = page.text
    for text in ("消毒记录", "小一班", "时间不足", "未消毒", "幼儿在室", "灯管累计小时", "消毒次数", "登记消毒"):
        assert text in html, text
    assert "uv-1" not in html  # people read room names, not device ids
    printed = c.get("/disinfection/print", params={"room": "class-1", "month": "2026-11"})
    assert printed.status_code == 200 and "<nav" not in printed.text and "@page" not in printed.text
    assert 'href="/reports/reports.css"' in printed.text
    assert "消毒记录 小一班 2026-11" in printed.text


def test_csv_rows_and_totals(web: tuple[UvSite, TestClient]) -> None:
    uv, c = web
    uv.run(ts(SAT, 12, 0), WEEK)
    login_ok(c, "yuan")  # a viewer reads
    r = c.get("/disinfection.csv", params={"room": "class-1", "month": "2026-11"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    sessions = [x for x in rows[1:] if len(x) > 4 and x[4] == "plug"]
    assert [(x[1], x[6], x[7], x[8], x[9], x[10]) for x in sessions] == [
        ("2026-11-02", "2026-11-02 18:30", "2026-11-02 19:10", "40.0", "35.0", "0"),
        ("2026-11-03", "2026-11-03 18:30", "2026-11-03 18:50", "20.0", "15.0", "0"),
        ("2026-11-04", "2026-11-04 10:00", "2026-11-04 10:20", "20.0", "15.0", "1"),
        ("2026-11-05", "2026-11-05 23:40", "2026-11-06 00:30", "50.0", "45.0", "0"),
        ("2026-11-06", "2026-11-06 19:00", "2026-11-06 19:45", "45.0", "40.0", "0")]
    assert rows[-1][:12] == ["sessions", "5", "minutes", "175.0", "days_required", "5", "ok", "3", "short", "1",
                             "missed", "1"]


def test_api_month_totals(web: tuple[UvSite, TestClient]) -> None:
    uv, c = web
    uv.run(ts(SAT, 12, 0), WEEK)
    login_ok(c, "ada")
    body = c.get("/api/disinfection", params={"room": "class-1", "month": "2026-11"}).json()
    assert (body["sessions"], body["on_minutes"], body["days_required"], body["ok"], body["short"],
            body["missed"], body["occupied_sessions"]) == (5, 175, 5, 3, 1, 1, 1)
    assert body["lamp_hours"] == pytest.approx(998 + 175 / 60)
    assert [d["verdict"] for d in body["days"]] == ["free", "ok", "short", "missed", "ok", "ok", "free"]
    assert "/api/disinfection" in c.get("/api/openapi.json").json()["paths"]


def test_a_manual_entry_from_the_phone_form(web: tuple[UvSite, TestClient]) -> None:
    uv, c = web
    uv.clock.set(ts(TUE, 20, 0))
    token = login_ok(c, "zhao")
    bad = c.post("/disinfection/manual", data={"csrf_token": token, "room": "class-2", "method": "wipe",
                                               "start": "2026-11-03T19:00", "minutes": "0", "by": ""})
    assert bad.status_code == 400
    assert "时长：请填写分钟数" in bad.text and "消毒人：请填写谁进行了消毒" in bad.text
    ok = c.post("/disinfection/manual", data={"csrf_token": token, "room": "class-2", "method": "wipe",
                                              "start": "2026-11-03T18:40", "minutes": "35", "by": "张老师",
                                              "note": "含氯消毒液"}, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/disinfection?room=class-2&month=2026-11&saved=1"
    page = c.get(ok.headers["location"]).text
    assert "已保存" in page and "擦拭" in page and "张老师" in page and "含氯消毒液" in page
    day = uv.record.day(uv.cfg.inspections.disinfection.rooms[1], TUE)
    assert day.verdict == "ok" and day.entries[0].by == "张老师"
    # without the CSRF token nothing is saved
    assert c.post("/disinfection/manual", data={"room": "class-2", "method": "wipe", "start": "2026-11-03T18:40",
                                                "minutes": "35", "by": "x"}).status_code == 403


def test_roles(web: tuple[UvSite, TestClient]) -> None:
    uv, c = web
    uv.clock.set(ts(MONDAY, 12, 0))
    login_ok(c, "wang")  # the guard has no business here
    assert c.get("/disinfection").status_code == 403
    c.post("/logout", data={"csrf_token": c.get("/api/me").json()["csrf_token"]})
    token = login_ok(c, "yuan")
    assert c.get("/disinfection").status_code == 200
    assert c.post("/disinfection/manual", data={"csrf_token": token}).status_code == 403
    assert c.post("/disinfection/class-1/lamp", data={"csrf_token": token}).status_code == 403


def test_a_new_lamp_starts_its_hours_again(web: tuple[UvSite, TestClient]) -> None:
    uv, c = web
    uv.run(ts(SAT, 12, 0), WEEK)
    token = login_ok(c, "zhao")
    before = c.get("/disinfection").text
    assert "更换" in before and "1,001 / 1,000 h" in before
    r = c.post("/disinfection/class-1/lamp", data={"csrf_token": token, "note": "30 W"}, follow_redirects=False)
    assert r.status_code == 303
    assert "0 / 1,000 h" in c.get("/disinfection").text


def test_a_zh_cn_sites_csv_reads_as_words(tmp_path: Path) -> None:
    """The record's export follows the site's locale: titles, verdicts, sources, methods, yes/no, room names."""
    uv = UvSite(tmp_path)
    uv.cfg = uv.cfg.model_copy(update={"site": uv.cfg.site.model_copy(update={"locale": "zh-CN"})})
    try:
        uv.run(ts(SAT, 12, 0), WEEK)
        app = create_app(dashboard_services(uv.cfg, uv.db, uv.clock, uv.store, uv.alerts), uv.cfg.dashboard,
                         hasher=cheap_hasher())
        app.state.ctx.accounts.add("yuan", "viewer", PASSWORD, locale="en")
        with TestClient(app) as c:
            login_ok(c, "yuan")
            text = c.get("/disinfection.csv", params={"room": "class-1", "month": "2026-11"}).content.decode(
                "utf-8-sig")
    finally:
        uv.close()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["房间", "日期", "在园日", "结果", "来源", "消毒方式", "开始", "结束", "分钟", "计入（分钟）",
                       "室内有幼儿", "消毒人", "备注"]
    sessions = [x for x in rows[1:] if len(x) > 4 and x[4] == "插座记录"]
    assert [(x[0], x[1], x[3], x[5], x[10]) for x in sessions][:3] == [
        ("小一班", "2026-11-02", "已完成", "紫外线灯", "否"), ("小一班", "2026-11-03", "时间不足", "紫外线灯", "否"),
        ("小一班", "2026-11-04", "未消毒", "紫外线灯", "是")]
    assert rows[-1][:4] == ["消毒次数", "5", "总时长（分钟）", "175.0"] and "未消毒" in rows[-1]
    for key in ("plug", "missed", "short", "class-1", "days_required", ",ok,"):
        assert key not in text, key
