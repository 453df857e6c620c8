"""``stale``: a device silent (no reading or event) for a duration, or reported offline."""

from __future__ import annotations

from gateway.model import Availability, Event, Reading
from gateway.rules.base import Evaluator, RuleContext
from gateway.rules.settings import RuleBase, StaleRule


class StaleEvaluator(Evaluator):
    """Tracks when each watched device last sent a real reading or event.

    Only data counts: an availability message (a retained ``online`` redelivered whenever the gateway
    or the broker restarts) neither clears the alert of a silent sensor nor restarts its silence. After
    a restart a device's last-seen time is its last stored reading or event, else the start time, so a
    device that went silent before the restart is reported ``for`` after its last reading. Event-only
    devices (card readers, exit buttons) are quiet by nature: only being offline raises them.
    """

    settings: StaleRule

    def __init__(self, settings: RuleBase, ctx: RuleContext,
                 pending: dict[tuple[str, str], tuple[float, float | None]]) -> None:
        super().__init__(settings, ctx, pending)
        now = ctx.clock.now()
        self._seen: dict[str, float] = {}
        self._offline: dict[str, float] = {}
        #: Devices never heard of: watched since the start, and their message says so (not "last heard of").
        self._never: set[str] = set()
        for device in self.configured_devices():
            last = ctx.last_seen(device) if ctx.last_seen else None
            self._seen[device] = last if last is not None else now
            if last is None:
                self._never.add(device)

    def _heard(self, device: str, ts: float) -> None:
        if ts >= self._seen.get(device, 0.0):
            self._seen[device] = ts
        self._offline.pop(device, None)
        self._never.discard(device)
        if device in self._raised:
            self.release(device)

    def on_reading(self, r: Reading) -> None:
        """The device spoke."""
        self._heard(r.device, r.ts)

    def on_event(self, e: Event) -> None:
        """The device spoke."""
        self._heard(e.device, e.ts)

    def on_availability(self, a: Availability) -> None:
        """Offline starts the offline timer; online stops it but is no reading, so the alert stays.

        Event-only devices are judged by availability alone: for them ``online`` ends the alert too.
        """
        if a.online:
            self._offline.pop(a.device, None)
            if a.device in self.ctx.event_only and a.device in self._raised:
                self.release(a.device)
        elif self.settings.offline:
            self._offline.setdefault(a.device, a.ts)
            self._seen.setdefault(a.device, a.ts)

    def tick(self, now: float) -> None:
        """Raise devices silent or offline for too long."""
        s = self.settings
        for device, seen in self._seen.items():
            if device in self._raised or not self.in_schedule(now):
                continue
            off = self._offline.get(device)
            if off is not None and now - off >= s.offline_for:
                self.fire(device, None, "offline", off)
            elif device not in self.ctx.event_only and now - seen >= s.for_:
                self.fire(device, None, "never" if device in self._never else "silent", seen)


SETTINGS = StaleRule
EVALUATOR = StaleEvaluator
