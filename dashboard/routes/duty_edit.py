"""The duty roster editor for admins (gateway/inspections): who is on duty each holiday day, saved as a whole new
version (append-only, with who and when) that replaces the config's roster. Plain ``def`` handlers (SQLite)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dashboard.context import DashboardContext, Principal
from dashboard.deps import Ctx, Form, Me, SavedQuery
from dashboard.routes.common import render_page
from dashboard.security import client_address
from gateway.calendar import parse_days
from gateway.i18n import tr
from gateway.inspections.duty import MAX_NAME, DutyRoster
from gateway.inspections.holiday_watch import holiday_periods

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
#: Form fields are ``duty_YYYY-MM-DD``.
PREFIX = "duty_"


def _roster(ctx: DashboardContext) -> DutyRoster:
    s = ctx.services
    return DutyRoster(s.config, s.events_db, s.clock)


def _holidays(ctx: DashboardContext) -> set[date]:
    return parse_days(ctx.services.config.calendar.holidays)


def _page(request: Request, ctx: DashboardContext, me: Principal, roster: DutyRoster, names: dict[date, str], *,
          status_code: int = 200, error: str = "", saved: bool = False) -> Response:
    holidays = _holidays(ctx)
    periods = [[date.fromordinal(n) for n in range(a.toordinal(), b.toordinal() + 1)]
               for a, b in holidays_with(holidays, names)]
    known = sorted({*ctx.services.config.inspections.holidays.duty_chains, *names.values()})
    today = datetime.fromtimestamp(ctx.services.clock.now(), ctx.services.config.site.tz).date()
    return render_page(request, ctx, me, "duty_edit.html", status_code=status_code, page="holidays",
                       periods=periods, names=names, known=known, today=today, error=error, saved=saved,
                       versions=roster.versions(), holidays=holidays)


def holidays_with(holidays: set[date], names: dict[date, str]) -> list[tuple[date, date]]:
    """The calendar's holiday periods, and days of the roster outside them (kept, so they can be emptied)."""
    return holiday_periods(holidays | set(names))


@router.get("/holidays/duty")
def duty_page(request: Request, ctx: Ctx, me: Me, saved: SavedQuery = 0) -> Response:
    """Every holiday day with who is on duty, as a form."""
    roster = _roster(ctx)
    return _page(request, ctx, me, roster, roster.current(), saved=bool(saved))


@router.post("/holidays/duty")
def duty_save(request: Request, ctx: Ctx, me: Me, form: Form) -> Response:
    """Save the roster as a new version; the form again with what to fix."""
    roster = _roster(ctx)
    loc = ctx.locale_of(me.user)
    current = roster.current()
    allowed = _holidays(ctx) | set(current)
    names = dict(current)
    problems: list[str] = []
    for key, value in form.items():
        if not key.startswith(PREFIX):
            continue
        who = str(value).strip()
        try:
            day = date.fromisoformat(key.removeprefix(PREFIX))
        except ValueError:
            problems.append(tr(loc, "{day} is not a date", day=key.removeprefix(PREFIX)[:20]))
            continue
        if day not in allowed:
            problems.append(tr(loc, "{day} is not a holiday in the school calendar", day=day.isoformat()))
            continue
        if len(who) > MAX_NAME:
            problems.append(tr(loc, "{day}: the name is too long (at most {n} characters)", day=day.isoformat(),
                               n=MAX_NAME))
        if who:
            names[day] = who
        else:
            names.pop(day, None)  # an emptied day: nobody on duty
    if problems:
        return _page(request, ctx, me, roster, names, status_code=400, error="; ".join(problems))
    saved = roster.save(names, me.user.label)
    ctx.audit.record(me.user.username, "duty_roster_saved", target="duty",
                     detail=f"{len(saved)} days", address=client_address(request))
    return RedirectResponse("/holidays/duty?saved=1", status_code=303)


def wire(app: Any) -> None:
    """Include the editor."""
    app.include_router(router)
