from __future__ import annotations

import pytest

from gateway import contract
from gateway.model import Decoded, Event, Reading
from gateway.validate import MAX_AGE_S, MAX_FUTURE_S, check_size, check_ts, check_value, validate

NOW = 1_790_000_000.0


def r(metric: str, value: float, ts: float = NOW) -> Reading:
    return Reading(ts, "d", metric, value)


@pytest.mark.parametrize(("reading", "reason"), [
    (r("temperature", float("nan")), "not_finite"),
    (r("temperature", float("inf")), "not_finite"),
    (r("temperature", 85.0), "ds18b20_power_on"),
    (r("temperature", -127.0), "sensor_disconnected"),
    (r("temperature", 200.0), "out_of_range"),
    (r("temperature", -60.0), "out_of_range"),
    (r("humidity_pct", 101.0), "out_of_range"),
    (r("total_l", -1.0), "out_of_range"),
])
def test_refused_values(reading: Reading, reason: str) -> None:
    bad = check_value(reading)
    assert bad is not None and bad.reason == reason


@pytest.mark.parametrize("reading", [r("temperature", 84.9), r("temperature", -55.0), r("temperature", 125.0),
                                     r("humidity_pct", 100.0), r("contact", 1.0), r("power_w", -20.0)])
def test_accepted_values(reading: Reading) -> None:
    assert check_value(reading) is None


def test_timestamps() -> None:
    assert check_ts(NOW + MAX_FUTURE_S, NOW) is None
    assert check_ts(NOW - MAX_AGE_S, NOW) is None
    future = check_ts(NOW + MAX_FUTURE_S + 1, NOW)
    past = check_ts(NOW - MAX_AGE_S - 1, NOW)
    assert future is not None and future.reason == "ts_future"
    assert past is not None and past.reason == "ts_past"


def test_size() -> None:
    assert check_size(b"x" * contract.MAX_PAYLOAD_BYTES) is None
    bad = check_size(b"x" * (contract.MAX_PAYLOAD_BYTES + 1))
    assert bad is not None and bad.reason == "too_large"


def test_a_bad_value_refuses_that_reading_only_once_per_reason() -> None:
    d = Decoded(readings=[r("temperature", 85.0), r("humidity_pct", 50.0), r("battery_pct", 140.0),
                          r("humidity_pct", -3.0)], seq=3)
    kept, refusals = validate(d, NOW)
    assert kept.readings == [r("humidity_pct", 50.0)]
    assert kept.seq == 3
    assert sorted(x.reason for x in refusals) == ["ds18b20_power_on", "out_of_range"]


def test_future_timestamp_refuses_readings_and_events() -> None:
    ts = NOW + 365 * 86400
    d = Decoded(readings=[r("temperature", 4.0, ts)], events=[Event(ts, "d", "card")])
    kept, refusals = validate(d, NOW)
    assert kept.readings == [] and kept.events == []
    assert [x.reason for x in refusals] == ["ts_future"]


def test_clean_message_is_returned_as_is() -> None:
    d = Decoded(readings=[r("temperature", 4.0)])
    kept, refusals = validate(d, NOW)
    assert kept is d and refusals == []
