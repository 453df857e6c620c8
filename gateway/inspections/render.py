"""The monthly disinfection record of a room: printable A4 HTML (the reports' layout and stylesheet) and CSV."""

from __future__ import annotations

from datetime import datetime, tzinfo
from importlib import resources

from jinja2 import ChoiceLoader, FileSystemLoader
from markupsafe import Markup

from gateway.i18n import tr
from gateway.inspections.disinfection import MonthRecord
from gateway.inspections.hazard_report import STATUSES, HazardReport
from gateway.reports.render import CSS_URL, CssMode, environment, stylesheet


def _dir() -> str:
    return str(resources.files("gateway.inspections") / "templates")


class RecordRenderer:
    """Renders disinfection records in one language and time zone."""

    def __init__(self, locale: str, tz: tzinfo, site: str) -> None:
        self.locale = locale
        self.tz = tz
        self.site = site
        self.env = environment(locale, tz)
        # our templates first, then the reports' (doc.html, the layout every printable page shares)
        self.env.loader = ChoiceLoader([FileSystemLoader(_dir()), self.env.loader])  # type: ignore[list-item]

    def fragment(self, m: MonthRecord, life_h: float, min_minutes: float, window: str) -> str:
        """The month's record of one room, for the dashboard page and the printed sheet."""
        return self.env.get_template("disinfection.html").render(
            m=m, life_h=life_h, min_minutes=min_minutes, window=window, site=self.site)

    def hazards_html(self, r: HazardReport, css: CssMode = "inline") -> str:
        """The printable A4 weekly summary or monthly report of the hazard ledger."""
        title = tr(self.locale, "{site} · Hazard ledger {period}", site=self.site, period=r.label)
        body = self.env.get_template("hazard_report.html").render(r=r, site=self.site)
        return self.env.get_template("doc.html").render(
            title=title, body=Markup(body), css=css, css_text=Markup(stylesheet()) if css == "inline" else "",
            css_url=CSS_URL, site=self.site)

    def html(self, m: MonthRecord, life_h: float, min_minutes: float, window: str, css: CssMode = "inline") -> str:
        """The printable A4 record of one room's month."""
        title = tr(self.locale, "{site} · Disinfection record {room} {month}", site=self.site, room=m.room.label,
                   month=f"{m.year}-{m.month:02d}")
        return self.env.get_template("doc.html").render(
            title=title, body=Markup(self.fragment(m, life_h, min_minutes, window)), css=css,
            css_text=Markup(stylesheet()) if css == "inline" else "", css_url=CSS_URL, site=self.site)


def record_csv(m: MonthRecord, tz: tzinfo) -> str:
    """One row per session (and per day without one), then the month's totals; UTF-8 with a BOM for Excel."""
    import csv
    import io

    def hm(ts: float) -> str:
        return datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M")

    rows: list[list[object]] = [["room", "day", "school_day", "verdict", "source", "method", "start", "end",
                                 "minutes_on", "minutes_counted", "during_occupied_hours", "by", "note"]]
    for d in m.days:
        if not d.entries:
            rows.append([m.room.id, d.day.isoformat(), int(d.required), d.verdict, "", "", "", "", "", "", "", "",
                         ""])
        for e in d.entries:
            rows.append([m.room.id, d.day.isoformat(), int(d.required), d.verdict, e.source, e.method, hm(e.start),
                         hm(e.end), f"{e.on_s / 60:.1f}", f"{e.effective_s / 60:.1f}", int(e.id in d.occupied_ids),
                         e.by or "", e.note or ""])
    rows.append([])
    rows.append(["sessions", m.sessions, "minutes", f"{m.on_minutes:.1f}", "days_required", m.required, "ok",
                 m.count("ok"), "short", m.count("short"), "missed", m.count("missed"), "lamp_hours",
                 f"{m.lamp_hours:.1f}"])
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return "\ufeff" + buf.getvalue()


def hazards_csv(r: HazardReport, tz: tzinfo) -> str:
    """The counts by level and status, then one row per entry overdue, found and closed in the period."""
    import csv
    import io

    rows: list[list[object]] = [["period", r.label, "from", r.first.isoformat(), "to", r.last.isoformat()],
                                ["level", *STATUSES]]
    rows += [[lv, *(r.counts[(lv, st)] for st in STATUSES)] for lv in ("general", "major")]
    rows += [[], ["section", "id", "place", "description", "level", "owner", "deadline", "reported_at"]]
    for section, entries in (("overdue", r.overdue), ("found", r.found), ("closed", r.closed)):
        rows += [[section, h.id, h.place, h.description, h.level, h.owner,
                  datetime.fromtimestamp(h.deadline, tz).strftime("%Y-%m-%d %H:%M"),
                  datetime.fromtimestamp(h.reported_at, tz).strftime("%Y-%m-%d %H:%M")] for h in entries]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return "\ufeff" + buf.getvalue()
