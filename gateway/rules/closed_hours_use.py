"""``closed_hours_use``: water or power used while the school is closed, above an allowance."""

from __future__ import annotations

from datetime import datetime

from gateway.model import Reading
from gateway.rules.base import Evaluator, RuleContext
from gateway.rules.settings import ClosedHoursUseRule, RuleBase


class ClosedHoursUseEvaluator(Evaluator):
    """Sums closed-time usage per local hour or day; an alert clears when the school opens or a whole
    period stays within the allowance."""

    settings: ClosedHoursUseRule

    def __init__(self, settings: RuleBase, ctx: RuleContext,
                 pending: dict[tuple[str, str], tuple[float, float | None]]) -> None:
        super().__init__(settings, ctx, pending)
        self._bucket: dict[str, tuple[str, float]] = {}  # device -> (period key, used so far)

    def _period(self, ts: float) -> str:
        dt = datetime.fromtimestamp(ts, self.ctx.calendar.tz)
        return dt.strftime("%Y-%m-%d %H") if self.settings.per == "hour" else dt.strftime("%Y-%m-%d")

    def on_reading(self, r: Reading) -> None:
        """Add closed-time usage to its period; raise above the allowance."""
        s = self.settings
        if r.metric != s.metric or self.ctx.calendar.is_open(r.ts):
            return
        key = self._period(r.ts)
        old = self._bucket.get(r.device)
        if old is not None and old[0] != key:
            self._rollover(r.device, old[1])
        used = (old[1] if old is not None and old[0] == key else 0.0) + r.value
        self._bucket[r.device] = (key, used)
        if used > s.allowance and r.device not in self._raised:
            self.fire(r.device, used, key, r.ts, s.metric)  # the period: words come from gateway.rules.detail

    def _rollover(self, device: str, used: float) -> None:
        if used <= self.settings.allowance:
            self.release(device, used)

    def tick(self, now: float) -> None:
        """Clear when the school opens or when a period ended within the allowance."""
        key = self._period(now)
        is_open = self.ctx.calendar.is_open(now)
        for device in list(self._raised):
            bucket = self._bucket.get(device)
            if is_open:
                self._bucket.pop(device, None)
                self.release(device)
            elif bucket is None:
                continue
            elif bucket[0] != key:
                self._bucket[device] = (key, 0.0)
                self._rollover(device, bucket[1])


SETTINGS = ClosedHoursUseRule
EVALUATOR = ClosedHoursUseEvaluator
