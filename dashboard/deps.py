"""FastAPI dependencies as ``Annotated`` aliases, and the one authorization check every route passes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from dashboard.context import DashboardContext, Principal
from dashboard.roles import PUBLIC
from dashboard.security import (
    SESSION_COOKIE,
    UNSAFE_METHODS,
    form_fields,
    same_origin,
    submitted_csrf,
    tokens_match,
)


class LoginRequired(Exception):
    """No valid session: pages redirect to the login form, the API answers 401."""


class Forbidden(Exception):
    """Logged in, but the role may not do this (or the CSRF/origin check failed); answers 403."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def get_ctx(request: Request) -> DashboardContext:
    """The app's context (async: FastAPI would run a plain function in a worker thread)."""
    ctx: DashboardContext = request.app.state.ctx
    return ctx


Ctx = Annotated[DashboardContext, Depends(get_ctx)]


def _route_path(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "path", request.url.path))


def is_public(path: str) -> bool:
    """True for routes reachable without a login."""
    return path in PUBLIC or any(path.startswith(p + "/") for p in PUBLIC)


async def authorize(request: Request) -> None:
    """Session, role and CSRF checks for the matched route; public routes pass (fail closed otherwise).

    The session and user lookups are SQLite reads: they run in the thread pool, never on the event loop.
    """
    path = _route_path(request)
    if is_public(path):
        return
    ctx: DashboardContext = request.app.state.ctx
    principal = await run_in_threadpool(_principal, ctx, request.cookies.get(SESSION_COOKIE), request.method, path)
    request.state.principal = principal
    if request.method in UNSAFE_METHODS:
        if not same_origin(request, bool(ctx.settings.trusted_proxies)):
            raise Forbidden("cross-site request refused")
        if not tokens_match(principal.session.csrf_token, await submitted_csrf(request)):
            raise Forbidden("missing or wrong CSRF token; reload the page and try again")


def _principal(ctx: DashboardContext, token: str | None, method: str, path: str) -> Principal:
    """The session's user, allowed to ``method`` ``path`` (raises LoginRequired or Forbidden)."""
    session = ctx.sessions.lookup(token)
    user = ctx.accounts.get_by_id(session.user_id) if session else None
    if session is None or user is None or user.disabled:
        if session is not None:
            ctx.sessions.end_all(session.user_id)
        raise LoginRequired()
    if not ctx.allowed(user.role, method, path):
        raise Forbidden(f"role {user.role!r} may not {method} {path}")
    return Principal(user, session)


async def current_principal(request: Request) -> Principal:
    """The principal ``authorize`` established (only on non-public routes)."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        raise LoginRequired()
    return principal


Me = Annotated[Principal, Depends(current_principal)]

Form = Annotated[dict[str, str], Depends(form_fields)]
"""The urlencoded form body (read on the event loop, so the handler can be a plain ``def``)."""

#: A Unix time (seconds) in a query: finite and between 1970 and 2106 (``?since=NaN``, ``inf`` or ``-1e308`` get 422).
Timestamp = Annotated[float | None, Query(ge=0, le=2.0**32, allow_inf_nan=False)]

#: A row id in a path: SQLite's integer range (a larger number gets 422, not an overflow in the driver).
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]
#: A row id in a query (optional), bounded the same way.
RowIdQuery = Annotated[int | None, Query(ge=1, le=2**63 - 1)]
#: ``?saved=`` after a form was saved: the record's id, or 1 (0: nothing was saved), bounded like a row id.
SavedQuery = Annotated[int, Query(ge=0, le=2**63 - 1)]
#: A calendar year in a query (optional): a ledger or report of 2000–2100 (others get 422).
YearQuery = Annotated[int | None, Query(ge=2000, le=2100)]

