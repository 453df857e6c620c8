"""Every inspections page in Chromium on a 360 px phone, in zh-CN as an admin: no sideways scrolling, and a
full-page screenshot of each kept as a CI artifact under ``artifacts/inspections/360/`` (printed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.server import DashboardServer
from tests.browser import chromium, login, require_chromium
from tests.dashboard.helpers import PASSWORD
from tests.inspections.conftest import MONDAY, ts
from tests.inspections.test_checklists import Kitchen
from tests.inspections.test_checks_pages import app_for

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "inspections" / "360"
NARROW = {"width": 360, "height": 780}
PAGES = [("checks", "/checks", "厨房每日检查"), ("check", "/checks/kitchen-daily", "冰箱温度正常"),
         ("checklist-edit", "/checklists/edit?id=kitchen-daily", "编辑检查表"),
         ("checklist-new", "/checklists/edit", "新建检查表"), ("hazards", "/hazards", "电缆外皮破损"),
         ("hazards-month", "/hazards/report?period=month", "配电房"), ("repairs", "/repairs", "水龙头关不紧"),
         ("holidays", "/holidays", "假期"), ("duty", "/holidays/duty", "编辑值班安排"),
         ("disinfection", "/disinfection", "消毒")]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    k = Kitchen(tmp_path_factory.mktemp("pages-360"))
    k.clock.set(ts(MONDAY, 7, 45))
    k.readings(fridge=4.2, door="closed", night_l=3.0)
    k.checklists.ledger.report_hazard("配电房", "电缆外皮破损", "major", owner="ada", by="ada")
    k.checklists.ledger.report_repair("小一班卫生间", "水龙头关不紧", by="李阿姨")
    app = app_for(k)
    app.state.ctx.accounts.add("zhou", "admin", PASSWORD, display_name="周园长", locale="zh-CN")
    server = DashboardServer(app, k.cfg.dashboard)
    server.start()
    SHOTS.mkdir(parents=True, exist_ok=True)
    print(f"screenshots: {SHOTS}")
    yield server.url
    server.stop()
    k.close()


def test_every_page_fits_a_360_px_phone(served: str) -> None:
    with chromium() as browser:
        ctx = browser.new_context(viewport=NARROW, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="zh-CN")
        page = ctx.new_page()
        wide = {}
        try:
            login(page, served, "zhou", wait="load")
            for name, path, expect in PAGES:
                page.goto(served + path)
                assert expect in page.inner_text("body"), path
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > NARROW["width"]:
                    wide[path] = width
                page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
        finally:
            ctx.close()
    assert wide == {}
    assert {p.stem for p in SHOTS.glob("*.png")} >= {name for name, _, _ in PAGES}
