"""``[[sensors]]``: what is wired to this Pi (pins, probes, readers) and which device id each feeds."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from gateway.contract import ID_PATTERN
from gateway.kinds import KINDS
from gateway.values import Duration

#: BCM GPIO number of each GPIO pin on the 40-pin header, so ``"BOARD11"`` and ``17`` clash.
BOARD_TO_BCM: Mapping[int, int] = {
    3: 2, 5: 3, 7: 4, 8: 14, 10: 15, 11: 17, 12: 18, 13: 27, 15: 22, 16: 23, 18: 24, 19: 10, 21: 9,
    22: 25, 23: 11, 24: 8, 26: 7, 27: 0, 28: 1, 29: 5, 31: 6, 32: 12, 33: 13, 35: 19, 36: 16, 37: 26,
    38: 20, 40: 21,
}
_PIN_TEXT = re.compile(r"^(GPIO|BCM|BOARD)?(\d+)$")


def parse_pin(value: Any) -> int:
    """BCM number from ``17``, ``"GPIO17"``, ``"BCM17"`` or ``"BOARD11"``; ValueError naming the forms."""
    hint = "write a BCM GPIO number 0-27 (e.g. 17) or \"GPIO17\" / \"BOARD11\""
    if isinstance(value, bool):
        raise ValueError(f"is not a pin; {hint}")
    if isinstance(value, int):
        bcm = value
    elif isinstance(value, str) and (m := _PIN_TEXT.match(value.strip().upper())):
        n = int(m.group(2))
        if m.group(1) == "BOARD":
            if n not in BOARD_TO_BCM:
                raise ValueError(f"header pin {n} is not a GPIO (it is power, ground or ID EEPROM); {hint}")
            bcm = BOARD_TO_BCM[n]
        else:
            bcm = n
    else:
        raise ValueError(f"is not a pin; {hint}")
    if not 0 <= bcm <= 27:
        raise ValueError(f"GPIO{bcm} does not exist on a Raspberry Pi header; {hint}")
    return bcm


Pin = Annotated[int, BeforeValidator(parse_pin)]


class _Sensor(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class _OneDevice(_Sensor):
    device: str
    """The ``[[devices]]`` id this hardware feeds (its kind must fit the sensor type)."""

    @field_validator("device")
    @classmethod
    def _device_id(cls, v: str) -> str:
        if not ID_PATTERN.match(v):
            raise ValueError("must be a device id from [[devices]] (lower-case letters, digits, '-', '_')")
        return v


class Ds18b20Settings(_Sensor):
    """DS18B20 probes on one 1-Wire bus, each 1-Wire id mapped to a device id."""

    type: Literal["ds18b20"]
    probes: dict[str, str]
    """``"28-0316a2799bff" = "kitchen-fridge"``: which probe feeds which device."""
    w1_root: str = "/sys/bus/w1/devices"
    """Where the kernel lists 1-Wire devices (changed only in tests)."""
    interval: Duration = 30.0
    """How often each probe is read and published."""
    fail_after: int = Field(default=3, ge=1, le=100)
    """Consecutive refused or failed reads before the probe is reported faulty (and offline)."""
    w1_pin: Pin = 4
    """The GPIO of the bus (``dtoverlay=w1-gpio,gpiopin=N``; 4 by default); only to catch pin clashes."""

    @field_validator("probes")
    @classmethod
    def _probes(cls, v: dict[str, str]) -> dict[str, str]:
        if not v:
            raise ValueError("is empty; map each probe to a device, e.g. \"28-0316a2799bff\" = \"kitchen-fridge\"")
        for probe, device in v.items():
            if not re.match(r"^28-[0-9a-f]{12}$", probe):
                raise ValueError(f"{probe!r} is not a DS18B20 1-Wire id; they look like \"28-0316a2799bff\" "
                                 "(see ls /sys/bus/w1/devices)")
            if not ID_PATTERN.match(device):
                raise ValueError(f"{device!r} (probe {probe}) is not a device id from [[devices]]")
        return v

    @field_validator("interval")
    @classmethod
    def _interval(cls, v: float) -> float:
        if v < 1.0:
            raise ValueError("must be at least \"1s\" (a DS18B20 conversion takes 750 ms)")
        return v


class PulseSettings(_OneDevice):
    """A pulse meter: water meter reed switch or electricity meter S0 output."""

    type: Literal["pulse"]
    pin: Pin
    """BCM GPIO number (``17``, ``"GPIO17"``) or header position (``"BOARD11"``) of the meter's pulse output."""
    meter: Literal["water", "electricity"]
    """``water`` publishes ``total_l`` and ``flow_lpm``; ``electricity`` publishes ``energy_wh`` and ``power_w``."""
    litres_per_pulse: float | None = Field(default=None, gt=0)
    """Litres per pulse (from the meter's label); default: the device's ``litres_per_pulse``."""
    wh_per_pulse: float | None = Field(default=None, gt=0)
    """Watt-hours per pulse (``1000 imp/kWh`` = 1.0); default: the device's ``wh_per_pulse``."""
    pull_up: bool = True
    """Use the Pi's internal pull-up (wire the input between the GPIO and GND)."""
    bounce: Duration | None = None
    """Minimum stable time of each level; default 25 ms for reed switches, 10 ms for S0 (pulses >= 30 ms)."""
    interval: Duration = 10.0
    """How often the total and the flow/power are published."""
    sync_every: int = Field(default=10, ge=1, le=10_000)
    """fsync the journal at least every this many pulses (it is also synced before every publish)."""

    @field_validator("interval")
    @classmethod
    def _interval(cls, v: float) -> float:
        if v < 1.0:
            raise ValueError("must be at least \"1s\" (each publish syncs the journal to the SD card)")
        return v

    @property
    def bounce_s(self) -> float:
        """The debounce time in seconds."""
        if self.bounce is not None:
            return self.bounce
        return 0.025 if self.meter == "water" else 0.010


class ContactSettings(_OneDevice):
    """A gate or door contact (reed switch): publishes ``contact`` open/closed."""

    type: Literal["contact"]
    pin: Pin
    """GPIO of the reed contact (BCM number or ``BOARDn``)."""
    pull_up: bool = True
    """Use the Pi's internal pull-up (wire the contact between the GPIO and GND)."""
    open_when: Literal["high", "low"] = "high"
    """Pin level that means open; with a pull-up and a reed closed by the magnet, open reads ``high``."""
    bounce: Duration = 0.05
    """The contact must be stable this long before a change is published."""
    heartbeat: Duration = 300.0
    """Repeat the unchanged state this often, so "stale device" rules know the contact is alive."""


class ButtonSettings(_OneDevice):
    """An exit button (request to exit): publishes an event ``{"type": "button"}`` per press."""

    type: Literal["button"]
    pin: Pin
    """GPIO of the exit button (BCM number or ``BOARDn``)."""
    pull_up: bool = True
    """Use the Pi's internal pull-up (wire the button between the GPIO and GND)."""
    bounce: Duration = 0.05
    """Presses closer together than this count once."""


class OutputSettings(_OneDevice):
    """A lock relay, buzzer or LED, driven by the device's ``set`` commands."""

    type: Literal["relay", "buzzer", "led"]
    pin: Pin
    """GPIO driving the relay module, buzzer transistor or LED."""
    active_high: bool = True
    """``false`` for relay modules that switch on a low input."""
    max_seconds: float = Field(default=600.0, gt=0)
    """Longest a command may keep the output on; longer requests are cut to this."""


class CardReaderSettings(_OneDevice):
    """A card reader: a USB reader typing as a keyboard (``keyboard``) or a serial one (``serial``)."""

    type: Literal["card_reader"]
    reader: Literal["keyboard", "serial"]
    """``keyboard``: a USB reader that types the card number; ``serial``: one line per card."""
    path: str
    """``/dev/input/by-id/usb-...-event-kbd`` for keyboard readers, ``/dev/ttyUSB0`` for serial ones."""
    baudrate: int = Field(default=9600, gt=0)
    """Serial readers: the line speed."""
    grab: bool = True
    """Read the keyboard exclusively so the digits do not land in a console or login prompt."""


SensorSettings = Annotated[
    Ds18b20Settings | PulseSettings | ContactSettings | ButtonSettings | OutputSettings | CardReaderSettings,
    Field(discriminator="type"),
]

#: Sensor types that may feed a device of any kind (a buzzer or LED signals at any device).
ANY_KIND = ("buzzer", "led")


def kinds_fed_by(sensor_type: str) -> frozenset[str] | None:
    """Device kinds a sensor type (``pulse:<meter>`` for pulse counters) may feed; None: any kind."""
    if sensor_type in ANY_KIND:
        return None
    return frozenset(k.id for k in KINDS.values() if sensor_type in k.sensor_types)


class _Device(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def litres_per_pulse(self) -> float | None: ...
    @property
    def wh_per_pulse(self) -> float | None: ...


def sensor_devices(sensor: Any) -> list[str]:
    """Device ids a ``[[sensors]]`` entry publishes for."""
    if isinstance(sensor, Ds18b20Settings):
        return list(sensor.probes.values())
    return [sensor.device]


def sensor_pins(sensor: Any) -> list[int]:
    """BCM pins a ``[[sensors]]`` entry uses."""
    if isinstance(sensor, Ds18b20Settings):
        return [sensor.w1_pin]
    pin = getattr(sensor, "pin", None)
    return [pin] if isinstance(pin, int) else []


def _english(message: str) -> str:
    return message


def check_sensors(devices: Sequence[_Device], sensors: Sequence[Any],
                  translate: Callable[[str], str] = _english) -> list[str]:
    """Problems across entries: unknown device ids, wrong kinds, pins used twice, missing pulse factors; in
    ``translate``'s language (the gateway passes its catalogs; the agent stays free of them)."""
    by_id = {d.id: d for d in devices}
    problems: list[str] = []
    pins: dict[int, int] = {}
    probes: dict[str, int] = {}
    fed: dict[tuple[str, str], int] = {}
    w1_buses: dict[int, str] = {}
    for i, s in enumerate(sensors):
        where = f"sensors[{i}] (type {s.type!r})"
        key = f"pulse:{s.meter}" if isinstance(s, PulseSettings) else s.type
        kinds = kinds_fed_by(key)
        for dev_id in sensor_devices(s):
            dev = by_id.get(dev_id)
            if dev is None:
                problems.append(f"{where}: " + translate(
                    "device {device} is not in [[devices]]; add a [[devices]] entry with id = \"{id}\" or fix "
                    "the id").format(device=repr(dev_id), id=dev_id))
                continue
            if kinds is not None and dev.kind not in kinds:
                problems.append(f"{where}: " + translate(
                    "device {device} is a {kind}; a {type} sensor can feed only {kinds} devices").format(
                    device=repr(dev_id), kind=dev.kind, type=s.type, kinds=", ".join(sorted(kinds))))
            if s.type not in ("button", "card_reader"):  # several buttons or readers may share a device
                slot = (dev_id, s.type)
                if slot in fed:
                    problems.append(f"{where}: " + translate(
                        "device {device} already has a {type} in sensors[{n}]; one device id per probe, meter, "
                        "contact or output").format(device=repr(dev_id), type=s.type, n=fed[slot]))
                else:
                    fed[slot] = i
        for pin in sensor_pins(s):
            if isinstance(s, Ds18b20Settings):
                # Several probes and several [[sensors]] entries may share one 1-Wire bus.
                if w1_buses.get(pin) == "w1":
                    continue
                w1_buses[pin] = "w1"
            if pin in pins:
                problems.append(f"{where}: " + translate(
                    "pin GPIO{pin} is already used by sensors[{n}]; each GPIO can be wired to one thing only").format(
                    pin=pin, n=pins[pin]))
            else:
                pins[pin] = i
        if isinstance(s, Ds18b20Settings):
            for probe in s.probes:
                if probe in probes:
                    problems.append(f"{where}: " + translate(
                        "probe {probe} is also in sensors[{n}]; map each probe once").format(probe=probe,
                                                                                           n=probes[probe]))
                probes.setdefault(probe, i)
        if isinstance(s, PulseSettings):
            dev = by_id.get(s.device)
            if dev is None or (kinds is not None and dev.kind not in kinds):
                continue  # already said above; asking for a meter factor of a fridge would only confuse
            if s.meter == "water" and s.litres_per_pulse is None and (dev is None or dev.litres_per_pulse is None):
                problems.append(f"{where}: " + translate(
                    "water meter {device} needs litres_per_pulse (here or in its [[devices]] entry), e.g. "
                    "litres_per_pulse = 1.0").format(device=repr(s.device)))
            if s.meter == "electricity" and s.wh_per_pulse is None and (dev is None or dev.wh_per_pulse is None):
                problems.append(f"{where}: " + translate(
                    "electricity meter {device} needs wh_per_pulse (here or in its [[devices]] entry); a meter "
                    "marked 1000 imp/kWh has wh_per_pulse = 1.0").format(device=repr(s.device)))
            if s.meter == "water" and s.wh_per_pulse is not None:
                problems.append(f"{where}: " + translate("wh_per_pulse is for electricity meters; use "
                                                          "litres_per_pulse"))
            if s.meter == "electricity" and s.litres_per_pulse is not None:
                problems.append(f"{where}: " + translate("litres_per_pulse is for water meters; use "
                                                          "wh_per_pulse"))
    return problems
