"""The hazard ledger's weekly summary (周结) and monthly report (月报): counts by level and status at the period's
end, what was found and what was closed in the period, and the entries overdue at its end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from gateway.inspections.ledger import Hazard, HazardStatus, Ledger

Period = Literal["week", "month"]
STATUSES: tuple[HazardStatus, ...] = ("open", "in_progress", "closing", "closed")


@dataclass(frozen=True, slots=True)
class HazardReport:
    """One period of the ledger."""

    period: Period
    first: date
    last: date
    #: (level, status) -> entries at the period's end (of entries reported before it ended).
    counts: dict[tuple[str, str], int]
    found: list[Hazard]
    closed: list[Hazard]
    overdue: list[Hazard]

    @property
    def label(self) -> str:
        """``2026-W45`` or ``2026-11``."""
        if self.period == "week":
            y, w, _ = self.first.isocalendar()
            return f"{y}-W{w:02d}"
        return f"{self.first.year}-{self.first.month:02d}"


def period_of(period: Period, day: date) -> tuple[date, date]:
    """First and last day of the week (Monday to Sunday) or month containing ``day``."""
    if period == "week":
        first = day - timedelta(days=day.weekday())
        return first, first + timedelta(days=6)
    first = day.replace(day=1)
    nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, nxt - timedelta(days=1)


def _status_at(h: Hazard, t: float) -> HazardStatus:
    last = [s.what for s in h.steps if s.at < t]
    what = last[-1] if last else None
    return {None: "open", "started": "in_progress", "reopened": "in_progress", "close_requested": "closing",
            "closed": "closed"}.get(what, "open")  # type: ignore[return-value]


def build(ledger: Ledger, period: Period, day: date) -> HazardReport:
    """The report of the week or month containing ``day`` (the ledger of its year)."""
    first, last = period_of(period, day)
    tz = ledger.tz
    start = datetime(first.year, first.month, first.day, tzinfo=tz).timestamp()
    nxt = last + timedelta(days=1)
    end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz).timestamp()
    now = ledger.clock.now()
    if now < end:  # a period still running is reported up to now, what happened this moment included
        end = max(now + 0.001, start)
    entries = [h for h in ledger.hazards(first.year) if h.reported_at < end]
    entries += [h for h in ledger.open_hazards() if h.year < first.year and h.reported_at < end]
    counts: dict[tuple[str, str], int] = {(lv, st): 0 for lv in ("general", "major") for st in STATUSES}
    for h in entries:
        counts[(h.level, _status_at(h, end))] += 1
    found = [h for h in entries if start <= h.reported_at < end]
    closed = [h for h in entries if any(s.what == "closed" and start <= s.at < end for s in h.steps)]
    overdue = [h for h in entries if _status_at(h, end) != "closed" and h.deadline <= end]
    return HazardReport(period, first, last, counts, found, closed, overdue)
