"""Alert messages in the site's language: what, where, the value, since when, how to acknowledge."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Literal

from gateway.alerts.model import Alert
from gateway.contract import METRICS, display_value
from gateway.i18n import tr, translations
from gateway.notify.message import AlertState, Message, Tone
from gateway.rules.describe import describe
from gateway.rules.settings import RuleBase

AlertEvent = Literal["opened", "escalated", "repeated", "acknowledged", "resolved"]


#: Events that change only what the state channels (buzzer, LED, MQTT) show: they tell nobody.
QUIET_EVENTS: frozenset[AlertEvent] = frozenset({"acknowledged"})


_SEVERITY_TONE: dict[str, Tone] = {"critical": "critical", "major": "major", "minor": "minor", "warning": "warning"}

#: What alerts raised outside ``[[rules]]`` are about (the gate's patrol rounds, the sample ledger), by kind.
KIND_NAMES = {
    "patrol_missed": "Patrol round not completed",
    "sample_excursion": "Food samples at risk: fridge out of range",
    # The InfluxDB backend's own alerts (gateway.storage_alerts).
    "storage_degraded": "InfluxDB refused the credentials: readings wait in the outbox",
    "storage_dropped": "Readings lost: the InfluxDB outbox was full",
    # The uplink to the district (gateway.uplink.service).
    "uplink_outage": "The district has not received this site's data for a long time",
    "uplink_dropped": "Data for the district lost: the uplink's outbox was full",
}
#: Kinds whose detail (which checkpoints, which samples, the server's error) is part of the message.
DETAIL_KINDS = frozenset({"after_hours_access", "patrol_missed", "sample_excursion", "storage_degraded",
                          "storage_dropped"})


def _value(alert: Alert, locale: str) -> str:
    if alert.value is None:
        return ""
    if alert.metric is None:
        return f"{alert.value:g}"
    shown = display_value(alert.metric, alert.value)
    if isinstance(shown, str):
        # "open"/"closed" of a contact: the context keeps them from the dashboard's alert state "open".
        return str(translations(locale).pgettext("state", shown))
    unit = METRICS[alert.metric].unit if alert.metric in METRICS else ""
    return f"{shown:g} {unit}".strip()


class Composer:
    """Builds the message about an alert for one site."""

    def __init__(self, rules: Mapping[str, RuleBase], devices: Mapping[str, str], locale: str, tz: tzinfo) -> None:
        self.rules = rules
        self.devices = devices  # device id -> name for people (with location)
        self.locale = locale
        self.tz = tz

    def _time(self, ts: float) -> str:
        return datetime.fromtimestamp(ts, self.tz).strftime("%Y-%m-%d %H:%M")

    def compose(self, event: AlertEvent, alert: Alert) -> Message:
        """The message for ``event`` about ``alert``."""
        loc = self.locale
        rule = self.rules.get(alert.rule)
        what = describe(rule, loc) if rule is not None else (
            tr(loc, KIND_NAMES[alert.kind]) if alert.kind in KIND_NAMES else alert.rule)
        where = self.devices.get(alert.device, alert.device)
        tag = {
            "opened": tr(loc, "ALERT"), "escalated": tr(loc, "ESCALATED"), "repeated": tr(loc, "STILL ACTIVE"),
            "acknowledged": tr(loc, "ACKNOWLEDGED"), "resolved": tr(loc, "RESOLVED"),
        }[event]
        severity = tr(loc, alert.severity)
        title = f"[{tag}] {where}: {what}"
        lines = [tr(loc, "Severity: {severity}", severity=severity)]
        value = _value(alert, loc) if alert.kind != "patrol_missed" else ""  # its value is a count: the detail says it
        if value:
            # A resolved alert is no longer at that value: say it is the value that raised it.
            lines.append(tr(loc, "Value when raised: {value}" if event == "resolved" else "Value: {value}",
                            value=value))
        if alert.kind == "stale":
            lines.append(tr(loc, "Device offline") if alert.detail == "offline"
                         else tr(loc, "Never heard from (watched since {time})", time=self._time(alert.since))
                         if alert.detail == "never" else tr(loc, "Last heard of: {time}", time=self._time(alert.since)))
        elif alert.detail and alert.kind in DETAIL_KINDS:
            lines.append(tr(loc, "Detail: {detail}", detail=alert.detail))
        lines.append(tr(loc, "Since: {time}", time=self._time(alert.since)))
        if event == "resolved":
            lines.append(tr(loc, "Cleared at {time}.", time=self._time(alert.cleared_at or alert.since)))
            if alert.acked_by:
                lines.append(self._acked(alert))
        elif event == "acknowledged":
            lines.append(self._acked(alert))
        else:
            lines.append(tr(loc, "To acknowledge: open the dashboard, or run: houqin ack {id} --by NAME --note "
                                 "\"what was done\"", id=alert.id))
        lines.append(tr(loc, "Alert #{id}, rule {rule}", id=alert.id, rule=alert.rule))
        text = title + "\n" + "\n".join(lines)
        markdown = f"**{title}**\n\n" + "\n".join(f"> {line}" for line in lines)
        settled = event in ("acknowledged", "resolved")
        tone: Tone = "ok" if settled else _SEVERITY_TONE.get(alert.severity, "critical")
        fields = {"id": alert.id, "rule": alert.rule, "device": alert.device, "severity": alert.severity,
                  "state": alert.state, "value": alert.value, "since": alert.since}
        state = {**fields, "opened_at": alert.opened_at, "acked_by": alert.acked_by, "event": event, "text": text}
        return Message(title, text, markdown, tone=tone, fields={"event": event, "alert": fields},
                       people=event not in QUIET_EVENTS,
                       alert=AlertState(alert.id, alert.rule, alert.device, event, sounding=not settled,
                                        open=event != "resolved", state=state))

    def _acked(self, alert: Alert) -> str:
        # The dashboard lets an acknowledgement go without a note: no dangling colon then.
        if alert.ack_note:
            return tr(self.locale, "Acknowledged by {name}: {note}", name=alert.acked_by or "", note=alert.ack_note)
        return tr(self.locale, "Acknowledged by {name}", name=alert.acked_by or "")
