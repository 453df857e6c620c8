"""Shelly Gen2+/Gen3 (RPC over MQTT) and Gen1 (``shellies/...``) devices.

Gen2: the device's ``topic`` is its MQTT prefix (default the device id, e.g.
``shellypro1pm-kitchen``; a full ``<prefix>/status/switch:0`` topic is accepted too). Read from
``<prefix>/status/<component>`` (generic status updates) and ``<prefix>/events/rpc``
(``NotifyStatus`` / ``NotifyFullStatus``): ``switch``/``pm1`` ``aenergy.total`` (Wh) and ``apower``,
``voltage``, ``current``; ``em`` ``total_act_power`` and ``emdata`` ``total_act`` (Wh); ``em1``
``act_power`` and ``em1data`` ``total_act_energy`` (Wh); ``temperature`` ``tC``; ``humidity``
``rh``; ``devicepower`` ``battery.percent``; ``input`` ``state`` as a door contact (door and gate
devices only: closed circuit = closed door, ``invert = true`` for a normally-closed switch);
``NotifyEvent`` pushes of a button input as ``button`` events (exit button devices only). A
switch's own ``temperature`` is the relay's, never a room or fridge temperature, and is not read.
Availability: ``<prefix>/online`` ``true``/``false``. ``NotifyStatus`` ``ts`` is used when sane.

Which component: by default id 0 of each type; ``probe = "1"`` takes id 1 of each type,
``probe = "temperature:101"`` exactly that one (e.g. a DS18B20 on the Plus Add-on).

Gen1: ``topic = "shellies/<id>"``: ``relay/N/power`` (W), ``relay/N/energy`` (watt-minutes),
``emeter/N/power|total|voltage|current``, ``sensor/temperature|humidity|battery``,
``sensor/state`` (open/close), ``sensor/flood`` (true/false), ``online``; ``probe = "N"`` picks the
channel (default 0).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gateway import contract
from gateway.decoders import _thirdparty as tp
from gateway.errors import DecodeError
from gateway.kinds import KINDS
from gateway.model import Availability, Decoded, Event, Reading

if TYPE_CHECKING:
    from gateway.config import DeviceSettings

FORMAT = "shelly"

_NOTIFY = ("NotifyStatus", "NotifyFullStatus")
_PUSHES = ("single_push", "double_push", "triple_push", "long_push")
#: Gen2 component types whose ``status/<component>`` messages are known: read below, or knowingly not
#: stored (Wi-Fi strength, system, cloud, ...; ingest counts those as ignored). Any other component is
#: refused as ``unknown_component``, so it is counted and dead-lettered rather than dropped unseen.
_KNOWN_COMPONENTS = frozenset({
    "switch", "pm1", "em1", "cover", "em", "emdata", "em1data", "temperature", "humidity", "devicepower",
    "input", "light", "voltmeter", "illuminance", "smoke",
    "sys", "wifi", "eth", "cloud", "mqtt", "ble", "ws", "ui", "plugs_ui", "script", "knx", "matter", "bthome",
    "modbus", "zigbee", "wd",
})


def prefix(device: DeviceSettings) -> str:
    """The device's MQTT prefix, from any accepted form of ``topic``."""
    topic = (device.topic or device.id).strip("/")
    for mark in ("/status/", "/events/"):
        if mark in topic:
            return topic.split(mark, 1)[0]
    for leaf in ("/online", "/status", "/events/rpc"):
        if topic.endswith(leaf):
            return topic[: -len(leaf)]
    return topic


def _gen1(device: DeviceSettings) -> bool:
    return prefix(device).startswith("shellies/")


def topics(device: DeviceSettings, site: str) -> list[str]:
    """Status, notification and online topics of the device."""
    p = prefix(device)
    if _gen1(device):
        return [f"{p}/relay/+/power", f"{p}/relay/+/energy", f"{p}/emeter/+/+", f"{p}/sensor/+", f"{p}/online"]
    return [f"{p}/status/+", f"{p}/events/rpc", f"{p}/online"]


def decode(device: DeviceSettings, topic: str, payload: bytes, now: float) -> Decoded:
    """Decode one message of this Shelly into readings or availability."""
    p = prefix(device)
    if not topic.startswith(p + "/"):
        raise DecodeError("bad_topic", f"{topic!r} is not under {p}/")
    rest = topic[len(p) + 1:]
    if rest == "online":
        return Decoded(availability=[Availability(now, device.id, tp.online_word(tp.text(payload), topic))])
    if _gen1(device):
        return Decoded(readings=_gen1_reading(device, rest, payload, now, topic))
    if rest.startswith("status/"):
        component = rest[len("status/"):]
        body = tp.json_object(payload)
        if component.partition(":")[0] not in _KNOWN_COMPONENTS:
            raise DecodeError("unknown_component", f"{component[:40]!r} is not a Shelly component Houqin knows")
        return Decoded(readings=_components(device, {component: body}, now))
    if rest == "events/rpc":
        body = tp.json_object(payload)
        method = body.get("method")
        if method not in (*_NOTIFY, "NotifyEvent"):
            return Decoded()  # RPC replies and other notifications carry no readings
        params = body.get("params")
        if not isinstance(params, dict):
            raise DecodeError("not_object", f"{topic}: {method} has no params object")
        if method == "NotifyEvent":
            return Decoded(events=_button_events(device, params, now))
        ts_raw = params.get("ts")
        ts = tp.sane_ts(float(ts_raw) if isinstance(ts_raw, int | float) and not isinstance(ts_raw, bool) else None,
                        now)
        return Decoded(readings=_components(device, params, ts))
    raise DecodeError("bad_topic", f"{topic!r}: Houqin reads {p}/status/<component>, {p}/events/rpc, {p}/online")


def _button_events(device: DeviceSettings, params: dict[str, Any], now: float) -> list[Event]:
    """Pushes of an input in button mode, for an exit button device: ``Event(type="button")``."""
    if device.kind != "exit_button":
        return []
    out: list[Event] = []
    events = params.get("events")
    for ev in events if isinstance(events, list) else []:
        if not isinstance(ev, dict) or ev.get("event") not in _PUSHES:
            continue
        component = str(ev.get("component", ""))
        if not _wanted(device, component):
            continue
        ts_raw = ev.get("ts")
        ts = tp.sane_ts(float(ts_raw) if isinstance(ts_raw, int | float) and not isinstance(ts_raw, bool) else None,
                        now)
        out.append(Event(ts, device.id, "button", {"input": component, "push": ev["event"]}))
    return out


def _wanted(device: DeviceSettings, key: str) -> bool:
    _, _, ident = key.partition(":")
    probe = device.probe
    if probe is None:
        return ident == "0"
    if ":" in probe:
        return key == probe
    return ident == probe


def _components(device: DeviceSettings, comps: dict[str, Any], ts: float) -> list[Reading]:
    out: list[Reading] = []
    dev = device.id
    for key, body in comps.items():
        if ":" not in key or not _wanted(device, key):
            continue
        if not isinstance(body, dict):
            raise DecodeError("not_object", f"{key} is {type(body).__name__}, not an object")
        type_ = key.partition(":")[0]

        def add(metric: str, raw: Any, what: str, factor: float = 1.0, _key: str = key) -> None:
            if raw is not None:
                v = tp.number(raw, f"{_key}.{what}")
                out.append(Reading(ts, dev, metric, v * factor if factor != 1.0 else v))

        if type_ in ("switch", "pm1", "em1", "cover"):
            aenergy = body.get("aenergy")
            if isinstance(aenergy, dict):
                add("energy_wh", aenergy.get("total"), "aenergy.total")
            add("power_w", body.get("apower", body.get("act_power")), "apower")
            add("voltage_v", body.get("voltage"), "voltage")
            add("current_a", body.get("current"), "current")
            # body["temperature"] of a switch is the relay's own: deliberately not read.
        elif type_ == "em":
            add("power_w", body.get("total_act_power"), "total_act_power")
            add("current_a", body.get("total_current"), "total_current")
        elif type_ == "emdata":
            add("energy_wh", body.get("total_act"), "total_act")
        elif type_ == "em1data":
            add("energy_wh", body.get("total_act_energy"), "total_act_energy")
        elif type_ == "temperature":
            add("temperature", body.get("tC"), "tC")
        elif type_ == "humidity":
            add("humidity_pct", body.get("rh"), "rh")
        elif type_ == "devicepower":
            battery = body.get("battery")
            if isinstance(battery, dict):
                add("battery_pct", battery.get("percent"), "battery.percent")
        elif type_ == "input" and KINDS[device.kind].contact:
            state = body.get("state")
            if state is not None:
                if type(state) is not bool:
                    raise DecodeError("wrong_type", f"{key}.state = {str(state)[:40]!r} is not true/false")
                is_open = (not state) != device.invert
                out.append(Reading(ts, dev, "contact", contract.state_value("contact", is_open)))
    return out


def _gen1_reading(device: DeviceSettings, rest: str, payload: bytes, now: float, topic: str) -> list[Reading]:
    levels = rest.split("/")
    word = tp.text(payload).strip()
    channel = device.probe or "0"
    dev = device.id
    if len(levels) == 3 and levels[0] in ("relay", "emeter"):
        if levels[1] != channel:
            return []
        leaf = levels[2]
        if levels[0] == "relay" and leaf == "energy":  # Gen1 relays count watt-minutes
            return [Reading(now, dev, "energy_wh", tp.number_text(word, topic) / 60.0)]
        metric = {"power": "power_w", "total": "energy_wh", "voltage": "voltage_v", "current": "current_a"}.get(leaf)
        if metric is None:
            return []
        return [Reading(now, dev, metric, tp.number_text(word, topic))]
    if len(levels) == 2 and levels[0] == "sensor":
        leaf = levels[1]
        if leaf == "state":
            if word not in ("open", "close"):
                raise DecodeError("wrong_type", f"{topic} = {word[:40]!r}; expected open or close")
            return [Reading(now, dev, "contact", contract.state_value("contact", (word == "open") != device.invert))]
        if leaf == "flood":
            if word not in ("true", "false"):
                raise DecodeError("wrong_type", f"{topic} = {word[:40]!r}; expected true or false")
            return [Reading(now, dev, "water_leak", contract.state_value("water_leak", word == "true"))]
        metric = {"temperature": "temperature", "humidity": "humidity_pct", "battery": "battery_pct"}.get(leaf)
        if metric is None:
            return []
        return [Reading(now, dev, metric, tp.number_text(word, topic))]
    return []
