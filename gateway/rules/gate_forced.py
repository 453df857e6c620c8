"""``gate_forced``: a gate opened with no accepted card, exit button or release shortly before."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence

from gateway.model import Event, Reading
from gateway.rules.base import Evaluator, RuleContext
from gateway.rules.settings import GateForcedRule, RuleBase

#: Event types that let someone through.
AUTHORIZING = ("card", "button", "release")


def authorizes(e: Event, deciders: Sequence[Callable[[str, str, float], bool | None]] = (),
               checks: Sequence[Callable[[Event], bool]] = ()) -> bool:
    """Whether an event lets someone through: an exit button, a release, or an accepted card.

    A card's own ``accepted`` flag wins; without one, the gateway's card registry decides for the readers it
    manages (``deciders``); a card from any other reader with no flag (a controller we cannot ask) counts.
    """
    if e.type not in AUTHORIZING or not all(check(e) for check in checks):
        return False
    if e.type != "card":
        return True
    flag = e.data.get("accepted")
    if isinstance(flag, bool):
        return flag
    uid = str(e.data.get("uid", ""))
    for decide in deciders:
        verdict = decide(e.device, uid, e.ts)
        if verdict is not None:
            return verdict
    return True


class GateForcedEvaluator(Evaluator):
    """Remembers the last authorizing event per device and judges every closed → open change of a contact
    against the events of that gate's own devices only."""

    settings: GateForcedRule

    def __init__(self, settings: RuleBase, ctx: RuleContext,
                 pending: dict[tuple[str, str], tuple[float, float | None]]) -> None:
        super().__init__(settings, ctx, pending)
        self._contact: dict[str, float] = {}
        self._last_auth: dict[str, float] = {}  # authorizing device -> time of its last authorizing event
        self._pair: dict[tuple[str, str], bool] = {}  # (device, gate) -> authorizes_gate, cached
        self._opened: dict[str, float] = {}  # device -> open time awaiting the grace period
        self._watch: dict[str, bool] = {}

    def watches(self, device: str) -> bool:
        """Gate devices and the devices whose events authorize."""
        hit = self._watch.get(device)
        if hit is None:
            pats = [*self.settings.devices, *self.settings.authorizer_patterns()]
            names = [device, *(r for r, relay in self.ctx.lock_relays.items() if relay == device)]
            hit = self._watch[device] = any(fnmatch.fnmatchcase(n, p) for n in names for p in pats)
        return hit

    def _is_gate(self, device: str) -> bool:
        return super().watches(device)

    def _excuses(self, device: str, gate: str) -> bool:
        hit = self._pair.get((device, gate))
        if hit is None:
            # a lock relay's release counts where its reader ([[gate.readers]] relay) counts
            readers = [r for r, relay in self.ctx.lock_relays.items() if relay == device]
            hit = self._pair[(device, gate)] = self.settings.authorizes_gate(device, gate) or any(
                self.settings.authorizes_gate(r, gate) for r in readers)
        return hit

    def _last_auth_for(self, gate: str) -> float:
        return max((ts for dev, ts in self._last_auth.items() if self._excuses(dev, gate)), default=float("-inf"))

    def on_event(self, e: Event) -> None:
        """An authorizing event excuses openings of its own gate within the window around it."""
        if not authorizes(e, self.ctx.card_deciders, self.ctx.event_checks):
            return
        self._last_auth[e.device] = max(self._last_auth.get(e.device, float("-inf")), e.ts)
        for gate, opened in list(self._opened.items()):
            if self._excuses(e.device, gate) and opened - self.settings.window <= e.ts <= opened + self.settings.grace:
                del self._opened[gate]

    def on_reading(self, r: Reading) -> None:
        """Judge closed → open changes; closing ends a forced alert."""
        if r.metric != "contact" or not self._is_gate(r.device):
            return
        before = self._contact.get(r.device)
        self._contact[r.device] = r.value
        if r.value >= 0.5:
            if before is not None and before < 0.5 and r.ts - self._last_auth_for(r.device) > self.settings.window:
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
