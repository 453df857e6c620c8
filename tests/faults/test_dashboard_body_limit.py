"""Huge request bodies against a served dashboard: refused with 413 while being read, RSS stays flat."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dashboard.server import DashboardServer
from tests.dashboard.helpers import Site, login_ok, served_site
from tests.faults.dashboard_attacks import rss_mb, stream_body

HUGE = 300 * 1024 * 1024


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Site, DashboardServer]]:
    with served_site(tmp_path) as s:
        yield s


def _approval_path(site: Site) -> str:
    v = site.services.gate.register_visitor(name="Zhang San", host="Teacher Li", by="wang")
    return "/v/" + site.services.gate.approval_token(v.id)


@pytest.mark.parametrize(("target", "expected"), [("/login", 413), ("approval", 413), ("/api/gate/visitors", 413),
                                                  ("/alerts/1/ack", 401)])  # no session: refused before reading
def test_a_streamed_300_mb_body_is_refused_without_growing_rss(served: tuple[Site, DashboardServer],
                                                              target: str, expected: int) -> None:
    site, server = served
    path = _approval_path(site) if target == "approval" else target
    before = rss_mb()
    status, sent = stream_body(server.url, path, HUGE)
    grown = rss_mb() - before
    assert status == expected
    assert sent < 16 * 1024 * 1024, f"the server read {sent} bytes before refusing"
    assert grown < 20, f"RSS grew by {grown:.0f} MB"


def test_a_declared_huge_length_is_refused_before_reading(served: tuple[Site, DashboardServer]) -> None:
    site, server = served
    status, sent = stream_body(server.url, _approval_path(site), HUGE, declare=True)
    assert status == 413 and sent < 16 * 1024 * 1024


def test_bodies_within_the_bound_still_work(served: tuple[Site, DashboardServer]) -> None:
    _site, server = served
    with httpx.Client(base_url=server.url, timeout=10) as c:
        csrf = login_ok(c, "wang")  # the login form is well under the bound
        photo = "A" * (1024 * 1024)  # a photo of 768 kB, base64: the visitors' API allows it
        r = c.post("/api/gate/visitors", json={"name": "Zhang San", "host": "Teacher Li", "photo": photo},
                   headers={"X-CSRF-Token": csrf})
        assert r.status_code == 201, r.text
        r = c.post("/api/gate/visitors", json={"name": "Zhang San", "host": "Teacher Li", "photo": "A" * 4_000_000},
                   headers={"X-CSRF-Token": csrf})
        assert r.status_code == 413
