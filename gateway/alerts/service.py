"""The alerts API used by rules, notifiers, the dashboard and the CLI, with "alert changed" listeners."""

from __future__ import annotations

import builtins
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from gateway.alerts.model import Alert, AlertChange, Change, TimelineEntry
from gateway.alerts.store import AlertStore, OpenRequest
from gateway.clock import Clock
from gateway.listeners import Listeners

log = logging.getLogger(__name__)

AlertListener = Callable[[AlertChange], None]


class AlertService:
    """Opens, acknowledges and clears alerts; tells listeners after every committed change."""

    def __init__(self, store: AlertStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._listeners: Listeners[[AlertChange]] = Listeners("alert listener")
        # A change and the listeners' calls about it are one step: without it another thread could see the
        # committed alert and act on it (escalate, acknowledge) before the listeners heard it was opened, and the
        # district would get "escalated" before "opened".
        self._changing = threading.RLock()

    @contextmanager
    def in_order(self) -> Iterator[None]:
        """Hold other changes while the ``with`` block acts on stored alerts: every change it sees was told."""
        with self._changing:
            yield

    def add_listener(self, listener: AlertListener) -> None:
        """Call ``listener(change)`` after each change (on the changing thread: be quick, never raise)."""
        self._listeners.add(listener)

    def _emit(self, change: AlertChange) -> None:
        self._listeners.tell(change)  # a listener bug must not undo or block the change

    # -- used by rules ----------------------------------------------------------------------------
    def raise_alert(self, req: OpenRequest) -> Alert:
        """Open the alert of (rule, device) unless it is open already; returns the open alert."""
        with self._changing:
            alert, created = self.store.open(req, self.clock.now())
            if created:
                log.warning("alert %d opened: %s on %s (%s)", alert.id, alert.rule, alert.device, alert.detail)
                self._emit(AlertChange("opened", alert))
        return alert

    def end(self, rule: str, device: str, value: float | None = None) -> Alert | None:
        """The condition of (rule, device) ended: clear its alert (latched ones wait for an ack)."""
        with self._changing:
            alert = self.store.end(rule, device, self.clock.now(), value)
            if alert is not None:
                log.info("alert %d %s: %s on %s", alert.id, alert.state, alert.rule, alert.device)
                self._emit(AlertChange("cleared" if alert.state == "cleared" else "ended", alert))
        return alert

    # -- used by people (dashboard, CLI) ----------------------------------------------------------
    def ack(self, alert_id: int, by: str, note: str) -> Alert:
        """Acknowledge alert ``alert_id`` by ``by`` with the corrective action ``note``."""
        with self._changing:
            alert = self.store.ack(alert_id, by, note, self.clock.now())
            log.info("alert %d acknowledged by %s", alert_id, by)
            self._emit(AlertChange("acknowledged", alert))
            if alert.state == "cleared":
                self._emit(AlertChange("cleared", alert))
        return alert

    def list(self, open_only: bool = False, since: float | None = None, until: float | None = None,
             rule: str | None = None, device: str | None = None, limit: int | None = None) -> builtins.list[Alert]:
        """Alerts, newest first (see ``AlertStore.list``)."""
        return self.store.list(open_only, since, until, rule, device, limit)

    def get(self, alert_id: int) -> Alert:
        """One alert; raises AlertNotFoundError."""
        return self.store.get(alert_id)

    def timeline(self, alert_id: int) -> builtins.list[TimelineEntry]:
        """One alert's history, oldest first."""
        return self.store.timeline(alert_id)

    def changes_after(self, timeline_id: int, up_to: int | None = None, limit: int = 1000) -> builtins.list[Change]:
        """Changes recorded after ``timeline_id`` (see ``AlertStore.changes_after``)."""
        return self.store.changes_after(timeline_id, up_to, limit)

    def last_change_id(self) -> int:
        """The newest timeline entry's id."""
        return self.store.last_change_id()
