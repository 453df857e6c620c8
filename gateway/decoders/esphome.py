"""ESPHome: ``<node>/sensor/<name>/state`` numbers, ``<node>/binary_sensor/<name>/state`` ON/OFF and
``<node>/status`` online/offline.

The device's ``topic`` is either the node's topic prefix (``esp-freezer``: every entity is read) or
one entity's state topic (``esp-gate/binary_sensor/gate_contact/state``). Entity names map to metrics
through the device's ``entities`` table, else by the words in the name: ``temp`` -> temperature,
``humid`` -> humidity, ``battery``, ``power``, ``voltage``, ``current``, ``flow``; binary sensors
``door``/``gate``/``contact``/``window``/``opening`` -> contact (ON = open, as ESPHome's door and
opening classes mean) and ``leak``/``moisture``/``flood``/``water`` -> water_leak (ON = leak).
Energy and water totals are never guessed (their unit is not in the payload): map them, e.g.
``entities = {total_energy = {metric = "energy_wh", scale = 1000}}`` for kWh. With a prefix, entities
that match nothing (Wi-Fi signal, uptime, the chip's own temperature) are skipped; with an entity
topic, the device's kind decides when the name does not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway import contract
from gateway.decoders import _thirdparty as tp
from gateway.errors import DecodeError
from gateway.kinds import KINDS
from gateway.model import Availability, Decoded, Reading

if TYPE_CHECKING:
    from gateway.config import DeviceSettings

FORMAT = "esphome"

_DOMAINS = ("sensor", "binary_sensor")
#: (words in the entity name, metric), first match wins; checked after _NOT_ROOM.
_SENSOR_WORDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("humid",), "humidity_pct"),
    (("temp",), "temperature"),
    (("battery",), "battery_pct"),
    (("flow",), "flow_lpm"),
    (("power",), "power_w"),
    (("voltage",), "voltage_v"),
    (("current",), "current_a"),
)
_BINARY_WORDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("leak", "moisture", "flood", "water"), "water_leak"),
    (("door", "gate", "contact", "window", "opening"), "contact"),
)
#: Names of the node's own health sensors: never a room, fridge or meter reading.
_NOT_ROOM = ("internal", "cpu", "chip", "esp32", "esp8266", "esp_", "wifi", "uptime", "signal", "rssi")


def _split(device: DeviceSettings) -> tuple[str, str | None]:
    """(node prefix, entity state topic or None)."""
    topic = (device.topic or device.id).strip("/")
    levels = topic.split("/")
    if len(levels) >= 4 and levels[-1] == "state" and levels[-3] in _DOMAINS:
        return "/".join(levels[:-3]), topic
    return topic.removesuffix("/status"), None


def topics(device: DeviceSettings, site: str) -> list[str]:
    """The entity state topic(s) and the node's status topic."""
    node, entity = _split(device)
    if entity is not None:
        return [entity, f"{node}/status"]
    return [f"{node}/sensor/+/state", f"{node}/binary_sensor/+/state", f"{node}/status"]


def decode(device: DeviceSettings, topic: str, payload: bytes, now: float) -> Decoded:
    """Decode an entity state or the node status of this device."""
    node, entity = _split(device)
    if topic == f"{node}/status":
        return Decoded(availability=[Availability(now, device.id, tp.online_word(tp.text(payload), topic))])
    levels = topic.split("/")
    if (entity is not None and topic != entity) or not (
        topic.startswith(node + "/") and len(levels) == len(node.split("/")) + 3 and levels[-1] == "state"
        and levels[-3] in _DOMAINS
    ):
        raise DecodeError("bad_topic", f"{topic!r} is not a state topic of {entity or node}")
    domain, name = levels[-3], levels[-2]
    target = _metric(device, domain, name, single=entity is not None)
    if target is None:
        if entity is not None:
            raise DecodeError("unknown_entity", f"cannot tell which metric {domain} {name!r} is; add "
                              f"entities = {{{name} = \"temperature\"}} (or another metric) to device {device.id!r}")
        return Decoded()
    metric, scale = target
    word = tp.text(payload).strip()
    if domain == "binary_sensor":
        if word not in ("ON", "OFF"):
            raise DecodeError("wrong_type", f"{topic} = {word[:40]!r}; a binary sensor sends ON or OFF")
        on = word == "ON"
        if metric == "contact" and device.invert:
            on = not on
        value = contract.state_value(metric, on) if metric in ("contact", "water_leak") else (1.0 if on else 0.0)
    else:
        value = tp.number_text(word, topic) * scale
    return Decoded(readings=[Reading(now, device.id, metric, value)])


def _metric(device: DeviceSettings, domain: str, name: str, single: bool) -> tuple[str, float] | None:
    mapped = device.entities.get(name)
    if mapped is not None:
        if isinstance(mapped, str):
            return mapped, 1.0
        return mapped.metric, mapped.scale
    lowered = name.lower()
    words = _BINARY_WORDS if domain == "binary_sensor" else _SENSOR_WORDS
    if not any(w in lowered for w in _NOT_ROOM):
        for keys, metric in words:
            if any(k in lowered for k in keys):
                return metric, 1.0
    if single:
        by_kind = KINDS[device.kind].main_metric
        # the kind's main metric, if this domain can carry it: ON/OFF states are binary sensors
        if by_kind is not None and (contract.METRICS[by_kind].states is not None) == (domain == "binary_sensor"):
            return by_kind, 1.0
    return None
