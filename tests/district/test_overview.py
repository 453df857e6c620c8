"""The district Overview over a real central Mosquitto (TLS, the generated ACL) and a real VictoriaMetrics: every
site with online/offline, open alerts by severity, the oldest unacknowledged critical alert, the last reading,
what needs a call first; an alert arriving shows in Chromium at 360 px without a reload."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.cli import main
from tests.browser import chromium, login, shot
from tests.district.helpers import SitePublisher, add_user, logged_in, running_service, service_toml
from tests.uplink.central import CentralBroker
from tests.victoriametrics import VictoriaMetrics
from tests.waiting import wait_for

SITES = ["sun-kg", "moon-kg", "star-kg"]




def overview(client: httpx.Client) -> list[dict[str, Any]]:
    r = client.get("/api/overview")
    assert r.status_code == 200, r.text
    sites: list[dict[str, Any]] = r.json()["sites"]
    return sites


def test_no_default_account_and_district_roles(central: CentralBroker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    toml = service_toml(central, tmp_path / "district-data", None)
    with running_service(toml) as service:
        anon = httpx.Client(base_url=service.url)
        assert anon.get("/api/overview").status_code == 401
        assert anon.get("/", follow_redirects=False).headers["location"] == "/login"
        for name in ("admin", "district-admin", "viewer"):
            page = anon.get("/login")
            token = page.cookies["houqin_login_csrf"]
            r = anon.post("/login", data={"username": name, "password": name, "csrf_token": token},
                          headers={"Origin": service.url})
            assert r.status_code == 401, "no account exists before one is created"
    with pytest.raises(SystemExit):  # a site's role is not one of the district's
        main(["district", "user", "add", "wang", "--role", "guard", "--config", str(toml), "--password-stdin"])
    assert "invalid choice: 'guard'" in capsys.readouterr().err
    add_user(toml, "yuan", "viewer", monkeypatch)
    with running_service(toml) as service:
        client = logged_in(service, "yuan")
        assert [s["id"] for s in overview(client)] == SITES  # none heard from yet: in district.toml's order
        assert client.get("/devices").status_code == 404  # the site dashboard's pages are not here
        account = client.get("/account")
        assert account.status_code == 200 and "修改密码" in account.text
        # the viewer's form posts need the session's CSRF token, as on the site dashboard
        r = client.post("/account/locale", data={"locale": "en"}, headers={"Origin": service.url})
        assert r.status_code == 403
        token = re.search(r'name="csrf-token" content="([^"]+)"', account.text)
        assert token is not None
        r = client.post("/account/locale", data={"locale": "en", "csrf_token": token.group(1), "next": "/"},
                        headers={"Origin": service.url})
        assert r.status_code == 303
        assert "District overview" in client.get("/").text


def test_overview_live_in_chromium_at_360px(central: CentralBroker, tmp_path: Path, victoriametrics: VictoriaMetrics,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    now = time.time()
    # sun-kg read a minute ago, moon-kg an hour ago, star-kg never
    victoriametrics.write([
        f"houqin,site=sun-kg,device=fridge-1,kind=fridge temperature=4.0 {int((now - 60) * 1000)}",
        f"houqin,site=moon-kg,device=water,kind=water_meter total_l=10.0 {int((now - 3600) * 1000)}"])
    toml = service_toml(central, tmp_path / "district-data",
                        {"kind": "victoriametrics", "url": victoriametrics.url, "database": "houqin"})
    add_user(toml, "ada", "district-admin", monkeypatch)
    sun, moon, star = (SitePublisher(central, s) for s in SITES)
    try:
        for p in (sun, moon, star):
            p.status()
        star.offline()  # star-kg's gateway went away (its retained last word)
        with running_service(toml) as service:
            client = logged_in(service, "ada")
            # alert transitions are not retained: the district's persistent session keeps them from its first start
            sun.alert(1, "major")
            wait_for(lambda: {s["id"]: s["online"] for s in overview(client)} ==
                     {"sun-kg": True, "moon-kg": True, "star-kg": False}, "the retained states read")
            sites = {s["id"]: s for s in overview(client)}
            assert sites["sun-kg"]["alerts"]["major"] == 1
            assert abs(sites["sun-kg"]["last_reading_at"] - (now - 60)) < 1
            assert abs(sites["moon-kg"]["last_reading_at"] - (now - 3600)) < 1
            assert sites["star-kg"]["last_reading_at"] is None
            # offline first, then the open major alert, then the quiet one
            assert [s["id"] for s in overview(client)] == ["star-kg", "sun-kg", "moon-kg"]
            with chromium() as browser:
                page = browser.new_page(viewport={"width": 360, "height": 780}, locale="zh-CN")
                login(page, service.url, "ada")
                rows = page.locator("tr[data-site]")
                assert rows.count() == 3
                assert rows.nth(0).get_attribute("data-site") == "star-kg"
                text = page.inner_text("main")
                for word in ("幼儿园1", "幼儿园2", "幼儿园3", "在线", "离线", "全区总览"):
                    assert word in text
                assert "moon-kg" not in text and "critical" not in text
                # a critical alert opens at moon-kg: it comes first, live, with its age
                opened = time.time() - 120
                moon.alert(7, "critical", opened_at=opened)
                page.wait_for_selector("tbody tr:first-child[data-site='moon-kg']", timeout=15000)
                first = page.locator("tr[data-site]").nth(0).inner_text()
                assert "紧急 1" in first and "分钟前" in first
                assert page.evaluate("document.documentElement.scrollWidth") <= 360
                shot(page, "district-overview-360")
                # acknowledged: no longer a call, it stays open (major/critical counts) but drops below offline
                moon.alert(7, "critical", "acknowledged", opened_at=opened)
                page.wait_for_selector("tbody tr:first-child[data-site='star-kg']", timeout=15000)
                moon.alert(7, "critical", "cleared", opened_at=opened)
                wait_for(lambda: next(s for s in overview(client) if s["id"] == "moon-kg")["alerts"]["critical"] == 0,
                         "the cleared alert gone")
    finally:
        for p in (sun, moon, star):
            p.close()
