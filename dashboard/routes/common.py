"""Helpers the route modules share: rendering a page with the layout's context, role home pages."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from markupsafe import escape

from dashboard.context import DashboardContext, Principal
from dashboard.roles import ACK_AREAS, allowed
from gateway.i18n import translations

#: Navigation entries: (path, English label).
NAV: tuple[tuple[str, str], ...] = (
    ("/", "Overview"),
    ("/gate", "Gate"),
    ("/gate/desk", "Gate desk"),
    ("/cold", "Cold storage"),
    ("/utilities", "Utilities"),
    ("/alerts", "Alerts"),
    ("/devices", "Devices"),
    ("/reports/weekly", "Weekly report"),
    ("/cold/sheet", "Cold-storage sheet"),
    ("/samples", "Food samples"),
    ("/disinfection", "Disinfection"),
    ("/checks", "Checklists"),
    ("/hazards", "Hazard ledger"),
    ("/repairs", "Repairs"),
    ("/holidays", "Holidays"),
    ("/admin", "Admin"),
)

#: Where each role lands after logging in.
HOME: Mapping[str, str] = {"guard": "/gate", "kitchen": "/cold", "facilities": "/utilities"}


def nav_for(role: str) -> list[tuple[str, str]]:
    """The navigation entries this role may open."""
    return [(path, label) for path, label in NAV if allowed(role, "GET", path)]


#: ``AccountError`` messages (English, as the CLI prints them) -> the msgid the pages show in the user's language.
_ACCOUNT_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), m) for p, m in (
    (r"user name '(?P<name>.*)' is not allowed: .*",
     "User name “%(name)s” is not allowed: use 1 to 64 characters without spaces."),
    (r"role '(?P<name>.*)' is unknown; .*", "Unknown role “%(name)s”."),
    (r"locale '(?P<name>.*)' is unknown; .*", "Unknown language “%(name)s”."),
    (r"password too short: use at least (?P<name>\d+) characters",
     "Password too short: use at least %(name)s characters."),
    (r"password must not be the user name", "The password must not be the user name."),
    (r"user '(?P<name>.*)' already exists; .*", "User “%(name)s” already exists; pick another name."),
    (r"no user '(?P<name>.*)'; .*", "There is no user “%(name)s”."),
    (r"'(?P<name>.*)' is the last enabled admin; .*",
     "“%(name)s” is the last enabled admin; make another user an admin first."),
    (r"unknown action '(?P<name>.*)'", "Unknown action “%(name)s”."),
))


def account_error(locale: str, message: str) -> str:
    """An ``AccountError`` message in the user's language (the English message when it is not a known one)."""
    for pattern, msgid in _ACCOUNT_ERRORS:
        m = pattern.fullmatch(message)
        if m:
            return translations(locale).gettext(msgid) % m.groupdict()
    return message


def ack_areas(role: str) -> str:
    """The areas ``role`` may acknowledge alerts of, comma-separated (``*``: all; empty: none)."""
    if role == "admin":
        return "*"
    return ",".join(sorted(ACK_AREAS.get(role, frozenset())))


def render_page(request: Request, ctx: DashboardContext, me: Principal | None, template: str,
                status_code: int = 200, **data: Any) -> HTMLResponse:
    """Render ``template`` in the user's language with the layout's context."""
    locale = ctx.locale_of(me.user if me else None) if me else _anonymous_locale(request, ctx)
    context: dict[str, Any] = {
        "request_path": request.url.path,
        "me": me.user if me else None,
        "csrf_token": me.session.csrf_token if me else data.pop("csrf_token", ""),
        "nav": (ctx.nav or nav_for)(me.user.role) if me else [],
        "site_name": ctx.services.config.site.name or ctx.services.config.site.id,
        "now": ctx.services.clock.now(),
        "site_tz": ctx.services.config.site.timezone,
        # the areas whose alerts this user may acknowledge: alerts the script adds live get the form only there
        "ack_areas": ack_areas(me.user.role) if me else "",
    }
    context.update(data)
    html = ctx.templates.render(locale, template, context)
    return HTMLResponse(html, status_code=status_code)


#: Stand-ins for the per-session parts of a page rendered once for everyone with the same role and
#: language; random per process, so no text a user can enter could contain (and leak) them.
_CSRF_MARK = "csrf-" + secrets.token_hex(16)
_LABEL_MARK = "user-" + secrets.token_hex(16)


@dataclass(frozen=True, slots=True)
class _SharedUser:
    """What the layout reads of ``me`` when a page is rendered for a role rather than a person."""

    role: str
    label: str = _LABEL_MARK


def render_shared_page(request: Request, ctx: DashboardContext, me: Principal, template: str,
                       data: Callable[[], Mapping[str, Any]], **extra: Any) -> HTMLResponse:
    """Render ``template`` once per language and role while no data changes (``ctx.cache``), then put in
    this session's CSRF token and user name; ``data()`` gives the page's variables for the role.

    For pages whose content depends only on the data, the language and the role (the Overview): fifty
    screens refreshing within a second cost one rendering.
    """
    user = me.user
    locale = ctx.locale_of(user)

    def render() -> str:
        context: dict[str, Any] = {
            "request_path": request.url.path,
            "me": _SharedUser(user.role),
            "csrf_token": _CSRF_MARK,
            "nav": (ctx.nav or nav_for)(user.role),
            "site_name": ctx.services.config.site.name or ctx.services.config.site.id,
            "now": ctx.services.clock.now(),
            "site_tz": ctx.services.config.site.timezone,
            "ack_areas": ack_areas(user.role),
            **extra,
        }
        context.update(data())
        return ctx.templates.render(locale, template, context)

    html: str = ctx.cache.get(("page", template, request.url.path, locale, user.role), render)
    html = html.replace(_CSRF_MARK, str(escape(me.session.csrf_token))).replace(_LABEL_MARK, str(escape(user.label)))
    return HTMLResponse(html)


def _anonymous_locale(request: Request, ctx: DashboardContext) -> str:
    lang = request.query_params.get("lang")
    if lang in ("zh-CN", "en"):
        return lang
    return ctx.services.config.site.locale


def safe_next(target: str | None, default: str) -> str:
    """A local path to go to after login; anything else (other hosts, ``//x``, ``/\\x``) gives ``default``."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) or "\\" in target:
        return default
    if any(ord(c) < 32 for c in target):
        return default
    return target
