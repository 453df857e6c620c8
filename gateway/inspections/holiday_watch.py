"""The holiday shutdown proven by the meters: during a holiday (``[calendar] holidays``) a water meter counting
more than ``water_allowance_l`` in an hour, or a power meter drawing more than its learned closed-time base load
(plus a margin), raises "假期中仍在用水 / 用电" with the figure and the meter; the person on duty that day
(``[inspections.holidays] duty``) is named and, as for every alert that day, told first. Judged once per finished
local hour."""

from __future__ import annotations

import logging
import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from gateway.alerts.service import AlertService
from gateway.alerts.store import OpenRequest
from gateway.calendar import SchoolCalendar, parse_days
from gateway.clock import Clock
from gateway.config import Config
from gateway.contract import METRICS
from gateway.i18n import tr
from gateway.inspections.duty import DutyRoster
from gateway.kinds import KINDS
from gateway.store.base import TimeSeriesStore
from gateway.ticker import Ticker

log = logging.getLogger(__name__)

HOLIDAY_RULE = "holiday-use"
HOUR = 3600.0


class HolidayWatch:
    """Judges each finished hour of a holiday against the meters; ``tick(now)`` is what time moves."""

    def __init__(self, config: Config, store: TimeSeriesStore, alerts: AlertService | None, clock: Clock,
                 every: float = 60.0, roster: DutyRoster | None = None) -> None:
        self.config = config
        self.settings = config.inspections.holidays
        self.store = store
        self.alerts = alerts
        self.clock = clock
        self.locale = config.site.locale
        self.calendar = SchoolCalendar(config.calendar, config.site.tz)
        self.tz = self.calendar.tz
        self.holidays = parse_days(config.calendar.holidays)
        self.roster = roster or DutyRoster(config, None, clock)
        self.meters = [(d.id, d.label, KINDS[d.kind].total) for d in config.devices if KINDS[d.kind].total]
        self._judged: float | None = None
        self._base: dict[tuple[str, date], float | None] = {}
        self._ticker = Ticker(self.tick, every, "houqin-holidays")

    def start(self) -> None:
        """Tick in a thread."""
        if self.holidays and self.meters:
            self._ticker.start()

    def stop(self) -> None:
        """Stop ticking."""
        self._ticker.stop()

    def on_duty(self, day: date) -> str | None:
        """Who is on duty on ``day``."""
        return self.roster.on_duty(day)

    def is_holiday(self, ts: float) -> bool:
        """Whether ``ts`` falls on a holiday."""
        return datetime.fromtimestamp(ts, self.tz).date() in self.holidays

    def _hour_start(self, ts: float) -> float:
        local = datetime.fromtimestamp(ts, self.tz).replace(minute=0, second=0, microsecond=0)
        return local.timestamp()

    def base_w(self, device: str, day: date) -> float | None:
        """The power meter's base load (W): the median hourly use in closed hours (not holidays) of the
        ``learn_days`` before ``day``; None without enough data."""
        key = (device, day)
        if key not in self._base:
            end = datetime(day.year, day.month, day.day, tzinfo=self.tz).timestamp()
            start = end - self.settings.learn_days * 86400
            hours = [b.value for b in self.store.aggregate(device, "usage_wh", start, end, HOUR, "sum", self.tz)
                     if not self.calendar.is_open(b.start) and not self.is_holiday(b.start)]
            self._base[key] = statistics.median(hours) if len(hours) >= 24 else None
        return self._base[key]

    def tick(self, now: float | None = None) -> list[tuple[str, float]]:
        """Judge the last finished hour (once); returns ``(meter, figure)`` of the meters found in use."""
        t = self.clock.now() if now is None else now
        hour = self._hour_start(t) - HOUR
        if self._judged is not None and hour <= self._judged:
            return []
        self._judged = hour
        if self.alerts is None or not self.meters:
            return []
        if not self.is_holiday(hour):
            for a in self.alerts.list(open_only=True, rule=HOLIDAY_RULE):
                self.alerts.end(HOLIDAY_RULE, a.device)  # the holiday is over
            return []
        found = []
        for device, label, total in self.meters:
            try:
                hit = self._judge(device, label, total, hour)
            except Exception:
                log.exception("holiday check of %s failed", device)
                continue
            if hit is not None:
                found.append((device, hit))
        return found

    def figure(self, device: str, total: str | None, hour: float) -> tuple[str, float, float | None, float | None]:
        """``(usage metric, used in the hour, limit, base load)``; the limit is None when it cannot be told."""
        usage = METRICS[total].usage_metric if total else None
        if usage is None:
            return "", 0.0, None, None
        used = sum(r.value for r in self.store.query(device, usage, hour, hour + HOUR))
        s = self.settings
        if usage == "usage_l":
            return usage, used, s.water_allowance_l, None
        base = self.base_w(device, datetime.fromtimestamp(hour, self.tz).date())
        return usage, used, None if base is None else base * (1 + s.power_margin) + s.power_slack_w, base

    def _judge(self, device: str, label: str, total: str | None, hour: float) -> float | None:
        assert self.alerts is not None
        usage, used, limit, base = self.figure(device, total, hour)
        if not usage or limit is None:
            return None
        day = datetime.fromtimestamp(hour, self.tz).date()
        when = datetime.fromtimestamp(hour, self.tz).strftime("%m-%d %H:00")
        s = self.settings
        if usage == "usage_l":
            detail = tr(self.locale, "Water still used during the holiday: {meter} used {litres:.0f} L in the hour "
                        "from {time}", meter=label, litres=used, time=when)
        else:
            detail = tr(self.locale, "Power still used during the holiday: {meter} drew {watts:.0f} W on average in "
                        "the hour from {time} (closed-time base load {base:.0f} W)", meter=label, watts=used,
                        time=when, base=base)
        if used <= limit:
            self.alerts.end(HOLIDAY_RULE, device, used)
            return None
        who = self.on_duty(day)
        if who:
            detail += tr(self.locale, " (on duty: {who})", who=who)
        # the usual chain: the escalator's duty routing (gateway/inspections/duty.py) puts the person on duty first
        chain = self.config.inspections.notify or s.duty_chains.get(who or "")
        self.alerts.raise_alert(OpenRequest(
            rule=HOLIDAY_RULE, device=device, kind="holiday_use", severity=s.severity, chain=chain, metric=usage,
            value=round(used, 1), detail=detail, since=hour))
        return used

    def summary(self, first: date, last: date, now: float) -> list[MeterProof]:
        """Per meter, the finished hours of the holiday ``first``..``last``: how much was used, in how many hours
        above the limit, and the worst hour; what proves (or disproves) the shutdown."""
        start = datetime(first.year, first.month, first.day, tzinfo=self.tz).timestamp()
        nxt = last + timedelta(days=1)
        end = min(datetime(nxt.year, nxt.month, nxt.day, tzinfo=self.tz).timestamp(), self._hour_start(now))
        out = []
        for device, label, total in self.meters:
            usage, used_all, over, worst, hours, base = "", 0.0, 0, (0.0, 0.0), 0, None
            hour = start
            while hour < end:
                usage, used, limit, b = self.figure(device, total, hour)
                base = b if b is not None else base
                used_all += used
                hours += 1
                if limit is not None and used > limit:
                    over += 1
                if used > worst[1]:
                    worst = (hour, used)
                hour += HOUR
            if usage:
                out.append(MeterProof(device, label, usage, METRICS[usage].unit, used_all, hours, over,
                                      worst[0] if worst[1] else None, worst[1], base))
        return out


@dataclass(frozen=True, slots=True)
class MeterProof:
    """One meter over a holiday: its use, the hours judged and those above the limit, the worst hour."""

    device: str
    name: str
    metric: str
    unit: str
    used: float
    hours: int
    hours_over: int
    worst_at: float | None
    worst: float
    base_w: float | None


def holiday_periods(holidays: set[date]) -> list[tuple[date, date]]:
    """Runs of consecutive holiday dates as ``(first, last)``, in order."""
    out: list[tuple[date, date]] = []
    for d in sorted(holidays):
        if out and d - out[-1][1] == timedelta(days=1):
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return out
