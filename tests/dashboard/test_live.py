"""The dashboard served by uvicorn in a thread: server-sent events, role filtering, logout, shutdown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dashboard.routes import api
from dashboard.server import DashboardServer
from gateway.model import CommittedBatch, Event, Reading
from tests.dashboard.helpers import Site, Stream, logged_in, make_site, served_site


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Site, DashboardServer]]:
    with served_site(tmp_path) as served:
        yield served


def test_live_readings_events_and_alerts(served: tuple[Site, DashboardServer]) -> None:
    site, server = served
    guard = logged_in(server.url, "wang")
    kitchen = logged_in(server.url, "li")
    gs, ks = Stream(guard), Stream(kitchen)
    gs.wait("hello")
    ks.wait("hello")
    assert site.ctx.hub.clients == 2
    now = site.clock.now()
    site.ctx.hub.on_batch(CommittedBatch(readings=(Reading(now, "gate", "contact", 1.0),),
                                         events=(Event(now, "reader", "card", {"uid": "04A1B2C3"}),)))
    site.ctx.hub.on_batch(CommittedBatch(readings=(Reading(now, "fridge-1", "temperature", 6.5),)))
    assert gs.wait("reading", device="gate")["value"] == 1.0
    assert gs.wait("event", device="reader")["data"] == {"uid": "04A1B2C3"}
    assert ks.wait("reading", device="fridge-1")["value"] == 6.5
    # the kitchen's stream carries no gate traffic (it was sent before the fridge reading, in order)
    assert not [e for e in ks.events if e[1].get("device") in ("gate", "reader")]
    # an alert opened by the real alert service reaches everyone
    aid = site.open_alert("gate", rule="held-open", severity="major", detail="open 3 min")
    got = gs.wait("alert", id=aid)
    assert got["change"] == "opened" and got["area"] == "gate" and got["detail"] == "open 3 min"
    ks.wait("alert", id=aid)
    site.alerts.ack(aid, "wang", "closed")
    assert gs.wait("alert", id=aid, change="acknowledged")["acked_by"] == "wang"
    guard.close()
    kitchen.close()


def test_logout_ends_the_stream(served: tuple[Site, DashboardServer], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api, "HEARTBEAT_S", 0.2)
    _, server = served
    c = logged_in(server.url, "yuan")
    s = Stream(c)
    s.wait("hello")
    csrf = c.get("/api/me").json()["csrf_token"]
    with httpx.Client(base_url=server.url, cookies=c.cookies) as other:
        assert other.post("/logout", data={"csrf_token": csrf}).status_code == 303
    s.wait("logout")
    assert s.ended.wait(10)
    c.close()


def test_stop_ends_open_streams(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    server = DashboardServer(site.app, site.ctx.settings)
    server.start()
    c = logged_in(server.url, "ada")
    s = Stream(c)
    s.wait("hello")
    server.stop()  # returns although a client is still connected
    assert s.ended.wait(10)
    c.close()
    site.close()


def test_metrics_open_to_localhost_scrapers(served: tuple[Site, DashboardServer]) -> None:
    _, server = served
    r = httpx.get(server.url + "/metrics", timeout=10)
    assert r.status_code == 200
    assert "houqin_dashboard_live_clients 0.0" in r.text
    assert httpx.get(server.url + "/api/overview", timeout=10).status_code == 401


def test_port_in_use_is_a_clear_error(served: tuple[Site, DashboardServer], tmp_path: Path) -> None:
    _, server = served
    other = make_site(tmp_path / "b", port=server.port)
    second = DashboardServer(other.app, other.ctx.settings)
    with pytest.raises(OSError, match="port"):
        second.start()
    second.stop()


def test_live_connections_are_bounded(served: tuple[Site, DashboardServer],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    site, server = served
    monkeypatch.setattr(api, "MAX_LIVE_CLIENTS", 1)
    c = logged_in(server.url, "ada")
    s = Stream(c)
    s.wait("hello")
    with httpx.Client(base_url=server.url, cookies=c.cookies, timeout=10) as other:
        assert other.get("/api/live").status_code == 503
    assert site.ctx.hub.clients == 1
    c.close()
