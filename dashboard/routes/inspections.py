"""Disinfection pages and API (gateway/inspections): each room's lamp and today's verdict, manual entries from a
phone, "new lamp fitted", and the monthly record per room with its printable A4 version and CSV export.

Handlers are plain ``def`` (SQLite, the store, rendering: FastAPI runs them in its thread pool).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from pydantic import BaseModel, Field

from dashboard.context import DashboardContext, Principal
from dashboard.deps import Ctx, Form, Me, SavedQuery
from dashboard.routes.common import render_page
from dashboard.security import client_address
from gateway.i18n import gettext
from gateway.inspections.build import build_disinfection
from gateway.inspections.disinfection import DisinfectionError, DisinfectionRecord, MonthRecord
from gateway.inspections.render import RecordRenderer, record_csv
from gateway.inspections.settings import METHODS, RoomSettings

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
api = APIRouter(prefix="/api", tags=["inspections"])

#: Roles that write manual entries (the health teacher has the kitchen role) and fit new lamps.
WRITERS = frozenset({"admin", "facilities", "kitchen"})
LAMP_FITTERS = frozenset({"admin", "facilities"})
#: Share of the lamp's life from which the page warns.
LIFE_WARN = 0.9


def _record(ctx: DashboardContext) -> DisinfectionRecord:
    s = ctx.services
    return build_disinfection(s.config, s.events_db, s.clock)


def _locale(ctx: DashboardContext, me: Principal) -> str:
    return ctx.locale_of(me.user)


def _month(rec: DisinfectionRecord, text: str | None) -> tuple[int, int]:
    if not text:
        t = rec.today()
        return t.year, t.month
    try:
        y, m = (int(x) for x in text.split("-"))
        date(y, m, 1)
    except ValueError:
        raise HTTPException(400, f"month {text!r}: write it as YYYY-MM") from None
    return y, m


def _room(rec: DisinfectionRecord, room_id: str | None) -> RoomSettings:
    rooms = rec.settings.rooms
    if not rooms:
        raise HTTPException(404, "no rooms configured: add [[inspections.disinfection.rooms]] to the config")
    if room_id is None:
        return rooms[0]
    room = rec.settings.room(room_id)
    if room is None:
        raise HTTPException(404, f"no room {room_id!r}")
    return room


def _lamp_now(ctx: DashboardContext, rec: DisinfectionRecord, room: RoomSettings) -> float | None:
    """The plug's latest power when it is recent, else None."""
    store = ctx.services.store
    if room.plug is None or store is None:
        return None
    try:
        info = next((i for i in store.series(room.plug) if i.metric == "power_w"), None)
    except Exception:
        return None
    if info is None or ctx.services.clock.now() - info.last_ts > rec.settings.max_gap:
        return None
    return info.last_value


def _renderer(ctx: DashboardContext, me: Principal, rec: DisinfectionRecord) -> RecordRenderer:
    cfg = ctx.services.config
    return RecordRenderer(_locale(ctx, me), rec.tz, cfg.site.name or cfg.site.id)


def _fragment(ctx: DashboardContext, me: Principal, rec: DisinfectionRecord, m: MonthRecord) -> str:
    s = rec.settings
    return _renderer(ctx, me, rec).fragment(m, s.lamp_life_h, s.min_of(m.room) / 60, str(s.window_of(m.room)))


def _page(request: Request, ctx: DashboardContext, me: Principal, room_id: str | None, month: str | None, *,
          status_code: int = 200, error: str = "", saved: bool = False, form: dict[str, str] | None = None) -> Response:
    rec = _record(ctx)
    y, mo = _month(rec, month)
    if not rec.settings.rooms:  # the nav shows the page on every site: say what is missing, not 404
        return render_page(request, ctx, me, "disinfection.html", page="disinfection", no_rooms=True)
    room = _room(rec, room_id)
    m = rec.month(room, y, mo)
    s = rec.settings
    today = rec.today()
    cards = []
    for r in s.rooms:
        watts = _lamp_now(ctx, rec, r)
        hours = rec.lamp_hours(r) if r.plug else None
        cards.append({"room": r, "verdict": rec.day(r, today).verdict, "watts": watts,
                      "on": watts is not None and watts > s.threshold_w, "hours": hours,
                      "worn": hours is not None and hours >= LIFE_WARN * s.lamp_life_h})
    cur = f"{y}-{mo:02d}"
    prev_m = f"{y - 1}-12" if mo == 1 else f"{y}-{mo - 1:02d}"
    next_m = f"{y + 1}-01" if mo == 12 else f"{y}-{mo + 1:02d}"
    return render_page(
        request, ctx, me, "disinfection.html", status_code=status_code, page="disinfection", cards=cards,
        room=room, rooms=s.rooms, methods=METHODS, current=cur, prev=prev_m, next=next_m, life_h=s.lamp_life_h,
        body=Markup(_fragment(ctx, me, rec, m)), print_url=f"/disinfection/print?room={room.id}&month={cur}",
        csv_url=f"/disinfection.csv?room={room.id}&month={cur}", error=error, saved=saved, form=form or {},
        can_write=me.user.role in WRITERS, can_fit=me.user.role in LAMP_FITTERS, by_default=me.user.label,
        now_local=datetime.fromtimestamp(rec.clock.now(), rec.tz).strftime("%Y-%m-%dT%H:%M"))


@router.get("/disinfection")
def disinfection_page(request: Request, ctx: Ctx, me: Me, room: str | None = None, month: str | None = None,
                      saved: SavedQuery = 0) -> Response:
    """Each room's lamp and today's verdict, the manual entry form and a room's month."""
    return _page(request, ctx, me, room, month, saved=bool(saved))


@router.get("/disinfection/print")
def disinfection_print(ctx: Ctx, me: Me, room: str | None = None, month: str | None = None) -> Response:
    """The printable A4 record of a room's month."""
    rec = _record(ctx)
    if not rec.settings.rooms:
        return RedirectResponse("/disinfection", status_code=303)
    y, mo = _month(rec, month)
    m = rec.month(_room(rec, room), y, mo)
    s = rec.settings
    return HTMLResponse(_renderer(ctx, me, rec).html(m, s.lamp_life_h, s.min_of(m.room) / 60,
                                                     str(s.window_of(m.room)), css="link"))


@router.get("/disinfection.csv")
def disinfection_csv(ctx: Ctx, me: Me, room: str | None = None, month: str | None = None) -> Response:
    """The record of a room's month as CSV."""
    rec = _record(ctx)
    y, mo = _month(rec, month)
    m = rec.month(_room(rec, room), y, mo)
    name = f"disinfection-{m.room.id}-{y}-{mo:02d}.csv"
    # the export follows the site's language, as every export does (it is filed, not read by one user)
    text = record_csv(m, rec.tz, ctx.services.config.site.locale)
    return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _when(rec: DisinfectionRecord, text: str, locale: str) -> float:
    try:
        dt = datetime.fromisoformat(text.strip())
    except ValueError:
        raise DisinfectionError(gettext(locale, "time: choose the date and time it started")) from None
    return dt.replace(tzinfo=rec.tz).timestamp() if dt.tzinfo is None else dt.timestamp()


def _minutes(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0  # refused with the duration's message


@router.post("/disinfection/manual")
def disinfection_manual(request: Request, ctx: Ctx, me: Me, form: Form) -> Response:
    """Record a manual disinfection from the form."""
    rec = _record(ctx)
    loc = _locale(ctx, me)
    room = form.get("room", "")
    try:
        e = rec.add_manual(room, form.get("method", ""), _when(rec, form.get("start", ""), loc),
                           _minutes(form.get("minutes", "")), form.get("by", ""), form.get("note", ""), locale=loc)
    except DisinfectionError as err:
        return _page(request, ctx, me, room if rec.settings.room(room) else None, None, status_code=400,
                     error=str(err), form=form)
    ctx.audit.record(me.user.username, "disinfection_entry", target=e.room,
                     detail=f"{e.method} {e.on_s / 60:.0f} min by {e.by}", address=client_address(request))
    month = datetime.fromtimestamp(e.start, rec.tz).strftime("%Y-%m")
    return RedirectResponse(f"/disinfection?room={quote(e.room)}&month={month}&saved=1", status_code=303)


@router.post("/disinfection/{room_id}/lamp")
def disinfection_lamp(request: Request, ctx: Ctx, me: Me, room_id: str, form: Form) -> Response:
    """Record that a new UV lamp was fitted in the room (its hours start again)."""
    rec = _record(ctx)
    room = _room(rec, room_id)
    rec.lamp_replaced(room.id, me.user.label, form.get("note", ""))
    ctx.audit.record(me.user.username, "uv_lamp_replaced", target=room.id, detail=form.get("note", "")[:200],
                     address=client_address(request))
    return RedirectResponse(f"/disinfection?room={quote(room.id)}", status_code=303)


# -- JSON API ----------------------------------------------------------------------------------------
class EntryOut(BaseModel):
    """One recorded disinfection."""

    id: int
    room: str
    source: str = Field(description="plug (from the lamp's power) or manual")
    method: str
    start: float
    end: float
    on_s: float
    effective_s: float = Field(description="seconds that count: after the warm-up for a plug")
    peak_w: float | None
    by: str | None
    note: str | None


class DayOut(BaseModel):
    """One day of a room's record."""

    day: str
    required: bool
    verdict: str = Field(description="ok, short, missed, free (not needed) or pending (not judged yet)")
    occupied_s: float = Field(description="seconds a lamp was on while children were in the room")
    entries: list[EntryOut]


class MonthOut(BaseModel):
    """A room's month and its totals."""

    room: str
    name: str
    month: str
    days: list[DayOut]
    sessions: int
    on_minutes: float
    days_required: int
    ok: int
    short: int
    missed: int
    occupied_sessions: int
    lamp_hours: float | None


class ManualIn(BaseModel):
    """A manual disinfection entry."""

    room: str
    method: str = Field(description="uv, spray, wipe or disinfectant")
    start: float = Field(description="Unix seconds it started")
    minutes: float
    by: str
    note: str = ""


def _month_out(m: MonthRecord) -> MonthOut:
    return MonthOut(
        room=m.room.id, name=m.room.label, month=f"{m.year}-{m.month:02d}",
        days=[DayOut(day=d.day.isoformat(), required=d.required, verdict=d.verdict, occupied_s=d.occupied_s,
                     entries=[EntryOut(**e.as_dict()) for e in d.entries]) for d in m.days],
        sessions=m.sessions, on_minutes=m.on_minutes, days_required=m.required, ok=m.count("ok"),
        short=m.count("short"), missed=m.count("missed"), occupied_sessions=m.occupied_sessions,
        lamp_hours=m.lamp_hours if m.room.plug else None)


@api.get("/disinfection")
def api_disinfection(ctx: Ctx, me: Me, room: str | None = None, month: str | None = None) -> MonthOut:
    """A room's disinfection record of a month (default: the first room, this month)."""
    rec = _record(ctx)
    y, mo = _month(rec, month)
    return _month_out(rec.month(_room(rec, room), y, mo))


@api.post("/disinfection/manual", status_code=201)
def api_disinfection_manual(request: Request, ctx: Ctx, me: Me, body: ManualIn) -> EntryOut:
    """Record a manual disinfection; 400 with the reasons when it cannot be recorded."""
    rec = _record(ctx)
    try:
        e = rec.add_manual(body.room, body.method, body.start, body.minutes, body.by, body.note,
                           locale=_locale(ctx, me))
    except DisinfectionError as err:
        raise HTTPException(400, str(err)) from None
    ctx.audit.record(me.user.username, "disinfection_entry", target=e.room,
                     detail=f"{e.method} {e.on_s / 60:.0f} min by {e.by}", address=client_address(request))
    return EntryOut(**e.as_dict())


def wire(app: Any) -> None:
    """Include the pages and the API."""
    app.include_router(router)
    app.include_router(api)
