"""The guard's flow in headless Chromium on the gate tablet (1024x768), on a real gateway and Mosquitto:
card reads shown live (a refusal flagged at once), a visitor registered with the ID number masked,
approved from a phone through the signed link in the webhook message (releasing the gate), signed in,
on the roll call, signed out; the shift handover written and acknowledged by the next guard.
Screenshots go to ``artifacts/screenshots/gate-*.png``."""

from __future__ import annotations

import struct
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dashboard.component import DashboardComponent, serve_dashboard
from gateway import contract
from gateway.app import Site, build_gateway
from gateway.gate.service import Gate
from gateway.mqtt_link import InboundMessage, LinkSettings, MqttLink
from tests.browser import PHONE, chromium, login, require_chromium, shot
from tests.dashboard.helpers import PASSWORD
from tests.gate.helpers import gate_config
from tests.gateway.ingest_helpers import Publisher
from tests.mosquitto import Mosquitto, free_port
from tests.notify.receivers import WebhookServer
from tests.waiting import wait_for

TABLET = {"width": 1024, "height": 768}
ID = "110101199003071234"


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mosquitto: Mosquitto,
         hook: WebhookServer) -> Iterator[dict[str, Any]]:
    require_chromium()
    monkeypatch.setenv("HOUQIN_ID_KEY", "ab" * 32)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cfg = gate_config(tmp_path, mosquitto.url,
                      notify={"channels": {"office": {"type": "webhook", "format": "generic", "url": hook.url()}},
                              "chains": {"guards": {"steps": [{"channels": ["office"]}]}}},
                      id_numbers="encrypted", approval_channels=["office"], public_url=url,
                      release_on_approval="gate")
    cfg = cfg.model_copy(update={"dashboard": cfg.dashboard.model_copy(update={"port": port})})
    gw: Site = build_gateway(cfg)
    component: DashboardComponent = serve_dashboard(gw)
    gw.start()
    pub = Publisher(mosquitto.port)
    commands: list[InboundMessage] = []
    watcher = MqttLink(LinkSettings("127.0.0.1", mosquitto.port, "gate-watcher", persistent=False, manual_ack=False),
                       on_message=commands.append,
                       subscriptions=[contract.set_topic("kg", "gate"), contract.event_topic("kg", "gate")])
    watcher.start()
    try:
        pub.wait_gateway()
        assert watcher.wait_connected(10)
        assert component.server is not None and component.server.url == url
        accounts = component.server.context.accounts
        accounts.add("wang", "guard", PASSWORD, display_name="王师傅")
        accounts.add("zhang", "guard", PASSWORD, display_name="张师傅")
        gate: Gate = gw.gate
        gate.cards.add("AA01", "李老师", "staff")
        with chromium() as browser:
            yield {"gw": gw, "gate": gate, "pub": pub, "url": url, "browser": browser, "hook": hook,
                   "commands": commands}
    finally:
        watcher.stop()
        pub.close()
        gw.stop()


def _card(site: dict[str, Any], uid: str) -> None:
    site["pub"].send(contract.event_topic("kg", "reader"), contract.encode_event("card", uid=uid, ts=time.time()))


def _png(path: Path, size: int = 1200) -> Path:
    """A real PNG (a colour gradient) larger than the 800 px the desk scales photos to."""
    rows = b"".join(b"\x00" + bytes(c for x in range(size) for c in (x * 255 // size, y * 255 // size, 128))
                    for y in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    head = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head) + chunk(b"IDAT", zlib.compress(rows))
                     + chunk(b"IEND", b""))
    return path


def test_guard_flow_on_the_tablet(site: dict[str, Any], tmp_path: Path) -> None:
    url, gate = site["url"], site["gate"]
    ctx = site["browser"].new_context(viewport=TABLET)
    page = ctx.new_page()
    login(page, url, "wang")
    page.goto(url + "/gate/desk")
    page.wait_for_selector("body[data-live-ready='1']", timeout=10_000)

    # card reads appear without a reload; the refusal is flagged at once
    page.evaluate("window.__notReloaded = true")
    _card(site, "AA01")
    page.wait_for_selector("#access-list li.acc-ok.acc-new", timeout=15_000)
    assert "李老师" in page.text_content("#access-list li.acc-ok") or ""
    wait_for(lambda: any(c.payload and b"pulse" in c.payload for c in site["commands"]), "the relay pulse command")
    _card(site, "ZZ99")
    page.wait_for_selector("#access-alert:not([hidden])", timeout=15_000)
    assert "ZZ99" in (page.text_content("#access-alert") or "")
    assert page.evaluate("window.__notReloaded") is True
    shot(page, "gate-desk-card-refused")

    # register a visitor: the ID number is masked on every screen
    page.fill("#visitor-form input[name='name']", "赵工")
    page.fill("#visitor-form input[name='phone']", "13800000000")
    page.fill("#visitor-form input[name='organisation']", "自来水公司")
    page.fill("#visitor-form input[name='purpose']", "抄水表")
    page.fill("#visitor-form input[name='host']", "园长")
    page.fill("#visitor-form input[name='id_number']", ID)
    page.set_input_files("#photo", str(_png(tmp_path / "face.png")))  # taken with the tablet's camera
    page.click("#register")
    page.wait_for_selector("#pending .visitor img.v-photo", timeout=10_000)
    assert "110***********1234" in (page.text_content("#pending") or "")
    assert ID not in page.content()
    [pending] = gate.visitors.find(("pending",))
    assert (gate.visitors.photo(pending.id) or b"")[:2] == b"\xff\xd8"  # scaled to a JPEG in the browser
    shot(page, "gate-desk-visitor-pending")

    # the person visited approves from a phone through the link in the webhook message
    wait_for(lambda: len(site["hook"].received) >= 1, "the approval request")
    text = site["hook"].received[0].body["text"]
    link = next(w for w in text.split() if w.startswith(url + "/v/"))
    phone = site["browser"].new_context(viewport=PHONE).new_page()
    phone.goto(link)
    assert phone.text_content("#v-name") == "赵工" and ID not in phone.content()
    shot(phone, "gate-approve-phone")
    phone.click("#approve")
    phone.wait_for_selector("#decision")
    assert "赵工" in (phone.text_content("#decision") or "")
    wait_for(lambda: any(b"release" in c.payload for c in site["commands"]), "the gate released on approval")

    # the desk refreshes by itself; the guard signs the visitor in
    page.wait_for_selector("#approved .visitor [data-act='signin']", timeout=15_000)
    page.click("#approved .visitor [data-act='signin']")
    page.wait_for_selector("#on-site .visitor.st-on_site", timeout=10_000)
    assert [v["name"] for v in gate.on_site()["visitors"]] == ["赵工"]

    # the roll call lists everyone on site, ready to print
    page.goto(url + "/gate/rollcall")
    assert "赵工" in (page.text_content("table.roll") or "")
    page.evaluate("window.print = () => { window.__printed = true; }")
    page.click("#print")
    assert page.evaluate("window.__printed") is True
    page.emulate_media(media="print")
    assert page.is_hidden("header.top") and page.is_hidden("#print")
    shot(page, "gate-rollcall-print")
    page.emulate_media(media="screen")

    # sign-out at the gate
    page.goto(url + "/gate/desk")
    page.click("#on-site .visitor [data-act='signout']")
    page.wait_for_load_state("networkidle")
    assert gate.on_site()["visitors"] == []

    # shift handover: pre-filled with the shift's card reads; written by wang, acknowledged by zhang
    page.goto(url + "/gate/handover")
    assert "ZZ99" in (page.text_content(".handover") or "")
    page.fill("#handover-form textarea[name='note']", "白班正常；ZZ99 未登记卡被拒")
    page.click("#write-handover")
    page.wait_for_selector("#pending-handover")
    shot(page, "gate-handover-written")
    ctx.close()
    ctx2 = site["browser"].new_context(viewport=TABLET)
    page2 = ctx2.new_page()
    login(page2, url, "zhang")
    page2.goto(url + "/gate/handover")
    page2.click("#ack-handover")
    page2.wait_for_load_state("networkidle")
    [h] = gate.handovers.recent(1)
    assert (h.by, h.acked_by) == ("王师傅", "张师傅")
    shot(page2, "gate-handover-acknowledged")
    page2.click("#lang-switch")  # the next guard reads Chinese
    page2.wait_for_load_state("networkidle")
    page2.goto(url + "/gate/desk")
    assert "门卫工作台" in page2.content() and "访客登记" in page2.content()
    shot(page2, "gate-desk-zh")
    ctx2.close()
