"""The demo's login: ``prepare(dashboard)`` creates (or resets) user ``demo`` with a random password."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from dashboard.accounts import Accounts
from dashboard.component import DashboardComponent

DEMO_USER = "demo"


def prepare(dashboard: DashboardComponent) -> Sequence[str]:
    """Create the demo admin with a fresh random password; returns the lines ``houqin demo`` prints."""
    services = dashboard.services
    accounts = Accounts(services.events_db, services.clock)
    password = secrets.token_urlsafe(12)
    if accounts.get(DEMO_USER) is None:
        accounts.add(DEMO_USER, "admin", password, display_name="Demo")
    else:
        accounts.set_password(DEMO_USER, password)
        accounts.set_disabled(DEMO_USER, False)
    settings = services.config.dashboard
    host = "127.0.0.1" if settings.bind in ("0.0.0.0", "::", "") else settings.bind
    port = settings.port if dashboard.server is None else dashboard.server.port
    scheme = "https" if settings.tls else "http"
    return [f"{scheme}://{host}:{port}/", f"user: {DEMO_USER}", f"password: {password}"]
