"""No blocking work on the event loop: every route that touches SQLite, the store, reports or templates
runs in the thread pool, so a live stream keeps delivering while a slow page is being rendered."""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from fastapi.dependencies.models import Dependant

from dashboard.app import api_routes
from dashboard.deps import authorize, current_principal, get_ctx
from dashboard.security import form_fields
from gateway.model import CommittedBatch, Reading
from gateway.store.base import SeriesInfo
from gateway.store.sqlite import SqliteStore
from tests.dashboard.helpers import Site, Stream, logged_in, served_site

#: ``async def`` endpoints allowed, and why each does nothing slow on the loop.
ASYNC_ENDPOINTS = {
    "/api/live": "the live stream itself; its session re-check uses run_in_threadpool",
    "/api/ping": "answers a constant",
    "/api/me": "reads the principal authorize already loaded",
    "/api/devices/{device_id}/readings": "computes through ResultCache.aget (run_in_threadpool, one query shared)",
}
#: ``async`` dependencies allowed: they only read the request or await its body, or hop to the thread pool.
ASYNC_DEPENDENCIES: set[Callable[..., Any]] = {get_ctx, current_principal, authorize, form_fields}


def _is_async(call: Any) -> bool:
    return any(inspect.iscoroutinefunction(f) or inspect.isasyncgenfunction(f)
               for f in (call, getattr(call, "__call__", None)))  # noqa: B004 (a callable object's __call__)


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for dep in dependant.dependencies:
        yield dep
        yield from _dependencies(dep)


def test_no_async_route_outside_the_allow_list(site: Site) -> None:
    routes = list(api_routes(site.app.routes))
    assert len(routes) > 50, "the walk must see every router's routes"
    bad = sorted(f"{sorted(r.methods)} {r.path}" for r in routes
                 if _is_async(r.endpoint) and r.path not in ASYNC_ENDPOINTS)
    assert not bad, f"async def handlers would run SQLite/report work on the event loop; make them plain def: {bad}"
    deps = {d.call for r in routes for d in _dependencies(r.dependant) if d.call is not None and _is_async(d.call)}
    assert deps <= ASYNC_DEPENDENCIES, f"async dependencies outside the allow-list: {deps - ASYNC_DEPENDENCIES}"
    own = [h for h in site.app.exception_handlers.values()
           if getattr(h, "__module__", "").startswith("dashboard") and _is_async(h)]
    assert [h.__name__ for h in own] == ["_login_required"], "exception handlers that render pages are plain def"
    # the allow-list names real routes (a renamed path must not leave a stale exemption behind)
    assert set(ASYNC_ENDPOINTS) <= {r.path for r in routes}


class GatedStore(SqliteStore):
    """A real SQLite store whose series listing, once armed, waits until the test opens the gate."""

    def __init__(self, path: Path | str) -> None:
        super().__init__(path)
        self.armed = False
        self.entered = threading.Event()
        self.opened = threading.Event()

    def series(self, device: str | None = None) -> list[SeriesInfo]:
        """Block (in whichever thread renders the page) while armed and not yet opened."""
        if self.armed:
            self.entered.set()
            self.opened.wait(30)
        return super().series(device)


def test_live_stream_delivers_while_a_slow_page_renders(tmp_path: Path) -> None:
    with served_site(tmp_path, store_class=GatedStore) as (site, server):
        store = site.store
        assert isinstance(store, GatedStore)
        kitchen, admin = logged_in(server.url, "li"), logged_in(server.url, "ada")
        stream = Stream(kitchen)
        stream.wait("hello")
        page: list[httpx.Response] = []
        store.armed = True
        slow = threading.Thread(target=lambda: page.append(admin.get("/cold")), daemon=True)
        try:
            slow.start()
            assert store.entered.wait(15), "the cold-storage page never reached the store"
            # the page is stuck in the store right now; a reading committed meanwhile still reaches the tablet
            now = site.clock.now()
            site.ctx.hub.on_batch(CommittedBatch(readings=(Reading(now, "fridge-1", "temperature", 3.5),)))
            assert stream.wait("reading", device="fridge-1")["value"] == 3.5
            assert not page, "the page answered before the store was let go"
        finally:
            store.opened.set()
        slow.join(15)
        assert page and page[0].status_code == 200
        assert "Kitchen fridge" in page[0].text
        kitchen.close()
        admin.close()
