"""A device with a single reading: its chart's time axis spans the window, not one second (issue 12 saw
"00:00 00:00 00:00" under a one-point chart)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import playwright.sync_api as playwright_sync
import pytest

from dashboard.component import DashboardComponent, serve_dashboard
from gateway.app import Site, build_gateway
from gateway.config import parse_config
from gateway.model import Reading
from tests.browser import PHONE, chromium, login, require_chromium
from tests.dashboard.helpers import PASSWORD
from tests.gateway.ingest_helpers import Publisher
from tests.mosquitto import Mosquitto
from tests.waiting import COMMIT_WINDOW


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    require_chromium()
    tmp = tmp_path_factory.mktemp("one-point")
    (tmp / "mosquitto").mkdir(exist_ok=True)
    broker = Mosquitto(tmp / "mosquitto")
    broker.start()
    cfg = parse_config({
        "site": {"id": "kg", "name": "阳光幼儿园", "locale": "zh-CN"},
        "mqtt": {"url": broker.url, "client_id": "houqin-one-point-gw"},
        "storage": {"dir": str(tmp / "data"), "commit_interval": COMMIT_WINDOW},
        "dashboard": {"bind": "127.0.0.1", "port": 0},
        "devices": [{"id": "new-fridge", "kind": "fridge", "name": "新冰箱"}],
    })
    gw: Site = build_gateway(cfg)
    component: DashboardComponent = serve_dashboard(gw)
    gw.start()
    pub = Publisher(broker.port)
    try:
        pub.wait_gateway()
        assert component.server is not None
        component.server.context.accounts.add("ada", "admin", PASSWORD, display_name="周园长")
        gw.store.write([Reading(time.time() - 600, "new-fridge", "temperature", 4.2)])  # its first and only reading
        with chromium() as browser:
            yield {"url": component.server.url, "browser": browser}
    finally:
        pub.close()
        gw.stop()
        broker.stop()


def test_a_one_point_chart_has_a_time_axis(site: dict[str, Any]) -> None:
    ctx = site["browser"].new_context(viewport=PHONE)
    page = ctx.new_page()
    login(page, site["url"], "ada")
    page.goto(site["url"] + "/cold")
    chart = page.locator(".chart[data-device='new-fridge'][data-x-ticks]")
    playwright_sync.expect(chart).to_have_count(1, timeout=10_000)
    ticks = chart.get_attribute("data-x-ticks")
    assert ticks is not None
    labels = ticks.split("|")
    assert len(labels) >= 2 and len(set(labels)) == len(labels), labels  # not "00:00 00:00 00:00"
    ctx.close()
