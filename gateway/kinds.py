"""What each device kind and each device format means: one frozen dataclass per kind, one table each.

Config, cold limits, decoders, the sample ledger, Home Assistant discovery, the dashboard and the sensor
agent all read these tables; none keeps its own list of kinds or formats. The agent imports this module,
so it imports nothing but the standard library and ``gateway.contract``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from gateway.contract import METRICS

Area = Literal["cold_storage", "utilities", "gate", "other"]
#: (low, high) safe range in °C; None on a side that has no limit.
Limits = tuple[float | None, float | None]

#: Safe range of chilled storage (fridges, sample fridges, cold rooms).
_CHILLED: Limits = (0.0, 8.0)
_FROZEN: Limits = (None, -18.0)
#: Agent sensor types that may feed a gate or door: its contact, exit button, lock relay and card reader.
_GATE_PARTS = ("contact", "button", "relay", "card_reader")


@dataclass(frozen=True, slots=True)
class DeviceKind:
    """One device kind: where it shows, what it reports, its default cold limits and who may feed it."""

    id: str
    #: English name for people; the zh-CN one comes from the gettext catalogs like every other text.
    label: str
    #: Dashboard area the kind belongs to.
    area: Area
    #: Canonical metrics a device of this kind reports, main one first (offered to Home Assistant before
    #: the first reading; a lone unnamed value of the kind is its main metric unless that is a meter total).
    metrics: tuple[str, ...] = ()
    #: Safe temperature range when no threshold rule names the device; None: not cold storage.
    cold_limits: Limits | None = None
    #: Whether food samples (留样) may be kept in it.
    keeps_samples: bool = False
    #: Agent ``[[sensors]]`` types that may feed it (``pulse:<meter>`` for pulse counters).
    sensor_types: tuple[str, ...] = ()
    #: Whether it only reports things that happen (card reads, button presses): silence is its normal
    #: state, so it is judged by its availability, never by how long it has been quiet.
    event_only: bool = False

    @property
    def cold(self) -> bool:
        """Whether this is cold storage (fridge, freezer, sample fridge, cold room)."""
        return self.cold_limits is not None

    @property
    def total(self) -> str | None:
        """The meter total this kind reports (``total_l``, ``energy_wh``), None if it is no meter."""
        return next((m for m in self.metrics if METRICS[m].cumulative), None)

    @property
    def contact(self) -> bool:
        """Whether it reports a door contact (gates and doors)."""
        return "contact" in self.metrics

    @property
    def main_metric(self) -> str | None:
        """The metric a lone unnamed value of this kind is, None when it cannot be told (meters, buttons)."""
        if not self.metrics or METRICS[self.metrics[0]].cumulative:
            return None
        return self.metrics[0]


#: Every device kind, by its config name, in the order the config reference lists them.
KINDS: Mapping[str, DeviceKind] = {k.id: k for k in (
    DeviceKind("fridge", "fridge", "cold_storage", ("temperature",), _CHILLED, keeps_samples=True,
               sensor_types=("ds18b20",)),
    DeviceKind("freezer", "freezer", "cold_storage", ("temperature",), _FROZEN, sensor_types=("ds18b20",)),
    DeviceKind("sample_fridge", "sample fridge", "cold_storage", ("temperature",), _CHILLED, keeps_samples=True,
               sensor_types=("ds18b20",)),
    DeviceKind("cold_room", "cold room", "cold_storage", ("temperature",), _CHILLED, keeps_samples=True,
               sensor_types=("ds18b20",)),
    DeviceKind("thermometer", "thermometer", "other", ("temperature", "humidity_pct"), sensor_types=("ds18b20",)),
    DeviceKind("water_meter", "water meter", "utilities", ("total_l", "flow_lpm"), sensor_types=("pulse:water",)),
    DeviceKind("power_meter", "power meter", "utilities", ("energy_wh", "power_w"),
               sensor_types=("pulse:electricity",)),
    DeviceKind("gate", "gate", "gate", ("contact",), sensor_types=_GATE_PARTS),
    DeviceKind("card_reader", "card reader", "gate", sensor_types=("card_reader",), event_only=True),
    DeviceKind("exit_button", "exit button", "gate", sensor_types=("button",), event_only=True),
    DeviceKind("leak", "leak sensor", "utilities", ("water_leak",)),
    DeviceKind("door", "door", "gate", ("contact",), sensor_types=_GATE_PARTS),
    DeviceKind("relay", "relay", "gate", sensor_types=("relay",), event_only=True),
    # A smart plug feeding a room's UV lamp: its power makes the disinfection record (gateway/inspections).
    DeviceKind("uv_lamp", "UV lamp", "other", ("power_w",)),
)}


@dataclass(frozen=True, slots=True)
class DeviceFormat:
    """One device format: how a device's own MQTT messages look (a decoder per format reads them)."""

    id: str
    #: Metrics every device of this format reports besides its kind's (battery-powered radios).
    extra_metrics: tuple[str, ...] = ()


#: Every device format, by its config name; ``gateway.decoders.registry()`` has one decoder for each.
FORMATS: Mapping[str, DeviceFormat] = {f.id: f for f in (
    DeviceFormat("native"),
    DeviceFormat("tasmota"),
    DeviceFormat("zigbee2mqtt", extra_metrics=("battery_pct",)),
    DeviceFormat("shelly"),
    DeviceFormat("esphome"),
    DeviceFormat("plain"),
)}
