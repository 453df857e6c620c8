"""What the dashboard needs from the gateway, as small protocols, and how it is taken from a built ``Site``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from gateway.alerts.model import Alert, AlertChange, TimelineEntry
from gateway.clock import Clock, SystemClock
from gateway.config import Config
from gateway.eventsdb import EventsDB
from gateway.gate.service import Gate
from gateway.model import BatchObserver
from gateway.store.base import TimeSeriesStore

if TYPE_CHECKING:
    from gateway.app import Site

log = logging.getLogger(__name__)


class AlertSource(Protocol):
    """The alert service as the dashboard uses it (``gateway.alerts.AlertService``)."""

    def list(self, open_only: bool = False, since: float | None = None, until: float | None = None,
             rule: str | None = None, device: str | None = None, limit: int | None = None) -> Sequence[Alert]:
        """Alerts, newest first."""
        ...

    def get(self, alert_id: int) -> Alert:
        """One alert; raises AlertNotFoundError."""
        ...

    def timeline(self, alert_id: int) -> Sequence[TimelineEntry]:
        """An alert's history, oldest first."""
        ...

    def ack(self, alert_id: int, by: str, note: str) -> Alert:
        """Acknowledge; raises AlertNotFoundError or AlertStateError."""
        ...


@runtime_checkable
class StatsSource(Protocol):
    """Anything with counters to export on ``/metrics``."""

    def stats(self) -> Mapping[str, Any]:
        """Numbers, or mappings of label -> number (e.g. dead letters by reason)."""
        ...


@dataclass
class DashboardServices:
    """The gateway pieces the dashboard reads from; a store or alert service left out shows as "not available"."""

    config: Config
    events_db: EventsDB
    clock: Clock = field(default_factory=SystemClock)
    store: TimeSeriesStore | None = None
    alerts: AlertSource | None = None
    #: Name -> component whose ``stats()`` feed ``/metrics`` (ingest, store, alerting...).
    stats_sources: dict[str, StatsSource] = field(default_factory=dict)
    #: True while the MQTT link is connected; None when unknown.
    broker_connected: Callable[[], bool] | None = None
    #: Register an observer of committed batches (``Ingest.add_observer``).
    add_batch_observer: Callable[[BatchObserver], None] | None = None
    #: Register a listener of alert changes (the alert service's hook).
    add_alert_listener: Callable[[Callable[[AlertChange], None]], None] | None = None
    #: The gate guard's service: the desk, visitors, patrols and cards pages work on it.
    gate: Gate = field(kw_only=True)


def services_for(site: Site) -> DashboardServices:
    """What the dashboard reads from the parts of a built gateway (``gateway.app.build_gateway``)."""
    link = site.link
    return DashboardServices(
        config=site.config,
        events_db=site.events_db,
        clock=site.clock,
        store=site.store,
        alerts=site.alerting.service,
        stats_sources={"ingest": site.ingest, "alerting": site.alerting},
        broker_connected=lambda: link.connected,
        add_batch_observer=site.ingest.add_observer,
        add_alert_listener=site.alerting.service.add_listener,
        gate=site.gate,
    )
