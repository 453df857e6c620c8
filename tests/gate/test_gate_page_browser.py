"""The guard's gate page in headless Chromium on a real gateway and Mosquitto: a refused card and a forced
opening are told at once with the sound (no reload); the lock release button pulses the relay through
MQTT, tells gate_forced who opened, and is audited; roles without it neither see nor may use it.
Screenshots go to ``artifacts/screenshots/gate-page-*.png``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dashboard.component import DashboardComponent, serve_dashboard
from dashboard.views import gate_events
from gateway import contract
from gateway.app import Site, build_gateway
from gateway.config import parse_config
from gateway.mqtt_link import InboundMessage, LinkSettings, MqttLink
from tests.browser import chromium, login, require_chromium, shot
from tests.dashboard.helpers import PASSWORD, login_ok
from tests.gate.helpers import DEVICES
from tests.gateway.ingest_helpers import Publisher
from tests.mosquitto import Mosquitto
from tests.waiting import COMMIT_WINDOW, wait_for

TABLET = {"width": 1024, "height": 768}


@pytest.fixture
def site(tmp_path: Path, mosquitto: Mosquitto) -> Iterator[dict[str, Any]]:
    require_chromium()
    cfg = parse_config({
        "site": {"id": "kg", "name": "Test KG", "locale": "en"},
        "mqtt": {"url": mosquitto.url, "client_id": "houqin-gate-page-gw"},
        "storage": {"dir": str(tmp_path / "data"), "commit_interval": COMMIT_WINDOW},
        "dashboard": {"bind": "127.0.0.1", "port": 0},
        "devices": DEVICES,
        "gate": {"readers": [{"device": "reader", "relay": "gate", "direction": "in"}], "relay_seconds": "3s"},
        "rules": [{"id": "gate-forced", "kind": "gate_forced", "devices": ["gate"], "authorized_by": ["reader"],
                   "window": "5s", "severity": "critical", "name": "Gate forced open"}],
    })
    gw: Site = build_gateway(cfg)
    component: DashboardComponent = serve_dashboard(gw)
    gw.start()
    pub = Publisher(mosquitto.port)
    commands: list[InboundMessage] = []
    watcher = MqttLink(LinkSettings("127.0.0.1", mosquitto.port, "gate-page-watcher", persistent=False,
                                    manual_ack=False),
                       on_message=commands.append,
                       subscriptions=[contract.set_topic("kg", "gate"), contract.event_topic("kg", "gate")])
    watcher.start()
    try:
        pub.wait_gateway()
        assert watcher.wait_connected(10)
        assert component.server is not None
        accounts = component.server.context.accounts
        accounts.add("wang", "guard", PASSWORD, display_name="王师傅")
        accounts.add("yuan", "viewer", PASSWORD)
        with chromium() as browser:
            yield {"gw": gw, "pub": pub, "url": component.server.url, "browser": browser, "commands": commands,
                   "ctx": component.server.context}
    finally:
        watcher.stop()
        pub.close()
        gw.stop()


def _beeps(page: Any) -> int:
    return int(page.evaluate("Number(document.body.dataset.beeps || 0)"))


def test_refusal_forced_opening_and_lock_release_on_the_gate_page(site: dict[str, Any]) -> None:
    url, pub = site["url"], site["pub"]
    page = site["browser"].new_context(viewport=TABLET).new_page()
    login(page, url, "wang")
    assert page.url.endswith("/gate")  # the guard's home
    page.wait_for_selector("body[data-live-ready='1']", timeout=10_000)
    page.evaluate("window.__notReloaded = true")
    pub.state("gate", {"contact": "closed"})

    # the gate opens with no card, button or release: forced open, an alarm with the sound
    wait_for(lambda: bool(site["gw"].store.series("gate")), "the closed contact stored")
    page.wait_for_selector(".gate-state[data-device='gate'].is-closed", timeout=10_000)
    pub.state("gate", {"contact": "open"})
    page.wait_for_selector("#alert-list article.sev-critical", timeout=15_000)
    assert "Gate forced open" in (page.text_content("#alert-list") or "")
    wait_for(lambda: _beeps(page) >= 1, "the alarm sound")
    # open now and for how long, live; the change is a line of the event stream, named as configured
    page.wait_for_selector(".gate-state[data-device='gate'].is-open", timeout=10_000)
    assert page.text_content(".gate-state[data-device='gate'] .gate-now") == "OPEN"
    assert page.get_attribute(".gate-state[data-device='gate'] .gate-since [data-ago]", "data-ago")
    page.wait_for_selector("#event-list li.ev-open", timeout=10_000)
    assert page.text_content("#event-list li.ev-open span") == "Main gate"
    page.wait_for_selector("#event-list li.ev-forced", timeout=10_000)  # the alarm is a line of the stream too
    assert page.text_content("#event-list li.ev-forced span") == "Main gate"
    pub.state("gate", {"contact": "closed"})
    page.wait_for_selector("#event-list li.ev-closed", timeout=10_000)
    assert page.text_content("#event-list li.ev-closed span") == "Main gate"
    assert page.text_content(".gate-state[data-device='gate'] .gate-now") == "CLOSED"

    # an unknown card: refused, told at once on the gate page, with the sound
    pub.send(contract.event_topic("kg", "reader"), contract.encode_event("card", uid="ZZ99", ts=time.time()))
    page.wait_for_selector("#event-list li.ev-refused", timeout=15_000)
    assert "ZZ99" in (page.text_content("#live-banner") or "")
    assert "unknown card" in (page.text_content("#event-list li.ev-refused") or "")
    assert "Gate reader" in (page.text_content("#event-list li.ev-refused") or "")  # the name, not "reader"
    wait_for(lambda: _beeps(page) >= 2, "the refusal's sound")
    assert not site["commands"]  # neither opened anything
    assert page.evaluate("window.__notReloaded") is True
    shot(page, "gate-page-forced-and-refused")

    # the lock release button: a relay pulse and a release event through MQTT, audited
    page.click("button.release-lock[data-relay='gate']")
    page.wait_for_selector("#release-done", timeout=10_000)
    assert "Main gate" in (page.text_content("#release-done") or "")
    wait_for(lambda: any(c.topic == contract.set_topic("kg", "gate") and b"pulse" in c.payload
                         for c in site["commands"]), "the relay pulse command")
    wait_for(lambda: any(c.topic == contract.event_topic("kg", "gate") and b"release" in c.payload
                         for c in site["commands"]), "the release event (gate_forced knows who opened)")
    [entry] = [e for e in site["ctx"].audit.recent() if e.action == "gate_release"]
    assert (entry.actor, entry.target, entry.detail) == ("wang", "gate", "sent")
    # after the reload the refusal is still marked in the event stream, and opened/closed are there
    assert "ZZ99" in (page.text_content("#event-list li.ev-refused") or "")
    assert page.text_content("#event-list li.ev-open span") == "Main gate"
    assert page.text_content("#event-list li.ev-closed span") == "Main gate"
    assert page.text_content("#event-list li.ev-forced b") == "forced open"
    shot(page, "gate-page-released")

    # an accepted card and the exit button appear in the stream live, with the holder and the reader's name
    page.wait_for_selector("body[data-live-ready='1']", timeout=10_000)
    site["gw"].gate.cards.add("AA01", "Teacher Li")
    pub.send(contract.event_topic("kg", "reader"), contract.encode_event("card", uid="AA01", ts=time.time()))
    page.wait_for_selector("#event-list li.ev-accepted", timeout=15_000)
    assert "Teacher Li · Gate reader" in (page.text_content("#event-list li.ev-accepted") or "")
    pub.send(contract.event_topic("kg", "reader"), contract.encode_event("button", ts=time.time()))
    page.wait_for_selector("#event-list li.ev-button", timeout=15_000)
    assert page.text_content("#event-list li.ev-button span") == "Gate reader"
    # the bare card read and the gate's decision on it are one line, whichever arrived first
    assert page.locator("#event-list li", has_text="AA01").count() == 1
    wait_for(lambda: any(e["type"] == "release" for e in gate_events(site["ctx"].services)), "the release stored")
    page.reload()
    assert page.text_content("#event-list li.ev-release b") == "lock released"
    assert "Teacher Li · Gate reader" in (page.text_content("#event-list li.ev-accepted") or "")
    assert page.locator("#event-list li", has_text="ZZ99").count() == 1
    shot(page, "gate-page-stream")


def test_release_is_for_guards_and_admins_with_a_csrf_token(site: dict[str, Any]) -> None:
    url = site["url"]
    page = site["browser"].new_context(viewport=TABLET).new_page()
    login(page, url, "yuan")  # a viewer sees the gate but has no button
    page.goto(url + "/gate")
    assert page.query_selector("button.release-lock") is None
    with httpx.Client(base_url=url, timeout=10) as viewer, httpx.Client(base_url=url, timeout=10) as guard:
        for client, user in ((viewer, "yuan"), (guard, "wang")):
            login_ok(client, user)
        csrf_viewer = viewer.get("/api/me").json()["csrf_token"]
        assert viewer.post("/gate/release/gate", data={"csrf_token": csrf_viewer}).status_code == 403
        assert guard.post("/gate/release/gate", data={}).status_code == 403  # no CSRF token
        csrf = guard.get("/api/me").json()["csrf_token"]
        assert guard.post("/api/gate/release/kitchen-fridge", headers={"X-CSRF-Token": csrf}).status_code == 404
        r = guard.post("/api/gate/release/gate", headers={"X-CSRF-Token": csrf})
        assert r.status_code == 200 and r.json() == {"relay": "gate", "sent": True}
    wait_for(lambda: any(b"pulse" in c.payload for c in site["commands"]), "the relay pulse command")
    assert [e.actor for e in site["ctx"].audit.recent() if e.action == "gate_release"] == ["wang"]
