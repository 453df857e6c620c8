"""Hazard ledger and repairs pages and API (gateway/inspections/ledger.py): the year's ledger with each entry's
next step for its owner and the logistics head, reporting a hazard; repairs reported from a phone, taken and
closed by the 水电工, and a leak or left-on alert turned into a repair with one tap. Plain ``def`` handlers.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from dashboard.context import DashboardContext, Principal
from dashboard.deps import Ctx, Form, Me, RowId, YearQuery
from dashboard.routes.common import render_page
from dashboard.security import client_address
from dashboard.views import alert_json
from gateway.alerts.model import Alert, AlertNotFoundError
from gateway.i18n import tr
from gateway.inspections.hazard_report import HazardReport
from gateway.inspections.hazard_report import build as build_report
from gateway.inspections.ledger import LEVELS, Ledger, LedgerError, Repair
from gateway.inspections.render import RecordRenderer, hazards_csv

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
api = APIRouter(prefix="/api", tags=["inspections"])

#: Alert kinds a repair may be opened from with one tap: water leaks and things left on.
REPAIRABLE = frozenset({"water_leak", "continuous_flow", "closed_hours_use"})
#: The steps of a hazard after it is reported.
HAZARD_STEPS = ("started", "close_requested", "closed", "reopened")
#: Who takes and closes repairs.
FIXERS = frozenset({"admin", "facilities"})


def _ledger(ctx: DashboardContext) -> Ledger:
    s = ctx.services
    return Ledger(s.config, s.events_db, s.clock)


def _names(ctx: DashboardContext) -> dict[str, str]:
    """Login -> the name people read (the ledger keeps logins: they decide who may act on an entry)."""
    return {u.username: u.label for u in ctx.accounts.list()}


def _locale(ctx: DashboardContext, me: Principal) -> str:
    return ctx.locale_of(me.user)


def _audit(request: Request, ctx: DashboardContext, me: Principal, action: str, target: str, detail: str) -> None:
    ctx.audit.record(me.user.username, action, target=target, detail=detail[:200], address=client_address(request))


# -- hazards -----------------------------------------------------------------------------------------
def _hazards_page(request: Request, ctx: DashboardContext, me: Principal, year: int | None, *,
                  status_code: int = 200, error: str = "", form: dict[str, str] | None = None) -> Response:
    ledger = _ledger(ctx)
    now = ctx.services.clock.now()
    y = year or datetime.fromtimestamp(now, ledger.tz).year
    entries = ledger.hazards(y)
    carried = [h for h in ledger.open_hazards() if h.year < y]
    users = [u.username for u in ctx.accounts.list() if not u.disabled]
    return render_page(request, ctx, me, "hazards.html", status_code=status_code, page="hazards", year=y,
                       entries=[*carried, *entries], now=now, levels=LEVELS, error=error, form=form or {},
                       users=users, names=_names(ctx), me_name=me.user.username, is_head=me.user.role == "admin",
                       may_start_any=me.user.role in ("admin", "facilities"),
                       can_report=me.user.role != "viewer",
                       counts={s: sum(1 for h in entries if h.status == s) for s in
                               ("open", "in_progress", "closing", "closed")},
                       overdue=sum(1 for h in [*carried, *entries] if h.overdue(now)))


@router.get("/hazards")
def hazards_page(request: Request, ctx: Ctx, me: Me, year: YearQuery = None) -> Response:
    """The year's hazard ledger (and entries of earlier years still open), the report form."""
    return _hazards_page(request, ctx, me, year)


def _deadline(text: str, ledger: Ledger) -> float | None:
    if not text.strip():
        return None  # immediate
    try:
        d = date.fromisoformat(text.strip())
    except ValueError:
        return 0.0  # refused as a deadline in the past
    return datetime(d.year, d.month, d.day, 18, 0, tzinfo=ledger.tz).timestamp()


@router.post("/hazards")
def hazards_report(request: Request, ctx: Ctx, me: Me, form: Form) -> Response:
    """Report a hazard directly."""
    ledger = _ledger(ctx)
    try:
        h = ledger.report_hazard(form.get("place", ""), form.get("description", ""), form.get("level", ""),
                                 form.get("owner", ""), me.user.username, _deadline(form.get("deadline", ""), ledger),
                                 locale=_locale(ctx, me))
    except LedgerError as e:
        return _hazards_page(request, ctx, me, None, status_code=400, error=str(e), form=form)
    _audit(request, ctx, me, "hazard_reported", f"#{h.id} {h.place}", h.description)
    return RedirectResponse(f"/hazards#hazard-{h.id}", status_code=303)


@router.post("/hazards/{hazard_id}/{step}")
def hazards_step(request: Request, ctx: Ctx, me: Me, hazard_id: RowId, step: str, form: Form) -> Response:
    """Start, ask to close (the owner), close or reopen (the logistics head)."""
    ledger = _ledger(ctx)
    if step not in HAZARD_STEPS:
        raise HTTPException(404, "no such step")
    try:
        h = ledger.hazard_step(hazard_id, step, me.user.username, me.user.role, form.get("note", ""),
                               locale=_locale(ctx, me))
    except LedgerError as e:
        return _hazards_page(request, ctx, me, None, status_code=409, error=str(e))
    _audit(request, ctx, me, "hazard_step", f"#{h.id} {h.place}", f"{step}: {form.get('note', '')}")
    return RedirectResponse(f"/hazards?year={h.year}#hazard-{h.id}", status_code=303)


def _report(ctx: DashboardContext, period: str, day: str | None) -> HazardReport:
    ledger = _ledger(ctx)
    if period not in ("week", "month"):
        raise HTTPException(400, "period: week or month")
    try:
        d = date.fromisoformat(day) if day else datetime.fromtimestamp(ctx.services.clock.now(), ledger.tz).date()
    except ValueError:
        raise HTTPException(400, f"day {day!r}: write it as YYYY-MM-DD") from None
    return build_report(ledger, period, d)  # type: ignore[arg-type]


@router.get("/hazards/report")
def hazards_report_print(ctx: Ctx, me: Me, period: str = "week", day: str | None = None) -> Response:
    """The weekly summary (周结) or monthly report (月报) on A4."""
    r = _report(ctx, period, day)
    cfg = ctx.services.config
    renderer = RecordRenderer(_locale(ctx, me), cfg.site.tz, cfg.site.name or cfg.site.id)
    return HTMLResponse(renderer.hazards_html(r, css="link", names=_names(ctx)))


@router.get("/hazards/report.csv")
def hazards_report_csv(ctx: Ctx, me: Me, period: str = "week", day: str | None = None) -> Response:
    """The weekly summary or monthly report as CSV."""
    r = _report(ctx, period, day)
    site = ctx.services.config.site  # the export follows the site's language, as every export does
    return Response(hazards_csv(r, site.tz, site.locale, _names(ctx)).encode("utf-8"),
                    media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="hazards-{r.label}.csv"'})


# -- repairs -----------------------------------------------------------------------------------------
def _repairable(ctx: DashboardContext, ledger: Ledger) -> list[Alert]:
    alerts = ctx.services.alerts
    if alerts is None:
        return []
    return [a for a in alerts.list(open_only=True) if a.kind in REPAIRABLE and ledger.repair_for_alert(a.id) is None]


def _repairs_page(request: Request, ctx: DashboardContext, me: Principal, *, status_code: int = 200,
                  error: str = "", form: dict[str, str] | None = None) -> Response:
    ledger = _ledger(ctx)
    now = ctx.services.clock.now()
    rows = ledger.repairs(since=now - 30 * 86400)
    rows.sort(key=lambda r: (r.status == "done", -r.reported_at))
    return render_page(request, ctx, me, "repairs.html", status_code=status_code, page="repairs", rows=rows,
                       overdue={r.id for r in rows if ledger.repair_overdue(r, now)},
                       alerts=alert_json(ctx.services, _repairable(ctx, ledger), _locale(ctx, me)),
                       can_fix=me.user.role in FIXERS, can_tap=me.user.role != "viewer", error=error, form=form or {})


def open_repairs(ctx: DashboardContext) -> tuple[list[Repair], set[int]]:
    """Repairs not done, oldest first, and the ids of the overdue ones (for the facilities page)."""
    ledger = _ledger(ctx)
    now = ctx.services.clock.now()
    rows = sorted((r for r in ledger.repairs(since=now) if r.status != "done"), key=lambda r: r.reported_at)
    return rows, {r.id for r in rows if ledger.repair_overdue(r, now)}


@router.get("/repairs")
def repairs_page(request: Request, ctx: Ctx, me: Me) -> Response:
    """Open and overdue repairs, the last month's done ones, the report form, alerts to turn into repairs."""
    return _repairs_page(request, ctx, me)


@router.post("/repairs")
def repairs_report(request: Request, ctx: Ctx, me: Me, form: Form) -> Response:
    """Report a fault."""
    try:
        r = _ledger(ctx).report_repair(form.get("place", ""), form.get("what", ""), me.user.label,
                                       locale=_locale(ctx, me))
    except LedgerError as e:
        return _repairs_page(request, ctx, me, status_code=400, error=str(e), form=form)
    _audit(request, ctx, me, "repair_reported", f"#{r.id} {r.place}", r.what)
    return RedirectResponse(f"/repairs#repair-{r.id}", status_code=303)


@router.post("/repairs/from-alert/{alert_id}")
def repairs_from_alert(request: Request, ctx: Ctx, me: Me, alert_id: RowId) -> Response:
    """One tap: a repair for a leak or left-on alert, linked to it."""
    ledger = _ledger(ctx)
    alerts = ctx.services.alerts
    if alerts is None:
        raise HTTPException(404, "alerts are not available")
    try:
        alert = alerts.get(alert_id)
    except AlertNotFoundError:
        raise HTTPException(404, f"no alert {alert_id}") from None
    if alert.kind not in REPAIRABLE:
        raise HTTPException(409, "only leak and left-on alerts open a repair")
    found = ledger.repair_for_alert(alert_id)
    if found is None:
        device = ctx.services.config.device(alert.device)
        place = (device.location or device.label) if device else alert.device
        # the repair reads as the alert page words it, not the rule's raw detail
        words = alert_json(ctx.services, [alert], _locale(ctx, me))[0]
        what = words["detail_text"] or words["rule_name"]
        found = ledger.report_repair(place, what, me.user.label, alert_id=alert_id, locale=_locale(ctx, me))
        _audit(request, ctx, me, "repair_reported", f"#{found.id} {found.place}", f"alert {alert_id}")
    return RedirectResponse(f"/repairs#repair-{found.id}", status_code=303)


@router.post("/repairs/{repair_id}/{step}")
def repairs_step(request: Request, ctx: Ctx, me: Me, repair_id: RowId, step: str, form: Form) -> Response:
    """Take a job or close it with a note (the 水电工)."""
    if step not in ("taken", "done"):
        raise HTTPException(404, "no such step")
    try:
        r = _ledger(ctx).repair_step(repair_id, step, me.user.label, form.get("note", ""), locale=_locale(ctx, me))
    except LedgerError as e:
        return _repairs_page(request, ctx, me, status_code=409, error=str(e))
    _audit(request, ctx, me, "repair_step", f"#{r.id} {r.place}", f"{step}: {form.get('note', '')}")
    return RedirectResponse(f"/repairs#repair-{r.id}", status_code=303)


# -- JSON API ----------------------------------------------------------------------------------------
class StepOut(BaseModel):
    """One step of a hazard or repair."""

    at: float
    by: str
    what: str
    note: str | None
    photo: str | None = None


class HazardOut(BaseModel):
    """One entry of the hazard ledger."""

    id: int
    year: int
    place: str
    description: str
    level: str = Field(description="general (一般) or major (重大)")
    owner: str
    deadline: float
    photo: str | None
    source: str
    source_ref: str | None
    reported_by: str
    reported_at: float
    status: str = Field(description="open (未整改), in_progress (整改中), closing (awaiting the head), closed (已销号)")
    overdue: bool
    steps: list[StepOut]


class RepairOut(BaseModel):
    """One repair."""

    id: int
    place: str
    what: str
    photo: str | None
    alert_id: int | None
    reported_by: str
    reported_at: float
    status: str = Field(description="open, taken or done")
    taken_by: str | None
    overdue: bool
    steps: list[StepOut]


class HazardIn(BaseModel):
    """A hazard reported."""

    place: str
    description: str
    level: str = Field(description="general (一般) or major (重大)")
    owner: str = Field(description="user name of who rectifies it")
    deadline: str = Field(default="", description="rectify by this day (YYYY-MM-DD); empty: immediately")
    photo: str | None = Field(default=None, description="base64 JPEG or PNG")


class StepIn(BaseModel):
    """A step of a hazard or repair: a note, and for a hazard an optional photo."""

    note: str = ""
    photo: str | None = Field(default=None, description="base64 JPEG or PNG (hazards only)")


class RepairIn(BaseModel):
    """A fault reported."""

    place: str
    what: str
    photo: str | None = Field(default=None, description="base64 JPEG or PNG")
    alert_id: int | None = Field(default=None, ge=1, le=2**63 - 1)  # SQLite's range: a larger one gets 422


@api.get("/hazards")
def api_hazards(ctx: Ctx, me: Me, year: YearQuery = None) -> list[HazardOut]:
    """A year's hazard ledger (default: this year)."""
    ledger = _ledger(ctx)
    now = ctx.services.clock.now()
    return [HazardOut(**h.as_dict(now)) for h in ledger.hazards(year)]


@api.get("/repairs")
def api_repairs(ctx: Ctx, me: Me) -> list[RepairOut]:
    """Repairs not done and those of the last 30 days."""
    ledger = _ledger(ctx)
    now = ctx.services.clock.now()
    return [RepairOut(**r.as_dict(ledger.repair_overdue(r, now))) for r in ledger.repairs(since=now - 30 * 86400)]


def _exists(find: Callable[[int], object], row_id: int) -> None:
    try:
        find(row_id)
    except LedgerError:
        raise HTTPException(404, f"no such entry: {row_id}") from None


def _photo(text: str | None, locale: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True) if text else None
    except (binascii.Error, ValueError):
        raise HTTPException(400, tr(locale, "photo: send a JPEG or PNG image")) from None


@api.post("/hazards", status_code=201)
def api_hazard_report(request: Request, ctx: Ctx, me: Me, body: HazardIn) -> HazardOut:
    """Report a hazard, with an optional photo; 400 with what to fix."""
    ledger = _ledger(ctx)
    loc = _locale(ctx, me)
    photo = _photo(body.photo, loc)
    try:
        h = ledger.report_hazard(body.place, body.description, body.level, body.owner, me.user.username,
                                 _deadline(body.deadline, ledger), photo, locale=loc)
    except LedgerError as e:
        raise HTTPException(400, str(e)) from None
    _audit(request, ctx, me, "hazard_reported", f"#{h.id} {h.place}", h.description)
    return HazardOut(**h.as_dict(ctx.services.clock.now()))


@api.post("/hazards/{hazard_id}/{step}")
def api_hazard_step(request: Request, ctx: Ctx, me: Me, hazard_id: RowId, step: str, body: StepIn) -> HazardOut:
    """Start, ask to close with a note or photo (the owner), close or reopen (the head); 409 when not possible."""
    if step not in HAZARD_STEPS:
        raise HTTPException(404, "no such step")
    ledger = _ledger(ctx)
    loc = _locale(ctx, me)
    photo = _photo(body.photo, loc)
    _exists(ledger.hazard, hazard_id)
    try:
        h = ledger.hazard_step(hazard_id, step, me.user.username, me.user.role, body.note, photo, locale=loc)
    except LedgerError as e:
        raise HTTPException(409, str(e)) from None
    _audit(request, ctx, me, "hazard_step", f"#{h.id} {h.place}", f"{step}: {body.note}")
    return HazardOut(**h.as_dict(ctx.services.clock.now()))


@api.post("/repairs", status_code=201)
def api_repair_report(request: Request, ctx: Ctx, me: Me, body: RepairIn) -> RepairOut:
    """Report a fault, with an optional photo; 400 with what to fix."""
    ledger = _ledger(ctx)
    loc = _locale(ctx, me)
    photo = _photo(body.photo, loc)
    try:
        r = ledger.report_repair(body.place, body.what, me.user.label, photo, body.alert_id, loc)
    except LedgerError as e:
        raise HTTPException(400, str(e)) from None
    _audit(request, ctx, me, "repair_reported", f"#{r.id} {r.place}", r.what)
    return RepairOut(**r.as_dict(False))


@api.post("/repairs/{repair_id}/{step}")
def api_repair_step(request: Request, ctx: Ctx, me: Me, repair_id: RowId, step: str, body: StepIn) -> RepairOut:
    """Take a job, or close it with a note saying what was done (the 水电工); 409 when not possible."""
    if step not in ("taken", "done"):
        raise HTTPException(404, "no such step")
    if body.photo:
        raise HTTPException(400, tr(_locale(ctx, me), "a repair step takes a note, not a photo"))
    ledger = _ledger(ctx)
    _exists(ledger.repair, repair_id)
    try:
        r = ledger.repair_step(repair_id, step, me.user.label, body.note, locale=_locale(ctx, me))
    except LedgerError as e:
        raise HTTPException(409, str(e)) from None
    _audit(request, ctx, me, "repair_step", f"#{r.id} {r.place}", f"{step}: {body.note}")
    return RepairOut(**r.as_dict(ledger.repair_overdue(r)))


def wire(app: Any) -> None:
    """Include the pages and the API."""
    app.include_router(router)
    app.include_router(api)
