"""The public approval page: cross-site posts refused, and the decision made in the name of the link's person."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.dashboard.helpers import served_site


def test_cross_site_posts_are_refused_and_by_is_not_free_text(tmp_path: Path) -> None:
    with served_site(tmp_path) as (site, server):
        gate = site.services.gate
        v = gate.register_visitor(name="Zhang San", host="Teacher Li", by="wang")
        path = "/v/" + gate.approval_token(v.id)
        with httpx.Client(base_url=server.url, timeout=10) as c:
            assert c.get(path).status_code == 200
            for headers in ({"Origin": "http://evil.example"}, {"Referer": "http://evil.example/page"},
                            {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"}):
                r = c.post(path, data={"decision": "approve"}, headers=headers)
                assert r.status_code == 403, headers
            assert gate.visitors.get(v.id).status == "pending"
            r = c.post(path, data={"decision": "approve", "by": "Principal Zhao"},
                       headers={"Origin": server.url, "Sec-Fetch-Site": "same-origin"})
            assert r.status_code == 200
        decided = gate.visitors.get(v.id)
        assert (decided.status, decided.decided_by) == ("approved", "Teacher Li")
