"""The district service's web app, assembled from the dashboard's parts: its accounts, sessions, CSRF checks,
login throttling, security headers, templates and catalogs, with the district's roles and pages."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from datetime import datetime
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from dashboard.body_limit import BodyLimit
from dashboard.context import DashboardContext
from dashboard.deps import Ctx, Forbidden, LoginRequired, Me, authorize
from dashboard.routes import auth
from dashboard.routes.common import render_page
from dashboard.security import SESSION_COOKIE, SecurityHeaders
from dashboard.services import DashboardServices
from dashboard.templating import static_dir
from district import roles
from district.alert_log import AlertLog
from district.board import SiteBoard
from district.central_store import CentralStore
from district.cold_chain import ColdRow, cold_chain, site_alerts
from district.overview import SEVERITIES, SiteRow, rows
from district.saving import SavingRow, saving
from gateway.clock import Clock
from gateway.config import Config, parse_config
from gateway.district_settings import DistrictSettings
from gateway.errors import HouqinError
from gateway.eventsdb import EventsDB
from gateway.gate.service import Gate
from gateway.reports.weekly import Week, parse_week, week_containing

log = logging.getLogger(__name__)

#: The central store is asked for the last readings at most this often (500 sites, 20 screens: one query).
READINGS_EVERY_S = 15.0
#: How far back the last reading is looked for.
READINGS_WINDOW_S = 7 * 86400.0


def district_site_config(settings: DistrictSettings) -> Config:
    """The stand-in site config the dashboard's parts read the name, time zone, language and data folder from."""
    return parse_config({"site": {"id": "district", "name": settings.name, "timezone": settings.timezone,
                                  "locale": settings.locale},
                         "storage": {"dir": settings.data_dir},
                         "dashboard": settings.web.model_dump(mode="json")}, "district.toml")


class DistrictView:
    """The Overview's data: the board's states and the store's last readings (cached a little)."""

    def __init__(self, settings: DistrictSettings, board: SiteBoard, store: CentralStore | None, clock: Clock,
                 alerts: AlertLog) -> None:
        self.settings = settings
        self.board = board
        self.store = store
        #: Every alert heard of (the cold chain's alerts not acknowledged in time).
        self.alerts = alerts
        self.clock = clock
        self._lock = threading.Lock()
        self._readings: dict[str, float] = {}
        self._readings_at = float("-inf")
        #: The central store's last failure, shown on the page until a query succeeds.
        self.store_error = ""
        self._rows_key: tuple[int, float, int] | None = None
        self._rows: list[SiteRow] = []
        self._json: bytes = b""

    def calendars(self) -> dict[str, dict[str, Any] | None]:
        """Site -> the calendar (opening hours, holidays, time zone) it sent in its status."""
        return {k: v.calendar for k, v in self.board.snapshot().items()}

    def last_readings(self) -> dict[str, float]:
        """Site -> newest reading, from the store at most every ``READINGS_EVERY_S``."""
        now = self.clock.now()
        with self._lock:
            if self.store is not None and now - self._readings_at >= READINGS_EVERY_S:
                try:
                    self._readings = self.store.last_readings(now - READINGS_WINDOW_S, now)
                    self.store_error = ""
                except HouqinError as e:
                    log.warning("district: %s", e)
                    self.store_error = str(e)
                self._readings_at = now
            return dict(self._readings)

    def rows(self) -> list[SiteRow]:
        """The Overview's rows, what needs a call first; built again when the board or the readings changed, or
        a second later (20 screens polling 500 sites share one sort)."""
        return self._current()[0]

    def overview_json(self) -> bytes:
        """``/api/overview``'s body, serialised once per version of the rows."""
        return self._current()[1]

    def _current(self) -> tuple[list[SiteRow], bytes]:
        readings = self.last_readings()
        now = self.clock.now()
        with self._lock:
            key = (self.board.version, self._readings_at, int(now))
            if key != self._rows_key:
                self._rows = rows(self.settings, self.board.snapshot(), readings, now)
                self._json = json.dumps({"sites": [r.doc() for r in self._rows], "store_error": self.store_error},
                                        ensure_ascii=False, separators=(",", ":")).encode()
                self._rows_key = key
            return self._rows, self._json


def _templates_dir() -> str:
    return str(resources.files("district") / "templates")


def _static_dir() -> str:
    return str(resources.files("district") / "static")


def create_district_app(settings: DistrictSettings, view: DistrictView, events_db: EventsDB, *,
                        hasher: PasswordHasher | None = None) -> FastAPI:
    """Build the district service on ``view`` (board and store) with users in ``events_db``."""
    config = district_site_config(settings)
    clock = view.clock
    services = DashboardServices(config=config, events_db=events_db, clock=clock, gate=Gate(config, events_db, clock))
    ctx = DashboardContext.build(services, settings.web, hasher, roles=roles.ROLES, admin_role=roles.ADMIN,
                                 template_dirs=(_templates_dir(),))
    ctx.allowed = roles.allowed
    ctx.nav = roles.nav_for

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx.hub.bind(asyncio.get_running_loop())
        ctx.sessions.purge_expired()
        yield
        ctx.hub.close()

    app = FastAPI(title="Houqin district", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan,
                  dependencies=[Depends(authorize)])
    app.state.ctx = ctx
    app.state.view = view
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders, hsts=settings.web.tls)
    app.mount("/static/district", StaticFiles(directory=_static_dir()), name="district-static")
    app.mount("/static", StaticFiles(directory=static_dir()), name="static")
    app.include_router(auth.router)
    app.include_router(router)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        if request.url.path.startswith("/api/") or request.url.path == "/sites" or request.method != "GET":
            resp: Response = JSONResponse({"detail": "login required"}, status_code=401)
        else:
            resp = RedirectResponse("/login", status_code=303)
        if request.cookies.get(SESSION_COOKIE):
            resp.delete_cookie(SESSION_COOKIE, path="/")
        return resp

    @app.exception_handler(Forbidden)
    def _forbidden(request: Request, exc: Forbidden) -> Response:
        log.info("district: refused %s %s: %s", request.method, request.url.path, exc.reason)
        return JSONResponse({"detail": exc.reason}, status_code=403)

    return app


router = APIRouter(include_in_schema=False)


def _view(request: Request) -> DistrictView:
    view: DistrictView = request.app.state.view
    return view


def _page_data(view: DistrictView) -> dict[str, Any]:
    site_rows = view.rows()
    return {"rows": site_rows, "severities": SEVERITIES, "store_error": view.store_error,
            "calls": sum(1 for r in site_rows if r.urgency <= 1)}


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, ctx: Ctx, me: Me) -> Response:
    """Every site on one screen, what needs a phone call first; ``district.js`` refreshes the table."""
    return render_page(request, ctx, me, "district_overview.html", page="district", **_page_data(_view(request)))


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, ctx: Ctx, me: Me) -> Response:
    """The user's language and password (the dashboard's page; its forms post to the dashboard's auth routes)."""
    return render_page(request, ctx, me, "account.html", page="account", error="")


@router.get("/sites", response_class=HTMLResponse)
def sites_fragment(request: Request, ctx: Ctx, me: Me) -> Response:
    """The Overview's table alone, for the page's live refresh."""
    return render_page(request, ctx, me, "_district_sites.html", **_page_data(_view(request)))


def _week(view: DistrictView, week: str | None) -> Week:
    tz = ZoneInfo(view.settings.timezone)
    if week:
        try:
            return parse_week(week, tz)
        except ValueError as e:
            raise HTTPException(422, str(e)) from None
    return week_containing(datetime.fromtimestamp(view.clock.now(), tz).date(), tz)


def cold_rows(view: DistrictView, week: Week) -> list[ColdRow]:
    """The cold-chain table of ``week`` (up to now), with the alerts the district heard of."""
    if view.store is None:
        return []
    end = min(week.end, view.clock.now())
    return cold_chain(view.settings, view.store, week.start, end, view.alerts.opened(week.start, end))


@router.get("/cold", response_class=HTMLResponse)
def cold_page(request: Request, ctx: Ctx, me: Me, week: str | None = None) -> Response:
    """Per site, this week (or ``?week=2026-W49``): each cold appliance's share of time in range, its excursions."""
    view = _view(request)
    w = _week(view, week)
    try:
        rows, error = cold_rows(view, w), ""
    except HouqinError as e:
        rows, error = [], str(e)
    return render_page(request, ctx, me, "district_cold.html", page="district-cold", week=w, rows=rows,
                       sites=site_alerts(view.settings, rows),
                       store_missing=view.store is None, store_error=error, prev=w.shifted(-1).label,
                       next=w.shifted(1).label if w.end <= view.clock.now() else "")


@router.get("/api/cold")
def api_cold(request: Request, week: str | None = None) -> dict[str, Any]:
    """The cold-chain table as JSON."""
    view = _view(request)
    w = _week(view, week)
    try:
        rows = cold_rows(view, w)
        return {"week": w.label, "appliances": [asdict(r) for r in rows],
                "sites": [asdict(s) for s in site_alerts(view.settings, rows)]}
    except HouqinError as e:
        raise HTTPException(503, str(e)) from None


def saving_rows(view: DistrictView, week: Week) -> list[SavingRow]:
    """The saving table of ``week`` (up to now), with the sites' own calendars."""
    if view.store is None:
        return []
    return saving(view.settings, view.store, week, view.clock.now(), view.calendars())


@router.get("/saving", response_class=HTMLResponse)
def saving_page(request: Request, ctx: Ctx, me: Me, week: str | None = None) -> Response:
    """Per site, this week (or ``?week=``): water per child and school day, electricity per m² and per child, ranked."""
    view = _view(request)
    w = _week(view, week)
    try:
        rows, error = saving_rows(view, w), ""
    except HouqinError as e:
        rows, error = [], str(e)
    return render_page(request, ctx, me, "district_saving.html", page="district-saving", week=w, rows=rows,
                       term=view.settings.term.start,
                       store_missing=view.store is None, store_error=error, prev=w.shifted(-1).label,
                       next=w.shifted(1).label if w.end <= view.clock.now() else "")


@router.get("/api/saving")
def api_saving(request: Request, week: str | None = None) -> dict[str, Any]:
    """The saving table as JSON."""
    view = _view(request)
    w = _week(view, week)
    if view.store is None:
        return {"week": w.label, "sites": []}
    try:
        return {"week": w.label, "sites": [asdict(r) for r in saving_rows(view, w)]}
    except HouqinError as e:
        raise HTTPException(503, str(e)) from None


@router.get("/api/overview")
def api_overview(request: Request) -> Response:
    """The Overview as JSON: every site, what needs a phone call first."""
    return Response(_view(request).overview_json(), media_type="application/json")
