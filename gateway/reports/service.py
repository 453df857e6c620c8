"""One facade over the reports for the CLI, the scheduler and the dashboard: build, render, send."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from gateway.alerts.service import AlertService
from gateway.calendar import SchoolCalendar
from gateway.clock import Clock
from gateway.config import Config
from gateway.eventsdb import EventsDB
from gateway.notify.build import message_channels
from gateway.notify.channel import Channel
from gateway.notify.message import Message
from gateway.notify.send import send_now
from gateway.reports.render import Renderer
from gateway.reports.samples import Sample, SampleLedger
from gateway.reports.sheet import ColdSheet, SheetDay
from gateway.reports.weekly import Week, WeeklyBuilder, WeeklyReport, last_full_week
from gateway.store.base import TimeSeriesStore


class Reports:
    """Weekly utility report, cold-storage sheet and sample ledger of one site."""

    def __init__(self, config: Config, store: TimeSeriesStore | None, events_db: EventsDB, clock: Clock,
                 alerts: AlertService | None = None, channels: Mapping[str, Channel] | None = None) -> None:
        self.config = config
        #: Where messages go: the gateway's channels when handed over, else webhooks and e-mail from the config.
        self.channels = message_channels(config.notify.channels) if channels is None else channels
        self.store = store
        self.db = events_db
        self.clock = clock
        self.tz = config.site.tz
        self.calendar = SchoolCalendar(config.calendar, config.site.timezone)
        self.ledger = SampleLedger(config, events_db, clock, store, alerts)
        self.sheet = ColdSheet(config, store, events_db, clock) if store is not None else None

    @property
    def locale(self) -> str:
        """Language of reports and their messages."""
        return self.config.reports.locale or self.config.site.locale

    def renderer(self, locale: str | None = None) -> Renderer:
        """A renderer in ``locale`` (default: the reports' language)."""
        return Renderer(locale or self.locale, self.tz, self.config.site.name or self.config.site.id)

    def today(self) -> date:
        """The site's local date now."""
        return datetime.fromtimestamp(self.clock.now(), self.tz).date()

    # -- weekly ------------------------------------------------------------------------------------
    def weekly(self, week: Week | None = None, locale: str | None = None) -> WeeklyReport:
        """The report of ``week`` (default: the last full week)."""
        if self.store is None:
            raise RuntimeError("the time-series store is not available")
        w = week or last_full_week(self.clock.now(), self.tz)
        builder = WeeklyBuilder(self.config, self.store, self.calendar)
        return builder.build(w, self.clock.now(), locale)

    def weekly_message(self, report: WeeklyReport) -> Message:
        """The weekly report as a message for robots (Markdown) and e-mail (HTML with PNG charts)."""
        r = self.renderer()
        html, images = r.weekly_email(report)
        link = self.config.reports.weekly.link
        # A report reads best as Markdown (bold findings, the link): robots that take it get it whatever their
        # style for alerts (docs/reports.md: webhooks "get a Markdown summary with a link").
        return Message(r.weekly_title(report), r.weekly_text(report, link), r.weekly_markdown(report, link), html,
                       tuple(images), fields={"event": "report", "report": "weekly"}, prefer_markdown=True)

    def send_weekly(self, report: WeeklyReport, channels: list[str] | None = None) -> dict[str, str | None]:
        """Send the weekly report to ``channels`` (default ``[reports.weekly] channels``)."""
        names = self.config.reports.weekly.channels if channels is None else channels
        return send_now(self.channels, names, self.weekly_message(report))

    # -- cold-storage sheet ------------------------------------------------------------------------
    def sheet_day(self, d: date, device: str | None = None) -> list[SheetDay]:
        """One day's sheet."""
        if self.sheet is None:
            raise RuntimeError("the time-series store is not available")
        return self.sheet.day(d, device)

    def sheet_month(self, year: int, month: int, device: str | None = None) -> list[SheetDay]:
        """A month of sheets."""
        if self.sheet is None:
            raise RuntimeError("the time-series store is not available")
        return self.sheet.month(year, month, device)

    # -- samples -----------------------------------------------------------------------------------
    def samples_month(self, year: int, month: int, locale: str | None = None
                      ) -> tuple[list[Sample], dict[int, tuple[bool, str]]]:
        """A month's samples and each one's verdict ("kept 0–8 °C the whole time" or its excursions)."""
        samples = self.ledger.month(year, month)
        loc = locale or self.locale
        return samples, {s.id: self.ledger.verdict(s, loc) for s in samples}

    def reminder_message(self, samples: list[Sample]) -> Message:
        """"These samples may be discarded now" for the kitchen's channels."""
        r = self.renderer()
        title = r.t("Food samples may be discarded")
        lines = []
        for s in samples:
            when = datetime.fromtimestamp(s.taken_at, self.tz).strftime("%m-%d %H:%M")
            lines.append(r.t("#{id} {date} {meal} (kept since {when}, {fridge}): 48 hours reached; record who "
                             "discards it", id=s.id, date=s.meal_date.isoformat(), meal=r.t(s.meal), when=when,
                             fridge=self._device_name(s.fridge)))
        text = title + "\n" + "\n".join(lines)
        markdown = f"**{title}**\n\n" + "\n".join(f"> {x}" for x in lines)
        return Message(title, text, markdown, fields={"event": "report", "report": "samples_due"})

    def send_reminder(self, samples: list[Sample]) -> dict[str, str | None]:
        """Send the discard reminder of ``samples`` to ``[reports.samples] remind_channels``."""
        return send_now(self.channels, self.config.reports.samples.remind_channels, self.reminder_message(samples))

    def _device_name(self, device: str) -> str:
        d = self.config.device(device)
        return d.label if d else device
