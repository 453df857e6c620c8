"""What the guard and the person visited are told when an action cannot be done, in their language: the
desk's forms, the JSON API the desk's script shows, the handover page and the public approval link."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dashboard.app import create_app
from gateway.alerts import AlertService, AlertStore
from gateway.clock import ManualClock
from gateway.eventsdb import EventsDB
from gateway.gate.service import Gate
from gateway.store.sqlite import SqliteStore
from tests.dashboard.helpers import PASSWORD, ROLE_USERS, Site, cheap_hasher, dashboard_services, login_ok, make_config


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    en = make_config(tmp_path)
    cfg = en.model_copy(update={"site": en.site.model_copy(update={"locale": "zh-CN"})})  # a Chinese site
    (tmp_path / "data").mkdir(parents=True, exist_ok=True)
    db = EventsDB(tmp_path / "data" / "events.db")
    store = SqliteStore(tmp_path / "data" / "timeseries.db")
    clock = ManualClock(1_790_000_000.0)
    alerts = AlertService(AlertStore(db), clock)
    services = dashboard_services(cfg, db, clock, store, alerts, add_alert_listener=alerts.add_listener)
    s = Site(cfg, db, store, clock, alerts, services, create_app(services, cfg.dashboard, hasher=cheap_hasher()))
    for role, name in ROLE_USERS.items():
        s.ctx.accounts.add(name, role, PASSWORD, locale="en" if name == "ada" else None)
    yield s
    store.close()
    db.close()


def _gate(site: Site) -> Gate:
    gate: Gate = site.app.state.gate
    return gate


def test_guard_is_told_in_chinese(site: Site) -> None:
    with TestClient(site.app) as c:
        token = login_ok(c, "wang")
        r = c.post("/gate/visitors", data={"csrf_token": token, "name": " ", "host": "园长"})
        assert r.status_code == 400 and "姓名：请填写访客姓名" in r.text and "write the visitor" not in r.text
        v = _gate(site).register_visitor(name="钱七", host="园长")
        r = c.post(f"/api/gate/visitors/{v.id}/signin", headers={"X-CSRF-Token": token})
        assert r.status_code == 409
        assert r.json()["detail"] == f"访客 #{v.id} 当前为“待批准”；只有已批准的访客才能登记入园（请先请被访人批准）"
        r = c.post("/api/gate/visitors", json={"name": "钱七", "host": "园长", "id_number": "12"},
                   headers={"X-CSRF-Token": token})
        assert r.status_code == 400 and r.json()["detail"].startswith("证件号码：")
        r = c.post("/gate/handover", data={"csrf_token": token, "note": ""})
        assert r.status_code == 400 and "交班记录：请写下本班情况" in r.text
    with TestClient(site.app) as c:
        token = login_ok(c, "ada")  # an admin who reads English
        r = c.post(f"/api/gate/visitors/{v.id}/signout", headers={"X-CSRF-Token": token})
        assert r.json()["detail"] == f"visitor #{v.id} is waiting for approval, not on site"


def test_person_visited_is_told_in_the_sites_language(site: Site) -> None:
    gate = _gate(site)
    v = gate.register_visitor(name="钱七", host="园长")
    token = gate.approval_token(v.id)
    with TestClient(site.app) as c:
        assert "此审批链接无效" in c.get(f"/v/{token[:-3]}abc").text
        assert "此审批链接不完整" in c.get("/v/12345").text
        assert c.post(f"/v/{token}", data={"decision": "approve", "by": "园长"}).status_code == 200
        again = c.post(f"/v/{token}", data={"decision": "refuse", "by": "园长"})
        assert again.status_code == 409 and f"访客 #{v.id} 已是“已批准”，无需再决定" in again.text
        site.clock.advance(3600)
        assert "此审批链接已过期；请打电话给门卫" in c.get(f"/v/{token}").text  # no "send a new link": there is none


def test_card_registry_errors_in_chinese(site: Site) -> None:
    from gateway.gate.cards import CardError

    cards = _gate(site).cards
    cards.add("AA01", "李老师")
    told = []
    for kwargs in ({"uid": "aa-01", "holder": "王老师"}, {"uid": "B1", "holder": " "},
                   {"uid": "B2", "holder": "王老师", "days": "89"}, {"uid": "B3", "holder": "王老师", "hours": "7-18"},
                   {"uid": "B4", "holder": "王老师", "valid_until": "2026/12/01"}):
        with pytest.raises(CardError) as e:
            cards.add(**kwargs)
        told.append(e.value.text("zh-CN"))
    assert told == ["卡 AA01 已登记；请修改原有记录", "持卡人：请填写持卡人姓名",
                    "星期 '89'：请用 1（周一）到 7（周日）表示，例如 “12345”",
                    "时段 '7-18'：请按 “HH:MM-HH:MM” 填写，例如 “07:00-18:00”",
                    "日期 '2026/12/01'：请按 YYYY-MM-DD 填写"]


def test_card_page_tells_the_admin_in_chinese(site: Site) -> None:
    site.ctx.accounts.add("laowang", "admin", PASSWORD)  # reads the site's language
    with TestClient(site.app) as c:
        token = login_ok(c, "laowang")
        r = c.post("/gate/cards", data={"csrf_token": token, "uid": "B2", "holder": "王老师", "kind": "staff",
                                        "days": "89"})
        assert r.status_code == 400 and "星期 &#39;89&#39;：请用 1（周一）到 7（周日）表示" in r.text
