"""Alerts about the InfluxDB backend itself: "storage degraded" (credentials refused) and "points dropped".

``gateway.app.build_gateway`` makes one when the store is an ``InfluxStore``: it listens to the store's
status and opens alerts through the alert service, on the device ``influxdb``, notified along
``[influxdb] alert_chain``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol

from gateway.alerts.store import OpenRequest
from gateway.clock import Clock

if TYPE_CHECKING:
    from gateway.store.influx import StoreStatus

log = logging.getLogger(__name__)

RULE_DEGRADED = "storage_degraded"
RULE_DROPPED = "storage_dropped"
DEVICE = "influxdb"


class AlertSink(Protocol):
    """The part of ``gateway.alerts.service.AlertService`` used here."""

    def raise_alert(self, req: OpenRequest) -> Any:
        """Open the alert of (rule, device) unless it is open."""
        ...

    def end(self, rule: str, device: str, value: float | None = None) -> Any:
        """The condition of (rule, device) ended."""
        ...


class StorageAlerts:
    """Turns status changes into alerts: degraded while credentials are refused, a latched one per drop spell."""

    def __init__(self, alerts: AlertSink, clock: Clock, chain: str | None, *, dropped_so_far: int = 0) -> None:
        self._alerts = alerts
        self._clock = clock
        self._chain = chain
        self._degraded = False
        self._dropped = dropped_so_far  # drops before this start were alerted (or not) back then

    def on_status(self, st: StoreStatus) -> None:
        """``InfluxStore`` status listener (runs on the store's threads: quick, never raises)."""
        try:
            self._update(st)
        except Exception:
            log.exception("could not raise the storage alert")

    def _update(self, st: StoreStatus) -> None:
        now = self._clock.now()
        if st.degraded and not self._degraded:
            self._alerts.raise_alert(OpenRequest(
                rule=RULE_DEGRADED, device=DEVICE, kind=RULE_DEGRADED, severity="critical", chain=self._chain,
                metric=None, value=None, detail=st.degraded_reason, since=now))
        elif not st.degraded and self._degraded:
            self._alerts.end(RULE_DEGRADED, DEVICE)
        self._degraded = st.degraded
        if st.dropped > self._dropped:
            # Latched: dropped readings are gone, so someone must acknowledge it even after the outbox recovers.
            self._alerts.raise_alert(OpenRequest(
                rule=RULE_DROPPED, device=DEVICE, kind=RULE_DROPPED, severity="major", chain=self._chain,
                metric=None, value=float(st.dropped),
                detail=(f"{st.dropped} reading(s) dropped: the InfluxDB outbox was full ({st.max_points} points) "
                        f"while InfluxDB was unreachable; last error: {st.last_error}"),
                since=now, latch=True))
            self._alerts.end(RULE_DROPPED, DEVICE, float(st.dropped))
            self._dropped = st.dropped

