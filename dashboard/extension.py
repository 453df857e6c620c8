"""Plug the dashboard into ``houqin run`` and ``houqin demo`` (listed in ``gateway.app.EXTENSIONS``)."""

from __future__ import annotations

import logging
from typing import Any

from dashboard.server import DashboardServer

log = logging.getLogger(__name__)


class DashboardComponent:
    """A gateway component that builds the app at start (after every other extension is installed)."""

    def __init__(self, gateway: Any) -> None:
        self._gateway = gateway
        self.server: DashboardServer | None = None

    def start(self) -> None:
        """Build the app on the gateway's parts and start serving."""
        if not self._gateway.config.dashboard.enabled:
            log.info("dashboard disabled ([dashboard] enabled = false)")
            return
        self.server = DashboardServer.for_gateway(self._gateway)
        self.server.start()

    def stop(self) -> None:
        """Stop serving."""
        if self.server is not None:
            self.server.stop()
            self.server = None


def install(gateway: Any) -> DashboardComponent:
    """Add the dashboard as a component of ``gateway`` (``gateway.dashboard`` afterwards)."""
    component = DashboardComponent(gateway)
    gateway.add_component(component)
    gateway.dashboard = component
    return component
