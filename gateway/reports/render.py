"""Renderers of the report data: printable HTML (A4, no navigation), HTML fragments for the dashboard,
CSV exports and the Markdown summary for the group robots. Builders never format; renderers never query.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from importlib import resources
from typing import Any, Literal

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from gateway.i18n import gettext, tr, translations
from gateway.notify.message import Image
from gateway.reports.charts import bars_png, bars_svg
from gateway.reports.findings import day_name
from gateway.reports.samples import Sample
from gateway.reports.sheet import CHECK_FIELD, SheetDay
from gateway.reports.weekly import MeterWeek, WeeklyReport

Charts = Literal["svg", "cid"]
CssMode = Literal["inline", "link"]
#: Where the dashboard serves the stylesheet of printable pages.
CSS_URL = "/reports/reports.css"


#: Fields of sheet and sample corrections as people read them (msgids of the catalogs).
CORRECTION_FIELDS = {
    "check": "Check reading", "min": "Min", "max": "Max", "minutes_out": "Minutes out of range",
    "corrective_action": "Corrective action", "note": "Note", "meal_date": "Date", "meal": "Meal",
    "dishes": "Dishes", "fridge": "Fridge", "staff": "Taken by", "taken_at": "Taken at",
}


def field_label(field: str, locale: str) -> str:
    """A corrected field's name for people, in ``locale`` (unknown fields as they are); a check reading
    names its check (``check@08:00`` -> "Check reading at 08:00")."""
    if field.startswith(CHECK_FIELD):
        return tr(locale, "Check reading at {time}", time=field.removeprefix(CHECK_FIELD))
    return gettext(locale, CORRECTION_FIELDS[field]) if field in CORRECTION_FIELDS else field


def limits_text(low: float | None, high: float | None, locale: str) -> str:
    """A unit's allowed range as people write it: "0–8 °C", "≤ 8.0 °C", "≥ 2.0 °C" ("—" without limits)."""
    bl = locale.replace("-", "_")
    if low is not None and high is not None:
        whole = low == round(low) and high == round(high)
        pattern = "#,##0" if whole else "#,##0.0"
        return f"{format_decimal(low, pattern, locale=bl)}–{format_decimal(high, pattern, locale=bl)} °C"
    if high is not None:
        return f"≤ {format_decimal(high, '#,##0.0', locale=bl)} °C"
    if low is not None:
        return f"≥ {format_decimal(low, '#,##0.0', locale=bl)} °C"
    return "—"


def corrected_value(value: str | None) -> str:
    """A sample correction's value (stored as JSON) as people read it; dishes as "name grams; ..."."""
    try:
        v = json.loads(value or '""')
    except ValueError:
        return value or ""
    if isinstance(v, list):  # dishes: [{"name", "grams"}] or [[name, grams]]
        return "; ".join(" ".join(f"{x:g}" if isinstance(x, float) else str(x)
                                  for x in (d.values() if isinstance(d, dict) else d)) for d in v)
    return str(v)


def _dir() -> str:
    return str(resources.files("gateway.reports") / "templates")


def stylesheet() -> str:
    """The stylesheet of printable pages (A4)."""
    return (resources.files("gateway.reports") / "templates" / "reports.css").read_text(encoding="utf-8")


def environment(locale: str, tz: tzinfo) -> Environment:
    """A Jinja2 environment for ``locale`` with the shared gettext catalogs and formatting filters."""
    env = Environment(loader=FileSystemLoader(_dir()), autoescape=True, undefined=StrictUndefined,
                      extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    bl = locale.replace("-", "_")

    def num(v: float | None, digits: int = 1) -> str:
        if v is None:
            return "—"
        return format_decimal(round(v, digits), format="#,##0." + "0" * digits if digits else "#,##0", locale=bl)

    def when(ts: float | None, pattern: str = "HH:mm") -> str:
        return "—" if ts is None else format_datetime(datetime.fromtimestamp(ts, tz), pattern, locale=bl)

    def day(d: date) -> str:
        return day_name(d, locale)

    def short_day(d: date) -> str:
        return format_date(d, "M/d EEE", locale=bl)

    def pct(v: float | None) -> str:
        if v is None:
            return "—"
        arrow = "▲" if v > 0.5 else "▼" if v < -0.5 else "＝"
        return f"{arrow} {abs(v):.0f}%"

    def field(name: str) -> str:
        return field_label(name, locale)

    def limits(low: float | None, high: float | None) -> str:
        return limits_text(low, high, locale)

    env.filters.update(num=num, when=when, day=day, short_day=short_day, pct=pct, field=field,
                       corrected=corrected_value, limits=limits)
    env.globals["locale"] = locale
    env.globals["tz"] = tz
    env.globals["html_lang"] = "zh-CN" if locale == "zh-CN" else "en"
    return env


class Renderer:
    """Renders reports in one language and time zone."""

    def __init__(self, locale: str, tz: tzinfo, site: str) -> None:
        self.locale = locale
        self.tz = tz
        self.site = site
        self.env = environment(locale, tz)

    def t(self, msg: str, **kw: object) -> str:
        """Translate and fill ``{named}`` values."""
        return tr(self.locale, msg, **kw)

    def _doc(self, title: str, body: str, css: CssMode) -> str:
        return self.env.get_template("doc.html").render(
            title=title, body=Markup(body), css=css, css_text=Markup(stylesheet()) if css == "inline" else "",
            css_url=CSS_URL, site=self.site)

    # -- weekly ------------------------------------------------------------------------------------
    def weekly_charts(self, report: WeeklyReport, charts: Charts) -> tuple[dict[str, dict[str, Any]], list[Image]]:
        """Per meter: the per-day and per-hour charts as inline SVG, or as ``cid:`` images with their PNGs."""
        out: dict[str, dict[str, Any]] = {}
        images: list[Image] = []
        for i, m in enumerate(report.meters):
            days = [d.units for d in m.days]
            closed = [not d.open for d in m.days]
            labels = [format_date(d.day, "EEE", locale=self.locale.replace("-", "_")) for d in m.days]
            if charts == "svg":
                out[m.device] = {
                    "days": Markup(bars_svg(days, labels, highlight=closed, unit=m.unit,
                                            title=self.t("Use per day"))),
                    "hours": Markup(bars_svg(m.hourly, [f"{h:02d}" for h in range(24)], unit=m.unit,
                                             title=self.t("Average use per hour of day"))),
                }
            else:
                d_cid, h_cid = f"days-{i}@houqin", f"hours-{i}@houqin"
                images += [Image(d_cid, bars_png(days, highlight=closed)), Image(h_cid, bars_png(m.hourly))]
                out[m.device] = {"days": d_cid, "hours": h_cid}
        return out, images

    def weekly_fragment(self, report: WeeklyReport, charts: Charts = "svg") -> tuple[str, list[Image]]:
        """The report's body (for the dashboard page or an e-mail) and the images it refers to."""
        chart_map, images = self.weekly_charts(report, charts)
        html = self.env.get_template("weekly.html").render(
            r=report, week=report.week, charts=chart_map, chart_mode=charts, site=self.site,
            period=self._period(report), status=self.weekly_status(report), vs_average=self.vs_average)
        return html, images

    def weekly_html(self, report: WeeklyReport, css: CssMode = "inline") -> str:
        """The printable weekly report, a whole document with inline SVG charts."""
        body, _ = self.weekly_fragment(report, "svg")
        return self._doc(self.weekly_title(report), body, css)

    def weekly_email(self, report: WeeklyReport) -> tuple[str, list[Image]]:
        """The e-mail's HTML (charts as ``cid:`` PNG images) and the images."""
        body, images = self.weekly_fragment(report, "cid")
        return self._doc(self.weekly_title(report), body, "inline"), images

    def weekly_title(self, report: WeeklyReport) -> str:
        """``Sunshine KG · Weekly utility report 2026-W47``."""
        return self.t("{site} · Weekly utility report {week}", site=self.site, week=report.week.label)

    def _period(self, report: WeeklyReport) -> str:
        days = report.week.days
        bl = self.locale.replace("-", "_")
        pattern = "yyyy-MM-dd"
        return f"{format_date(days[0], pattern, locale=bl)} – {format_date(days[-1], pattern, locale=bl)}"

    def weekly_status(self, report: WeeklyReport) -> str:
        """What the reader must know before the numbers: no data at all, or a week not over yet."""
        if not report.has_data:
            return self.t("No readings this week: nothing can be said about it.")
        if not report.complete:
            until = format_datetime(datetime.fromtimestamp(report.until, self.tz), "MM-dd HH:mm",
                                    locale=self.locale.replace("-", "_"))
            return self.t("The week is not over: counted until {time} and compared with the same part of the "
                          "weeks before.", time=until)
        return ""

    def vs_average(self, m: MeterWeek) -> str:
        """``vs 4-week average``, or the number of weeks it really is (a new install has fewer)."""
        if m.avg_weeks and m.avg_weeks < 4:
            return self.t("vs average of the last {n} weeks", n=m.avg_weeks)
        return self.t("vs 4-week average")

    def weekly_markdown(self, report: WeeklyReport, link: str = "") -> str:
        """The summary for WeCom / DingTalk / Feishu group robots."""
        pct = self.env.filters["pct"]
        lines = [f"**{self.weekly_title(report)}**", f"{self._period(report)}", ""]
        status = self.weekly_status(report)
        if status:
            lines += [f"**{status}**", ""]
        if report.has_data:
            lines.append(f"**{self.t('Findings')}**")
            for i, f in enumerate(report.findings, 1):
                lines.append(f"> {i}. {f.text}")
            lines.append("")
        for m in report.meters:
            if not m.has_data:
                lines.append(f"- **{m.name}**: {self.t('no data this week')}")
                continue
            parts = [f"{m.total:,.2f} {m.unit}"]
            if m.cost:
                parts.append(f"{report.currency}{m.cost:,.2f}")
            parts.append(self.t("{change} vs last week", change=pct(m.vs_last_pct)))
            parts.append(self.t("{change} vs average of the last {n} weeks" if 0 < m.avg_weeks < 4
                                else "{change} vs 4-week average", change=pct(m.vs_avg_pct), n=m.avg_weeks))
            parts.append(self.t("closed: {amount} {unit}", amount=f"{m.closed_units:,.2f}", unit=m.unit))
            if m.baseline_avg is not None:
                parts.append(self.t("night baseline {value} {unit}", value=f"{m.baseline_avg:,.1f}",
                                    unit=m.baseline_unit))
            lines.append(f"- **{m.name}**: " + ", ".join(parts))
        if report.total_cost:
            lines.append("")
            lines.append(self.t("Total cost: {money}", money=f"{report.currency}{report.total_cost:,.2f}"))
        if link:
            lines.append("")
            lines.append(f"[{self.t('Full report')}]({self.weekly_url(report, link)})")
        return "\n".join(lines)

    @staticmethod
    def weekly_url(report: WeeklyReport, link: str) -> str:
        """The dashboard's page of the report under the configured ``link``."""
        return f"{link.rstrip('/')}/reports/weekly?week={report.week.label}"

    def weekly_text(self, report: WeeklyReport, link: str = "") -> str:
        """Plain text (the e-mail's alternative part, robots that take no Markdown), with the link written out."""
        text = self.weekly_markdown(report).replace("**", "").replace("> ", "  ")
        return text + (f"\n\n{self.t('Full report')}: {self.weekly_url(report, link)}" if link else "")

    # -- cold-storage sheet ------------------------------------------------------------------------
    def sheet_fragment(self, lines: Sequence[SheetDay], day: date, check_times: Sequence[str]) -> str:
        """One day's sheet for every cold device."""
        return self.env.get_template("sheet.html").render(lines=lines, day=day, check_times=check_times,
                                                          site=self.site)

    def sheet_html(self, lines: Sequence[SheetDay], day: date, check_times: Sequence[str],
                   css: CssMode = "inline") -> str:
        """The printable day sheet."""
        title = self.t("{site} · Cold-storage sheet {day}", site=self.site, day=day.isoformat())
        return self._doc(title, self.sheet_fragment(lines, day, check_times), css)

    def sheet_month_fragment(self, lines: Sequence[SheetDay], year: int, month: int,
                             check_times: Sequence[str]) -> str:
        """A month of sheets, one table per device."""
        devices: dict[str, list[SheetDay]] = {}
        for x in lines:
            devices.setdefault(x.device, []).append(x)
        return self.env.get_template("sheet_month.html").render(devices=devices, year=year, month=month,
                                                                check_times=check_times, site=self.site)

    def sheet_month_html(self, lines: Sequence[SheetDay], year: int, month: int, check_times: Sequence[str],
                         css: CssMode = "inline") -> str:
        """The printable month of sheets."""
        title = self.t("{site} · Cold-storage sheets {month}", site=self.site, month=f"{year}-{month:02d}")
        return self._doc(title, self.sheet_month_fragment(lines, year, month, check_times), css)

    # -- sample ledger -----------------------------------------------------------------------------
    def samples_fragment(self, samples: Sequence[Sample], verdicts: dict[int, tuple[bool, str]], year: int,
                         month: int, now: float, min_grams: float, fridges: dict[str, str]) -> str:
        """The month's sample ledger."""
        return self.env.get_template("samples.html").render(
            samples=samples, verdicts=verdicts, year=year, month=month, now=now, min_grams=min_grams,
            fridges=fridges, site=self.site)

    def samples_html(self, samples: Sequence[Sample], verdicts: dict[int, tuple[bool, str]], year: int, month: int,
                     now: float, min_grams: float, fridges: dict[str, str], css: CssMode = "inline") -> str:
        """The printable ledger of a month."""
        title = self.t("{site} · Food-sample ledger {month}", site=self.site, month=f"{year}-{month:02d}")
        return self._doc(title, self.samples_fragment(samples, verdicts, year, month, now, min_grams, fridges), css)


# -- CSV ---------------------------------------------------------------------------------------------
def _csv(rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerows(rows)
    # A BOM so that Excel (what the office opens CSV with) reads the Chinese names as UTF-8.
    return "\ufeff" + buf.getvalue()


def _r(v: float | None, digits: int = 3) -> str:
    return "" if v is None else f"{v:.{digits}f}"


#: Column titles of the weekly CSV (msgids); the hourly columns and the average's are made per export.
_WEEKLY_TITLES = {"week": "Week", "device": "Device id", "name": "Meter", "day": "Day", "school_open": "School open",
                  "use": "Use", "unit": "Unit of use", "cost": "Cost", "closed_use": "Use while closed",
                  "night_baseline": "Night baseline", "baseline_unit": "Baseline unit", "last_week": "Last week",
                  "avg_weeks": "Weeks averaged", "vs_last_week_pct": "vs last week (%)", "vs_avg_pct": "vs average (%)",
                  "findings": "Findings"}


def weekly_csv(report: WeeklyReport, locale: str = "en") -> str:
    """One row per meter and day, then a total row per meter with the comparisons, the average use per hour
    of day and the meter's findings; in ``locale`` (the site's: English keeps the machine column names).
    The average's column is named by the number of weeks it is of (a new install has fewer than four)."""
    machine = locale == "en"

    def title(key: str) -> str:
        return key if machine else gettext(locale, _WEEKLY_TITLES[key])

    weeks = {m.avg_weeks for m in report.meters if m.avg_weeks}
    n = weeks.pop() if len(weeks) == 1 else 0
    if machine:
        avg_head = f"avg_{n}_weeks" if n else "avg_earlier_weeks"
        hours = [f"h{h:02d}" for h in range(24)]
    else:
        avg_head = (tr(locale, "Average of the last {n} weeks", n=n) if n
                    else gettext(locale, "Average of earlier weeks"))
        hours = [tr(locale, "Average at {hour}:00", hour=f"{h:02d}") for h in range(24)]
    head = [*map(title, ("week", "device", "name", "day", "school_open", "use", "unit", "cost", "closed_use",
                         "night_baseline", "baseline_unit", "last_week")), avg_head, title("avg_weeks"),
            *map(title, ("vs_last_week_pct", "vs_avg_pct")), *hours, title("findings")]
    total = "total" if machine else gettext(locale, "Week total")

    def is_open(v: bool) -> Any:
        return int(v) if machine else gettext(locale, "yes" if v else "no")

    rows: list[list[Any]] = [head]
    for m in report.meters:
        for d in m.days:
            rows.append([report.week.label, m.device, m.name, d.day.isoformat(), is_open(d.open), _r(d.units),
                         m.unit, _r(d.cost, 2), _r(d.closed_units), _r(d.night_baseline, 1), m.baseline_unit, "", "",
                         "", "", "", *[""] * 24, ""])
        found = " | ".join(f.text for f in report.findings if f.device == m.device)
        rows.append([report.week.label, m.device, m.name, total, "", _r(m.total), m.unit, _r(m.cost, 2),
                     _r(m.closed_units), _r(m.baseline_avg, 1), m.baseline_unit, _r(m.last_week), _r(m.avg_4w),
                     m.avg_weeks, _r(m.vs_last_pct, 1), _r(m.vs_avg_pct, 1), *[_r(v) for v in m.hourly], found])
    return _csv(rows)


#: Column titles of the cold-storage sheet's CSV (msgids); the check columns are added per check time.
SHEET_COLUMNS = ("day", "device", "name", "low", "high", "min", "min_at", "max", "max_at", "minutes_out", "readings",
                 "alerts", "corrections")
_SHEET_TITLES = {"day": "Day", "device": "Device id", "name": "Device", "low": "Lowest allowed (°C)",
                 "high": "Highest allowed (°C)", "min": "Min (°C)", "min_at": "Min at", "max": "Max (°C)",
                 "max_at": "Max at", "minutes_out": "Minutes out of range", "readings": "Readings",
                 "alerts": "Alerts", "corrections": "Corrections"}


def sheet_csv(lines: Sequence[SheetDay], tz: tzinfo, check_times: Sequence[str], locale: str = "en") -> str:
    """One row per device and day: checks, min/max with times, minutes out, alerts, corrections; in ``locale``
    (the site's: the titles and words of the export follow it, English keeps the machine column names)."""
    def hm(ts: float | None) -> str:
        return "" if ts is None else datetime.fromtimestamp(ts, tz).strftime("%H:%M")

    def when(ts: float | None, day: date) -> str:
        """The time, with its date when it is not the row's day (an alert still open from an earlier day)."""
        if ts is None:
            return ""
        at = datetime.fromtimestamp(ts, tz)
        return at.strftime("%H:%M") if at.date() == day else at.strftime("%m-%d %H:%M")

    def title(key: str) -> str:
        return key if locale == "en" else gettext(locale, _SHEET_TITLES[key])

    checks_head = [f"check_{t}" if locale == "en" else tr(locale, "Check at {time} (°C)", time=t)
                   for t in check_times]
    head = [*map(title, SHEET_COLUMNS[:5]), *checks_head, *map(title, SHEET_COLUMNS[5:])]
    rows: list[list[Any]] = [head]
    for x in lines:
        checks = {c.at: c.value for c in x.checks}
        alerts = " | ".join(
            f"{when(a.opened_at, x.day)} {a.words(locale, tz)}; "
            + (tr(locale, "acknowledged by {who} at {time}: {action}", who=a.acked_by, time=when(a.acked_at, x.day),
                  action=a.action or "") if a.acked_by else gettext(locale, "not acknowledged"))
            for a in x.alerts)
        fixes = " | ".join(f"{field_label(c.field, locale)} → {c.value} ({c.by}: {c.reason})" for c in x.corrections)
        rows.append([x.day.isoformat(), x.device, x.name, _r(x.low, 1), _r(x.high, 1),
                     *[_r(checks.get(t), 1) for t in check_times], _r(x.min, 1), hm(x.min_at), _r(x.max, 1),
                     hm(x.max_at), "" if x.unavailable else _r(x.minutes_out, 1),
                     gettext(locale, "data unavailable") if x.unavailable else x.readings, alerts, fixes])
    return _csv(rows)


#: Column titles of the sample ledger's CSV (msgids); English keeps the machine column names.
_SAMPLE_TITLES = {"id": "Sample no.", "meal_date": "Meal date", "meal": "Meal", "dishes": "Dishes (g)",
                  "fridge": "Fridge", "staff": "Taken by", "taken_at": "Taken at", "due_at": "Kept until",
                  "status": "Sample status", "kept_ok": "Kept within limits", "verdict": "48 hours",
                  "discarded_by": "Discarded by", "discarded_at": "Discarded at", "registered_by": "Registered by",
                  "corrections": "Corrections"}
#: A sample's status (``Sample.status``) as people read it (msgids).
SAMPLE_STATUS = {"discarded": "discarded", "compromised": "compromised", "due": "may be discarded",
                 "keeping": "keep"}


def samples_csv(samples: Sequence[Sample], verdicts: dict[int, tuple[bool, str]], tz: tzinfo, now: float,
                locale: str = "en", fridges: dict[str, str] | None = None,
                people: dict[str, str] | None = None) -> str:
    """One row per sample: meal, dishes with grams, fridge, staff, times, status, verdict, who discarded; in
    ``locale`` (the site's). English keeps the machine columns and values (meal keys, fridge ids, logins);
    other locales write words: the meal, the fridge's name, the status, yes/no and people's display names
    (``people``: login -> display name)."""
    machine = locale == "en"
    names, who_is = fridges or {}, people or {}

    def t(ts: float | None) -> str:
        return "" if ts is None else datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M")

    def who(login: str | None) -> str:
        return (login or "") if machine else who_is.get(login or "", login or "")

    def word(key: str) -> str:
        return key if machine else gettext(locale, key)

    def fix(e: Any) -> str:
        if machine:
            return f"{e.field}={e.value} ({e.by}: {e.note})"
        value = corrected_value(e.value)
        if e.field == "meal":
            value = gettext(locale, value)
        elif e.field == "fridge":
            value = names.get(value, value)
        return f"{field_label(e.field or '', locale)} → {value} ({who(e.by)}: {e.note or ''})"

    head = list(_SAMPLE_TITLES) if machine else [gettext(locale, v) for v in _SAMPLE_TITLES.values()]
    rows: list[list[Any]] = [head]
    for s in samples:
        ok, text = verdicts.get(s.id, (True, ""))
        d = s.discarded
        status = s.status(now)
        fixes = " | ".join(fix(e) for e in s.events if e.what == "corrected")
        rows.append([s.id, s.meal_date.isoformat(), word(s.meal),
                     "; ".join(f"{x.name} {x.grams:g} g" for x in s.dishes),
                     s.fridge if machine else names.get(s.fridge, s.fridge), s.staff, t(s.taken_at), t(s.due_at),
                     status if machine else gettext(locale, SAMPLE_STATUS[status]),
                     int(ok) if machine else gettext(locale, "yes" if ok else "no"), text,
                     who(d.by) if d else "", t(d.ts) if d else "", who(s.registered_by), fixes])
    return _csv(rows)
