"""Each security property of the dashboard, attacked through the real app on real SQLite files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dashboard.app import api_routes
from dashboard.roles import ACCESS, ROLES, allowed
from dashboard.security import SESSION_COOKIE
from dashboard.throttle import MAX_DELAY_S
from tests.dashboard.helpers import PASSWORD, ROLE_USERS, Site, form_token, login, login_ok, make_site


def test_no_default_account(tmp_path: Path) -> None:
    site = make_site(tmp_path, users=False)
    assert site.ctx.accounts.count() == 0
    with TestClient(site.app) as c:
        for user, pw in [("admin", "admin"), ("admin", ""), ("root", "root"), ("demo", "demo"), ("houqin", "houqin")]:
            r = login(c, user, pw)
            assert r.status_code == 401
            assert SESSION_COOKIE not in r.cookies
        assert c.get("/api/overview").status_code == 401


def test_passwords_are_stored_as_argon2id_hashes(site: Site) -> None:
    row = site.db.conn().execute("SELECT password_hash FROM dashboard_users WHERE username = 'ada'").fetchone()
    assert row[0].startswith("$argon2id$")
    assert PASSWORD not in row[0]


def test_login_cookie_flags_over_http(client: TestClient) -> None:
    r = login(client, "ada")
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert "houqin_session=" in cookie
    assert "HttpOnly" in cookie
    assert re.search(r"SameSite=(lax|strict)", cookie, re.I)
    assert "Secure" not in cookie  # plain HTTP: a Secure cookie would never come back


def test_login_cookie_is_secure_over_https(site: Site) -> None:
    with TestClient(site.app, base_url="https://testserver") as c:
        r = login(c, "ada")
        assert r.status_code == 303
        assert "Secure" in r.headers["set-cookie"]
        assert "HttpOnly" in r.headers["set-cookie"]
        assert r.headers.get("strict-transport-security")


def test_session_is_server_side_and_logout_ends_it(site: Site, client: TestClient) -> None:
    csrf = login_ok(client, "ada")
    token = client.cookies.get(SESSION_COOKIE)
    assert token
    stored = [row[0] for row in site.db.conn().execute("SELECT token_hash FROM dashboard_sessions")]
    assert stored and token not in stored  # only a hash of the cookie is kept
    r = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    # replaying the old cookie after logout gets nothing
    with TestClient(site.app) as replay:
        replay.cookies.set(SESSION_COOKIE, token)
        assert replay.get("/api/overview").status_code == 401
        assert replay.get("/", follow_redirects=False).headers["location"].startswith("/login")


def test_idle_timeout(site: Site, client: TestClient) -> None:
    login_ok(client, "ada")
    site.clock.advance(site.ctx.settings.idle_seconds - 60)
    assert client.get("/api/ping").status_code == 200  # activity keeps it alive
    site.clock.advance(site.ctx.settings.idle_seconds - 60)
    assert client.get("/api/ping").status_code == 200
    site.clock.advance(site.ctx.settings.idle_seconds + 1)
    assert client.get("/api/ping").status_code == 401


def test_absolute_timeout_even_when_active(site: Site, client: TestClient) -> None:
    login_ok(client, "ada")
    step = site.ctx.settings.idle_seconds / 2
    elapsed = 0.0
    while elapsed + step < site.ctx.settings.max_seconds:
        site.clock.advance(step)
        elapsed += step
        assert client.get("/api/ping").status_code == 200
    site.clock.advance(site.ctx.settings.max_seconds - elapsed + 1)
    assert client.get("/api/ping").status_code == 401


def test_password_change_ends_every_session(site: Site) -> None:
    with TestClient(site.app) as a, TestClient(site.app) as b:
        csrf = login_ok(a, "li")
        login_ok(b, "li")
        r = a.post("/account/password", data={"csrf_token": csrf, "current": PASSWORD, "new": "a new long secret"},
                   follow_redirects=False)
        assert r.status_code == 303
        assert a.get("/api/ping").status_code == 401
        assert b.get("/api/ping").status_code == 401
        assert login(b, "li").status_code == 401
        assert login(b, "li", "a new long secret").status_code == 303


def test_password_change_needs_the_current_password(site: Site, client: TestClient) -> None:
    csrf = login_ok(client, "li")
    r = client.post("/account/password", data={"csrf_token": csrf, "current": "guess guess", "new": "x" * 12})
    assert r.status_code == 400
    assert client.get("/api/ping").status_code == 200


def test_admin_disabling_a_user_ends_their_sessions(site: Site) -> None:
    with TestClient(site.app) as admin, TestClient(site.app) as guard:
        csrf = login_ok(admin, "ada")
        login_ok(guard, "wang")
        r = admin.post("/admin/users/wang", data={"csrf_token": csrf, "action": "disable"}, follow_redirects=False)
        assert r.status_code == 303
        assert guard.get("/api/ping").status_code == 401
        assert login(guard, "wang").status_code == 401


def test_csrf_token_required_on_state_changes(site: Site, client: TestClient) -> None:
    aid = site.open_alert("gate", rule="held-open")
    csrf = login_ok(client, "wang")
    # no token, wrong token, token from another session: all refused, nothing changes
    assert client.post(f"/alerts/{aid}/ack", data={"note": "x"}).status_code == 403
    assert client.post(f"/alerts/{aid}/ack", data={"note": "x", "csrf_token": "forged"}).status_code == 403
    assert client.post(f"/api/alerts/{aid}/ack", json={"note": "x"}).status_code == 403
    with TestClient(site.app) as other:
        other_csrf = login_ok(other, "ada")
    assert client.post(f"/api/alerts/{aid}/ack", json={"note": "x"},
                       headers={"X-CSRF-Token": other_csrf}).status_code == 403
    assert client.post("/logout", data={}).status_code == 403
    assert site.alerts.get(aid).state == "active"
    # a correct token but from another site's page (Origin) is refused too
    r = client.post(f"/api/alerts/{aid}/ack", json={"note": "x"},
                    headers={"X-CSRF-Token": csrf, "Origin": "http://evil.example"})
    assert r.status_code == 403
    assert site.alerts.get(aid).state == "active"
    r = client.post(f"/api/alerts/{aid}/ack", json={"note": "closed it"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200
    assert site.alerts.get(aid).state == "acknowledged"


def test_login_form_has_csrf_protection(client: TestClient) -> None:
    # a cross-site form posting credentials (login CSRF) has no token cookie
    r = client.post("/login", data={"username": "ada", "password": PASSWORD, "csrf_token": "x"})
    assert r.status_code == 403
    page = client.get("/login")
    token = form_token(page.text)
    r = client.post("/login", data={"username": "ada", "password": PASSWORD, "csrf_token": token},
                    headers={"Origin": "http://evil.example"}, follow_redirects=False)
    assert r.status_code == 403


def test_login_throttled_per_account(site: Site, client: TestClient) -> None:
    limit = site.ctx.settings.login_max_failures_account
    for _ in range(limit):
        assert login(client, "ada", "wrong password!").status_code == 401
        site.clock.advance(MAX_DELAY_S)  # past the progressive delay
    # now even the right password is refused, without checking it
    r = login(client, "ada")
    assert r.status_code == 429
    assert SESSION_COOKIE not in r.cookies
    # another account from the same address still works
    assert login(client, "li").status_code == 303
    site.clock.advance(site.ctx.settings.window_seconds + 1)
    assert login(client, "ada").status_code == 303


def test_login_throttled_per_address(tmp_path: Path) -> None:
    site = make_site(tmp_path, login_max_failures_address=8)
    with TestClient(site.app) as c:
        for i in range(8):
            assert login(c, f"nobody{i}", "wrong password!").status_code == 401
        assert login(c, "ada").status_code == 429  # a password-spraying address is stopped (new browsers)
        site.clock.advance(site.ctx.settings.window_seconds + 1)
        assert login(c, "ada").status_code == 303


def test_session_id_changes_at_login(site: Site, client: TestClient) -> None:
    client.cookies.set(SESSION_COOKIE, "attacker-chosen-value", domain="testserver.local")
    r = login(client, "ada")
    assert r.status_code == 303
    assert r.cookies.get(SESSION_COOKIE) not in (None, "attacker-chosen-value")


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"])
def test_no_open_redirect_after_login(client: TestClient, target: str) -> None:
    page = client.get("/login")
    r = client.post("/login", data={"csrf_token": form_token(page.text), "username": "wang", "password": PASSWORD,
                                    "next": target}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/gate"


def _fill(path: str) -> str:
    return path.replace("{alert_id}", "999999").replace("{device_id}", "fridge-1").replace("{username}", "yuan")


def test_every_route_is_in_the_access_table(site: Site) -> None:
    from dashboard.deps import is_public

    routes = list(api_routes(site.app.routes))
    assert len(routes) >= 25
    for route in routes:
        for method in route.methods or ():
            assert is_public(route.path) or (method, route.path) in ACCESS, f"{method} {route.path} has no roles"


def test_every_route_checks_the_role(site: Site) -> None:
    """Walk every route as anonymous and as each role: refused exactly where the table says."""
    from dashboard.deps import is_public

    routes = [(m, r.path) for r in api_routes(site.app.routes) for m in r.methods or () if not is_public(r.path)]
    assert len(routes) >= 25
    clients = {}
    for role in ROLES:
        c = TestClient(site.app)
        c.__enter__()
        clients[role] = (c, login_ok(c, ROLE_USERS[role]))
    try:
        with TestClient(site.app) as anon:
            for method, path in routes:
                if path == "/api/live":
                    continue  # a stream: checked in test_live
                r = anon.request(method, _fill(path), follow_redirects=False)
                assert r.status_code in (401, 303), f"anonymous {method} {path}: {r.status_code}"
                if r.status_code == 303:
                    assert r.headers["location"].startswith("/login")
        for role, (c, csrf) in clients.items():
            for method, path in routes:
                if path in ("/api/live", "/logout", "/account/password"):
                    continue  # stream; ending the session would spoil the walk (both covered above)
                kwargs: dict[str, object] = {"headers": {"X-CSRF-Token": csrf}, "follow_redirects": False}
                if path.endswith("/ack") and path.startswith("/api"):
                    kwargs["json"] = {"note": ""}
                r = c.request(method, _fill(path), **kwargs)  # type: ignore[arg-type]
                if allowed(role, method, path):
                    assert r.status_code != 403, f"{role} {method} {path} refused: {r.text[:200]}"
                    assert r.status_code < 500, f"{role} {method} {path}: {r.status_code}"
                else:
                    assert r.status_code == 403, f"{role} {method} {path}: {r.status_code}"
    finally:
        for c, _ in clients.values():
            c.__exit__(None, None, None)


def test_acknowledging_is_limited_to_the_roles_area(site: Site, client: TestClient) -> None:
    fridge_alert = site.open_alert("fridge-1")
    csrf = login_ok(client, "wang")  # the guard
    r = client.post(f"/api/alerts/{fridge_alert}/ack", json={"note": "x"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 403
    assert site.alerts.get(fridge_alert).state == "active"
    with TestClient(site.app) as kitchen:
        k = login_ok(kitchen, "li")
        r = kitchen.post(f"/api/alerts/{fridge_alert}/ack", json={"note": "moved food to freezer"},
                         headers={"X-CSRF-Token": k})
        assert r.status_code == 200
        assert r.json()["acked_by"] == "li"


@pytest.mark.parametrize("path", ["/login", "/", "/api/overview", "/static/app.css", "/healthz"])
def test_security_headers(site: Site, client: TestClient, path: str) -> None:
    login_ok(client, "ada")
    r = client.get(path)
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin")


def test_pages_have_no_inline_scripts(site: Site, client: TestClient) -> None:
    login_ok(client, "ada")
    for path in ["/", "/gate", "/cold", "/utilities", "/alerts", "/devices", "/admin", "/account", "/login"]:
        html = client.get(path).text
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, f"inline script on {path}: {tag}"
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), f"inline event handler on {path}"
        assert "style=" not in html, f"inline style on {path} (the CSP forbids it)"


def test_user_input_is_escaped(tmp_path: Path) -> None:
    evil = "<script>alert(1)</script>"
    site = make_site(tmp_path, devices=[{"id": "fridge-1", "kind": "fridge", "name": evil, "location": evil}])
    site.ctx.accounts.add("mallory", "viewer", PASSWORD, display_name=evil)
    aid = site.open_alert("fridge-1", detail=evil)
    with TestClient(site.app) as c:
        csrf = login_ok(c, "li")
        c.post(f"/alerts/{aid}/ack", data={"csrf_token": csrf, "note": evil})
    with TestClient(site.app) as c:
        login_ok(c, "ada")
        for path in ["/", "/cold", "/alerts", f"/alerts/{aid}", "/devices", "/admin"]:
            html = c.get(path).text
            assert evil not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in c.get(f"/alerts/{aid}").text


def test_forwarded_host_counts_only_behind_a_trusted_proxy(tmp_path: Path) -> None:
    for trusted, expected in ((False, 403), (True, 200)):
        site = make_site(tmp_path / str(trusted), trusted_proxies=["127.0.0.1"] if trusted else [])
        aid = site.open_alert("gate", rule="held-open")
        with TestClient(site.app) as c:
            csrf = login_ok(c, "wang")
            # the proxy rewrote Host; the browser's Origin is the public name the proxy passes on
            r = c.post(f"/api/alerts/{aid}/ack", json={"note": "ok"},
                       headers={"X-CSRF-Token": csrf, "Origin": "https://pi.school.example",
                                "X-Forwarded-Host": "pi.school.example"})
            assert r.status_code == expected
        site.close()


def test_abandoned_sessions_are_purged(site: Site) -> None:
    with TestClient(site.app) as a:
        login_ok(a, "li")
    assert site.ctx.sessions.count() == 1
    site.clock.advance(site.ctx.settings.idle_seconds + 1)
    with TestClient(site.app) as b:
        login_ok(b, "ada")
    assert site.ctx.sessions.count() == 1  # li's abandoned session is gone, ada's is the one left


def test_a_role_change_ends_the_users_sessions(site: Site) -> None:
    with TestClient(site.app) as admin, TestClient(site.app) as kitchen:
        csrf = login_ok(admin, "ada")
        login_ok(kitchen, "li")
        assert kitchen.get("/cold").status_code == 200
        r = admin.post("/admin/users/li", data={"csrf_token": csrf, "action": "role", "role": "viewer"},
                       follow_redirects=False)
        assert r.status_code == 303
        assert kitchen.get("/api/ping").status_code == 401  # the old role's session is gone
        login_ok(kitchen, "li")
        csrf_li = kitchen.get("/api/me").json()["csrf_token"]
        aid = site.open_alert("fridge-1")
        r = kitchen.post(f"/api/alerts/{aid}/ack", json={"note": "x"}, headers={"X-CSRF-Token": csrf_li})
        assert r.status_code == 403  # a viewer now


def test_pages_and_api_answers_are_not_cached(site: Site, client: TestClient) -> None:
    login_ok(client, "ada")
    for path in ("/", "/admin", "/api/overview", "/api/users", "/login"):
        assert client.get(path).headers.get("cache-control") == "no-store", path  # personal data stays off disk
    assert client.get("/static/app.css").headers.get("cache-control") != "no-store"  # assets may be cached
