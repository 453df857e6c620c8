"""Helpers for dashboard tests: a site on real SQLite files, logging in through the real form."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from argon2 import PasswordHasher
from fastapi import FastAPI

from dashboard.app import create_app
from dashboard.context import DashboardContext
from dashboard.server import DashboardServer
from dashboard.services import DashboardServices
from dashboard.settings import DashboardSettings
from gateway.alerts import AlertService, AlertStore
from gateway.alerts.store import OpenRequest
from gateway.clock import ManualClock
from gateway.config import Config, parse_config
from gateway.eventsdb import EventsDB
from gateway.gate.service import Gate
from gateway.store.base import TimeSeriesStore
from gateway.store.sqlite import SqliteStore
from tests.waiting import COMMIT_WINDOW

PASSWORD = "correct horse battery"
ROLE_USERS = {"admin": "ada", "guard": "wang", "kitchen": "li", "facilities": "zhao", "viewer": "yuan"}
DEVICES: list[dict[str, Any]] = [
    {"id": "fridge-1", "kind": "fridge", "name": "Kitchen fridge"},
    {"id": "freezer-1", "kind": "freezer", "name": "Freezer"},
    {"id": "gate", "kind": "gate", "name": "Main gate"},
    {"id": "reader", "kind": "card_reader"},
    {"id": "water", "kind": "water_meter", "name": "Water main"},
    {"id": "power", "kind": "power_meter"},
]


def cheap_hasher() -> PasswordHasher:
    """argon2id with small parameters so tests stay quick (production uses the library's defaults)."""
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@dataclass
class Site:
    """A dashboard on real SQLite files with a manual clock."""

    config: Config
    db: EventsDB
    store: SqliteStore
    clock: ManualClock
    alerts: AlertService
    services: DashboardServices
    app: FastAPI

    @property
    def ctx(self) -> DashboardContext:
        ctx: DashboardContext = self.app.state.ctx
        return ctx

    def open_alert(self, device: str, rule: str = "too-warm", severity: str = "major", detail: str = "8.9 °C") -> int:
        req = OpenRequest(rule=rule, device=device, kind="threshold", severity=severity, chain=None,
                          metric="temperature", value=8.9, detail=detail, since=self.clock.now())
        return self.alerts.raise_alert(req).id

    def close(self) -> None:
        """Close the store and the events DB."""
        self.store.close()
        self.db.close()


def dashboard_services(cfg: Config, db: EventsDB, clock: ManualClock, store: TimeSeriesStore, alerts: AlertService,
                       **hooks: Any) -> DashboardServices:
    """Services on these parts, with the gate the gateway would build on them."""
    return DashboardServices(cfg, db, clock, store, alerts, gate=Gate(cfg, db, clock, alerts=alerts, store=store),
                             **hooks)


def make_config(tmp_path: Path, devices: list[dict[str, Any]] | None = None, **dashboard: Any) -> Config:
    return parse_config({
        "site": {"id": "kg", "name": "Sunshine KG", "locale": "en"},
        "storage": {"dir": str(tmp_path / "data"), "commit_interval": COMMIT_WINDOW},
        "dashboard": {"bind": "127.0.0.1", "port": 0, **dashboard},
        "devices": DEVICES if devices is None else devices,
    })


def make_site(tmp_path: Path, *, devices: list[dict[str, Any]] | None = None, users: bool = True,
              settings: DashboardSettings | None = None, store_class: type[SqliteStore] = SqliteStore,
              **dashboard: Any) -> Site:
    cfg = make_config(tmp_path, devices, **dashboard)
    (tmp_path / "data").mkdir(parents=True, exist_ok=True)
    db = EventsDB(tmp_path / "data" / "events.db")
    store = store_class(tmp_path / "data" / "timeseries.db")
    clock = ManualClock(1_790_000_000.0)
    alerts = AlertService(AlertStore(db), clock)
    services = dashboard_services(cfg, db, clock, store, alerts, add_alert_listener=alerts.add_listener)
    app = create_app(services, settings or cfg.dashboard, hasher=cheap_hasher())
    site = Site(cfg, db, store, clock, alerts, services, app)
    if users:
        for role, name in ROLE_USERS.items():
            site.ctx.accounts.add(name, role, PASSWORD)
    return site


@contextmanager
def served_site(tmp_path: Path, **dashboard: Any) -> Iterator[tuple[Site, DashboardServer]]:
    """A site from ``make_site`` served by uvicorn on a free 127.0.0.1 port; stopped and closed on exit."""
    site = make_site(tmp_path, **dashboard)
    server = DashboardServer(site.app, site.ctx.settings)
    server.start()
    try:
        yield site, server
    finally:
        server.stop()
        site.close()


def form_token(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert m, "no csrf_token field in the page"
    return m.group(1)


def login(client: httpx.Client, username: str, password: str = PASSWORD, *, follow: bool = False) -> Any:
    page = client.get("/login")
    return client.post("/login", data={"csrf_token": form_token(page.text), "username": username,
                                       "password": password}, follow_redirects=follow)


def login_ok(client: httpx.Client, username: str) -> str:
    """Log in and return the session's CSRF token (from /api/me)."""
    r = login(client, username)
    assert r.status_code == 303, r.text
    me = client.get("/api/me")
    assert me.status_code == 200
    token: str = me.json()["csrf_token"]
    return token


def logged_in(base: str, username: str) -> httpx.Client:
    """An HTTP client to a served dashboard, logged in as ``username``."""
    c = httpx.Client(base_url=base, timeout=10)
    login_ok(c, username)
    return c


class Stream:
    """Reads server-sent events on a thread into a list (the test waits on it with a bound)."""

    def __init__(self, client: httpx.Client) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.ended = threading.Event()
        self.cond = threading.Condition()
        self._client = client
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            with self._client.stream("GET", "/api/live", timeout=httpx.Timeout(10, read=30)) as r:
                assert r.status_code == 200
                assert r.headers["content-type"].startswith("text/event-stream")
                name = ""
                for line in r.iter_lines():
                    if line.startswith("event: "):
                        name = line[7:]
                    elif line.startswith("data: "):
                        with self.cond:
                            self.events.append((name, json.loads(line[6:])))
                            self.cond.notify_all()
        except httpx.HTTPError:
            pass
        finally:
            self.ended.set()
            with self.cond:
                self.cond.notify_all()

    def wait(self, kind: str, timeout: float = 10.0, **match: Any) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            for name, data in self.events:
                if name == kind and all(data.get(k) == v for k, v in match.items()):
                    return data
            return None

        with self.cond:
            assert self.cond.wait_for(lambda: found() is not None or self.ended.is_set(), timeout), \
                f"no {kind} {match} within {timeout} s; got {self.events}"
            result = found()
        assert result is not None, f"stream ended without {kind} {match}; got {self.events}"
        return result
