"""What the central broker says about each site: online or offline since when, and its open alerts.

Fed by the district's reader on the central broker (``houqin/+/gateway/availability`` and ``houqin/+/uplink/...``,
written by the sites' uplinks: ``gateway.uplink.messages``). A transition received twice is kept once (its key).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from gateway import contract
from gateway.uplink.messages import alerts_topic, open_topic, status_topic

log = logging.getLogger(__name__)

#: The topics the district subscribes to (every site).
SUBSCRIPTIONS = (contract.gateway_availability_topic("+"), status_topic("+"), alerts_topic("+"), open_topic("+"))
#: Told of each alert heard: (site, transition or ``"open"`` for the retained open alerts, the alert's JSON, time).
AlertListener = Callable[[str, str, dict[str, Any], float], None]
#: Transitions after which an alert is no longer open.
_CLOSED = frozenset({"cleared"})
#: How many transition keys are remembered to drop repeats.
_KEYS = 100_000
#: How many closed alerts per site are remembered to order late news (the oldest are forgotten first).
_CLOSED_HEARD = 1_000


@dataclass(frozen=True, slots=True)
class OpenAlert:
    """An alert a site has open (active or acknowledged and not yet cleared)."""

    id: int
    rule: str
    kind: str
    device: str
    severity: str
    opened_at: float
    acknowledged: bool


@dataclass(slots=True)
class SiteState:
    """One site as the central broker tells it."""

    online: bool | None = None
    #: When the site's current online/offline state began (as well as the broker tells it).
    since: float | None = None
    #: The site's last sign of life (a status message's time).
    last_seen: float | None = None
    devices_offline: int = 0
    alerts: dict[int, OpenAlert] = field(default_factory=dict)
    #: Alert id -> the time of the newest news of it (a transition, or a list of open alerts that named it or
    #: left it out): a list of open alerts older than a transition does not undo it, in whatever order they arrive.
    heard: dict[int, float] = field(default_factory=dict)
    #: The site's ``[calendar]`` and time zone from its status (None until a status with one arrived).
    calendar: dict[str, Any] | None = None


class SiteBoard:
    """The sites' states, updated from the central broker's messages (thread-safe; ``snapshot()`` copies)."""

    def __init__(self, now: Callable[[], float], on_alert: AlertListener | None = None) -> None:
        self._now = now
        self._on_alert = on_alert
        self._lock = threading.Lock()
        self._sites: dict[str, SiteState] = {}
        #: (site, key) of the transitions heard: alert ids, and so keys, are each site's own.
        self._keys: dict[tuple[str, str], None] = {}
        #: Bumped on every change (cached pages and the live poll compare it).
        self.version = 0

    def snapshot(self) -> dict[str, SiteState]:
        """A copy of every site's state."""
        with self._lock:
            return {k: replace(v, alerts=dict(v.alerts), heard={}) for k, v in self._sites.items()}

    def on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        """One message from the central broker; a malformed one is logged and ignored."""
        parts = topic.split("/")
        if len(parts) < 4 or parts[0] != contract.ROOT:
            return
        site = parts[1]
        heard: list[tuple[str, dict[str, Any], float]] = []
        try:
            with self._lock:
                state = self._sites.setdefault(site, SiteState())
                if topic == contract.gateway_availability_topic(site):
                    self._availability(state, payload.decode().strip(), retained)
                elif topic == status_topic(site):
                    self._status(state, json.loads(payload))
                elif topic == alerts_topic(site):
                    heard = self._transition(site, state, json.loads(payload))
                elif topic == open_topic(site):
                    heard = self._open(state, json.loads(payload))
                else:
                    return
                self.version += 1
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
            log.warning("district: ignored a malformed message on %s: %s", topic, e)
            return
        if self._on_alert is not None:
            for kind, alert, at in heard:
                self._on_alert(site, kind, alert, at)

    def _set_online(self, state: SiteState, online: bool, at: float | None) -> None:
        if state.online != online:
            state.online = online
            state.since = at

    def _availability(self, state: SiteState, text: str, retained: bool) -> None:
        if text not in (contract.ONLINE, contract.OFFLINE):
            raise ValueError(f"availability {text!r}")
        # a retained message is old news: its time is unknown, the last status says when the site last spoke
        at = state.last_seen if retained else self._now()
        self._set_online(state, text == contract.ONLINE, at)

    def _status(self, state: SiteState, doc: dict[str, Any]) -> None:
        at = float(doc["at"])
        state.last_seen = max(state.last_seen or at, at)
        state.devices_offline = int(doc.get("devices", {}).get("offline_count", 0))
        if isinstance(doc.get("calendar"), dict):
            state.calendar = doc["calendar"]
        # online/offline is the availability topic's word (a retained status says "online" even after the last
        # will); the status only dates a state whose start the retained availability could not tell
        if state.since is None and state.online is not None:
            state.since = at

    def _transition(self, site: str, state: SiteState, doc: dict[str, Any]) -> list[tuple[str, dict[str, Any], float]]:
        key = (site, str(doc["key"]))
        if key in self._keys:
            return []
        self._keys[key] = None
        if len(self._keys) > _KEYS:
            del self._keys[next(iter(self._keys))]
        a = doc["alert"]
        alert_id, kind = int(a["id"]), str(doc["transition"])
        at = float(doc["at"])
        state.last_seen = max(state.last_seen or at, at)
        if at < state.heard.get(alert_id, float("-inf")):
            return [(kind, a, at)]  # newer news of this alert came first (a retained list); the log still hears it
        state.heard[alert_id] = at
        if kind in _CLOSED:
            state.alerts.pop(alert_id, None)
            _forget_old(state)
        else:
            state.alerts[alert_id] = _open_alert(a, at, kind == "acknowledged")
        return [(kind, a, at)]

    def _open(self, state: SiteState, doc: dict[str, Any]) -> list[tuple[str, dict[str, Any], float]]:
        """The site's list of open alerts at ``at``: alerts it names are open, alerts it leaves out are closed,
        unless a transition of the alert newer than the list was heard."""
        at = float(doc["at"])
        listed = {int(a["id"]): a for a in doc["alerts"] if isinstance(a, dict)}
        for alert_id in [i for i in state.alerts if i not in listed]:
            if state.heard.get(alert_id, float("-inf")) <= at:
                del state.alerts[alert_id]
                state.heard[alert_id] = at
        for alert_id, a in listed.items():
            if state.heard.get(alert_id, float("-inf")) <= at:
                state.alerts[alert_id] = _open_alert(a, at, False)
                state.heard[alert_id] = at
        return [("open", a, at) for a in listed.values()]


def _forget_old(state: SiteState) -> None:
    closed = [i for i in state.heard if i not in state.alerts]
    if len(closed) > _CLOSED_HEARD:
        for alert_id in sorted(closed, key=state.heard.__getitem__)[:len(closed) - _CLOSED_HEARD]:
            del state.heard[alert_id]


def _open_alert(a: dict[str, Any], at: float, acknowledged: bool) -> OpenAlert:
    return OpenAlert(id=int(a["id"]), rule=str(a["rule"]), kind=str(a["kind"]), device=str(a.get("device") or ""),
                     severity=str(a["severity"]), opened_at=float(a.get("opened_at") or at),
                     acknowledged=acknowledged or a.get("acked_at") is not None)
