"""``gate_held_open``: a gate or door contact open for longer than allowed."""

from __future__ import annotations

from gateway.model import Reading
from gateway.rules.base import Evaluator
from gateway.rules.settings import GateHeldOpenRule


class GateHeldOpenEvaluator(Evaluator):
    """Evaluates one held-open rule."""

    settings: GateHeldOpenRule

    def on_reading(self, r: Reading) -> None:
        """Open holds the condition, closed ends it."""
        if r.metric != "contact":
            return
        if r.value >= 0.5 and self.in_schedule(r.ts):
            self.hold(r.device, r.ts, r.value, self.settings.for_, "open", "contact")
        else:
            self.release(r.device, r.value)

    def tick(self, now: float) -> None:
        """Raise gates open for too long."""
        self.tick_holds(now, self.settings.for_, lambda _d, _v: "open", "contact")


SETTINGS = GateHeldOpenRule
EVALUATOR = GateHeldOpenEvaluator
