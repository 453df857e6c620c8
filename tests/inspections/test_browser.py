"""The disinfection page on a phone in headless Chromium (390 px): no sideways scrolling, a manual entry
saved from the form; the printable month fits A4. Screenshots go to ``artifacts/inspections/``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dashboard.app import create_app
from dashboard.server import DashboardServer
from tests.browser import PHONE, chromium, login, require_chromium
from tests.dashboard.helpers import PASSWORD, cheap_hasher, dashboard_services
from tests.inspections.conftest import UvSite, ts
from tests.inspections.test_disinfection import SAT, WEEK

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "inspections"
A4 = {"width": 794, "height": 1123}
OVERFLOW = """Array.from(document.querySelectorAll('main *')).filter(e => !e.closest('.table-wrap') &&
  e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).slice(0, 5).map(e => e.tagName +
  '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[UvSite, str]]:
    require_chromium()
    uv = UvSite(tmp_path_factory.mktemp("uv-browser"))
    uv.run(ts(SAT, 12, 0), WEEK)
    app = create_app(dashboard_services(uv.cfg, uv.db, uv.clock, uv.store, uv.alerts), uv.cfg.dashboard,
                     hasher=cheap_hasher())
    app.state.ctx.accounts.add("zhao", "facilities", PASSWORD, display_name="赵师傅", locale="zh-CN")
    server = DashboardServer(app, uv.cfg.dashboard)
    server.start()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield uv, server.url
    server.stop()
    uv.close()


@pytest.fixture(scope="module")
def browser(served: tuple[UvSite, str]) -> Iterator[Any]:
    with chromium() as b:
        yield b


def test_manual_entry_on_a_phone(served: tuple[UvSite, str], browser: Any) -> None:
    _uv, url = served
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = ctx.new_page()
    try:
        login(page, url, "zhao", wait="load")
        page.goto(url + "/disinfection?room=class-2&month=2026-11")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert page.evaluate(OVERFLOW) == [], "the page is wider than the phone"
        assert "小一班" in page.inner_text("#rooms") and "灯管即将到达使用寿命" in page.inner_text("#room-class-1")
        page.screenshot(path=str(ARTIFACTS / "disinfection-phone.png"), full_page=True)
        page.select_option("#manual-form select[name=method]", "spray")
        page.fill("#manual-form input[name=start]", "2026-11-07T09:00")
        page.fill("#manual-form input[name=minutes]", "40")
        page.fill("#manual-form input[name=note]", "玩具、被褥")
        page.click("#manual-form button[type=submit]")
        page.wait_for_selector("#disinfection-saved")
        table = page.inner_text("#disinfection-days")
        assert "喷洒" in table and "赵师傅" in table and "玩具、被褥" in table
        page.screenshot(path=str(ARTIFACTS / "disinfection-saved-phone.png"), full_page=True)
    finally:
        ctx.close()


def test_the_printed_month_fits_a4(served: tuple[UvSite, str], browser: Any) -> None:
    _uv, url = served
    ctx = browser.new_context(viewport=A4, locale="zh-CN")
    page = ctx.new_page()
    try:
        login(page, url, "zhao", wait="load")
        page.goto(url + "/disinfection/print?room=class-1&month=2026-11")
        assert "消毒记录" in page.inner_text("h1")
        assert page.evaluate("document.documentElement.scrollWidth") <= A4["width"]
        page.screenshot(path=str(ARTIFACTS / "disinfection-month-a4.png"), full_page=True)
        pdf = page.pdf(format="A4", print_background=True)
        assert pdf[:4] == b"%PDF"
        (ARTIFACTS / "disinfection-month.pdf").write_bytes(pdf)
    finally:
        ctx.close()
