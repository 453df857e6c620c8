"""Every dashboard acknowledgement needs a note (the corrective action), as ``houqin ack --note`` does."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.dashboard.helpers import Site, login_ok

BLANKS = ["", "   ", "\n\t "]


def _note_fields(html: str, aid: int) -> list[str]:
    """The note inputs of the acknowledgement forms for alert ``aid`` in a page."""
    forms = re.findall(rf'<form method="post" action="/alerts/{aid}/ack".*?</form>', html, re.S)
    assert forms, f"no acknowledgement form for alert {aid}"
    return [f for form in forms for f in re.findall(r'<input name="note"[^>]*>', form)]


@pytest.mark.parametrize(("user", "device", "rule", "page"), [
    ("ada", "fridge-1", "too-warm", "/alerts"),
    ("li", "fridge-1", "too-warm", "/cold"),
    ("wang", "gate", "held-open", "/gate"),
    ("ada", "gate", "held-open", "/"),
])
def test_page_forms_require_a_note_and_the_route_refuses_a_blank_one(
        site: Site, client: TestClient, user: str, device: str, rule: str, page: str) -> None:
    aid = site.open_alert(device, rule=rule)
    csrf = login_ok(client, user)
    fields = _note_fields(client.get(page).text, aid)
    assert fields and all(" required" in f for f in fields), fields  # the browser asks before sending
    for blank in BLANKS:  # a browser without validation, or a hand-made POST
        r = client.post(f"/alerts/{aid}/ack", data={"csrf_token": csrf, "note": blank, "back": page},
                        follow_redirects=False)
        assert r.status_code == 400, r.text
        assert "Say what was done" in r.text and "corrective action" in r.text
        assert f'href="{page}"' in r.text  # back to the page the form was on, to write it
        assert site.alerts.get(aid).state == "active"
    r = client.post(f"/alerts/{aid}/ack", data={"csrf_token": csrf, "back": page}, follow_redirects=False)
    assert r.status_code == 400 and site.alerts.get(aid).state == "active"  # no field at all
    assert not [e for e in site.ctx.audit.recent() if e.action == "alert_ack"]
    r = client.post(f"/alerts/{aid}/ack", data={"csrf_token": csrf, "note": "  closed it  ", "back": page},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == page
    a = site.alerts.get(aid)
    assert a.state == "acknowledged" and a.ack_note == "closed it"


def test_the_refusal_is_in_the_users_language(site: Site, client: TestClient) -> None:
    aid = site.open_alert("fridge-1")
    csrf = login_ok(client, "li")
    client.post("/account/locale", data={"csrf_token": csrf, "locale": "zh-CN", "next": "/"})
    r = client.post(f"/alerts/{aid}/ack", data={"csrf_token": csrf, "note": " ", "back": "/cold"},
                    follow_redirects=False)
    assert r.status_code == 400
    assert "请填写处理措施" in r.text and "此告警尚未确认" in r.text and "Say what was done" not in r.text
    r = client.post(f"/api/alerts/{aid}/ack", json={"note": ""}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 422 and "请填写处理措施" in r.json()["detail"]
    assert site.alerts.get(aid).state == "active"


def test_api_refuses_a_blank_note(site: Site, client: TestClient) -> None:
    aid = site.open_alert("fridge-1")
    csrf = login_ok(client, "ada")
    for body in ({"note": ""}, {"note": "  \n"}, {}):
        r = client.post(f"/api/alerts/{aid}/ack", json=body, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 422, r.text
        assert "Say what was done" in r.json()["detail"] and "corrective action" in r.json()["detail"]
        assert site.alerts.get(aid).state == "active"
    r = client.post(f"/api/alerts/{aid}/ack", json={"note": " moved the food "}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["ack_note"] == "moved the food"
    assert [(e.action, e.detail) for e in site.ctx.audit.recent() if e.action == "alert_ack"] == \
        [("alert_ack", "moved the food")]
