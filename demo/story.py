"""What happened in the demo's history, fixed relative to when the demo runs.

In the last full week (the one ``houqin report weekly`` shows by default): the school closes on Friday for a
holiday (with the weekend, three days with a duty roster; the closing checklist is done on Thursday), one
classroom's UV lamp runs too short on Tuesday evening, and another is left on in class on Wednesday morning.
The config (``demo.command``), the simulated devices (``demo/sim``) and the seeded records (``demo.seed``) all
read these dates from here, so they tell one story.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from gateway.reports.weekly import last_full_week


@dataclass(frozen=True, slots=True)
class DemoStory:
    """The dates of the demo's incidents (local dates of the site)."""

    #: Monday of the last full week.
    week: date
    #: The holiday's first day: Friday of that week.
    holiday: date
    #: The holiday with a duty roster: that Friday and the weekend after it.
    duty_days: tuple[date, ...]
    #: The last school day before the holiday: the closing checklist's day.
    closing_day: date
    #: The evening ``SHORT_ROOM``'s lamp runs too short.
    short_day: date
    #: The morning ``IN_CLASS_ROOM``'s lamp is on while the children are in.
    in_class_day: date
    #: The last school day before today: the weekly check falls on its weekday and was not done this time.
    missed_weekly: date

    @property
    def holidays(self) -> frozenset[date]:
        """Days the calendar closes beyond weekends."""
        return frozenset(self.duty_days)


#: Index (0-based) of the classroom whose lamp runs too short, and of the one left on in class.
SHORT_ROOM = 1
IN_CLASS_ROOM = 2


def demo_story(now: float, timezone: str) -> DemoStory:
    """The story of a demo run at ``now``: its dates fall in the last full week before ``now``."""
    tz = ZoneInfo(timezone)
    monday = datetime.fromtimestamp(last_full_week(now, tz).start, tz).date()
    friday = monday + timedelta(days=4)
    missed = datetime.fromtimestamp(now, tz).date() - timedelta(days=1)
    while missed.weekday() >= 5 or missed == friday:
        missed -= timedelta(days=1)
    return DemoStory(week=monday, holiday=friday, duty_days=(friday, friday + timedelta(days=1),
                                                              friday + timedelta(days=2)),
                     closing_day=monday + timedelta(days=3), short_day=monday + timedelta(days=1),
                     in_class_day=monday + timedelta(days=2), missed_weekly=missed)
