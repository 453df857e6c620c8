"""Report pages and API on the real app: who may see what, CSV exports, the sample form with CSRF and
the under-125 g warning, discarding, sheet corrections; the printable pages carry no navigation."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.reports.samples import SampleLedger
from tests.dashboard.helpers import form_token, login_ok
from tests.reports.dash import TZ, ReportSite, make_report_site
from tests.reports.series import local_ts


@pytest.fixture
def site(tmp_path: Path) -> Iterator[ReportSite]:
    s = make_report_site(tmp_path)
    yield s
    s.close()


def client_as(site: ReportSite, user: str) -> tuple[TestClient, str]:
    c = TestClient(site.app)
    c.__enter__()
    return c, login_ok(c, user)


def test_weekly_page_print_csv_and_api(site: ReportSite) -> None:
    c, _ = client_as(site, "zhao")  # facilities
    try:
        page = c.get("/reports/weekly?week=2026-W01")
        assert page.status_code == 200
        assert "Water main used on Sunday 4 Jan: 2.1 m³ (¥6.26), school closed" in page.text
        assert '<nav class="nav"' in page.text and "<svg" in page.text and "style=" not in page.text
        printable = c.get("/reports/weekly/print?week=2026-W01")
        assert printable.status_code == 200 and 'class="nav"' not in printable.text
        assert "/reports/reports.css" in printable.text
        exported = c.get("/reports/weekly.csv?week=2026-W01")
        assert exported.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
        assert next(r for r in rows if r["device"] == "water" and r["day"] == "total")["use"] == "9.756"
        data = c.get("/api/reports/weekly?week=2026-W01").json()
        water = next(m for m in data["meters"] if m["device"] == "water")
        assert water["total"] == pytest.approx(9.756) and water["cost"] == pytest.approx(38.124)
        assert data["findings"][0]["kind"] == "closed_day"
        assert c.get("/reports/weekly?week=2026-53").status_code == 400
        assert c.get("/cold/sheet").status_code == 403  # facilities: not the kitchen's sheet
    finally:
        c.__exit__(None, None, None)
    k, _ = client_as(site, "li")
    try:
        assert k.get("/reports/weekly").status_code == 403
    finally:
        k.__exit__(None, None, None)


def test_sheet_page_and_correction(site: ReportSite) -> None:
    c, csrf = client_as(site, "li")  # kitchen
    try:
        page = c.get("/cold/sheet?day=2026-01-05")
        assert page.status_code == 200
        assert "门没关好，已关门；食品中心温度 5 °C，照常使用" in page.text and "李阿姨" in page.text
        line = next(x for x in c.get("/api/reports/sheet?day=2026-01-05").json()["lines"] if x["device"] == "fridge")
        assert line["minutes_out"] == 20.0 and line["max"] == 9.6 and line["checks"][0]["value"] == 3.5
        r = c.post("/cold/sheet/corrections", data={"csrf_token": csrf, "day": "2026-01-05", "device": "fridge",
                                                    "field": "check@08:00", "value": "08:00 3.8 °C", "reason": ""},
                   follow_redirects=False)
        assert r.status_code == 303 and "error=" in r.headers["location"]
        r = c.post("/cold/sheet/corrections", data={"day": "2026-01-05", "device": "fridge", "field": "check@08:00",
                                                    "value": "08:00 3.8 °C", "reason": "probe"},
                   follow_redirects=False)
        assert r.status_code == 403  # no CSRF token
        r = c.post("/cold/sheet/corrections", data={"csrf_token": csrf, "day": "2026-01-05", "device": "fridge",
                                                    "field": "check@08:00", "value": "08:00 3.8 °C",
                                                    "reason": "probe thermometer"}, follow_redirects=False)
        assert r.status_code == 303
        again = next(x for x in c.get("/api/reports/sheet?day=2026-01-05").json()["lines"] if x["device"] == "fridge")
        assert again["checks"][0]["value"] == 3.5  # the original stays
        assert [(x["by"], x["value"], x["reason"]) for x in again["corrections"]] == [
            ("李阿姨", "08:00 3.8 °C", "probe thermometer")]
        month = c.get("/cold/sheet/month?month=2026-01")
        assert month.status_code == 200 and "probe thermometer" in month.text
        exported = c.get("/cold/sheet.csv?month=2026-01").content.decode("utf-8-sig")
        assert "probe thermometer" in exported
        assert 'class="nav"' not in c.get("/cold/sheet/print?day=2026-01-05").text
    finally:
        c.__exit__(None, None, None)
    v, vcsrf = client_as(site, "yuan")  # viewer: reads, never writes
    try:
        assert v.get("/cold/sheet").status_code == 200
        r = v.post("/cold/sheet/corrections", data={"csrf_token": vcsrf, "day": "2026-01-05", "device": "fridge",
                                                    "field": "note", "value": "x", "reason": "y"})
        assert r.status_code == 403
    finally:
        v.__exit__(None, None, None)


def test_sample_form_warning_discard_and_api(site: ReportSite) -> None:
    c, csrf = client_as(site, "li")
    try:
        page = c.get("/samples?month=2026-01")
        assert page.status_code == 200 and 'name="dish_1"' in page.text and "style=" not in page.text
        assert "Discarded by me now" in page.text  # both samples are past 48 h
        form = {"csrf_token": form_token(page.text), "meal_date": "2026-01-07", "meal": "lunch", "dish_1": "青菜",
                "grams_1": "90", "dish_2": "鱼", "grams_2": "140", "fridge": "sample-fridge", "staff": "王师傅"}
        r = c.post("/samples", data=form, follow_redirects=False)
        assert r.status_code == 303
        shown = c.get(r.headers["location"])
        assert "青菜: 90 g is under 125 g" in shown.text and "Saved as sample #3" in shown.text
        bad = c.post("/samples", data={**form, "meal": "brunch"})
        assert bad.status_code == 400 and "meal &#39;brunch&#39;" in bad.text
        assert c.post("/samples", data={k: v for k, v in form.items() if k != "csrf_token"}).status_code == 403
        r = c.post("/samples/1/discard", data={"csrf_token": csrf}, follow_redirects=False)
        assert r.status_code == 303
        samples = c.get("/api/samples?month=2026-01").json()["samples"]
        first = next(s for s in samples if s["id"] == 1)
        assert first["status"] == "discarded" and first["events"][-1]["by"] == "李阿姨"
        assert first["kept_ok"] and first["verdict"] == "kept 0–8 °C the whole time"
        too_early = c.post("/api/samples/3/discard", json={}, headers={"X-CSRF-Token": csrf})
        assert too_early.status_code == 409 and "must be kept until" in too_early.json()["detail"]
        made = c.post("/api/samples", json={"meal_date": "2026-01-07", "meal": "snack", "dishes": [["饼干", 50]],
                                            "fridge": "sample-fridge", "staff": "王师傅"},
                      headers={"X-CSRF-Token": csrf})
        assert made.status_code == 201 and made.json()["warnings"] == ["饼干: 50 g is under 125 g"]
        exported = c.get("/samples.csv?month=2026-01").content.decode("utf-8-sig")
        assert "番茄炒蛋 150 g" in exported and "李阿姨" in exported
        printable = c.get("/samples/print?month=2026-01")
        assert 'class="nav"' not in printable.text and "水果 100 g" in printable.text
    finally:
        c.__exit__(None, None, None)
    g, gcsrf = client_as(site, "wang")  # guard
    try:
        assert g.get("/samples").status_code == 403
        assert g.post("/api/samples/2/discard", json={}, headers={"X-CSRF-Token": gcsrf}).status_code == 403
    finally:
        g.__exit__(None, None, None)


def test_a_sample_with_a_past_meal_date_is_warned_and_listed_in_the_month_it_is_kept(site: ReportSite) -> None:
    site.clock.set(local_ts(date(2026, 2, 1), 8, 0, TZ))  # the 1st of the month, a meal of the 31st before
    c, csrf = client_as(site, "li")
    try:
        page = c.get("/samples")
        form = {"csrf_token": form_token(page.text), "meal_date": "2026-01-31", "meal": "dinner", "dish_1": "鱼",
                "grams_1": "150", "fridge": "sample-fridge", "staff": "王师傅"}
        r = c.post("/samples", data=form, follow_redirects=False)
        assert r.status_code == 303 and "month=2026-02" in r.headers["location"]
        shown = c.get(r.headers["location"])
        assert "the meal date 2026-01-31 is before the day the samples were taken (2026-02-01)" in shown.text
        sample_id = int(r.headers["location"].rsplit("registered=", 1)[1])
        # still kept: in February's ledger (page, API, CSV), and January's still lists its meal
        feb = c.get("/api/samples?month=2026-02").json()["samples"]
        assert [s["id"] for s in feb] == [sample_id]
        assert sample_id in [s["id"] for s in c.get("/api/samples?month=2026-01").json()["samples"]]
        assert "鱼 150 g" in c.get("/samples.csv?month=2026-02").content.decode("utf-8-sig")
        made = c.post("/api/samples", json={"meal_date": "2026-01-30", "meal": "lunch", "dishes": [["汤", 150]],
                                            "fridge": "sample-fridge", "staff": "王师傅"},
                      headers={"X-CSRF-Token": csrf})
        assert made.status_code == 201 and "is before the day the samples were taken" in made.json()["warnings"][0]
        today = c.post("/api/samples", json={"meal_date": "2026-02-01", "meal": "lunch", "dishes": [["汤", 150]],
                                             "fridge": "sample-fridge", "staff": "王师傅"},
                       headers={"X-CSRF-Token": csrf})
        assert today.json()["warnings"] == []
    finally:
        c.__exit__(None, None, None)


def test_a_zh_cn_sites_sample_export_reads_as_words(tmp_path: Path) -> None:
    """The ledger's CSV follows the site's locale: titles, meal, fridge name, status, yes/no, display names."""
    site = make_report_site(tmp_path, locale="zh-CN")
    try:
        SampleLedger(site.config, site.db, site.clock).correct(2, "meal", "dinner", "写错了餐次", "li")
        c, csrf = client_as(site, "ada")  # an admin reading the export in English still gets the site's
        try:
            c.post("/samples/1/discard", data={"csrf_token": csrf, "by": ""}, follow_redirects=False)
            exported = c.get("/samples.csv?month=2026-01").content.decode("utf-8-sig")
        finally:
            c.__exit__(None, None, None)
    finally:
        site.close()
    rows = list(csv.DictReader(io.StringIO(exported)))
    first = next(r for r in rows if r["留样编号"] == "1")
    second = next(r for r in rows if r["留样编号"] == "2")
    assert (first["餐次"], first["留样冰箱"], first["留样状态"], first["温度合格"], first["登记人"]) == (
        "午餐", "Sample fridge", "已销毁", "是", "李阿姨")
    assert second["留样状态"] == "可以销毁" and second["更正"].startswith("餐次 → 晚餐 (李阿姨: 写错了餐次)")
    for word in ("lunch", "sample-fridge", "due", "discarded", "meal=", ",li,"):
        assert word not in exported, word


def test_a_zh_cn_sites_weekly_export_follows_the_site_not_the_reader(tmp_path: Path) -> None:
    """Titles, the total row and the findings in the site's language even for a reader in English; the
    average's column says how many weeks it is of."""
    site = make_report_site(tmp_path, locale="zh-CN")
    try:
        c, csrf = client_as(site, "zhao")
        try:
            c.post("/account/locale", data={"csrf_token": csrf, "locale": "en", "next": "/"})
            assert "Findings" in c.get("/reports/weekly?week=2026-W01").text  # the reader's page is English
            exported = c.get("/reports/weekly.csv?week=2026-W01").content.decode("utf-8-sig")
            earlier = c.get("/reports/weekly.csv?week=2025-W52").content.decode("utf-8-sig")  # 3 weeks before it
        finally:
            c.__exit__(None, None, None)
    finally:
        site.close()
    rows = list(csv.DictReader(io.StringIO(exported)))
    water = next(r for r in rows if r["设备编号"] == "water" and r["日期"] == "本周合计")
    assert water["用量"] == "9.756" and "星期日" in water["本周发现"] and "Sunday" not in water["本周发现"]
    assert "前 4 周平均" in exported.splitlines()[0] and "total" not in exported
    head = earlier.splitlines()[0]
    assert "前 3 周平均" in head and "前 4 周平均" not in head
    assert {r["平均的周数"] for r in csv.DictReader(io.StringIO(earlier)) if r["日期"] == "本周合计"} == {"3"}


def test_the_month_csv_dates_an_alert_still_open_from_an_earlier_day(site: ReportSite) -> None:
    """Jan 5's alert is still open on the 6th: its row there says when (date and time), as the sheet page does."""
    c, _ = client_as(site, "li")
    try:
        exported = c.get("/cold/sheet.csv?month=2026-01").content.decode("utf-8-sig")
    finally:
        c.__exit__(None, None, None)
    rows = {(r["device"], r["day"]): r for r in csv.DictReader(io.StringIO(exported))}
    assert rows[("fridge", "2026-01-05")]["alerts"].startswith("10:12 ")
    later = rows[("fridge", "2026-01-06")]["alerts"]
    assert later.startswith("01-05 10:12 ") and "at 01-05 10:25" in later
