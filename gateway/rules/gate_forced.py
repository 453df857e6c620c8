"""``gate_forced``: a gate opened with no accepted card, exit button or release shortly before."""

from __future__ import annotations

import fnmatch
from typing import Literal

from pydantic import Field

from gateway.model import Event, Reading
from gateway.rules.base import Duration, Evaluator, RuleBase, RuleContext, tr

#: Event types that let someone through.
AUTHORIZING = ("card", "button", "release")


def authorizes(e: Event) -> bool:
    """Whether an event lets someone through: an exit button, a release, or a card not refused.

    A card event without an ``accepted`` flag (a plain reader that does not decide) counts as accepted;
    ``"accepted": false`` does not.
    """
    if e.type not in AUTHORIZING:
        return False
    return e.type != "card" or e.data.get("accepted", True) is not False


class GateForcedRule(RuleBase):
    """``kind = "gate_forced"``: contact went open with no authorizing event in ``window`` before it."""

    kind: Literal["gate_forced"]
    #: Devices whose events authorize an opening (card readers, exit buttons); default: the rule's devices.
    authorized_by: list[str] = Field(default_factory=list)
    window: Duration = 10.0
    #: Events may arrive a little after the contact over MQTT; wait this long before deciding.
    grace: Duration = 2.0
    latch: bool = True

    def describe(self, locale: str) -> str:
        """The condition in words."""
        return self.name or tr(locale, "gate opened without card, button or release")


class GateForcedEvaluator(Evaluator):
    """Remembers the last authorizing event and judges every closed → open change of the contact."""

    settings: GateForcedRule

    def __init__(self, settings: RuleBase, ctx: RuleContext,
                 pending: dict[tuple[str, str], tuple[float, float | None]]) -> None:
        super().__init__(settings, ctx, pending)
        self._contact: dict[str, float] = {}
        self._last_auth = float("-inf")
        self._opened: dict[str, float] = {}  # device -> open time awaiting the grace period
        self._watch: dict[str, bool] = {}

    def watches(self, device: str) -> bool:
        """Gate devices and the devices whose events authorize."""
        hit = self._watch.get(device)
        if hit is None:
            pats = [*self.settings.devices, *self.settings.authorized_by]
            hit = self._watch[device] = any(fnmatch.fnmatchcase(device, p) for p in pats)
        return hit

    def _is_gate(self, device: str) -> bool:
        return super().watches(device)

    def on_event(self, e: Event) -> None:
        """An authorizing event excuses openings within the window around it."""
        if not authorizes(e):
            return
        if self.settings.authorized_by or self._is_gate(e.device):
            self._last_auth = max(self._last_auth, e.ts)
            for device, opened in list(self._opened.items()):
                if opened - self.settings.window <= e.ts <= opened + self.settings.grace:
                    del self._opened[device]

    def on_reading(self, r: Reading) -> None:
        """Judge closed → open changes; closing ends a forced alert."""
        if r.metric != "contact" or not self._is_gate(r.device):
            return
        before = self._contact.get(r.device)
        self._contact[r.device] = r.value
        if r.value >= 0.5:
            if before is not None and before < 0.5 and r.ts - self._last_auth > self.settings.window:
                self._opened[r.device] = r.ts
                self.tick(self.ctx.clock.now())
        else:
            self._opened.pop(r.device, None)
            self.release(r.device, r.value)

    def tick(self, now: float) -> None:
        """Raise openings that nothing authorized within the grace period."""
        for device, opened in list(self._opened.items()):
            if now - opened >= self.settings.grace:
                del self._opened[device]
                if self.in_schedule(opened):
                    self.fire(device, 1.0, "forced open", opened, "contact")


SETTINGS = GateForcedRule
EVALUATOR = GateForcedEvaluator
