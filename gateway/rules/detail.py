"""What an alert says, in the reader's language: its name, where it is and its detail in words.

Evaluators store a detail that machines can read (a code such as ``above``, a period key, or JSON for
patrol rounds and food samples); people read it only through ``detail_words``, rendered when shown, so
an English page never shows a Chinese detail and no page shows ``temperature=8.1``.
"""

from __future__ import annotations

import json
from datetime import datetime, tzinfo
from typing import Any

from gateway.alerts.model import Alert
from gateway.contract import METRICS, display_value
from gateway.i18n import gettext, tr, translations
from gateway.rules.describe import describe, dur
from gateway.rules.settings import (
    ClosedHoursUseRule,
    ContinuousFlowRule,
    GateHeldOpenRule,
    RuleBase,
    StaleRule,
    ThresholdRule,
)

#: What alerts raised outside ``[[rules]]`` are about (the gate's patrol rounds, the sample ledger), by kind.
KIND_NAMES = {
    "patrol_missed": "Patrol round not completed",
    "gate_forgery": "Someone forged a gate command",
    "sample_excursion": "Food samples at risk: fridge out of range",
    # The InfluxDB backend's own alerts (gateway.storage_alerts).
    "storage_degraded": "InfluxDB refused the credentials: readings wait in the outbox",
    "storage_dropped": "Readings lost: the InfluxDB outbox was full",
    # The uplink to the district (gateway.uplink.service).
    "uplink_outage": "The district has not received this site's data for a long time",
    "uplink_dropped": "Data for the district lost: the uplink's outbox was full",
}

#: Words of the details that are codes (stale, gate and leak rules) -> msgid.
DETAIL_CODES = {
    "offline": "device offline", "never": "never heard from", "silent": "no data",
    "forced open": "gate opened without card, button or release", "leak": "water leak detected",
    "open": "gate open",
}
#: After-hours access: what let someone through -> msgid.
_ACCESS = {"card": "card {uid} read", "button": "exit button pressed", "release": "released from the desk",
           "opened": "gate opened"}


def number(metric: str | None, value: float) -> str:
    """A value for people: temperatures and percentages with one decimal, others as short as they are."""
    if metric in ("temperature", "humidity_pct", "battery_pct"):
        return f"{value:.1f}"
    return f"{value:g}"


def value_words(metric: str | None, value: float, locale: str) -> str:
    """``8.1 °C``, ``22 L``, or a state word (开/关) for a contact."""
    if metric is None:
        return f"{value:g}"
    shown = display_value(metric, value)
    if isinstance(shown, str):
        return str(translations(locale).pgettext("state", shown))
    unit = METRICS[metric].unit if metric in METRICS else ""
    return f"{number(metric, value)} {unit}".strip()


def what_words(alert: Alert, rule: RuleBase | None, locale: str) -> str:
    """What the alert is about: the rule's name or condition, or the kind's name; never its id alone."""
    if rule is not None:
        return describe(rule, locale)
    if alert.kind in KIND_NAMES:
        return tr(locale, KIND_NAMES[alert.kind])
    return tr(locale, "Alert")


def where_words(alert: Alert, device_name: str) -> str:
    """Where the alert is: the patrol route for a patrol round (not the reader that logs it), else the device."""
    data = _json(alert.detail)
    if alert.kind == "patrol_missed" and data and data.get("route"):
        return str(data["route"])
    return device_name


def _json(detail: str) -> dict[str, Any] | None:
    if not detail.startswith("{"):
        return None
    try:
        data = json.loads(detail)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _hm(ts: float, tz: tzinfo, fmt: str = "%m-%d %H:%M") -> str:
    return datetime.fromtimestamp(ts, tz).strftime(fmt)


def _threshold(alert: Alert, r: ThresholdRule, locale: str) -> str:
    if alert.value is None:
        return ""
    v = alert.value
    side = alert.detail if alert.detail in ("above", "below") else (
        "below" if r.below is not None and v < r.below else "above")
    limit = r.above if side == "above" and r.above is not None else r.below
    if limit is None:
        limit = r.above if r.above is not None else 0.0
    unit = METRICS[r.metric].unit if r.metric in METRICS else ""
    text = tr(locale, "{metric} {value}, above {limit}" if side == "above" else "{metric} {value}, below {limit}",
              metric=tr(locale, r.metric), value=value_words(r.metric, v, locale),
              limit=f"{number(r.metric, limit)} {unit}".strip())
    if r.for_:
        text += tr(locale, ", for {duration}", duration=dur(r.for_, locale))
    return text


def _closed_hours(alert: Alert, r: ClosedHoursUseRule, locale: str) -> str:
    # Stored: the period key ("2026-12-02 21" or "2026-12-02"); older records: "22 L in 2026-12-02 21".
    key = alert.detail.rsplit(" in ", 1)[-1].strip()
    unit = METRICS[r.metric].unit
    try:
        if len(key) > 10:
            start = datetime.strptime(key, "%Y-%m-%d %H")
            period = f"{start:%m-%d %H}:00–{(start.hour + 1) % 24:02d}:00"
        else:
            period = f"{datetime.strptime(key, '%Y-%m-%d'):%m-%d}"
    except ValueError:
        period = ""
    used = value_words(r.metric, alert.value, locale) if alert.value is not None else ""
    return tr(locale, "{used} used while closed ({period}); allowed {allowance} {unit}", used=used, period=period,
              allowance=f"{r.allowance:g}", unit=unit)


def _patrol(data: dict[str, Any], locale: str, tz: tzinfo) -> str:
    window = _hm(float(data["start"]), tz) + "–" + _hm(float(data["end"]), tz, "%H:%M")
    missing = ("、" if locale == "zh-CN" else ", ").join(str(m) for m in data.get("missing", []))
    return tr(locale, "{route} {window}: {status}, {visited}/{total} checkpoints; not visited: {missing}",
              route=data.get("route", ""), window=window, status=gettext(locale, str(data.get("status", ""))),
              visited=data.get("visited", 0), total=data.get("total", 0), missing=missing)


def _samples(data: dict[str, Any], locale: str, tz: tzinfo) -> str:
    names = ("、" if locale == "zh-CN" else ", ").join(
        f"#{sid} {day} {gettext(locale, str(meal))}" for sid, day, meal in data.get("samples", []))
    return tr(locale, "samples {names}: {peak} °C for {duration} since {since}", names=names,
              peak=f"{float(data['peak']):.1f}", duration=dur(float(data["minutes"]) * 60, locale),
              since=_hm(float(data["start"]), tz))


def detail_words(alert: Alert, rule: RuleBase | None, locale: str, tz: tzinfo) -> str:
    """The alert's detail as people say it, e.g. ``温度 8.1 °C，高于 8.0 °C，持续 10分钟``."""
    data = _json(alert.detail)
    if alert.metric is not None and alert.value is not None:
        shown = display_value(alert.metric, alert.value)
        if isinstance(shown, str) and alert.detail == shown:  # a contact's "open": the gate's word (开)
            return value_words(alert.metric, alert.value, locale)
    try:
        if alert.kind == "patrol_missed" and data is not None:
            return _patrol(data, locale, tz)
        if alert.kind == "sample_excursion" and data is not None:
            return _samples(data, locale, tz)
        if isinstance(rule, ThresholdRule):
            return _threshold(alert, rule, locale)
        if isinstance(rule, ClosedHoursUseRule):
            return _closed_hours(alert, rule, locale)
        if isinstance(rule, ContinuousFlowRule) and alert.value is not None:
            return tr(locale, "{used} in the last {window}", used=value_words(rule.metric, alert.value, locale),
                      window=dur(rule.window, locale))
        if isinstance(rule, StaleRule) and alert.detail == "silent":
            return tr(locale, "no data since {time}", time=_hm(alert.since, tz))
        if isinstance(rule, GateHeldOpenRule) and alert.detail == "open":
            return tr(locale, "gate held open for {duration}", duration=dur(rule.for_, locale))
    except (KeyError, TypeError, ValueError):
        return ""
    if alert.kind == "after_hours_access":
        kind, _, uid = alert.detail.partition(" ")
        if kind in _ACCESS:
            return tr(locale, _ACCESS[kind], uid=uid)
    if alert.detail in DETAIL_CODES:
        return tr(locale, DETAIL_CODES[alert.detail])
    if alert.metric is not None and alert.value is not None and "=" in alert.detail:
        return value_words(alert.metric, alert.value, locale)  # an old "metric=value" record
    return alert.detail
