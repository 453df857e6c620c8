"""Tasmota: ``tele/<topic>/SENSOR`` JSON and the ``tele/<topic>/LWT`` Online/Offline last will.

The device's ``topic`` is either the Tasmota topic (``kitchen-fridge``, the default FullTopic
``%prefix%/%topic%/`` is assumed) or its full SENSOR topic (``tele/kitchen-fridge/SENSOR``, which
also works with a custom FullTopic). Read from SENSOR: the ``Temperature`` and ``Humidity`` of any
sensor object (DS18B20, SHT3X, AM2301, DHT11, BME280, SI7021, HTU21 ...; ``TempUnit`` F converted),
``ENERGY`` (``Total`` kWh -> ``energy_wh``, ``Power`` -> ``power_w``, ``Voltage``, ``Current``) and
``COUNTER`` (``C1`` -> ``pulses``; the gateway's meters turn pulses into litres or Wh with the
device's ``litres_per_pulse``/``wh_per_pulse``).

Several devices may share one Tasmota: each sets ``probe`` to a DS18B20 ``Id`` (stable; the
``DS18B20-N`` numbering follows the sorted addresses and shifts when a probe is added), a sensor name
(``SHT3X``, ``BME280``), or a counter channel (``C2``), and gets only that probe's readings.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from gateway.decoders import _thirdparty as tp
from gateway.errors import DecodeError
from gateway.model import Availability, Decoded, Reading

if TYPE_CHECKING:
    from gateway.config import DeviceSettings

FORMAT = "tasmota"

_LEAVES = ("SENSOR", "LWT", "STATE")
_COUNTER_PROBE = re.compile(r"^C[1-8]$", re.IGNORECASE)
#: Keys of a SENSOR payload that are not sensor objects.
_NOT_SENSORS = ("Time", "TempUnit", "PressureUnit", "SpeedUnit", "Epoch")


def base_topic(device: DeviceSettings) -> str:
    """The topic without its last level: ``tele/kitchen-fridge`` for any accepted ``topic`` form."""
    topic = (device.topic or device.id).strip("/")
    levels = topic.split("/")
    if len(levels) > 1 and levels[-1] in _LEAVES:
        return "/".join(levels[:-1])
    if len(levels) == 1:
        return f"tele/{topic}"
    return topic


def topics(device: DeviceSettings, site: str) -> list[str]:
    """The SENSOR and LWT topics of the device."""
    base = base_topic(device)
    return [f"{base}/SENSOR", f"{base}/LWT"]


def decode(device: DeviceSettings, topic: str, payload: bytes, now: float) -> Decoded:
    """Decode a SENSOR or LWT message into this device's readings or availability."""
    base = base_topic(device)
    if topic == f"{base}/LWT":
        online = tp.online_word(tp.text(payload), topic)
        return Decoded(availability=[Availability(now, device.id, online)])
    if topic != f"{base}/SENSOR":
        raise DecodeError("bad_topic", f"{topic!r} is not {base}/SENSOR or {base}/LWT")
    body = tp.json_object(payload)
    ts = tp.sane_ts(tp.iso_ts(body.get("Time")), now)
    unit = body.get("TempUnit", "C")
    if unit not in ("C", "F"):
        raise DecodeError("bad_unit", f"TempUnit = {str(unit)[:10]!r}; Tasmota sends \"C\" or \"F\"")
    sensors = {k: v for k, v in body.items() if k not in _NOT_SENSORS and isinstance(v, dict)}
    probe = device.probe
    if probe is not None and _COUNTER_PROBE.match(probe):
        readings = _counter(device, sensors, probe.upper(), ts, topic)
    elif probe is not None:
        key, obj = _probe(device, sensors, probe, topic)
        readings = _climate(device.id, key, obj, unit, ts)
    else:
        readings = _all(device, sensors, unit, ts, topic)
    if not readings:
        found = ", ".join(sensors) or "nothing"
        raise DecodeError(
            "no_metrics",
            f"{topic} carries no reading Houqin knows (found: {found}); it reads Temperature/Humidity "
            "sensors, ENERGY and COUNTER",
        )
    return Decoded(readings=readings)


def _all(device: DeviceSettings, sensors: dict[str, Any], unit: str, ts: float, topic: str) -> list[Reading]:
    climate = [k for k, v in sensors.items() if "Temperature" in v or "Humidity" in v]
    if len(climate) > 1:
        names = ", ".join(_label(k, sensors[k]) for k in climate)
        raise DecodeError(
            "ambiguous_probe",
            f"{topic} has {len(climate)} sensors ({names}); give each its own [[devices]] entry with "
            "probe = \"<Id or name>\"",
        )
    out: list[Reading] = []
    for key in climate:
        out += _climate(device.id, key, sensors[key], unit, ts)
    energy = sensors.get("ENERGY")
    if energy is not None:
        out += _energy(device.id, energy, ts)
    counter = sensors.get("COUNTER")
    if counter is not None and "C1" in counter:
        out.append(Reading(ts, device.id, "pulses", tp.number(counter["C1"], "COUNTER.C1")))
    return out


def _label(key: str, obj: dict[str, Any]) -> str:
    return f"{key} Id {obj['Id']}" if "Id" in obj else key


def _probe(device: DeviceSettings, sensors: dict[str, Any], probe: str, topic: str) -> tuple[str, dict[str, Any]]:
    want = probe.lower()
    for key, obj in sensors.items():
        if str(obj.get("Id", "")).lower() == want or key.lower() == want:
            return key, obj
    seen = ", ".join(_label(k, v) for k, v in sensors.items()) or "none"
    raise DecodeError(
        "probe_missing",
        f"probe {probe!r} of device {device.id!r} is not in {topic} (sensors there: {seen}); "
        "it may be disconnected, or probe names another Id",
    )


def _climate(device: str, key: str, obj: dict[str, Any], unit: str, ts: float) -> list[Reading]:
    out: list[Reading] = []
    if "Temperature" in obj:
        t = _value(obj["Temperature"], f"{key}.Temperature")
        if unit == "F":
            t = round((t - 32.0) * 5.0 / 9.0, 6)
        out.append(Reading(ts, device, "temperature", t))
    if "Humidity" in obj:
        out.append(Reading(ts, device, "humidity_pct", _value(obj["Humidity"], f"{key}.Humidity")))
    return out


def _value(raw: Any, what: str) -> float:
    if raw is None:
        raise DecodeError("no_value", f"{what} is null: Tasmota could not read the sensor; check its wiring")
    return tp.number(raw, what)


def _energy(device: str, energy: dict[str, Any], ts: float) -> list[Reading]:
    out: list[Reading] = []
    if "Total" in energy:
        out.append(Reading(ts, device, "energy_wh", round(_sum(energy["Total"], "ENERGY.Total") * 1000.0, 3)))
    if "Power" in energy:
        out.append(Reading(ts, device, "power_w", _sum(energy["Power"], "ENERGY.Power")))
    voltage = energy.get("Voltage")
    if voltage is not None and not isinstance(voltage, list):  # one phase; per-phase lists are not summable
        out.append(Reading(ts, device, "voltage_v", tp.number(voltage, "ENERGY.Voltage")))
    if "Current" in energy:
        out.append(Reading(ts, device, "current_a", _sum(energy["Current"], "ENERGY.Current")))
    return out


def _sum(raw: Any, what: str) -> float:
    """A number, or the sum of a per-channel list (multi-channel meters such as a PZEM-014 x3)."""
    if isinstance(raw, list):
        return sum(tp.number(v, what) for v in raw)
    return tp.number(raw, what)


def _counter(device: DeviceSettings, sensors: dict[str, Any], channel: str, ts: float,
             topic: str) -> list[Reading]:
    counter = sensors.get("COUNTER")
    if counter is None or channel not in counter:
        raise DecodeError("probe_missing", f"probe {channel!r} of device {device.id!r}: {topic} has no "
                          f"COUNTER.{channel}; enable the counter on that GPIO")
    return [Reading(ts, device.id, "pulses", tp.number(counter[channel], f"COUNTER.{channel}"))]
