"""``gate_held_open``: a gate or door contact open for longer than allowed."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from gateway.i18n import tr
from gateway.model import Reading
from gateway.rules.base import Duration, Evaluator, RuleBase, dur


class GateHeldOpenRule(RuleBase):
    """``kind = "gate_held_open"``: the ``contact`` metric is "open" for ``for`` (default 2 min)."""

    kind: Literal["gate_held_open"]
    for_: Duration = Field(default=120.0, alias="for")
    """Alert when the gate's ``contact`` stays open this long."""

    def describe(self, locale: str) -> str:
        """The condition in words."""
        return self.name or tr(locale, "gate held open for {duration}", duration=dur(self.for_, locale))


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
