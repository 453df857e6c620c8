"""The monthly disinfection record of a room: printable A4 HTML (the reports' layout and stylesheet) and CSV."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from functools import partial
from importlib import resources

from jinja2 import ChoiceLoader, FileSystemLoader
from markupsafe import Markup

from gateway.i18n import gettext, tr
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

    def hazards_html(self, r: HazardReport, css: CssMode = "inline", names: Mapping[str, str] | None = None) -> str:
        """The printable A4 weekly summary or monthly report of the hazard ledger; owners by ``names`` (login ->
        name people read)."""
        title = tr(self.locale, "{site} · Hazard ledger {period}", site=self.site, period=r.label)
        body = self.env.get_template("hazard_report.html").render(r=r, site=self.site, names=names or {})
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


#: A day's verdict, a session's source and a hazard's status and level as people read them (msgids, as the
#: printed pages say them).
VERDICTS = {"ok": "Done", "short": "Too short", "missed": "Missed", "free": "Not needed", "pending": "Not judged yet"}
SOURCES = {"plug": "Plug record", "manual": "Entered by hand"}
STATUS_WORDS = {"open": "Not rectified", "in_progress": "Rectifying", "closing": "Awaiting confirmation",
                "closed": "Closed"}
LEVEL_WORDS = {"general": "General", "major": "Major"}
SECTIONS = {"overdue": "Overdue", "found": "Found in this period", "closed": "Closed in this period"}
_RECORD_TITLES = {"room": "Room", "day": "Date", "school_day": "School day", "verdict": "Result", "source": "Source",
                  "method": "Method", "start": "Started", "end": "Ended", "minutes_on": "Minutes",
                  "minutes_counted": "Counted", "during_occupied_hours": "Children in the room", "by": "By",
                  "note": "Note"}
_HAZARD_TITLES = {"period": "Period", "from": "From", "to": "To", "level": "Level", "section": "Section",
                  "id": "No.", "place": "Place", "description": "Hazard", "owner": "Owner", "deadline": "Deadline",
                  "reported_at": "Reported at"}


def _csv(rows: list[list[object]]) -> str:
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return "\ufeff" + buf.getvalue()  # a BOM so that Excel reads the Chinese as UTF-8


def _word(locale: str, key: str, msgids: dict[str, str] | None = None) -> str:
    """The machine key in English (the columns scripts read), the word (``msgids[key]``) elsewhere."""
    if locale == "en":
        return key
    return gettext(locale, (msgids or {}).get(key, key))


def record_csv(m: MonthRecord, tz: tzinfo, locale: str = "en") -> str:
    """One row per session (and per day without one), then the month's totals; in ``locale`` (the site's:
    English keeps the machine column names and values); UTF-8 with a BOM for Excel."""
    w = partial(_word, locale)

    def hm(ts: float) -> str:
        return datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M")

    def yes(v: bool) -> object:
        return int(v) if locale == "en" else gettext(locale, "yes" if v else "no")

    room = m.room.id if locale == "en" else m.room.label
    rows: list[list[object]] = [[w(k, _RECORD_TITLES) for k in _RECORD_TITLES]]
    for d in m.days:
        if not d.entries:
            rows.append([room, d.day.isoformat(), yes(d.required), w(d.verdict, VERDICTS), "", "", "", "", "", "",
                         "", "", ""])
        for e in d.entries:
            rows.append([room, d.day.isoformat(), yes(d.required), w(d.verdict, VERDICTS), w(e.source, SOURCES),
                         w(e.method), hm(e.start), hm(e.end), f"{e.on_s / 60:.1f}", f"{e.effective_s / 60:.1f}",
                         yes(e.id in d.occupied_ids), e.by or "", e.note or ""])
    rows.append([])
    totals = {"sessions": ("Sessions", m.sessions), "minutes": ("Minutes in all", f"{m.on_minutes:.1f}"),
              "days_required": ("Days needing one", m.required), "ok": ("Done", m.count("ok")),
              "short": ("Too short", m.count("short")), "missed": ("Missed", m.count("missed")),
              "lamp_hours": ("Lamp hours", f"{m.lamp_hours:.1f}")}
    rows.append([x for key, (msgid, value) in totals.items() for x in (w(key, {key: msgid}), value)])
    return _csv(rows)


def hazards_csv(r: HazardReport, tz: tzinfo, locale: str = "en", names: Mapping[str, str] | None = None) -> str:
    """The counts by level and status, then one row per entry overdue, found and closed in the period; in
    ``locale`` (the site's: English keeps the machine column names and values); owners by ``names`` (login ->
    name people read)."""
    names = names or {}
    w = partial(_word, locale)

    def t(key: str) -> str:
        return w(key, _HAZARD_TITLES)

    rows: list[list[object]] = [[t("period"), r.label, t("from"), r.first.isoformat(), t("to"), r.last.isoformat()],
                                [t("level"), *(w(st, STATUS_WORDS) for st in STATUSES)]]
    rows += [[w(lv, LEVEL_WORDS), *(r.counts[(lv, st)] for st in STATUSES)] for lv in ("general", "major")]
    rows += [[], [t(k) for k in ("section", "id", "place", "description", "level", "owner", "deadline",
                                 "reported_at")]]
    for section, entries in (("overdue", r.overdue), ("found", r.found), ("closed", r.closed)):
        rows += [[w(section, SECTIONS), h.id, h.place, h.description, w(h.level, LEVEL_WORDS),
                  names.get(h.owner, h.owner),
                  datetime.fromtimestamp(h.deadline, tz).strftime("%Y-%m-%d %H:%M"),
                  datetime.fromtimestamp(h.reported_at, tz).strftime("%Y-%m-%d %H:%M")] for h in entries]
    return _csv(rows)
