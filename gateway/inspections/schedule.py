"""When a checklist is due: daily, weekly on a weekday, monthly on a day, or on the last school day before a
holiday, from the school calendar. Pure functions of the settings, the calendar and a date."""

from __future__ import annotations

from datetime import date, timedelta

from gateway.calendar import WEEKDAYS, SchoolCalendar
from gateway.inspections.settings import ChecklistSettings

#: How far a "last school day before a holiday" looks ahead across closed days.
HOLIDAY_LOOKAHEAD = 14
#: How far back the current period's due day is looked for (a monthly check: one month and a bit).
DUE_LOOKBACK = 62


def before_holiday(day: date, calendar: SchoolCalendar, holidays: set[date]) -> bool:
    """Whether ``day`` is a school day followed by closed days that include a holiday."""
    if not calendar.is_workday(day):
        return False
    for k in range(1, HOLIDAY_LOOKAHEAD + 1):
        nxt = day + timedelta(days=k)
        if calendar.is_workday(nxt):
            return False
        if nxt in holidays:
            return True
    return False


def is_due(c: ChecklistSettings, day: date, calendar: SchoolCalendar, holidays: set[date]) -> bool:
    """Whether the checklist is due on ``day``."""
    if c.schedule == "before_holiday":
        return before_holiday(day, calendar, holidays)
    if c.school_days_only and not calendar.is_workday(day):
        return False
    if c.schedule == "weekly":
        return WEEKDAYS[day.weekday()] == c.weekday
    if c.schedule == "monthly":
        return day.day == c.day
    return True


def current_due(c: ChecklistSettings, today: date, calendar: SchoolCalendar, holidays: set[date]) -> date | None:
    """The latest due day on or before ``today`` (the period a run saved today is for); None if none is near."""
    for k in range(DUE_LOOKBACK + 1):
        d = today - timedelta(days=k)
        if is_due(c, d, calendar, holidays):
            return d
    return None
