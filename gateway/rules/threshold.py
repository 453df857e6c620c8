"""``threshold``: a metric above/below a value for a duration, with hysteresis."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from gateway.contract import METRICS
from gateway.i18n import tr
from gateway.model import Reading
from gateway.rules.base import Duration, Evaluator, RuleBase, dur


class ThresholdRule(RuleBase):
    """``kind = "threshold"``: e.g. fridge above 8 °C for 10 min, clearing below 7 °C."""

    kind: Literal["threshold"]
    metric: str = "temperature"
    """The metric compared."""
    above: float | None = None
    """The condition holds while the value is above this."""
    below: float | None = None
    """The condition holds while the value is below this."""
    clear_below: float | None = None
    """Hysteresis: an "above" condition ends only at or below this (default: ``above``)."""
    clear_above: float | None = None
    """Hysteresis: a "below" condition ends only at or above this (default: ``below``)."""
    for_: Duration = Field(default=0.0, alias="for")
    """How long the condition must hold before the alert opens."""

    @model_validator(mode="after")
    def _bounds(self) -> ThresholdRule:
        if self.metric not in METRICS:
            raise ValueError(f"rule {self.id!r}: unknown metric {self.metric!r}; use one of {', '.join(METRICS)}")
        if self.above is None and self.below is None:
            raise ValueError(f"rule {self.id!r}: a threshold rule needs above = N and/or below = N")
        if self.above is not None and self.clear_below is not None and self.clear_below > self.above:
            raise ValueError(f"rule {self.id!r}: clear_below must be <= above (hysteresis)")
        if self.below is not None and self.clear_above is not None and self.clear_above < self.below:
            raise ValueError(f"rule {self.id!r}: clear_above must be >= below (hysteresis)")
        return self

    def describe(self, locale: str) -> str:
        """The condition in words."""
        if self.name:
            return self.name
        unit = METRICS[self.metric].unit
        metric = tr(locale, self.metric)
        parts = []
        if self.above is not None:
            parts.append(tr(locale, "{metric} above {value} {unit}", metric=metric, value=self.above, unit=unit))
        if self.below is not None:
            parts.append(tr(locale, "{metric} below {value} {unit}", metric=metric, value=self.below, unit=unit))
        text = tr(locale, " or ").join(parts)
        if self.for_:
            text += tr(locale, " for {duration}", duration=dur(self.for_, locale))
        return text


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
        return f"{self.settings.metric}={v}"


SETTINGS = ThresholdRule
EVALUATOR = ThresholdEvaluator
