"""The weekly district summary: the five sites needing attention and why, to the district's robot or e-mail.

Built from the district service's own tables, not figured again: the Overview's rows (offline since when,
unacknowledged critical alerts), the cold-chain table (each appliance's share of time in range) and the saving
table (water per child and school day, ranked), of the week that just ended. Sent through the project's message
channels (``[notify.channels]`` in ``district.toml``) once a week at ``[summary] day`` and ``at``; the deliveries
are recorded in ``district.db``, so a restart neither skips nor repeats a week.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from district.app import DistrictView, cold_rows, saving_rows
from district.cold_chain import ColdRow
from district.overview import SiteRow
from district.saving import SavingRow
from gateway.calendar import WEEKDAYS
from gateway.errors import HouqinError
from gateway.eventsdb import EventsDB
from gateway.i18n import ngettext, tr
from gateway.kinds import KINDS
from gateway.notify.build import message_channels
from gateway.notify.channel import Channel
from gateway.notify.message import Message
from gateway.notify.send import nobody_reached, send_now
from gateway.reports.weekly import Week, last_full_week, week_containing
from gateway.ticker import Ticker

log = logging.getLogger(__name__)

#: How many sites the summary names.
TOP = 5
#: A site whose worst cold appliance was in range less than this share of the week needs attention.
COLD_ATTENTION = 0.95
#: The sites with the most water per child and school day that are named: this share of the ranked sites (at least 1).
WATER_SHARE = 0.2
#: After every channel failed, wait this long before trying the week's summary again.
RETRY_AFTER = 600.0
#: The summary's name in ``report_deliveries``.
REPORT = "district-summary"


@dataclass(frozen=True, slots=True)
class Attention:
    """One site needing attention, with what the tables say about it; ``tier`` is its most urgent reason."""

    site: str
    name: str
    #: 0: unacknowledged critical alerts, 1: offline, 2: cold chain, 3: water.
    tier: int
    unacked_critical: int
    oldest_critical_at: float | None
    offline: bool
    offline_since: float | None
    #: The site's worst cold appliance (its kind and number among the site's of that kind) and its share in range.
    cold_kind: str
    cold_number: int
    cold_share: float | None
    water_l_per_child_day: float | None
    water_rank: int | None
    ranked: int


def attention(overview: Sequence[SiteRow], cold: Sequence[ColdRow], savings: Sequence[SavingRow]) -> list[Attention]:
    """Every site with a reason, the most urgent first: unacknowledged critical alerts (oldest first), offline
    (longest first), the worst cold-chain share, the most water per child and school day."""
    worst: dict[str, ColdRow] = {}
    for cr in cold:
        if cr.in_range is not None and (cr.site not in worst or cr.in_range < (worst[cr.site].in_range or 0.0)):
            worst[cr.site] = cr
    water = {s.site: s for s in savings}
    ranked = sum(1 for s in savings if s.water_rank is not None)
    water_top = max(1, round(ranked * WATER_SHARE))
    out: list[tuple[tuple[int, float], Attention]] = []
    for row in overview:
        c = worst.get(row.id)
        cold_bad = c is not None and c.in_range is not None and c.in_range < COLD_ATTENTION
        s = water.get(row.id)
        water_bad = s is not None and s.water_rank is not None and s.water_rank <= water_top
        offline = row.online is not True
        reasons = [row.unacked_critical > 0, offline, cold_bad, water_bad]
        if not any(reasons):
            continue
        tier = reasons.index(True)
        measure = [row.oldest_critical_at or 0.0, row.since if row.since is not None else float("-inf"),
                   c.in_range if c is not None and c.in_range is not None else 1.0,
                   float(s.water_rank or 0) if s is not None else 0.0][tier]
        out.append(((tier, measure), Attention(
            site=row.id, name=row.name, tier=tier, unacked_critical=row.unacked_critical,
            oldest_critical_at=row.oldest_critical_at, offline=offline, offline_since=row.since if offline else None,
            cold_kind=c.kind if cold_bad and c is not None else "", cold_number=c.number if cold_bad and c else 0,
            cold_share=c.in_range if cold_bad and c is not None else None,
            water_l_per_child_day=s.water_l_per_child_day if water_bad and s is not None else None,
            water_rank=s.water_rank if water_bad and s is not None else None, ranked=ranked)))
    out.sort(key=lambda x: x[0])
    return [a for _, a in out]


def span(seconds: float, locale: str) -> str:
    """A duration in words: days and hours, hours and minutes, or minutes."""
    s = max(0, int(seconds))
    d, h, m = s // 86400, s % 86400 // 3600, s % 3600 // 60
    parts = []
    if d:
        parts.append(ngettext(locale, "%(num)d day", "%(num)d days", d) % {"num": d})
    if h and len(parts) < 2:
        parts.append(ngettext(locale, "%(num)d hour", "%(num)d hours", h) % {"num": h})
    if not d and (m or not parts):
        parts.append(ngettext(locale, "%(num)d minute", "%(num)d minutes", m) % {"num": m})
    return " ".join(parts)


def reasons(a: Attention, now: float, locale: str) -> list[str]:
    """Why ``a`` needs attention, in words."""
    out = []
    if a.unacked_critical:
        out.append(tr(locale, "{num} critical alert(s) nobody acknowledged, the oldest open for {span}",
                      num=a.unacked_critical, span=span(now - (a.oldest_critical_at or now), locale)))
    if a.offline:
        out.append(tr(locale, "offline for {span}", span=span(now - a.offline_since, locale))
                   if a.offline_since is not None else tr(locale, "offline; not heard from since the district "
                                                                  "service started"))
    if a.cold_share is not None:
        appliance = tr(locale, KINDS[a.cold_kind].label) if a.cold_kind in KINDS else a.cold_kind
        if a.cold_number:
            appliance += f" {a.cold_number}"
        out.append(tr(locale, "cold chain: {appliance} in its safe range {share} of the time", appliance=appliance,
                      share=f"{a.cold_share * 100:.1f}%"))
    if a.water_l_per_child_day is not None:
        out.append(tr(locale, "most water per child: {value} L per child and school day (rank {rank} of {count})",
                      value=f"{a.water_l_per_child_day:.1f}", rank=a.water_rank, count=a.ranked))
    return out


def summary_message(district: str, week: Week, items: Sequence[Attention], now: float, locale: str, *,
                    link: str = "", store_error: str = "") -> Message:
    """The summary as a message: a title, one line per site (its name and its reasons), and the link."""
    period = tr(locale, "{start} to {end}", start=week.days[0].isoformat(), end=week.days[-1].isoformat())
    top = list(items)[:TOP]
    title = (tr(locale, "{district}: weekly summary {period}, {num} site(s) need attention", district=district,
                period=period, num=len(top)) if top else
             tr(locale, "{district}: weekly summary {period}, no site needs attention", district=district,
                period=period))
    sep = tr(locale, "; ")
    lines = [tr(locale, "{num}. {site}: {reasons}", num=i, site=a.name, reasons=sep.join(reasons(a, now, locale)))
             for i, a in enumerate(top, 1)]
    if store_error:
        lines.append(tr(locale, "The central store did not answer; cold chain and water are missing."))
    tail = [tr(locale, "Full tables: {link}", link=link)] if link else []
    text = "\n".join([title, *lines, *tail])
    markdown = "\n".join([f"**{title}**", "", *(f"> {x}" for x in lines), *(["", *tail] if tail else [])])
    return Message(title, text, markdown, fields={"event": "report", "report": "district_summary"},
                   prefer_markdown=True)


class DistrictSummary:
    """Builds, sends and schedules the weekly summary from the service's view (board and central store)."""

    def __init__(self, view: DistrictView, db: EventsDB, channels: Mapping[str, Channel] | None = None,
                 every: float = 30.0) -> None:
        self.view = view
        self.settings = view.settings
        self.db = db
        self.clock = view.clock
        self.channels = message_channels(self.settings.notify.channels) if channels is None else channels
        self.tz = ZoneInfo(self.settings.timezone)
        self._lock = threading.Lock()
        self._failed_at: float | None = None
        self._ticker = Ticker(self.tick, every, "houqin-district-summary")

    def build(self, week: Week | None = None) -> tuple[Week, list[Attention], str]:
        """The sites needing attention in ``week`` (default: the last full week), and the store's error if any."""
        now = self.clock.now()
        w = week or last_full_week(now, self.tz)
        cold: list[ColdRow] = []
        savings: list[SavingRow] = []
        error = ""
        if self.view.store is not None:
            try:
                cold = cold_rows(self.view, w)
                savings = saving_rows(self.view, w)
            except HouqinError as e:
                log.warning("district summary: %s", e)
                error = str(e)
        return w, attention(self.view.rows(), cold, savings), error

    def message(self, week: Week | None = None, locale: str | None = None) -> Message:
        """The summary of ``week`` in ``locale`` (default: ``district.toml``'s)."""
        w, items, error = self.build(week)
        return summary_message(self.settings.name, w, items, self.clock.now(), locale or self.settings.locale,
                               link=self.settings.summary.link, store_error=error)

    def send(self, week: Week | None = None) -> dict[str, str | None]:
        """Send the summary to ``[summary] channels`` now; channel -> None (sent) or the error."""
        return send_now(self.channels, self.settings.summary.channels, self.message(week))

    def tick(self) -> dict[str, str | None] | None:
        """Send last week's summary once this week's ``[summary] day`` and ``at`` have passed; the results if sent."""
        s = self.settings.summary
        if not s.enabled or not s.channels:
            return None
        now = self.clock.now()
        this_week = week_containing(datetime.fromtimestamp(now, self.tz).date(), self.tz)
        send_day = this_week.days[WEEKDAYS.index(s.day)]
        send_at = datetime.combine(send_day, s.at, self.tz).timestamp()
        if now < send_at or (self._failed_at is not None and now - self._failed_at < RETRY_AFTER):
            return None
        week = this_week.shifted(-1)
        with self._lock:
            conn = self.db.conn()
            if conn.execute("SELECT 1 FROM report_deliveries WHERE report=? AND period=?",
                            (REPORT, week.label)).fetchone():
                return None
            results = self.send(week)
            if nobody_reached(results):
                self._failed_at = now
                log.warning("district summary %s: every channel failed; trying again in %d s", week.label,
                            RETRY_AFTER)
                return results
            self._failed_at = None
            self.record(week, results)
            return results

    def record(self, week: Week, results: Mapping[str, str | None]) -> None:
        """Note that ``week``'s summary went out (the scheduled send skips a week so noted)."""
        done = "; ".join(f"{k}: {'sent' if v is None else v}" for k, v in results.items())
        self.db.conn().execute("INSERT OR REPLACE INTO report_deliveries (report, period, at, result) "
                               "VALUES (?, ?, ?, ?)", (REPORT, week.label, self.clock.now(), done))
        log.info("district summary %s sent (%s)", week.label, done)

    def start(self) -> None:
        """Check every ``every`` seconds in a thread."""
        self._ticker.start()

    def stop(self) -> None:
        """Stop checking."""
        self._ticker.stop()

