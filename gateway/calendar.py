"""The school calendar: opening hours per weekday, holidays and make-up working days (调休).

Rules ask it "is the school open at t?" (``SchoolCalendar.is_open``). A make-up working day
overrides a weekend (or a holiday) with ``makeup_hours``; a holiday closes the whole day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gateway.values import Said, TimeWindow, parse_window

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_hours(text: str) -> list[TimeWindow]:
    """Parse ``"07:30-11:30, 13:00-17:30"`` (empty = closed); opening hours never cross midnight (split them at
    ``24:00``). Raises ValueError naming the format."""
    return [parse_window(part, cross_midnight=False) for part in (p.strip() for p in text.split(",")) if part]


def parse_days(items: list[str]) -> set[date]:
    """Parse ``["2026-10-01..2026-10-07", "2027-01-01"]`` into a set of dates."""
    out: set[date] = set()
    for item in items:
        first, _, last = item.partition("..")
        try:
            d0 = date.fromisoformat(first.strip())
            d1 = date.fromisoformat(last.strip()) if last else d0
        except ValueError:
            raise Said("{item} is not a date or range; write \"2026-10-01\" or \"2026-10-01..2026-10-07\"",
                       item=repr(item)) from None
        if d1 < d0:
            raise Said("{item} ends before it starts", item=repr(item))
        while d0 <= d1:
            out.add(d0)
            d0 += timedelta(days=1)
    return out


class CalendarSettings(BaseModel):
    """``[calendar]``: when the school is open."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    hours: dict[str, str] = Field(default_factory=lambda: {
        "mon": "07:00-18:00", "tue": "07:00-18:00", "wed": "07:00-18:00", "thu": "07:00-18:00",
        "fri": "07:00-18:00", "sat": "", "sun": ""})
    """Opening hours per weekday (``mon``..``sun``), e.g. ``"07:30-17:30"``; ``""`` = closed all day."""
    holidays: list[str] = Field(default_factory=list)
    """Closed days: dates or ``first..last`` ranges (public holidays, school breaks)."""
    makeup_workdays: list[str] = Field(default_factory=list)
    """Make-up working days (调休): open with ``makeup_hours`` even on a weekend."""
    makeup_hours: str | None = None
    """Opening hours on make-up working days; default: Monday's hours."""

    @field_validator("hours")
    @classmethod
    def _hours(cls, v: dict[str, str]) -> dict[str, str]:
        for key, text in v.items():
            if key not in WEEKDAYS:
                raise Said("unknown weekday {key}; use {days}", key=repr(key), days=", ".join(WEEKDAYS))
            parse_hours(text)
        return v

    @field_validator("holidays", "makeup_workdays")
    @classmethod
    def _days(cls, v: list[str]) -> list[str]:
        parse_days(v)
        return v

    @field_validator("makeup_hours")
    @classmethod
    def _makeup(cls, v: str | None) -> str | None:
        if v is not None:
            parse_hours(v)
        return v


class SchoolCalendar:
    """Answers whether the school is open at a moment, in the site's time zone."""

    def __init__(self, settings: CalendarSettings | None = None, tz: tzinfo | str = "Asia/Shanghai") -> None:
        s = settings or CalendarSettings()
        self.tz: tzinfo = ZoneInfo(tz) if isinstance(tz, str) else tz
        self._weekly: list[list[TimeWindow]] = [parse_hours(s.hours.get(d, "")) for d in WEEKDAYS]
        self._holidays = parse_days(s.holidays)
        self._makeup = parse_days(s.makeup_workdays)
        self._makeup_hours = parse_hours(s.makeup_hours) if s.makeup_hours is not None else self._weekly[0]

    def local(self, ts: float) -> datetime:
        """``ts`` as a local datetime."""
        return datetime.fromtimestamp(ts, self.tz)

    def hours_on(self, day: date) -> list[TimeWindow]:
        """Opening spans of a local date (empty when closed all day)."""
        if day in self._makeup:
            return self._makeup_hours
        if day in self._holidays:
            return []
        return self._weekly[day.weekday()]

    def is_workday(self, day: date) -> bool:
        """Whether the school opens at all on this local date."""
        return bool(self.hours_on(day))

    def is_open(self, ts: float) -> bool:
        """Whether the school is open at Unix time ``ts``."""
        dt = self.local(ts)
        t = dt.time()
        return any(w.contains(t) for w in self.hours_on(dt.date()))
