"""The three plain-language findings of a weekly report, ranked by risk (a possible leak) and then money."""

from __future__ import annotations

from datetime import date

from babel.dates import format_date

from gateway.calendar import SchoolCalendar
from gateway.i18n import tr
from gateway.reports.weekly import Finding, MeterWeek, WeeklyReport

#: A closed day counts as "used" when it used this much more than its night baseline would explain.
CLOSED_DAY_MIN = {True: 0.1, False: 1.0}  # m³ of water, kWh of electricity
#: A night baseline is "rising" when it is this much higher than the week before ...
BASELINE_RISE_FACTOR = 1.2
#: ... and by at least this much (L/h of water, W of power).
BASELINE_RISE_MIN = {True: 2.0, False: 20.0}
#: Use this much above the 4-week average is worth a line.
ABOVE_AVERAGE_PCT = 15.0
TOP = 3


def day_name(d: date, locale: str) -> str:
    """``Sunday 4 Jan`` / ``1月4日 星期日``."""
    if locale == "zh-CN":
        return format_date(d, "M月d日 EEEE", locale="zh_CN")
    return format_date(d, "EEEE d MMM", locale="en")


def _num(v: float) -> str:
    return f"{v:,.1f}" if abs(v) < 100 else f"{v:,.0f}"


def _money(report: WeeklyReport, v: float) -> str:
    return f"{report.currency}{v:,.2f}"


def _what(m: MeterWeek, locale: str) -> str:
    return m.name if m.name != m.device else tr(locale, "Water" if m.water else "Electricity")


def _avg_price(m: MeterWeek) -> float:
    return m.cost / m.total if m.total > 0 else 0.0


def candidates(report: WeeklyReport, calendar: SchoolCalendar, locale: str) -> list[Finding]:
    """Every finding the week's numbers support, unranked."""
    out: list[Finding] = []
    for m in report.meters:
        if not m.has_data:
            continue
        what = _what(m, locale)
        for d in m.days:
            if d.open:
                continue
            night = d.night_baseline if d.night_baseline is not None else (m.baseline_avg or 0.0)
            excess = d.units - night * 24 / 1000.0
            if excess >= CLOSED_DAY_MIN[m.water] and d.units > 0:
                out.append(Finding("closed_day", m.device, d.cost, 1, tr(
                    locale, "{what} used on {day}: {amount} {unit} ({money}), school closed",
                    what=what, day=day_name(d.day, locale), amount=_num(d.units), unit=m.unit,
                    money=_money(report, d.cost))))
        if m.closed_units > 0 and m.total > 0:
            share = m.closed_units / m.total * 100.0
            out.append(Finding("closed_hours", m.device, m.closed_cost, 0, tr(
                locale, "{what} used while the school was closed: {amount} {unit} ({money}), {share}% of the week",
                what=what, amount=_num(m.closed_units), unit=m.unit, money=_money(report, m.closed_cost),
                share=f"{share:.0f}")))
        if (m.baseline_avg is not None and m.baseline_prev is not None
                and m.baseline_avg > m.baseline_prev * BASELINE_RISE_FACTOR
                and m.baseline_avg - m.baseline_prev >= BASELINE_RISE_MIN[m.water]):
            extra = (m.baseline_avg - m.baseline_prev) * 168 / 1000.0 * _avg_price(m)
            msg = ("{what}: night baseline rose from {before} to {after} {unit}; check for a leak"
                   if m.water else "{what}: night baseline rose from {before} to {after} {unit}; something is left on")
            out.append(Finding("baseline_rising", m.device, extra, 2 if m.water else 1, tr(
                locale, msg, what=what, before=_num(m.baseline_prev), after=_num(m.baseline_avg),
                unit=m.baseline_unit)))
        above = m.vs_avg_pct
        if above is not None and above >= ABOVE_AVERAGE_PCT and m.avg_4w is not None:
            extra = (m.total - m.avg_4w) * _avg_price(m)
            out.append(Finding("above_average", m.device, extra, 0, tr(
                locale, "{what}: {amount} {unit} this week, {pct}% above the 4-week average ({money} more)",
                what=what, amount=_num(m.total), unit=m.unit, pct=f"{above:.0f}", money=_money(report, extra))))
    return out


def rank(found: list[Finding]) -> list[Finding]:
    """Risk first (a possible leak beats money), then money, then kind for a stable order."""
    return sorted(found, key=lambda f: (-f.risk, -f.money, f.kind, f.device))


def findings(report: WeeklyReport, calendar: SchoolCalendar, locale: str) -> list[Finding]:
    """The top three findings, or one "nothing unusual" line."""
    top = rank(candidates(report, calendar, locale))[:TOP]
    if not top:
        return [Finding("all_normal", "", 0.0, 0, tr(locale, "Nothing unusual this week."))]
    return top
