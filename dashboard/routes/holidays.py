"""The holiday page: each holiday's duty roster and the meters' proof of the shutdown (use per meter, hours above
the allowance or the learned base load, the worst hour). Plain ``def`` handlers (store queries)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from dashboard.context import DashboardContext
from dashboard.deps import Ctx, Me
from dashboard.routes import duty_edit
from dashboard.routes.common import render_page
from gateway.inspections.duty import DutyRoster
from gateway.inspections.holiday_watch import HolidayWatch, MeterProof, holiday_periods

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
api = APIRouter(prefix="/api", tags=["inspections"])


def _watch(ctx: DashboardContext) -> HolidayWatch:
    s = ctx.services
    if s.store is None:
        raise HTTPException(503, "the time-series store is not available")
    return HolidayWatch(s.config, s.store, None, s.clock, roster=DutyRoster(s.config, s.events_db, s.clock))


def _period(w: HolidayWatch, first: str | None) -> tuple[list[tuple[date, date]], tuple[date, date] | None]:
    periods = holiday_periods(w.holidays)
    if first:
        try:
            d = date.fromisoformat(first)
        except ValueError:
            raise HTTPException(400, f"first {first!r}: write it as YYYY-MM-DD") from None
        chosen = next((p for p in periods if p[0] == d), None)
        if chosen is None:
            raise HTTPException(404, "no holiday starts that day")
        return periods, chosen
    today = datetime.fromtimestamp(w.clock.now(), w.tz).date()
    started = [p for p in periods if p[0] <= today]
    return periods, (started[-1] if started else (periods[0] if periods else None))


def _days(first: date, last: date) -> list[date]:
    return [date.fromordinal(n) for n in range(first.toordinal(), last.toordinal() + 1)]


@router.get("/holidays")
def holidays_page(request: Request, ctx: Ctx, me: Me, first: str | None = None) -> Response:
    """A holiday's duty roster and whether the meters prove the shutdown."""
    w = _watch(ctx)
    periods, chosen = _period(w, first)
    proof: list[MeterProof] = []
    roster: list[tuple[date, str | None]] = []
    if chosen is not None:
        proof = w.summary(chosen[0], chosen[1], w.clock.now())
        roster = [(d, w.on_duty(d)) for d in _days(*chosen)]
    return render_page(request, ctx, me, "holidays.html", page="holidays", periods=periods, chosen=chosen,
                       proof=proof, roster=roster)


class ProofOut(BaseModel):
    """One meter over a holiday."""

    device: str
    name: str
    metric: str
    unit: str
    used: float
    hours: int
    hours_over: int
    worst_at: float | None
    worst: float
    base_w: float | None


class HolidayOut(BaseModel):
    """A holiday, its duty roster and the meters' proof."""

    first: str
    last: str
    duty: dict[str, str | None]
    meters: list[ProofOut]


@api.get("/holidays")
def api_holidays(ctx: Ctx, me: Me, first: str | None = None) -> HolidayOut | None:
    """The current (or last, or given) holiday; null when the calendar has none."""
    w = _watch(ctx)
    _periods, chosen = _period(w, first)
    if chosen is None:
        return None
    return HolidayOut(first=chosen[0].isoformat(), last=chosen[1].isoformat(),
                      duty={d.isoformat(): w.on_duty(d) for d in _days(*chosen)},
                      meters=[ProofOut(**asdict(p)) for p in w.summary(chosen[0], chosen[1], w.clock.now())])


def wire(app: Any) -> None:
    """Include the page, the API and the duty roster editor."""
    app.include_router(router)
    app.include_router(api)
    duty_edit.wire(app)
