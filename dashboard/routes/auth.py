"""Login, logout and the user's own account (language, password)."""

from __future__ import annotations

import math
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dashboard.accounts import AccountError
from dashboard.context import DashboardContext
from dashboard.deps import Ctx, Forbidden, Form, Me
from dashboard.passwords import verify
from dashboard.routes.common import HOME, account_error, render_page, safe_next
from dashboard.security import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    client_address,
    same_origin,
    tokens_match,
)
from dashboard.throttle import DEVICE_COOKIE, DEVICE_COOKIE_DAYS

router = APIRouter(include_in_schema=False)


def secure_cookie(request: Request, ctx: DashboardContext) -> bool:
    """Whether cookies get the Secure flag (``[dashboard] secure_cookies``)."""
    mode = ctx.settings.secure_cookies
    return mode == "always" or (mode == "auto" and request.url.scheme == "https")


def _login_form(request: Request, ctx: DashboardContext, *, error: str = "", status_code: int = 200,
                username: str = "") -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    resp = render_page(request, ctx, None, "login.html", status_code=status_code, csrf_token=token, error=error,
                       username=username, next=safe_next(request.query_params.get("next"), ""))
    resp.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure_cookie(request, ctx),
                    path="/login")
    return resp


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, ctx: Ctx) -> Response:
    """The login form."""
    return _login_form(request, ctx)


@router.post("/login")
def login(request: Request, ctx: Ctx, form: Form) -> Response:
    """Check the form's CSRF token, the throttle and the password; start a session."""
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    trusted = bool(ctx.settings.trusted_proxies)
    if not same_origin(request, trusted) or not cookie or not tokens_match(cookie, form.get(CSRF_FIELD, "")):
        raise Forbidden("login form expired; reload the page and try again")
    username = form.get("username", "").strip()[:64]
    password = form.get("password", "")[:1024]
    address = client_address(request)
    client = ctx.throttle.client(username, address, request.cookies.get(DEVICE_COOKIE))
    attempt = ctx.throttle.reserve(username, client, address)  # before the check: concurrent guesses count
    if not attempt.allowed:
        ctx.audit.record(username or "-", "login_throttled", address=address)
        minutes = max(1, math.ceil(attempt.retry_after / 60))
        resp = _login_form(request, ctx, status_code=429, username=username, error=f"too_many:{minutes}")
        resp.headers["Retry-After"] = str(max(1, math.ceil(attempt.retry_after)))
        return resp
    user = ctx.kdf(ctx.accounts.authenticate, username, password) if username and password else None
    if user is None:
        ctx.audit.record(username or "-", "login_failed", address=address)
        return _login_form(request, ctx, status_code=401, username=username, error="bad_credentials")
    ctx.throttle.succeeded(attempt, username, client)
    # a fresh session id at every login (no fixation), the old one ended if the browser had one
    ctx.sessions.end(request.cookies.get(SESSION_COOKIE))
    ctx.sessions.purge_expired()  # abandoned sessions go at the next login, not only at restart
    session = ctx.sessions.create(user.id, address, request.headers.get("user-agent", ""))
    ctx.audit.record(user.username, "login", address=address)
    target = safe_next(form.get("next"), HOME.get(user.role, "/"))
    resp = RedirectResponse(target, status_code=303)
    resp.set_cookie(SESSION_COOKIE, session.token, httponly=True, samesite="lax",
                    secure=secure_cookie(request, ctx), path="/")
    resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    # this browser logged in as this account: it keeps its own throttle budget (no lockout by others)
    resp.set_cookie(DEVICE_COOKIE, ctx.throttle.device_cookie(user.username), httponly=True, samesite="strict",
                    secure=secure_cookie(request, ctx), path="/login", max_age=DEVICE_COOKIE_DAYS * 86400)
    return resp


@router.post("/logout")
def logout(request: Request, ctx: Ctx, me: Me) -> Response:
    """End this session on the server and forget the cookie."""
    ctx.sessions.end(request.cookies.get(SESSION_COOKIE))
    ctx.audit.record(me.user.username, "logout", address=client_address(request))
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@router.post("/account/locale")
def set_locale(request: Request, ctx: Ctx, me: Me, form: Form) -> Response:
    """Switch the user's language (zh-CN or en)."""
    locale = form.get("locale", "")
    try:
        ctx.accounts.set_locale(me.user.id, locale if locale else None)
    except AccountError:
        return RedirectResponse("/", status_code=303)
    return RedirectResponse(safe_next(form.get("next"), "/"), status_code=303)


@router.post("/account/password")
def change_password(request: Request, ctx: Ctx, me: Me, form: Form) -> Response:
    """Change one's own password; every session of the user ends (log in again)."""
    current, new = form.get("current", ""), form.get("new", "")
    stored = ctx.services.events_db.conn().execute(
        "SELECT password_hash FROM dashboard_users WHERE id = ?", (me.user.id,)).fetchone()
    if stored is None or not ctx.kdf(verify, ctx.accounts.hasher, str(stored[0]), current):
        return render_page(request, ctx, me, "account.html", status_code=400, error="wrong_password")
    try:
        ctx.kdf(ctx.accounts.set_password, me.user.username, new)
    except AccountError as e:
        return render_page(request, ctx, me, "account.html", status_code=400,
                           error=account_error(ctx.locale_of(me.user), str(e)))
    ended = ctx.sessions.end_all(me.user.id)
    ctx.audit.record(me.user.username, "password_changed", detail=f"{ended} session(s) ended",
                     address=client_address(request))
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp
