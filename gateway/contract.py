"""The MQTT contract: topic scheme, native payloads and the catalogue of canonical metrics.

The agent and the gateway both import this module; nothing else builds ``houqin/...`` topics by hand.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

ROOT = "houqin"
Channel = Literal["state", "event", "availability", "set"]
CHANNELS: tuple[Channel, ...] = ("state", "event", "availability", "set")
ONLINE = "online"
OFFLINE = "offline"

#: Largest payload the gateway accepts; anything larger is dead-lettered as ``too_large``.
MAX_PAYLOAD_BYTES = 16 * 1024
#: Longest topic ingested; a longer one is refused before routing (MQTT allows 65,535 bytes).
MAX_TOPIC_CHARS = 512

#: Ids of sites and devices: safe in a topic level, a file name and a URL.
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def check_id(value: str, example: str = "kitchen-fridge") -> str:
    """Return ``value`` when it is a valid site/device/rule id; else raise ValueError saying what is allowed."""
    if not ID_PATTERN.match(value):
        raise ValueError(f"must be lower-case letters, digits, '-' or '_' (e.g. \"{example}\")")
    return value


@dataclass(frozen=True, slots=True)
class TopicParts:
    """A parsed native topic."""

    site: str
    device: str
    channel: Channel


def device_topic(site: str, device: str, channel: Channel) -> str:
    """Return ``houqin/{site}/{device}/{channel}``."""
    return f"{ROOT}/{site}/{device}/{channel}"


def state_topic(site: str, device: str) -> str:
    """Topic of a device's state payloads."""
    return device_topic(site, device, "state")


def event_topic(site: str, device: str) -> str:
    """Topic of a device's one-off events."""
    return device_topic(site, device, "event")


def availability_topic(site: str, device: str) -> str:
    """Retained ``online``/``offline`` topic of a device (the agent's last will)."""
    return device_topic(site, device, "availability")


def set_topic(site: str, device: str) -> str:
    """Topic of commands to a device (relay pulse, buzzer)."""
    return device_topic(site, device, "set")


def alerts_topic(site: str, *parts: str) -> str:
    """Topic under which the gateway publishes alerts for other systems."""
    return "/".join((ROOT, site, "alerts", *parts))


def uplink_topic(site: str, *parts: str) -> str:
    """Topic under which a site reports to the district's central broker (alert transitions, status)."""
    return "/".join((ROOT, site, "uplink", *parts))


def gateway_availability_topic(site: str) -> str:
    """Retained availability of the gateway itself (its last will)."""
    return f"{ROOT}/{site}/gateway/availability"


def gateway_alive_topic(site: str) -> str:
    """The gateway's signed heartbeat (``gateway.signing``): agents take the gateway as up only while it arrives."""
    return f"{ROOT}/{site}/gateway/alive"


def cards_topic(site: str) -> str:
    """Retained card list the gateway publishes for agents deciding offline (``gateway/gate``):
    ``houqin/{site}/gateway/cards/list``; five levels, so the gateway's ``+/state``-style filters skip it."""
    return f"{ROOT}/{site}/gateway/cards/list"


def mirror_topic(site: str, device: str, leaf: Literal["state", "availability"]) -> str:
    """Where the gateway republishes a device's decoded state or availability in canonical form, whatever
    its format (for Home Assistant): ``houqin/{site}/gateway/devices/{device}/{leaf}``, retained.

    Six levels, so the gateway's own ``houqin/{site}/+/...`` subscriptions never take it back in.
    """
    return f"{ROOT}/{site}/gateway/devices/{device}/{leaf}"


def subscriptions(site: str) -> list[str]:
    """Topic filters the gateway subscribes to for native devices."""
    return [f"{ROOT}/{site}/+/state", f"{ROOT}/{site}/+/event", f"{ROOT}/{site}/+/availability"]


def parse_topic(topic: str) -> TopicParts | None:
    """Split a native topic; ``None`` when it is not one."""
    parts = topic.split("/")
    if len(parts) != 4 or parts[0] != ROOT or parts[3] not in CHANNELS:
        return None
    return TopicParts(parts[1], parts[2], parts[3])  # type: ignore[arg-type,unused-ignore]


def encode_state(
    metrics: Mapping[str, float | int | str | bool], ts: float | None = None, seq: int | None = None
) -> bytes:
    """Native state payload, e.g. ``{"temperature": 4.2, "ts": 1790000000.0, "seq": 17}``."""
    body: dict[str, Any] = dict(metrics)
    if ts is not None:
        body["ts"] = round(ts, 3)
    if seq is not None:
        body["seq"] = seq
    return json.dumps(body, separators=(",", ":")).encode()


def encode_event(type_: str, ts: float | None = None, seq: int | None = None, **data: Any) -> bytes:
    """Native event payload, e.g. ``{"type": "card", "uid": "04A1B2C3"}``."""
    body: dict[str, Any] = {"type": type_, **data}
    if ts is not None:
        body["ts"] = round(ts, 3)
    if seq is not None:
        body["seq"] = seq
    return json.dumps(body, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """A canonical metric: its unit, the physically possible range, and state names if any."""

    unit: str
    low: float
    high: float
    states: tuple[str, str] | None = None  # (name of 0.0, name of 1.0)
    cumulative: bool = False  # a meter total; the gateway derives usage from it
    usage_metric: str | None = None


#: Canonical metrics. Values outside [low, high] are refused as ``out_of_range``.
METRICS: Mapping[str, MetricSpec] = {
    "temperature": MetricSpec("°C", -55.0, 125.0),
    "humidity_pct": MetricSpec("%", 0.0, 100.0),
    "battery_pct": MetricSpec("%", 0.0, 100.0),
    "total_l": MetricSpec("L", 0.0, 1e12, cumulative=True, usage_metric="usage_l"),
    "usage_l": MetricSpec("L", 0.0, 1e9),
    "flow_lpm": MetricSpec("L/min", 0.0, 10_000.0),
    "energy_wh": MetricSpec("Wh", 0.0, 1e13, cumulative=True, usage_metric="usage_wh"),
    "usage_wh": MetricSpec("Wh", 0.0, 1e10),
    "power_w": MetricSpec("W", -1e6, 1e6),
    "pulses": MetricSpec("", 0.0, 1e12, cumulative=True),
    "voltage_v": MetricSpec("V", 0.0, 1000.0),
    "current_a": MetricSpec("A", -1000.0, 1000.0),
    "contact": MetricSpec("", 0.0, 1.0, states=("closed", "open")),
    "water_leak": MetricSpec("", 0.0, 1.0, states=("dry", "leak")),
}


def state_value(metric: str, name: str | bool) -> float:
    """Numeric value stored for a state name, e.g. ``state_value("contact", "open") == 1.0``."""
    spec = METRICS[metric]
    if spec.states is None:
        raise ValueError(f"metric {metric!r} has no states")
    if isinstance(name, bool):
        return 1.0 if name else 0.0
    if name not in spec.states:
        raise ValueError(f"{name!r} is not a state of {metric!r}; use one of {spec.states}")
    return float(spec.states.index(name))


def display_value(metric: str, value: float) -> float | str:
    """Value for people and JSON: the state name for state metrics, else the number."""
    spec = METRICS.get(metric)
    if spec is not None and spec.states is not None:
        return spec.states[1] if value >= 0.5 else spec.states[0]
    return value
