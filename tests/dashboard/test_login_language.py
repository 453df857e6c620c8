"""The language chosen on the login page is kept after login (it used to fall back to the site's at once)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.dashboard.helpers import PASSWORD, Site, form_token


def _action(html: str) -> str:
    m = re.search(r'<form method="post" action="([^"]*)"', html)
    assert m, "no login form"
    return m.group(1).replace("&amp;", "&")


def test_language_picked_on_the_login_page_is_kept(site: Site, client: TestClient) -> None:
    page = client.get("/login?lang=zh-CN")  # the site's language is English
    assert 'lang="zh-CN"' in page.text and "用户名" in page.text
    r = client.post(_action(page.text), data={"csrf_token": form_token(page.text), "username": "li",
                                              "password": "wrong"})
    assert r.status_code == 401 and "用户名或密码错误" in r.text  # a wrong password keeps the choice too
    r = client.post(_action(r.text), data={"csrf_token": form_token(r.text), "username": "li", "password": PASSWORD},
                    follow_redirects=False)
    assert r.status_code == 303
    home = client.get(r.headers["location"])
    assert '<html lang="zh-CN"' in home.text
    assert client.get("/api/me").json()["locale"] == "zh-CN"

    # Next time, without picking: still Chinese (the choice was saved as the user's language).
    client.post("/logout", data={"csrf_token": client.get("/api/me").json()["csrf_token"]})
    page = client.get("/login")
    r = client.post(_action(page.text), data={"csrf_token": form_token(page.text), "username": "li",
                                              "password": PASSWORD}, follow_redirects=False)
    assert '<html lang="zh-CN"' in client.get(r.headers["location"]).text


def test_a_login_without_a_pick_keeps_the_users_own_language(site: Site, client: TestClient) -> None:
    site.ctx.accounts.set_locale(site.ctx.accounts.get("wang").id, "zh-CN")  # type: ignore[union-attr]
    page = client.get("/login")
    r = client.post(_action(page.text), data={"csrf_token": form_token(page.text), "username": "wang",
                                              "password": PASSWORD}, follow_redirects=False)
    assert '<html lang="zh-CN"' in client.get(r.headers["location"]).text
