"""``continuous_flow``: a meter that never stops for a duration (a leak, a tap left running)."""

from __future__ import annotations

from collections import deque

from gateway.model import Reading
from gateway.rules.base import Evaluator, RuleContext
from gateway.rules.settings import ContinuousFlowRule, RuleBase


class ContinuousFlowEvaluator(Evaluator):
    """Keeps a window of usage per meter; the condition holds since the meter last stood still."""

    settings: ContinuousFlowRule

    def __init__(self, settings: RuleBase, ctx: RuleContext,
                 pending: dict[tuple[str, str], tuple[float, float | None]]) -> None:
        super().__init__(settings, ctx, pending)
        self._win: dict[str, deque[tuple[float, float]]] = {}
        self._first: dict[str, float] = {}
        self._last: dict[str, float] = {}

    def on_reading(self, r: Reading) -> None:
        """Add usage and judge the last window."""
        s = self.settings
        if r.metric != s.metric:
            return
        win = self._win.setdefault(r.device, deque())
        win.append((r.ts, r.value))
        first = self._first.setdefault(r.device, r.ts)
        self._last[r.device] = r.ts
        while win and win[0][0] <= r.ts - s.window:
            win.popleft()
        used = sum(v for _, v in win)
        flowing = used >= s.min_flow * s.window / 60.0
        # Before a whole window has been seen (e.g. just after a restart) only flow can be judged,
        # never a stop, so a persisted duration is not lost.
        covered = r.ts - first >= s.window
        if flowing and self.in_schedule(r.ts):
            # The flow began at the first reading in the window that carried usage.
            began = next((ts for ts, v in win if v > 0), r.ts)
            self.hold(r.device, began, used, s.for_, "flow", s.metric)
        elif covered or not self.in_schedule(r.ts):
            self.release(r.device, used)

    def tick(self, now: float) -> None:
        """A meter that sends nothing for a whole window stood still; raise durations that ran out."""
        s = self.settings
        for device, last in list(self._last.items()):
            if now - last >= s.window and self.holding(device):
                self.release(device, 0.0)
        self.tick_holds(now, s.for_, lambda _d, _v: "flow", s.metric)


SETTINGS = ContinuousFlowRule
EVALUATOR = ContinuousFlowEvaluator
