"""The checklists' overdue alert: a checklist not done by the end of its window raises ``checklist-overdue``
through its escalation chain; it ends once the checklist is saved (or the next period begins)."""

from __future__ import annotations

import logging
from datetime import datetime

from gateway.alerts.service import AlertService
from gateway.alerts.store import OpenRequest
from gateway.clock import Clock
from gateway.i18n import tr
from gateway.inspections.checklists import Checklists
from gateway.ticker import Ticker

log = logging.getLogger(__name__)

OVERDUE_RULE = "checklist-overdue"


class ChecklistWatch:
    """Raises and ends the overdue alerts; ``tick(now)`` is what time moves."""

    def __init__(self, checklists: Checklists, alerts: AlertService | None, clock: Clock, locale: str,
                 every: float = 60.0) -> None:
        self.checklists = checklists
        self.alerts = alerts
        self.clock = clock
        self.locale = locale
        self._ticker = Ticker(self.tick, every, "houqin-checklists")

    def start(self) -> None:
        """Tick in a thread."""
        self._ticker.start()  # always: an admin may define a checklist on the page at any time

    def stop(self) -> None:
        """Stop ticking."""
        self._ticker.stop()

    def tick(self, now: float | None = None) -> list[str]:
        """Raise the alert of every overdue checklist, end the others'; returns the overdue ids."""
        if self.alerts is None:
            return []
        t = self.clock.now() if now is None else now
        s = self.checklists.settings
        raised = {a.device for a in self.alerts.list(open_only=True, rule=OVERDUE_RULE)}
        overdue = []
        for c in self.checklists.all():
            try:
                st = self.checklists.status(c, t)
            except Exception:
                log.exception("status of checklist %s failed", c.id)
                continue
            if st.overdue and st.due_day is not None and st.window_end is not None:
                overdue.append(c.id)
                until = datetime.fromtimestamp(st.window_end, self.checklists.tz).strftime("%H:%M")
                self.alerts.raise_alert(OpenRequest(
                    rule=OVERDUE_RULE, device=c.id, kind="checklist_overdue", severity=c.severity,
                    chain=c.notify or s.notify, metric=None, value=None,
                    detail=tr(self.locale, "{name} of {day} not done by {time}", name=c.name,
                              day=st.due_day.isoformat(), time=until),
                    since=st.window_end))
            elif c.id in raised:
                self.alerts.end(OVERDUE_RULE, c.id)
        return overdue
