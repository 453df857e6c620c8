"""``after_hours_access``: someone came through a gate or door while the school is closed."""

from __future__ import annotations

from gateway.model import Event, Reading
from gateway.rules.base import Evaluator
from gateway.rules.gate_forced import authorizes
from gateway.rules.settings import AfterHoursAccessRule


class AfterHoursAccessEvaluator(Evaluator):
    """Raises one latched alert per device; it clears when acknowledged."""

    settings: AfterHoursAccessRule

    def _access(self, device: str, ts: float, what: str) -> None:
        if self.ctx.calendar.is_open(ts):
            return
        self.fire(device, None, what, ts)
        # The access is over at once: mark the condition ended so the acknowledgement clears it.
        self.release(device)

    def on_event(self, e: Event) -> None:
        """Card, button or release while closed."""
        if authorizes(e, self.ctx.card_deciders, self.ctx.event_checks):
            uid = e.data.get("uid")
            self._access(e.device, e.ts, f"{e.type} {uid}" if uid else e.type)

    def on_reading(self, r: Reading) -> None:
        """The contact opening while closed."""
        if self.settings.contact and r.metric == "contact" and r.value >= 0.5:
            self._access(r.device, r.ts, "opened")


SETTINGS = AfterHoursAccessRule
EVALUATOR = AfterHoursAccessEvaluator
