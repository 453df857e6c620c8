"""UV lamp sessions from generated power series: normal, too short, across midnight, a silent plug, still on."""

from __future__ import annotations

from gateway.inspections.sessions import overlap, sessions

MIN = 60.0


def series(spans: list[tuple[float, float]], until: float, every: float = 5 * MIN,
           watts: float = 30.0) -> list[tuple[float, float]]:
    """A plug reporting every ``every`` s and at each switch, ``watts`` inside ``spans`` and 0.4 W (standby) outside."""
    times = {float(t) for t in range(0, int(until), int(every))} | {t for s in spans for t in s}
    return [(t, watts if any(a <= t < b for a, b in spans) else 0.4) for t in sorted(times) if t < until]


def test_normal_short_and_across_midnight_sessions_are_found_exactly() -> None:
    day = 86400.0
    spans = [(18 * 3600, 18 * 3600 + 40 * MIN),             # normal: 40 min
             (day + 18 * 3600, day + 18 * 3600 + 20 * MIN),  # too short: 20 min
             (2 * day - 20 * MIN, 2 * day + 30 * MIN)]       # 23:40 -> 00:30
    found = sessions(series(spans, 3 * day), threshold_w=10, max_gap=10 * MIN, until=3 * day)
    assert [(s.start, s.end) for s in found] == spans
    assert [s.effective_s(5 * MIN) / MIN for s in found] == [35, 15, 45]
    assert all(s.peak_w == 30 for s in found)


def test_a_plug_silent_while_on_ends_its_session_at_its_last_reading() -> None:
    readings = [(0.0, 0.0), (600.0, 25.0), (900.0, 25.0), (1200.0, 25.0), (5000.0, 25.0), (5300.0, 0.0)]
    found = sessions(readings, threshold_w=10, max_gap=600, until=6000)
    assert [(s.start, s.end) for s in found] == [(600, 1200), (5000, 5300)]


def test_a_session_still_on_stays_open_unless_the_plug_went_quiet() -> None:
    readings = [(0.0, 0.0), (300.0, 25.0), (600.0, 25.0)]
    (open_,) = sessions(readings, threshold_w=10, max_gap=600, until=900)
    assert open_.end is None and open_.on_s(900) == 600 and open_.effective_s(300, 900) == 300
    (quiet,) = sessions(readings, threshold_w=10, max_gap=600, until=2000)
    assert quiet.end == 600


def test_power_at_the_threshold_is_off() -> None:
    assert sessions([(0.0, 10.0), (60.0, 10.0)], threshold_w=10, max_gap=600) == []


def test_overlap_with_occupied_hours() -> None:
    assert overlap(100, 400, [(0, 150), (300, 1000)]) == 150
    assert overlap(100, 200, []) == 0
