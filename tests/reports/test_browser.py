"""The report pages in headless Chromium (Debian's, through Playwright): printable A4 pages without
navigation that fit the paper width, saved as PNG (and PDF) under ``artifacts/reports/``, and the
kitchen's sample form on a phone, with the under-125 g warning after saving."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dashboard.server import DashboardServer
from tests.browser import PHONE, chromium, login, require_chromium
from tests.dashboard.helpers import PASSWORD
from tests.reports.dash import ReportSite, make_report_site

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "reports"
A4 = {"width": 794, "height": 1123}  # 210 x 297 mm at 96 dpi
# a table may scroll inside its own box (.scroll-x, .table-wrap); the box itself must fit
OVERFLOW = """Array.from(document.querySelectorAll('main *')).filter(e => e.getBoundingClientRect().right >
  document.documentElement.clientWidth + 1 &&
  !(e.parentElement && e.parentElement.closest('.scroll-x, .table-wrap'))).slice(0, 5).map(e =>
  e.tagName + '.' + e.className + ' ' + (e.getAttribute('href') || '') + ' ' +
  Math.round(e.getBoundingClientRect().right))"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ReportSite, str]]:
    require_chromium()
    site = make_report_site(tmp_path_factory.mktemp("report-browser"))
    for name in ("li",):
        user = site.ctx.accounts.get(name)
        assert user is not None
        site.ctx.accounts.set_locale(user.id, "zh-CN")
    server = DashboardServer(site.app, site.config.dashboard)
    server.start()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield site, server.url
    server.stop()
    site.close()


@pytest.fixture(scope="module")
def browser(served: tuple[ReportSite, str]) -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.mark.parametrize(("name", "user", "path", "expect"), [
    ("weekly-en", "ada", "/reports/weekly/print?week=2026-W01", "Water main used on Sunday 4 Jan"),
    ("weekly-zh", "li-admin", "/reports/weekly/print?week=2026-W01", "水电周报"),
    ("sheet-en", "ada", "/cold/sheet/print?day=2026-01-05", "门没关好"),
    ("sheet-month-en", "ada", "/cold/sheet/month/print?month=2026-01", "Cold-storage sheets"),
    ("samples-zh", "li", "/samples/print?month=2026-01", "留样记录"),
])
def test_printable_a4_pages(served: tuple[ReportSite, str], browser: Any, name: str, user: str, path: str,
                            expect: str) -> None:
    site, url = served
    if user == "li-admin":  # an admin who reads Chinese
        if site.ctx.accounts.get("zhang") is None:
            site.ctx.accounts.add("zhang", "admin", PASSWORD, locale="zh-CN")
        user = "zhang"
    ctx = browser.new_context(viewport=A4, locale="zh-CN")
    page = ctx.new_page()
    try:
        login(page, url, user, wait="load")
        page.emulate_media(media="print")
        resp = page.goto(url + path)
        assert resp is not None and resp.status == 200
        assert expect in page.content()
        assert page.locator("nav").count() == 0 and page.locator("header.top").count() == 0
        assert page.evaluate(OVERFLOW) == [], f"{name}: wider than A4"
        if name.startswith("weekly"):
            assert page.locator("svg.chart-svg").count() == 4  # per day and per hour, two meters
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        pdf = page.pdf(format="A4", print_background=True)
        assert pdf[:5] == b"%PDF-"
        (ARTIFACTS / f"{name}.pdf").write_bytes(pdf)
    finally:
        ctx.close()


def test_sample_form_on_a_phone(served: tuple[ReportSite, str], browser: Any) -> None:
    site, url = served
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = ctx.new_page()
    try:
        login(page, url, "li", wait="load")
        page.goto(url + "/samples?month=2026-01")
        # The page never scrolls sideways (the top navigation scrolls inside itself on phones).
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert page.evaluate(OVERFLOW) == [], "the form is wider than the phone"
        page.screenshot(path=str(ARTIFACTS / "samples-form-phone.png"), full_page=False)
        page.fill("input[name=dish_1]", "清炒时蔬")
        page.fill("input[name=grams_1]", "110")
        page.fill("input[name=dish_2]", "红烧鱼块")
        page.fill("input[name=grams_2]", "135")
        page.select_option("select[name=meal]", "dinner")
        page.click("#sample-form button[type=submit]")
        page.wait_for_selector("#sample-saved")
        assert "清炒时蔬：110 克，不足 125 克" in page.inner_text(".samples-form")
        page.screenshot(path=str(ARTIFACTS / "samples-saved-phone.png"), full_page=False)
        # Discard the lunch samples (48 hours are over): recorded under the kitchen user's name.
        page.click("#discard-1")
        page.wait_for_load_state()
        row = page.inner_text("#sample-1")
        assert "李阿姨" in row
        page.screenshot(path=str(ARTIFACTS / "samples-ledger-phone.png"), full_page=True)
    finally:
        ctx.close()
    [s] = [x for x in site.ctx.services.events_db.conn().execute(
        "SELECT by FROM sample_events WHERE sample_id = 1 AND what = 'discarded'")]
    assert s[0] == "李阿姨"
