"""The saving table: per site and week, water in litres per child per school day and electricity in kWh per m² and
per child, from the usage the sites' meters report (``usage_l``, ``usage_wh``), ranked.

School days are the week's weekdays (up to now in a running week): the sites' holidays and 调休 stay in their own
calendars. Only main meters count (``water_meter``, ``power_meter``), so sub-meters are not counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from district.central_store import CentralStore
from gateway.district_settings import DistrictSettings
from gateway.kinds import KINDS
from gateway.reports.weekly import Week

WATER_KINDS = tuple(k.id for k in KINDS.values() if "total_l" in k.metrics)
POWER_KINDS = tuple(k.id for k in KINDS.values() if "energy_wh" in k.metrics)


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


def school_days(week: Week, now: float) -> int:
    """Weekdays of ``week`` that have begun by ``now``."""
    today = datetime.fromtimestamp(now, week.tz).date()
    return sum(1 for d in week.days[:5] if d <= today)


def _per(value: float | None, base: float) -> float | None:
    return value / base if value is not None and base > 0 else None


def _ranks(values: dict[str, float | None]) -> dict[str, int]:
    order = sorted((v, k) for k, v in values.items() if v is not None)
    return {k: i + 1 for i, (_, k) in enumerate(reversed(order))}


def saving(settings: DistrictSettings, store: CentralStore, week: Week, now: float) -> list[SavingRow]:
    """Every ``[[sites]]`` entry, most water per child and school day first; sites without figures last."""
    start, end = week.start, min(week.end, now)
    water = store.totals("usage_l", WATER_KINDS, start, end)
    power = store.totals("usage_wh", POWER_KINDS, start, end)
    days = school_days(week, now)
    per_child_day = {s.id: _per(water.get(s.id), s.children * days) for s in settings.sites}
    per_m2 = {s.id: _per(power[s.id] / 1000 if s.id in power else None, s.floor_area_m2) for s in settings.sites}
    water_rank, power_rank = _ranks(per_child_day), _ranks(per_m2)
    rows = [SavingRow(site=s.id, name=s.name or s.id, children=s.children, floor_area_m2=s.floor_area_m2,
                      water_l=water.get(s.id), electricity_kwh=power[s.id] / 1000 if s.id in power else None,
                      school_days=days, water_l_per_child_day=per_child_day[s.id], kwh_per_m2=per_m2[s.id],
                      kwh_per_child=_per(power[s.id] / 1000 if s.id in power else None, s.children),
                      water_rank=water_rank.get(s.id), power_rank=power_rank.get(s.id))
            for s in settings.sites]
    big = len(rows) + 1
    rows.sort(key=lambda r: (r.water_rank or big, r.power_rank or big, r.name))
    return rows

