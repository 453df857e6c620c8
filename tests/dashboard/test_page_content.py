"""What pages show: today's cold-storage alerts with their corrective actions; times in the site's zone."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from dashboard.views import local_midnight
from tests.dashboard.helpers import Site, login_ok


def test_todays_alerts_and_corrective_actions_stay_after_they_clear(site: Site, client: TestClient) -> None:
    midnight = local_midnight(site.services, site.clock.now())
    # yesterday's alert, acknowledged and cleared yesterday: not today's business
    site.clock.set(midnight - 3 * 3600)
    old = site.open_alert("fridge-1", rule="old-warm")
    site.alerts.ack(old, "li", "yesterday's note")
    site.alerts.end("old-warm", "fridge-1")
    # this morning: the fridge warmed up, the cook moved the food and the alert cleared
    site.clock.set(midnight + 3600)
    done = site.open_alert("fridge-1", rule="too-warm")
    site.alerts.ack(done, "li", "食物已转移到2号冰箱")
    site.alerts.end("too-warm", "fridge-1")
    # and one still open now
    site.clock.advance(1800)
    open_now = site.open_alert("fridge-1", rule="door-open")
    assert site.alerts.get(done).state == "cleared"

    login_ok(client, "li")
    body: dict[str, Any] = client.get("/api/latest").json()
    fridge = next(c for c in body["cold_storage"] if c["device"]["id"] == "fridge-1")
    ids = [a["id"] for a in fridge["alerts"]]
    assert ids == [open_now, done]  # open first; yesterday's is gone
    cleared = fridge["alerts"][1]
    assert cleared["state"] == "cleared" and cleared["ack_note"] == "食物已转移到2号冰箱"
    html = client.get("/cold").text
    assert "食物已转移到2号冰箱" in html and "(li)" in html
    assert "yesterday&#39;s note" not in html and "yesterday's note" not in html


def test_times_are_in_the_site_time_zone_and_the_users_language(site: Site, client: TestClient) -> None:
    site.clock.set(1_790_000_000.0)  # 2026-09-21 14:13:20 UTC, 22:13 in Asia/Shanghai (the default zone)
    aid = site.open_alert("fridge-1")
    csrf = login_ok(client, "li")
    html = client.get(f"/alerts/{aid}").text
    assert "21 Sep 22:13" in html and "14:13" not in html
    client.post("/account/locale", data={"csrf_token": csrf, "locale": "zh-CN", "next": "/"})
    html = client.get(f"/alerts/{aid}").text
    assert "9月21日 22:13" in html and "14:13" not in html


def test_devices_count_todays_dead_letters_with_the_latest_reason(site: Site, client: TestClient) -> None:
    from gateway.deadletters import DeadLetters

    now = site.clock.now()
    dl = DeadLetters(site.db, site.clock)
    site.clock.set(now - 2 * 86400)  # a sensor fixed two days ago: not today's trouble
    for _ in range(5):
        dl.record("houqin/kg/power/state", "not_json", b"{oops", device="power")
    site.clock.set(now - 600)
    dl.record("houqin/kg/water/state", "not_json", b"{oops", device="water")
    dl.record("houqin/kg/water/state", "not_json", b"{oops", device="water")
    site.clock.set(now - 60)
    dl.record("houqin/kg/water/state", "out_of_range", b'{"flow_lpm": -5}', device="water")
    site.clock.set(now)
    login_ok(client, "zhao")
    rows = {d["id"]: d for d in client.get("/api/devices").json()}
    assert (rows["water"]["dead_letters"], rows["water"]["dead_letter_reason"]) == (3, "out_of_range")
    assert (rows["power"]["dead_letters"], rows["power"]["dead_letter_reason"]) == (0, None)
    assert "<code class=\"small\" title=\"houqin dead-letters\">out_of_range</code>" in client.get("/devices").text
    plan = " ".join(str(r[-1]) for r in site.db.conn().execute(
        "EXPLAIN QUERY PLAN SELECT device, count(*), reason, max(ts) FROM dead_letters WHERE ts >= ?"
        " AND device IS NOT NULL GROUP BY device", (now,)))
    assert "dead_letters_ts_device" in plan  # answered from the index of recent entries


def test_alert_filters_refuse_unknown_values(site: Site, client: TestClient) -> None:
    site.open_alert("fridge-1", severity="critical")
    login_ok(client, "ada")
    assert len(client.get("/api/alerts", params={"state": "open", "area": "cold_storage"}).json()) == 1
    for param, bad in (("state", "opened"), ("area", "kitchen"), ("severity", "high")):
        r = client.get("/api/alerts", params={param: bad})
        assert r.status_code == 422, (param, r.text)
        assert param in r.text  # the error names the parameter (and the values it takes)


def test_the_kitchen_acknowledges_on_the_cold_storage_page(site: Site, client: TestClient) -> None:
    aid = site.open_alert("fridge-1")
    with TestClient(site.app) as viewer:
        login_ok(viewer, "yuan")
        assert f'action="/alerts/{aid}/ack"' not in viewer.get("/cold").text  # read only
    csrf = login_ok(client, "li")
    html = client.get("/cold").text
    assert f'action="/alerts/{aid}/ack"' in html and 'name="back" value="/cold"' in html
    r = client.post(f"/alerts/{aid}/ack", data={"csrf_token": csrf, "note": "门没关严，已关好", "back": "/cold"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/cold"
    html = client.get("/cold").text
    assert "门没关严，已关好 (li)" in html and f'action="/alerts/{aid}/ack"' not in html


def test_alert_details_in_the_users_language(site: Site, client: TestClient) -> None:
    from gateway.alerts.store import OpenRequest

    def raise_(rule: str, device: str, metric: str | None, value: float | None, detail: str) -> int:
        return site.alerts.raise_alert(OpenRequest(rule=rule, device=device, kind=rule, severity="major", chain=None,
                                                   metric=metric, value=value, detail=detail,
                                                   since=site.clock.now())).id

    held = raise_("held", "gate", "contact", 1.0, "open")
    silent = raise_("stale", "fridge-1", None, None, "offline")
    warm = raise_("warm", "freezer-1", "temperature", -9.5, "-9.5 °C")
    csrf = login_ok(client, "ada")
    client.post("/account/locale", data={"csrf_token": csrf, "locale": "zh-CN", "next": "/"})
    details = {int(m[0]): m[1] for m in re.findall(
        r'data-alert-id="(\d+)">.*?<p class="detail">([^<]*)</p>', client.get("/alerts").text, re.S)}
    assert details == {held: "开", silent: "设备离线", warm: "-9.5 °C"}  # the gate's word, not the alert state 未解除
    api = {a["id"]: a for a in client.get("/api/alerts").json()}
    assert api[held]["detail"] == "open" and api[held]["detail_text"] == "open"  # site language (en); raw kept


def test_every_timeline_entry_is_named_in_chinese(site: Site, client: TestClient) -> None:
    from dashboard.templating import LABELS

    aid = site.open_alert("fridge-1")
    store = site.alerts.store
    store.mark_sent(aid, 1, site.clock.now(), "notified", "kitchen-wecom")
    store.add_timeline(aid, site.clock.now(), "delivered", "kitchen-wecom: opened")
    store.add_timeline(aid, site.clock.now(), "delivery failed", "mail: opened: timeout")
    store.mark_done(aid, site.clock.now(), "not notified", "no chain 'x'")
    site.alerts.ack(aid, "li", "ok")
    site.alerts.end("too-warm", "fridge-1")
    whats = {t.what for t in site.alerts.timeline(aid)}
    assert whats == {"opened", "notified", "delivered", "delivery failed", "not notified", "acknowledged", "cleared"}
    assert whats <= set(LABELS)  # every kind of entry the alert store and notifiers write has a label
    csrf = login_ok(client, "ada")
    client.post("/account/locale", data={"csrf_token": csrf, "locale": "zh-CN", "next": "/"})
    html = client.get(f"/alerts/{aid}").text
    timeline = html[html.index('class="timeline"'):]
    for english in ("<b>opened</b>", "<b>notified</b>", "<b>not notified</b>", "<b>delivered</b>"):
        assert english not in timeline
