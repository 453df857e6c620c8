"""Operations: ``/healthz`` for supervisors and ``/metrics`` in the Prometheus text format."""

from __future__ import annotations

import ipaddress
import logging
import sqlite3
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from dashboard.context import DashboardContext
from dashboard.deps import Ctx, Forbidden
from dashboard.metrics import TEXT_FORMAT, exposition
from dashboard.security import SESSION_COOKIE, client_address

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=True, tags=["operations"])


def _store_health(ctx: DashboardContext) -> dict[str, Any]:
    """Store writable and, for a backend with an outbox (InfluxDB), its depth, drops and the server's state."""
    store = ctx.services.store
    if store is None:
        return {"store_writable": None, "outbox_depth": None}
    try:
        h = store.health()
    except Exception:
        log.exception("store health failed")
        return {"store_writable": False, "outbox_depth": None}
    out: dict[str, Any] = {"store_writable": h.writable, "outbox_depth": None}
    if h.outbox is not None:
        o = h.outbox
        out.update(outbox_depth=o.depth, store_backend=h.backend, store_reachable=o.reachable,
                   store_degraded=o.degraded, outbox_dropped=o.dropped, outbox_oldest_age_s=o.oldest_age_s)
    return out


def _events_db_writable(ctx: DashboardContext) -> bool:
    conn = ctx.services.events_db.conn()
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return True
    except sqlite3.Error:
        return False


def health(ctx: DashboardContext) -> dict[str, Any]:
    """Broker connected, stores writable, outbox depth, live clients; ``ok`` when nothing is wrong."""
    broker = ctx.services.broker_connected() if ctx.services.broker_connected else None
    store = _store_health(ctx)
    events = _events_db_writable(ctx)
    ok = broker is not False and store["store_writable"] is not False and events
    return {"ok": ok, "broker_connected": broker, "events_db_writable": events, "live_clients": ctx.hub.clients,
            **store}


@router.get("/healthz")
def healthz(ctx: Ctx) -> JSONResponse:
    """200 when healthy, 503 otherwise, with the details."""
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
