"""The JSON API and the pages' data with the real app, the real SQLite store and the real alert service."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from gateway.deadletters import DeadLetters
from gateway.model import Reading
from gateway.store.ingest_state import IngestState
from tests.dashboard.helpers import Site, login_ok


def _status(site: Site, device: str, last_seen: float, online: bool | None, last_data: float | None = -1.0) -> None:
    # as ingest writes availability, and as an older release saved the times (last_data: a real reading);
    # ingest now saves the times in the store (test_times_saved_in_the_store_show_in_the_device_list)
    site.db.conn().execute(
        "INSERT OR REPLACE INTO device_status (device, last_seen, online, last_data) VALUES (?, ?, ?, ?)",
        (device, last_seen, None if online is None else int(online), last_seen if last_data == -1.0 else last_data))


def test_readings_raw_and_aggregated(site: Site, client: TestClient) -> None:
    now = site.clock.now()
    base = (now // 600) * 600 - 3600  # 10-minute windows line up with the data
    site.store.write([Reading(base + i * 60, "fridge-1", "temperature", 3.0 + (i % 10) * 0.1)
                      for i in range(60)])
    login_ok(client, "li")
    r = client.get("/api/devices/fridge-1/readings", params={"metric": "temperature", "start": base,
                                                              "end": base + 3600})
    assert r.status_code == 200
    body = r.json()
    assert len(body["ts"]) == 60
    assert body["values"][0] == 3.0 and abs(body["values"][9] - 3.9) < 1e-9
    r = client.get("/api/devices/fridge-1/readings", params={"metric": "temperature", "start": base,
                                                              "end": base + 3600, "every": 600, "fn": "max"})
    assert r.status_code == 200
    agg = r.json()
    assert len(agg["values"]) == 6
    assert all(abs(v - 3.9) < 1e-9 for v in agg["values"])
    assert agg["ts"][0] == base
    assert client.get("/api/devices/nope/readings", params={"metric": "temperature"}).status_code == 404
    r = client.get("/api/devices/fridge-1/readings", params={"metric": "temperature", "start": now - 30 * 86400})
    assert r.status_code == 400 and "every" in r.json()["detail"]


def test_overview_lights_follow_alerts_and_silence(site: Site, client: TestClient) -> None:
    now = site.clock.now()
    for d in ("fridge-1", "freezer-1", "gate", "reader", "water", "power"):
        _status(site, d, now - 10, True)
    login_ok(client, "yuan")
    areas = {a["area"]: a for a in client.get("/api/overview").json()["areas"]}
    assert {a["status"] for a in areas.values()} == {"green"}
    aid = site.open_alert("fridge-1", severity="critical")
    _status(site, "water", now - 3600, True)  # silent for an hour
    body = client.get("/api/overview").json()
    areas = {a["area"]: a for a in body["areas"]}
    assert areas["cold_storage"]["status"] == "red"
    assert areas["utilities"]["status"] == "amber" and areas["utilities"]["offline"] == 1
    assert areas["gate"]["status"] == "green"
    assert [a["id"] for a in body["alerts"]] == [aid]
    assert body["alerts"][0]["device_name"] == "Kitchen fridge"


def test_quiet_card_reader_is_no_silent_device_and_availability_is_no_reading(site: Site,
                                                                             client: TestClient) -> None:
    now = site.clock.now()
    for d in ("fridge-1", "freezer-1", "gate", "water", "power"):
        _status(site, d, now - 10, True)
    # No card all night; the reader's agent keeps saying it is online.
    _status(site, "reader", now - 60, True, last_data=now - 9 * 3600)
    login_ok(client, "yuan")
    areas = {a["area"]: a for a in client.get("/api/overview").json()["areas"]}
    assert areas["gate"]["status"] == "green" and areas["gate"]["offline"] == 0
    rows = {d["id"]: d for d in client.get("/api/devices").json()}
    assert rows["reader"]["stale"] is False
    _status(site, "reader", now - 60, False, last_data=now - 9 * 3600)  # its agent went away: that shows
    areas = {a["area"]: a for a in client.get("/api/overview").json()["areas"]}
    assert areas["gate"]["status"] == "amber" and areas["gate"]["offline"] == 1
    # A retained "online" redelivered a minute ago is no reading: the fridge silent for an hour shows silent.
    _status(site, "fridge-1", now - 60, True, last_data=now - 3600)
    rows = {d["id"]: d for d in client.get("/api/devices").json()}
    assert rows["fridge-1"]["stale"] is True and rows["fridge-1"]["last_seen"] == now - 3600


def test_times_saved_in_the_store_show_in_the_device_list(site: Site, client: TestClient) -> None:
    now = site.clock.now()
    _status(site, "water", now - 7200, True)  # what an older release left in the events database
    site.store.write([], IngestState(seen=(("water", now - 30, now - 30), ("reader", now - 60, None))))
    login_ok(client, "yuan")
    rows = {d["id"]: d for d in client.get("/api/devices").json()}
    assert rows["water"]["last_seen"] == now - 30 and rows["water"]["stale"] is False
    assert rows["water"]["online"] is True
    assert rows["reader"]["last_seen"] is None  # heard from, but no reading or card yet


def test_alerts_filter_ack_and_timeline(site: Site, client: TestClient) -> None:
    cold = site.open_alert("fridge-1", severity="major")
    gate = site.open_alert("gate", rule="held-open", severity="minor")
    csrf = login_ok(client, "ada")
    assert {a["id"] for a in client.get("/api/alerts").json()} == {cold, gate}
    assert [a["id"] for a in client.get("/api/alerts", params={"area": "gate"}).json()] == [gate]
    assert [a["id"] for a in client.get("/api/alerts", params={"severity": "major"}).json()] == [cold]
    site.clock.advance(120)
    r = client.post(f"/api/alerts/{cold}/ack", json={"note": "door was ajar; closed it"},
                    headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200
    assert r.json()["state"] == "acknowledged" and r.json()["ack_note"] == "door was ajar; closed it"
    assert [a["id"] for a in client.get("/api/alerts", params={"state": "active"}).json()] == [gate]
    detail = client.get(f"/api/alerts/{cold}").json()
    whats = [t["what"] for t in detail["timeline"]]
    assert whats[0] == "opened" and "acknowledged" in whats
    assert any(t["note"] == "door was ajar; closed it" and t["by"] == "ada" for t in detail["timeline"])
    # acknowledging twice is a conflict, not a second ack
    r = client.post(f"/api/alerts/{cold}/ack", json={"note": "again"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 409
    assert client.get("/api/alerts/424242").status_code == 404
    # cleared alerts stay in the default ("recent") view for a week, not in "open"
    site.alerts.end("too-warm", "fridge-1")
    assert site.alerts.get(cold).state == "cleared"
    assert cold in [a["id"] for a in client.get("/api/alerts").json()]
    assert cold not in [a["id"] for a in client.get("/api/alerts", params={"state": "open"}).json()]
    site.clock.advance(8 * 86400)
    login_ok(client, "ada")  # the old session timed out meanwhile
    assert cold not in [a["id"] for a in client.get("/api/alerts").json()]
    assert cold in [a["id"] for a in client.get("/api/alerts", params={"state": "all"}).json()]
    audit = [(e.actor, e.action, e.target) for e in site.ctx.audit.recent()]
    assert ("ada", "alert_ack", str(cold)) in audit


def test_ack_through_the_page_form(site: Site, client: TestClient) -> None:
    aid = site.open_alert("gate", rule="held-open")
    csrf = login_ok(client, "wang")
    page = client.get("/gate").text
    assert f'action="/alerts/{aid}/ack"' in page
    r = client.post(f"/alerts/{aid}/ack", data={"csrf_token": csrf, "note": "delivery van, closed", "back": "/gate"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/gate"
    a = site.alerts.get(aid)
    assert a.state == "acknowledged" and a.acked_by == "wang" and a.ack_note == "delivery van, closed"


def test_devices_show_battery_dead_letters_and_availability(site: Site, client: TestClient) -> None:
    now = site.clock.now()
    site.store.write([Reading(now - 5, "fridge-1", "temperature", 4.2),
                      Reading(now - 5, "fridge-1", "battery_pct", 77)])
    _status(site, "fridge-1", now - 5, True)
    _status(site, "power", now - 50, False)
    dl = DeadLetters(site.db, site.clock)
    for _ in range(3):
        dl.record("houqin/kg/water/state", "not_json", b"{oops", device="water")
    login_ok(client, "zhao")
    rows = {d["id"]: d for d in client.get("/api/devices").json()}
    assert rows["fridge-1"]["battery_pct"] == 77 and rows["fridge-1"]["online"] is True
    assert rows["fridge-1"]["values"]["temperature"] == 4.2 and rows["fridge-1"]["stale"] is False
    assert rows["power"]["online"] is False
    assert rows["water"]["dead_letters"] == 3
    assert rows["gate"]["last_seen"] is None and rows["gate"]["stale"] is True
    html = client.get("/devices").text
    assert "77%" in html and "Kitchen fridge" in html


def test_gate_state_and_events(site: Site, client: TestClient) -> None:
    now = site.clock.now()
    site.store.write([Reading(now - 600, "gate", "contact", 0), Reading(now - 300, "gate", "contact", 1),
                      Reading(now - 100, "gate", "contact", 1)])
    conn = site.db.conn()
    for i, (typ, data) in enumerate([("card", {"uid": "04A1B2C3"}), ("button", {}), ("card", {"uid": "DEADBEEF"})]):
        conn.execute("INSERT INTO device_events (ts, device, type, data) VALUES (?, ?, ?, ?)",
                     (now - 500 + i * 100, "reader", typ, json.dumps(data)))
    login_ok(client, "wang")
    events = client.get("/api/gate/events").json()
    assert [e["type"] for e in events] == ["card", "button", "card"]
    assert events[0]["data"]["uid"] == "DEADBEEF"
    assert len(client.get("/api/gate/events", params={"since": now - 350}).json()) == 1
    html = client.get("/gate").text
    assert "is-open" in html and "DEADBEEF" in html
    assert 'data-since="' + str(now - 300) in html  # open since the first "open" after "closed"


def test_cold_storage_and_utilities_figures(site: Site, client: TestClient) -> None:
    now = site.clock.now()
    site.store.write([Reading(now - 3000, "fridge-1", "temperature", 2.5), Reading(now - 2000, "fridge-1",
                      "temperature", 9.5), Reading(now - 10, "fridge-1", "temperature", 4.0)])
    from dashboard.views import local_midnight

    today = local_midnight(site.services, now)
    site.store.write([Reading(today + 60 * i, "water", "usage_l", 10.0) for i in range(1, 6)])
    site.store.write([Reading(now - 5, "water", "flow_lpm", 3.5)])
    login_ok(client, "ada")
    body: dict[str, Any] = client.get("/api/latest").json()
    fridge = next(c for c in body["cold_storage"] if c["device"]["id"] == "fridge-1")
    assert fridge["temperature"] == 4.0
    if now - 3000 >= today:
        assert fridge["min_today"] == 2.5 and fridge["max_today"] == 9.5
    assert (fridge["limit_low"], fridge["limit_high"]) == (0.0, 8.0)
    water = next(u for u in body["utilities"] if u["device"]["id"] == "water")
    assert water["today"] == 50.0 and water["rate"] == 3.5 and water["unit"] == "L"
    assert water["night_baseline"] is not None
    assert "Water main" in client.get("/utilities").text


def test_healthz(site: Site, client: TestClient) -> None:
    r = client.get("/healthz")  # no login needed
    assert r.status_code == 200
    body = r.json()
    assert body["ok"] is True and body["events_db_writable"] is True and body["store_writable"] is True
    site.services.broker_connected = lambda: False
    r = client.get("/healthz")
    assert r.status_code == 503 and r.json()["broker_connected"] is False


class FakeIngestStats:
    """A stats source shaped like Ingest.stats()."""

    def stats(self) -> dict[str, Any]:
        return {"messages": 12, "refused": {"not_json": 2, "out_of_range": 1}, "queue_depth": 0, "last_commit": None}


class FakeAlertingStats:
    """A stats source shaped like Alerting.stats()."""

    def stats(self) -> dict[str, Any]:
        return {"rules_errors": 0, "notify_sent": {"wecom": 3, "email": 1}, "notify_queued": {}}


def test_metrics_prometheus_text(site: Site, client: TestClient) -> None:
    site.services.stats_sources["ingest"] = FakeIngestStats()
    site.services.stats_sources["alerting"] = FakeAlertingStats()
    site.open_alert("fridge-1", severity="critical")
    assert client.get("/metrics").status_code == 403  # not from localhost, not an admin
    login_ok(client, "ada")
    r = client.get("/metrics")
    assert r.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = r.text
    # Counters are counters (with _total), levels are gauges, and every family says what it is.
    assert "# TYPE houqin_ingest_messages_total counter" in text and "houqin_ingest_messages_total 12.0" in text
    assert "# HELP houqin_ingest_messages_total MQTT messages committed." in text
    assert 'houqin_ingest_refused_total{reason="not_json"} 2.0' in text
    assert "# TYPE houqin_ingest_queue_depth gauge" in text
    assert 'houqin_alerts_open{severity="critical",state="active"} 1.0' in text
    assert "houqin_dashboard_sessions 1.0" in text
    assert 'houqin_alerting_notify_sent_total{channel="wecom"} 3.0' in text
    assert "houqin_alerting_rules_errors_total 0.0" in text
    typed = {line.split()[2]: line.split()[3] for line in text.splitlines() if line.startswith("# TYPE ")}
    helped = {line.split()[2] for line in text.splitlines() if line.startswith("# HELP ")}
    assert typed and set(typed) == helped
    assert all(kind == "counter" for name, kind in typed.items() if name.endswith("_total"))


def test_openapi_lists_the_api(client: TestClient) -> None:
    assert client.get("/api/openapi.json").status_code == 401
    login_ok(client, "yuan")
    paths = client.get("/api/openapi.json").json()["paths"]
    for p in ["/api/overview", "/api/devices", "/api/devices/{device_id}/readings", "/api/alerts",
              "/api/alerts/{alert_id}/ack", "/api/gate/events", "/api/users", "/api/live", "/healthz", "/metrics"]:
        assert p in paths, p


def test_pages_render_in_the_users_language(site: Site, client: TestClient) -> None:
    csrf = login_ok(client, "wang")
    assert "Gate alarms" in client.get("/gate").text  # site default is en
    r = client.post("/account/locale", data={"csrf_token": csrf, "locale": "zh-CN", "next": "/gate"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/gate"
    html = client.get("/gate").text
    assert "门岗告警" in html and 'lang="zh-CN"' in html
    assert client.get("/api/me").json()["locale"] == "zh-CN"
    with TestClient(site.app) as other:  # another user still sees the site default
        login_ok(other, "ada")
        assert "Overview" in other.get("/").text


def test_admin_manages_users(site: Site, client: TestClient) -> None:
    csrf = login_ok(client, "ada")
    r = client.post("/admin/users", data={"csrf_token": csrf, "username": "chen", "role": "kitchen",
                                          "password": "a long kitchen pw", "display_name": "陈阿姨"},
                    follow_redirects=False)
    assert r.status_code == 303
    users = {u["username"]: u for u in client.get("/api/users").json()}
    assert users["chen"]["role"] == "kitchen" and users["chen"]["display_name"] == "陈阿姨"
    r = client.post("/admin/users", data={"csrf_token": csrf, "username": "chen2", "role": "kitchen",
                                          "password": "short"})
    assert r.status_code == 400 and "at least 10" in r.text
    r = client.post("/admin/users/chen", data={"csrf_token": csrf, "action": "role", "role": "facilities"},
                    follow_redirects=False)
    assert r.status_code == 303 and site.ctx.accounts.get("chen").role == "facilities"  # type: ignore[union-attr]
    # the last admin cannot demote or disable themself
    r = client.post("/admin/users/ada", data={"csrf_token": csrf, "action": "role", "role": "viewer"})
    assert r.status_code == 400 and site.ctx.accounts.get("ada").role == "admin"  # type: ignore[union-attr]
