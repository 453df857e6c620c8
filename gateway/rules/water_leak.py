"""``water_leak``: a leak sensor reports water."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from gateway.i18n import tr
from gateway.model import Reading
from gateway.rules.base import Duration, Evaluator, RuleBase


class WaterLeakRule(RuleBase):
    """``kind = "water_leak"``: the ``water_leak`` metric is "leak" (for an optional duration)."""

    kind: Literal["water_leak"]
    for_: Duration = Field(default=0.0, alias="for")
    """How long the sensor must report water before the alert opens."""

    def describe(self, locale: str) -> str:
        """The condition in words."""
        return self.name or tr(locale, "water leak detected")


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
