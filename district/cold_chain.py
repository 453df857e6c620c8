"""The cold-chain table: per site and week, each fridge's, freezer's and sample fridge's share of time in its safe
range, and its excursions with their durations, from the central store's raw temperatures.

The sites' own limits stay at the sites: the district measures against each kind's default safe range
(``gateway.kinds``), with the sites' rules of the cold sheet and the sample ledger: a reading stands until the
next one, at most ``MAX_GAP``; an excursion lasts until the first reading back in range.

With each appliance go its alerts opened in the week (from the district's alert log) and how many of them nobody
acknowledged within the site's escalation time (``AlertRecord.late``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from district.alert_log import AlertRecord
from district.central_store import CentralStore, Series
from gateway.district_settings import DistrictSettings
from gateway.kinds import KINDS
from gateway.reports.samples import spells
from gateway.reports.sheet import MAX_GAP, minutes_out_of_range

#: The device kinds of the cold chain, in the table's order.
COLD_KINDS: tuple[str, ...] = tuple(k.id for k in KINDS.values() if k.cold)


@dataclass(frozen=True, slots=True)
class ColdRow:
    """One appliance of one site in one week."""

    site: str
    site_name: str
    device: str
    kind: str
    #: 1, 2, ... among the site's appliances of the same kind (0: the only one); people see it, not the id.
    number: int
    low: float | None
    high: float | None
    #: Minutes with readings (each stands until the next, at most ``MAX_GAP``).
    minutes_covered: float
    minutes_out: float
    #: Share of the covered time in range, 0..1 (None: no readings).
    in_range: float | None
    #: Excursion durations in minutes, in time order.
    excursions: tuple[float, ...]
    #: Alerts on this appliance opened in the week, and those not acknowledged within the site's escalation time.
    alerts: int = 0
    late: int = 0


@dataclass(frozen=True, slots=True)
class ColdAlerts:
    """One site's cold-chain alerts of the week."""

    site: str
    site_name: str
    alerts: int
    late: int


def minutes_covered(points: Sequence[tuple[float, float]], start: float, end: float) -> float:
    """Minutes of ``[start, end)`` the readings cover, each standing until the next one, at most ``MAX_GAP``."""
    total = 0.0
    for i, (ts, _) in enumerate(points):
        nxt = points[i + 1][0] if i + 1 < len(points) else end
        a, b = max(ts, start), min(nxt, ts + MAX_GAP, end)
        total += max(0.0, b - a)
    return total / 60.0


def row(series: Series, site_name: str, number: int, start: float, end: float) -> ColdRow:
    """The figures of one appliance."""
    low, high = KINDS[series.kind].cold_limits or (None, None)
    covered = minutes_covered(series.points, start, end)
    out = minutes_out_of_range(series.points, start, end, low, high)
    runs = spells(list(series.points), start, end, float("-inf") if low is None else low,
                  float("inf") if high is None else high)
    return ColdRow(site=series.site, site_name=site_name, device=series.device, kind=series.kind, number=number,
                   low=low, high=high, minutes_covered=covered, minutes_out=out,
                   in_range=(covered - out) / covered if covered else None,
                   excursions=tuple(round(e.minutes, 1) for e in runs))


def cold_alerts(alerts: Sequence[AlertRecord], readings: Sequence[Series]) -> list[AlertRecord]:
    """The alerts on cold appliances: by the kind the site sent, else (an older site) by the device's series."""
    cold = {(s.site, s.device) for s in readings}
    return [a for a in alerts if a.device_kind in COLD_KINDS or (not a.device_kind and (a.site, a.device) in cold)]


def cold_chain(settings: DistrictSettings, store: CentralStore, start: float, end: float,
               alerts: Sequence[AlertRecord] = ()) -> list[ColdRow]:
    """Every cold appliance with readings or alerts in ``[start, end)``, by site (``district.toml``'s order), kind,
    device; ``alerts`` are those opened in the period (``AlertLog.opened``), judged late at ``end``."""
    found = [s for s in store.series("temperature", COLD_KINDS, start, end) if s.kind in KINDS and s.points]
    mine = cold_alerts(alerts, found)
    counts: Counter[tuple[str, str]] = Counter((a.site, a.device) for a in mine)
    late: Counter[tuple[str, str]] = Counter((a.site, a.device) for a in mine if a.late(end))
    kinds = {(s.site, s.device): s.kind for s in found}
    for a in mine:  # an appliance that raised alerts but sent no reading this week still has its line
        if (a.site, a.device) not in kinds and a.device_kind in KINDS:
            kinds[(a.site, a.device)] = a.device_kind
            found.append(Series(a.site, a.device, a.device_kind, []))
    order = {s.id: i for i, s in enumerate(settings.sites)}
    found.sort(key=lambda s: (order.get(s.site, len(order)), s.site, COLD_KINDS.index(s.kind), s.device))
    per_kind = Counter((s.site, s.kind) for s in found)
    seen: Counter[tuple[str, str]] = Counter()
    rows = []
    for s in found:
        seen[(s.site, s.kind)] += 1
        conf = settings.site(s.site)
        number = seen[(s.site, s.kind)] if per_kind[(s.site, s.kind)] > 1 else 0
        r = row(s, conf.name if conf and conf.name else s.site, number, start, end)
        rows.append(replace(r, alerts=counts[(s.site, s.device)], late=late[(s.site, s.device)]))
    return rows


def site_alerts(settings: DistrictSettings, rows: Sequence[ColdRow]) -> list[ColdAlerts]:
    """Per site (``district.toml``'s order): its cold-chain alerts of the week and those not acknowledged in time."""
    out = []
    for s in settings.sites:
        mine = [r for r in rows if r.site == s.id]
        out.append(ColdAlerts(s.id, s.name or s.id, sum(r.alerts for r in mine), sum(r.late for r in mine)))
    return out
