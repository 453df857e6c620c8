"""The reports' scheduled jobs, as one gateway component with an injected clock: the weekly report at
its configured weekday and time (site time zone), the sample discard reminders, and once a day freezing
finished sheet days and purging records past their retention.

Deliveries are recorded in ``report_deliveries``, so a restart neither skips nor repeats a week.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from gateway.calendar import WEEKDAYS
from gateway.clock import Clock
from gateway.notify.send import nobody_reached
from gateway.reports.samples import Sample
from gateway.reports.service import Reports
from gateway.reports.weekly import last_full_week, week_containing
from gateway.ticker import Ticker

log = logging.getLogger(__name__)

#: After every channel failed, wait this long before trying the week's report again.
RETRY_AFTER = 600.0


class ReportScheduler:
    """Runs the reports' jobs on ``tick()``; ``start()`` ticks every ``every`` seconds in a thread."""

    def __init__(self, reports: Reports, clock: Clock, every: float = 30.0) -> None:
        self.reports = reports
        self.clock = clock
        self._ticker = Ticker(self.tick, every, "houqin-reports")
        self._failed_at: float | None = None
        self._daily_done: date | None = None
        # Discard reminders every channel refused (the ledger has recorded them as due): sent again later.
        self._unsent: list[Sample] = []
        self._unsent_at = 0.0

    def start(self) -> None:
        """Start ticking in a thread."""
        self._ticker.start()

    def stop(self) -> None:
        """Stop ticking."""
        self._ticker.stop()

    def tick(self, now: float | None = None) -> None:
        """Run whatever is due (each job guarded: one failing never stops the others)."""
        t = self.clock.now() if now is None else now
        for job in (self.weekly_due, self.samples_due, self.daily_due):
            try:
                job(t)
            except Exception:
                log.exception("report job %s failed", job.__name__)

    # -- jobs --------------------------------------------------------------------------------------
    def weekly_due(self, now: float) -> dict[str, str | None] | None:
        """Send last week's report once this week's send time has passed; returns the results if sent."""
        w = self.reports.config.reports.weekly
        if not w.enabled or not w.channels:
            return None
        tz = self.reports.tz
        today = datetime.fromtimestamp(now, tz).date()
        this_week = week_containing(today, tz)
        at = w.at  # parsed once, when the config was read
        send_day = this_week.days[WEEKDAYS.index(w.day)]
        send_at = datetime(send_day.year, send_day.month, send_day.day, at.hour, at.minute, tzinfo=tz).timestamp()
        if now < send_at:
            return None
        week = last_full_week(now, tz)
        db = self.reports.db.conn()
        if db.execute("SELECT 1 FROM report_deliveries WHERE report='weekly' AND period=?", (week.label,)).fetchone():
            return None
        if self._failed_at is not None and now - self._failed_at < RETRY_AFTER:
            return None
        report = self.reports.weekly(week)
        if not report.has_data:
            # A week without readings is not a week without problems (a fresh install, a dead store): tell
            # nobody "nothing unusual"; the page says there is no data. Recorded, so it is judged once.
            db.execute("INSERT OR REPLACE INTO report_deliveries (report, period, at, result) "
                       "VALUES ('weekly', ?, ?, ?)", (week.label, now, "not sent: no readings that week"))
            log.warning("weekly report %s: no meter sent readings that week; not sent", week.label)
            return None
        results = self.reports.send_weekly(report)
        if nobody_reached(results):
            self._failed_at = now
            log.warning("weekly report %s: every channel failed; trying again in %d s", week.label, RETRY_AFTER)
            return results
        self._failed_at = None
        summary = "; ".join(f"{k}: {'sent' if v is None else v}" for k, v in results.items())
        db.execute("INSERT OR REPLACE INTO report_deliveries (report, period, at, result) VALUES ('weekly', ?, ?, ?)",
                   (week.label, now, summary))
        log.info("weekly report %s sent (%s)", week.label, summary)
        return results

    def samples_due(self, now: float) -> list[int]:
        """Record and announce samples whose 48 hours are over; returns their ids. A reminder every channel
        refused is sent again ``RETRY_AFTER`` later (with any new ones)."""
        due = self.reports.ledger.due_reminders()
        retry = self._unsent if self._unsent and now - self._unsent_at >= RETRY_AFTER else []
        batch = [*retry, *due]
        if not batch or not self.reports.config.reports.samples.remind_channels:
            return [s.id for s in due]
        results = self.reports.send_reminder(batch)
        if nobody_reached(results):
            self._unsent = batch if retry else [*self._unsent, *due]
            self._unsent_at = now
            log.warning("sample reminder for %s: every channel failed; trying again in %d s",
                        ", ".join(f"#{s.id}" for s in batch), RETRY_AFTER)
        elif retry:
            self._unsent = []
        return [s.id for s in due]

    def daily_due(self, now: float) -> bool:
        """Once a local day (after 01:00): freeze finished sheet days and purge old records."""
        local = datetime.fromtimestamp(now, self.reports.tz)
        if local.hour < 1 or self._daily_done == local.date():
            return False
        self._daily_done = local.date()
        if self.reports.sheet is not None:
            self.reports.sheet.freeze_due()
            self.reports.sheet.purge()
        self.reports.ledger.purge()
        return True
