"""A classroom's UV lamp on a smart plug that measures power (kind ``uv_lamp``): the disinfection record's source.

On every school day it is switched on in the evening after the children have left and runs long enough; on
the story's days it runs too short, or is switched on while the children are in (``demo.story``).
"""

from __future__ import annotations

from datetime import date

from demo.sim.base import Every, Observation, StateObs, device_rng
from demo.sim.schedule import SchoolDay

#: What a classroom's UV lamp draws (W) and what the plug reads with the lamp off.
LAMP_W = 36.0
IDLE_W = 0.4
#: The evening session: from 18:10 local (a few minutes later per room), this many minutes.
EVENING_START_H = 18 + 10 / 60
SESSION_MIN = 45.0
#: A session cut short (somebody switched it off), in minutes: below the 30 minutes that count.
SHORT_MIN = 18.0
#: Left on in class: 10:00 to 10:25.
IN_CLASS_H = (10.0, 10 + 25 / 60)


class UvLamp:
    """A UV lamp's plug reporting ``power_w`` every minute (and at once when switched)."""

    def __init__(self, device: str, seed: int, room_index: int, short_days: frozenset[date] = frozenset(),
                 in_class_days: frozenset[date] = frozenset(), report_every_s: float = 60.0) -> None:
        self.device = device
        self._rng = device_rng(seed, device)
        self.start_h = EVENING_START_H + 5 * room_index / 60
        self.short_days = short_days
        self.in_class_days = in_class_days
        self._on = False
        self._report = Every(report_every_s)

    def lit(self, t: float, day: SchoolDay) -> bool:
        """Whether the lamp is on at ``t``."""
        if not day.school_day(t):
            return False
        h = day.hour(t)
        d = day.local(t).date()
        if d in self.in_class_days and IN_CLASS_H[0] <= h < IN_CLASS_H[1]:
            return True
        minutes = SHORT_MIN if d in self.short_days else SESSION_MIN
        return self.start_h <= h < self.start_h + minutes / 60

    def step(self, t: float, dt: float, day: SchoolDay) -> list[Observation]:
        """Report on schedule, and at once when the lamp is switched."""
        on = self.lit(t, day)
        switched = on != self._on
        self._on = on
        if self._report.due(t) or switched:
            watts = LAMP_W * self._rng.uniform(0.97, 1.03) if on else IDLE_W
            return [StateObs(t, self.device, {"power_w": round(watts, 1)})]
        return []
