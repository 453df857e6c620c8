"""Login attacks against a served dashboard: concurrent guesses, lockout of others, forged proxy headers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from dashboard.security import LOGIN_CSRF_COOKIE
from dashboard.throttle import DEVICE_COOKIE, MAX_DELAY_S
from tests.dashboard.helpers import PASSWORD, form_token, login, served_site


def test_31_simultaneous_guesses_reach_the_password_check_at_most_the_limit(tmp_path: Path) -> None:
    with served_site(tmp_path) as (site, server):
        limit = site.ctx.settings.login_max_failures_account
        with httpx.Client(base_url=server.url, timeout=30) as c:
            token = form_token(c.get("/login").text)
            cookie = c.cookies[LOGIN_CSRF_COOKIE]

        def attempt(password: str) -> int:
            with httpx.Client(base_url=server.url, timeout=60, cookies={LOGIN_CSRF_COOKIE: cookie}) as c:
                return c.post("/login", data={"csrf_token": token, "username": "ada",
                                              "password": password}).status_code

        passwords = [f"wrong guess {i}" for i in range(30)] + [PASSWORD]
        with ThreadPoolExecutor(31) as pool:
            statuses = list(pool.map(attempt, passwords))
        checked = [s for s in statuses if s != 429]
        assert len(checked) <= limit, statuses
        assert set(statuses) <= {401, 303, 429}
        site.clock.advance(MAX_DELAY_S)
        while attempt("another wrong guess") == 401:  # use up what is left of the budget
            site.clock.advance(MAX_DELAY_S)
        assert attempt(PASSWORD) == 429  # beyond the limit the right password is refused unchecked


def test_an_attacker_at_the_same_address_cannot_lock_out_a_user(tmp_path: Path) -> None:
    with served_site(tmp_path, login_max_failures_address=20) as (site, server):
        admin = httpx.Client(base_url=server.url, timeout=10)
        assert login(admin, "ada").status_code == 303  # the principal's browser logged in before
        assert admin.cookies.get(DEVICE_COOKIE)
        admin.cookies.delete("houqin_session")
        with httpx.Client(base_url=server.url, timeout=10) as attacker:  # same 127.0.0.1, e.g. the school's NAT
            for i in range(20):
                assert login(attacker, f"user{i}", "wrong password!").status_code in (401, 429)
            for _ in range(10):
                assert login(attacker, "ada", "wrong password!").status_code in (401, 429)
                site.clock.advance(1)
            assert login(attacker, "ada").status_code == 429  # a new browser from a spraying address waits
        assert login(admin, "ada").status_code == 303  # but the admin's own browser logs in
        admin.close()


def test_forwarded_for_is_honoured_from_trusted_proxies_only(tmp_path: Path) -> None:
    with served_site(tmp_path, trusted_proxies=["127.0.0.1"], login_max_failures_address=6) as (site, server):
        with httpx.Client(base_url=server.url, timeout=10) as c:
            def from_(address: str, user: str, password: str) -> int:
                token = form_token(c.get("/login").text)
                return c.post("/login", data={"csrf_token": token, "username": user, "password": password},
                              headers={"X-Forwarded-For": address}).status_code

            for i in range(6):
                assert from_("203.0.113.9", f"nobody{i}", "wrong password!") == 401
            assert from_("203.0.113.9", "li", PASSWORD) == 429  # the spraying address behind the proxy
            c.cookies.clear()
            assert from_("198.51.100.7", "li", PASSWORD) == 303  # another person behind the same proxy
        addresses = {row[0] for row in site.db.conn().execute(
            "SELECT address FROM dashboard_audit WHERE action = 'login_failed'")}
        assert addresses == {"203.0.113.9"}
