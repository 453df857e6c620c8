"""Pulse meters (water reed switch, electricity S0): every pulse counted durably, totals and rates published."""

from __future__ import annotations

import logging
from collections import deque

from gateway.clock import Clock
from sensors.config import PulseSettings
from sensors.debounce import Debouncer
from sensors.hardware import InputLine
from sensors.journal import PulseJournal
from sensors.messages import Emitter

log = logging.getLogger(__name__)

#: With no pulse for this long the flow/power is reported as zero.
RATE_ZERO_AFTER_S = 3600.0


def pulse_rate(times: list[float], now: float, window: float) -> float:
    """Pulses per second from recent pulse times (oldest first).

    Averages over the pulses of the last ``window`` seconds when there are several; with sparse pulses
    (an S0 meter at low load) uses the last gap. Either way it falls as the time since the last pulse
    grows, so a stopped flow decays instead of freezing at its last value.
    """
    if len(times) < 2 or now - times[-1] > RATE_ZERO_AFTER_S:
        return 0.0
    recent = [t for t in times if t >= now - window]
    if len(recent) >= 3:
        rate = (len(recent) - 1) / max(recent[-1] - recent[0], 1e-6)
    else:
        rate = 1.0 / max(times[-1] - times[-2], 1e-6)
    since_last = now - times[-1]
    if since_last > 0 and since_last > 1.0 / rate:
        rate = 1.0 / since_last
    return rate


class PulseMeter:
    """One ``[[sensors]] type = "pulse"`` entry: debounce, count into the journal, publish on ``tick``."""

    def __init__(self, settings: PulseSettings, factor: float, line: InputLine, journal: PulseJournal,
                 emitter: Emitter, clock: Clock) -> None:
        self.settings = settings
        self.device = settings.device
        self.factor = factor
        self.journal = journal
        self._emit = emitter
        self._clock = clock
        self._line = line
        self._times: deque[float] = deque(maxlen=256)
        now = clock.now()
        self._debounce = Debouncer(settings.bounce_s, line.read(), now)
        self._next_publish = now
        line.on_change(self._edge)

    def _edge(self, active: bool) -> None:
        for level, since in self._debounce.edge(active, self._clock.now()):
            if level:
                self._count(since)

    def _count(self, at: float) -> None:
        self.journal.add(1)
        self._times.append(at)

    @property
    def total(self) -> float:
        """The cumulative total in litres or Wh."""
        return round(self.journal.total * self.factor, 6)

    def tick(self, now: float) -> None:
        """Confirm a settled pulse and publish when the interval is due."""
        for level, since in self._debounce.settle(now):
            if level:
                self._count(since)
        self.journal.maybe_sync()
        # the second test catches the wall clock jumping back (NTP at boot on a Pi without a clock chip)
        if now >= self._next_publish or self._next_publish - now > self.settings.interval:
            self._next_publish = now + self.settings.interval
            self.publish(now)

    def publish(self, now: float) -> None:
        """Sync the journal (write-ahead) and publish the total with the current flow or power."""
        pulses = self.journal.sync()
        total = round(pulses * self.factor, 6)
        rate = pulse_rate(list(self._times), now, max(self.settings.interval * 3, 60.0))
        if self.settings.meter == "water":
            metrics = {"total_l": total, "flow_lpm": round(rate * 60.0 * self.factor, 3)}
        else:
            metrics = {"energy_wh": total, "power_w": round(rate * 3600.0 * self.factor, 3)}
        self._emit.state(self.device, metrics, total=True, ts=now)

    def close(self) -> None:
        """Release the pin and close the journal."""
        self._line.close()
        self.journal.close()
