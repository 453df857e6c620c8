"""The value types settings use: parsed once into seconds, times and windows, with errors that name the fix."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from pydantic import BaseModel, ValidationError

from gateway.values import (
    ClockTime,
    DaytimeWindow,
    Duration,
    Id,
    OvernightWindow,
    TimeWindow,
    parse_clock,
    parse_duration,
    parse_window,
)


class Model(BaseModel):
    wait: Duration = 0.0
    at: ClockTime = time(8, 0)
    night: OvernightWindow = TimeWindow(time(22, 0), time(6, 0))
    day: DaytimeWindow = TimeWindow(time(7, 0), time(18, 0))
    id: Id = "x"


def test_a_model_holds_parsed_values_and_writes_them_back_as_written() -> None:
    m = Model.model_validate({"wait": "1h30m", "at": "07:30", "night": "20:00-08:00", "day": "07:30-24:00",
                              "id": "kitchen-fridge"})
    assert m.wait == 5400.0
    assert m.at == time(7, 30)
    assert m.night == TimeWindow(time(20, 0), time(8, 0)) and m.night.crosses_midnight
    assert m.day.contains(time(23, 59)) and not m.day.contains(time(7, 0))
    assert m.model_dump(mode="json") == {"wait": 5400.0, "at": "07:30", "night": "20:00-08:00",
                                         "day": "07:30-24:00", "id": "kitchen-fridge"}
    assert Model.model_validate(m.model_dump(mode="json")) == m


def test_durations_take_text_numbers_and_timedeltas() -> None:
    assert parse_duration("90s") == 90.0
    assert parse_duration(timedelta(minutes=10)) == 600.0
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("ten minutes")


@pytest.mark.parametrize(("text", "inside", "outside"), [
    ("22:00-06:00", [time(23, 0), time(2, 0)], [time(6, 0), time(12, 0)]),
    ("20:00-24:00", [time(20, 0), time(23, 59)], [time(0, 0), time(19, 59)]),
    ("00:00-24:00", [time(0, 0), time(12, 0)], []),
])
def test_windows_contain_their_times(text: str, inside: list[time], outside: list[time]) -> None:
    w = parse_window(text, cross_midnight=True)
    assert all(w.contains(t) for t in inside)
    assert not any(w.contains(t) for t in outside)


@pytest.mark.parametrize(("text", "says"), [
    ("7-18", "HH:MM-HH:MM"),
    ("08:00", "HH:MM-HH:MM"),
    ("25:00-26:00", "out of range"),
    ("08:00-24:30", "out of range"),
    ("08:00-08:00", "same time"),
])
def test_bad_windows_name_the_fix(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_window(text, cross_midnight=True)


def test_whether_a_window_may_cross_midnight_is_the_settings_choice() -> None:
    assert parse_window("18:00-07:00", cross_midnight=True).crosses_midnight
    with pytest.raises(ValueError, match=r"cannot cross midnight, split them \(e.g. \"18:00-24:00\" and"):
        parse_window("18:00-07:00", cross_midnight=False)
    with pytest.raises(ValidationError, match="cannot cross midnight"):
        Model.model_validate({"day": "18:00-07:00"})


def test_clock_times() -> None:
    assert parse_clock("8:05") == time(8, 5)
    assert parse_clock("24:00", end_of_day=True) == time(0, 0)
    for bad in ("24:00", "8", "08:60", 8):
        with pytest.raises(ValueError, match="not a time of day"):
            parse_clock(bad)


def test_ids_follow_the_contract() -> None:
    with pytest.raises(ValidationError, match="lower-case letters"):
        Model.model_validate({"id": "Kitchen Fridge"})
