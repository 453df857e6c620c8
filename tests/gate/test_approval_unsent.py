"""When no approval channel takes the request (the group robot is down), the desk says so on the pending
visitor, so the guard phones the person visited instead of waiting for a link nobody received."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from dashboard.app import create_app
from gateway.alerts import AlertService, AlertStore
from gateway.clock import ManualClock
from gateway.eventsdb import EventsDB
from gateway.gate.service import Gate
from gateway.store.sqlite import SqliteStore
from tests.dashboard.helpers import PASSWORD, cheap_hasher, dashboard_services, login_ok
from tests.gate.helpers import WED_10, gate_config
from tests.notify.receivers import WebhookServer
from tests.waiting import wait_for


def test_desk_warns_when_the_approval_message_reached_nobody(tmp_path: Path, hook: WebhookServer) -> None:
    hook.status = 500
    cfg = gate_config(tmp_path, notify={"channels": {"office": {"type": "webhook", "format": "wecom",
                                                                "url": hook.url()}},
                                        "chains": {"guards": {"steps": [{"channels": ["office"]}]}}},
                      approval_channels=["office"], public_url="https://kg.local")
    (tmp_path / "data").mkdir()
    db = EventsDB(tmp_path / "data" / "events.db")
    store = SqliteStore(tmp_path / "data" / "timeseries.db")
    clock = ManualClock(WED_10)
    try:
        app = create_app(dashboard_services(cfg, db, clock, store, AlertService(AlertStore(db), clock)), cfg.dashboard,
                         hasher=cheap_hasher())
        app.state.ctx.accounts.add("wang", "guard", PASSWORD, locale="zh-CN")
        gate: Gate = app.state.gate
        with TestClient(app) as c:
            token = login_ok(c, "wang")
            assert c.post("/gate/visitors", data={"csrf_token": token, "name": "钱七", "host": "园长"},
                          follow_redirects=False).status_code == 303
            [v] = gate.visitors.find(("pending",))
            wait_for(lambda: gate.visitors.get(v.id).approval_error is not None, "the failed approval request")
            assert "HTTP 500" in (gate.visitors.get(v.id).approval_error or "")
            desk = c.get("/gate/desk").text
            assert "审批消息未能发出" in desk and "请电话联系被访人" in desk
            hook.status = 200
            ok = gate.register_visitor(name="孙八", host="园长")
            wait_for(lambda: len(hook.received) == 2, "the second approval request")
            assert gate.visitors.get(ok.id).approval_error is None
            c.post(f"/gate/visitors/{v.id}/approve", data={"csrf_token": token, "note": "园长电话同意"})
            assert gate.visitors.get(v.id).approval_error is None  # decided: the warning has done its job
            assert "审批消息未能发出" not in c.get("/gate/desk").text
    finally:
        store.close()
        db.close()
