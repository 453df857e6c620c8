"""Corrections name the corrected field in the reader's language: the kitchen's form, the day's sheet, the
month view and the printable sheet and ledger (they showed "corrective_action", "taken_at")."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.reports.render import CORRECTION_FIELDS, field_label
from gateway.reports.samples import CORRECTABLE as SAMPLE_FIELDS
from gateway.reports.samples import SampleLedger
from gateway.reports.sheet import CORRECTABLE as SHEET_FIELDS
from tests.reports.dash import SHEET_DAY, ReportSite, make_report_site
from tests.reports.test_dashboard import client_as


@pytest.fixture
def site(tmp_path: Path) -> Iterator[ReportSite]:
    s = make_report_site(tmp_path, locale="zh-CN")
    yield s
    s.close()


def test_every_correctable_field_has_a_chinese_name() -> None:
    assert set(SHEET_FIELDS) | set(SAMPLE_FIELDS) <= set(CORRECTION_FIELDS)
    for f in set(SHEET_FIELDS) | set(SAMPLE_FIELDS):
        assert field_label(f, "zh-CN") != CORRECTION_FIELDS[f], f"{f}: no zh-CN text"
    assert field_label("corrective_action", "en") == "Corrective action"


def test_sheet_and_ledger_corrections_in_chinese(site: ReportSite) -> None:
    user = site.ctx.accounts.get("li")
    assert user is not None
    site.ctx.accounts.set_locale(user.id, "zh-CN")
    ledger = SampleLedger(site.config, site.db, site.clock, site.store)
    ledger.correct(1, "taken_at", "2026-01-05 11:30", "登记时填错了时间", "李阿姨")
    ledger.correct(1, "dishes", [["番茄炒蛋", 160]], "称重后补记", "李阿姨")
    c, csrf = client_as(site, "li")
    try:
        page = c.get(f"/cold/sheet?day={SHEET_DAY.isoformat()}").text
        assert '<option value="corrective_action">纠正措施</option>' in page
        r = c.post("/cold/sheet/corrections", data={"csrf_token": csrf, "day": SHEET_DAY.isoformat(),
                                                    "device": "fridge", "field": "corrective_action",
                                                    "value": "已通知维修", "reason": "补记"}, follow_redirects=False)
        assert r.status_code == 303 and "error=" not in r.headers["location"]
        for path in (f"/cold/sheet?day={SHEET_DAY.isoformat()}", f"/cold/sheet/print?day={SHEET_DAY.isoformat()}",
                     "/cold/sheet/month?month=2026-01"):
            text = c.get(path).text
            assert "纠正措施 → 已通知维修" in text and "corrective_action →" not in text, path
        printed = c.get("/samples/print?month=2026-01").text
        assert "留样时间 → 2026-01-05 11:30 — 登记时填错了时间" in printed and "taken_at →" not in printed
        assert "菜品 → 番茄炒蛋 160 — 称重后补记" in printed
    finally:
        c.__exit__(None, None, None)


def test_a_correction_without_a_reason_is_refused_in_chinese(site: ReportSite) -> None:
    user = site.ctx.accounts.get("li")
    assert user is not None
    site.ctx.accounts.set_locale(user.id, "zh-CN")
    c, csrf = client_as(site, "li")
    try:
        r = c.post("/cold/sheet/corrections", data={"csrf_token": csrf, "day": SHEET_DAY.isoformat(),
                                                    "device": "fridge", "field": "note", "value": "x", "reason": " "},
                   follow_redirects=False)
        page = c.get(r.headers["location"]).text
        assert "请说明原因：更正必须写明理由" in page and "a correction needs a reason" not in page
    finally:
        c.__exit__(None, None, None)


def test_a_check_correction_says_which_check(site: ReportSite) -> None:
    c, csrf = client_as(site, "li")  # the site reads Chinese
    try:
        page = c.get(f"/cold/sheet?day={SHEET_DAY.isoformat()}").text
        assert '<option value="check@08:00">08:00 检查时读数</option>' in page
        assert '<option value="check@14:00">14:00 检查时读数</option>' in page
        assert '<option value="check">' not in page
        refused = c.post("/cold/sheet/corrections", data={"csrf_token": csrf, "day": SHEET_DAY.isoformat(),
                                                          "device": "fridge", "field": "check", "value": "3.8 °C",
                                                          "reason": "探针复测"}, follow_redirects=False)
        assert "error=" in refused.headers["location"]  # which check? a bare "check" is not recorded
        r = c.post("/cold/sheet/corrections", data={"csrf_token": csrf, "day": SHEET_DAY.isoformat(),
                                                    "device": "fridge", "field": "check@14:00", "value": "3.8 °C",
                                                    "reason": "探针复测"}, follow_redirects=False)
        assert r.status_code == 303 and "error=" not in r.headers["location"]
        for path in (f"/cold/sheet?day={SHEET_DAY.isoformat()}", f"/cold/sheet/print?day={SHEET_DAY.isoformat()}",
                     "/cold/sheet/month?month=2026-01"):
            assert "14:00 检查时读数 → 3.8 °C" in c.get(path).text, path
        assert c.post("/cold/sheet/corrections", data={
            "csrf_token": csrf, "day": SHEET_DAY.isoformat(), "device": "fridge", "field": "check@09:00",
            "value": "3.8 °C", "reason": "x"}, follow_redirects=False).headers["location"].count("error=") == 1
    finally:
        c.__exit__(None, None, None)


def test_ranges_read_as_people_write_them(site: ReportSite) -> None:
    c, _ = client_as(site, "li")
    try:
        for path in (f"/cold/sheet/print?day={SHEET_DAY.isoformat()}", "/cold/sheet/month?month=2026-01"):
            text = c.get(path).text
            assert "0–8 °C" in text, path  # the fridge: both limits
            assert "≤ -18.0 °C" in text, path  # the freezer: an upper limit only
            assert "…" not in text and "– -18.0" not in text, path
    finally:
        c.__exit__(None, None, None)
