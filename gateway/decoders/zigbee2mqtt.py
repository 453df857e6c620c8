"""Zigbee2MQTT: ``zigbee2mqtt/<friendly name>`` JSON state and ``<topic>/availability``.

The device's ``topic`` is the full state topic (``zigbee2mqtt/storeroom-door``). Read:
``temperature``, ``humidity``, ``battery``, ``contact`` (``false`` = magnet away = OPEN),
``water_leak``, and for plugs ``power`` (W), ``energy`` (kWh -> Wh) and ``current``; a button's
``action`` is a ``button`` event for an exit button device. ``voltage`` is
not read: on battery sensors it is the battery's millivolts. ``null`` means "not known yet" and is
skipped; messages with nothing Houqin reads (only ``linkquality``) decode to nothing.
Availability is ``{"state":"online"}`` (Zigbee2MQTT 1.x since 1.32 and 2.x) or the legacy plain
``online``/``offline``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gateway import contract
from gateway.decoders import _thirdparty as tp
from gateway.errors import DecodeError
from gateway.model import Availability, Decoded, Event, Reading

if TYPE_CHECKING:
    from gateway.config import DeviceSettings

FORMAT = "zigbee2mqtt"


def _num(metric: str, factor: float = 1.0) -> Callable[[Any, str, DeviceSettings], tuple[str, float]]:
    def conv(raw: Any, key: str, device: DeviceSettings) -> tuple[str, float]:
        v = tp.number(raw, key)
        return metric, round(v * factor, 6) if factor != 1.0 else v

    return conv


def _flag(metric: str, on_when: bool) -> Callable[[Any, str, DeviceSettings], tuple[str, float]]:
    def conv(raw: Any, key: str, device: DeviceSettings) -> tuple[str, float]:
        if type(raw) is not bool:
            raise DecodeError("wrong_type", f"{key} = {str(raw)[:40]!r} is not true/false")
        on = raw is on_when
        if metric == "contact" and device.invert:
            on = not on
        return metric, contract.state_value(metric, on)

    return conv


#: Zigbee2MQTT exposes -> canonical metric (and conversion).
FIELDS: dict[str, Callable[[Any, str, DeviceSettings], tuple[str, float]]] = {
    "temperature": _num("temperature"),
    "humidity": _num("humidity_pct"),
    "battery": _num("battery_pct"),
    "contact": _flag("contact", on_when=False),  # contact=false: reed open, door OPEN
    "water_leak": _flag("water_leak", on_when=True),
    "power": _num("power_w"),
    "energy": _num("energy_wh", 1000.0),
    "current": _num("current_a"),
}


def topics(device: DeviceSettings, site: str) -> list[str]:
    """The state topic and its ``/availability`` topic."""
    topic = _state_topic(device)
    return [topic, f"{topic}/availability"]


def _state_topic(device: DeviceSettings) -> str:
    return (device.topic or "").rstrip("/").removesuffix("/availability")


def decode(device: DeviceSettings, topic: str, payload: bytes, now: float) -> Decoded:
    """Decode a state or availability message of this device."""
    state_topic = _state_topic(device)
    if topic == f"{state_topic}/availability":
        return Decoded(availability=[Availability(now, device.id, _availability(payload, topic))])
    if topic != state_topic:
        raise DecodeError("bad_topic", f"{topic!r} is not {state_topic} or {state_topic}/availability")
    body = tp.json_object(payload)
    ts = tp.sane_ts(_last_seen(body.get("last_seen")), now)
    out: list[Reading] = []
    for key, conv in FIELDS.items():
        raw = body.get(key)
        if raw is None:
            continue
        metric, value = conv(raw, key, device)
        out.append(Reading(ts, device.id, metric, value))
    events: list[Event] = []
    action = body.get("action")
    if device.kind == "exit_button" and isinstance(action, str) and action:
        events.append(Event(ts, device.id, "button", {"action": action}))
    return Decoded(readings=out, events=events)


def _availability(payload: bytes, topic: str) -> bool:
    text = tp.text(payload).strip()
    if text.startswith("{"):
        body = tp.json_object(payload)
        state = body.get("state")
        if not isinstance(state, str):
            raise DecodeError("bad_availability", f"{topic}: expected {{\"state\": \"online\"}}, got {text[:60]!r}")
        return tp.online_word(state, topic)
    return tp.online_word(text, topic)


def _last_seen(raw: Any) -> float | None:
    """``last_seen`` as Unix seconds: epoch milliseconds or ISO 8601 with offset (per z2m's setting)."""
    if type(raw) is int or type(raw) is float:
        return float(raw) / 1000.0
    return tp.iso_ts(raw)
