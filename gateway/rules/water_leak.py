"""``water_leak``: a leak sensor reports water."""

from __future__ import annotations

from gateway.model import Reading
from gateway.rules.base import Evaluator
from gateway.rules.settings import WaterLeakRule


class WaterLeakEvaluator(Evaluator):
    """Evaluates one leak rule."""

    settings: WaterLeakRule

    def on_reading(self, r: Reading) -> None:
        """Leak (1) holds the condition, dry (0) ends it."""
        if r.metric != "water_leak":
            return
        if r.value >= 0.5 and self.in_schedule(r.ts):
            self.hold(r.device, r.ts, r.value, self.settings.for_, "leak", r.metric)
        else:
            self.release(r.device, r.value)

    def tick(self, now: float) -> None:
        """Raise leaks that lasted long enough."""
        self.tick_holds(now, self.settings.for_, lambda _d, _v: "leak", "water_leak")


SETTINGS = WaterLeakRule
EVALUATOR = WaterLeakEvaluator
