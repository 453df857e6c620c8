"""The three plain-language findings of a weekly report, ranked by risk (a possible leak) and then money."""

from __future__ import annotations

from datetime import date, timedelta

from babel.dates import format_date

from gateway.calendar import SchoolCalendar
from gateway.i18n import tr
from gateway.reports.weekly import Finding, MeterWeek, WeeklyReport, midnight

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


def _normal(values: list[float]) -> float:
    """This site's usual value: the median of earlier weeks (one odd week does not move it)."""
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def _unusual(value: float, normal: float, minimum: float) -> float:
    """How much ``value`` is above ``normal`` when that is a real change (at least ``minimum`` and
    ``ABOVE_AVERAGE_PCT`` of it), else 0."""
    excess = value - normal
    return excess if excess >= minimum and excess >= normal * ABOVE_AVERAGE_PCT / 100.0 else 0.0


def candidates(report: WeeklyReport, calendar: SchoolCalendar, locale: str) -> list[Finding]:
    """Every finding the week's numbers support, unranked. A finding is a change from this site's own normal
    (the same weekday of earlier weeks, its closed-hours use, its learned night base load): a steady load
    that is there every week (the fridges over the weekend) is not one."""
    out: list[Finding] = []
    for m in report.meters:
        if not m.has_data:
            continue
        what = _what(m, locale)
        price = _avg_price(m)
        said = 0.0  # units already told by a closed-day finding: not told again as closed hours or above average
        for d in m.days:
            if d.open or midnight(d.day + timedelta(days=1), calendar.tz) > report.until:
                continue  # open days are judged by the week; today is not over
            past = m.past_days.get(d.day.weekday(), [])
            if past:
                excess = _unusual(d.units, _normal(past), CLOSED_DAY_MIN[m.water])
            else:  # no history yet: what the learned night base load explains is normal
                night = d.night_baseline if d.night_baseline is not None else (m.baseline_avg or 0.0)
                excess = d.units - night * 24 / 1000.0
                excess = excess if excess >= CLOSED_DAY_MIN[m.water] else 0.0
            if excess > 0 and d.units > 0:
                said += excess
                out.append(Finding("closed_day", m.device, excess * price, 1, tr(
                    locale, "{what} used on {day}: {amount} {unit} ({money}), school closed; "
                            "{extra} {unit} more than usual",
                    what=what, day=day_name(d.day, locale), amount=_num(d.units), unit=m.unit,
                    money=_money(report, d.cost), extra=_num(excess))))
        if m.past_closed and m.total > 0:
            extra = _unusual(m.closed_units - said, _normal(m.past_closed), CLOSED_DAY_MIN[m.water])
            if extra > 0:
                out.append(Finding("closed_hours", m.device, extra * price, 0, tr(
                    locale, "{what} used while the school was closed: {amount} {unit}, {extra} {unit} more than "
                            "usual ({money})",
                    what=what, amount=_num(m.closed_units), unit=m.unit, extra=_num(extra),
                    money=_money(report, extra * price))))
        if (m.baseline_avg is not None and m.baseline_prev is not None
                and m.baseline_avg > m.baseline_prev * BASELINE_RISE_FACTOR
                and m.baseline_avg - m.baseline_prev >= BASELINE_RISE_MIN[m.water]):
            extra_money = (m.baseline_avg - m.baseline_prev) * 168 / 1000.0 * price
            msg = ("{what}: night baseline rose from {before} to {after} {unit}; check for a leak"
                   if m.water else "{what}: night baseline rose from {before} to {after} {unit}; something is left on")
            out.append(Finding("baseline_rising", m.device, extra_money, 2 if m.water else 1, tr(
                locale, msg, what=what, before=_num(m.baseline_prev), after=_num(m.baseline_avg),
                unit=m.baseline_unit)))
        if m.avg_4w is not None:
            above = _unusual(m.total - said, m.avg_4w, 0.0)
            if above > 0:
                pct = above / m.avg_4w * 100.0
                out.append(Finding("above_average", m.device, above * price, 0, tr(
                    locale, "{what}: {amount} {unit} this week, {pct}% above the average of the weeks before "
                            "({money} more)",
                    what=what, amount=_num(m.total), unit=m.unit, pct=f"{pct:.0f}",
                    money=_money(report, above * price))))
    return out


def rank(found: list[Finding]) -> list[Finding]:
    """Risk first (a possible leak beats money), then money, then kind for a stable order."""
    return sorted(found, key=lambda f: (-f.risk, -f.money, f.kind, f.device))


def findings(report: WeeklyReport, calendar: SchoolCalendar, locale: str) -> list[Finding]:
    """The top three findings, or one line: no data (nothing can be said), or nothing unusual."""
    if not report.has_data:
        return [Finding("no_data", "", 0.0, 0, tr(locale, "No readings this week: nothing can be said about it."))]
    top = rank(candidates(report, calendar, locale))[:TOP]
    if not top:
        return [Finding("all_normal", "", 0.0, 0, tr(locale, "Nothing unusual this week."))]
    return top
