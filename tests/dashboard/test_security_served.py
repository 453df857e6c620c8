"""Attacks on the dashboard as uvicorn serves it (headers a client can forge reach the real server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dashboard.server import DashboardServer
from tests.dashboard.helpers import PASSWORD, Site, form_token, make_site


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Site, DashboardServer]]:
    site = make_site(tmp_path, login_max_failures_address=6)  # no trusted proxies: the default
    server = DashboardServer(site.app, site.ctx.settings)
    server.start()
    yield site, server
    server.stop()
    site.store.close()
    site.db.close()


def _login(c: httpx.Client, username: str, password: str, spoof: str) -> int:
    token = form_token(c.get("/login").text)
    r = c.post("/login", data={"csrf_token": token, "username": username, "password": password},
               headers={"X-Forwarded-For": spoof, "X-Real-IP": spoof})
    return r.status_code


def test_a_forged_forwarded_for_does_not_escape_the_address_throttle(served: tuple[Site, DashboardServer]) -> None:
    site, server = served
    with httpx.Client(base_url=server.url, timeout=10) as c:
        # password spraying, claiming a new address each time
        for i in range(6):
            assert _login(c, f"nobody{i}", "wrong password!", f"203.0.113.{i}") == 401
        assert _login(c, "ada", PASSWORD, "198.51.100.7") == 429  # still this one client: refused
    failed = {row[0] for row in site.db.conn().execute(
        "SELECT address FROM dashboard_audit WHERE action = 'login_failed'")}
    assert failed == {"127.0.0.1"}  # the audit log names the real peer, not the forged one
