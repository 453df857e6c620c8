"""Gate pages and API through the real app (TestClient): roles, CSRF, the public approval link, masking."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.gate.service import Gate
from tests.dashboard.helpers import Site, login_ok, make_site

ID = "110101199003071234"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    s = make_site(tmp_path)
    yield s
    s.store.close()
    s.db.close()


def _gate(site: Site) -> Gate:
    gate: Gate = site.app.state.gate
    return gate


def test_roles_and_csrf(site: Site) -> None:
    with TestClient(site.app) as c:
        assert c.get("/gate/desk", follow_redirects=False).status_code == 303  # login first
        token = login_ok(c, "wang")
        assert c.get("/gate/desk").status_code == 200
        assert c.get("/gate/cards").status_code == 403  # admins manage cards
        assert c.post("/gate/visitors", data={"name": "A", "host": "B"}).status_code == 403  # no CSRF token
        r = c.post("/gate/visitors", data={"csrf_token": token, "name": "A", "host": "B", "id_number": ID},
                   follow_redirects=False)
        assert r.status_code == 303
        page = c.get("/gate/desk").text
        assert ID not in page and "110***********1234" in page
        _gate(site).visitors.add_watch("Banned Person", "refused entry in March", "ada")
        r = c.post("/gate/visitors", data={"csrf_token": token, "name": "banned  person", "host": "B"},
                   follow_redirects=True)
        assert "watch-banner" in r.text and "refused entry in March" in r.text
        assert "watch-banner" not in c.get("/gate/desk").text
        api = c.get("/api/gate/visitors?status=pending").json()[1:]
        assert api[0]["id_masked"] == "110***********1234" and ID not in str(api)
    with TestClient(site.app) as c:
        token = login_ok(c, "yuan")  # viewer: sees, cannot act
        assert c.get("/gate/desk").status_code == 200
        assert c.post("/gate/visitors", data={"csrf_token": token, "name": "A", "host": "B"}).status_code == 403
        assert c.post("/api/gate/cards", json={"uid": "X1", "holder": "x"},
                      headers={"X-CSRF-Token": token}).status_code == 403


def test_public_link_shows_then_decides_only_on_post(site: Site) -> None:
    gate = _gate(site)
    v = gate.register_visitor(name="Visitor A", host="Teacher Li", id_number=ID)
    token = gate.approval_token(v.id)
    with TestClient(site.app) as c:
        page = c.get(f"/v/{token}")
        assert page.status_code == 200 and "Visitor A" in page.text and ID not in page.text
        assert gate.visitors.get(v.id).status == "pending"  # a link preview decides nothing
        assert c.get(f"/v/{token[:-3]}abc").status_code == 410
        r = c.post(f"/v/{token}", data={"decision": "refuse", "by": "Teacher Li", "note": "not expected"})
        assert r.status_code == 200 and "Refused" in r.text
        assert gate.visitors.get(v.id).status == "refused"
        assert c.post(f"/v/{token}", data={"decision": "approve"}).status_code == 409
    site.clock.advance(3600)
    with TestClient(site.app) as c:
        assert "expired" in c.get(f"/v/{token}").text


def test_cards_api_and_access_feed(site: Site) -> None:
    with TestClient(site.app) as c:
        token = login_ok(c, "ada")
        r = c.post("/api/gate/cards", json={"uid": "aa01", "holder": "Teacher Li", "hours": "07:00-18:00"},
                   headers={"X-CSRF-Token": token})
        assert r.status_code == 201 and r.json()["uid"] == "AA01"
        bad = c.post("/api/gate/cards", json={"uid": "B1", "holder": "x", "hours": "late"},
                     headers={"X-CSRF-Token": token})
        assert bad.status_code == 400 and "HH:MM-HH:MM" in bad.json()["detail"]
        _gate(site).on_card("reader", "AA01", site.clock.now())
        feed = c.get("/api/gate/access").json()
        assert [(a["uid"], a["holder"]) for a in feed] == [("AA01", "Teacher Li")]
        assert c.get("/gate/cards").status_code == 200
