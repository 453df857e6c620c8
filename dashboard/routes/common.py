"""Helpers the route modules share: rendering a page with the layout's context, role home pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from dashboard.context import DashboardContext, Principal
from dashboard.roles import ACK_AREAS, allowed

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
    ("/admin", "Admin"),
)

#: Where each role lands after logging in.
HOME: Mapping[str, str] = {"guard": "/gate", "kitchen": "/cold", "facilities": "/utilities"}


def nav_for(role: str) -> list[tuple[str, str]]:
    """The navigation entries this role may open."""
    return [(path, label) for path, label in NAV if allowed(role, "GET", path)]


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
        "nav": nav_for(me.user.role) if me else [],
        "site_name": ctx.services.config.site.name or ctx.services.config.site.id,
        "now": ctx.services.clock.now(),
        "site_tz": ctx.services.config.site.timezone,
        # the areas whose alerts this user may acknowledge: alerts the script adds live get the form only there
        "ack_areas": ack_areas(me.user.role) if me else "",
    }
    context.update(data)
    html = ctx.templates.render(locale, template, context)
    return HTMLResponse(html, status_code=status_code)


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
