"""Refusals on the Admin and Account pages are shown in the user's language, not the CLI's English."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from dashboard.accounts import AccountError
from dashboard.routes.common import account_error
from tests.dashboard.helpers import PASSWORD, Site, login_ok


def _refusals(site: Site) -> list[Callable[[], object]]:
    a = site.ctx.accounts
    return [
        lambda: a.add("two words", "viewer", PASSWORD),
        lambda: a.add("chen", "cook", PASSWORD),
        lambda: a.add("chen", "viewer", PASSWORD, locale="fr"),
        lambda: a.add("chen", "viewer", "short"),
        lambda: a.add("chenchenchen", "viewer", "ChenChenChen"),
        lambda: a.add("ada", "viewer", PASSWORD),
        lambda: a.set_role("nobody", "viewer"),
        lambda: a.set_role("ada", "viewer"),
    ]


def test_every_account_refusal_has_a_chinese_text(site: Site) -> None:
    seen = set()
    for attempt in _refusals(site):
        with pytest.raises(AccountError) as e:
            attempt()
        message = str(e.value)
        zh = account_error("zh-CN", message)
        assert zh != message and any("\u4e00" <= c <= "\u9fff" for c in zh), f"no Chinese text for {message!r}"
        assert account_error("en", message) != "" and "%(" not in zh
        seen.add(zh)
    assert len(seen) >= 7  # the refusals are told apart, not one catch-all text
    assert account_error("zh-CN", "something new") == "something new"  # unknown: shown as it is


def test_admin_page_refusal_in_chinese(site: Site, client: TestClient) -> None:
    csrf = login_ok(client, "ada")
    client.post("/account/locale", data={"csrf_token": csrf, "locale": "zh-CN", "next": "/admin"})
    r = client.post("/admin/users", data={"csrf_token": csrf, "username": "chen", "role": "kitchen",
                                          "password": "short"})
    assert r.status_code == 400
    assert "密码太短：至少 10 个字符。" in r.text and "password too short" not in r.text
    r = client.post("/admin/users/ada", data={"csrf_token": csrf, "action": "role", "role": "viewer"})
    assert r.status_code == 400 and "最后一个启用的管理员" in r.text


def test_audit_log_actions_in_chinese(site: Site, client: TestClient) -> None:
    csrf = login_ok(client, "ada")
    client.post("/account/locale", data={"csrf_token": csrf, "locale": "zh-CN", "next": "/admin"})
    r = client.post("/admin/users", data={"csrf_token": csrf, "username": "chen", "role": "kitchen",
                                          "password": "a long kitchen pw"}, follow_redirects=False)
    assert r.status_code == 303
    html = client.get("/admin").text
    assert "添加了用户 chen" in html and "user_added" not in html
