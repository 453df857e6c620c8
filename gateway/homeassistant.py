"""Home Assistant MQTT discovery: every device's readings and every alert state, without configuration there.

With ``[homeassistant] discovery = true`` the gateway publishes, retained, under ``{prefix}/...``:

- one ``sensor``/``binary_sensor`` config per (device, metric): unit, ``device_class``, ``state_class``
  (``total_increasing`` for meter totals), device info, and availability = the gateway's own
  availability AND the device's (both must be ``online``);
- one ``binary_sensor`` (class ``problem``) per rule per device it watches, on the retained alert
  state topic ``contract.alerts_topic(site, rule, device)``: a JSON object whose ``state`` is
  ``active`` or ``acknowledged`` while the alert is open; an empty payload or ``"state": "cleared"``
  means no alert. The component publishes these states itself (an alert listener, re-synced at every
  connect), so the sensors are right without any notification set-up; an ``mqtt`` notification channel
  (``gateway/notify/mqtt.py``) publishes the same shape there, with the message text.

Third-party devices keep their own topics, so the gateway republishes what it decoded for every
device, in canonical form, retained: ``contract.mirror_topic(site, device, "state")`` a JSON object of
the latest value of each metric (state metrics by name, ``null`` until first seen, plus ``ts``) and
``contract.mirror_topic(site, device, "availability")`` ``online``/``offline`` (a device that sends a
reading is online). A metric first seen at run time (a Zigbee sensor's battery) gets its config then.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from gateway import __version__, contract
from gateway.kinds import FORMATS, KINDS
from gateway.model import CommittedBatch

if TYPE_CHECKING:
    from gateway.config import Config, DeviceSettings

log = logging.getLogger(__name__)

#: (topic, payload, retain) of one discovery or state message.
Message = tuple[str, bytes, bool]


@dataclass(frozen=True, slots=True)
class Entity:
    """How one canonical metric appears in Home Assistant (unit and state names come from ``contract.METRICS``)."""

    component: str  # "sensor" or "binary_sensor"
    device_class: str | None = None
    state_class: str | None = None
    name: str | None = None  # None: Home Assistant names it after its device class, in its own language
    icon: str | None = None
    diagnostic: bool = False


#: Canonical metric -> entity. Metrics not listed (derived ``usage_*``) are not offered.
ENTITIES: dict[str, Entity] = {
    "temperature": Entity("sensor", "temperature", "measurement"),
    "humidity_pct": Entity("sensor", "humidity", "measurement"),
    "battery_pct": Entity("sensor", "battery", "measurement", diagnostic=True),
    "total_l": Entity("sensor", "water", "total_increasing"),
    "flow_lpm": Entity("sensor", "volume_flow_rate", "measurement"),
    "energy_wh": Entity("sensor", "energy", "total_increasing"),
    "power_w": Entity("sensor", "power", "measurement"),
    "voltage_v": Entity("sensor", "voltage", "measurement", diagnostic=True),
    "current_a": Entity("sensor", "current", "measurement", diagnostic=True),
    "pulses": Entity("sensor", None, "total_increasing", name="Pulses", icon="mdi:counter"),
    "contact": Entity("binary_sensor", "door"),
    "water_leak": Entity("binary_sensor", "moisture"),
}

#: Home Assistant template for an alert state payload: on while open, off when cleared or emptied.
ALERT_TEMPLATE = (
    "{{ 'ON' if value and (value_json.state | default('cleared')) in ('active', 'acknowledged') else 'OFF' }}"
)


class Publisher(Protocol):
    """What the component needs of ``MqttLink``."""

    @property
    def connected(self) -> bool:
        """Whether the broker connection is up."""
        ...

    def publish(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False,
                wait: float | None = None) -> bool:
        """Queue a message."""
        ...


def node_id(config: Config) -> str:
    """Discovery node id of this site's gateway."""
    return f"houqin_{config.site.id}"


def device_metrics(device: DeviceSettings) -> list[str]:
    """Metrics offered for ``device`` before any reading arrives."""
    metrics = list(KINDS[device.kind].metrics)
    if device.format == "plain" and device.metric is not None:
        metrics = [device.metric]
    for m in FORMATS[device.format].extra_metrics:  # battery-powered formats also report their battery
        if m not in metrics:
            metrics.append(m)
    return [m for m in metrics if m in ENTITIES]


def _device_info(config: Config, device: DeviceSettings) -> dict[str, Any]:
    info: dict[str, Any] = {
        "identifiers": [f"{node_id(config)}_{device.id}"],
        "name": device.label,
        "manufacturer": "Houqin",
        "model": f"{device.kind} ({device.format})",
    }
    if device.location:
        info["suggested_area"] = device.location
    return info


def _origin() -> dict[str, str]:
    return {"name": "Houqin", "sw": __version__}


def _dumps(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def config_topic(config: Config, component: str, object_id: str) -> str:
    """``{prefix}/{component}/houqin_{site}/{object_id}/config``."""
    return f"{config.homeassistant.prefix}/{component}/{node_id(config)}/{object_id}/config"


def reading_message(config: Config, device: DeviceSettings, metric: str) -> Message:
    """The retained discovery config of one metric of one device."""
    ent = ENTITIES[metric]
    spec = contract.METRICS[metric]
    off, on = spec.states or (None, None)
    site = config.site.id
    body: dict[str, Any] = {
        "name": ent.name,
        "unique_id": f"{node_id(config)}_{device.id}_{metric}",
        "state_topic": contract.mirror_topic(site, device.id, "state"),
        "value_template": f"{{{{ value_json.{metric} }}}}",
        "availability": [
            {"topic": contract.gateway_availability_topic(site)},
            {"topic": contract.mirror_topic(site, device.id, "availability")},
        ],
        "availability_mode": "all",
        "payload_available": contract.ONLINE,
        "payload_not_available": contract.OFFLINE,
        "device": _device_info(config, device),
        "origin": _origin(),
        "qos": 1,
    }
    for key, value in (("device_class", ent.device_class), ("unit_of_measurement", spec.unit or None),
                       ("state_class", ent.state_class), ("icon", ent.icon),
                       ("payload_on", on), ("payload_off", off)):
        if value is not None:
            body[key] = value
    if ent.diagnostic:
        body["entity_category"] = "diagnostic"
    return config_topic(config, ent.component, f"{device.id}_{metric}"), _dumps(body), True


def _rules(config: Config) -> list[Any]:
    # [[rules]] belongs to the alerts engineer; read only what every rule has (id, devices, name, severity).
    return list(getattr(config, "rules", None) or [])


def alert_message(config: Config, rule: Any, device: DeviceSettings) -> Message:
    """The retained discovery config of one rule's alert state at one device."""
    site = config.site.id
    rule_id = str(rule.id)
    body: dict[str, Any] = {
        "name": getattr(rule, "name", "") or rule_id,
        "unique_id": f"{node_id(config)}_alert_{rule_id}_{device.id}",
        "state_topic": contract.alerts_topic(site, rule_id, device.id),
        "value_template": ALERT_TEMPLATE,
        "payload_on": "ON",
        "payload_off": "OFF",
        "device_class": "problem",
        "availability": [{"topic": contract.gateway_availability_topic(site)}],
        "device": _device_info(config, device),
        "origin": _origin(),
        "qos": 1,
    }
    severity = getattr(rule, "severity", None)
    if severity in ("critical", "major"):
        body["icon"] = "mdi:alert"
    return config_topic(config, "binary_sensor", f"{device.id}_alert_{rule_id}"), _dumps(body), True


def discovery_messages(config: Config) -> list[Message]:
    """Every retained discovery config for ``config``: readings of each device, then alert states."""
    out = [reading_message(config, d, m) for d in config.devices for m in device_metrics(d)]
    for rule in _rules(config):
        patterns = [str(p) for p in getattr(rule, "devices", [])]
        for d in config.devices:
            if any(fnmatch.fnmatchcase(d.id, p) for p in patterns):
                out.append(alert_message(config, rule, d))
    return out


def alert_pairs(config: Config) -> set[tuple[str, str]]:
    """Every (rule id, device id) that has an alert-state entity."""
    return {(str(rule.id), d.id) for rule in _rules(config) for d in config.devices
            if any(fnmatch.fnmatchcase(d.id, str(p)) for p in getattr(rule, "devices", []))}


def alert_state_message(config: Config, rule: str, device: str, alert: Any | None) -> Message:
    """The retained state of one (rule, device): the open alert as JSON, or empty when there is none."""
    payload = b""
    if alert is not None and getattr(alert, "state", "cleared") in ("active", "acknowledged"):
        payload = _dumps({k: getattr(alert, k, None) for k in
                          ("id", "rule", "device", "severity", "state", "value", "since", "opened_at", "acked_by")})
    return contract.alerts_topic(config.site.id, rule, device), payload, True


class HomeAssistantDiscovery:
    """Publishes discovery configs on every connect and mirrors decoded readings for Home Assistant.

    A ``BatchObserver`` (told of committed readings) and a component with ``start()``/``stop()``.
    It notices (re)connections of the shared link by watching ``link.connected`` every ``poll_s``,
    or at once when ``on_connection`` is wired to the link's connection events.
    """

    def __init__(self, config: Config, link: Publisher, *, poll_s: float = 1.0,
                 open_alerts: Callable[[], Iterable[Any]] | None = None) -> None:
        self.config = config
        self.link = link
        self.poll_s = poll_s
        #: The open alerts now (``AlertService.list(open_only=True)``); None: alert states are left to an
        #: ``mqtt`` notification channel.
        self._open_alerts = open_alerts
        self._alert_pairs = alert_pairs(config)
        self._devices = {d.id: d for d in config.devices}
        self._lock = threading.Lock()
        self._values: dict[str, dict[str, Any]] = {d.id: {m: None for m in device_metrics(d)}
                                                   for d in config.devices}
        self._ts: dict[str, float] = {}
        self._online: dict[str, bool] = {}
        self._stop = threading.Event()
        self._connect = threading.Event()
        self._thread: threading.Thread | None = None
        self.published = 0

    # -- component ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the thread that publishes discovery on every (re)connect."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="houqin-homeassistant", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread (retained configs stay on the broker)."""
        self._stop.set()
        self._connect.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def on_connection(self, change: Any) -> None:
        """Hook for ``MqttLink(on_connection=...)``: publish at once on connect."""
        if getattr(change, "connected", False):
            self._connect.set()

    def _run(self) -> None:
        was = False
        while not self._stop.is_set():
            now = self.link.connected
            kicked = self._connect.is_set()
            self._connect.clear()
            if now and (not was or kicked):
                try:
                    self.publish_all()
                except Exception:  # never let a broker hiccup end the thread
                    log.exception("publishing Home Assistant discovery failed")
                    now = False
            was = now
            self._connect.wait(self.poll_s)

    def publish_all(self) -> int:
        """Publish every discovery config and the last known state of every device; returns the count."""
        messages = discovery_messages(self.config)
        with self._lock:
            for dev in self._devices:
                messages += self._learned_configs(dev)
                messages += self._state_messages(dev)
        if self._open_alerts is not None:
            # every alert entity gets its state now: open ones, and an empty retained message for the rest
            # (an alert that cleared while the broker was away must not stay "on")
            open_now = {(a.rule, a.device): a for a in self._open_alerts()}
            messages += [alert_state_message(self.config, r, d, open_now.get((r, d)))
                         for r, d in sorted(self._alert_pairs)]
        sent = sum(1 for t, p, r in messages if self.link.publish(t, p, qos=1, retain=r))
        self.published += sent
        log.info("published %d Home Assistant discovery/state messages", sent)
        return sent

    # -- alert listener ----------------------------------------------------------------------------
    def on_alert_change(self, change: Any) -> None:
        """``AlertService`` listener: publish the changed alert's state (quick, never raises)."""
        try:
            alert = change.alert
            if (alert.rule, alert.device) in self._alert_pairs:
                topic, payload, retain = alert_state_message(self.config, alert.rule, alert.device, alert)
                self.link.publish(topic, payload, qos=1, retain=retain)
        except Exception:  # a listener must not raise into the alert's change
            log.exception("publishing an alert state for Home Assistant failed")

    # -- observer ----------------------------------------------------------------------------------
    def on_batch(self, batch: CommittedBatch) -> None:
        """Mirror committed readings and availability to the canonical retained topics."""
        try:
            out = self._mirror(batch.readings, batch.availability)
            for topic, payload, retain in out:
                self.link.publish(topic, payload, qos=1, retain=retain)
        except Exception:  # an observer must not raise into ingest
            log.exception("mirroring readings for Home Assistant failed")

    def _mirror(self, readings: Iterable[Any], availability: Iterable[Any]) -> list[Message]:
        out: list[Message] = []
        changed: set[str] = set()
        with self._lock:
            for r in readings:
                if r.device not in self._devices or r.metric not in ENTITIES:
                    continue
                values = self._values[r.device]
                if r.metric not in values:
                    out.append(reading_message(self.config, self._devices[r.device], r.metric))
                values[r.metric] = contract.display_value(r.metric, r.value)
                self._ts[r.device] = max(self._ts.get(r.device, 0.0), r.ts)
                changed.add(r.device)
                if not self._online.get(r.device, False):
                    self._online[r.device] = True
                    out.append(self._availability_message(r.device))
            for a in availability:
                if a.device in self._devices and self._online.get(a.device) is not a.online:
                    self._online[a.device] = a.online
                    out.append(self._availability_message(a.device))
            for dev in sorted(changed):
                out.append(self._state_message(dev))
        return out

    def _learned_configs(self, dev: str) -> list[Message]:
        offered = set(device_metrics(self._devices[dev]))
        return [reading_message(self.config, self._devices[dev], m) for m in self._values[dev] if m not in offered]

    def _state_messages(self, dev: str) -> list[Message]:
        out: list[Message] = []
        if dev in self._online:
            out.append(self._availability_message(dev))
        if dev in self._ts:
            out.append(self._state_message(dev))
        return out

    def _state_message(self, dev: str) -> Message:
        body = dict(self._values[dev])
        body["ts"] = round(self._ts.get(dev, 0.0), 3)
        return contract.mirror_topic(self.config.site.id, dev, "state"), _dumps(body), True

    def _availability_message(self, dev: str) -> Message:
        word = contract.ONLINE if self._online[dev] else contract.OFFLINE
        return contract.mirror_topic(self.config.site.id, dev, "availability"), word.encode(), True

