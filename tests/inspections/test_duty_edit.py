"""The duty roster edited by an admin on a page, over HTTP: each save a new version (who and when) replacing the
config's roster, read by the holiday page, its API and the holiday alerts; other roles refused; what cannot be
saved comes back with the reason and saves nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient

from dashboard.app import create_app
from gateway.inspections.duty import DutyRoster
from gateway.inspections.holiday_watch import HolidayWatch
from tests.dashboard.helpers import PASSWORD, cheap_hasher, dashboard_services, login_ok
from tests.inspections.conftest import ts
from tests.inspections.test_holidays import OCT2, Holiday, h  # noqa: F401  (the fixture)


@pytest.fixture
def web(h: Holiday) -> Iterator[tuple[Holiday, TestClient]]:  # noqa: F811
    h.clock.set(ts(date(2026, 9, 28), 10))
    app = create_app(dashboard_services(h.cfg, h.db, h.clock, h.store, h.alerts), h.cfg.dashboard,
                     hasher=cheap_hasher())
    app.state.ctx.accounts.add("ada", "admin", PASSWORD, display_name="王园长", locale="zh-CN")
    app.state.ctx.accounts.add("eve", "admin", PASSWORD, locale="en")
    app.state.ctx.accounts.add("zhao", "facilities", PASSWORD, locale="zh-CN")
    with TestClient(app) as c:
        yield h, c


def test_an_admin_edits_the_roster_as_new_versions(web: tuple[Holiday, TestClient]) -> None:
    site, c = web
    token = login_ok(c, "ada")
    assert 'href="/holidays/duty"' in c.get("/holidays").text
    page = c.get("/holidays/duty").text
    assert "编辑值班安排" in page and "2026-10-01 – 2026-10-07" in page
    assert 'name="duty_2026-10-02" value="zhao"' in page and 'name="duty_2026-10-05" value="wang"' in page
    saved = c.post("/holidays/duty", data={"csrf_token": token, "duty_2026-10-02": " 钱老师 ",
                                           "duty_2026-10-06": ""}, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == "/holidays/duty?saved=1"
    duty = c.get("/api/holidays").json()["duty"]
    # the saved roster replaces the config's: the changed day, the emptied day, the days left as they were
    assert (duty["2026-10-01"], duty["2026-10-02"], duty["2026-10-05"], duty["2026-10-06"]) == \
        ("zhao", "钱老师", "wang", None)
    site.clock.set(ts(date(2026, 9, 28), 11))
    again = c.post("/holidays/duty", data={"csrf_token": token, "duty_2026-10-07": "孙老师"}, follow_redirects=False)
    assert again.status_code == 303
    page = c.get("/holidays/duty?saved=1").text
    assert "duty-saved" in page and page.count("· 王园长</li>") == 2  # both versions, who saved them
    assert c.get("/api/holidays").json()["duty"]["2026-10-07"] == "孙老师"
    assert "钱老师" in c.get("/holidays").text
    # the holiday alerts name the person on duty by the saved roster
    roster = DutyRoster(site.cfg, site.db, site.clock)
    watch = HolidayWatch(site.cfg, site.store, site.alerts, site.clock, roster=roster)
    site.clock.set(ts(OCT2, 4, 1))
    assert [dev for dev, _ in watch.tick()] == ["water"]
    assert site.alerts.list(device="water")[0].detail.endswith("（值班：钱老师）")


def test_what_cannot_be_saved_comes_back_with_the_reason(web: tuple[Holiday, TestClient]) -> None:
    _h, c = web
    token = login_ok(c, "ada")
    for field, value, said in (("duty_2026-10-20", "钱老师", "2026-10-20 不是校历中的假期"),
                               ("duty_tomorrow", "钱老师", "tomorrow 不是日期"),
                               ("duty_2026-10-02", "长" * 101, "姓名太长")):
        bad = c.post("/holidays/duty", data={"csrf_token": token, field: value, "duty_2026-10-03": "孙老师"})
        assert bad.status_code == 400 and 'id="duty-error"' in bad.text and said in bad.text, said
    page = c.get("/holidays/duty").text
    assert 'id="duty-versions"' not in page and 'name="duty_2026-10-03" value="zhao"' in page  # nothing saved


def test_only_admins_edit_the_roster_and_it_reads_in_english(web: tuple[Holiday, TestClient]) -> None:
    _h, c = web
    token = login_ok(c, "zhao")
    assert 'href="/holidays/duty"' not in c.get("/holidays").text
    assert c.get("/holidays/duty").status_code == 403
    assert c.post("/holidays/duty", data={"csrf_token": token, "duty_2026-10-02": "zhao"}).status_code == 403
    c.post("/logout", data={"csrf_token": token})
    login_ok(c, "eve")
    page = c.get("/holidays/duty").text
    assert "Edit the duty roster" in page and "Friday" in page and "编辑" not in page
