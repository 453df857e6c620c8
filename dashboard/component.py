"""The dashboard as a part of ``houqin run`` and ``houqin demo``: served from a built gateway's parts."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from dashboard.server import DashboardServer
from dashboard.services import DashboardServices, services_for

if TYPE_CHECKING:
    from gateway.app import Site

log = logging.getLogger(__name__)


class DashboardComponent:
    """A gateway component that builds the app at start (after every other part is built) and serves it."""

    def __init__(self, services: DashboardServices) -> None:
        self.services = services
        self.server: DashboardServer | None = None

    def start(self) -> None:
        """Build the app on the gateway's parts and start serving."""
        if not self.services.config.dashboard.enabled:
            log.info("dashboard disabled ([dashboard] enabled = false)")
            return
        self.server = DashboardServer.for_services(self.services)
        self.server.start()

    def stop(self) -> None:
        """Stop serving."""
        if self.server is not None:
            self.server.stop()
            self.server = None


def serve_dashboard(site: Site) -> DashboardComponent:
    """The dashboard of ``site``, started with it after its other parts (``[dashboard] enabled`` permitting)."""
    component = DashboardComponent(services_for(site))
    site.add_component(component)
    return component
