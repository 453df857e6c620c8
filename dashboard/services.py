"""What the dashboard needs from the gateway, as small protocols, and the adapter from a Gateway."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from gateway.alerts.model import Alert, AlertChange, TimelineEntry
from gateway.clock import Clock, SystemClock
from gateway.config import Config
from gateway.eventsdb import EventsDB
from gateway.model import BatchObserver
from gateway.store.base import TimeSeriesStore

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
    """The gateway pieces the dashboard reads from; anything missing shows as "not available"."""

    config: Config
    events_db: EventsDB
    clock: Clock = field(default_factory=SystemClock)
    store: TimeSeriesStore | None = None
    alerts: AlertSource | None = None
    #: Name -> component whose ``stats()`` feed ``/metrics`` (ingest, store, notifier, outbox...).
    stats_sources: dict[str, StatsSource] = field(default_factory=dict)
    #: True while the MQTT link is connected; None when unknown.
    broker_connected: Callable[[], bool] | None = None
    #: Register an observer of committed batches (``Ingest.add_observer``).
    add_batch_observer: Callable[[BatchObserver], None] | None = None
    #: Register a listener of alert changes (the alert service's hook).
    add_alert_listener: Callable[[Callable[[AlertChange], None]], None] | None = None
    #: The gate guard's service (``gateway.gate.service.Gate``); None: the dashboard builds one on the DB.
    gate: Any = None


def services_from_gateway(gateway: Any) -> DashboardServices:
    """Build the services from a ``gateway.app.Gateway`` by its documented attributes."""
    if isinstance(gateway, DashboardServices):
        return gateway
    config: Config = gateway.config
    ingest = getattr(gateway, "ingest", None)
    link = getattr(gateway, "link", None)
    alerts = getattr(gateway, "alerts", None)
    alerting = getattr(gateway, "alerting", None)  # gateway.alerts.setup.install sets it
    if alerts is None and alerting is not None:
        alerts = getattr(alerting, "service", None)
    stats: dict[str, StatsSource] = {}
    for name in ("ingest", "store", "alerting", "notifier", "outbox", "rules"):
        obj = getattr(gateway, name, None)
        if isinstance(obj, StatsSource):
            stats[name] = obj
    connected: Callable[[], bool] | None = None
    if link is not None:
        def connected() -> bool:
            value = getattr(link, "connected", None)
            if value is None:
                value = getattr(link, "is_connected", False)
            return bool(value() if callable(value) else value)
    alert_listener = None
    for hook in ("add_listener", "on_change", "subscribe"):
        if alerts is not None and callable(getattr(alerts, hook, None)):
            alert_listener = getattr(alerts, hook)
            break
    return DashboardServices(
        config=config,
        events_db=gateway.events_db,
        clock=getattr(gateway, "clock", None) or SystemClock(),
        store=getattr(gateway, "store", None),
        alerts=alerts,
        stats_sources=stats,
        broker_connected=connected,
        add_batch_observer=getattr(ingest, "add_observer", None),
        add_alert_listener=alert_listener,
        gate=getattr(gateway, "gate", None),
    )
