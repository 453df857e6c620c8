"""Everything one dashboard app holds, built by the app factory (never at import time)."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher

from dashboard import views
from dashboard.accounts import Accounts, User
from dashboard.audit import AuditLog
from dashboard.live import LiveHub
from dashboard.services import DashboardServices
from dashboard.sessions import Session, Sessions
from dashboard.settings import DashboardSettings
from dashboard.templating import Templates
from dashboard.throttle import LoginThrottle


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

    @classmethod
    def build(cls, services: DashboardServices, settings: DashboardSettings,
              hasher: PasswordHasher | None = None) -> DashboardContext:
        """Create the stores on the services' events database and clock."""
        db, clock = services.events_db, services.clock
        return cls(
            services=services,
            settings=settings,
            accounts=Accounts(db, clock, hasher),
            sessions=Sessions(db, clock, settings.idle_seconds, settings.max_seconds),
            throttle=LoginThrottle(db, clock, settings.window_seconds, settings.login_max_failures_account,
                                   settings.login_max_failures_address),
            audit=AuditLog(db, clock),
            hub=LiveHub(services.config, lambda a: views.alert_json(services, [a])[0]),
            templates=Templates(services.config.site.tz, clock.now),
        )

    def locale_of(self, user: User | None) -> str:
        """The user's language, or the site's."""
        return (user.locale if user and user.locale else None) or self.services.config.site.locale


@dataclass(frozen=True, slots=True)
class Principal:
    """The logged-in user of a request and their session."""

    user: User
    session: Session
