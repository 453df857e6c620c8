"""The demo's login: ``prepare(gateway)`` creates (or resets) user ``demo`` with a random password."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from dashboard.accounts import Accounts

DEMO_USER = "demo"


def prepare(gateway: Any) -> Sequence[str]:
    """Create the demo admin with a fresh random password; returns the lines ``houqin demo`` prints."""
    accounts = Accounts(gateway.events_db, gateway.clock)
    password = secrets.token_urlsafe(12)
    if accounts.get(DEMO_USER) is None:
        accounts.add(DEMO_USER, "admin", password, display_name="Demo")
    else:
        accounts.set_password(DEMO_USER, password)
        accounts.set_disabled(DEMO_USER, False)
    settings = gateway.config.dashboard
    host = "127.0.0.1" if settings.bind in ("0.0.0.0", "::", "") else settings.bind
    port = settings.port
    component = getattr(gateway, "dashboard", None)
    server = getattr(component, "server", None)
    if server is not None:
        port = server.port
    scheme = "https" if settings.tls else "http"
    return [f"{scheme}://{host}:{port}/", f"user: {DEMO_USER}", f"password: {password}"]
