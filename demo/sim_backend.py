"""The simulated site as one more hardware backend of the agent: mock pins, 1-Wire files, a card reader.

``SimulatedHardware`` turns engineer C's device models (``demo.simulator.SimulatedSite``) into what
real hardware would present: reed and S0 pulses and the gate contact on gpiozero ``MockFactory`` pins,
``w1_slave`` text for the probes, card numbers for the reader. The agent then runs unchanged
(debounce, pulse journal, spool, seq), on a ``ManualClock`` that ``advance`` moves in step with the site.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from demo.sim.base import EventObs, StateObs
from demo.simulator import TICK_S, SimulatedSite
from gateway.clock import ManualClock
from gateway.config import Config
from sensors.config import (
    ButtonSettings,
    CardReaderSettings,
    ContactSettings,
    Ds18b20Settings,
    PulseSettings,
)
from sensors.hardware import GpiozeroPins

#: 1-Wire ids of the simulated probes.
SIM_PROBES: dict[str, str] = {
    "28-00000000f001": "kitchen-fridge-1",
    "28-00000000f002": "kitchen-fridge-2",
    "28-00000000f003": "kitchen-freezer",
    "28-00000000f004": "sample-fridge",
}
#: Longest a simulated meter pulse stays low (real reed and S0 pulses are tens of ms to a fraction of a second).
PULSE_LOW_S = 0.1


def with_simulated_wiring(config: Config) -> Config:
    """``config`` plus the simulated site's devices (those not configured yet) and its ``[[sensors]]``."""
    from pydantic import TypeAdapter

    from gateway.config import DeviceSettings
    from gateway.errors import ConfigError
    from sensors.config import SensorSettings, check_sensors

    devices, sensors = simulated_wiring()
    known = {d.id for d in config.devices}
    all_devices = [*config.devices, *(DeviceSettings.model_validate(d) for d in devices if d["id"] not in known)]
    parsed = TypeAdapter(list[SensorSettings]).validate_python(sensors)
    problems = check_sensors(all_devices, parsed)
    if problems:
        raise ConfigError(problems)
    return config.model_copy(update={"devices": all_devices, "sensors": parsed})


def simulated_wiring(w1_root: str = "/sim/w1") -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``[[devices]]`` and ``[[sensors]]`` entries that wire the simulated site to the agent."""
    from demo.simulator import SITE_DEVICES

    devices: list[dict[str, Any]] = []
    for d in SITE_DEVICES:
        entry: dict[str, Any] = {"id": d.id, "kind": d.kind, "name": d.name}
        if d.kind == "water_meter":
            entry["litres_per_pulse"] = 1.0
        if d.kind == "power_meter":
            entry["wh_per_pulse"] = 1.0
        devices.append(entry)
    sensors: list[dict[str, Any]] = [
        {"type": "ds18b20", "probes": dict(SIM_PROBES), "w1_root": w1_root, "interval": "60s"},
        {"type": "pulse", "device": "water-main", "pin": 17, "meter": "water", "interval": "60s"},
        {"type": "pulse", "device": "power-main", "pin": 27, "meter": "electricity", "interval": "60s"},
        {"type": "contact", "device": "gate", "pin": 22},
        {"type": "button", "device": "gate-button", "pin": 23},
        {"type": "relay", "device": "gate", "pin": 24},
        {"type": "card_reader", "device": "gate-reader", "reader": "serial", "path": "simulated"},
    ]
    return devices, sensors


@dataclass(slots=True)
class _Meter:
    pin: int
    read_total: Callable[[], float]
    factor: float
    emitted: int


class SimulatedHardware:
    """Presents a ``SimulatedSite`` through the agent's hardware interfaces (pins, w1 reader, card readers)."""

    def __init__(self, site: SimulatedSite, clock: ManualClock, sensors: Sequence[Any],
                 factory: Any = None) -> None:
        from gpiozero.pins.mock import MockFactory

        self.site = site
        self.clock = clock
        self.factory = factory if factory is not None else MockFactory()
        self.pins = GpiozeroPins(self.factory)
        self._lock = threading.Lock()
        self._stores = {**site.fridges, site.freezer.device: site.freezer,
                        site.sample_fridge.device: site.sample_fridge}
        self._probe_device: dict[str, str] = {}
        self._meters: list[_Meter] = []
        self._contact_pin: int | None = None
        self._button_pin: int | None = None
        self._cards: dict[str, queue.Queue[str | None]] = {}
        for s in sensors:
            if isinstance(s, Ds18b20Settings):
                self._probe_device.update(s.probes)
            elif isinstance(s, PulseSettings):
                self._add_meter(s)
            elif isinstance(s, ContactSettings) and s.device == site.gate.device:
                self._contact_pin = s.pin
            elif isinstance(s, ButtonSettings) and s.device == site.gate.button:
                self._button_pin = s.pin
            elif isinstance(s, CardReaderSettings) and s.device == site.gate.reader:
                self._cards[s.device] = queue.Queue()
        self._primed = False
        self._carry = 0.0

    def _add_meter(self, s: PulseSettings) -> None:
        water, power = self.site.water, self.site.power
        total: Callable[[], float]
        if s.device == water.device:
            total, factor = (lambda: water.total_l), s.litres_per_pulse or 1.0
        elif s.device == power.device:
            total, factor = (lambda: power.energy_wh), s.wh_per_pulse or 1.0
        else:
            return
        self._meters.append(_Meter(s.pin, total, factor, int(total() / factor)))

    # -- the interfaces the agent takes --------------------------------------------------------------
    def w1_reader(self, path: Path) -> str:
        """The ``w1_slave`` text of a simulated probe (FileNotFoundError for one that is not there)."""
        device = self._probe_device.get(path.parent.name)
        store = self._stores.get(device or "")
        if store is None:
            raise FileNotFoundError(path)
        milli = round(store.temperature * 1000)
        scratch = "72 01 4b 46 7f ff 0e 10 57"
        return f"{scratch} : crc=57 YES\n{scratch} t={milli}\n"

    def card_openers(self) -> dict[str, Callable[[], Iterator[str]]]:
        """Card readers' sources: the simulated gate's card reads."""
        def opener(q: queue.Queue[str | None]) -> Callable[[], Iterator[str]]:
            def uids() -> Iterator[str]:
                while (uid := q.get()) is not None:
                    yield uid
            return uids
        return {device: opener(q) for device, q in self._cards.items()}

    def close(self) -> None:
        """End the card readers' sources."""
        for q in self._cards.values():
            q.put(None)

    # -- moving simulated time ----------------------------------------------------------------------
    def _prime(self) -> None:
        for m in self._meters:
            self.factory.pin(m.pin).drive_high()
        if self._button_pin is not None:
            self.factory.pin(self._button_pin).drive_high()
        if self._contact_pin is not None:
            pin = self.factory.pin(self._contact_pin)
            (pin.drive_high if self.site.gate.is_open else pin.drive_low)()
        self._primed = True

    def advance(self, seconds: float, tick: Callable[[], None]) -> None:
        """Move the site and the clock forward, driving pins in time order; ``tick`` the agent each step.

        Time moves in the site's 5 s steps; a remainder is carried over to the next call.
        """
        with self._lock:
            if not self._primed:
                self._prime()
            self._carry += seconds
            steps = int(self._carry // TICK_S)
            self._carry -= steps * TICK_S
            for _ in range(steps):
                self._step(tick)

    def _step(self, tick: Callable[[], None]) -> None:
        t0 = self.clock.now()
        edges: list[tuple[float, int, bool]] = []  # (time, pin, high)
        for obs in self.site.advance(TICK_S):
            if isinstance(obs, StateObs) and obs.device == self.site.gate.device and self._contact_pin is not None:
                if "contact" in obs.metrics:
                    edges.append((t0 + 0.5, self._contact_pin, obs.metrics["contact"] == "open"))
            elif isinstance(obs, EventObs):
                if obs.type == "button" and obs.device == self.site.gate.button and self._button_pin is not None:
                    edges += [(t0 + 0.2, self._button_pin, False), (t0 + 0.4, self._button_pin, True)]
                elif obs.type == "card" and obs.device in self._cards:
                    self._cards[obs.device].put(str(obs.data["uid"]))
        for m in self._meters:
            due = int(m.read_total() / m.factor) - m.emitted
            if due <= 0:
                continue
            gap = TICK_S / due
            low = min(PULSE_LOW_S, gap / 2)
            for k in range(due):
                start = t0 + k * gap
                edges += [(start, m.pin, False), (start + low, m.pin, True)]
            m.emitted += due
        for when, pin, high in sorted(edges, key=lambda e: e[0]):
            self.clock.set(when)
            mock = self.factory.pin(pin)
            (mock.drive_high if high else mock.drive_low)()
        self.clock.set(t0 + TICK_S)
        tick()
