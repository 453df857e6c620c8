"""Overdue hazards: an entry of the ledger past its deadline and not closed raises ``hazard-overdue`` through
``[inspections] notify`` (critical for a major hazard), repeated and escalated by the chain until someone
acknowledges it; it ends when the hazard is closed."""

from __future__ import annotations

import logging
from datetime import datetime

from gateway.alerts.service import AlertService
from gateway.alerts.store import OpenRequest
from gateway.clock import Clock
from gateway.i18n import gettext, tr
from gateway.inspections.ledger import Ledger
from gateway.ticker import Ticker

log = logging.getLogger(__name__)

HAZARD_RULE = "hazard-overdue"
#: The ledger's levels as people read them (msgids).
LEVEL_NAMES = {"general": "general hazard", "major": "major hazard"}


class HazardWatch:
    """Raises and ends the overdue alerts of the ledger; ``tick(now)`` is what time moves."""

    def __init__(self, ledger: Ledger, alerts: AlertService | None, clock: Clock, locale: str,
                 every: float = 60.0) -> None:
        self.ledger = ledger
        self.alerts = alerts
        self.clock = clock
        self.locale = locale
        self._ticker = Ticker(self.tick, every, "houqin-hazards")

    def start(self) -> None:
        """Tick in a thread."""
        self._ticker.start()

    def stop(self) -> None:
        """Stop ticking."""
        self._ticker.stop()

    def tick(self, now: float | None = None) -> list[int]:
        """Raise the alert of every overdue hazard, end those closed since; returns the overdue ids."""
        if self.alerts is None:
            return []
        t = self.clock.now() if now is None else now
        s = self.ledger.settings
        raised = {a.device for a in self.alerts.list(open_only=True, rule=HAZARD_RULE)}
        overdue = []
        for h in self.ledger.open_hazards():
            if not h.overdue(t):
                continue
            overdue.append(h.id)
            device = f"hazard-{h.id}"
            raised.discard(device)
            self.alerts.raise_alert(OpenRequest(
                rule=HAZARD_RULE, device=device, kind="hazard_overdue",
                severity="critical" if h.level == "major" else s.hazard_severity, chain=s.notify, metric=None,
                value=None, since=h.deadline,
                detail=tr(self.locale, "{level} at {place} past its deadline {deadline}: {what} (owner {owner})",
                          level=gettext(self.locale, LEVEL_NAMES[h.level]), place=h.place,
                          deadline=datetime.fromtimestamp(h.deadline, self.ledger.tz).strftime("%Y-%m-%d %H:%M"),
                          what=h.description, owner=h.owner)))
        for device in raised:  # closed (or no longer overdue) since the alert opened
            self.alerts.end(HAZARD_RULE, device)
        return overdue
