"""``threshold``: a metric above/below a value for a duration, with hysteresis."""

from __future__ import annotations

from gateway.model import Reading
from gateway.rules.base import Evaluator
from gateway.rules.settings import ThresholdRule


class ThresholdEvaluator(Evaluator):
    """Evaluates one threshold rule."""

    settings: ThresholdRule

    def _violates(self, device: str, v: float) -> bool:
        s = self.settings
        # Hysteresis: once the condition holds it continues until the value is back past clear_*.
        held = self.holding(device)
        if s.above is not None:
            limit = s.clear_below if held and s.clear_below is not None else s.above
            if v > limit:
                return True
        if s.below is not None:
            limit = s.clear_above if held and s.clear_above is not None else s.below
            if v < limit:
                return True
        return False

    def on_reading(self, r: Reading) -> None:
        """Start, keep or end the condition."""
        if r.metric != self.settings.metric:
            return
        if self.in_schedule(r.ts) and self._violates(r.device, r.value):
            self.hold(r.device, r.ts, r.value, self.settings.for_, self._detail(r.value), r.metric)
        else:
            self.release(r.device, r.value)

    def tick(self, now: float) -> None:
        """Raise conditions whose duration ran out without a new reading."""
        self.tick_holds(now, self.settings.for_, lambda _d, v: self._detail(v), self.settings.metric)

    def _detail(self, v: float | None) -> str:
        # A code, not words: ``gateway.rules.detail`` says it in the reader's language when shown.
        s = self.settings
        return "below" if v is not None and s.below is not None and v < s.below else "above"


SETTINGS = ThresholdRule
EVALUATOR = ThresholdEvaluator
