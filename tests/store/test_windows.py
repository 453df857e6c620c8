"""Window edges in local time: days at local midnights (DST days 23/25 h), sub-day grids, errors."""

from __future__ import annotations

import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from gateway.store.windows import aligned, clipped, window_edges

UTC = ZoneInfo("UTC")
SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
H = 3_600_000
D = 86_400_000


def ms(*args: int, tz: ZoneInfo = UTC) -> int:
    return round(datetime(*args, tzinfo=tz).timestamp() * 1000)  # type: ignore[misc]


def test_utc_days() -> None:
    edges = window_edges(ms(2026, 3, 2, 5), ms(2026, 3, 4, 1), D)
    assert edges == [ms(2026, 3, 2), ms(2026, 3, 3), ms(2026, 3, 4), ms(2026, 3, 5)]


def test_shanghai_days_start_at_local_midnight() -> None:
    edges = window_edges(ms(2026, 3, 2, 12), ms(2026, 3, 3, 12), D, SHANGHAI)
    assert edges == [ms(2026, 3, 2, tz=SHANGHAI), ms(2026, 3, 3, tz=SHANGHAI), ms(2026, 3, 4, tz=SHANGHAI)]
    assert edges[0] == ms(2026, 3, 1, 16)  # 16:00 UTC the day before


@pytest.mark.parametrize(("day", "hours"), [((2026, 3, 29), 23), ((2026, 10, 25), 25), ((2026, 7, 1), 24)])
def test_berlin_days_across_dst(day: tuple[int, int, int], hours: int) -> None:
    start = ms(*day, tz=BERLIN)
    edges = window_edges(start, start + 1, D, BERLIN)
    assert edges == [start, start + hours * H]


def test_week_windows_count_from_1970_local() -> None:
    # 1970-01-01 was a Thursday, so 7-day windows start on Thursdays (as InfluxDB's time(7d) does).
    edges = window_edges(ms(2026, 3, 2, tz=SHANGHAI), ms(2026, 3, 3, tz=SHANGHAI), 7 * D, SHANGHAI)
    assert edges == [ms(2026, 2, 26, tz=SHANGHAI), ms(2026, 3, 5, tz=SHANGHAI)]
    assert datetime.fromtimestamp(edges[0] / 1000, SHANGHAI).strftime("%A") == "Thursday"


def test_hours_across_berlin_spring_forward_stay_on_the_hour() -> None:
    start, end = ms(2026, 3, 28, 22), ms(2026, 3, 29, 4)
    edges = window_edges(start, end, H, BERLIN)
    assert edges == list(range(start, end + 1, H))


def test_two_hour_windows_cut_at_an_off_grid_offset_change() -> None:
    # Berlin springs forward at 01:00 UTC (02:00 CET -> 03:00 CEST). Local two-hour windows are on
    # odd UTC hours before and even UTC hours after, so 01:00-02:00 UTC is a one-hour window.
    start, end = ms(2026, 3, 28, 21), ms(2026, 3, 29, 6)
    edges = window_edges(start, end, 2 * H, BERLIN)
    assert edges == [ms(2026, 3, 28, 21), ms(2026, 3, 28, 23), ms(2026, 3, 29, 1), ms(2026, 3, 29, 2),
                     ms(2026, 3, 29, 4), ms(2026, 3, 29, 6)]


def test_half_hour_zone_hours() -> None:
    kolkata = ZoneInfo("Asia/Kolkata")
    edges = window_edges(ms(2026, 3, 2), ms(2026, 3, 2, 2), H, kolkata)
    assert edges == [ms(2026, 3, 1, 23, 30), ms(2026, 3, 2, 0, 30), ms(2026, 3, 2, 1, 30), ms(2026, 3, 2, 2, 30)]
    assert not aligned(edges, ms(2026, 3, 2), ms(2026, 3, 2, 2), H)
    assert aligned(edges, ms(2026, 3, 2), ms(2026, 3, 2, 2), 300_000)


def test_aligned_and_clipped() -> None:
    edges = [0, H, 2 * H]
    assert aligned(edges, 0, 2 * H, H)
    assert not aligned(edges, 60_000, 2 * H, H)
    assert aligned(edges, 300_000, 2 * H, 300_000)
    assert clipped(edges, 60_000, 90 * 60_000) == [(60_000, H), (H, 90 * 60_000)]


@pytest.mark.parametrize(
    ("start", "end", "every", "match"),
    [(0, H, 0, "every must be > 0"), (H, H, H, "must be after start"), (0, 400 * D, 1, "too many")],
)
def test_bad_windows_are_refused_with_the_fix(start: int, end: int, every: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        window_edges(start, end, every)


@pytest.mark.parametrize("zone", ["America/Santiago", "America/Havana", "Australia/Lord_Howe", "Asia/Kathmandu"])
@pytest.mark.parametrize("every", [D, H, 2 * H])
def test_edges_cover_a_year_in_odd_zones_strictly_increasing(zone: str, every: int) -> None:
    # Midnight DST changes (Santiago, Havana), a half-hour DST (Lord Howe), a +05:45 zone (Kathmandu).
    start = ms(2026, 1, 1)
    edges = window_edges(start, start + 366 * D, every, ZoneInfo(zone))
    assert edges[0] <= start < edges[1] and edges[-2] < start + 366 * D <= edges[-1]
    lengths = {b - a for a, b in itertools.pairwise(edges)}
    assert all(0 < n <= every + H for n in lengths)  # an off-grid offset change may cut a short window
    if every == D:
        assert min(lengths) >= D - H  # days are 23 to 25 hours (23.5 / 24.5 on Lord Howe)
