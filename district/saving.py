"""The saving table: per site and week, water in litres per child per school day and electricity in kWh per m² and
per child, from the usage the sites' meters report (``usage_l``, ``usage_wh``), ranked, with last week's rank and
the term so far; use while the school is closed, the night baseline and leak findings.

School days and opening hours are the site's own calendar (``[calendar]`` and time zone), which each site sends in
its status (``gateway.uplink.messages.SiteStatus``): a site that has not sent one is counted with the calendar's
defaults (Monday to Friday, 07:00-18:00). Only main meters count (``water_meter``, ``power_meter``), so sub-meters
are not counted twice. Use while closed and the night baseline come from quarter-hour sums: a quarter hour counts as
closed when the school is closed at its start; the night baseline is the least use of any whole hour between 00:00
and 05:00 of the week, so a baseline above zero means it never stopped at night.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from district.central_store import CentralStore
from gateway.calendar import CalendarSettings, SchoolCalendar
from gateway.district_settings import DistrictSettings
from gateway.kinds import KINDS
from gateway.reports.weekly import Week

WATER_KINDS = tuple(k.id for k in KINDS.values() if "total_l" in k.metrics)
POWER_KINDS = tuple(k.id for k in KINDS.values() if "energy_wh" in k.metrics)
#: Quarter hours: every time zone's offset and opening hours on the quarter hour fall on their edges.
BUCKET_S = 900
#: The night hours of the baseline, local time: [NIGHT_FROM, NIGHT_TO).
NIGHT_FROM, NIGHT_TO = 0, 5


@dataclass(frozen=True, slots=True)
class SavingRow:
    """One site's week."""

    site: str
    name: str
    children: int
    floor_area_m2: float
    water_l: float | None
    electricity_kwh: float | None
    school_days: int
    water_l_per_child_day: float | None
    kwh_per_m2: float | None
    kwh_per_child: float | None
    #: 1 = the most water per child and school day (the first to ask); None without figures.
    water_rank: int | None
    #: 1 = the most electricity per m².
    power_rank: int | None
    #: Water and electricity used while the school was closed (its calendar).
    water_closed_l: float | None = None
    kwh_closed: float | None = None
    #: The least water (L) and electricity (kWh) used in any whole night hour (00:00-05:00) of the week.
    night_water_l_per_h: float | None = None
    night_kw: float | None = None
    #: Water flowed every night hour at ``[saving] leak_l_per_h`` or more.
    leak: bool = False
    #: False: the site has not sent its calendar; the default one was used.
    calendar_from_site: bool = False
    #: Last week's water rank.
    last_week_rank: int | None = None
    #: The term so far (``[term] start`` to the end of this week): water per child and school day, electricity
    #: per m², their ranks, and its school days.
    term_water_l_per_child_day: float | None = None
    term_kwh_per_m2: float | None = None
    term_water_rank: int | None = None
    term_power_rank: int | None = None
    term_school_days: int = 0


def site_calendar(doc: Mapping[str, Any] | None, default_tz: str) -> SchoolCalendar:
    """The calendar a site sent in its status (``[calendar]`` and ``timezone``), or the default one."""
    if not doc:
        return SchoolCalendar(CalendarSettings(), default_tz)
    fields = {k: v for k, v in doc.items() if k in CalendarSettings.model_fields}
    return SchoolCalendar(CalendarSettings.model_validate(fields), str(doc.get("timezone") or default_tz))


def school_days_between(calendar: SchoolCalendar, first: date, last: date) -> int:
    """Days from ``first`` to ``last`` (inclusive) the school opens."""
    n, d = 0, first
    while d <= last:
        n += calendar.is_workday(d)
        d += timedelta(days=1)
    return n


def school_days(week: Week, now: float, calendar: SchoolCalendar | None = None) -> int:
    """Days of ``week`` that have begun by ``now`` on which the school opens (default calendar: weekdays)."""
    today = datetime.fromtimestamp(now, week.tz).date()
    cal = calendar or SchoolCalendar(CalendarSettings(), week.tz)
    return sum(1 for d in week.days if d <= today and cal.is_workday(d))


def _per(value: float | None, base: float) -> float | None:
    return value / base if value is not None and base > 0 else None


def _ranks(values: Mapping[str, float | None]) -> dict[str, int]:
    order = sorted((v, k) for k, v in values.items() if v is not None)
    return {k: i + 1 for i, (_, k) in enumerate(reversed(order))}


def closed_use(buckets: Mapping[float, float], calendar: SchoolCalendar) -> float:
    """Sum of the quarter hours that begin while the school is closed."""
    return sum(v for t, v in buckets.items() if not calendar.is_open(t))


def night_baseline(buckets: Mapping[float, float], calendar: SchoolCalendar, start: float, end: float) -> float | None:
    """The least use of any whole night hour (``NIGHT_FROM``-``NIGHT_TO`` local) in ``[start, end)``; None when no
    night hour has ended in it. A quarter hour without a point used nothing."""
    day = calendar.local(start).date()
    least: float | None = None
    while True:
        midnight = datetime.combine(day, datetime.min.time(), calendar.tz).timestamp()
        if midnight >= end:
            return least
        for h in range(NIGHT_FROM, NIGHT_TO):
            t0 = midnight + 3600 * h
            if t0 < start or t0 + 3600 > end:
                continue
            hour = sum(buckets.get(t0 + BUCKET_S * q, 0.0) for q in range(3600 // BUCKET_S))
            least = hour if least is None else min(least, hour)
        day += timedelta(days=1)


def _kwh(wh: float | None) -> float | None:
    return None if wh is None else wh / 1000


def saving(settings: DistrictSettings, store: CentralStore, week: Week, now: float,
           calendars: Mapping[str, Mapping[str, Any] | None] | None = None) -> list[SavingRow]:
    """Every ``[[sites]]`` entry, most water per child and school day first; sites without figures last.
    ``calendars``: site -> the calendar it sent in its status (``SiteState.calendar``)."""
    start, end = week.start, min(week.end, now)
    sent = calendars or {}
    cals = {s.id: site_calendar(sent.get(s.id), settings.timezone) for s in settings.sites}
    water = store.totals("usage_l", WATER_KINDS, start, end)
    power = store.totals("usage_wh", POWER_KINDS, start, end)
    water_q = store.buckets("usage_l", WATER_KINDS, start, end, BUCKET_S)
    power_q = store.buckets("usage_wh", POWER_KINDS, start, end, BUCKET_S)
    days = {s.id: school_days(week, now, cals[s.id]) for s in settings.sites}
    per_child_day = {s.id: _per(water.get(s.id), s.children * days[s.id]) for s in settings.sites}
    per_m2 = {s.id: _per(_kwh(power.get(s.id)), s.floor_area_m2) for s in settings.sites}
    water_rank, power_rank = _ranks(per_child_day), _ranks(per_m2)
    last_week = week.shifted(-1)
    if last_week.start < now:
        lw_water = store.totals("usage_l", WATER_KINDS, last_week.start, min(last_week.end, now))
        last_rank = _ranks({s.id: _per(lw_water.get(s.id), s.children * school_days(last_week, now, cals[s.id]))
                            for s in settings.sites})
    else:
        last_rank = {}
    term = _term(settings, store, cals, end)
    rows = []
    for s in settings.sites:
        cal, wq, pq = cals[s.id], water_q.get(s.id, {}), power_q.get(s.id, {})
        night_l = night_baseline(wq, cal, start, end) if s.id in water else None
        night_wh = night_baseline(pq, cal, start, end) if s.id in power else None
        t = term.get(s.id)
        rows.append(SavingRow(
            site=s.id, name=s.name or s.id, children=s.children, floor_area_m2=s.floor_area_m2,
            water_l=water.get(s.id), electricity_kwh=_kwh(power.get(s.id)), school_days=days[s.id],
            water_l_per_child_day=per_child_day[s.id], kwh_per_m2=per_m2[s.id],
            kwh_per_child=_per(_kwh(power.get(s.id)), s.children),
            water_rank=water_rank.get(s.id), power_rank=power_rank.get(s.id),
            water_closed_l=closed_use(wq, cal) if s.id in water else None,
            kwh_closed=_kwh(closed_use(pq, cal)) if s.id in power else None,
            night_water_l_per_h=night_l, night_kw=_kwh(night_wh),
            leak=night_l is not None and night_l >= settings.saving.leak_l_per_h,
            calendar_from_site=bool(sent.get(s.id)), last_week_rank=last_rank.get(s.id),
            **(t or {})))
    big = len(rows) + 1
    rows.sort(key=lambda r: (r.water_rank or big, r.power_rank or big, r.name))
    return rows


def _term(settings: DistrictSettings, store: CentralStore, cals: Mapping[str, SchoolCalendar],
          end: float) -> dict[str, dict[str, Any]]:
    """Site -> the term-so-far fields of its row (none without ``[term] start`` or before it)."""
    first = settings.term.start
    if first is None:
        return {}
    start = datetime.combine(first, datetime.min.time(), ZoneInfo(settings.timezone)).timestamp()
    if start >= end:
        return {}
    water = store.totals("usage_l", WATER_KINDS, start, end)
    power = store.totals("usage_wh", POWER_KINDS, start, end)
    out: dict[str, dict[str, Any]] = {}
    for s in settings.sites:
        cal = cals[s.id]
        last = datetime.fromtimestamp(end - 0.001, cal.tz).date()
        days = school_days_between(cal, first, last)
        out[s.id] = {"term_school_days": days,
                     "term_water_l_per_child_day": _per(water.get(s.id), s.children * days),
                     "term_kwh_per_m2": _per(_kwh(power.get(s.id)), s.floor_area_m2)}
    water_rank = _ranks({k: v["term_water_l_per_child_day"] for k, v in out.items()})
    power_rank = _ranks({k: v["term_kwh_per_m2"] for k, v in out.items()})
    for k, v in out.items():
        v["term_water_rank"], v["term_power_rank"] = water_rank.get(k), power_rank.get(k)
    return out
