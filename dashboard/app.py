"""The app factory: ``create_app(services, settings)`` builds the FastAPI dashboard."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from urllib.parse import quote

from argon2 import PasswordHasher
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.routing import BaseRoute

from dashboard.body_limit import DEFAULT_LIMIT, BodyLimit
from dashboard.context import DashboardContext
from dashboard.deps import Forbidden, LoginRequired, authorize
from dashboard.routes import api, auth, checks, gate_work, holidays, inspections, ledger, ops, pages, reports
from dashboard.routes.common import render_page
from dashboard.security import SESSION_COOKIE, SecurityHeaders
from dashboard.services import DashboardServices
from dashboard.settings import DashboardSettings
from dashboard.templating import static_dir
from gateway.gate.visitors import MAX_PHOTO_BYTES

log = logging.getLogger(__name__)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    """Every endpoint route of an app or router, looking into included routers (any FastAPI version)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None)  # FastAPI >= 0.16x keeps included routers nested
        if inner is not None:
            yield from api_routes(inner.routes)


def create_app(services: DashboardServices, settings: DashboardSettings | None = None, *,
               hasher: PasswordHasher | None = None) -> FastAPI:
    """Build the dashboard on ``services`` (``dashboard.services.services_for`` takes them from a gateway).

    ``settings`` default to the config's ``[dashboard]``; ``hasher`` lets tests use cheaper argon2id
    parameters. Live updates are wired here: the app's LiveHub observes ingest and the alert service.
    """
    settings = settings or services.config.dashboard
    ctx = DashboardContext.build(services, settings, hasher)
    if services.add_batch_observer is not None:
        services.add_batch_observer(ctx.hub)
    if services.add_alert_listener is not None:
        services.add_alert_listener(ctx.hub.on_alert_change)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx.hub.bind(asyncio.get_running_loop())
        try:
            purged = ctx.sessions.purge_expired()
            if purged:
                log.info("dashboard: %d expired session(s) purged", purged)
        except Exception:
            log.exception("purging expired sessions failed")
        yield
        ctx.hub.close()

    app = FastAPI(
        title="Houqin dashboard API",
        version="1",
        docs_url=None,  # the Swagger UI loads assets from a CDN; the Pi may be offline
        redoc_url=None,
        openapi_url=None,  # served at /api/openapi.json behind the login instead
        lifespan=lifespan,
        dependencies=[Depends(authorize)],
    )
    app.state.ctx = ctx
    # bodies bounded while read, on every route (a visitor's photo travels base64 in JSON: 4/3 of its size)
    # and so does a checklist's, hazard's or repair's photo (a checklist may carry one per item: room for a few)
    photo = services.config.inspections.max_photo_kb * 1024 * 4 // 3 + DEFAULT_LIMIT
    app.add_middleware(BodyLimit, limits={"/api/gate/visitors": MAX_PHOTO_BYTES * 4 // 3 + DEFAULT_LIMIT,
                                          "/api/checks": 4 * photo, "/api/hazards": photo, "/api/repairs": photo})
    app.add_middleware(SecurityHeaders, hsts=settings.tls)  # added last: outermost, so a 413 has the headers too
    app.mount("/static", StaticFiles(directory=static_dir()), name="static")
    for module in (auth, pages, api, ops):
        app.include_router(module.router)
    app.include_router(reports.router)  # reports pages (gateway/reports)
    app.include_router(reports.api)
    app.include_router(gate_work.router)  # the gate guard's desk, roll call, patrols, handover (gateway/gate)
    app.include_router(gate_work.api)
    gate_work.wire(app, ctx)
    inspections.wire(app)  # disinfection record (gateway/inspections)
    checks.wire(app)  # checklists (gateway/inspections)
    ledger.wire(app)  # hazard ledger and repairs (gateway/inspections)
    holidays.wire(app)  # holiday shutdown proof and duty roster (gateway/inspections)

    @app.exception_handler(RequestValidationError)
    def _invalid(request: Request, exc: RequestValidationError) -> Response:
        # without the input: NaN cannot be written as JSON (a 500), and the client knows what it sent
        errors = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
                  for e in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        if _wants_json(request) or request.method != "GET":
            resp: Response = JSONResponse({"detail": "login required"}, status_code=401)
        else:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            resp = RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        if request.cookies.get(SESSION_COOKIE):
            resp.delete_cookie(SESSION_COOKIE, path="/")
        return resp

    @app.exception_handler(Forbidden)  # plain def: Starlette runs it in the thread pool (it renders a page)
    def _forbidden(request: Request, exc: Forbidden) -> Response:
        log.info("dashboard: refused %s %s: %s", request.method, request.url.path, exc.reason)
        if _wants_json(request):
            return JSONResponse({"detail": exc.reason}, status_code=403)
        me = getattr(request.state, "principal", None)
        return render_page(request, ctx, me, "error.html", status_code=403, page="", error="forbidden",
                           reason=exc.reason)

    return app
