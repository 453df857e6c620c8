"""What each page shows, computed from the services as plain data; the pages and the JSON API share it."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from dashboard.services import DashboardServices
from gateway.alerts.model import Alert, TimelineEntry
from gateway.cold_limits import chart_limits
from gateway.config import DeviceSettings
from gateway.device_status import device_status
from gateway.i18n import tr
from gateway.kinds import KINDS
from gateway.model import Reading
from gateway.rules.describe import describe
from gateway.rules.detail import detail_words, value_words, what_words, where_words
from gateway.rules.settings import RuleBase
from gateway.store.base import SeriesInfo

log = logging.getLogger(__name__)

AREAS = ("cold_storage", "utilities", "gate")
#: A device not heard from for this long counts as stale (amber) even if it never said "offline".
STALE_AFTER = 15 * 60.0
_URGENT = frozenset({"critical", "major"})
#: The Devices page counts dead letters of this last stretch: what is wrong now, not 30 days of a sensor
#: already fixed (and a page never scans a month of refusals of a sensor publishing every second).
DEAD_LETTER_WINDOW = 86400.0
#: How far back the Alerts page's default view ("recent") reaches for cleared alerts.
RECENT_DAYS = 7


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """One device on the Devices page."""

    id: str
    name: str
    kind: str
    area: str
    format: str
    location: str
    last_seen: float | None
    online: bool | None
    battery_pct: float | None
    dead_letters: int
    stale: bool
    values: dict[str, float] = field(default_factory=dict)
    #: The reason of the newest of ``dead_letters`` (e.g. ``not_json``), None when there is none.
    dead_letter_reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """For JSON."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class AreaStatus:
    """One area's light on the Overview."""

    area: str
    status: str  # green / amber / red
    devices: int
    offline: int
    open_alerts: int
    last_reading: float | None

    def as_dict(self) -> dict[str, Any]:
        """For JSON."""
        return asdict(self)


def area_of(services: DashboardServices, device: str) -> str:
    """The dashboard area of a device id (``other`` when unknown)."""
    d = services.config.device(device)
    return d.area if d else "other"


def _series(services: DashboardServices) -> dict[str, dict[str, SeriesInfo]]:
    out: dict[str, dict[str, SeriesInfo]] = defaultdict(dict)
    if services.store is None:
        return out
    try:
        for s in services.store.series():
            out[s.device][s.metric] = s
    except Exception:  # a failing store shows as "no data", never as a broken page
        log.exception("reading series from the store failed")
    return out


def _device_status(services: DashboardServices) -> dict[str, tuple[float | None, bool | None]]:
    """Device -> (its last real reading or event, its availability); availability messages are no data."""
    try:
        status = device_status(services.events_db, services.store)
    except sqlite3.Error:
        return {}
    return {d: (st.last_data, st.online) for d, st in status.items()}


def _dead_letter_counts(services: DashboardServices) -> dict[str, tuple[int, str]]:
    """Device -> (dead letters in the last ``DEAD_LETTER_WINDOW``, reason of the newest)."""
    since = services.clock.now() - DEAD_LETTER_WINDOW
    try:
        # with max(), SQLite takes the bare column (reason) from the row holding the maximum
        rows = services.events_db.conn().execute(
            "SELECT device, count(*), reason, max(ts) FROM dead_letters WHERE ts >= ? AND device IS NOT NULL"
            " GROUP BY device", (since,)
        ).fetchall()
    except sqlite3.Error:
        return {}
    return {str(r[0]): (int(r[1]), str(r[2])) for r in rows}


def devices(services: DashboardServices) -> list[DeviceRow]:
    """Every configured device (and any unknown one that sent data) with its state."""
    now = services.clock.now()
    series = _series(services)
    status = _device_status(services)
    dead = _dead_letter_counts(services)
    rows = []
    for d in services.config.devices:
        rows.append(_row(d, series.get(d.id, {}), status.get(d.id), dead.get(d.id), now))
    return rows


def _row(d: DeviceSettings, series: dict[str, SeriesInfo], status: tuple[float | None, bool | None] | None,
         dead: tuple[int, str] | None, now: float) -> DeviceRow:
    times = [s.last_ts for s in series.values()]
    if status and status[0] is not None:
        times.append(status[0])
    last_seen = max(times, default=None)
    battery = series.get("battery_pct")
    return DeviceRow(
        id=d.id, name=d.label, kind=d.kind, area=d.area, format=d.format, location=d.location,
        last_seen=last_seen, online=status[1] if status else None,
        battery_pct=battery.last_value if battery else None, dead_letters=dead[0] if dead else 0,
        # quiet is the normal state of a card reader or an exit button: their availability judges them
        stale=not d.event_only and (last_seen is None or now - last_seen > STALE_AFTER),
        values={m: s.last_value for m, s in series.items()},
        dead_letter_reason=dead[1] if dead else None,
    )


def open_alerts(services: DashboardServices) -> list[Alert]:
    """Open alerts, unacknowledged first, then by severity and age."""
    if services.alerts is None:
        return []
    order = {"critical": 0, "major": 1, "minor": 2, "warning": 3}
    alerts = list(services.alerts.list(open_only=True, limit=500))
    alerts.sort(key=lambda a: (a.state != "active", order.get(a.severity, 9), -a.opened_at))
    return alerts


def alerts(services: DashboardServices, *, state: str = "recent", area: str = "", severity: str = "",
           limit: int = 200) -> list[Alert]:
    """Alerts by state: ``recent`` (open ones, then those of the last 7 days), open, active,
    acknowledged, cleared or all; filtered by area and severity."""
    if services.alerts is None:
        return []
    if state in ("", "recent"):
        opened = list(services.alerts.list(open_only=True, limit=max(limit, 500)))
        since = services.clock.now() - RECENT_DAYS * 86400
        seen = {a.id for a in opened}
        found = opened + [a for a in services.alerts.list(since=since, limit=max(limit, 500)) if a.id not in seen]
    else:
        found = list(services.alerts.list(open_only=state in ("open", "active", "acknowledged"), limit=max(limit, 500)))
    out = []
    for a in found:
        if state in ("active", "acknowledged", "cleared") and a.state != state:
            continue
        if area and area_of(services, a.device) != area:
            continue
        if severity and a.severity != severity:
            continue
        out.append(a)
        if len(out) >= limit:
            break
    return out


def overview(services: DashboardServices) -> dict[str, Any]:
    """Open alerts first, then each area's light with device counts and the age of its last reading."""
    rows = devices(services)
    open_ = open_alerts(services)
    areas = []
    for area in AREAS:
        mine = [r for r in rows if r.area == area]
        area_alerts = [a for a in open_ if area_of(services, a.device) == area]
        offline = sum(1 for r in mine if r.online is False or r.stale)
        if any(a.severity in _URGENT and a.state == "active" for a in area_alerts):
            status = "red"
        elif area_alerts or offline:
            status = "amber"
        else:
            status = "green"
        last = max((r.last_seen for r in mine if r.last_seen is not None), default=None)
        areas.append(AreaStatus(area, status, len(mine), offline, len(area_alerts), last))
    return {"alerts": open_, "areas": areas, "devices_offline": sum(1 for r in rows if r.online is False or r.stale),
            "now": services.clock.now()}


def local_midnight(services: DashboardServices, ts: float, days_back: int = 0) -> float:
    """Unix time of the site's local midnight of the day of ``ts``, minus ``days_back`` days."""
    tz = services.config.site.tz
    day = datetime.fromtimestamp(ts, tz).date() - timedelta(days=days_back)
    return datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()


def _agg(services: DashboardServices, device: str, metric: str, start: float, end: float, every: float,
         fn: str) -> list[tuple[float, float]]:
    if services.store is None or end <= start:
        return []
    try:
        buckets = services.store.aggregate(device, metric, start, end, every, fn,  # type: ignore[arg-type]
                                           services.config.site.tz)
    except Exception:
        log.exception("aggregate %s/%s failed", device, metric)
        return []
    return [(b.start, b.value) for b in buckets]


def alerts_today(services: DashboardServices, midnight: float) -> list[Alert]:
    """Alerts open now or at any time since ``midnight`` (cleared ones too), open ones first, newest first."""
    if services.alerts is None:
        return []
    found = list(services.alerts.list(since=midnight, limit=500))
    found.sort(key=lambda a: (a.state == "cleared", -a.opened_at))
    return found


def cold_storage(services: DashboardServices) -> list[dict[str, Any]]:
    """Each fridge, freezer, sample fridge and cold room: now, min/max today, its limits, and today's
    alerts (open ones and those already cleared) with their corrective actions."""
    now = services.clock.now()
    midnight = local_midnight(services, now)
    rows = {r.id: r for r in devices(services)}
    today = alerts_today(services, midnight)
    out = []
    for d in services.config.devices:
        if not KINDS[d.kind].cold:
            continue
        r = rows[d.id]
        lo = _agg(services, d.id, "temperature", midnight, now + 1, 86400, "min")
        hi = _agg(services, d.id, "temperature", midnight, now + 1, 86400, "max")
        low, high = chart_limits(services.config, d)  # each side from its threshold rules when set, else by kind
        out.append({
            "device": r.as_dict(), "temperature": r.values.get("temperature"),
            "min_today": lo[0][1] if lo else None, "max_today": hi[0][1] if hi else None,
            "limit_low": low, "limit_high": high,
            "alerts": alert_json(services, [a for a in today if a.device == d.id]),
        })
    return out


def utilities(services: DashboardServices) -> list[dict[str, Any]]:
    """Each meter: today, this week vs last week (to the same hour), current flow/power, night baseline."""
    now = services.clock.now()
    tz = services.config.site.tz
    today = local_midnight(services, now)
    weekday = datetime.fromtimestamp(now, tz).weekday()
    week_start = local_midnight(services, now, weekday)
    last_week_start = local_midnight(services, week_start - 1, 6)
    rows = {r.id: r for r in devices(services)}
    out = []
    for d in services.config.devices:
        if KINDS[d.kind].total is None:
            continue
        water = d.kind == "water_meter"
        usage, rate = ("usage_l", "flow_lpm") if water else ("usage_wh", "power_w")

        def total(start: float, end: float, dev: str = d.id, metric: str = usage) -> float:
            return sum(v for _, v in _agg(services, dev, metric, start, end, 86400, "sum"))

        elapsed = now - week_start
        this_week = total(week_start, now + 1)
        last_week_same = total(last_week_start, last_week_start + elapsed)
        night = _agg(services, d.id, usage, today, today + 5 * 3600, 3600, "sum")
        r = rows[d.id]
        out.append({
            "device": r.as_dict(), "usage_metric": usage, "rate_metric": rate,
            "unit": "L" if water else "Wh", "rate_unit": "L/min" if water else "W",
            "today": total(today, now + 1), "this_week": this_week,
            "last_week": total(last_week_start, week_start), "last_week_to_date": last_week_same,
            "change_pct": ((this_week - last_week_same) / last_week_same * 100.0) if last_week_same else None,
            "rate": r.values.get(rate),
            "night_baseline": min((v for _, v in night), default=None),
        })
    return out


def gate_events(services: DashboardServices, limit: int = 50, since: float | None = None) -> list[dict[str, Any]]:
    """The newest events of gate-area devices (card reads, exit button, opened/closed), newest first."""
    ids = [d.id for d in services.config.devices if d.area == "gate"]
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    params: list[Any] = list(ids)
    sql = f"SELECT ts, device, type, data FROM device_events WHERE device IN ({marks})"
    if since is not None:
        sql += " AND ts >= ?"
        params.append(since)
    params.append(limit)
    try:
        rows = services.events_db.conn().execute(sql + " ORDER BY ts DESC LIMIT ?", params).fetchall()
    except sqlite3.Error:
        return []
    out = []
    for ts, device, type_, data in rows:
        try:
            parsed = json.loads(data) if data else {}
        except ValueError:
            parsed = {}
        out.append({"ts": float(ts), "device": str(device), "type": str(type_),
                    "data": parsed if isinstance(parsed, dict) else {}})
    return out


def gate(services: DashboardServices) -> dict[str, Any]:
    """Each gate/door: open or closed and since when; gate alarms; the recent event stream."""
    now = services.clock.now()
    rows = {r.id: r for r in devices(services)}
    gates = []
    changes: list[dict[str, Any]] = []
    names = {d.id: d.label for d in services.config.devices}
    for d in services.config.devices:
        if not KINDS[d.kind].contact:
            continue
        r = rows[d.id]
        contact = r.values.get("contact")
        readings = _contact_readings(services, d.id, now)
        since = _contact_since(readings, contact)
        changes += contact_changes(d.id, readings)
        gates.append({"device": r.as_dict(), "open": None if contact is None else contact >= 0.5, "since": since})
    gate_alerts = [a for a in open_alerts(services) if area_of(services, a.device) == "gate"]
    # opened/closed are contact readings, not device events: merged into the stream by time
    events = sorted(gate_events(services) + changes + gate_alarm_lines(services, now - 86400),
                    key=lambda e: e["ts"], reverse=True)[:GATE_EVENTS_SHOWN]
    for e in events:
        e["name"] = names.get(e["device"], e["device"])
    return {"gates": gates, "alerts": alert_json(services, gate_alerts), "events": events, "now": now,
            "names": {d.id: names[d.id] for d in services.config.devices if d.area == "gate"}}


#: Lines in the Gate page's event stream (device events and opened/closed changes together).
GATE_EVENTS_SHOWN = 50

#: Gate alarms that are also lines of the event stream: the alert kind -> the line's type (its label).
GATE_ALARM_LINES = {"gate_forced": "forced", "gate_held_open": "held_open"}


def gate_alarm_lines(services: DashboardServices, since: float) -> list[dict[str, Any]]:
    """Forced and held-open alarms raised since ``since`` as event-stream lines (when they were raised)."""
    if services.alerts is None:
        return []
    try:
        found = services.alerts.list(since=since, limit=200)
    except Exception:
        log.exception("gate alarms for the event stream failed")
        return []
    return [{"ts": a.opened_at, "device": a.device, "type": GATE_ALARM_LINES[a.kind], "data": {}}
            for a in found if a.kind in GATE_ALARM_LINES and a.opened_at >= since]


def contact_changes(device: str, readings: Sequence[Reading]) -> list[dict[str, Any]]:
    """Each change of a contact between two readings as an event-stream line (``open``/``closed``), oldest
    first; repeated states are not changes, and the first reading has nothing to change from."""
    out: list[dict[str, Any]] = []
    previous: bool | None = None
    for r in readings:
        is_open = r.value >= 0.5
        if previous is not None and is_open != previous:
            out.append({"ts": r.ts, "device": device, "type": "open" if is_open else "closed", "data": {}})
        previous = is_open
    return out


def _contact_readings(services: DashboardServices, device: str, now: float) -> list[Reading]:
    """A gate's contact readings of the last 24 h, oldest first (none when the store fails)."""
    if services.store is None:
        return []
    try:
        return list(services.store.query(device, "contact", now - 86400, now + 1))
    except Exception:
        return []


def _contact_since(readings: Sequence[Reading], contact: float | None) -> float | None:
    """When the contact last changed to its current state (looked for in ``readings``)."""
    if contact is None:
        return None
    since = None
    for r in reversed(readings):
        if (r.value >= 0.5) != (contact >= 0.5):
            break
        since = r.ts
    return since


def readings(services: DashboardServices, device: str, metric: str, start: float, end: float,
             every: float | None, fn: str) -> list[tuple[float, float]]:
    """Raw ``(ts, value)`` pairs, or aggregates per ``every`` seconds when given."""
    if services.store is None:
        return []
    if every:
        return _agg(services, device, metric, start, end, every, fn)
    try:
        return [(r.ts, r.value) for r in services.store.query(device, metric, start, end)]
    except Exception:
        log.exception("query %s/%s failed", device, metric)
        return []


def rule_name(services: DashboardServices, rule_id: str, locale: str | None = None) -> str:
    """A rule's name for people: its ``name``, or its condition in words, or its id."""
    for rule in services.config.rules:
        if rule.id == rule_id:
            try:
                return str(describe(rule, locale or services.config.site.locale))
            except Exception:
                return rule_id
    return rule_id


def _rule(services: DashboardServices, rule_id: str) -> RuleBase | None:
    return next((r for r in services.config.rules if r.id == rule_id), None)


def detail_text(services: DashboardServices, alert: Alert, locale: str) -> str:
    """An alert's detail for people in ``locale`` (``gateway.rules.detail``), e.g. 温度 8.1 °C，高于 8.0 °C."""
    return detail_words(alert, _rule(services, alert.rule), locale, services.config.site.tz)


def alert_json(services: DashboardServices, alerts_: Sequence[Alert],
               locale: str | None = None) -> list[dict[str, Any]]:
    """Alerts as JSON objects with their area, device name, rule name and ``detail_text`` (the detail in
    ``locale``, default the site's; ``detail`` stays as the rule wrote it)."""
    out = []
    for a in alerts_:
        d = a.as_dict()
        d["area"] = area_of(services, a.device)
        dev = services.config.device(a.device)
        loc = locale or services.config.site.locale
        d["device_name"] = where_words(a, dev.label if dev else a.device)
        d["rule_name"] = what_words(a, _rule(services, a.rule), loc)
        d["detail_text"] = detail_text(services, a, loc)
        out.append(d)
    return out


#: What happened to an alert (its timeline's ``what``) -> msgid.
_TIMELINE_WHAT = {"opened": "alert raised", "ended": "condition ended", "cleared": "cleared",
                  "acknowledged": "acknowledged", "notified": "notified", "not notified": "not notified",
                  "delivered": "delivered", "delivery failed": "delivery failed"}
#: Message events in a delivery note -> msgid.
_EVENTS = {"opened": "alert", "escalated": "escalation", "repeated": "reminder", "acknowledged": "acknowledgement",
           "resolved": "all clear"}
_STEP = re.compile(r"step (\d+): (.*?)(?=, step \d+:|$)")


def channel_name(services: DashboardServices, channel: str, locale: str) -> str:
    """A notification channel for people: what it is (企业微信群, 邮件, 蜂鸣器), never its config id."""
    settings = services.config.notify.channels.get(channel)
    kind = getattr(settings, "format", None) or getattr(settings, "type", None)
    return tr(locale, _CHANNEL_KINDS.get(str(kind), "notification channel"))


_CHANNEL_KINDS = {"wecom": "WeCom group", "dingtalk": "DingTalk group", "feishu": "Feishu group",
                  "generic": "web hook", "email": "e-mail", "mqtt": "MQTT", "buzzer": "buzzer", "led": "warning light"}


def _channels(services: DashboardServices, ids: str, locale: str) -> str:
    names = dict.fromkeys(channel_name(services, c.strip(), locale) for c in ids.split(",") if c.strip())
    return ("、" if locale == "zh-CN" else ", ").join(names)


def _timeline_note(services: DashboardServices, alert: Alert, t: TimelineEntry, locale: str) -> str:
    note = t.note or ""
    if t.what == "opened":
        return detail_text(services, alert, locale)
    if t.what == "notified":
        steps = _STEP.findall(note)
        if steps:
            return "; ".join(tr(locale, "step {n}: {channels}", n=n, channels=_channels(services, ids, locale))
                             for n, ids in steps)
        event, _, ids = note.partition(": ")
        if event in ("resolved", "repeated"):
            return f"{tr(locale, _EVENTS[event])}: {_channels(services, ids, locale)}"
    if t.what in ("delivered", "delivery failed"):
        channel, _, rest = note.partition(": ")
        event, _, error = rest.partition(": ")
        text = f"{channel_name(services, channel, locale)}: {tr(locale, _EVENTS.get(event, event))}"
        return text + (f" ({error})" if error else "")
    if t.what == "not notified":
        return tr(locale, "no notification chain configured")
    return note


def timeline(services: DashboardServices, alert: Alert, entries: Sequence[TimelineEntry],
             locale: str) -> list[dict[str, Any]]:
    """An alert's history in words: what happened, by whom, to which channels, the value with its unit."""
    return [{"ts": t.ts, "what": tr(locale, _TIMELINE_WHAT.get(t.what, t.what)), "by": t.by,
             "note": _timeline_note(services, alert, t, locale),
             "value": value_words(alert.metric, t.value, locale) if t.value is not None and t.what != "opened"
             else None}
            for t in entries]
