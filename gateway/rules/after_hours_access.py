"""``after_hours_access``: someone came through a gate or door while the school is closed."""

from __future__ import annotations

from typing import Literal

from gateway.i18n import tr
from gateway.model import Event, Reading
from gateway.rules.base import Evaluator, RuleBase
from gateway.rules.gate_forced import authorizes


class AfterHoursAccessRule(RuleBase):
    """``kind = "after_hours_access"``: a card, exit button, release or opening while closed (by [calendar])."""

    kind: Literal["after_hours_access"]
    contact: bool = True
    """Also count the contact opening (not only card/button/release events)."""
    latch: bool = True
    """Latched by default: the alert stays until acknowledged even when the gate is closed again."""

    def describe(self, locale: str) -> str:
        """The condition in words."""
        return self.name or tr(locale, "access while the school is closed")


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
        if authorizes(e, self.ctx.card_deciders):
            uid = e.data.get("uid")
            self._access(e.device, e.ts, f"{e.type} {uid}" if uid else e.type)

    def on_reading(self, r: Reading) -> None:
        """The contact opening while closed."""
        if self.settings.contact and r.metric == "contact" and r.value >= 0.5:
            self._access(r.device, r.ts, "opened")


SETTINGS = AfterHoursAccessRule
EVALUATOR = AfterHoursAccessEvaluator
