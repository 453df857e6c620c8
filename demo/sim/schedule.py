"""The school day in the site's time zone: when children, kitchen and cleaners are about."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

#: Water use on a school day by local hour (L/min averaged): arrival, lunch, nap, cleaning, night ~0.
WATER_LPM_BY_HOUR: tuple[float, ...] = (
    0, 0, 0, 0, 0, 0,            # 00-05 closed
    2, 14, 24, 14, 12, 28,       # 06 kitchen prep, 07-08 arrival peak, 11 lunch
    22, 4, 10, 14, 18, 8,        # 12 lunch washing, 13 nap, 16 cleaning
    1.5, 0.5, 0, 0, 0, 0,        # evening, night
)
#: Electricity beyond the base load on a school day by local hour (W): lights, kitchen, air conditioning.
POWER_W_BY_HOUR: tuple[float, ...] = (
    0, 0, 0, 0, 0, 0,
    800, 3500, 6000, 6500, 6500, 8000,
    7500, 4000, 5500, 6000, 5000, 2500,
    600, 200, 0, 0, 0, 0,
)


class SchoolDay:
    """Local time facts for one site: weekday or not, hour of day, kitchen and gate rush hours."""

    def __init__(self, timezone: str = "Asia/Shanghai", holidays: Iterable[date] = ()) -> None:
        self.tz = ZoneInfo(timezone)
        #: Weekdays the school is closed (the demo's holiday): used like a weekend.
        self.holidays = frozenset(holidays)

    def local(self, t: float) -> datetime:
        """``t`` (Unix s) as a local datetime."""
        return datetime.fromtimestamp(t, self.tz)

    def hour(self, t: float) -> float:
        """Local hour of day as a float, e.g. 7.5 for 07:30."""
        d = self.local(t)
        return d.hour + d.minute / 60 + d.second / 3600

    def school_day(self, t: float) -> bool:
        """Monday to Friday except ``holidays`` (make-up days are the calendar's business, not the simulator's)."""
        d = self.local(t)
        return d.weekday() < 5 and (not self.holidays or d.date() not in self.holidays)

    def _profile(self, t: float, table: tuple[float, ...]) -> float:
        h = self.hour(t)
        i = int(h) % 24
        frac = h - int(h)
        # interpolate between hours so the curve has no steps
        return table[i] * (1 - frac) + table[(i + 1) % 24] * frac

    def water_lpm(self, t: float) -> float:
        """Typical water flow now (L/min) before randomness; weekends use a trickle."""
        base = self._profile(t, WATER_LPM_BY_HOUR)
        return base if self.school_day(t) else base * 0.03

    def power_w(self, t: float) -> float:
        """Typical load beyond the base load now (W)."""
        base = self._profile(t, POWER_W_BY_HOUR)
        return base if self.school_day(t) else base * 0.05

    def kitchen_busy(self, t: float) -> bool:
        """06:00-17:00 on school days: fridge doors open often."""
        return self.school_day(t) and 6.0 <= self.hour(t) < 17.0

    def gate_rush(self, t: float) -> bool:
        """Arrival (07:30-08:45) and pick-up (16:30-17:45) on school days."""
        h = self.hour(t)
        return self.school_day(t) and (7.5 <= h < 8.75 or 16.5 <= h < 17.75)

    def gate_quiet_hours(self, t: float) -> bool:
        """School hours between the rushes: deliveries and the odd visitor."""
        h = self.hour(t)
        return self.school_day(t) and 8.75 <= h < 16.5
