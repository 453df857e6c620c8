"""Operations: ``/healthz`` for supervisors and ``/metrics`` in the Prometheus text format."""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from dashboard.context import DashboardContext
from dashboard.deps import Ctx, Forbidden
from dashboard.health import report
from dashboard.metrics import TEXT_FORMAT, exposition
from dashboard.security import SESSION_COOKIE, client_address

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=True, tags=["operations"])


def health(ctx: DashboardContext) -> dict[str, Any]:
    """Each part of the site's monitoring with a reason when it is not ok (``dashboard.health``)."""
    return report(ctx.services, ctx.hub.clients)


@router.get("/healthz")
def healthz(ctx: Ctx) -> JSONResponse:
    """200 while the site is being monitored, 503 otherwise; each part with the reason it is not ok."""
    data = health(ctx)
    return JSONResponse(data, status_code=200 if data["ok"] else 503)


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(request: Request, ctx: Ctx) -> Response:
    """Prometheus text; open to scrapers on this machine, otherwise to logged-in admins only."""
    if not _loopback(client_address(request)):
        session = ctx.sessions.lookup(request.cookies.get(SESSION_COOKIE))
        user = ctx.accounts.get_by_id(session.user_id) if session else None
        if user is None or user.role != "admin" or user.disabled:
            raise Forbidden("/metrics is open to localhost scrapers and admins only")
    return Response(exposition(ctx.metrics), media_type=TEXT_FORMAT)
