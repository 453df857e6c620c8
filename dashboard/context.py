"""Everything one dashboard app holds, built by the app factory (never at import time)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from argon2 import PasswordHasher
from prometheus_client import CollectorRegistry

from dashboard import views
from dashboard.accounts import Accounts, User
from dashboard.audit import AuditLog
from dashboard.cache import TTL_S, ResultCache
from dashboard.live import LiveHub
from dashboard.metrics import metrics_registry
from dashboard.roles import ROLES
from dashboard.roles import allowed as site_allowed
from dashboard.services import DashboardServices
from dashboard.sessions import Session, Sessions
from dashboard.settings import DashboardSettings
from dashboard.templating import Templates
from dashboard.throttle import LoginThrottle
from gateway.secret_files import DEVICE_COOKIE_KEY

T = TypeVar("T")

#: Password hashes (argon2id, 64 MiB each) computed at once; more wait, so a burst of logins cannot
#: exhaust a Raspberry Pi's memory.
KDF_SLOTS = 2


@dataclass
class DashboardContext:
    """The app's parts: services from the gateway and the dashboard's own stores."""

    services: DashboardServices
    settings: DashboardSettings
    accounts: Accounts
    sessions: Sessions
    throttle: LoginThrottle
    audit: AuditLog
    hub: LiveHub
    templates: Templates
    #: Page and API results reused while no data changed (off unless the hub hears of every change).
    cache: ResultCache
    #: What ``/metrics`` exposes: this app's own registry, built here (no process-wide default registry).
    metrics: CollectorRegistry
    kdf_slots: threading.BoundedSemaphore = field(default_factory=lambda: threading.BoundedSemaphore(KDF_SLOTS))
    #: Whether a role may call ``(method, path template)``: the site's table, or the district service's own.
    allowed: Callable[[str, str, str], bool] = site_allowed
    #: The navigation entries of a role; None: the site dashboard's (``dashboard.routes.common.nav_for``).
    nav: Callable[[str], list[tuple[str, str]]] | None = None

    @classmethod
    def build(cls, services: DashboardServices, settings: DashboardSettings,
              hasher: PasswordHasher | None = None, *, roles: tuple[str, ...] = ROLES,
              admin_role: str = "admin", template_dirs: tuple[str, ...] = ()) -> DashboardContext:
        """Create the stores on the services' events database and clock (``roles``: who users may be)."""
        db, clock = services.events_db, services.clock
        hub = LiveHub(services.config, lambda a: views.alert_json(services, [a])[0])
        # only a hub wired to ingest and the alert service knows when cached results go stale
        told = services.add_batch_observer is not None and services.add_alert_listener is not None
        sessions = Sessions(db, clock, settings.idle_seconds, settings.max_seconds)
        return cls(
            services=services,
            settings=settings,
            accounts=Accounts(db, clock, hasher, roles=roles, admin_role=admin_role),
            sessions=sessions,
            throttle=LoginThrottle(db, clock, settings.window_seconds, settings.login_max_failures_account,
                                   settings.login_max_failures_address,
                                   services.config.storage.path / DEVICE_COOKIE_KEY),
            audit=AuditLog(db, clock),
            hub=hub,
            templates=Templates(services.config.site.tz, clock.now, template_dirs),
            cache=ResultCache(hub.changes, TTL_S if told else 0.0),
            metrics=metrics_registry(services, hub, sessions),
        )

    def kdf(self, fn: Callable[..., T], *args: object) -> T:
        """Run a password hash or check, at most ``KDF_SLOTS`` at a time (from a plain ``def`` handler,
        so in a worker thread: argon2-cffi releases the GIL, live streams and pages keep being served)."""
        with self.kdf_slots:
            return fn(*args)

    def locale_of(self, user: User | None) -> str:
        """The user's language, or the site's."""
        return (user.locale if user and user.locale else None) or self.services.config.site.locale


@dataclass(frozen=True, slots=True)
class Principal:
    """The logged-in user of a request and their session."""

    user: User
    session: Session
