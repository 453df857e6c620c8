"""What the central broker receives from a site: topics and JSON payloads, built in one place.

People's data stays at the school. An alert's ``detail`` and who acknowledged it are left out: the detail of a
gate alert can name a card holder, and the district has no need of the guard's account name. The district
gets the alert's rule, kind, device, severity, times, value and the acknowledgement's note (the corrective
action), and, in the status, counts and device ids; never a visitor or a card holder.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from gateway import contract
from gateway.alerts.model import Alert

#: Alert transitions the district is told of ("ended": a latched alert's condition ended, it waits for an ack).
Transition = Literal["opened", "escalated", "acknowledged", "ended", "cleared"]

#: The alert fields that leave the site (not ``detail``, not ``acked_by``).
ALERT_FIELDS = ("id", "rule", "kind", "device", "severity", "state", "metric", "value", "since", "opened_at",
                "acked_at", "ack_note", "ended_at", "cleared_at")


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message for the central broker."""

    topic: str
    payload: bytes
    retain: bool = False


def alerts_topic(site: str) -> str:
    """Where a site's alert transitions go (QoS 1, in order, not retained)."""
    return contract.uplink_topic(site, "alerts")


def status_topic(site: str) -> str:
    """Where a site's status goes (retained: the newest is what a subscriber sees first)."""
    return contract.uplink_topic(site, "status")


def _json(doc: Mapping[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def open_topic(site: str) -> str:
    """Where a site's open alerts go after every transition (retained: a district service started later sees them)."""
    return contract.uplink_topic(site, "open")


@dataclass(frozen=True, slots=True)
class AlertFacts:
    """What the site adds to an alert for the district: its device's kind (the district knows no devices) and the
    site's escalation time for it (its chain's second step's delay; None: the chain never escalates)."""

    device_kind: str = ""
    escalate_after: float | None = None


def alert_doc(alert: Alert, facts: AlertFacts) -> dict[str, Any]:
    """The alert's fields that leave the site, with ``device_kind`` and ``escalate_after``."""
    return {**{f: getattr(alert, f) for f in ALERT_FIELDS}, "device_kind": facts.device_kind,
            "escalate_after": facts.escalate_after}


def transition_key(alert_id: int, kind: Transition, step: int | None = None) -> str:
    """``{alert}:{transition}[:{step}]``: one per transition of an alert, the same however often it is sent."""
    return f"{alert_id}:{kind}" + (f":{step}" if step is not None else "")


def transition(site: str, kind: Transition, alert: Alert, at: float, step: int | None = None,
               facts: AlertFacts = AlertFacts()) -> Outgoing:
    """An alert transition. ``key`` is unique per transition, so a receiver drops a message it got twice."""
    key = transition_key(alert.id, kind, step)
    doc: dict[str, Any] = {"site": site, "key": key, "transition": kind, "at": at, "alert": alert_doc(alert, facts)}
    if step is not None:
        doc["step"] = step
    return Outgoing(alerts_topic(site), _json(doc))


def open_alerts(site: str, alerts: Iterable[tuple[Alert, AlertFacts]], at: float) -> Outgoing:
    """Every alert open at the site (retained; sent after each transition, in order with them)."""
    return Outgoing(open_topic(site), _json({"site": site, "at": at,
                                             "alerts": [alert_doc(a, f) for a, f in alerts]}), retain=True)


@dataclass(frozen=True, slots=True)
class SiteStatus:
    """The site's status as the district sees it: health flags and the devices that are offline."""

    local_broker: bool
    store_writable: bool
    devices: int
    offline: tuple[str, ...]
    #: The site's ``[calendar]`` and time zone (``{"timezone": ..., "hours": ..., "holidays": ...}``): the district
    #: counts use while closed and school days by them, so the opening hours are kept in one place, the site's.
    calendar: Mapping[str, Any] | None = None

    def doc(self) -> dict[str, Any]:
        """The JSON object (without the time: two equal statuses compare equal)."""
        doc: dict[str, Any] = {"health": {"local_broker": self.local_broker, "store_writable": self.store_writable},
                               "devices": {"configured": self.devices, "offline": list(self.offline),
                                           "offline_count": len(self.offline)}}
        if self.calendar is not None:
            doc["calendar"] = dict(self.calendar)
        return doc


def status(site: str, st: SiteStatus, at: float) -> Outgoing:
    """The site's status message (retained)."""
    return Outgoing(status_topic(site), _json({"site": site, "at": at, "online": True, **st.doc()}), retain=True)


def offline_devices(configured: Iterable[str], availability: Mapping[str, bool | None]) -> tuple[str, ...]:
    """Configured devices whose last availability was ``offline``, sorted."""
    return tuple(sorted(d for d in configured if availability.get(d) is False))
