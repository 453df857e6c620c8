"""The Gate page's event stream through the real app (TestClient, real SQLite files): gate opened/closed
changes appear among the device events, every line names the device by its configured name, and card
reads carry the gate's decision (accepted with the holder, refused with the reason), in en and zh-CN."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dashboard.views import contact_changes
from gateway.alerts.store import OpenRequest
from gateway.gate.service import Gate
from gateway.model import Reading
from tests.dashboard.helpers import DEVICES, Site, login_ok, make_site

NAMED = [dict(d, name="Gate reader") if d["id"] == "reader" else d for d in DEVICES]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    s = make_site(tmp_path, devices=NAMED)
    yield s
    s.store.close()
    s.db.close()


def _lines(page: str) -> list[str]:
    """The event stream's lines as the guard reads them (tags dropped, spaces collapsed), newest first."""
    m = re.search(r'<ol id="event-list"[^>]*>(.*?)</ol>', page, re.S)
    assert m, "no event list on the page"
    items = re.findall(r"<li[^>]*>(.*?)</li>", m.group(1), re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", i)).split()) for i in items]


def _stream(site: Site) -> float:
    """Closed, opened (and a repeated "open"), closed; a known card, an unknown card and the exit button."""
    now = site.clock.now()
    site.store.write([Reading(now - 600, "gate", "contact", 0), Reading(now - 300, "gate", "contact", 1),
                      Reading(now - 250, "gate", "contact", 1), Reading(now - 100, "gate", "contact", 0)])
    gate: Gate = site.app.state.gate
    gate.cards.add("AA01", "Teacher Li")
    conn = site.db.conn()
    for ts, typ, data in [(now - 500, "card", {"uid": "AA01"}), (now - 400, "card", {"uid": "ZZ99"}),
                          (now - 200, "button", {})]:
        conn.execute("INSERT INTO device_events (ts, device, type, data) VALUES (?, ?, ?, ?)",
                     (ts, "reader", typ, json.dumps(data)))
        if typ == "card":
            gate.on_card("reader", str(data["uid"]), ts)
    site.clock.advance(1)  # the forced-open alarm is the newest line
    site.alerts.raise_alert(OpenRequest(rule="gate-forced", device="gate", kind="gate_forced", severity="critical",
                                        chain=None, metric="contact", value=1.0, detail="forced open",
                                        since=now - 300))
    return now


def test_opened_closed_names_and_card_decisions_in_the_event_stream(site: Site) -> None:
    now = _stream(site)
    with TestClient(site.app) as c:
        login_ok(c, "wang")
        page = c.get("/gate").text
    lines = _lines(page)
    assert [re.sub(r"^\d\d:\d\d:\d\d ", "", line) for line in lines] == [
        "forced open Main gate",
        "closed Main gate",
        "exit button Gate reader",
        "opened Main gate",  # the repeated "open" reading is no change
        "Card refused unknown card · Gate reader ZZ99",
        "Card accepted Teacher Li · Gate reader AA01",
    ]  # names, never the device id ("reader")
    # the gate shows closed, since the last change
    assert "is-closed" in page and f'data-since="{now - 100}"' in page


def test_the_event_stream_in_chinese(site: Site) -> None:
    _stream(site)
    with TestClient(site.app) as c:
        csrf = login_ok(c, "wang")
        c.post("/account/locale", data={"csrf_token": csrf, "locale": "zh-CN", "next": "/gate"})
        text = " ".join(_lines(c.get("/gate").text))
    for zh in ("刷卡通过", "刷卡被拒", "未登记的卡", "出门按钮", "强行打开"):
        assert zh in text, zh
    for en in ("Card accepted", "Card refused", "unknown card", "exit button", "opened", "closed"):
        assert en not in text, en


def test_contact_changes_count_only_changes() -> None:
    rs = [Reading(t, "g", "contact", v) for t, v in [(1, 1), (2, 1), (3, 0), (4, 0), (5, 1)]]
    assert [(e["ts"], e["type"]) for e in contact_changes("g", rs)] == [(3, "closed"), (5, "open")]
    assert contact_changes("g", rs[:2]) == []
