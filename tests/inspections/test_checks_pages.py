"""Checklist pages and API through HTTP and in Chromium on a 390 px phone: each role sees its checklists,
the evidence beside the items, a "pass" the sensors contradict comes back with a warning and is saved only
when confirmed, the API takes photos, other roles are refused."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dashboard.app import create_app
from dashboard.server import DashboardServer
from tests.browser import PHONE, chromium, login, require_chromium
from tests.dashboard.helpers import PASSWORD, cheap_hasher, dashboard_services, login_ok
from tests.inspections.conftest import MONDAY, ts
from tests.inspections.test_checklists import PNG, Kitchen

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "inspections"
USERS = {"admin": "ada", "guard": "wang", "kitchen": "li", "facilities": "zhao", "viewer": "yuan"}
FORM_PASS = {"result_fridge": "pass", "result_door": "pass", "result_water": "pass", "result_gas": "pass"}


def app_for(k: Kitchen) -> FastAPI:
    app = create_app(dashboard_services(k.cfg, k.db, k.clock, k.store, k.alerts), k.cfg.dashboard,
                     hasher=cheap_hasher())
    for role, name in USERS.items():
        app.state.ctx.accounts.add(name, role, PASSWORD, display_name="李阿姨" if name == "li" else name,
                                   locale="zh-CN" if role in ("kitchen", "guard") else "en")
    return app


@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[Kitchen, TestClient]]:
    k = Kitchen(tmp_path)
    with TestClient(app_for(k)) as c:
        yield k, c
    k.close()


def test_the_kitchen_sees_its_checklist_with_evidence(web: tuple[Kitchen, TestClient]) -> None:
    k, c = web
    k.readings(fridge=4.5, door="closed", night_l=12.0)
    login_ok(c, "li")
    page = c.get("/checks").text
    assert "厨房每日检查" in page and "待完成" in page and "大型玩具周查" not in page
    one = c.get("/checks/kitchen-daily").text
    for text in ("冰箱温度正常", "冷藏冰箱", "最近 24 小时：4.0 至 4.5 °C", "库房门", "昨夜 00:00-05:00：12.0 L",
                 "合格", "不合格"):
        assert text in one, text
    assert c.get("/checks/playground").status_code == 403


def test_a_contradicted_pass_is_warned_then_saved_when_confirmed(web: tuple[Kitchen, TestClient]) -> None:
    k, c = web
    k.readings(fridge=9.5, door="closed", night_l=0.0)
    token = login_ok(c, "li")
    warned = c.post("/checks/kitchen-daily", data={"csrf_token": token, **FORM_PASS})
    assert warned.status_code == 409
    assert "传感器数据与“合格”不符" in warned.text and "冷藏冰箱 当前 9.5 °C，超出范围" in warned.text
    assert 'value="pass" checked' in warned.text and 'name="confirm"' in warned.text
    assert k.checklists.history("kitchen-daily") == []
    saved = c.post("/checks/kitchen-daily", data={"csrf_token": token, **FORM_PASS, "confirm": "1"},
                   follow_redirects=False)
    assert saved.status_code == 303
    (run,) = k.checklists.history("kitchen-daily")
    assert run.by == "李阿姨" and run.results[0].warned
    assert "传感器数据不符，已确认保存" in c.get(saved.headers["location"]).text


def test_api_lists_and_takes_a_photo(web: tuple[Kitchen, TestClient]) -> None:
    k, c = web
    k.readings(fridge=4.0, door="open", night_l=0.0)
    token = login_ok(c, "ada")
    (daily, _weekly, _closing) = c.get("/api/checks").json()
    assert daily["state"] == "due" and daily["items"][1]["evidence"][0]["contradicts"] == "库房门 is open now"
    body: dict[str, Any] = {"results": {"fridge": {"passed": True}, "door": {"passed": False, "note": "门锁坏了"},
                                        "water": {"passed": True},
                                        "gas": {"passed": True, "photo": base64.b64encode(PNG).decode()}}}
    r = c.post("/api/checks/kitchen-daily", json=body, headers={"X-CSRF-Token": token})
    assert r.status_code == 201, r.text
    photo = r.json()["results"][3]["photo"]
    assert c.get(f"/checks/photos/{photo}").content == PNG
    bad = c.post("/api/checks/kitchen-daily", headers={"X-CSRF-Token": token},
                 json={"results": {**body["results"], "gas": {"passed": True, "photo": "bm90IGFuIGltYWdl"}}})
    assert bad.status_code == 400 and "JPEG or PNG" in bad.text
    assert c.get("/api/checks").json()[0]["state"] == "done"


def test_roles_on_checklists(web: tuple[Kitchen, TestClient]) -> None:
    _k, c = web
    token = login_ok(c, "wang")  # a guard: the kitchen's checklist is not theirs
    assert c.post("/checks/kitchen-daily", data={"csrf_token": token, **FORM_PASS}).status_code == 403
    assert c.post("/logout", data={"csrf_token": token}).status_code in (200, 303)
    token = login_ok(c, "yuan")  # a viewer reads, never saves
    assert c.get("/checks/kitchen-daily").status_code == 200
    assert c.post("/checks/kitchen-daily", data={"csrf_token": token, **FORM_PASS}).status_code == 403


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Kitchen, str]]:
    require_chromium()
    k = Kitchen(tmp_path_factory.mktemp("checks-browser"))
    k.clock.set(ts(MONDAY, 7, 45))
    k.readings(fridge=4.2, door="open", night_l=8.0)
    server = DashboardServer(app_for(k), k.cfg.dashboard)
    server.start()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield k, server.url
    server.stop()
    k.close()


def test_checklist_on_a_phone(served: tuple[Kitchen, str]) -> None:
    k, url = served
    with chromium() as browser:
        ctx = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
        page = ctx.new_page()
        try:
            login(page, url, "li", wait="load")
            page.goto(url + "/checks")
            page.screenshot(path=str(ARTIFACTS / "checks-phone.png"), full_page=True)
            page.click("#check-kitchen-daily")
            page.wait_for_selector("#check-form")
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            assert "库房门" in page.inner_text("#item-door")
            for item in ("fridge", "door", "water", "gas"):
                page.check(f"input[name=result_{item}][value=pass]")
            page.screenshot(path=str(ARTIFACTS / "check-form-phone.png"), full_page=True)
            page.click("#check-form button[type=submit]")
            page.wait_for_selector("#check-warning")  # the door is open: warned before saving
            assert "库房门 现在是开着的" in page.inner_text("#item-door")
            page.screenshot(path=str(ARTIFACTS / "check-warning-phone.png"), full_page=True)
            page.check("#confirm")
            page.click("#check-form button[type=submit]")
            page.wait_for_selector("#check-saved")
            assert "李阿姨" in page.inner_text("#check-history")
        finally:
            ctx.close()
    assert [r.warned for r in k.checklists.history("kitchen-daily")[0].results] == [False, True, False, False]


def png(width: int = 40, height: int = 30) -> bytes:
    """A real PNG (the browser decodes it before scaling)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\0" + bytes((200, 40, 40)) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_a_photo_from_the_phone_goes_with_the_checklist(served: tuple[Kitchen, str], tmp_path: Path) -> None:
    k, url = served
    photo = tmp_path / "valve.png"
    photo.write_bytes(png())
    before = len(k.checklists.history("kitchen-daily"))
    with chromium() as browser:
        ctx = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
        page = ctx.new_page()
        try:
            login(page, url, "li", wait="load")
            page.goto(url + "/checks/kitchen-daily")
            for item in ("fridge", "door", "water"):
                page.check(f"input[name=result_{item}][value=pass]")
            page.check("input[name=result_gas][value=fail]")
            page.fill("input[name=note_gas]", "阀门把手松动")
            page.set_input_files("#photo-gas", str(photo))
            page.click("#check-form button[type=submit]")
            page.wait_for_selector("#check-js-error:not([hidden])")  # the door is open: warned first
            assert "库房门 现在是开着的" in page.inner_text("#check-js-error")
            page.check("#confirm")
            page.click("#check-form button[type=submit]")
            page.wait_for_selector("#check-saved")
            page.screenshot(path=str(ARTIFACTS / "check-photo-saved-phone.png"), full_page=True)
        finally:
            ctx.close()
    runs = k.checklists.history("kitchen-daily")
    assert len(runs) == before + 1
    gas = runs[0].results[3]
    assert not gas.passed and gas.note == "阀门把手松动" and gas.photo is not None and gas.photo.endswith(".jpg")
    path = k.checklists.photo_path(gas.photo)
    assert path is not None and path.read_bytes()[:3] == b"\xff\xd8\xff"  # scaled to a JPEG in the browser


def test_screenshots_of_the_ledger_pages_on_a_phone(served: tuple[Kitchen, str]) -> None:
    k, url = served
    k.checklists.ledger.report_hazard("配电房", "电缆外皮破损", "major", owner="ada", by="ada")
    k.checklists.ledger.report_repair("小一班卫生间", "水龙头关不紧", by="李阿姨")
    with chromium() as browser:
        ctx = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="zh-CN")
        page = ctx.new_page()
        try:
            login(page, url, "zhao", wait="load")
            for name, path, expect in (("hazards", "/hazards", "电缆外皮破损"), ("repairs", "/repairs", "水龙头关不紧"),
                                       ("hazards-week", "/hazards/report?period=week", "配电房")):
                page.goto(url + path)
                assert expect in page.inner_text("body")
                assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1, path
                page.screenshot(path=str(ARTIFACTS / f"{name}-phone.png"), full_page=True)
        finally:
            ctx.close()
