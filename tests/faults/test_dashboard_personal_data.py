"""Visitors' names, phones and hosts reach only the roles that need them (PIPL: minimum necessary)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dashboard.roles import ACCESS, ROLES
from tests.dashboard.helpers import ROLE_USERS, logged_in, served_site

NAME, PHONE, HOST = "Zhang Sanfeng", "13800138000", "Teacher Wuhou"
#: Roles whose work needs people's data at the gate.
NEEDS_PEOPLE = {"admin", "guard", "viewer"}


@pytest.mark.parametrize("role", ROLES)
def test_every_page_and_api_a_role_may_read_shows_people_only_to_gate_roles(tmp_path: Path, role: str) -> None:
    with served_site(tmp_path) as (site, server):
        gate = site.services.gate
        v = gate.register_visitor(name=NAME, phone=PHONE, host=HOST, purpose="meeting", by="wang")
        gate.decide_visitor(v.id, True, "wang")
        gate.sign_in(v.id)
        alert = site.open_alert("fridge-1")
        params = {"alert_id": str(alert), "device_id": "fridge-1", "visitor_id": str(v.id),
                  "checklist_id": "kitchen-daily", "name": "x.jpg"}
        seen: dict[str, int] = {}
        c = logged_in(server.url, ROLE_USERS[role])
        try:
            for (method, template), roles in sorted(ACCESS.items()):
                if method != "GET" or role not in roles or template == "/api/live":
                    continue
                path = re.sub(r"\{(\w+)\}", lambda m: params[m.group(1)], template)
                r = c.get(path)
                assert r.status_code < 500, path
                text = r.text
                if any(x in text for x in (NAME, PHONE, HOST)):
                    seen[path] = r.status_code
            if role not in NEEDS_PEOPLE:
                for path in ("/gate/rollcall", "/api/gate/onsite", "/api/gate/visitors", "/gate/desk"):
                    assert c.get(path).status_code == 403, path
        finally:
            c.close()
        if role in NEEDS_PEOPLE:
            assert "/gate/rollcall" in seen and "/api/gate/onsite" in seen
        else:
            assert seen == {}, f"{role} read people's data on {sorted(seen)}"
