"""The weekly utility report's numbers, per water and power meter, built from the time-series store.

One query per meter fetches the week's use in 5-minute sums (answered from rollups); everything else
(per day, per hour, closed-hours use, night baseline, cost) is summed from those buckets in the site's
time zone, so days across a DST change are 23 or 25 hours long and holidays and make-up days (调休)
follow the school calendar. Meters publish totals; ingest turns them into usage readings and handles
counter resets, so summing usage is all a report does.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from gateway.calendar import SchoolCalendar
from gateway.config import Config, DeviceSettings
from gateway.kinds import KINDS
from gateway.reports.tariff import Use, bucket_costs, unit_price_note
from gateway.store.base import TimeSeriesStore
from gateway.values import Said

log = logging.getLogger(__name__)

FIVE_MIN = 300.0
NIGHT_HOURS = range(0, 5)  # 00:00-05:00: the night baseline's window
_WEEK = re.compile(r"^(\d{4})-W(\d{1,2})$")


@dataclass(frozen=True, slots=True)
class Week:
    """An ISO week in the site's time zone: ``[start, end)`` from Monday 00:00 local."""

    year: int
    number: int
    tz: tzinfo

    @property
    def label(self) -> str:
        """``2026-W47``."""
        return f"{self.year}-W{self.number:02d}"

    @property
    def days(self) -> list[date]:
        """Monday .. Sunday."""
        monday = date.fromisocalendar(self.year, self.number, 1)
        return [monday + timedelta(days=i) for i in range(7)]

    @property
    def start(self) -> float:
        """Monday 00:00 local, as Unix seconds."""
        return midnight(self.days[0], self.tz)

    @property
    def end(self) -> float:
        """The next Monday 00:00 local."""
        return midnight(self.days[0] + timedelta(days=7), self.tz)

    def shifted(self, weeks: int) -> Week:
        """The week ``weeks`` later (negative: earlier)."""
        return week_containing(self.days[0] + timedelta(days=7 * weeks), self.tz)


def midnight(d: date, tz: tzinfo) -> float:
    """Local midnight of ``d`` as Unix seconds."""
    return datetime(d.year, d.month, d.day, tzinfo=tz).timestamp()


def week_containing(d: date, tz: tzinfo) -> Week:
    """The ISO week that contains local date ``d``."""
    y, w, _ = d.isocalendar()
    return Week(y, w, tz)


def parse_week(text: str, tz: tzinfo) -> Week:
    """``"2026-W47"`` -> Week; raises ValueError naming the format."""
    m = _WEEK.match(text.strip())
    if not m:
        raise Said("{text} is not a week; write an ISO week such as \"2026-W47\"", text=repr(text))
    year, number = int(m.group(1)), int(m.group(2))
    try:
        date.fromisocalendar(year, number, 1)
    except ValueError:
        raise Said("{text}: {year} has no week {number}", text=repr(text), year=year, number=number) from None
    return Week(year, number, tz)


def last_full_week(now: float, tz: tzinfo) -> Week:
    """The last week that has ended at ``now``."""
    return week_containing(datetime.fromtimestamp(now, tz).date(), tz).shifted(-1)


@dataclass(frozen=True, slots=True)
class DayUse:
    """One day of a meter's week."""

    day: date
    units: float
    cost: float
    open: bool  # the school opens that day (by the calendar)
    closed_units: float
    night_baseline: float | None  # lowest hourly use 00:00-05:00, in baseline units (L/h, W)


@dataclass(frozen=True, slots=True)
class MeterWeek:
    """A meter's week: totals, comparisons, per day, per hour, closed-hours use, night baseline, cost."""

    device: str
    name: str
    water: bool
    total: float  # billing units (m³, kWh)
    cost: float
    last_week: float | None
    avg_4w: float | None
    days: list[DayUse]
    hourly: list[float]  # average use per local hour of day (billing units)
    closed_units: float
    closed_cost: float
    baseline_avg: float | None  # mean night baseline this week (L/h, W)
    baseline_prev: float | None  # mean night baseline the week before
    baseline_slope: float | None  # change of the night baseline per day over this week (L/h/day, W/day)
    buckets: int  # 5-minute buckets with data (0: the meter sent nothing)
    tariff_note: str = ""
    #: How many of the four weeks before had data (``avg_4w`` is their average, not always of four).
    avg_weeks: int = 0
    #: Closed-hours use of each earlier week with data, over the same part of the week (billing units).
    past_closed: list[float] = field(default_factory=list)
    #: Use of the same weekday in the earlier weeks with data, per weekday (0 = Monday), billing units.
    past_days: dict[int, list[float]] = field(default_factory=dict)

    @property
    def unit(self) -> str:
        """Billing unit."""
        return "m³" if self.water else "kWh"

    @property
    def baseline_unit(self) -> str:
        """Unit of the night baseline."""
        return "L/h" if self.water else "W"

    @property
    def vs_last_pct(self) -> float | None:
        """Change against last week, in %."""
        return pct(self.total, self.last_week)

    @property
    def vs_avg_pct(self) -> float | None:
        """Change against the 4-week average, in %."""
        return pct(self.total, self.avg_4w)

    @property
    def has_data(self) -> bool:
        """Whether the meter reported anything this week."""
        return self.buckets > 0


def pct(value: float, base: float | None) -> float | None:
    """``(value - base) / base`` in %, None without a base."""
    if base is None or base <= 0:
        return None
    return (value - base) / base * 100.0


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding: what kind, which meter, its money and risk, and the sentence for people
    (built by ``gateway.reports.findings``)."""

    kind: str  # closed_day / closed_hours / baseline_rising / above_average / all_normal
    device: str
    money: float
    risk: int  # 2: possible leak, 1: worth a look, 0: money only
    text: str


@dataclass(frozen=True, slots=True)
class WeeklyReport:
    """The whole report: the week, every meter, and the findings."""

    site: str
    week: Week
    meters: list[MeterWeek]
    currency: str
    generated_at: float
    findings: list[Finding] = field(default_factory=list)
    #: Until when the report counts: the week's end, or ``generated_at`` for a week still running.
    until: float = 0.0

    @property
    def complete(self) -> bool:
        """Whether the week is over (a week in progress is compared with the same part of earlier weeks)."""
        return self.until >= self.week.end

    @property
    def has_data(self) -> bool:
        """Whether any meter reported anything: a week without data says nothing, not "all is well"."""
        return any(m.has_data for m in self.meters)

    @property
    def total_cost(self) -> float:
        """Cost of every meter together."""
        return sum(m.cost for m in self.meters)


def meters(config: Config) -> list[DeviceSettings]:
    """The configured water and power meters."""
    return [d for d in config.devices if KINDS[d.kind].total is not None]


class WeeklyBuilder:
    """Builds ``WeeklyReport`` for any week from the store, the calendar and the tariffs."""

    def __init__(self, config: Config, store: TimeSeriesStore, calendar: SchoolCalendar | None = None) -> None:
        self.config = config
        self.store = store
        self.tz = config.site.tz
        self.calendar = calendar or SchoolCalendar(config.calendar, config.site.timezone)

    def build(self, week: Week, now: float, locale: str | None = None) -> WeeklyReport:
        """The report of ``week``: a week not over yet covers what has happened so far and is compared with
        the same part of the weeks before; a week that has not begun is refused (ValueError). Findings in
        ``locale`` (default: the reports' language)."""
        from gateway.reports.findings import findings

        if week.start > now:
            raise Said("week {week} has not begun yet; choose this week or an earlier one", week=week.label)
        until = min(now, week.end)
        loc = locale or self._locale()
        items = [self.meter_week(d, week, until, loc) for d in meters(self.config)]
        report = WeeklyReport(self.config.site.name or self.config.site.id, week, items,
                              self.config.reports.tariff.currency, now, until=until)
        report.findings.extend(findings(report, self.calendar, loc))
        return report

    def _locale(self) -> str:
        return self.config.reports.locale or self.config.site.locale

    def _sum(self, device: str, metric: str, start: float, end: float, every: float) -> list[tuple[float, float]]:
        try:
            return [(b.start, b.value) for b in self.store.aggregate(device, metric, start, end, every, "sum", self.tz)]
        except Exception:  # a failing store gives an empty meter, never a broken report
            log.exception("reading %s/%s for the weekly report failed", device, metric)
            return []

    def meter_week(self, d: DeviceSettings, week: Week, until: float | None = None, locale: str = "en") -> MeterWeek:
        """One meter's week, up to ``until`` (default: its end), with the same part of the four weeks before."""
        water = d.kind == "water_meter"
        metric = "usage_l" if water else "usage_wh"
        tz = self.tz
        start, end = week.start, week.end
        buckets = self._sum(d.id, metric, start, end, FIVE_MIN)
        uses = [Use(ts, v / 1000.0) for ts, v in buckets]  # L -> m³, Wh -> kWh
        tariff = self.config.reports.tariff.for_meter(d.id, water)
        month_before = self._month_before(d.id, metric, week) if tariff is not None and tariff.kind == "tiered" else {}
        costs = bucket_costs(tariff, uses, tz, month_before)

        per_day: dict[date, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])  # units, cost, closed units
        hours: dict[float, float] = defaultdict(float)  # start of each local hour (instant) -> raw use
        hour_day: dict[float, tuple[date, int]] = {}
        profile = [0.0] * 24
        closed_units = closed_cost = 0.0
        for (ts, raw), u, c in zip(buckets, uses, costs, strict=True):
            local = datetime.fromtimestamp(ts, tz)
            day = per_day[local.date()]
            day[0] += u.units
            day[1] += c
            if not self.calendar.is_open(ts):
                day[2] += u.units
                closed_units += u.units
                closed_cost += c
            hour_start = ts - (local.minute * 60 + local.second)
            hours[hour_start] += raw
            hour_day[hour_start] = (local.date(), local.hour)
            profile[local.hour] += u.units
        # A week still running is averaged over the days it has had so far.
        covered = min(end, self._latest(buckets)) if buckets else end
        n_days = max(1, sum(1 for x in week.days if midnight(x, tz) < covered))
        hourly = [v / n_days for v in profile]

        nights: dict[date, float] = {}
        for h, raw in hours.items():
            day_, hour = hour_day[h]
            if hour in NIGHT_HOURS:
                nights[day_] = raw if day_ not in nights else min(nights[day_], raw)
        days = [DayUse(x, per_day[x][0] if x in per_day else 0.0, per_day[x][1] if x in per_day else 0.0,
                       self.calendar.is_workday(x), per_day[x][2] if x in per_day else 0.0, nights.get(x))
                for x in week.days]
        prev_nights = self._nights(d.id, metric, week.shifted(-1))
        baseline = [v for v in (nights.get(x) for x in week.days) if v is not None]
        past = self._past(d.id, metric, week, (until or end) - start)
        totals = [p.total if p is not None else None for p in past]
        last = totals[0] if totals else None
        with_data = [t for t in totals if t is not None]
        past_days: dict[int, list[float]] = defaultdict(list)
        for p in past:
            for weekday, used in (p.days.items() if p is not None else ()):
                past_days[weekday].append(used)
        return MeterWeek(
            device=d.id, name=d.label, water=water,
            total=sum(u.units for u in uses), cost=sum(costs),
            last_week=last, avg_4w=(sum(with_data) / len(with_data)) if with_data else None,
            days=days, hourly=hourly, closed_units=closed_units, closed_cost=closed_cost,
            baseline_avg=(sum(baseline) / len(baseline)) if baseline else None,
            baseline_prev=(sum(prev_nights) / len(prev_nights)) if prev_nights else None,
            baseline_slope=_slope([(i, nights[x]) for i, x in enumerate(week.days) if x in nights]),
            buckets=len(buckets),
            tariff_note=unit_price_note(tariff, self.config.reports.tariff.currency, "m³" if water else "kWh",
                                        locale),
            avg_weeks=len(with_data), past_closed=[p.closed for p in past if p is not None],
            past_days=dict(past_days),
        )

    @staticmethod
    def _latest(buckets: list[tuple[float, float]]) -> float:
        return buckets[-1][0] + FIVE_MIN if buckets else 0.0

    def _past(self, device: str, metric: str, week: Week, span: float) -> list[PastWeek | None]:
        """The four weeks before ``week``, latest first, each over its first ``span`` seconds (the same part of
        the week as a week in progress has had); None for weeks without data. One query of hourly sums."""
        first = week.shifted(-4)
        hours = self._sum(device, metric, first.start, week.start, 3600.0)
        out: list[PastWeek | None] = []
        for i in range(1, 5):
            w = week.shifted(-i)
            stop = w.start + span
            total = closed = 0.0
            days: dict[int, float] = defaultdict(float)
            seen = False
            for ts, v in hours:
                if w.start <= ts < stop:
                    seen = True
                    total += v / 1000.0
                    if not self.calendar.is_open(ts):
                        closed += v / 1000.0
                    days[datetime.fromtimestamp(ts, self.tz).weekday()] += v / 1000.0
            # Only whole days are a weekday's normal: the day cut by ``span`` is left out.
            whole = {wd: u for wd, u in days.items()
                     if midnight(w.days[wd] + timedelta(days=1), self.tz) <= stop}
            out.append(PastWeek(total, closed, whole) if seen else None)
        return out

    def _nights(self, device: str, metric: str, week: Week) -> list[float]:
        """Night baselines (L/h, W) of each night of ``week`` that has data."""
        nights: dict[date, float] = {}
        for ts, v in self._sum(device, metric, week.start, week.end, 3600.0):  # one query, hourly sums
            local = datetime.fromtimestamp(ts, self.tz)
            if local.hour in NIGHT_HOURS:
                nights[local.date()] = min(v, nights.get(local.date(), v))
        return [nights[x] for x in week.days if x in nights]

    def _month_before(self, device: str, metric: str, week: Week) -> dict[date, float]:
        """Units used in each week day's month before the week starts (for tiered tariffs)."""
        out: dict[date, float] = {}
        first = week.days[0]
        month_start = first.replace(day=1)
        if month_start < first:
            vals = self._sum(device, metric, midnight(month_start, self.tz), week.start, 86_400.0)
            used = sum(v for _, v in vals) / 1000.0
            for x in week.days:
                if (x.year, x.month) == (first.year, first.month):
                    out[x] = used
        return out


@dataclass(frozen=True, slots=True)
class PastWeek:
    """An earlier week over the same part of the week: its use, its closed-hours use and each whole day's use."""

    total: float
    closed: float
    days: dict[int, float]


def _slope(points: list[tuple[int, float]]) -> float | None:
    """Least-squares slope of ``(day index, value)``; None with fewer than 3 nights."""
    if len(points) < 3:
        return None
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else None
