"""The JSON API under ``/api``: everything the pages show, plus the live event stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from dashboard import views
from dashboard.ack_note import MAX_NOTE, clean_note, note_required
from dashboard.deps import Ctx, Forbidden, Me, RowId, Timestamp
from dashboard.live import LiveMessage
from dashboard.roles import may_ack
from dashboard.security import SESSION_COOKIE, client_address
from gateway.alerts.model import AlertNotFoundError, AlertStateError

router = APIRouter(prefix="/api", tags=["dashboard"])

#: How often the live stream sends a keep-alive comment and re-checks the session.
HEARTBEAT_S = 15.0
#: Live connections served at once (each holds a queue); more get 503 and the browser retries.
MAX_LIVE_CLIENTS = 200
#: Areas whose device messages each role's live stream carries (alerts go to everyone).
LIVE_AREAS: dict[str, frozenset[str] | None] = {
    "guard": frozenset({"gate"}),
    "kitchen": frozenset({"cold_storage"}),
    "facilities": frozenset({"utilities", "other"}),
}


#: The filters of ``GET /api/alerts`` (anything else is a 422 naming the allowed values, not an empty list).
AlertStateFilter = Literal["recent", "open", "active", "acknowledged", "cleared", "all"]
AreaFilter = Literal["", "gate", "cold_storage", "utilities", "other"]
SeverityFilter = Literal["", "critical", "major", "minor", "warning"]


class AckBody(BaseModel):
    """Acknowledge an alert with the corrective action taken."""

    note: str = Field(default="", max_length=MAX_NOTE, description="what was done; required (not blank)")


@router.get("/ping")
async def ping() -> dict[str, bool]:
    """A trivial authenticated endpoint (the benchmark's baseline)."""
    return {"ok": True}


@router.get("/me")
async def me_(me: Me, ctx: Ctx) -> dict[str, Any]:
    """Who is logged in, their role and language, and the CSRF token for fetch calls."""
    return {"username": me.user.username, "display_name": me.user.display_name, "role": me.user.role,
            "locale": ctx.locale_of(me.user), "csrf_token": me.session.csrf_token}


@router.get("/overview")
def overview(ctx: Ctx) -> dict[str, Any]:
    """Open alerts and each area's status."""
    def compute() -> dict[str, Any]:
        data = views.overview(ctx.services)
        return {"alerts": views.alert_json(ctx.services, data["alerts"]),
                "areas": [a.as_dict() for a in data["areas"]], "devices_offline": data["devices_offline"],
                "now": data["now"]}

    result: dict[str, Any] = ctx.cache.get(("api-overview",), compute)
    return result


@router.get("/devices")
def devices(ctx: Ctx) -> list[dict[str, Any]]:
    """Every device: kind, format, last seen, availability, battery, dead letters, latest values."""
    return [r.as_dict() for r in views.devices(ctx.services)]


@router.get("/latest")
def latest(ctx: Ctx) -> dict[str, Any]:
    """Cold storage and utilities cards as the pages show them."""
    return {"cold_storage": views.cold_storage(ctx.services), "utilities": views.utilities(ctx.services)}


@router.get("/devices/{device_id}/readings")
async def readings(
    ctx: Ctx,
    device_id: str,
    metric: str,
    start: Timestamp = None,
    end: Timestamp = None,
    every: float | None = Query(default=None, gt=0, le=366 * 86400, allow_inf_nan=False,
                                description="aggregate window in seconds"),
    fn: Literal["sum", "mean", "min", "max", "last", "first", "count"] = "mean",
) -> Response:
    """Readings of one metric in ``[start, end)`` (default: the last 24 h), raw or aggregated:
    ``{device, metric, start, end, every, fn, ts: [...], values: [...]}``."""
    if ctx.services.config.device(device_id) is None:
        raise HTTPException(404, f"no device {device_id!r}; see /api/devices")
    now = ctx.services.clock.now()
    end_ = end if end is not None else now + 1
    start_ = start if start is not None else end_ - 86400
    if end_ - start_ > 400 * 86400:
        raise HTTPException(400, "range longer than 400 days; narrow start/end or use every")
    if every is None and end_ - start_ > 8 * 86400:
        raise HTTPException(400, "raw readings are limited to 8 days; pass every (seconds) to aggregate")

    def compute() -> bytes:
        pts = views.readings(ctx.services, device_id, metric, start_, end_, every, fn)
        return json.dumps({"device": device_id, "metric": metric, "start": start_, "end": end_, "every": every,
                           "fn": fn, "ts": [p[0] for p in pts], "values": [p[1] for p in pts]},
                          separators=(",", ":")).encode()

    # a chart's 24 h asked for by many screens at once: one query, encoded once, reused for a second or two
    # even as readings arrive (the live stream appends them in the browser); an open end is "now"
    body: bytes = await ctx.cache.aget(("readings", device_id, metric, start, end, every, fn), compute,
                                       through_changes=True)
    return Response(body, media_type="application/json")


@router.get("/alerts")
def alerts(ctx: Ctx, state: AlertStateFilter = "recent", area: AreaFilter = "",
                 severity: SeverityFilter = "", limit: int = Query(default=200, ge=1, le=1000)) -> list[dict[str, Any]]:
    """Alerts by state (recent: open ones then the last 7 days; open, active, acknowledged, cleared, all),
    area and severity."""
    return views.alert_json(ctx.services, views.alerts(ctx.services, state=state, area=area, severity=severity,
                                                       limit=limit))


@router.get("/alerts/{alert_id}")
def alert(ctx: Ctx, alert_id: RowId) -> dict[str, Any]:
    """One alert with its timeline."""
    if ctx.services.alerts is None:
        raise HTTPException(404, "alerts are not available")
    try:
        a = ctx.services.alerts.get(alert_id)
        tl = ctx.services.alerts.timeline(alert_id)
    except AlertNotFoundError:
        raise HTTPException(404, f"no alert {alert_id}") from None
    out = views.alert_json(ctx.services, [a])[0]
    out["timeline"] = [{"ts": t.ts, "what": t.what, "by": t.by, "note": t.note, "value": t.value} for t in tl]
    return out


@router.post("/alerts/{alert_id}/ack")
def ack(request: Request, ctx: Ctx, me: Me, alert_id: RowId, body: AckBody) -> dict[str, Any]:
    """Acknowledge an alert with a note (needs the X-CSRF-Token header)."""
    if ctx.services.alerts is None:
        raise HTTPException(404, "alerts are not available")
    try:
        a = ctx.services.alerts.get(alert_id)
        if not may_ack(me.user.role, views.area_of(ctx.services, a.device)):
            raise Forbidden(f"role {me.user.role!r} may not acknowledge alerts of this area")
        note = clean_note(body.note)
        if not note:
            raise HTTPException(422, note_required(ctx.locale_of(me.user)))
        a = ctx.services.alerts.ack(alert_id, me.user.label, note)  # people read who: 张阿姨, not a login
    except AlertNotFoundError:
        raise HTTPException(404, f"no alert {alert_id}") from None
    except AlertStateError as e:
        raise HTTPException(409, str(e)) from None
    ctx.audit.record(me.user.username, "alert_ack", target=str(alert_id), detail=note,
                     address=client_address(request))
    return views.alert_json(ctx.services, [a])[0]


@router.get("/gate/events")
def gate_events(ctx: Ctx, since: Timestamp = None,
                      limit: int = Query(default=50, ge=1, le=500)) -> list[dict[str, Any]]:
    """Recent events of gate devices, newest first."""
    return views.gate_events(ctx.services, limit=limit, since=since)


@router.get("/users")
def users(ctx: Ctx) -> list[dict[str, Any]]:
    """Users and their roles (admins only)."""
    return [{"username": u.username, "display_name": u.display_name, "role": u.role, "locale": u.locale,
             "disabled": u.disabled, "created_at": u.created_at} for u in ctx.accounts.list()]


@router.get("/live", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "server-sent events: reading, event, availability, alert"}})
async def live(request: Request, ctx: Ctx, me: Me) -> StreamingResponse:
    """Server-sent events: new readings, device events, availability and alert changes."""
    if ctx.hub.clients >= MAX_LIVE_CLIENTS:
        raise HTTPException(503, f"too many live connections ({MAX_LIVE_CLIENTS}); close some dashboard tabs")
    sub = ctx.hub.subscribe(LIVE_AREAS.get(me.user.role))
    token = request.cookies.get(SESSION_COOKIE)

    async def stream() -> AsyncIterator[bytes]:
        try:
            yield b"retry: 3000\n\n" + LiveMessage("hello", {"user": me.user.username}).encode()
            while True:
                try:
                    msg = await asyncio.wait_for(sub.get(), HEARTBEAT_S)
                except TimeoutError:
                    # logout, password change and timeouts end the stream too
                    if await run_in_threadpool(ctx.sessions.lookup, token) is None:
                        yield LiveMessage("logout", {}).encode()
                        return
                    yield b": ping\n\n"
                    continue
                if msg is None:
                    return
                yield msg.encode()
        finally:
            sub.close()

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request) -> JSONResponse:
    """The OpenAPI schema FastAPI generates (logged-in users only)."""
    return JSONResponse(request.app.openapi())
