"""Alert messages in the site's language: what, where, the value, since when, how to acknowledge."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Literal

from gateway.alerts.model import Alert
from gateway.contract import METRICS
from gateway.i18n import tr
from gateway.notify.message import AlertState, Message, Tone
from gateway.rules.detail import detail_words, value_words, what_words, where_words
from gateway.rules.settings import RuleBase

AlertEvent = Literal["opened", "escalated", "repeated", "acknowledged", "resolved"]


#: Events that change only what the state channels (buzzer, LED, MQTT) show: they tell nobody.
QUIET_EVENTS: frozenset[AlertEvent] = frozenset({"acknowledged"})


_SEVERITY_TONE: dict[str, Tone] = {"critical": "critical", "major": "major", "minor": "minor", "warning": "warning"}
#: Kinds whose detail says the value in words (a reading against its limit, a count of checkpoints).
VALUE_IN_DETAIL = frozenset({"threshold", "closed_hours_use", "continuous_flow", "patrol_missed", "sample_excursion"})


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
        what = what_words(alert, rule, loc)
        where = where_words(alert, self.devices.get(alert.device, alert.device))
        tag = {
            "opened": tr(loc, "ALERT"), "escalated": tr(loc, "ESCALATED"), "repeated": tr(loc, "STILL ACTIVE"),
            "acknowledged": tr(loc, "ACKNOWLEDGED"), "resolved": tr(loc, "RESOLVED"),
        }[event]
        severity = tr(loc, alert.severity)
        title = f"[{tag}] {where}: {what}"
        lines = [tr(loc, "Severity: {severity}", severity=severity)]
        detail = detail_words(alert, rule, loc, self.tz)
        # A state (开, 漏水) is said by the value; counts and readings by the detail's words (温度 8.1 °C，高于 …).
        value = "" if alert.kind in VALUE_IN_DETAIL and detail else (
            value_words(alert.metric, alert.value, loc) if alert.value is not None else "")
        if value:
            # A resolved alert is no longer at that value: say it is the value that raised it.
            lines.append(tr(loc, "Value when raised: {value}" if event == "resolved" else "Value: {value}",
                            value=value))
        if alert.kind == "stale":
            lines.append(tr(loc, "Device offline") if alert.detail == "offline"
                         else tr(loc, "Never heard from (watched since {time})", time=self._time(alert.since))
                         if alert.detail == "never" else tr(loc, "Last heard of: {time}", time=self._time(alert.since)))
        elif detail and not (alert.metric is not None and alert.metric in METRICS and METRICS[alert.metric].states):
            lines.append(tr(loc, "Detail: {detail}", detail=detail))
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
        lines.append(tr(loc, "Alert #{id}", id=alert.id))
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
        name = alert.acked_by or ""
        # The dashboard lets an acknowledgement go without a note: no dangling colon then.
        if alert.ack_note:
            return tr(self.locale, "Acknowledged by {name}: {note}", name=name, note=alert.ack_note)
        return tr(self.locale, "Acknowledged by {name}", name=name)
