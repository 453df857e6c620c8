"""Behaviour every time-series backend must show (run once per backend by the ``store`` fixture)."""

from __future__ import annotations

import random
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from gateway.meters import Meters
from gateway.model import Reading
from gateway.store.base import TimeSeriesStore
from tests.store.timeline import BERLIN, SHANGHAI, T0, UTC, D, H


def minutes(device: str, metric: str, start: float, n: int, value: float | None = None) -> list[Reading]:
    rng = random.Random(f"{device}{metric}{start}")
    return [
        Reading(start + 60 * i, device, metric, value if value is not None else round(rng.uniform(-5, 10), 2))
        for i in range(n)
    ]


def test_write_then_query_range_is_start_inclusive_end_exclusive(store: TimeSeriesStore) -> None:
    rs = minutes("fridge-1", "temperature", T0, 10)
    store.write(rs)
    got = store.query("fridge-1", "temperature", T0 + 60, T0 + 300)
    assert [r.ts for r in got] == [T0 + 60, T0 + 120, T0 + 180, T0 + 240]
    assert got == rs[1:5]
    assert store.query("fridge-1", "temperature", T0, T0 + 600) == rs


def test_query_keeps_millisecond_timestamps_and_sorts(store: TimeSeriesStore) -> None:
    rs = [Reading(T0 + 2.5, "f", "temperature", 2.0), Reading(T0 + 0.125, "f", "temperature", 1.0)]
    store.write(rs)
    got = store.query("f", "temperature", T0, T0 + 10)
    assert [(r.ts, r.value) for r in got] == [(T0 + 0.125, 1.0), (T0 + 2.5, 2.0)]


def test_series_are_kept_apart(store: TimeSeriesStore) -> None:
    store.write(minutes("a", "temperature", T0, 5, 1.0) + minutes("b", "temperature", T0, 5, 2.0)
                + minutes("a", "humidity_pct", T0, 5, 50.0))
    assert {r.value for r in store.query("a", "temperature", T0, T0 + H)} == {1.0}
    assert {r.value for r in store.query("b", "temperature", T0, T0 + H)} == {2.0}
    assert {r.value for r in store.query("a", "humidity_pct", T0, T0 + H)} == {50.0}


def test_overwrite_same_timestamp_is_not_doubled(store: TimeSeriesStore) -> None:
    store.write(minutes("m", "usage_l", T0, 60, 1.0))
    store.write([Reading(T0 + 600, "m", "usage_l", 5.0)])
    store.write([Reading(T0 + 600, "m", "usage_l", 5.0)])  # a repeat of the same batch
    got = store.query("m", "usage_l", T0, T0 + H)
    assert len(got) == 60
    assert got[10].value == 5.0
    [hour] = store.aggregate("m", "usage_l", T0, T0 + H, H, "sum")
    assert hour.value == pytest.approx(59 + 5.0)
    assert hour.count == 60
    [hour_count] = store.aggregate("m", "usage_l", T0, T0 + H, H, "count")
    assert hour_count.value == 60


@pytest.mark.parametrize("fn", ["sum", "mean", "min", "max", "last", "first", "count"])
@pytest.mark.parametrize("offset", [0.0, 90.0], ids=["aligned", "unaligned"])
def test_aggregates_per_window(store: TimeSeriesStore, fn: str, offset: float) -> None:
    rs = minutes("f", "temperature", T0, 6 * 60)  # six hours
    store.write(rs)
    start, end = T0 + offset, T0 + 6 * H - offset
    got = store.aggregate("f", "temperature", start, end, H, fn)  # type: ignore[arg-type]
    assert [(b.start, b.end) for b in got] == [(T0 + i * H, T0 + (i + 1) * H) for i in range(6)]
    for i, b in enumerate(got):
        vals = [r.value for r in rs if max(start, T0 + i * H) <= r.ts < min(end, T0 + (i + 1) * H)]
        expected = {
            "sum": sum(vals), "mean": sum(vals) / len(vals), "min": min(vals), "max": max(vals),
            "last": vals[-1], "first": vals[0], "count": float(len(vals)),
        }[fn]
        assert b.value == pytest.approx(expected), (i, fn)
        assert b.count == len(vals)


def test_windows_without_data_are_omitted(store: TimeSeriesStore) -> None:
    store.write(minutes("f", "temperature", T0, 30) + minutes("f", "temperature", T0 + 3 * H, 30))
    got = store.aggregate("f", "temperature", T0, T0 + 5 * H, H, "count")
    assert [(b.start, b.value) for b in got] == [(T0, 30.0), (T0 + 3 * H, 30.0)]


def test_five_minute_windows(store: TimeSeriesStore) -> None:
    rs = minutes("f", "temperature", T0, 60)
    store.write(rs)
    got = store.aggregate("f", "temperature", T0, T0 + H, 300, "max")
    assert len(got) == 12
    for i, b in enumerate(got):
        assert b.value == max(r.value for r in rs[5 * i: 5 * i + 5])


def test_usage_across_counter_reset_sums_per_day(store: TimeSeriesStore) -> None:
    # A water meter whose counter was replaced at 12:00 local on day 2: ingest's own meter logic turns
    # the totals into usage (the reset is not negative usage) and the store sums it per local day.
    totals = []
    total = 1000.0
    day0 = datetime(2026, 3, 2, tzinfo=SHANGHAI).timestamp()
    for i in range(3 * 24 * 4):  # every 15 min for three local days
        ts = day0 + i * 900
        total = 3.0 if ts == day0 + D + 12 * H else total + 2.5
        totals.append(Reading(ts, "wm", "total_l", total))
    stored, refused = Meters().apply(None, totals)
    assert refused == []
    store.write(stored)
    got = store.aggregate("wm", "usage_l", day0, day0 + 3 * D, D, "sum", SHANGHAI)
    assert [b.start for b in got] == [day0, day0 + D, day0 + 2 * D]
    # Day 1: 95 steps of 2.5 after the first total; day 2: 48 steps, the new meter's 3 L, 47 steps.
    assert [b.value for b in got] == pytest.approx([95 * 2.5, 95 * 2.5 + 3.0, 96 * 2.5])
    [last] = store.aggregate("wm", "total_l", day0, day0 + 3 * D, 3 * D, "last", SHANGHAI)
    assert last.value == totals[-1].value


def test_days_are_local_days_in_shanghai(store: TimeSeriesStore) -> None:
    midnight = datetime(2026, 3, 3, tzinfo=SHANGHAI).timestamp()  # 16:00 UTC the day before
    store.write([
        Reading(midnight - 60, "wm", "usage_l", 1.0),  # 23:59 local on the 2nd
        Reading(midnight, "wm", "usage_l", 10.0),  # 00:00 local on the 3rd
        Reading(midnight + 60, "wm", "usage_l", 100.0),
    ])
    got = store.aggregate("wm", "usage_l", midnight - D, midnight + D, D, "sum", SHANGHAI)
    assert [(b.start, b.end, b.value) for b in got] == [
        (midnight - D, midnight, 1.0), (midnight, midnight + D, 110.0)
    ]
    utc = store.aggregate("wm", "usage_l", midnight - D, midnight + D, D, "sum")
    assert [b.value for b in utc] == [111.0]  # all three fall on 2026-03-02 UTC
    assert utc[0].start == datetime(2026, 3, 2, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("day", "hours"), [((2026, 3, 29), 23), ((2026, 10, 25), 25), ((2026, 3, 28), 24)],
    ids=["spring-forward", "fall-back", "plain"],
)
def test_days_across_dst_are_23_or_25_hours(store: TimeSeriesStore, day: tuple[int, int, int], hours: int) -> None:
    start = datetime(*day, tzinfo=BERLIN).timestamp()
    store.write(minutes("wm", "usage_l", start - H, (hours + 2) * 60, 1.0))
    got = store.aggregate("wm", "usage_l", start, start + hours * H, D, "sum", BERLIN)
    assert len(got) == 1
    assert got[0].start == start
    assert got[0].end - got[0].start == hours * H
    assert got[0].value == hours * 60


def test_hourly_windows_in_local_time(store: TimeSeriesStore) -> None:
    # India is UTC+05:30: local hours start at half past the UTC hour.
    kolkata = ZoneInfo("Asia/Kolkata")
    store.write(minutes("f", "temperature", T0, 4 * 60, 1.0))
    got = store.aggregate("f", "temperature", T0, T0 + 4 * H, H, "count", kolkata)
    assert [b.start for b in got] == [T0 - 1800, T0 + 1800, T0 + 5400, T0 + 9000, T0 + 12600]
    assert [b.value for b in got] == [30, 60, 60, 60, 30]


def test_empty_results(store: TimeSeriesStore) -> None:
    assert store.query("nobody", "temperature", T0, T0 + D) == []
    assert store.aggregate("nobody", "temperature", T0, T0 + D, H, "mean") == []
    assert store.series() == []
    store.write(minutes("f", "temperature", T0, 10))
    assert store.query("f", "temperature", T0 + H, T0 + 2 * H) == []
    assert store.aggregate("f", "temperature", T0 + H, T0 + 2 * H, H, "sum") == []
    assert store.query("f", "humidity_pct", T0, T0 + H) == []
    assert store.series("other") == []
    store.write([])


def test_series_listing_with_latest_sample(store: TimeSeriesStore) -> None:
    store.write(minutes("fridge-1", "temperature", T0, 10, 4.0) + minutes("wm", "total_l", T0, 5, 100.0))
    store.write([Reading(T0 + 3600, "fridge-1", "temperature", 5.5)])
    store.write([Reading(T0 + 60, "fridge-1", "temperature", -1.0)])  # a late, older sample
    listed = {(s.device, s.metric): (s.last_ts, s.last_value) for s in store.series()}
    assert listed == {
        ("fridge-1", "temperature"): (T0 + 3600, 5.5),
        ("wm", "total_l"): (T0 + 240, 100.0),
    }
    only = store.series("wm")
    assert [(s.device, s.metric) for s in only] == [("wm", "total_l")]
