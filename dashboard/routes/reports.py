"""Report pages and API: the weekly utility report, the cold-storage sheet (day and month, corrections)
and the food-sample ledger with its phone-friendly registration form. Each page has a printable A4
version without navigation (``/print``) and a CSV export; the data comes from ``gateway.reports``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, Field

from dashboard import api_models
from dashboard.deps import Ctx, Form, Me, RowId, RowIdQuery
from dashboard.routes.common import render_page
from dashboard.security import client_address
from gateway.i18n import gettext
from gateway.reports.render import Renderer, field_label, samples_csv, sheet_csv, stylesheet, weekly_csv
from gateway.reports.samples import SampleError
from gateway.reports.service import Reports
from gateway.reports.sheet import SheetError, correctable
from gateway.reports.weekly import Week, last_full_week, parse_week

# GET handlers are plain functions: FastAPI runs them in its thread pool, so building a report (store
# queries, rendering) never blocks the event loop that serves live updates.
router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
api = APIRouter(prefix="/api", tags=["reports"])

#: Dish rows on the sample form.
DISH_ROWS = 6


def _reports(ctx: Any) -> Reports:
    s = ctx.services
    return Reports(s.config, s.store, s.events_db, s.clock)


def _locale(ctx: Any, me: Any) -> str:
    return str(ctx.locale_of(me.user))


def _renderer(reports: Reports, ctx: Any, me: Any) -> Renderer:
    return reports.renderer(_locale(ctx, me))


def _week(reports: Reports, text: str | None) -> Week:
    if not text:
        return last_full_week(reports.clock.now(), reports.tz)
    try:
        week = parse_week(text, reports.tz)
    except ValueError as e:
        raise HTTPException(400, str(e)) from None
    if week.start > reports.clock.now():
        raise HTTPException(400, f"week {week.label} has not begun yet; choose this week or an earlier one")
    return week


def _day(reports: Reports, text: str | None) -> date:
    if not text:
        return reports.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise HTTPException(400, f"day {text!r}: write it as YYYY-MM-DD") from None


def _month(reports: Reports, text: str | None) -> tuple[int, int]:
    if not text:
        t = reports.today()
        return t.year, t.month
    try:
        y, m = (int(x) for x in text.split("-"))
        date(y, m, 1)
    except ValueError:
        raise HTTPException(400, f"month {text!r}: write it as YYYY-MM") from None
    return y, m


def _csv(text: str, name: str) -> Response:
    return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _no_store(reports: Reports) -> None:
    if reports.store is None:
        raise HTTPException(503, "the time-series store is not available")


@router.get("/reports/reports.css")
def css() -> Response:
    """The stylesheet of report pages and printable reports."""
    return PlainTextResponse(stylesheet(), media_type="text/css; charset=utf-8")


# -- weekly utility report -----------------------------------------------------------------------------
@router.get("/reports/weekly")
def weekly_page(request: Request, ctx: Ctx, me: Me, week: str | None = None) -> Response:
    """The weekly utility report with week navigation, print and CSV links."""
    reports = _reports(ctx)
    _no_store(reports)
    w = _week(reports, week)
    report = reports.weekly(w, _locale(ctx, me))
    body, _ = _renderer(reports, ctx, me).weekly_fragment(report, "svg")
    return render_page(request, ctx, me, "reports_page.html", page="reports", body=Markup(body),
                       kind="weekly", prev=w.shifted(-1).label, next=w.shifted(1).label, current=w.label,
                       print_url=f"/reports/weekly/print?week={w.label}", csv_url=f"/reports/weekly.csv?week={w.label}")


@router.get("/reports/weekly/print")
def weekly_print(ctx: Ctx, me: Me, week: str | None = None) -> Response:
    """The printable weekly report (A4, no navigation)."""
    reports = _reports(ctx)
    _no_store(reports)
    report = reports.weekly(_week(reports, week), _locale(ctx, me))
    return HTMLResponse(_renderer(reports, ctx, me).weekly_html(report, css="link"))


@router.get("/reports/weekly.csv")
def weekly_csv_export(ctx: Ctx, me: Me, week: str | None = None) -> Response:
    """The weekly report as CSV."""
    reports = _reports(ctx)
    _no_store(reports)
    # the export follows the site's language, findings included (it is filed, not read by one user)
    report = reports.weekly(_week(reports, week), reports.locale)
    return _csv(weekly_csv(report, reports.locale), f"weekly-{report.week.label}.csv")


# -- cold-storage sheet ----------------------------------------------------------------------------------
@router.get("/cold/sheet")
def sheet_page(request: Request, ctx: Ctx, me: Me, day: str | None = None, error: str = "") -> Response:
    """One day's cold-storage sheet, with a correction form per line."""
    reports = _reports(ctx)
    _no_store(reports)
    d = _day(reports, day)
    lines = reports.sheet_day(d)
    checks = reports.config.reports.sheet.check_labels
    body = _renderer(reports, ctx, me).sheet_fragment(lines, d, checks)
    return render_page(request, ctx, me, "reports_page.html", page="sheet", body=Markup(body), kind="sheet",
                       prev=date.fromordinal(d.toordinal() - 1).isoformat(),
                       next=date.fromordinal(d.toordinal() + 1).isoformat(), current=d.isoformat(),
                       print_url=f"/cold/sheet/print?day={d.isoformat()}",
                       csv_url=f"/cold/sheet.csv?day={d.isoformat()}",
                       month_url=f"/cold/sheet/month?month={d.year}-{d.month:02d}", lines=lines,
                       fields=[(f, field_label(f, _locale(ctx, me))) for f in correctable(checks)],
                       can_correct=me.user.role in ("admin", "kitchen"), error=error)


@router.get("/cold/sheet/print")
def sheet_print(ctx: Ctx, me: Me, day: str | None = None) -> Response:
    """The printable day sheet."""
    reports = _reports(ctx)
    _no_store(reports)
    d = _day(reports, day)
    checks = reports.config.reports.sheet.check_labels
    return HTMLResponse(_renderer(reports, ctx, me).sheet_html(reports.sheet_day(d), d, checks, css="link"))


@router.get("/cold/sheet/month")
def sheet_month_page(request: Request, ctx: Ctx, me: Me, month: str | None = None) -> Response:
    """A month of sheets."""
    reports = _reports(ctx)
    _no_store(reports)
    y, m = _month(reports, month)
    checks = reports.config.reports.sheet.check_labels
    body = _renderer(reports, ctx, me).sheet_month_fragment(reports.sheet_month(y, m), y, m, checks)
    prev_m = f"{y - 1}-12" if m == 1 else f"{y}-{m - 1:02d}"
    next_m = f"{y + 1}-01" if m == 12 else f"{y}-{m + 1:02d}"
    return render_page(request, ctx, me, "reports_page.html", page="sheet", body=Markup(body), kind="sheet_month",
                       prev=prev_m, next=next_m, current=f"{y}-{m:02d}",
                       print_url=f"/cold/sheet/month/print?month={y}-{m:02d}",
                       csv_url=f"/cold/sheet.csv?month={y}-{m:02d}")


@router.get("/cold/sheet/month/print")
def sheet_month_print(ctx: Ctx, me: Me, month: str | None = None) -> Response:
    """The printable month of sheets."""
    reports = _reports(ctx)
    _no_store(reports)
    y, m = _month(reports, month)
    checks = reports.config.reports.sheet.check_labels
    return HTMLResponse(_renderer(reports, ctx, me).sheet_month_html(reports.sheet_month(y, m), y, m, checks,
                                                                     css="link"))


@router.get("/cold/sheet.csv")
def sheet_csv_export(ctx: Ctx, me: Me, day: str | None = None, month: str | None = None) -> Response:
    """A day's or a month's sheet as CSV."""
    reports = _reports(ctx)
    _no_store(reports)
    checks = reports.config.reports.sheet.check_labels
    if month:
        y, m = _month(reports, month)
        return _csv(sheet_csv(reports.sheet_month(y, m), reports.tz, checks, reports.locale),
                    f"cold-sheet-{y}-{m:02d}.csv")
    d = _day(reports, day)
    # An export follows the site's language (issue 12), whoever downloads it.
    return _csv(sheet_csv(reports.sheet_day(d), reports.tz, checks, reports.locale), f"cold-sheet-{d.isoformat()}.csv")


@router.post("/cold/sheet/corrections")
def sheet_correct(request: Request, ctx: Ctx, me: Me, form: Form) -> Response:
    """Record a correction of a sheet line (who = the logged-in user, why = the reason given)."""
    reports = _reports(ctx)
    _no_store(reports)
    d = _day(reports, form.get("day"))
    assert reports.sheet is not None
    try:
        c = reports.sheet.correct(form.get("device", ""), d, form.get("field", ""), form.get("value", ""),
                                  form.get("reason", ""), me.user.label)
    except SheetError as e:
        said = gettext(_locale(ctx, me), str(e))  # the kitchen reads the reason in its language
        return RedirectResponse(f"/cold/sheet?day={d.isoformat()}&error={_q(said)}", status_code=303)
    ctx.audit.record(me.user.username, "sheet_correction", target=f"{c.device} {c.day}",
                     detail=f"{c.field}={c.value}: {c.reason}", address=client_address(request))
    return RedirectResponse(f"/cold/sheet?day={d.isoformat()}", status_code=303)


def _q(text: str) -> str:
    from urllib.parse import quote

    return quote(text[:300], safe="")


# -- food-sample ledger ----------------------------------------------------------------------------------
def _samples_page(request: Request, ctx: Any, me: Any, reports: Reports, y: int, m: int, *, status_code: int = 200,
                  error: str = "", warnings: list[str] | None = None, form: dict[str, str] | None = None,
                  registered: int | None = None) -> Response:
    samples, verdicts = reports.samples_month(y, m, _locale(ctx, me))
    now = reports.clock.now()
    fridges = dict(reports.ledger.fridges())
    s = reports.config.reports.samples
    body = _renderer(reports, ctx, me).samples_fragment(samples, verdicts, y, m, now, s.min_grams, fridges)
    prev_m = f"{y - 1}-12" if m == 1 else f"{y}-{m - 1:02d}"
    next_m = f"{y + 1}-01" if m == 12 else f"{y}-{m + 1:02d}"
    due = [x for x in reports.ledger.open() if now >= x.due_at]
    return render_page(request, ctx, me, "reports_samples.html", status_code=status_code, page="samples",
                       body=Markup(body), prev=prev_m, next=next_m, current=f"{y}-{m:02d}",
                       print_url=f"/samples/print?month={y}-{m:02d}", csv_url=f"/samples.csv?month={y}-{m:02d}",
                       fridges=reports.ledger.fridges(), meals=s.meals, min_grams=s.min_grams, rows=DISH_ROWS,
                       today=reports.today().isoformat(), error=error, warnings=warnings or [], form=form or {},
                       registered=registered, due=due,
                       can_write=me.user.role in ("admin", "kitchen"), staff_default=me.user.label)


@router.get("/samples")
def samples_page(request: Request, ctx: Ctx, me: Me, month: str | None = None,
                       registered: RowIdQuery = None) -> Response:
    """The ledger of a month, samples due for discarding, and the registration form."""
    reports = _reports(ctx)
    y, m = _month(reports, month)
    warnings: list[str] = []
    if registered is not None:
        try:
            warnings = reports.ledger.warnings(reports.ledger.get(registered), _locale(ctx, me))
        except SampleError:
            registered = None
    return _samples_page(request, ctx, me, reports, y, m, warnings=warnings, registered=registered)


@router.get("/samples/print")
def samples_print(ctx: Ctx, me: Me, month: str | None = None) -> Response:
    """The printable ledger of a month."""
    reports = _reports(ctx)
    y, m = _month(reports, month)
    samples, verdicts = reports.samples_month(y, m, _locale(ctx, me))
    s = reports.config.reports.samples
    return HTMLResponse(_renderer(reports, ctx, me).samples_html(
        samples, verdicts, y, m, reports.clock.now(), s.min_grams, dict(reports.ledger.fridges()), css="link"))


@router.get("/samples.csv")
def samples_csv_export(ctx: Ctx, me: Me, month: str | None = None) -> Response:
    """The ledger of a month as CSV."""
    reports = _reports(ctx)
    y, m = _month(reports, month)
    people = {u.username: u.label for u in ctx.accounts.list()}
    # the export follows the site's language, as the sheet's does (it is filed, not read by one user)
    samples, verdicts = reports.samples_month(y, m, reports.locale)
    text = samples_csv(samples, verdicts, reports.tz, reports.clock.now(), reports.locale,
                       dict(reports.ledger.fridges()), people)
    return _csv(text, f"samples-{y}-{m:02d}.csv")


@router.post("/samples")
def samples_register(request: Request, ctx: Ctx, me: Me, form: Form) -> Response:
    """Register a meal's samples from the form; warnings (under 125 g, a past meal date) are shown after saving."""
    reports = _reports(ctx)
    dishes = [(form.get(f"dish_{i}", ""), form.get(f"grams_{i}", "")) for i in range(1, DISH_ROWS + 1)]
    try:
        sample, _ = reports.ledger.register(form.get("meal_date", ""), form.get("meal", ""),
                                            [d for d in dishes if d[0].strip() or d[1].strip()],
                                            form.get("fridge", ""), form.get("staff", ""), by=me.user.username,
                                            locale=_locale(ctx, me))
    except SampleError as e:
        y, m = _month(reports, None)
        return _samples_page(request, ctx, me, reports, y, m, status_code=400, error=str(e), form=form)
    ctx.audit.record(me.user.username, "sample_registered", target=str(sample.id),
                     detail=f"{sample.meal_date} {sample.meal} {sample.fridge}", address=client_address(request))
    # the month it is kept in (a past meal date still shows there too)
    kept = datetime.fromtimestamp(sample.taken_at, reports.tz)
    return RedirectResponse(f"/samples?month={kept:%Y-%m}&registered={sample.id}", status_code=303)


@router.post("/samples/{sample_id}/discard")
def samples_discard(request: Request, ctx: Ctx, me: Me, sample_id: RowId, form: Form) -> Response:
    """Record that the logged-in user discarded the sample now."""
    reports = _reports(ctx)
    try:
        s = reports.ledger.discard(sample_id, form.get("by", "").strip() or me.user.label, form.get("note", ""),
                                   _locale(ctx, me))
    except SampleError as e:
        y, m = _month(reports, None)
        return _samples_page(request, ctx, me, reports, y, m, status_code=409, error=str(e))
    ctx.audit.record(me.user.username, "sample_discarded", target=str(sample_id), address=client_address(request))
    return RedirectResponse(f"/samples?month={s.meal_date:%Y-%m}", status_code=303)


# -- JSON API --------------------------------------------------------------------------------------------
class SampleBody(BaseModel):
    """Register a meal's samples."""

    model_config = ConfigDict(allow_inf_nan=False)
    meal_date: str = Field(description="local date, YYYY-MM-DD")
    meal: str
    dishes: list[tuple[str, float]] = Field(min_length=1, description="[name, grams] pairs")
    fridge: str
    staff: str


class DiscardBody(BaseModel):
    """Who discarded a sample (default: the logged-in user)."""

    by: str = ""
    note: str = Field(default="", max_length=500)


@api.get("/reports/weekly", response_model=api_models.WeeklyOut)
def api_weekly(ctx: Ctx, me: Me, week: str | None = None) -> dict[str, Any]:
    """The weekly utility report's numbers and findings."""
    reports = _reports(ctx)
    _no_store(reports)
    r = reports.weekly(_week(reports, week), _locale(ctx, me))
    return {
        "week": r.week.label, "start": r.week.start, "end": r.week.end, "currency": r.currency,
        "total_cost": r.total_cost,
        "findings": [{"kind": f.kind, "device": f.device, "money": f.money, "risk": f.risk, "text": f.text}
                     for f in r.findings],
        "meters": [{"device": m.device, "name": m.name, "unit": m.unit, "total": m.total, "cost": m.cost,
                    "last_week": m.last_week, "avg_4w": m.avg_4w, "vs_last_pct": m.vs_last_pct,
                    "vs_avg_pct": m.vs_avg_pct, "closed_units": m.closed_units, "closed_cost": m.closed_cost,
                    "baseline_unit": m.baseline_unit, "baseline_avg": m.baseline_avg,
                    "baseline_prev": m.baseline_prev, "baseline_slope": m.baseline_slope, "hourly": m.hourly,
                    "days": [{"day": d.day.isoformat(), "units": d.units, "cost": d.cost, "open": d.open,
                              "closed_units": d.closed_units, "night_baseline": d.night_baseline} for d in m.days]}
                   for m in r.meters],
    }


@api.get("/reports/sheet", response_model=api_models.SheetOut, response_model_exclude_unset=True)
def api_sheet(ctx: Ctx, me: Me, day: str | None = None, month: str | None = None) -> dict[str, Any]:
    """A day's (or a month's) cold-storage sheet lines."""
    reports = _reports(ctx)
    _no_store(reports)
    if month:
        y, m = _month(reports, month)
        return {"month": f"{y}-{m:02d}", "lines": [x.as_dict() for x in reports.sheet_month(y, m)]}
    d = _day(reports, day)
    return {"day": d.isoformat(), "lines": [x.as_dict() for x in reports.sheet_day(d)]}


@api.get("/samples", response_model=api_models.SamplesOut)
def api_samples(ctx: Ctx, me: Me, month: str | None = None) -> dict[str, Any]:
    """A month's samples with status and verdict."""
    reports = _reports(ctx)
    y, m = _month(reports, month)
    samples, verdicts = reports.samples_month(y, m, _locale(ctx, me))
    now = reports.clock.now()
    return {"month": f"{y}-{m:02d}", "samples": [
        {**s.as_dict(now), "kept_ok": verdicts[s.id][0], "verdict": verdicts[s.id][1]} for s in samples]}


@api.post("/samples", status_code=201, response_model=api_models.SampleRegistered)
def api_register(request: Request, ctx: Ctx, me: Me, body: SampleBody) -> dict[str, Any]:
    """Register samples; answers the sample and warnings (e.g. a dish under 125 g)."""
    reports = _reports(ctx)
    try:
        s, warnings = reports.ledger.register(body.meal_date, body.meal, list(body.dishes), body.fridge, body.staff,
                                              by=me.user.username, locale=_locale(ctx, me))
    except SampleError as e:
        raise HTTPException(422, str(e)) from None
    ctx.audit.record(me.user.username, "sample_registered", target=str(s.id),
                     detail=f"{s.meal_date} {s.meal} {s.fridge}", address=client_address(request))
    return {"sample": s.as_dict(reports.clock.now()), "warnings": warnings}


@api.post("/samples/{sample_id}/discard", response_model=api_models.SampleDiscarded)
def api_discard(request: Request, ctx: Ctx, me: Me, sample_id: RowId, body: DiscardBody) -> dict[str, Any]:
    """Record who discarded the sample, now."""
    reports = _reports(ctx)
    try:
        s = reports.ledger.discard(sample_id, body.by.strip() or me.user.label, body.note, _locale(ctx, me))
    except SampleError as e:
        raise HTTPException(409, str(e)) from None
    ctx.audit.record(me.user.username, "sample_discarded", target=str(sample_id), address=client_address(request))
    return {"sample": s.as_dict(reports.clock.now())}
