from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from gateway.calendar import CalendarSettings, SchoolCalendar, parse_hours

TZ = ZoneInfo("Asia/Shanghai")


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=TZ).timestamp()


@pytest.fixture
def cal() -> SchoolCalendar:
    settings = CalendarSettings(
        hours={"mon": "07:30-17:30", "tue": "07:30-17:30", "wed": "07:30-17:30", "thu": "07:30-17:30",
               "fri": "07:30-11:30, 13:00-17:00"},
        holidays=["2026-10-01..2026-10-07"],
        makeup_workdays=["2026-09-27", "2026-10-10"],
        makeup_hours="08:00-16:00",
    )
    return SchoolCalendar(settings, "Asia/Shanghai")


def test_weekday_hours(cal: SchoolCalendar) -> None:
    assert cal.is_open(ts("2026-11-16T07:30"))  # Monday opening
    assert not cal.is_open(ts("2026-11-16T07:29"))
    assert not cal.is_open(ts("2026-11-16T17:30"))  # end is exclusive
    assert cal.is_open(ts("2026-11-20T10:00"))  # Friday morning
    assert not cal.is_open(ts("2026-11-20T12:00"))  # Friday lunch break
    assert not cal.is_open(ts("2026-11-21T10:00"))  # Saturday
    assert not cal.is_open(ts("2026-11-22T10:00"))  # Sunday (not listed = closed)


def test_holiday_and_makeup_saturday(cal: SchoolCalendar) -> None:
    assert not cal.is_open(ts("2026-10-01T10:00"))  # National Day, a Thursday
    assert not cal.is_open(ts("2026-10-07T10:00"))  # last day of the range
    assert cal.is_open(ts("2026-10-08T10:00"))
    assert cal.is_open(ts("2026-10-10T10:00"))  # 调休 Saturday, make-up hours
    assert not cal.is_open(ts("2026-10-10T07:45"))  # before make-up hours
    assert not cal.is_open(ts("2026-10-17T10:00"))  # an ordinary Saturday
    assert cal.is_open(ts("2026-09-27T15:59"))  # 调休 Sunday


def test_time_zone_is_the_sites() -> None:
    cal = SchoolCalendar(CalendarSettings(), "Asia/Shanghai")
    # 01:00 UTC Monday is 09:00 in Shanghai: open; 12:00 UTC is 20:00: closed.
    assert cal.is_open(datetime(2026, 11, 16, 1, 0, tzinfo=ZoneInfo("UTC")).timestamp())
    assert not cal.is_open(datetime(2026, 11, 16, 12, 0, tzinfo=ZoneInfo("UTC")).timestamp())


def test_until_midnight() -> None:
    assert parse_hours("20:00-24:00")[0][0].hour == 20
    cal = SchoolCalendar(CalendarSettings(hours={"mon": "20:00-24:00"}), "Asia/Shanghai")
    assert cal.is_open(ts("2026-11-16T23:59:59"))


@pytest.mark.parametrize("bad", [
    {"hours": {"monday": "07:00-18:00"}},
    {"hours": {"mon": "7-18"}},
    {"hours": {"mon": "18:00-07:00"}},
    {"holidays": ["2026-13-01"]},
    {"holidays": ["2026-10-07..2026-10-01"]},
    {"makeup_hours": "25:00-26:00"},
])
def test_bad_calendar_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        CalendarSettings.model_validate(bad)
